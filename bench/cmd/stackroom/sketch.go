package main

import (
	"context"
	"errors"
	"time"

	"github.com/voxpersona/retry/bench"
)

// sketches are not libraries: they are the smallest shape an options-taking
// Do could have, a hand-written loop in one frame that reads its policy from
// a variadic option built at the call site, with options of two sizes (80
// bytes, the size of retry.Option, and 32). They show how much room a
// design has before it crosses the 2 KB line.
var sketches = []bench.Peer{
	{
		Name: "sketch: one frame, 80-byte option",
		Call: func(ctx context.Context, fn bench.Op, base time.Duration) (int, error) {
			return oneFrame80(ctx, fn, option80{b: [6]int64{int64(base), 2}, kind: 2})
		},
	},
	{
		Name: "sketch: one frame, 32-byte option",
		Call: func(ctx context.Context, fn bench.Op, base time.Duration) (int, error) {
			return oneFrame32(ctx, fn, option32{n: int64(base), kind: 2})
		},
	},
}

type option80 struct {
	v    any
	b    [6]int64
	n    int64
	kind uint8
}

type option32 struct {
	v    any
	n    int64
	kind uint8
}

// oneFrame80 and oneFrame32 are the hand-written loop, reading the first wait
// from opts[0]. They are two copies, not one generic function or a shared
// helper, because either would add a frame, and the frame is what they show.
//
//go:noinline
func oneFrame80(ctx context.Context, fn bench.Op, opts ...option80) (int, error) {
	delay := time.Duration(opts[0].b[0])
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	var t *time.Timer
	for i := 1; ; i++ {
		v, err := fn(ctx)
		if err == nil || i == 3 {
			return v, err
		}
		if t == nil {
			t = time.NewTimer(delay)
		} else {
			t.Reset(delay)
		}
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, errors.Join(ctx.Err(), err)
		case <-t.C:
		}
		delay *= 2
	}
}

//go:noinline
func oneFrame32(ctx context.Context, fn bench.Op, opts ...option32) (int, error) {
	delay := time.Duration(opts[0].n)
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	var t *time.Timer
	for i := 1; ; i++ {
		v, err := fn(ctx)
		if err == nil || i == 3 {
			return v, err
		}
		if t == nil {
			t = time.NewTimer(delay)
		} else {
			t.Reset(delay)
		}
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, errors.Join(ctx.Err(), err)
		case <-t.C:
		}
		delay *= 2
	}
}
