package retry_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voxpersona/retry"
)

func delays(b retry.Backoff, n int) []time.Duration {
	out := make([]time.Duration, 0, n)
	var prev time.Duration
	for i := 1; i <= n; i++ {
		prev = b.Delay(i, prev)
		out = append(out, prev)
	}
	return out
}

func TestBackoffSchedules(t *testing.T) {
	t.Parallel()
	s := time.Second
	for _, tc := range []struct {
		name string
		b    retry.Backoff
		want []time.Duration
	}{
		{"zero value waits 0", retry.Backoff{}, []time.Duration{0, 0, 0}},
		{"constant", retry.Constant(s), []time.Duration{s, s, s}},
		{"negative constant", retry.Constant(-s), []time.Duration{0, 0, 0}},
		{"linear", retry.Linear(s), []time.Duration{s, 2 * s, 3 * s, 4 * s}},
		{"exponential x2 (the default)", retry.Exponential(s, 2), []time.Duration{s, 2 * s, 4 * s, 8 * s, 16 * s}},
		{"exponential x1.5", retry.Exponential(100*time.Millisecond, 1.5), []time.Duration{100e6, 150e6, 225e6, 337.5e6}},
		{"exponential factor below 1 is constant", retry.Exponential(s, 0.5), []time.Duration{s, s, s}},
		{"exponential NaN factor is constant", retry.Exponential(s, math.NaN()), []time.Duration{s, s, s}},
		{"exponential +Inf factor saturates", retry.Exponential(s, math.Inf(1)), []time.Duration{s, math.MaxInt64, math.MaxInt64}},
		{"exponential zero base", retry.Exponential(0, math.Inf(1)), []time.Duration{0, 0, 0}},
		{"fibonacci", retry.Fibonacci(s), []time.Duration{s, 2 * s, 3 * s, 5 * s, 8 * s, 13 * s}},
		{"custom", retry.Custom(func(n int, _ time.Duration) time.Duration { return time.Duration(n*n) * s }), []time.Duration{s, 4 * s, 9 * s}},
		{"custom negative is 0", retry.Custom(func(int, time.Duration) time.Duration { return -s }), []time.Duration{0, 0}},
		{"custom nil waits 0", retry.Custom(nil), []time.Duration{0, 0}},
		{"cap", retry.Exponential(s, 2).Cap(5 * s), []time.Duration{s, 2 * s, 4 * s, 5 * s, 5 * s, 5 * s}},
		{"negative cap is 0", retry.Exponential(s, 2).Cap(-s), []time.Duration{0, 0}},
		{"last cap wins", retry.Constant(s).Cap(0).Cap(2 * s), []time.Duration{s, s}},
		{"NaN jitter is none", retry.Constant(s).Jitter(math.NaN()), []time.Duration{s, s}},
		{"zero jitter is none", retry.Constant(s).Jitter(0), []time.Duration{s, s}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, delays(tc.b, len(tc.want)))
		})
	}
}

func TestBackoffDelayArguments(t *testing.T) {
	t.Parallel()
	b := retry.Exponential(time.Second, 2)
	assert.Equal(t, time.Second, b.Delay(0, 0), "n below 1 is 1")
	assert.Equal(t, time.Second, b.Delay(math.MinInt, -time.Hour))
	d := retry.Decorrelated(time.Second)
	for i := 0; i < 100; i++ {
		got := d.Delay(1, -time.Hour) // negative prev is 0, so prev becomes base
		assert.GreaterOrEqual(t, got, time.Second)
		assert.LessOrEqual(t, got, 3*time.Second)
	}
}

// T1: no overflow, no negative delay, never above the cap, non-decreasing
// without jitter, for attempt numbers up to math.MaxInt.
func TestBackoffExtremes(t *testing.T) {
	t.Parallel()
	bases := []time.Duration{0, 1, time.Second, math.MaxInt64 / 2, math.MaxInt64}
	factors := []float64{1, 1.0000001, 1.5, 2, 1e9, math.MaxFloat64, math.Inf(1), math.Inf(-1), math.NaN(), 0.5, 0, -1}
	ns := []int{1, 2, 3, 10, 31, 32, 33, 34, 62, 63, 64, 65, 92, 93, 100, 1023, 1024, 1025, 100_000, math.MaxInt32, math.MaxInt - 1, math.MaxInt}
	var policies []retry.Backoff
	for _, base := range bases {
		policies = append(policies, retry.Constant(base), retry.Linear(base), retry.Fibonacci(base))
		for _, f := range factors {
			policies = append(policies, retry.Exponential(base, f))
		}
	}
	for _, b := range policies {
		prev := time.Duration(-1)
		for i := 1; i <= 2000; i++ {
			d := b.Delay(i, 0)
			if d < 0 || d < prev {
				t.Fatalf("%+v: Delay(%d) = %v after %v; want non-negative and non-decreasing", b, i, d, prev)
			}
			prev = d
		}
		for _, n := range ns {
			d := b.Delay(n, 0)
			require.GreaterOrEqual(t, d, time.Duration(0), "%+v n=%d", b, n)
			if n > 2000 {
				require.GreaterOrEqual(t, d, prev, "non-decreasing: %+v n=%d", b, n)
				prev = d
			}
			capped := b.Cap(time.Hour).Delay(n, 0)
			require.GreaterOrEqual(t, capped, time.Duration(0))
			require.LessOrEqual(t, capped, time.Hour)
		}
	}
}

// T2/T3: every jitter mode stays within its bounds, and the cap applies
// after jitter whatever the order of the method calls.
func TestBackoffJitterBounds(t *testing.T) {
	t.Parallel()
	const samples = 10_000
	base := 10 * time.Second
	for _, tc := range []struct {
		name   string
		b      retry.Backoff
		lo, hi time.Duration
		mean   time.Duration // expected mean of the draws; 0: not checked
	}{
		// Uniform draws: over 10,000 of them the mean's standard deviation is
		// (hi-lo)/sqrt(12·10,000), under 0.3 % of the range; 2 % is 7σ.
		{"full", retry.Constant(base).FullJitter(), 0, base, base / 2},
		{"equal", retry.Constant(base).EqualJitter(), base / 2, base, base * 3 / 4},
		{"±20%", retry.Constant(base).Jitter(0.2), 8 * time.Second, 12 * time.Second, base},
		{"fraction above 1 is 1", retry.Constant(base).Jitter(5), 0, 2 * base, 0},
		{"cap after ±50%", retry.Constant(base).Cap(base).Jitter(0.5), 5 * time.Second, base, 0},
		{"cap after full, either order", retry.Constant(base).Cap(time.Second).FullJitter(), 0, time.Second, 0},
		{"later jitter replaces earlier", retry.Constant(base).FullJitter().Jitter(0.1), 9 * time.Second, 11 * time.Second, 0},
		{"decorrelated", retry.Decorrelated(time.Second), time.Second, 3 * time.Second, 2 * time.Second},
		{"decorrelated capped", retry.Decorrelated(time.Second).Cap(2 * time.Second), time.Second, 2 * time.Second, 0},
		{"huge ±100%", retry.Constant(math.MaxInt64).Jitter(1), 0, math.MaxInt64, 0},
		{"huge full", retry.Constant(math.MaxInt64).FullJitter(), 0, math.MaxInt64, 0},
		{"huge decorrelated", retry.Decorrelated(math.MaxInt64), math.MaxInt64, math.MaxInt64, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			lo, hi := time.Duration(math.MaxInt64), time.Duration(0)
			var sum float64
			for i := 0; i < samples; i++ {
				d := tc.b.Delay(1+i%5, 0)
				sum += float64(d)
				require.GreaterOrEqual(t, d, tc.lo)
				require.LessOrEqual(t, d, tc.hi)
				lo, hi = min(lo, d), max(hi, d)
			}
			if tc.lo < tc.hi && tc.name != "huge decorrelated" {
				spread := float64(hi-lo) / float64(tc.hi-tc.lo)
				assert.Greater(t, spread, 0.9, "draws cover the range: got [%v, %v]", lo, hi)
			}
			if tc.mean != 0 {
				assert.InDelta(t, float64(tc.mean), sum/samples, 0.02*float64(tc.hi-tc.lo), "mean of the draws")
			}
		})
	}
}

func TestBackoffDecorrelatedGrows(t *testing.T) {
	t.Parallel()
	b := retry.Decorrelated(time.Millisecond).Cap(time.Hour)
	prev := time.Duration(0)
	for n := 1; n <= 200; n++ {
		d := b.Delay(n, prev)
		lo, hi := time.Millisecond, min(3*max(prev, time.Millisecond), time.Hour)
		require.GreaterOrEqual(t, d, lo, "n=%d", n)
		require.LessOrEqual(t, d, hi, "n=%d prev=%v", n, prev)
		prev = d
	}

	// Each draw is uniform over [base, 3·prev]: from prev = 10s the mean of
	// 10,000 draws is 15s, with a standard deviation of 0.087s; 5 % is 8σ.
	var sum float64
	for i := 0; i < 10_000; i++ {
		sum += float64(b.Delay(5, 10*time.Second))
	}
	assert.InEpsilon(t, 15e9, sum/10_000, 0.05)
}

// Zero base with jitter never asks math/rand for a range of 0 (which panics).
func TestBackoffZeroWithJitter(t *testing.T) {
	t.Parallel()
	for _, b := range []retry.Backoff{
		retry.Constant(0).FullJitter(), retry.Constant(0).EqualJitter(),
		retry.Constant(0).Jitter(1), retry.Decorrelated(0), retry.Backoff{}.FullJitter(),
	} {
		assert.NotPanics(t, func() { assert.Zero(t, b.Delay(3, 0)) })
	}
}
