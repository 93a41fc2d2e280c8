package bench

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"

	avast4 "github.com/avast/retry-go/v4"
	avast5 "github.com/avast/retry-go/v5"
	cenkalti5 "github.com/cenkalti/backoff/v5"
	cenkalti7 "github.com/cenkalti/backoff/v7"
	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/retrypolicy"
	sethvargo "github.com/sethvargo/go-retry"

	"github.com/voxpersona/retry"
)

// Package bench holds the retry libraries compared side by side, each set up
// for the same policy; the benchmarks and checks are in its tests.
//
// Op is the operation every library retries: it takes the caller's context
// where the library passes one on.
type Op = func(ctx context.Context) (int, error)

// A Peer runs an Op under one policy for all: at most 3 attempts, exponential
// backoff from base with factor 2 (waits of base, then 2·base), no jitter.
type Peer struct {
	Name string
	// call builds the policy per call, the way the library's README shows.
	Call func(ctx context.Context, fn Op, base time.Duration) (int, error)
	// reused builds the policy once and returns the call that reuses it; nil
	// where the library has no policy value that may be reused.
	Reused func(base time.Duration) func(ctx context.Context, fn Op) (int, error)
	// note says what the library cannot do, as checked by TestPeers.
	Note string
}

// errTransient is the error the benchmarks' operations fail with.
var errTransient = errors.New("transient")

// Peers are the libraries compared, with the two baselines first.
var Peers = []Peer{
	{
		Name: "bare-call",
		Call: func(ctx context.Context, fn Op, _ time.Duration) (int, error) { return fn(ctx) },
		Note: "no retry: the floor",
	},
	{
		Name: "hand-loop",
		Call: handLoop,
		Note: "a timer per wait and a select on ctx.Done",
	},
	{
		Name: "voxpersona-retry",
		Call: func(ctx context.Context, fn Op, base time.Duration) (int, error) {
			return retry.Do(ctx, fn, retry.WithBackoff(retry.Exponential(base, 2)))
		},
		Reused: func(base time.Duration) func(context.Context, Op) (int, error) {
			policy := []retry.Option{retry.WithBackoff(retry.Exponential(base, 2))}
			return func(ctx context.Context, fn Op) (int, error) { return retry.Do(ctx, fn, policy...) }
		},
	},
	{
		Name: "cenkalti-backoff-v7",
		Call: func(ctx context.Context, fn Op, base time.Duration) (int, error) {
			b := &cenkalti7.ExponentialBackOff{InitialInterval: base, Multiplier: 2, MaxInterval: time.Hour}
			// WithMaxElapsedTime(0) lifts the hidden 15-minute budget, which
			// would otherwise end BenchmarkParked's 1h wait at once.
			return cenkalti7.Retry(ctx, func() (int, error) { return fn(ctx) },
				cenkalti7.WithBackOff(b), cenkalti7.WithMaxTries(3), cenkalti7.WithMaxElapsedTime(0))
		},
		Note: "BackOff is stateful and not safe to share (its docs); the operation gets no ctx; a hidden 15-minute budget (lifted here)",
	},
	{
		Name: "cenkalti-backoff-v5",
		Call: func(ctx context.Context, fn Op, base time.Duration) (int, error) {
			b := &cenkalti5.ExponentialBackOff{InitialInterval: base, Multiplier: 2, MaxInterval: time.Hour}
			return cenkalti5.Retry(ctx, func() (int, error) { return fn(ctx) },
				cenkalti5.WithBackOff(b), cenkalti5.WithMaxTries(3), cenkalti5.WithMaxElapsedTime(0))
		},
		Note: "BackOff is stateful and not safe to share; the operation gets no ctx",
	},
	{
		Name: "avast-retry-go-v5",
		Call: func(ctx context.Context, fn Op, base time.Duration) (int, error) {
			return avast5.NewWithData[int](avast5.Attempts(3), avast5.Delay(base),
				avast5.DelayType(avast5.BackOffDelay), avast5.Context(ctx)).
				Do(func() (int, error) { return fn(ctx) })
		},
		Reused: func(base time.Duration) func(context.Context, Op) (int, error) {
			// The Retrier may be reused, but its ctx is fixed when it is built.
			r := avast5.NewWithData[int](avast5.Attempts(3), avast5.Delay(base), avast5.DelayType(avast5.BackOffDelay))
			return func(ctx context.Context, fn Op) (int, error) { return r.Do(func() (int, error) { return fn(ctx) }) }
		},
		Note: "a reused Retrier binds its ctx at New: it cannot take the caller's per-call ctx",
	},
	{
		Name: "avast-retry-go-v4",
		Call: func(ctx context.Context, fn Op, base time.Duration) (int, error) {
			return avast4.DoWithData(func() (int, error) { return fn(ctx) }, avast4.Attempts(3), avast4.Delay(base),
				avast4.DelayType(avast4.BackOffDelay), avast4.Context(ctx))
		},
		Note: "the operation gets no ctx",
	},
	{
		Name: "sethvargo-go-retry",
		Call: func(ctx context.Context, fn Op, base time.Duration) (int, error) {
			return sethvargo.DoValue(ctx, sethvargo.WithMaxRetries(2, sethvargo.NewExponential(base)),
				func(ctx context.Context) (int, error) {
					v, err := fn(ctx)
					if err != nil {
						return 0, sethvargo.RetryableError(err)
					}
					return v, nil
				})
		},
		Note: "a Backoff is stateful: shared, later calls get fewer retries, so none is reused here",
	},
	{
		Name: "failsafe-go",
		Call: func(ctx context.Context, fn Op, base time.Duration) (int, error) {
			rp := retrypolicy.NewBuilder[int]().WithMaxAttempts(3).WithBackoff(base, 4*base).Build()
			return failsafe.With[int](rp).WithContext(ctx).Get(func() (int, error) { return fn(ctx) })
		},
		Reused: func(base time.Duration) func(context.Context, Op) (int, error) {
			rp := retrypolicy.NewBuilder[int]().WithMaxAttempts(3).WithBackoff(base, 4*base).Build()
			return func(ctx context.Context, fn Op) (int, error) {
				return failsafe.With[int](rp).WithContext(ctx).Get(func() (int, error) { return fn(ctx) })
			}
		},
	},
}

// handLoop is the loop a careful engineer writes by hand.
func handLoop(ctx context.Context, fn Op, base time.Duration) (int, error) {
	delay := base
	for i := 1; ; i++ {
		v, err := fn(ctx)
		if err == nil || i == 3 {
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

// Park starts calls goroutines, each making one call of p with a 1-hour wait
// whose operation always fails, and returns once every call has failed once
// and has had the chance to reach its wait. start starts each call on a new
// goroutine (nil: go call()), so that a caller can put frames under it.
// release cancels the calls' context and returns when all of them have
// returned. Park is for measuring parked calls: BenchmarkParked and
// cmd/stackroom.
func Park(p Peer, calls int, start func(call func())) (release func()) {
	if start == nil {
		start = func(call func()) { go call() }
	}
	ctx, cancel := context.WithCancel(context.Background())
	var started, done sync.WaitGroup
	started.Add(calls)
	done.Add(calls)
	for i := 0; i < calls; i++ {
		start(func() {
			defer done.Done()
			first := true
			_, _ = p.Call(ctx, func(context.Context) (int, error) {
				if first {
					first = false
					started.Done()
				}
				return 0, errTransient
			}, time.Hour)
		})
	}
	started.Wait()
	// Every call has failed once; give them a moment to reach their wait.
	for i := 0; i < 100; i++ {
		runtime.Gosched()
	}
	return func() {
		cancel()
		done.Wait()
	}
}
