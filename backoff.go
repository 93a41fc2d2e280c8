package retry

import (
	"math"
	"math/rand/v2"
	"time"
)

// A Backoff is a schedule of waits between attempts: [Do] asks it for the wait
// after each failed attempt. Build one with [Constant], [Linear],
// [Exponential], [Fibonacci], [Decorrelated] or [Custom], then refine it with
// the methods [Backoff.Cap], [Backoff.FullJitter], [Backoff.EqualJitter] and
// [Backoff.Jitter]:
//
//	b := retry.Exponential(100*time.Millisecond, 2).FullJitter().Cap(5 * time.Second)
//
// A Backoff is an immutable value. It holds no per-call state (the attempt
// number and the previous wait are arguments of [Backoff.Delay]), so one value
// may be shared by any number of concurrent calls, and each call gets its own
// full schedule. The methods return modified copies.
//
// Every wait is computed in O(1), saturates instead of overflowing, and lies
// in [0, cap]. The steps always apply in the same order, whatever the order of
// the method calls: the schedule's delay, then jitter, then the cap. So jitter
// never pushes a wait past the cap, and reaching the cap never ends retrying:
// the number of attempts is set by [WithMaxAttempts] alone.
//
// The zero Backoff waits 0 between attempts.
type Backoff struct {
	custom func(n int, prev time.Duration) time.Duration
	base   time.Duration
	factor float64
	spread float64 // for jitterPercent: the ± fraction
	limit  time.Duration
	kind   kind
	jitter jitter
	capped bool
}

type kind uint8

const (
	kindConstant kind = iota
	kindLinear
	kindExponential
	kindFibonacci
	kindDecorrelated
	kindCustom
)

type jitter uint8

const (
	jitterNone jitter = iota
	jitterFull
	jitterEqual
	jitterPercent
)

// Constant waits d after every failed attempt. A negative d waits 0.
func Constant(d time.Duration) Backoff {
	return Backoff{kind: kindConstant, base: max(d, 0)}
}

// Linear waits step, 2·step, 3·step, … after failed attempts 1, 2, 3, ….
// A negative step waits 0.
func Linear(step time.Duration) Backoff {
	return Backoff{kind: kindLinear, base: max(step, 0)}
}

// Exponential waits base·factor^(n-1) after failed attempt n: with base 1s and
// factor 2 the waits are 1s, 2s, 4s, 8s, …. This is the default policy of
// [Do], with at most 3 attempts, so by default the waits are 1s then 2s.
//
// A negative base waits 0. A factor below 1, or NaN, is treated as 1 (a
// constant wait of base); a factor of +Inf jumps to the longest wait from the
// second retry on. Waits saturate at the largest time.Duration rather than
// overflow; use [Backoff.Cap] to bound them.
func Exponential(base time.Duration, factor float64) Backoff {
	if !(factor >= 1) { // also catches NaN
		factor = 1
	}
	return Backoff{kind: kindExponential, base: max(base, 0), factor: factor}
}

// Fibonacci waits base times the Fibonacci numbers after the first: base,
// 2·base, 3·base, 5·base, 8·base, …. A negative base waits 0.
func Fibonacci(base time.Duration) Backoff {
	return Backoff{kind: kindFibonacci, base: max(base, 0)}
}

// Decorrelated is the "decorrelated jitter" schedule: each wait is drawn
// uniformly from [base, 3·prev], where prev is the previous wait (base before
// the first retry). Waits grow roughly exponentially yet are spread out, so
// many clients that failed together do not retry together. Bound it with
// [Backoff.Cap]. A negative base is treated as 0, and a base of 0 waits 0.
func Decorrelated(base time.Duration) Backoff {
	return Backoff{kind: kindDecorrelated, base: max(base, 0)}
}

// Custom turns delay into a Backoff, so any schedule can be plugged in and
// still get jitter and a cap from the methods. delay receives the number n of
// the attempt that just failed (n >= 1) and the previous wait prev (0 before
// the first retry) and returns the wait before attempt n+1; a negative result
// waits 0. delay must be safe for concurrent use and should not keep state
// between calls. Custom(nil) waits 0.
func Custom(delay func(n int, prev time.Duration) time.Duration) Backoff {
	if delay == nil {
		return Backoff{}
	}
	return Backoff{kind: kindCustom, custom: delay}
}

// Cap bounds every wait to at most limit, after jitter. Waits that reach the
// cap stay there: retrying goes on until the attempts are used up. A negative
// limit is treated as 0. The last Cap wins.
func (b Backoff) Cap(limit time.Duration) Backoff {
	b.limit, b.capped = max(limit, 0), true
	return b
}

// FullJitter replaces each wait d with a random wait drawn uniformly from
// [0, d]. It replaces any jitter set before.
func (b Backoff) FullJitter() Backoff {
	b.jitter, b.spread = jitterFull, 0
	return b
}

// EqualJitter replaces each wait d with a random wait drawn uniformly from
// [d/2, d]. It replaces any jitter set before.
func (b Backoff) EqualJitter() Backoff {
	b.jitter, b.spread = jitterEqual, 0
	return b
}

// Jitter spreads each wait d uniformly over [d·(1-fraction), d·(1+fraction)]:
// Jitter(0.2) is ±20 %. fraction is clamped to [0, 1]; NaN is treated as 0.
// A [Backoff.Cap] still bounds the result. It replaces any jitter set before.
func (b Backoff) Jitter(fraction float64) Backoff {
	if !(fraction > 0) { // also catches NaN
		fraction = 0
	}
	b.jitter, b.spread = jitterPercent, min(fraction, 1)
	return b
}

// Delay returns the wait after failed attempt n (n >= 1) before attempt n+1.
// prev is the wait that preceded attempt n, 0 for n == 1; only [Decorrelated]
// and [Custom] schedules use it. n below 1 is treated as 1 and a negative prev
// as 0. The result is in [0, cap] (or [0, math.MaxInt64] without a cap).
//
// Delay is safe for concurrent use. With jitter, or for [Decorrelated], it
// draws from math/rand/v2's global source.
func (b Backoff) Delay(n int, prev time.Duration) time.Duration {
	n = max(n, 1)
	prev = max(prev, 0)
	d := b.schedule(n, prev)
	switch b.jitter {
	case jitterFull:
		d = between(0, d)
	case jitterEqual:
		d = between(d-d/2, d)
	case jitterPercent:
		if b.spread > 0 && d > 0 {
			lo := float64(d) * (1 - b.spread)
			hi := float64(d) * (1 + b.spread)
			d = fromFloat(lo + rand.Float64()*(hi-lo))
		}
	}
	if b.capped && d > b.limit {
		d = b.limit
	}
	return d
}

// schedule is the wait before jitter and cap; it is never negative.
func (b Backoff) schedule(n int, prev time.Duration) time.Duration {
	switch b.kind {
	case kindLinear:
		return mulSat(b.base, int64(n))
	case kindExponential:
		if b.base == 0 || b.factor == 1 || n == 1 {
			return b.base
		}
		return fromFloat(float64(b.base) * math.Pow(b.factor, float64(n-1)))
	case kindFibonacci:
		if n >= len(fibonacci) {
			return mulSat(b.base, math.MaxInt64)
		}
		return mulSat(b.base, fibonacci[n])
	case kindDecorrelated:
		return between(b.base, mulSat(max(prev, b.base), 3))
	case kindCustom:
		return max(b.custom(n, prev), 0)
	default:
		return b.base
	}
}

// fibonacci[n] is the n-th multiplier of Fibonacci: 1, 2, 3, 5, 8, …, up to the
// last that fits in an int64. Index 0 is unused.
var fibonacci = func() []int64 {
	f := []int64{0, 1, 2}
	for {
		a, b := f[len(f)-2], f[len(f)-1]
		if a > math.MaxInt64-b {
			return f
		}
		f = append(f, a+b)
	}
}()

// mulSat returns d·k for d, k >= 0, saturating at math.MaxInt64.
func mulSat(d time.Duration, k int64) time.Duration {
	if d == 0 || k == 0 {
		return 0
	}
	if int64(d) > math.MaxInt64/k {
		return math.MaxInt64
	}
	return d * time.Duration(k)
}

// twoTo63 is 2^63 as a float64: the smallest float64 above math.MaxInt64.
const twoTo63 = float64(1 << 63)

// fromFloat converts f to a Duration, saturating: NaN and negative values give
// 0, values at or above 2^63 give math.MaxInt64.
func fromFloat(f float64) time.Duration {
	switch {
	case !(f > 0):
		return 0
	case f >= twoTo63:
		return math.MaxInt64
	default:
		return time.Duration(f)
	}
}

// between returns a uniform random Duration in [lo, hi], for 0 <= lo <= hi.
func between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(rand.Uint64N(uint64(hi-lo)+1))
}
