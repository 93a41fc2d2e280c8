package retry_test

import (
	"context"
	"sync"
	"time"

	"github.com/voxpersona/retry"
)

// instantClock is a fake Clock whose waits end at once: After advances the
// clock by d, records d, and returns a channel that already holds a value.
// Do therefore runs synchronously, and the test reads back every wait.
type instantClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func newInstantClock() *instantClock {
	return &instantClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *instantClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *instantClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// Advance moves the clock forward without a wait, as a slow attempt would.
func (c *instantClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *instantClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

// script returns an fn for Do that returns errs[i] on call i (nil once errs
// run out) and counts its calls.
type script struct {
	mu    sync.Mutex
	errs  []error
	calls int
}

func (s *script) fn(context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.calls <= len(s.errs) {
		return 0, s.errs[s.calls-1]
	}
	return s.calls, nil
}

func (s *script) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func fails(n int, err error) *script {
	errs := make([]error, n)
	for i := range errs {
		errs[i] = err
	}
	return &script{errs: errs}
}

// recorder is a WithNotify hook that keeps every event.
type recorder struct {
	mu     sync.Mutex
	events []retry.Event
}

func (r *recorder) hook(_ context.Context, e retry.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) Events() []retry.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]retry.Event(nil), r.events...)
}

// withDeadline returns a context that reports deadline but never ends by
// itself, so a test can compare it with a fake clock's time.
func withDeadline(deadline time.Time) context.Context {
	return deadlineCtx{context.Background(), deadline}
}

type deadlineCtx struct {
	context.Context
	deadline time.Time
}

func (c deadlineCtx) Deadline() (time.Time, bool) { return c.deadline, true }
