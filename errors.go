package retry

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors. The error [Do] returns when it gives up is an [*Error]
// whose Reason is one of these or the context's cause; test for them with
// [errors.Is], never by comparing strings.
var (
	// ErrExhausted means every allowed attempt failed.
	ErrExhausted = errors.New("retry: attempts exhausted")

	// ErrPermanent means fn returned an error that must not be retried: one
	// marked with [Permanent], or one the predicate of [WithRetryIf] rejected.
	ErrPermanent = errors.New("retry: permanent error")

	// ErrMaxElapsed means the next attempt would start later than the limit
	// set by [WithMaxElapsed]. Do returns it without waiting.
	ErrMaxElapsed = errors.New("retry: next attempt would start after the max elapsed time")

	// ErrDeadlineTooSoon means the next attempt would start at or after the
	// context's deadline. Do returns it at once instead of sleeping until the
	// deadline only to fail. It is distinct from [context.DeadlineExceeded]:
	// the deadline has not passed yet.
	ErrDeadlineTooSoon = errors.New("retry: next attempt would start after the context deadline")

	// ErrFalse is the error [Bool] reports for a call that returned false.
	// It is retried like any other error.
	ErrFalse = errors.New("retry: fn returned false")

	// ErrNilFunc is the Reason when Do is given a nil fn. fn is not called,
	// no attempt is counted, and the give-up is logged and reported to the
	// hook like any other.
	ErrNilFunc = errors.New("retry: nil fn")
)

// Error is the error [Do] returns when it gives up. It is always returned as
// a *Error, so callers reach its fields with [errors.As]:
//
//	var re *retry.Error
//	if errors.As(err, &re) { log.Print(re.Attempts) }
//
// [errors.Is] and [errors.As] see both Reason and Last, so
// errors.Is(err, retry.ErrExhausted) and errors.Is(err, io.EOF) can both be
// true. When the context ended, errors.Is also matches ctx.Err() when it
// differs from the cause set with [context.WithCancelCause].
//
// Only fn's last error is kept, so the memory an Error holds does not grow
// with the number of attempts.
type Error struct {
	// Attempts is how many times fn was called, counting the first call.
	// It is 0 when fn was never called (the context had already ended, or fn
	// was nil).
	Attempts int

	// Elapsed is the time Do spent retrying, on the configured clock: from
	// the end of the first attempt to the moment Do gave up. It is the
	// latency that retrying added; 0 if Do stopped after the first attempt.
	// (Starting at the first failure keeps clock reads, which cost more than
	// a whole successful call, off the success path.)
	Elapsed time.Duration

	// Last is the error fn returned on its last call, with a [Permanent] or
	// [RetryAfter] marker removed when it is the outermost error. It is nil
	// only when fn was never called.
	Last error

	// Reason says why Do stopped: ErrExhausted, ErrPermanent, ErrMaxElapsed,
	// ErrDeadlineTooSoon, ErrNilFunc, or context.Cause(ctx) when the context
	// ended (context.DeadlineExceeded when the clock shows the deadline has
	// passed before ctx reports it). It is never nil.
	Reason error

	name   string
	ctxErr error    // ctx.Err() when it differs from Reason
	errs   []error  // what Unwrap returns, backed by buf
	buf    [3]error // one allocation for the Error and its list
}

func newError(name string, attempts int, elapsed time.Duration, last, reason, ctxErr error) *Error {
	e := &Error{Attempts: attempts, Elapsed: elapsed, Last: unmark(last), Reason: reason, name: name}
	e.errs = append(e.buf[:0], reason)
	if ctxErr != nil && ctxErr != reason {
		e.ctxErr = ctxErr
		e.errs = append(e.errs, ctxErr)
	}
	if e.Last != nil {
		e.errs = append(e.errs, e.Last)
	}
	return e
}

// Error describes why Do stopped, after how many attempts, and fn's last
// error, for example
// "retry: save: attempts exhausted after 3 attempts: database is locked".
// A nil *Error reads "<nil>".
func (e *Error) Error() string {
	if e == nil {
		return "<nil>"
	}
	var b strings.Builder
	b.WriteString("retry: ")
	if e.name != "" {
		b.WriteString(e.name)
		b.WriteString(": ")
	}
	b.WriteString(strings.TrimPrefix(errText(e.Reason), "retry: "))
	b.WriteString(" after ")
	b.WriteString(strconv.Itoa(e.Attempts))
	b.WriteString(plural(e.Attempts, " attempt", " attempts"))
	if e.Last != nil {
		b.WriteString(": ")
		b.WriteString(errText(e.Last))
	}
	return b.String()
}

// Unwrap returns Reason, the context's error when it differs from Reason,
// and Last (when not nil), for [errors.Is] and [errors.As].
func (e *Error) Unwrap() []error {
	if e == nil {
		return nil
	}
	return e.errs
}

// Permanent marks err as not worth retrying: [Do] stops at once and returns an
// [*Error] whose Reason is [ErrPermanent]. The mark is found anywhere in the
// error's chain, so fmt.Errorf("save: %w", retry.Permanent(err)) stops too, and
// no [WithRetryIf] predicate can override it. The returned error's text is
// err's text, and errors.Is/As see through the mark to err.
//
// Permanent(nil) returns nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string        { return errText(e.err) }
func (e *permanentError) Unwrap() error        { return e.err }
func (e *permanentError) Is(target error) bool { return target == ErrPermanent }

// RetryAfter marks err as retryable after at least d, as a server's
// Retry-After hint asks. The wait before the next attempt is d instead of the
// backoff's delay, bounded by [WithMaxRetryAfter] (default one minute); a
// negative d waits 0. The hint does not grant an extra attempt, and the
// deadline and elapsed-time limits still apply. The returned error's text is
// err's text, and errors.Is/As see through the mark to err.
//
// Any error in fn's chain that has a method RetryAfter() time.Duration is a
// hint too, so an HTTP client's own error type can carry one.
//
// RetryAfter(nil, d) returns a non-nil error reading "retry: retry after d",
// so a hint is never mistaken for success.
func RetryAfter(err error, d time.Duration) error {
	return &retryAfterError{err: err, d: d}
}

type retryAfterError struct {
	err error
	d   time.Duration
}

func (e *retryAfterError) Error() string {
	if e.err == nil {
		return "retry: retry after " + e.d.String()
	}
	return errText(e.err)
}
func (e *retryAfterError) Unwrap() error             { return e.err }
func (e *retryAfterError) RetryAfter() time.Duration { return e.d }

// hinter is what RetryAfter errors, and users' own error types, implement.
type hinter interface{ RetryAfter() time.Duration }

// inspect walks err's chain, through Unwrap() error and Unwrap() []error,
// depth first as errors.Is does, and reports whether it holds a Permanent
// mark and the first retry-after hint. It allocates nothing, unlike
// errors.As, because it runs after every failed attempt. A hint held by a
// typed-nil pointer is ignored rather than called.
func inspect(err error) (permanent bool, after time.Duration, hinted bool) {
	for err != nil {
		switch e := err.(type) {
		case *permanentError:
			return true, after, hinted
		case hinter:
			if !hinted && !isNilPointer(e) {
				after, hinted = e.RetryAfter(), true
			}
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				p, a, h := inspect(e)
				if h && !hinted {
					after, hinted = a, true
				}
				if p {
					return true, after, hinted
				}
			}
			return false, after, hinted
		default:
			return false, after, hinted
		}
	}
	return false, after, hinted
}

func isNilPointer(v any) bool {
	r := reflect.ValueOf(v)
	return r.Kind() == reflect.Pointer && r.IsNil()
}

// unmark removes a Permanent or RetryAfter mark that is the outermost error,
// so the caller gets back the very error fn wrapped.
func unmark(err error) error {
	for {
		switch e := err.(type) {
		case *permanentError:
			err = e.err
		case *retryAfterError:
			if e.err == nil {
				return err
			}
			err = e.err
		default:
			return err
		}
	}
}

// errText is err.Error() that survives a typed-nil error whose Error method
// does not guard against a nil receiver.
func errText(err error) (s string) {
	if err == nil {
		return "<nil>"
	}
	defer func() {
		if r := recover(); r != nil {
			if isNilPointer(err) {
				s = fmt.Sprintf("<nil %T>", err)
				return
			}
			panic(r)
		}
	}()
	return err.Error()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
