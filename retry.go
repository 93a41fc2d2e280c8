// Package retry calls a function again when it fails, waiting between
// attempts as a [Backoff] directs, and reports every attempt and every
// failure so that none is lost.
//
//	ok, err := retry.Do(ctx, retry.Bool(saveToConversation),
//		retry.WithName("save_to_conversation"), retry.WithLogger(logger))
//
// [Do] is the entry point: it calls fn with ctx until fn succeeds, returns a
// [Permanent] error, the attempts run out, or ctx ends. [Run] is the same for
// functions that return only an error, and [Bool] adapts a function that
// reports success as a bool.
//
// # Defaults
//
// Called with no options, Do behaves as follows; each With… option changes one
// line, and its doc comment ends with the default.
//
//	attempts        3, counting the first call          WithMaxAttempts
//	waits           Exponential(1s, 2): 1s, then 2s    WithBackoff
//	jitter          none                                Backoff.FullJitter, …
//	total time      no limit of its own (ctx deadline)  WithMaxElapsed
//	per attempt     no timeout                          WithAttemptTimeout
//	retried errors  all but Permanent ones              WithRetryIf
//	Retry-After     honoured, at most 1m                WithMaxRetryAfter
//	logging         none                                WithLogger
//	hook            none                                WithNotify
//	clock           real time                           WithClock
//
// # Semantics
//
// Attempts count calls of fn, including the first, and are numbered from 1
// everywhere. After a failed attempt Do stops, and returns an [*Error], if the
// context has ended, if the error is permanent, if that was the last attempt,
// or if the next attempt could not start before the [WithMaxElapsed] limit or
// the context's deadline (then it stops at once instead of sleeping in vain).
// Otherwise it waits and calls fn again. The context is checked before every
// attempt, after every hook and after every wait, and a wait ends as soon as
// the context does, so fn is never called once ctx has ended.
//
// The returned error always lets callers reach fn's last error and the reason
// with [errors.Is] and [errors.As], including after cancellation: see
// [Error]. On success the error is nil, whatever failed before.
//
// Do is safe for concurrent use: all per-call state lives in the call.
// Options and Backoffs are immutable values that any number of calls may
// share. Nothing in the package is global or mutable.
package retry

import (
	"context"
	"log/slog"
	"strconv"
	"time"
)

// Do calls fn until it succeeds, then returns its value and a nil error.
//
// When Do gives up it returns the zero T and an [*Error] whose Reason says
// why: [ErrExhausted] when the attempts are used up, [ErrPermanent] when fn
// returned a [Permanent] error or one rejected by [WithRetryIf],
// [ErrMaxElapsed] or [ErrDeadlineTooSoon] when the next attempt could not
// start in time, and context.Cause(ctx) when ctx ended. The error wraps
// fn's last error as well, so both errors.Is(err, retry.ErrExhausted) and
// errors.Is(err, yourErr) hold. If ctx has already ended, fn is never called.
//
// fn receives ctx (or, with [WithAttemptTimeout], a child of it). A panic in
// fn propagates to the caller of Do, after Do has released its timer and the
// attempt's context; no hook is called for it.
//
// A nil ctx is treated as [context.Background]. A nil fn is not called: Do
// gives up at once with Reason [ErrNilFunc].
//
// With the default options Do makes at most 3 attempts and waits 1s, then 2s.
// See the package documentation for all defaults.
func Do[T any](ctx context.Context, fn func(context.Context) (T, error), opts ...Option) (T, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	// The first attempt goes straight to fn unless an option needs the
	// clock or an observer from the start; the options are resolved only
	// when the attempt fails. A healthy call pays for little more than fn.
	if fn != nil && ctx.Err() == nil && !needsSetUp(opts) {
		v, err := fn(ctx)
		if err == nil {
			return v, nil
		}
		return retrying(ctx, fn, opts, err)
	}
	return retrying(ctx, fn, opts, nil)
}

// needsSetUp reports whether an option must take effect before the first
// attempt: a time limit, a per-attempt timeout, or an observer of success.
func needsSetUp(opts []Option) bool {
	for i := range opts {
		switch opts[i].kind {
		case optMaxElapsed, optAttemptTimeout, optNotify, optLogger:
			return true
		}
	}
	return false
}

// retrying is Do's loop. If firstErr is not nil, the first attempt has
// already been made, without options that had to take effect before it,
// and failed with firstErr.
func retrying[T any](ctx context.Context, fn func(context.Context) (T, error), opts []Option, firstErr error) (T, error) {
	var zero T
	var c config
	c.apply(opts)
	var r run
	if fn == nil {
		return zero, c.giveUp(ctx, &r, ErrNilFunc, nil)
	}
	if c.maxElapsed > 0 {
		r.start = c.stamp()
	}
	err := firstErr
	if err != nil {
		r.attempt = 1
	}
	for {
		if err == nil {
			if ctx.Err() != nil {
				return zero, c.giveUp(ctx, &r, nil, nil)
			}
			r.attempt++
			var v T
			if c.attemptTimeout > 0 {
				v, err = attemptWithTimeout(ctx, fn, &c)
			} else {
				v, err = fn(ctx)
			}
			if err == nil {
				if c.notify != nil || c.logger != nil {
					c.succeeded(ctx, &r)
				}
				return v, nil
			}
		}
		fired, stop := c.backOff(ctx, &r, err)
		if stop != nil {
			return zero, stop
		}
		if fired != nil {
			if stop := c.wait(ctx, &r, fired); stop != nil {
				return zero, stop
			}
		}
		err = nil
	}
}

// Run is [Do] for a function that returns only an error. It returns nil on
// success and an [*Error] when it gives up.
func Run(ctx context.Context, fn func(context.Context) error, opts ...Option) error {
	if fn == nil {
		_, err := Do[struct{}](ctx, nil, opts...)
		return err
	}
	_, err := Do(ctx, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, fn(ctx)
	}, opts...)
	return err
}

// Bool adapts fn, which reports success as true, for [Do]: a call that
// returns false becomes a failed attempt with the error [ErrFalse], which is
// retried like any other. Bool(nil) returns nil, for which Do reports
// [ErrNilFunc].
func Bool(fn func(context.Context) bool) func(context.Context) (bool, error) {
	if fn == nil {
		return nil
	}
	return func(ctx context.Context) (bool, error) {
		if fn(ctx) {
			return true, nil
		}
		return false, ErrFalse
	}
}

// An Event describes one step of a call of [Do], for the hook set with
// [WithNotify]. It is plain data: compare it with ==-style assertions in
// tests, and expect new fields to be added.
type Event struct {
	// Name is the operation's name from [WithName].
	Name string

	// Outcome says what happened: [WillRetry], [Succeeded] or [GaveUp].
	Outcome Outcome

	// Attempt is the 1-based number of the attempt that just ended: the one
	// that failed (WillRetry), succeeded (Succeeded), or the number of
	// attempts made (GaveUp, where it may be 0 if fn was never called).
	Attempt int

	// MaxAttempts is the limit set by [WithMaxAttempts], or [Unlimited].
	MaxAttempts int

	// Delay is the wait before the next attempt (WillRetry only).
	Delay time.Duration

	// Err is fn's error (WillRetry), the [*Error] that Do returns (GaveUp),
	// or nil (Succeeded).
	Err error

	// Elapsed is the time spent retrying so far, on the configured clock:
	// from the end of the first attempt, the same measure as [Error].Elapsed.
	// It is 0 for events of the first attempt.
	Elapsed time.Duration
}

// Outcome is the kind of an [Event].
type Outcome uint8

// The outcomes of an [Event].
const (
	// WillRetry: an attempt failed and Do will wait Event.Delay, then retry.
	WillRetry Outcome = iota + 1
	// Succeeded: an attempt succeeded; Do returns its value.
	Succeeded
	// GaveUp: Do stops and returns Event.Err.
	GaveUp
)

// String returns "will retry", "succeeded" or "gave up".
func (o Outcome) String() string {
	switch o {
	case WillRetry:
		return "will retry"
	case Succeeded:
		return "succeeded"
	case GaveUp:
		return "gave up"
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// run is the per-call state of Do. It lives on Do's stack.
type run struct {
	attempt  int
	last     error         // fn's last error
	prev     time.Duration // the last wait, for Backoff.Delay
	start    stamp         // start of Do, read only for WithMaxElapsed
	failedAt stamp         // end of the first attempt, when it failed
	timer    *time.Timer   // the real clock's timer, reused across waits
}

// attemptWithTimeout calls fn with a child context that ends after the
// attempt timeout and is cancelled when fn returns or panics.
func attemptWithTimeout[T any](ctx context.Context, fn func(context.Context) (T, error), c *config) (T, error) {
	actx, cancel := c.withTimeout(ctx)
	defer cancel()
	return fn(actx)
}

// backOff handles failed attempt r.attempt, which returned err: it either
// gives up, returning the error for Do to return, or starts the wait and
// returns the channel that ends it (nil for no wait), after the hook.
func (c *config) backOff(ctx context.Context, r *run, err error) (fired <-chan time.Time, stop *Error) {
	r.last = err
	// Reading the clock costs more than a whole successful call, so read it
	// only when something needs it: the first failure (where Elapsed starts),
	// a time limit, or an observer.
	deadline, hasDeadline := ctx.Deadline()
	var now stamp
	var read *stamp // &now once the clock has been read, for giveUp
	if r.attempt == 1 || hasDeadline || c.maxElapsed > 0 || c.notify != nil || c.logger != nil {
		now, read = c.stamp(), &now
		if r.attempt == 1 {
			r.failedAt = now
		}
	}
	permanent, after, hinted := inspect(err)
	var reason error
	switch {
	case ctx.Err() != nil:
		return nil, c.giveUp(ctx, r, nil, read)
	case permanent || (c.retryIf != nil && !c.retryIf(err)):
		reason = ErrPermanent
	case r.attempt >= c.maxAttempts:
		reason = ErrExhausted
	}
	if reason != nil {
		return nil, c.giveUp(ctx, r, reason, read)
	}

	d := c.delay(r.attempt, r.prev, after, hinted)
	if c.maxElapsed > 0 && d > c.maxElapsed-now.sub(r.start) {
		return nil, c.giveUp(ctx, r, ErrMaxElapsed, read)
	}
	if hasDeadline {
		switch remaining := c.until(deadline, now); {
		case remaining <= 0:
			// The deadline has passed on the clock, though ctx may not say
			// so yet: report it as the context will in a moment.
			return nil, c.giveUp(ctx, r, context.DeadlineExceeded, read)
		case d >= remaining:
			return nil, c.giveUp(ctx, r, ErrDeadlineTooSoon, read)
		}
	}
	r.prev = d

	// Start the timer before the hook runs, so that a test driving a fake
	// clock from the hook never advances it before the timer exists.
	if d > 0 {
		fired = r.startTimer(c, d)
	}
	if c.notify != nil || c.logger != nil {
		c.reportRetry(ctx, r, Event{
			Name: c.name, Outcome: WillRetry, Attempt: r.attempt, MaxAttempts: c.maxAttempts,
			Delay: d, Err: err, Elapsed: now.sub(r.failedAt), // now was read: there is an observer
		})
		if ctx.Err() != nil { // the hook may have cancelled
			r.stopTimer()
			return nil, c.giveUp(ctx, r, nil, nil) // the hook took time
		}
	}
	return fired, nil // Do waits, then re-checks ctx before the next attempt
}

// reportRetry reports e and stops the timer if the hook panics.
func (c *config) reportRetry(ctx context.Context, r *run, e Event) {
	returned := false
	defer func() {
		if !returned {
			r.stopTimer()
		}
	}()
	c.report(ctx, e)
	returned = true
}

// wait blocks until fired delivers, and returns nil, or until ctx ends, and
// then stops the timer and gives up. It is kept apart from backOff so that a
// parked call holds little stack: Do's frame, this one's, and the runtime's.
func (c *config) wait(ctx context.Context, r *run, fired <-chan time.Time) *Error {
	select {
	case <-ctx.Done():
		r.stopTimer()
		return c.giveUp(ctx, r, nil, nil)
	case <-fired:
		return nil
	}
}

func (r *run) startTimer(c *config, d time.Duration) <-chan time.Time {
	if c.clock != nil {
		return c.clock.After(d)
	}
	if r.timer == nil {
		r.timer = time.NewTimer(d)
	} else {
		// The timer is reused only after its value was received, so Reset
		// is safe under both the old and the Go 1.23 timer semantics.
		r.timer.Reset(d)
	}
	return r.timer.C
}

func (r *run) stopTimer() {
	if r.timer != nil {
		r.timer.Stop()
	}
}

// succeeded reports the success of attempt r.attempt.
func (c *config) succeeded(ctx context.Context, r *run) {
	var elapsed time.Duration
	if r.attempt > 1 {
		elapsed = c.stamp().sub(r.failedAt)
	}
	c.report(ctx, Event{
		Name: c.name, Outcome: Succeeded, Attempt: r.attempt, MaxAttempts: c.maxAttempts,
		Elapsed: elapsed,
	})
}

// giveUp ends the call with reason, or with the context's cause when reason
// is nil, and reports it. now is the clock reading backOff already took, or
// nil to read the clock here.
func (c *config) giveUp(ctx context.Context, r *run, reason error, now *stamp) *Error {
	var ctxErr error
	if reason == nil {
		ctxErr = ctx.Err()
		reason = context.Cause(ctx)
	}
	var elapsed time.Duration
	if r.attempt > 0 {
		if now == nil {
			s := c.stamp()
			now = &s
		}
		elapsed = now.sub(r.failedAt)
	}
	e := newError(c.name, r.attempt, elapsed, r.last, reason, ctxErr)
	c.report(ctx, Event{
		Name: c.name, Outcome: GaveUp, Attempt: r.attempt, MaxAttempts: c.maxAttempts,
		Err: e, Elapsed: elapsed,
	})
	return e
}

// report logs e, then passes it to the hook.
func (c *config) report(ctx context.Context, e Event) {
	if c.logger != nil {
		c.log(ctx, e)
	}
	if c.notify != nil {
		c.notify(ctx, e)
	}
}

func (c *config) log(ctx context.Context, e Event) {
	var level slog.Level
	switch {
	case e.Outcome == WillRetry:
		level = slog.LevelWarn
	case e.Outcome == Succeeded && e.Attempt > 1:
		level = slog.LevelInfo
	case e.Outcome == GaveUp:
		level = slog.LevelError
	default:
		return // a first-attempt success is not news
	}
	if !c.logger.Enabled(ctx, level) {
		return
	}
	name := c.name
	if name == "" {
		name = "operation"
	}
	of := ""
	attrs := make([]slog.Attr, 0, 5)
	attrs = append(attrs, slog.String("op", name), slog.Int("attempt", e.Attempt))
	if e.MaxAttempts != Unlimited {
		of = "/" + strconv.Itoa(e.MaxAttempts)
		attrs = append(attrs, slog.Int("max_attempts", e.MaxAttempts))
	}
	var msg string
	switch e.Outcome {
	case WillRetry:
		msg = "Retry " + strconv.Itoa(e.Attempt) + of + " for " + name + " after " + e.Delay.String()
		attrs = append(attrs, slog.Duration("delay", e.Delay), slog.Any("error", e.Err))
	case Succeeded:
		msg = "Success on attempt " + strconv.Itoa(e.Attempt) + of
	case GaveUp:
		msg = "Failed after " + strconv.Itoa(e.Attempt) + plural(e.Attempt, " attempt", " attempts")
		attrs = append(attrs, slog.Any("error", e.Err))
	}
	c.logger.LogAttrs(ctx, level, msg, attrs...)
}
