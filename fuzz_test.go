package retry_test

import (
	"context"
	"errors"
	"math"
	"math/big"
	"testing"
	"time"

	"github.com/voxpersona/retry"
)

// fuzzBackoff builds any Backoff from fuzzed numbers.
func fuzzBackoff(kind uint8, base int64, factor float64, limit int64, capped bool, jitter uint8, fraction float64, custom int64) retry.Backoff {
	d := time.Duration(base)
	var b retry.Backoff
	switch kind % 7 {
	case 0:
		b = retry.Constant(d)
	case 1:
		b = retry.Linear(d)
	case 2:
		b = retry.Exponential(d, factor)
	case 3:
		b = retry.Fibonacci(d)
	case 4:
		b = retry.Decorrelated(d)
	case 5:
		b = retry.Custom(func(n int, prev time.Duration) time.Duration { return time.Duration(custom) })
	case 6:
		b = retry.Backoff{}
	}
	switch jitter % 4 {
	case 1:
		b = b.FullJitter()
	case 2:
		b = b.EqualJitter()
	case 3:
		b = b.Jitter(fraction)
	}
	if capped {
		b = b.Cap(time.Duration(limit))
	}
	return b
}

// FuzzBackoff: for any policy, modifier, attempt number and previous wait,
// the wait lies in [0, cap], Delay never panics, a schedule without jitter
// never decreases, and Linear and Fibonacci match exact big-integer
// arithmetic, saturated.
func FuzzBackoff(f *testing.F) {
	f.Add(uint8(2), int64(time.Second), 2.0, int64(0), false, uint8(0), 0.0, int64(0), 1, int64(0))
	f.Add(uint8(2), int64(time.Second), 2.0, int64(10*time.Second), true, uint8(3), 0.5, int64(0), 40, int64(0))
	f.Add(uint8(2), int64(1), math.Inf(1), int64(-5), true, uint8(1), 0.0, int64(0), math.MaxInt, int64(-1))
	f.Add(uint8(2), int64(math.MaxInt64), math.NaN(), int64(0), false, uint8(3), math.NaN(), int64(0), 0, int64(0))
	f.Add(uint8(1), int64(math.MaxInt64/2), 0.0, int64(0), false, uint8(0), 0.0, int64(0), 3, int64(0))
	f.Add(uint8(3), int64(time.Second), 0.0, int64(0), false, uint8(0), 0.0, int64(0), 93, int64(0))
	f.Add(uint8(4), int64(time.Millisecond), 0.0, int64(time.Minute), true, uint8(2), 0.0, int64(0), 7, int64(math.MaxInt64))
	f.Add(uint8(5), int64(0), 0.0, int64(time.Second), true, uint8(3), 7.0, int64(-time.Hour), 2, int64(5))
	f.Fuzz(func(t *testing.T, kind uint8, base int64, factor float64, limit int64, capped bool,
		jitter uint8, fraction float64, custom int64, n int, prev int64) {
		b := fuzzBackoff(kind, base, factor, limit, capped, jitter, fraction, custom)
		d := b.Delay(n, time.Duration(prev))
		hi := time.Duration(math.MaxInt64)
		if capped {
			hi = max(time.Duration(limit), 0)
		}
		if d < 0 || d > hi {
			t.Fatalf("%+v.Delay(%d, %d) = %v; want in [0, %v]", b, n, prev, d, hi)
		}
		if jitter%4 != 0 || kind%7 == 4 || n >= math.MaxInt {
			return // random, or no next attempt to compare with
		}
		if next := b.Delay(n+1, time.Duration(prev)); next < d {
			t.Fatalf("%+v: Delay(%d) = %v > Delay(%d) = %v; want non-decreasing", b, n, d, n+1, next)
		}
		if n < 1 || base < 0 {
			return
		}
		var want *big.Int
		switch kind % 7 {
		case 1:
			want = new(big.Int).Mul(big.NewInt(base), big.NewInt(int64(n)))
		case 3:
			want = new(big.Int).Mul(big.NewInt(base), fib(n))
		default:
			return
		}
		if want.Cmp(big.NewInt(math.MaxInt64)) > 0 {
			want.SetInt64(math.MaxInt64)
		}
		if w := min(time.Duration(want.Int64()), hi); d != w {
			t.Fatalf("%+v.Delay(%d) = %v; want %v", b, n, d, w)
		}
	})
}

// fib returns the n-th Fibonacci multiplier 1, 2, 3, 5, 8, … exactly, up to
// the point where it passes math.MaxInt64 (larger n give that same value).
func fib(n int) *big.Int {
	a, b := big.NewInt(1), big.NewInt(2)
	limit := big.NewInt(math.MaxInt64)
	for i := 1; i < n && a.Cmp(limit) <= 0; i++ {
		a, b = b, new(big.Int).Add(a, b)
	}
	return a
}

// Outcomes of one attempt in FuzzDo's schedule, one per byte.
const (
	outSuccess   = iota // fn succeeds
	outError            // a plain, retryable error
	outPermanent        // a Permanent error
	outHint             // a RetryAfter hint of (byte>>3) seconds, minus 2s
	outCancel           // a retryable error, and the hook cancels ctx at the retry
	outKinds
)

// FuzzDo drives Do's loop with a fuzzed schedule of outcomes, wait, limits and
// deadline, on a fake clock, and compares what Do did (calls, waits, the
// returned error and its reason) with a plain reference model of the contract.
func FuzzDo(f *testing.F) {
	f.Add([]byte{1, 1, 1}, uint8(3), int64(time.Second), int64(0), int64(0))
	f.Add([]byte{1, 0}, uint8(3), int64(time.Second), int64(0), int64(0))
	f.Add([]byte{1, 2, 1}, uint8(5), int64(0), int64(0), int64(0))
	f.Add([]byte{3 | 5<<3, 1, 1}, uint8(3), int64(time.Second), int64(0), int64(10*time.Second))
	f.Add([]byte{1, 4, 1}, uint8(9), int64(time.Millisecond), int64(0), int64(0))
	f.Add([]byte{1, 1, 1, 1, 1}, uint8(0), int64(time.Second), int64(2500*time.Millisecond), int64(0))
	f.Add([]byte{3 | 1<<3}, uint8(2), int64(-time.Second), int64(0), int64(0))
	f.Add([]byte{1, 1, 1, 1}, uint8(255), int64(time.Second), int64(0), int64(1500*time.Millisecond))
	f.Fuzz(func(t *testing.T, schedule []byte, attempts uint8, wait int64, maxElapsed int64, deadline int64) {
		if len(schedule) > 64 {
			schedule = schedule[:64]
		}
		maxAttempts := int(attempts % 10) // 0 means 1
		if attempts == 255 {
			maxAttempts = retry.Unlimited
		}
		outcome := func(i int) (kind byte, hint time.Duration) {
			if i > len(schedule) {
				return outSuccess, 0
			}
			b := schedule[i-1]
			return b % outKinds, time.Duration(int64(b>>3)-2) * time.Second
		}
		errAt := func(i int) error {
			kind, h := outcome(i)
			switch kind {
			case outPermanent:
				return retry.Permanent(errors.New("permanent"))
			case outHint:
				return retry.RetryAfter(errors.New("hint"), h)
			case outError, outCancel:
				return errors.New("transient")
			}
			return nil
		}

		// The reference model.
		limit := max(maxAttempts, 1)
		backoff := max(time.Duration(wait), 0)
		var (
			wantCalls  int
			wantWaits  []time.Duration
			wantReason error // nil: success
			spent      time.Duration
		)
		for i := 1; ; i++ {
			wantCalls = i
			kind, h := outcome(i)
			if kind == outSuccess {
				break
			}
			if kind == outPermanent {
				wantReason = retry.ErrPermanent
				break
			}
			if i >= limit {
				wantReason = retry.ErrExhausted
				break
			}
			d := backoff
			if kind == outHint {
				d = min(max(h, 0), time.Minute)
			}
			if maxElapsed > 0 && d > time.Duration(maxElapsed)-spent {
				wantReason = retry.ErrMaxElapsed
				break
			}
			if deadline > 0 && d >= time.Duration(deadline)-spent {
				wantReason = retry.ErrDeadlineTooSoon
				break
			}
			if d > 0 {
				wantWaits = append(wantWaits, d)
			}
			if kind == outCancel {
				wantReason = context.Canceled
				break
			}
			spent += d
		}

		// The real thing.
		clk := newInstantClock()
		var ctx context.Context = context.Background()
		if deadline > 0 {
			ctx = withDeadline(clk.Now().Add(time.Duration(deadline)))
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		calls := 0
		var last error
		v, err := retry.Do(ctx, func(context.Context) (int, error) {
			calls++
			last = errAt(calls)
			return calls, last
		}, retry.WithClock(clk), retry.WithBackoff(retry.Constant(time.Duration(wait))),
			retry.WithMaxAttempts(maxAttempts), retry.WithMaxElapsed(time.Duration(maxElapsed)),
			retry.WithNotify(func(_ context.Context, e retry.Event) {
				if kind, _ := outcome(e.Attempt); e.Outcome == retry.WillRetry && kind == outCancel {
					cancel()
				}
			}))

		if calls != wantCalls {
			t.Fatalf("calls = %d; want %d (schedule %v)", calls, wantCalls, schedule)
		}
		if got := clk.Waits(); !equalDurations(got, wantWaits) {
			t.Fatalf("waits = %v; want %v", got, wantWaits)
		}
		if wantReason == nil {
			if err != nil || v != wantCalls {
				t.Fatalf("Do = %d, %v; want %d, nil", v, err, wantCalls)
			}
			return
		}
		var re *retry.Error
		if !errors.As(err, &re) {
			t.Fatalf("err = %v; want a *retry.Error", err)
		}
		if !errors.Is(err, wantReason) || re.Attempts != wantCalls || !errors.Is(err, errorsUnmarked(last)) {
			t.Fatalf("err = %v (attempts %d); want reason %v after %d attempts, wrapping %v", err, re.Attempts, wantReason, wantCalls, last)
		}
		if want := sum(wantWaits); re.Elapsed != want {
			t.Fatalf("Elapsed = %v; want %v", re.Elapsed, want)
		}
	})
}

// errorsUnmarked returns the error that Do keeps as Last for err: the marks
// are transparent, so matching the marked error's cause is enough.
func errorsUnmarked(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return err
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func sum(ds []time.Duration) time.Duration {
	var s time.Duration
	for _, d := range ds {
		s += d
	}
	return s
}
