package retry_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/voxpersona/retry"
)

// A flaky call is retried until it succeeds. Constant(0) keeps the example
// instant; in production, leave WithBackoff out to get waits of 1s, then 2s.
func Example() {
	calls := 0
	flaky := func(ctx context.Context) (string, error) {
		calls++
		if calls < 3 {
			return "", errors.New("connection reset")
		}
		return "pong", nil
	}
	v, err := retry.Do(context.Background(), flaky, retry.WithBackoff(retry.Constant(0)))
	fmt.Println(v, err, calls)
	// Output: pong <nil> 3
}

// When every attempt fails, the error says why Do stopped and keeps fn's last
// error; both are reachable with errors.Is, and the details with errors.As.
func ExampleDo() {
	errLocked := errors.New("database is locked")
	getRow := func(ctx context.Context) (int, error) { return 0, errLocked }

	_, err := retry.Do(context.Background(), getRow,
		retry.WithName("get_row"), retry.WithBackoff(retry.Constant(0)))
	fmt.Println(err)
	fmt.Println(errors.Is(err, retry.ErrExhausted), errors.Is(err, errLocked))

	var re *retry.Error
	if errors.As(err, &re) {
		fmt.Println(re.Attempts, re.Last)
	}
	// Output:
	// retry: get_row: attempts exhausted after 3 attempts: database is locked
	// true true
	// 3 database is locked
}

// The seed scenario: a chat bot saves each reply to its conversation history
// with a save function that reports success as a bool. The default policy
// (3 attempts, waits of 1s then 2s) applies, every step is logged, and when
// all attempts fail the user is told. The mock clock makes the example
// instant: the hook advances it by each announced wait. In production, leave
// WithClock and WithNotify out.
func ExampleBool() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // no timestamps, so the output is stable
			}
			return a
		},
	}))
	mock := clock.NewMock()
	advance := func(_ context.Context, e retry.Event) {
		if e.Outcome == retry.WillRetry {
			mock.Add(e.Delay)
		}
	}

	for _, failures := range []int{1, 3} { // a transient failure, then an outage
		calls := 0
		saveToConversation := func(ctx context.Context) bool {
			calls++
			return calls > failures
		}
		ok, err := retry.Do(context.Background(), retry.Bool(saveToConversation),
			retry.WithName("save_to_conversation"), retry.WithLogger(logger),
			retry.WithClock(mock), retry.WithNotify(advance))
		if !ok {
			fmt.Println("⚠️ Не удалось сохранить ответ в историю мультичата. Попробуйте позже.")
			fmt.Println(errors.Is(err, retry.ErrFalse))
		}
	}
	// Output:
	// level=WARN msg="Retry 1/3 for save_to_conversation after 1s" op=save_to_conversation attempt=1 max_attempts=3 delay=1s error="retry: fn returned false"
	// level=INFO msg="Success on attempt 2/3" op=save_to_conversation attempt=2 max_attempts=3
	// level=WARN msg="Retry 1/3 for save_to_conversation after 1s" op=save_to_conversation attempt=1 max_attempts=3 delay=1s error="retry: fn returned false"
	// level=WARN msg="Retry 2/3 for save_to_conversation after 2s" op=save_to_conversation attempt=2 max_attempts=3 delay=2s error="retry: fn returned false"
	// level=ERROR msg="Failed after 3 attempts" op=save_to_conversation attempt=3 max_attempts=3 error="retry: save_to_conversation: attempts exhausted after 3 attempts: retry: fn returned false"
	// ⚠️ Не удалось сохранить ответ в историю мультичата. Попробуйте позже.
	// true
}

// Run is Do for functions that return only an error.
func ExampleRun() {
	calls := 0
	err := retry.Run(context.Background(), func(ctx context.Context) error {
		calls++
		if calls == 1 {
			return errors.New("timeout")
		}
		return nil
	}, retry.WithBackoff(retry.Constant(0)))
	fmt.Println(err, calls)
	// Output: <nil> 2
}

// A duplicate key will never succeed, so it is marked Permanent: Do stops at
// once, and the caller still gets its own error back.
func ExamplePermanent() {
	errDuplicate := errors.New("UNIQUE constraint failed: messages.message_id")
	calls := 0
	insert := func(ctx context.Context) (int64, error) {
		calls++
		return 0, fmt.Errorf("insert message: %w", retry.Permanent(errDuplicate))
	}
	_, err := retry.Do(context.Background(), insert)
	fmt.Println(calls)
	fmt.Println(errors.Is(err, retry.ErrPermanent), errors.Is(err, errDuplicate))
	fmt.Println(err)
	// Output:
	// 1
	// true true
	// retry: permanent error after 1 attempt: insert message: UNIQUE constraint failed: messages.message_id
}

// A server's Retry-After hint replaces the backoff's next wait, bounded by
// WithMaxRetryAfter.
func ExampleRetryAfter() {
	errBusy := errors.New("503 service unavailable")
	calls := 0
	call := func(ctx context.Context) (string, error) {
		calls++
		if calls == 1 {
			return "", retry.RetryAfter(errBusy, 30*time.Second)
		}
		return "ok", nil
	}
	mock := clock.NewMock()
	v, err := retry.Do(context.Background(), call, retry.WithClock(mock),
		retry.WithNotify(func(_ context.Context, e retry.Event) {
			if e.Outcome == retry.WillRetry {
				fmt.Println("waiting", e.Delay, "after:", e.Err)
				mock.Add(e.Delay)
			}
		}))
	fmt.Println(v, err)
	// Output:
	// waiting 30s after: 503 service unavailable
	// ok <nil>
}

func ExampleExponential() {
	b := retry.Exponential(100*time.Millisecond, 2)
	for n := 1; n <= 5; n++ {
		fmt.Println(b.Delay(n, 0))
	}
	// Output:
	// 100ms
	// 200ms
	// 400ms
	// 800ms
	// 1.6s
}

// Cap bounds every wait; retrying goes on at the cap.
func ExampleBackoff_Cap() {
	b := retry.Exponential(time.Second, 2).Cap(5 * time.Second)
	for n := 1; n <= 5; n++ {
		fmt.Println(b.Delay(n, 0))
	}
	// Output:
	// 1s
	// 2s
	// 4s
	// 5s
	// 5s
}

// One hook sees every step of a call: each retry before its wait, the
// success, or the give-up. Operators build their metrics from it: retry rate,
// which attempt succeeds, how often all attempts fail, and the delay retries
// add (Event.Elapsed).
func ExampleWithNotify() {
	calls := 0
	save := func(ctx context.Context) (bool, error) {
		calls++
		if calls < 3 {
			return false, errors.New("database is locked")
		}
		return true, nil
	}
	hook := func(ctx context.Context, e retry.Event) {
		fmt.Printf("%s: attempt %d/%d, delay %v, err %v\n", e.Outcome, e.Attempt, e.MaxAttempts, e.Delay, e.Err)
	}
	_, _ = retry.Do(context.Background(), save, retry.WithNotify(hook),
		retry.WithBackoff(retry.Constant(0)))
	// Output:
	// will retry: attempt 1/3, delay 0s, err database is locked
	// will retry: attempt 2/3, delay 0s, err database is locked
	// succeeded: attempt 3/3, delay 0s, err <nil>
}
