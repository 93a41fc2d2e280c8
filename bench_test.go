package retry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/voxpersona/retry"
)

// Success-path benchmarks: the cost Do adds when the first attempt works,
// next to a bare call and a hand-written retry loop (a timer and a select on
// ctx.Done per wait), measured in the same run. Compare them as ratios with
// benchstat over several -count runs; see README.md.

var benchSink int

func okFn(context.Context) (int, error) { return 1, nil }

var benchPolicy = []retry.Option{
	retry.WithMaxAttempts(3),
	retry.WithBackoff(retry.Exponential(time.Second, 2)),
	retry.WithName("save_to_conversation"),
}

func BenchmarkSuccess(b *testing.B) {
	ctx := context.Background()
	b.Run("bare-call", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			v, _ := okFn(ctx)
			benchSink += v
		}
	})
	b.Run("hand-loop", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			v, _ := handLoop(ctx, okFn, 3, time.Second)
			benchSink += v
		}
	})
	b.Run("retry-no-options", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			v, _ := retry.Do(ctx, okFn)
			benchSink += v
		}
	})
	b.Run("retry-inline-options", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			v, _ := retry.Do(ctx, okFn, retry.WithMaxAttempts(3),
				retry.WithBackoff(retry.Exponential(time.Second, 2)), retry.WithName("save_to_conversation"))
			benchSink += v
		}
	})
	b.Run("retry-reused-options", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			v, _ := retry.Do(ctx, okFn, benchPolicy...)
			benchSink += v
		}
	})
}

var errBench = errors.New("bench")

// BenchmarkRetry is the retry path: fail, fail, succeed, with waits of 1ns and
// 2ns on the real clock.
func BenchmarkRetry(b *testing.B) {
	ctx := context.Background()
	b.Run("hand-loop", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			n := 0
			v, _ := handLoop(ctx, func(context.Context) (int, error) {
				if n++; n < 3 {
					return 0, errBench
				}
				return n, nil
			}, 3, time.Nanosecond)
			benchSink += v
		}
	})
	b.Run("retry", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			n := 0
			v, _ := retry.Do(ctx, func(context.Context) (int, error) {
				if n++; n < 3 {
					return 0, errBench
				}
				return n, nil
			}, retry.WithBackoff(retry.Exponential(time.Nanosecond, 2)))
			benchSink += v
		}
	})
}

// handLoop is the loop a careful engineer writes by hand: a new timer per
// wait, stopped when the context ends first.
func handLoop(ctx context.Context, fn func(context.Context) (int, error), attempts int, base time.Duration) (int, error) {
	delay := base
	for i := 1; ; i++ {
		v, err := fn(ctx)
		if err == nil || i == attempts {
			return v, err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return v, errors.Join(ctx.Err(), err)
		case <-t.C:
		}
		delay *= 2
	}
}
