package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voxpersona/retry"
)

// burst is a load that arrives all at once, so the writers really collide.
func burst(t *testing.T) Config {
	cfg := defaultConfig()
	cfg.DB = filepath.Join(t.TempDir(), "history.db")
	cfg.Messages, cfg.Spread, cfg.Chats, cfg.Writers = 300, 0, 10, 8
	cfg.Base = time.Millisecond
	cfg.Dup = 0.05
	return cfg
}

// recordingTransport counts what each chat was sent.
type recordingTransport struct {
	mu      sync.Mutex
	notices map[int64]int
	replies int
}

func (r *recordingTransport) Send(_ context.Context, chat int64, text string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if text == SaveFailedNotice {
		r.notices[chat]++
	} else {
		r.replies++
	}
	return nil
}

func (r *recordingTransport) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.notices {
		n += c
	}
	return n
}

// run plays cfg with a recording transport. It is safe to call from any
// goroutine: the caller checks err.
func run(ctx context.Context, cfg Config, logw io.Writer) (*Summary, *recordingTransport, error) {
	rt := &recordingTransport{notices: map[int64]int{}}
	cfg.Transport = rt
	sum, err := Run(ctx, cfg, io.Discard, logw)
	return sum, rt, err
}

// checkAccounts asserts what must hold after any run: every save ended in
// exactly one known way, the database agrees, and nothing was lost silently.
func checkAccounts(t *testing.T, s *Summary, rt *recordingTransport) {
	t.Helper()
	assert.Zero(t, s.LostSilently, "lost silently: %v", s.MissingMessageIDs)
	assert.Zero(t, s.UnaccountedSaves, "every save is saved, a duplicate, or a reported give-up")
	assert.Equal(t, s.SavedTotalReported, s.RowsInHistory, "rows in SQLite = saves reported as successful")
	assert.Equal(t, s.DeadLetters, s.RowsInDeadLetters)
	assert.Equal(t, s.GaveUp, s.DeadLetters+s.DeadLetterFailed)
	assert.Equal(t, s.GaveUp, s.Notices)
	assert.Equal(t, s.GaveUp, rt.total(), "one notice per give-up")
	assert.Equal(t, 2*s.Received, s.Saves)
}

func TestRealContentionWithRetry(t *testing.T) {
	cfg := burst(t)
	cfg.Attempts = 8
	var logs bytes.Buffer
	s, rt, err := run(context.Background(), cfg, &logs)
	require.NoError(t, err)
	checkAccounts(t, s, rt)
	assert.Greater(t, s.RetriedSaves, 0, "the writers collided, so some saves were retried")
	assert.Contains(t, logs.String(), "SQLITE_BUSY", "the retried errors are SQLite's own")
	assert.Greater(t, s.SavedFirstAttempt+len(s.SavedAfterRetry), 0)
	assert.Equal(t, s.Received, rt.replies, "every message got its reply")
}

func TestSingleAttemptShowsTheContentionIsReal(t *testing.T) {
	cfg := burst(t)
	cfg.Attempts = 1
	var logs bytes.Buffer
	s, rt, err := run(context.Background(), cfg, &logs)
	require.NoError(t, err)
	checkAccounts(t, s, rt)
	assert.Greater(t, s.GaveUp, 0, "without retry, busy saves fail")
	assert.Empty(t, s.SavedAfterRetry)
	assert.Contains(t, logs.String(), "Failed after 1 attempt")
}

// The seed's test: 70 % of attempts fail; with 3 attempts about 1-0.7³ of
// the saves succeed, and each failure is told to its user exactly once.
func TestInjectedFailuresNotifyOncePerGiveUp(t *testing.T) {
	cfg := burst(t)
	cfg.Fail, cfg.Messages, cfg.Writers = 0.7, 200, 2
	s, rt, err := run(context.Background(), cfg, io.Discard)
	require.NoError(t, err)
	checkAccounts(t, s, rt)
	assert.Greater(t, s.GaveUp, 0)
	assert.Greater(t, s.SavedAfterRetry["3"], 0, "some saves needed all three attempts")
}

func TestDuplicateMessageIsNotRetried(t *testing.T) {
	ctx := context.Background()
	store, err := OpenStore(ctx, filepath.Join(t.TempDir(), "h.db"), 2)
	require.NoError(t, err)
	defer store.Close()
	m := Message{ChatID: 1, ConversationID: "c1", UserID: 7, MessageID: "m1", Role: "user", Text: "hi", At: time.Now()}
	require.NoError(t, store.Save(ctx, m))

	calls := 0
	err = retry.Run(ctx, func(ctx context.Context) error { calls++; return store.Save(ctx, m) },
		retry.WithRetryIf(IsTransient), retry.WithBackoff(retry.Constant(0)))
	assert.Equal(t, 1, calls, "a constraint violation is permanent")
	require.ErrorIs(t, err, retry.ErrPermanent)
	assert.True(t, IsDuplicate(err))
	rows, _, err := store.Counts(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, rows)

	// A busy database, by contrast, is transient.
	assert.True(t, IsTransient(errInjected))
	assert.False(t, IsTransient(errors.New("disk I/O error")))
}

// cancelOnRetry is a log writer that cancels the run at the first retry.
type cancelOnRetry struct {
	once   sync.Once
	cancel context.CancelFunc
}

func (c *cancelOnRetry) Write(p []byte) (int, error) {
	if strings.Contains(string(p), "msg=\"Retry ") {
		c.once.Do(c.cancel)
	}
	return len(p), nil
}

func TestCancelStopsRetriesPromptly(t *testing.T) {
	cfg := burst(t)
	cfg.Base = time.Hour // a retry that ignored ctx would hang the test
	cfg.Spread = 10 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		s   *Summary
		rt  *recordingTransport
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, rt, err := run(ctx, cfg, &cancelOnRetry{cancel: cancel})
		done <- result{s, rt, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(2 * time.Minute): // a watchdog, not a wait: the run ends in about a second
		t.Fatal("the run did not stop after cancel")
	}
	require.NoError(t, r.err)
	s, rt := r.s, r.rt
	assert.True(t, s.Interrupted)
	assert.Less(t, s.Received, cfg.Messages, "the load stopped early")
	assert.Greater(t, s.GaveUp, 0, "the retry in its 1h wait gave up at the cancel, and was reported")
	checkAccounts(t, s, rt)
}

func TestPercentile(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3, 6, 7, 8, 9, 10}
	assert.Equal(t, time.Duration(5), percentile(ds, 50))
	assert.Equal(t, time.Duration(10), percentile(ds, 99))
	assert.Equal(t, time.Duration(0), percentile(nil, 50))
}

func TestSummaryPrints(t *testing.T) {
	s := &Summary{Received: 3, Saves: 6, SavedFirstAttempt: 5, SavedAfterRetry: map[string]int{"2": 1},
		RetryDelayP50: "1s", RetryDelayP99: "1s", RowsInHistory: 6, SavedTotalReported: 6, AttemptsPerSave: 3}
	var text, js bytes.Buffer
	require.NoError(t, s.Print(&text, false))
	assert.Contains(t, text.String(), "saved after retry        attempt 2: 1")
	assert.Contains(t, text.String(), "lost silently            0")
	require.NoError(t, s.Print(&js, true))
	assert.Contains(t, js.String(), `"lost_silently": 0`)
	assert.Contains(t, js.String(), `"saved_after_retry_by_attempt": {`)
}

// replyCounter counts replies, notes how many there were when the first
// retry was logged, and cancels the run 50 replies later.
type replyCounter struct {
	recordingTransport
	mu           sync.Mutex
	atFirstRetry int // -1 until the first retry
	cancel       context.CancelFunc
}

func (r *replyCounter) Send(ctx context.Context, chat int64, text string) error {
	_ = r.recordingTransport.Send(ctx, chat, text)
	replies := r.replyCount()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.atFirstRetry >= 0 && replies >= r.atFirstRetry+50 {
		r.cancel()
	}
	return nil
}

func (r *replyCounter) replyCount() int {
	r.recordingTransport.mu.Lock()
	defer r.recordingTransport.mu.Unlock()
	return r.recordingTransport.replies
}

func (r *replyCounter) Write(p []byte) (int, error) {
	if strings.Contains(string(p), "msg=\"Retry ") {
		replies := r.replyCount()
		r.mu.Lock()
		if r.atFirstRetry < 0 {
			r.atFirstRetry = replies
		}
		r.mu.Unlock()
	}
	return len(p), nil
}

// While a save waits an hour to retry, the bot goes on answering: saving
// never delays a reply.
func TestRetryingNeverDelaysReplies(t *testing.T) {
	cfg := burst(t)
	cfg.Base = time.Hour
	cfg.Messages, cfg.Spread = 2000, 20*time.Second
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rc := &replyCounter{recordingTransport: recordingTransport{notices: map[int64]int{}}, atFirstRetry: -1, cancel: cancel}
	cfg.Transport = rc
	s, err := Run(ctx, cfg, io.Discard, rc)
	require.NoError(t, err)
	require.GreaterOrEqual(t, rc.atFirstRetry, 0, "some save was retried")
	assert.GreaterOrEqual(t, rc.replies, rc.atFirstRetry+50, "50 more replies went out while that save waited")
	assert.True(t, s.Interrupted)
	checkAccounts(t, s, &rc.recordingTransport)
}
