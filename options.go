package retry

import (
	"context"
	"log/slog"
	"math"
	"time"
)

// An Option configures one call of [Do] or [Run]. Options are plain values
// built by the With… functions; they hold no state and no context, so a
// reusable policy is just a slice shared by any number of goroutines:
//
//	var policy = []retry.Option{retry.WithMaxAttempts(5), retry.WithName("save")}
//	_, err := retry.Do(ctx, save, policy...)
//
// Options apply in order and the last one of a kind wins. The zero Option
// does nothing.
type Option struct {
	v    any // a func, *slog.Logger, Clock or string, by kind
	b    Backoff
	n    int64 // a count or a time.Duration, by kind
	kind optionKind
}

type optionKind uint8

const (
	optNone optionKind = iota
	optMaxAttempts
	optBackoff
	optMaxElapsed
	optAttemptTimeout
	optMaxRetryAfter
	optRetryIf
	optNotify
	optLogger
	optClock
	optName
)

// Unlimited, passed to [WithMaxAttempts], removes the limit on attempts: Do
// then stops only on success, a permanent error, the context, or
// [WithMaxElapsed]. Events report MaxAttempts as Unlimited.
const Unlimited = math.MaxInt

// WithMaxAttempts sets how many times fn is called in all, counting the
// first call: WithMaxAttempts(3) means one call and at most two retries.
// Values below 1 are treated as 1 (fn is called once, never retried).
// Pass [Unlimited] to retry until something else stops Do.
//
// Default: 3.
func WithMaxAttempts(n int) Option {
	return Option{kind: optMaxAttempts, n: int64(max(n, 1))}
}

// WithBackoff sets the schedule of waits between attempts. The zero
// [Backoff] waits 0.
//
// Default: Exponential(time.Second, 2), so with 3 attempts the waits are 1s
// then 2s.
func WithBackoff(b Backoff) Option {
	return Option{kind: optBackoff, b: b}
}

// WithMaxElapsed bounds the time from the start of Do, on the configured
// clock: Do gives up with [ErrMaxElapsed], without waiting, when the next
// attempt would start later than d. A running attempt is not interrupted
// (use [WithAttemptTimeout] or the context for that). d <= 0 means no limit.
//
// Default: no limit; the context's deadline is the budget.
func WithMaxElapsed(d time.Duration) Option {
	return Option{kind: optMaxElapsed, n: int64(d)}
}

// WithAttemptTimeout gives each attempt its own deadline: fn receives a child
// of ctx that ends d after the attempt starts and is cancelled when the
// attempt returns. An attempt that times out is a failed attempt and is
// retried like any other, as long as ctx itself is still live. The child
// context comes from the clock's WithTimeout method when it has one (as
// github.com/benbjohnson/clock's clocks do), else from
// [context.WithTimeout]. d <= 0 means no per-attempt timeout.
//
// Default: none.
func WithAttemptTimeout(d time.Duration) Option {
	return Option{kind: optAttemptTimeout, n: int64(d)}
}

// WithMaxRetryAfter bounds the wait a [RetryAfter] hint may ask for: a longer
// hint waits d. d <= 0 makes Do ignore hints and follow its [Backoff].
//
// Default: one minute.
func WithMaxRetryAfter(d time.Duration) Option {
	if d <= 0 {
		d = -1 // hints ignored
	}
	return Option{kind: optMaxRetryAfter, n: int64(d)}
}

// WithRetryIf sets which errors are retried: an error for which retryable
// returns false stops Do with [ErrPermanent]. retryable never sees success,
// and it cannot resurrect an error marked [Permanent]: those stop first.
// retryable must be safe for concurrent use if the option is shared. A nil
// retryable restores the default.
//
// Default: every error is retried except [Permanent] ones.
func WithRetryIf(retryable func(err error) bool) Option {
	return Option{kind: optRetryIf, v: retryable}
}

// WithNotify sets a hook that Do calls synchronously, on its own goroutine,
// with its ctx and an [Event]: before each wait (Outcome [WillRetry], only
// when a retry will follow), on success ([Succeeded]), and once when it gives
// up ([GaveUp]). A [WillRetry] event comes after the wait's timer has
// started, so a test can advance a fake clock by Event.Delay from the hook's
// side. Do checks ctx again after the hook returns, so cancelling from the
// hook stops further attempts. A panic in the hook propagates to Do's caller
// after Do stops its timer; the hook is not called again for that call.
// A nil hook restores the default.
//
// Default: none.
func WithNotify(hook func(ctx context.Context, e Event)) Option {
	return Option{kind: optNotify, v: hook}
}

// WithLogger logs each retry, a success that needed retries, and the give-up
// through logger, with the attributes op, attempt, max_attempts, delay and
// error:
//
//	WARN  Retry 1/3 for save_to_conversation after 1s
//	INFO  Success on attempt 2/3
//	ERROR Failed after 3 attempts
//
// A success on the first attempt is not logged. A nil logger is silent;
// [slog.Default] is never used behind the caller's back.
//
// Default: nil (silent).
func WithLogger(logger *slog.Logger) Option {
	return Option{kind: optLogger, v: logger}
}

// WithClock sets the clock that Do reads and waits on. *clock.Mock and
// clock.New() from github.com/benbjohnson/clock satisfy [Clock] as they are.
// A nil clock restores the default.
//
// Default: the real clock (package time), with one timer per call that is
// stopped on every exit path. It also runs on the fake time of a
// testing/synctest bubble.
func WithClock(c Clock) Option {
	return Option{kind: optClock, v: c}
}

// WithName names the operation in log lines ("Retry 1/3 for NAME after 1s"),
// in [Event].Name and in the text of the returned [*Error].
//
// Default: "" (logged as "operation").
func WithName(name string) Option {
	return Option{kind: optName, v: name}
}

// A Clock tells the time and waits. Do uses it to measure elapsed time, to
// compare the next wait with the context's deadline, and to wait between
// attempts. clock.Clock and *clock.Mock from github.com/benbjohnson/clock
// satisfy it with no adapter.
//
// The channel returned by After must deliver once, d after the call; Do stops
// listening when its context ends. If the Clock also has a method
// WithTimeout(context.Context, time.Duration) (context.Context,
// context.CancelFunc), [WithAttemptTimeout] uses it.
//
// When a context deadline is compared with Now, both must come from the same
// clock: in tests with a mock clock, make the deadline with the mock's
// WithTimeout or WithDeadline, or use testing/synctest with the default clock.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type timeouter interface {
	WithTimeout(parent context.Context, d time.Duration) (context.Context, context.CancelFunc)
}

// config is the resolved set of options for one call. It lives on Do's stack.
// Its zero value is the defaults, so a call without options copies nothing.
type config struct {
	maxAttempts    int           // 0: 3
	maxElapsed     time.Duration // <= 0: no limit
	attemptTimeout time.Duration // <= 0: none
	maxRetryAfter  time.Duration // 0: one minute; < 0: hints ignored
	retryIf        func(error) bool
	notify         func(context.Context, Event)
	logger         *slog.Logger
	clock          Clock
	name           string
	backoff        Backoff
	hasBackoff     bool // false: Exponential(time.Second, 2)
}

// apply applies opts, in order, over the defaults.
func (c *config) apply(opts []Option) {
	for i := range opts {
		o := &opts[i]
		switch o.kind {
		case optMaxAttempts:
			c.maxAttempts = int(o.n)
		case optBackoff:
			c.backoff, c.hasBackoff = o.b, true
		case optMaxElapsed:
			c.maxElapsed = time.Duration(o.n)
		case optAttemptTimeout:
			c.attemptTimeout = time.Duration(o.n)
		case optMaxRetryAfter:
			c.maxRetryAfter = time.Duration(o.n)
		case optRetryIf:
			c.retryIf, _ = o.v.(func(error) bool)
		case optNotify:
			c.notify, _ = o.v.(func(context.Context, Event))
		case optLogger:
			c.logger, _ = o.v.(*slog.Logger)
		case optClock:
			c.clock, _ = o.v.(Clock)
		case optName:
			c.name, _ = o.v.(string)
		}
	}
	if c.maxAttempts == 0 {
		c.maxAttempts = 3
	}
}

// delay returns the wait after failed attempt n: the hint's, when err
// carries one and hints are honoured, else the backoff's.
func (c *config) delay(n int, prev time.Duration, after time.Duration, hinted bool) time.Duration {
	if hinted && c.maxRetryAfter >= 0 {
		limit := c.maxRetryAfter
		if limit == 0 {
			limit = time.Minute
		}
		return min(max(after, 0), limit)
	}
	if !c.hasBackoff {
		return Exponential(time.Second, 2).Delay(n, prev)
	}
	return c.backoff.Delay(n, prev)
}

// A stamp is one reading of the clock: the Time an injected Clock returns,
// or, for the real clock, the monotonic time since epoch, which takes one
// clock read instead of the two of time.Now (a read costs more than a whole
// successful call on some machines).
type stamp struct {
	t    time.Time
	mono time.Duration
}

// epoch anchors the real clock's stamps. It is set once and never changes.
var epoch = time.Now()

func (c *config) stamp() stamp {
	if c.clock == nil {
		return stamp{mono: time.Since(epoch)}
	}
	return stamp{t: c.clock.Now()}
}

// sub returns s minus earlier, never negative: a fake clock may be set back.
func (s stamp) sub(earlier stamp) time.Duration {
	return max(s.t.Sub(earlier.t)+(s.mono-earlier.mono), 0)
}

// until returns the time from now to deadline on the configured clock. For
// the real clock it takes both from epoch, so that it needs no further read,
// and stays right inside a testing/synctest bubble, where the deadline and
// the stamps share the bubble's time.
func (c *config) until(deadline time.Time, now stamp) time.Duration {
	if c.clock == nil {
		return deadline.Sub(epoch) - now.mono
	}
	return deadline.Sub(now.t)
}

func (c *config) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if t, ok := c.clock.(timeouter); ok {
		return t.WithTimeout(ctx, c.attemptTimeout)
	}
	return context.WithTimeout(ctx, c.attemptTimeout)
}
