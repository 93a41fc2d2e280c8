package retry_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voxpersona/retry"
)

// The seed's own test: a store that fails each attempt with probability 0.7.
// With 3 attempts a save succeeds with probability 1 − 0.7³ = 0.657. Over
// n = 100,000 saves the success share has a standard deviation of
// sqrt(0.657·0.343/n) ≈ 0.0015, so ±0.0075 is five standard deviations: a
// correct loop fails this test about once in 1.7 million seeds, while an
// off-by-one in the attempts (2 or 4 attempts: 0.51 or 0.76) cannot pass.
// Every save is either saved or reported: none is lost silently.
func TestFaultInjectionSeventyPercent(t *testing.T) {
	t.Parallel()
	const saves = 100_000
	rng := rand.New(rand.NewPCG(2026, 12))
	errTransient := errors.New("database is locked")
	store := func(context.Context) (bool, error) {
		if rng.Float64() < 0.7 {
			return false, errTransient
		}
		return true, nil
	}
	policy := []retry.Option{retry.WithBackoff(retry.Constant(0))} // the default 3 attempts
	saved, reported, calls := 0, 0, 0
	for i := 0; i < saves; i++ {
		ok, err := retry.Do(context.Background(), func(ctx context.Context) (bool, error) {
			calls++
			return store(ctx)
		}, policy...)
		switch {
		case err == nil && ok:
			saved++
		case errors.Is(err, retry.ErrExhausted) && errors.Is(err, errTransient):
			reported++
		}
	}
	share := float64(saved) / saves
	assert.InDelta(t, 0.657, share, 0.0075, "success share")
	assert.Equal(t, saves, saved+reported, "saved + reported failures == total: zero silent losses")
	// Expected calls per save: 1 + 0.7 + 0.49 = 2.19.
	assert.InDelta(t, 2.19, float64(calls)/saves, 0.02, "calls per save")
}

// Memory does not grow with the number of attempts: a million failed
// attempts with no wait keep the live heap flat, because only the last error
// is kept.
func TestBoundedMemoryOverAMillionAttempts(t *testing.T) {
	if testing.Short() {
		t.Skip("a million attempts")
	}
	const attempts = 1_000_000
	var early, late runtime.MemStats
	heapAt := func(ms *runtime.MemStats) {
		runtime.GC()
		runtime.ReadMemStats(ms)
	}
	n := 0
	_, err := retry.Do(context.Background(), func(context.Context) (int, error) {
		n++
		switch n {
		case 1_000:
			heapAt(&early)
		case attempts - 1:
			heapAt(&late)
		}
		return 0, fmt.Errorf("attempt %d: %w", n, errBoom) // a fresh error each time
	}, retry.WithBackoff(retry.Constant(0)), retry.WithMaxAttempts(attempts))
	require.ErrorIs(t, err, retry.ErrExhausted)
	require.Equal(t, attempts, n)
	growth := int64(late.HeapAlloc) - int64(early.HeapAlloc)
	assert.Less(t, growth, int64(256<<10), "live heap grew by %d bytes over %d attempts", growth, attempts-1_000)
	var re *retry.Error
	require.ErrorAs(t, err, &re)
	assert.EqualError(t, re.Last, fmt.Sprintf("attempt %d: boom", attempts))
}

// One option set, shared by 1,000 concurrent calls with mixed outcomes: each
// call gets its own attempt budget and its own schedule.
func TestThousandConcurrentCallsShareOnePolicy(t *testing.T) {
	t.Parallel()
	clk := newInstantClock()
	policy := []retry.Option{
		retry.WithClock(clk),
		retry.WithBackoff(retry.Exponential(time.Millisecond, 2).Cap(5 * time.Millisecond)),
		retry.WithMaxAttempts(4),
		retry.WithRetryIf(func(err error) bool { return !errors.Is(err, errLocked) }),
	}
	const calls = 1_000
	type result struct {
		i, calls, attempts int
		err                error
	}
	results := make(chan result, calls)
	var wg sync.WaitGroup
	for i := 0; i < calls; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var s *script
			switch i % 4 {
			case 0: // succeeds on attempt 1 + i%3
				s = fails(i%3, errBoom)
			case 1: // never succeeds
				s = fails(10, errBoom)
			case 2: // rejected by the predicate on attempt 2
				s = &script{errs: []error{errBoom, errLocked}}
			case 3: // permanent on attempt 3
				s = &script{errs: []error{errBoom, errBoom, retry.Permanent(errBoom)}}
			}
			var attempts int
			_, err := retry.Do(context.Background(), s.fn, append(policy[:len(policy):len(policy)],
				retry.WithNotify(func(_ context.Context, e retry.Event) { attempts = e.Attempt }))...)
			results <- result{i, s.Calls(), attempts, err}
		}()
	}
	wg.Wait()
	close(results)
	want := map[time.Duration]int{}
	for r := range results {
		for k := 1; k < r.calls; k++ {
			want[min(time.Millisecond<<(k-1), 5*time.Millisecond)]++
		}
		switch r.i % 4 {
		case 0:
			assert.NoError(t, r.err, "call %d", r.i)
			assert.Equal(t, 1+r.i%3, r.calls, "call %d", r.i)
		case 1:
			assert.ErrorIs(t, r.err, retry.ErrExhausted, "call %d", r.i)
			assert.Equal(t, 4, r.calls, "call %d: its own full budget", r.i)
		case 2:
			assert.ErrorIs(t, r.err, retry.ErrPermanent, "call %d", r.i)
			assert.Equal(t, 2, r.calls, "call %d", r.i)
		case 3:
			assert.ErrorIs(t, r.err, retry.ErrPermanent, "call %d", r.i)
			assert.Equal(t, 3, r.calls, "call %d", r.i)
		}
		assert.Equal(t, r.calls, r.attempts, "call %d: the events count the same attempts", r.i)
	}
	// Each call waited 1ms, 2ms, 4ms… on its own schedule, from the start.
	got := map[time.Duration]int{}
	for _, w := range clk.Waits() {
		got[w]++
	}
	assert.Equal(t, want, got, "waits across all calls")
}

// Cancelling from inside the hook, at each kind of event, stops Do: fn is
// never called after the cancel, and the error keeps fn's last error.
func TestCancelFromEachHook(t *testing.T) {
	t.Parallel()
	for _, at := range []retry.Outcome{retry.WillRetry, retry.Succeeded, retry.GaveUp} {
		t.Run(at.String(), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var errs []error
			switch at {
			case retry.WillRetry:
				errs = []error{errBoom, errBoom}
			case retry.Succeeded:
				errs = []error{errBoom} // succeeds on attempt 2
			case retry.GaveUp:
				errs = []error{errBoom, errBoom, errBoom}
			}
			s := &script{errs: errs}
			var fired []retry.Outcome
			var callsAtCancel int
			v, err := retry.Do(ctx, s.fn, retry.WithClock(newInstantClock()),
				retry.WithNotify(func(_ context.Context, e retry.Event) {
					fired = append(fired, e.Outcome)
					if e.Outcome == at && callsAtCancel == 0 {
						callsAtCancel = s.Calls()
						cancel()
					}
				}))
			assert.Equal(t, callsAtCancel, s.Calls(), "no call after the cancel")
			switch at {
			case retry.WillRetry:
				require.ErrorIs(t, err, context.Canceled)
				require.ErrorIs(t, err, errBoom)
				assert.Equal(t, []retry.Outcome{retry.WillRetry, retry.GaveUp}, fired)
			case retry.Succeeded:
				require.NoError(t, err, "the value was already obtained")
				assert.Equal(t, 2, v)
			case retry.GaveUp:
				require.ErrorIs(t, err, retry.ErrExhausted, "the reason was settled before the hook")
			}
		})
	}
}

// A wait whose timer fires together with the cancel, many times over, on the
// real clock: fn is never called once ctx.Err() is set before the call.
func TestCancelRacingTheTimer(t *testing.T) {
	t.Parallel()
	for i := 0; i < 2_000; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		var cancelled atomic.Bool
		late := 0
		go func() { // lands anywhere around the 1µs wait
			cancel()
			cancelled.Store(true)
		}()
		_, _ = retry.Do(ctx, func(ctx context.Context) (int, error) {
			if cancelled.Load() && ctx.Err() != nil {
				// Do checked ctx after the wait; the cancel must have come
				// after that check, so ctx was still live when it looked.
				late++
			}
			return 0, errBoom
		}, retry.WithBackoff(retry.Constant(time.Microsecond)), retry.WithMaxAttempts(retry.Unlimited))
		require.LessOrEqual(t, late, 1, "iteration %d: fn ran more than once after the cancel was visible", i)
		cancel()
	}
}

// The deadline expires while fn runs: Do returns fn's error together with
// context.DeadlineExceeded and does not call fn again.
func TestDeadlineExpiresDuringAttempt(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	_, err := retry.Do(ctx, func(ctx context.Context) (int, error) {
		calls++
		cancel() // the parent ends while the attempt is in flight
		return 0, fmt.Errorf("query: %w", ctx.Err())
	}, retry.WithBackoff(retry.Constant(0)))
	assert.Equal(t, 1, calls)
	require.ErrorIs(t, err, context.Canceled)
	var re *retry.Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, context.Canceled, re.Reason, "stopped because ctx ended, not because attempts ran out")
	assert.EqualError(t, re.Last, "query: context canceled")
}

// A per-attempt timeout and a cancelled parent: the parent wins, no retry.
func TestAttemptTimeoutWithParentCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancelCause(context.Background())
	cause := errors.New("shutdown")
	calls := 0
	_, err := retry.Do(ctx, func(actx context.Context) (int, error) {
		calls++
		cancel(cause)
		<-actx.Done() // the attempt's context ends with its parent
		return 0, actx.Err()
	}, retry.WithAttemptTimeout(time.Hour), retry.WithBackoff(retry.Constant(0)))
	assert.Equal(t, 1, calls)
	require.ErrorIs(t, err, cause)
	require.ErrorIs(t, err, context.Canceled)
}

// A panic in each hook propagates; no hook fires twice; nothing is left
// running (goleak checks the goroutines, timer_internal_test.go the timers).
func TestPanicInEachHook(t *testing.T) {
	t.Parallel()
	for _, at := range []retry.Outcome{retry.WillRetry, retry.Succeeded, retry.GaveUp} {
		errs := map[retry.Outcome][]error{
			retry.WillRetry: {errBoom},
			retry.Succeeded: nil,
			retry.GaveUp:    {errBoom, errBoom, errBoom},
		}[at]
		s := &script{errs: errs}
		var fired []retry.Outcome
		assert.PanicsWithValue(t, "hook: "+at.String(), func() {
			_, _ = retry.Do(context.Background(), s.fn, retry.WithClock(newInstantClock()),
				retry.WithNotify(func(_ context.Context, e retry.Event) {
					fired = append(fired, e.Outcome)
					if e.Outcome == at {
						panic("hook: " + at.String())
					}
				}))
		}, "outcome %v", at)
		assert.Equal(t, at, fired[len(fired)-1], "the panicking hook was the last one called")
		seen := map[retry.Outcome]int{}
		for _, o := range fired {
			seen[o]++
		}
		assert.Equal(t, 1, seen[at], "fired once: %v", fired)
	}
}
