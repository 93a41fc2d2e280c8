package retry_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voxpersona/retry"
)

var (
	errBoom   = errors.New("boom")
	errLocked = errors.New("database is locked")
)

// The benbjohnson clocks plug in as they are, with no adapter.
var (
	_ retry.Clock = clock.NewMock()
	_ retry.Clock = clock.New()
)

func noWait() retry.Option { return retry.WithBackoff(retry.Constant(0)) }

func TestDoOutcomes(t *testing.T) {
	t.Parallel()
	wrappedPermanent := fmt.Errorf("save: %w", retry.Permanent(errBoom))
	for _, tc := range []struct {
		name       string
		errs       []error // returned by successive calls; nil after
		opts       []retry.Option
		wantCalls  int
		wantReason error // nil means success
		wantLast   error
	}{
		{"first try succeeds", nil, nil, 1, nil, nil},
		{"second try succeeds", []error{errBoom}, nil, 2, nil, nil},
		{"third try succeeds", []error{errBoom, errBoom}, nil, 3, nil, nil},
		{"attempts exhausted", []error{errBoom, errBoom, errLocked}, nil, 3, retry.ErrExhausted, errLocked},
		{"permanent stops early", []error{retry.Permanent(errBoom)}, nil, 1, retry.ErrPermanent, errBoom},
		{"wrapped permanent stops", []error{errLocked, wrappedPermanent}, nil, 2, retry.ErrPermanent, errBoom},
		{"permanent on last attempt", []error{errLocked, errLocked, retry.Permanent(errBoom)}, nil, 3, retry.ErrPermanent, errBoom},
		{"permanent with one attempt", []error{retry.Permanent(errBoom)}, []retry.Option{retry.WithMaxAttempts(1)}, 1, retry.ErrPermanent, errBoom},
		{"predicate rejects", []error{errLocked, errBoom}, []retry.Option{retry.WithRetryIf(isLocked)}, 2, retry.ErrPermanent, errBoom},
		{"predicate accepts", []error{errLocked, errLocked}, []retry.Option{retry.WithRetryIf(isLocked)}, 3, nil, nil},
		{"predicate cannot resurrect permanent", []error{retry.Permanent(errLocked)}, []retry.Option{retry.WithRetryIf(func(error) bool { return true })}, 1, retry.ErrPermanent, errLocked},
		{"one attempt", []error{errBoom}, []retry.Option{retry.WithMaxAttempts(1)}, 1, retry.ErrExhausted, errBoom},
		{"zero attempts means one", []error{errBoom}, []retry.Option{retry.WithMaxAttempts(0)}, 1, retry.ErrExhausted, errBoom},
		{"negative attempts mean one", []error{errBoom}, []retry.Option{retry.WithMaxAttempts(-7)}, 1, retry.ErrExhausted, errBoom},
		{"five attempts", []error{errBoom, errBoom, errBoom, errBoom, errBoom, errBoom}, []retry.Option{retry.WithMaxAttempts(5)}, 5, retry.ErrExhausted, errBoom},
		{"last option wins", []error{errBoom, errBoom, errBoom}, []retry.Option{retry.WithMaxAttempts(9), retry.WithMaxAttempts(2)}, 2, retry.ErrExhausted, errBoom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := &script{errs: tc.errs}
			got, err := retry.Do(context.Background(), s.fn, append([]retry.Option{noWait()}, tc.opts...)...)
			assert.Equal(t, tc.wantCalls, s.Calls(), "fn calls")
			if tc.wantReason == nil {
				require.NoError(t, err)
				assert.Equal(t, tc.wantCalls, got, "value of the successful call")
				return
			}
			require.ErrorIs(t, err, tc.wantReason)
			assert.ErrorIs(t, err, tc.wantLast)
			assert.Zero(t, got)
			var re *retry.Error
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tc.wantCalls, re.Attempts)
			assert.Equal(t, tc.wantReason, re.Reason)
			assert.ErrorIs(t, re.Last, tc.wantLast, "Last")
		})
	}
}

func isLocked(err error) bool { return errors.Is(err, errLocked) }

// The seed scenario's table: 3 attempts, waits of 1s then 2s, driven by the
// benbjohnson Mock from the hook (the timer exists before the hook runs).
func TestDoDefaultScheduleOnMockClock(t *testing.T) {
	t.Parallel()
	mock := clock.NewMock()
	events := make(chan retry.Event, 10)
	s := fails(3, errLocked)
	done := make(chan error, 1)
	go func() {
		_, err := retry.Do(context.Background(), s.fn,
			retry.WithClock(mock),
			retry.WithNotify(func(_ context.Context, e retry.Event) { events <- e }))
		done <- err
	}()
	var delays []time.Duration
	for e := range events {
		if e.Outcome != retry.WillRetry {
			assert.Equal(t, retry.GaveUp, e.Outcome)
			break
		}
		delays = append(delays, e.Delay)
		mock.Add(e.Delay)
	}
	err := <-done
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second}, delays)
	assert.Equal(t, 3, s.Calls())
	require.ErrorIs(t, err, retry.ErrExhausted)
	require.ErrorIs(t, err, errLocked)
	var re *retry.Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 3*time.Second, re.Elapsed, "time spent retrying, on the mock clock")
}

func TestDoEvents(t *testing.T) {
	t.Parallel()
	clk := newInstantClock()
	var rec recorder
	s := fails(2, errLocked)
	v, err := retry.Do(context.Background(), s.fn, retry.WithClock(clk), retry.WithName("save"), retry.WithNotify(rec.hook))
	require.NoError(t, err)
	assert.Equal(t, 3, v)
	assert.Equal(t, []retry.Event{
		{Name: "save", Outcome: retry.WillRetry, Attempt: 1, MaxAttempts: 3, Delay: time.Second, Err: errLocked},
		{Name: "save", Outcome: retry.WillRetry, Attempt: 2, MaxAttempts: 3, Delay: 2 * time.Second, Err: errLocked, Elapsed: time.Second},
		{Name: "save", Outcome: retry.Succeeded, Attempt: 3, MaxAttempts: 3, Elapsed: 3 * time.Second},
	}, rec.Events())

	// A first-attempt success is reported too, and a give-up exactly once.
	rec = recorder{}
	_, err = retry.Do(context.Background(), (&script{}).fn, retry.WithNotify(rec.hook))
	require.NoError(t, err)
	assert.Equal(t, []retry.Event{{Outcome: retry.Succeeded, Attempt: 1, MaxAttempts: 3}}, rec.Events())

	rec = recorder{}
	_, err = retry.Do(context.Background(), fails(5, errBoom).fn, noWait(), retry.WithMaxAttempts(2), retry.WithNotify(rec.hook))
	require.Error(t, err)
	events := rec.Events()
	require.Len(t, events, 2)
	assert.Equal(t, retry.WillRetry, events[0].Outcome)
	assert.Equal(t, retry.GaveUp, events[1].Outcome)
	assert.Equal(t, 2, events[1].Attempt)
	assert.Same(t, err, events[1].Err, "the give-up event carries the error Do returns")
}

// textLogger logs text without timestamps, so that lines can be compared.
func textLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
}

func TestDoLogsTheSeedLines(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := textLogger(&buf)
	opts := []retry.Option{retry.WithClock(newInstantClock()), retry.WithName("save_to_conversation"), retry.WithLogger(logger)}

	_, err := retry.Do(context.Background(), fails(1, errLocked).fn, opts...)
	require.NoError(t, err)
	_, err = retry.Do(context.Background(), fails(3, errLocked).fn, opts...)
	require.Error(t, err)
	_, err = retry.Do(context.Background(), (&script{}).fn, opts...) // first-try success: silent
	require.NoError(t, err)

	assert.Equal(t, strings.Join([]string{
		`level=WARN msg="Retry 1/3 for save_to_conversation after 1s" op=save_to_conversation attempt=1 max_attempts=3 delay=1s error="database is locked"`,
		`level=INFO msg="Success on attempt 2/3" op=save_to_conversation attempt=2 max_attempts=3`,
		`level=WARN msg="Retry 1/3 for save_to_conversation after 1s" op=save_to_conversation attempt=1 max_attempts=3 delay=1s error="database is locked"`,
		`level=WARN msg="Retry 2/3 for save_to_conversation after 2s" op=save_to_conversation attempt=2 max_attempts=3 delay=2s error="database is locked"`,
		`level=ERROR msg="Failed after 3 attempts" op=save_to_conversation attempt=3 max_attempts=3 error="retry: save_to_conversation: attempts exhausted after 3 attempts: database is locked"`,
	}, "\n")+"\n", buf.String())
}

func TestDoLogsWithoutNameOrLimit(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := textLogger(&buf)
	_, err := retry.Do(context.Background(), fails(1, errBoom).fn, noWait(), retry.WithMaxAttempts(retry.Unlimited), retry.WithLogger(logger))
	require.NoError(t, err)
	assert.Equal(t, `level=WARN msg="Retry 1 for operation after 0s" op=operation attempt=1 delay=0s error=boom`+"\n"+
		`level=INFO msg="Success on attempt 2" op=operation attempt=2`+"\n", buf.String())

	// A logger whose level filters everything out is never asked to format.
	buf.Reset()
	quiet := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelError + 1}))
	_, err = retry.Do(context.Background(), fails(5, errBoom).fn, noWait(), retry.WithLogger(quiet))
	require.Error(t, err)
	assert.Empty(t, buf.String())
}

func TestDoCapReachedKeepsRetrying(t *testing.T) {
	t.Parallel()
	clk := newInstantClock()
	s := fails(100, errBoom)
	_, err := retry.Do(context.Background(), s.fn, retry.WithClock(clk), retry.WithMaxAttempts(10),
		retry.WithBackoff(retry.Exponential(time.Second, 2).Cap(4*time.Second)))
	require.ErrorIs(t, err, retry.ErrExhausted)
	assert.Equal(t, 10, s.Calls())
	assert.Equal(t, []time.Duration{1e9, 2e9, 4e9, 4e9, 4e9, 4e9, 4e9, 4e9, 4e9}, clk.Waits())
}

func TestDoOneAttemptNeverWaits(t *testing.T) {
	t.Parallel()
	clk := newInstantClock()
	s := fails(1, errBoom)
	_, err := retry.Do(context.Background(), s.fn, retry.WithClock(clk), retry.WithMaxAttempts(1))
	require.ErrorIs(t, err, retry.ErrExhausted)
	assert.Equal(t, 1, s.Calls())
	assert.Empty(t, clk.Waits())
}

func TestDoUnlimited(t *testing.T) {
	t.Parallel()
	s := fails(10_000, errBoom)
	v, err := retry.Do(context.Background(), s.fn, noWait(), retry.WithMaxAttempts(retry.Unlimited))
	require.NoError(t, err)
	assert.Equal(t, 10_001, v)

	// Bounded by the context: the hook cancels at attempt 50.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s = fails(1_000_000, errBoom)
	_, err = retry.Do(ctx, s.fn, noWait(), retry.WithMaxAttempts(retry.Unlimited),
		retry.WithNotify(func(_ context.Context, e retry.Event) {
			if e.Attempt == 50 {
				cancel()
			}
		}))
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, errBoom)
	assert.Equal(t, 50, s.Calls())
}

func TestDoAlreadyCancelledNeverCalls(t *testing.T) {
	t.Parallel()
	cause := errors.New("shutting down")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(cause)
	var rec recorder
	s := &script{}
	_, err := retry.Do(ctx, s.fn, retry.WithNotify(rec.hook))
	assert.Equal(t, 0, s.Calls())
	require.ErrorIs(t, err, cause)
	require.ErrorIs(t, err, context.Canceled)
	var re *retry.Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 0, re.Attempts)
	assert.Nil(t, re.Last)
	require.Len(t, rec.Events(), 1)
	assert.Equal(t, retry.GaveUp, rec.Events()[0].Outcome)
}

// Cancelling during a long wait returns promptly, keeping fn's last error.
func TestDoCancelDuringWait(t *testing.T) {
	t.Parallel()
	for _, clk := range []retry.Clock{nil, clock.NewMock()} {
		ctx, cancel := context.WithCancelCause(context.Background())
		cause := errors.New("user left")
		waiting := make(chan struct{})
		s := fails(5, errLocked)
		done := make(chan error, 1)
		go func() {
			_, err := retry.Do(ctx, s.fn, retry.WithClock(clk), retry.WithBackoff(retry.Constant(time.Hour)),
				retry.WithNotify(func(_ context.Context, e retry.Event) {
					if e.Outcome == retry.WillRetry {
						close(waiting)
					}
				}))
			done <- err
		}()
		<-waiting
		cancel(cause)
		err := <-done // would take an hour if the wait ignored ctx
		require.ErrorIs(t, err, cause, "clock %T", clk)
		require.ErrorIs(t, err, context.Canceled)
		require.ErrorIs(t, err, errLocked, "fn's last error survives cancellation")
		var re *retry.Error
		require.ErrorAs(t, err, &re)
		assert.Equal(t, 1, re.Attempts)
		assert.Equal(t, 1, s.Calls())
	}
}

func TestDoCancelFromHookStopsAttempts(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{0, time.Nanosecond, time.Hour} {
		ctx, cancel := context.WithCancel(context.Background())
		s := fails(5, errBoom)
		_, err := retry.Do(ctx, s.fn, retry.WithBackoff(retry.Constant(d)),
			retry.WithNotify(func(context.Context, retry.Event) { cancel() }))
		assert.Equal(t, 1, s.Calls(), "delay %v", d)
		require.ErrorIs(t, err, context.Canceled)
		require.ErrorIs(t, err, errBoom)
	}
}

// A wait that ends together with the context must not lead to another call:
// instantClock's After returns a channel that already holds a value, the hook
// cancels, so both are ready when Do selects; select may pick the timer, so
// Do must re-check ctx after the wait.
func TestDoTimerAndCancelReadyTogether(t *testing.T) {
	t.Parallel()
	clk := newInstantClock()
	for i := 0; i < 1000; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		s := fails(5, errBoom)
		_, err := retry.Do(ctx, s.fn, retry.WithClock(clk),
			retry.WithNotify(func(context.Context, retry.Event) { cancel() }))
		require.Equal(t, 1, s.Calls(), "iteration %d", i)
		require.ErrorIs(t, err, context.Canceled)
	}
}

func TestDoDeadlineTooSoon(t *testing.T) {
	t.Parallel()
	mock := clock.NewMock()
	ctx, cancel := mock.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	s := fails(5, errLocked)
	// Synchronous on purpose: with no early give-up this would wait forever
	// on a mock clock that nobody advances.
	_, err := retry.Do(ctx, s.fn, retry.WithClock(mock))
	require.ErrorIs(t, err, retry.ErrDeadlineTooSoon)
	require.ErrorIs(t, err, errLocked)
	assert.NotErrorIs(t, err, context.DeadlineExceeded, "the deadline has not passed")
	assert.Equal(t, 1, s.Calls())
	assert.Equal(t, time.Unix(0, 0), mock.Now(), "no time passed")

	// A wait that fits before the deadline is taken.
	clk := newInstantClock()
	s = fails(5, errLocked)
	_, err = retry.Do(withDeadline(clk.Now().Add(1500*time.Millisecond)), s.fn, retry.WithClock(clk))
	require.ErrorIs(t, err, retry.ErrDeadlineTooSoon, "1s fits, the next 2s does not")
	assert.Equal(t, 2, s.Calls())
	assert.Equal(t, []time.Duration{time.Second}, clk.Waits())
}

func TestDoMaxElapsed(t *testing.T) {
	t.Parallel()
	clk := newInstantClock()
	policy := []retry.Option{retry.WithClock(clk), retry.WithBackoff(retry.Constant(time.Second)),
		retry.WithMaxAttempts(10), retry.WithMaxElapsed(2500 * time.Millisecond)}

	// The window starts at Do, not when the options were built.
	clk.Advance(time.Hour)
	s := fails(100, errBoom)
	_, err := retry.Do(context.Background(), s.fn, policy...)
	require.ErrorIs(t, err, retry.ErrMaxElapsed)
	require.ErrorIs(t, err, errBoom)
	assert.Equal(t, 3, s.Calls(), "attempts start at 0s, 1s, 2s; 3s is past 2.5s")
	assert.Equal(t, []time.Duration{time.Second, time.Second}, clk.Waits())

	// Slow attempts use up the window too.
	clk = newInstantClock()
	slow := func(context.Context) (int, error) { clk.Advance(2 * time.Second); return 0, errBoom }
	calls := 0
	_, err = retry.Do(context.Background(), func(ctx context.Context) (int, error) { calls++; return slow(ctx) },
		retry.WithClock(clk), noWait(), retry.WithMaxAttempts(10), retry.WithMaxElapsed(3*time.Second))
	require.ErrorIs(t, err, retry.ErrMaxElapsed)
	assert.Equal(t, 2, calls)

	// Zero and negative mean no limit.
	for _, d := range []time.Duration{0, -time.Second} {
		s = fails(4, errBoom)
		_, err = retry.Do(context.Background(), s.fn, retry.WithClock(newInstantClock()),
			retry.WithBackoff(retry.Constant(time.Hour)), retry.WithMaxAttempts(5), retry.WithMaxElapsed(d))
		require.NoError(t, err)
	}
}

func TestDoRetryAfterHint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		opts []retry.Option
		want []time.Duration // the waits taken; a zero wait takes none
	}{
		{"hint replaces the backoff", retry.RetryAfter(errLocked, 5*time.Second), nil, []time.Duration{5 * time.Second}},
		{"hint found through %w", fmt.Errorf("save: %w", retry.RetryAfter(errLocked, 7*time.Second)), nil, []time.Duration{7 * time.Second}},
		{"long hint capped at one minute", retry.RetryAfter(errLocked, 2*time.Hour), nil, []time.Duration{time.Minute}},
		{"configured maximum", retry.RetryAfter(errLocked, time.Hour), []retry.Option{retry.WithMaxRetryAfter(10 * time.Second)}, []time.Duration{10 * time.Second}},
		{"negative hint waits 0", retry.RetryAfter(errLocked, -time.Second), nil, nil},
		{"hints ignored when max is 0", retry.RetryAfter(errLocked, 5*time.Second), []retry.Option{retry.WithMaxRetryAfter(0)}, []time.Duration{time.Second}},
		{"user type with RetryAfter method", throttled{after: 3 * time.Second}, nil, []time.Duration{3 * time.Second}},
		{"typed-nil hinter is ignored", fmt.Errorf("wrapped: %w", (*nilHinter)(nil)), nil, []time.Duration{time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := newInstantClock()
			s := &script{errs: []error{tc.err}}
			_, err := retry.Do(context.Background(), s.fn, append([]retry.Option{retry.WithClock(clk)}, tc.opts...)...)
			require.NoError(t, err)
			assert.Equal(t, tc.want, clk.Waits())
		})
	}
}

func TestDoRetryAfterUsesAnAttempt(t *testing.T) {
	t.Parallel()
	clk := newInstantClock()
	hinted := retry.RetryAfter(errLocked, time.Millisecond)
	s := fails(3, hinted)
	_, err := retry.Do(context.Background(), s.fn, retry.WithClock(clk))
	require.ErrorIs(t, err, retry.ErrExhausted)
	require.ErrorIs(t, err, errLocked, "the hint's cause is kept")
	assert.Equal(t, 3, s.Calls())
	var re *retry.Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, errLocked, re.Last, "the outermost mark is removed")

	// A hint past the context deadline gives up at once.
	_, err = retry.Do(withDeadline(clk.Now().Add(time.Second)), fails(3, retry.RetryAfter(errLocked, 30*time.Second)).fn, retry.WithClock(clk))
	require.ErrorIs(t, err, retry.ErrDeadlineTooSoon)

	// RetryAfter(nil, d) is still an error, never a success.
	nilCause := retry.RetryAfter(nil, 2*time.Second)
	require.Error(t, nilCause)
	assert.Equal(t, "retry: retry after 2s", nilCause.Error())
	clk = newInstantClock()
	_, err = retry.Do(context.Background(), fails(1, nilCause).fn, retry.WithClock(clk))
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{2 * time.Second}, clk.Waits())
}

type throttled struct{ after time.Duration }

func (e throttled) Error() string             { return "429 too many requests" }
func (e throttled) RetryAfter() time.Duration { return e.after }

type nilHinter struct{ after time.Duration }

func (e *nilHinter) Error() string             { return "nil hinter" }
func (e *nilHinter) RetryAfter() time.Duration { return e.after } // panics on nil

// One option set shared by many concurrent calls: each call gets its own
// attempt budget and schedule, and nothing is shared between them.
func TestDoSharedPolicyConcurrent(t *testing.T) {
	t.Parallel()
	var rec recorder
	policy := []retry.Option{
		retry.WithBackoff(retry.Exponential(time.Nanosecond, 2).Cap(time.Microsecond).Jitter(0.5)),
		retry.WithMaxAttempts(4), retry.WithNotify(rec.hook),
	}
	const calls = 200
	var wg sync.WaitGroup
	results := make(chan int, calls)
	for i := 0; i < calls; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := fails(3, errBoom)
			v, err := retry.Do(context.Background(), s.fn, policy...)
			if err != nil {
				results <- -1
				return
			}
			results <- v
		}()
	}
	wg.Wait()
	close(results)
	for v := range results {
		assert.Equal(t, 4, v, "each call succeeds on its own 4th attempt")
	}
	retries := 0
	for _, e := range rec.Events() {
		if e.Outcome == retry.WillRetry {
			retries++
			assert.LessOrEqual(t, e.Attempt, 3)
		}
	}
	assert.Equal(t, calls*3, retries)

	// Reused one after the other, the policy grants the full budget again.
	for i := 0; i < 3; i++ {
		s := fails(3, errBoom)
		_, err := retry.Do(context.Background(), s.fn, policy...)
		require.NoError(t, err)
		assert.Equal(t, 4, s.Calls())
	}
}

func TestDoPanicsPropagate(t *testing.T) {
	t.Parallel()
	var rec recorder
	calls := 0
	fn := func(context.Context) (int, error) {
		calls++
		if calls == 2 {
			panic("fn exploded")
		}
		return 0, errBoom
	}
	assert.PanicsWithValue(t, "fn exploded", func() {
		_, _ = retry.Do(context.Background(), fn, noWait(), retry.WithNotify(rec.hook))
	})
	assert.Equal(t, 2, calls)
	events := rec.Events()
	require.Len(t, events, 1, "no hook fires for the panic")
	assert.Equal(t, retry.WillRetry, events[0].Outcome)

	// A panicking hook propagates too, and is not called again.
	hookCalls := 0
	assert.PanicsWithValue(t, "hook exploded", func() {
		_, _ = retry.Do(context.Background(), fails(5, errBoom).fn,
			retry.WithBackoff(retry.Constant(time.Hour)),
			retry.WithNotify(func(context.Context, retry.Event) { hookCalls++; panic("hook exploded") }))
	})
	assert.Equal(t, 1, hookCalls)
}

func TestDoAttemptTimeoutCancelsEachAttempt(t *testing.T) {
	t.Parallel()
	mock := clock.NewMock()
	var ctxs []context.Context
	s := fails(2, errBoom)
	_, err := retry.Do(context.Background(), func(ctx context.Context) (int, error) {
		ctxs = append(ctxs, ctx)
		deadline, ok := ctx.Deadline()
		require.True(t, ok, "each attempt has a deadline")
		assert.Equal(t, mock.Now().Add(50*time.Millisecond), deadline, "taken from the mock clock's WithTimeout")
		return s.fn(ctx)
	}, noWait(), retry.WithClock(mock), retry.WithAttemptTimeout(50*time.Millisecond))
	require.NoError(t, err)
	require.Len(t, ctxs, 3)
	for i, ctx := range ctxs {
		assert.ErrorIs(t, ctx.Err(), context.Canceled, "attempt %d's context is cancelled when it returns", i+1)
	}
}

func TestDoNilAndZeroInputs(t *testing.T) {
	t.Parallel()
	var rec recorder
	v, err := retry.Do[int](context.Background(), nil, retry.WithNotify(rec.hook))
	assert.Zero(t, v)
	require.ErrorIs(t, err, retry.ErrNilFunc)
	var re *retry.Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 0, re.Attempts)
	require.Len(t, rec.Events(), 1)
	assert.Equal(t, retry.GaveUp, rec.Events()[0].Outcome)

	require.ErrorIs(t, retry.Run(context.Background(), nil), retry.ErrNilFunc)
	assert.Nil(t, retry.Bool(nil))
	_, err = retry.Do(context.Background(), retry.Bool(nil))
	require.ErrorIs(t, err, retry.ErrNilFunc)

	// A nil ctx is Background; nil option values and the zero Option mean
	// the defaults.
	s := fails(2, errBoom)
	//lint:ignore SA1012 a nil ctx is documented input
	_, err = retry.Do(nil, s.fn, retry.Option{}, //nolint:staticcheck
		retry.WithClock(nil), retry.WithLogger(nil), retry.WithNotify(nil), retry.WithRetryIf(nil),
		retry.WithClock(newInstantClock()))
	require.NoError(t, err)
	assert.Equal(t, 3, s.Calls())
}

// A typed-nil error is a non-nil error in Go: it is a failure, retried, and
// its text never panics Do or the returned error.
func TestDoTypedNilError(t *testing.T) {
	t.Parallel()
	var typedNil *fragileError
	s := fails(3, typedNil)
	var buf bytes.Buffer
	_, err := retry.Do(context.Background(), s.fn, noWait(), retry.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	require.ErrorIs(t, err, retry.ErrExhausted)
	assert.Equal(t, 3, s.Calls())
	assert.Equal(t, "retry: attempts exhausted after 3 attempts: <nil *retry_test.fragileError>", err.Error())
	var fe *fragileError
	assert.ErrorAs(t, err, &fe)
	assert.Contains(t, buf.String(), "Failed after 3 attempts")
}

type fragileError struct{ msg string }

func (e *fragileError) Error() string { return e.msg } // panics on a nil receiver

func TestBool(t *testing.T) {
	t.Parallel()
	results := []bool{false, false, true}
	calls := 0
	save := func(context.Context) bool { calls++; return results[calls-1] }
	ok, err := retry.Do(context.Background(), retry.Bool(save), noWait())
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, 3, calls)

	ok, err = retry.Do(context.Background(), retry.Bool(func(context.Context) bool { return false }), noWait())
	assert.False(t, ok)
	require.ErrorIs(t, err, retry.ErrExhausted)
	require.ErrorIs(t, err, retry.ErrFalse)
}

func TestRun(t *testing.T) {
	t.Parallel()
	calls := 0
	err := retry.Run(context.Background(), func(context.Context) error {
		calls++
		if calls < 2 {
			return io.ErrUnexpectedEOF
		}
		return nil
	}, noWait())
	require.NoError(t, err)
	assert.Equal(t, 2, calls)

	err = retry.Run(context.Background(), func(context.Context) error { return io.EOF }, noWait())
	require.ErrorIs(t, err, retry.ErrExhausted)
	require.ErrorIs(t, err, io.EOF)
}

func TestError(t *testing.T) {
	t.Parallel()
	_, err := retry.Do(context.Background(), fails(3, retry.Permanent(errLocked)).fn, retry.WithName("save"))
	var re *retry.Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "retry: save: permanent error after 1 attempt: database is locked", re.Error())
	assert.Same(t, errLocked, re.Last, "the Permanent mark is removed from Last")
	assert.Zero(t, re.Elapsed, "Do stopped at the first failure: retrying added no time")
	assert.Equal(t, []error{retry.ErrPermanent, errLocked}, re.Unwrap())

	var nilErr *retry.Error
	assert.Equal(t, "<nil>", nilErr.Error())
	assert.Nil(t, nilErr.Unwrap())

	assert.NoError(t, retry.Permanent(nil))
	p := retry.Permanent(errBoom)
	assert.Equal(t, "boom", p.Error(), "the mark does not change the text")
	assert.ErrorIs(t, p, retry.ErrPermanent)
	assert.ErrorIs(t, p, errBoom)
	assert.Equal(t, "boom", retry.RetryAfter(errBoom, time.Second).Error())

	// errors.As finds a typed error from fn's last attempt.
	_, err = retry.Do(context.Background(), fails(3, &fragileError{msg: "typed"}).fn, noWait())
	var fe *fragileError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "typed", fe.msg)
}

func TestOutcomeString(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "will retry", retry.WillRetry.String())
	assert.Equal(t, "succeeded", retry.Succeeded.String())
	assert.Equal(t, "gave up", retry.GaveUp.String())
	assert.Equal(t, "Outcome(9)", retry.Outcome(9).String())
}

// The success path allocates nothing, with options written inline or reused.
func TestDoSuccessPathAllocatesNothing(t *testing.T) {
	ctx := context.Background()
	ok := func(context.Context) (int, error) { return 1, nil }
	policy := []retry.Option{retry.WithMaxAttempts(5), retry.WithBackoff(retry.Exponential(time.Second, 2).Cap(time.Minute))}
	var n atomic.Int64
	for name, f := range map[string]func(){
		"no options": func() { v, _ := retry.Do(ctx, ok); n.Add(int64(v)) },
		"inline": func() {
			v, _ := retry.Do(ctx, ok, retry.WithMaxAttempts(5), retry.WithName("save"),
				retry.WithBackoff(retry.Exponential(time.Second, 2).Cap(time.Minute).FullJitter()))
			n.Add(int64(v))
		},
		"reused": func() { v, _ := retry.Do(ctx, ok, policy...); n.Add(int64(v)) },
		"bool":   func() { _, _ = retry.Do(ctx, retry.Bool(func(context.Context) bool { return true })) },
		"run":    func() { _ = retry.Run(ctx, func(context.Context) error { return nil }) },
	} {
		assert.Zero(t, testing.AllocsPerRun(100, f), name)
	}
}

// On the real clock, the early give-up works for deadlines with and without
// a monotonic reading, and sleeps not at all.
func TestDoDeadlineTooSoonOnTheRealClock(t *testing.T) {
	t.Parallel()
	for name, deadline := range map[string]time.Time{
		"monotonic": time.Now().Add(500 * time.Millisecond),
		"wall only": time.Now().Add(500 * time.Millisecond).Round(0),
	} {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		s := fails(5, errLocked)
		_, err := retry.Do(ctx, s.fn) // the first wait, 1s, does not fit in 500ms
		cancel()
		require.ErrorIs(t, err, retry.ErrDeadlineTooSoon, name)
		require.ErrorIs(t, err, errLocked, name)
		assert.Equal(t, 1, s.Calls(), name)
	}
}
