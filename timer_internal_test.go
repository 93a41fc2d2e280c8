package retry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests look inside one wait of the default real clock: whatever way
// the wait ends, its timer is stopped (Stop reports false because there is
// nothing left to stop), and one timer serves every wait of a call.

var errInternal = errors.New("internal test error")

func TestRealTimerStoppedWhenHookPanics(t *testing.T) {
	t.Parallel()
	var c config
	c.apply([]Option{WithBackoff(Constant(time.Hour)),
		WithNotify(func(context.Context, Event) { panic("hook") })})
	r := run{attempt: 1}
	assert.PanicsWithValue(t, "hook", func() { _, _ = c.backOff(context.Background(), &r, errInternal) })
	require.NotNil(t, r.timer, "an hour's wait started a timer")
	assert.False(t, r.timer.Stop(), "the timer was already stopped")
}

func TestRealTimerStoppedWhenHookCancels(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	var c config
	c.apply([]Option{WithBackoff(Constant(time.Hour)),
		WithNotify(func(context.Context, Event) { cancel() })})
	r := run{attempt: 1}
	fired, err := c.backOff(ctx, &r, errInternal)
	assert.Nil(t, fired)
	require.ErrorIs(t, err, context.Canceled)
	require.NotNil(t, r.timer)
	assert.False(t, r.timer.Stop())
}

func TestRealTimerStoppedWhenCancelledDuringWait(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	var c config
	c.apply([]Option{WithBackoff(Constant(time.Hour)),
		WithNotify(func(context.Context, Event) { go cancel() })})
	r := run{attempt: 1}
	fired, stop := c.backOff(ctx, &r, errInternal)
	require.Nil(t, stop)
	err := c.wait(ctx, &r, fired) // as Do does
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, errInternal)
	assert.False(t, r.timer.Stop())
}

func TestRealTimerReusedAcrossWaits(t *testing.T) {
	t.Parallel()
	var c config
	c.apply([]Option{WithBackoff(Constant(time.Microsecond)), WithMaxAttempts(5)})
	r := run{attempt: 1}
	waitOnce := func() {
		fired, stop := c.backOff(context.Background(), &r, errInternal)
		require.Nil(t, stop)
		require.Nil(t, c.wait(context.Background(), &r, fired))
	}
	waitOnce()
	first := r.timer
	require.NotNil(t, first)
	r.attempt++
	waitOnce()
	assert.Same(t, first, r.timer, "one timer per call")
	assert.False(t, r.timer.Stop(), "a fired timer has nothing left to stop")
}
