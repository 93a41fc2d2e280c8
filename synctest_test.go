//go:build go1.25

// synctest needs the Go 1.23 timer semantics, which a go 1.22 module does
// not get by default. The library itself works under both.

//go:debug asynctimerchan=0

package retry_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voxpersona/retry"
)

// Code that uses the default clock is tested under testing/synctest: the
// waits, the context deadlines and the attempt timeouts all run on the
// bubble's fake time, with no clock injected and no real sleeping.
func TestDoUnderSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		s := fails(2, errLocked)
		v, err := retry.Do(context.Background(), s.fn)
		require.NoError(t, err)
		assert.Equal(t, 3, v)
		assert.Equal(t, 3*time.Second, time.Since(start), "waits of 1s then 2s")
	})
}

func TestDoDeadlineUnderSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		start := time.Now()
		s := fails(5, errLocked)
		_, err := retry.Do(ctx, s.fn)
		require.ErrorIs(t, err, retry.ErrDeadlineTooSoon)
		require.ErrorIs(t, err, errLocked)
		assert.Equal(t, 2, s.Calls())
		assert.Equal(t, time.Second, time.Since(start), "gave up without sleeping toward the deadline")
	})
}

func TestDoCancelDuringWaitUnderSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		time.AfterFunc(1500*time.Millisecond, cancel) // during the 2s wait
		start := time.Now()
		s := fails(5, errLocked)
		_, err := retry.Do(ctx, s.fn)
		require.ErrorIs(t, err, context.Canceled)
		require.ErrorIs(t, err, errLocked)
		assert.Equal(t, 2, s.Calls())
		assert.Equal(t, 1500*time.Millisecond, time.Since(start), "returned at the cancel, not at the timer")
	})
}

func TestDoAttemptTimeoutUnderSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		hang := func(ctx context.Context) (string, error) {
			calls++
			if calls == 1 {
				<-ctx.Done() // the first attempt hangs until its own timeout
				return "", ctx.Err()
			}
			return "saved", nil
		}
		start := time.Now()
		v, err := retry.Do(context.Background(), hang, retry.WithAttemptTimeout(200*time.Millisecond))
		require.NoError(t, err)
		assert.Equal(t, "saved", v)
		assert.Equal(t, 2, calls)
		assert.Equal(t, 1200*time.Millisecond, time.Since(start), "200ms timeout, then the 1s wait")
		assert.False(t, errors.Is(err, context.DeadlineExceeded))
	})
}

// The attempt's timeout and the parent's deadline fire at the same instant:
// the parent wins, so Do reports its deadline and makes no further attempt.
func TestAttemptTimeoutAndParentDeadlineTogetherUnderSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		calls := 0
		start := time.Now()
		_, err := retry.Do(ctx, func(actx context.Context) (int, error) {
			calls++
			<-actx.Done()
			return 0, actx.Err()
		}, retry.WithAttemptTimeout(100*time.Millisecond), retry.WithBackoff(retry.Constant(0)))
		assert.Equal(t, 1, calls)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		var re *retry.Error
		require.ErrorAs(t, err, &re)
		assert.Equal(t, context.DeadlineExceeded, re.Reason, "stopped by the parent's deadline")
		assert.Equal(t, 100*time.Millisecond, time.Since(start))
	})
}
