package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/voxpersona/retry"
)

// SaveFailedNotice is what the user is told when a reply could not be saved.
const SaveFailedNotice = "⚠️ Не удалось сохранить ответ в историю мультичата. Попробуйте позже."

// Transport delivers the bot's messages to a chat.
type Transport interface {
	Send(ctx context.Context, chatID int64, text string) error
}

// stdoutTransport prints the notices (and, if replies is set, every reply).
type stdoutTransport struct {
	mu      sync.Mutex
	w       io.Writer
	replies bool
}

func (t *stdoutTransport) Send(_ context.Context, chatID int64, text string) error {
	if text != SaveFailedNotice && !t.replies {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	_, err := fmt.Fprintf(t.w, "[chat %d] bot: %s\n", chatID, text)
	return err
}

// Bot answers each incoming message at once and saves both the message and
// the reply in the background, through retry. Saving never delays a reply.
type Bot struct {
	store     *Store
	flaky     *flakyStore
	transport Transport
	logger    *slog.Logger
	policy    []retry.Option // shared by every save: immutable values
	wg        sync.WaitGroup
	stats     stats
}

// stats are the operator's figures; every field is guarded by mu.
type stats struct {
	mu            sync.Mutex
	received      int
	replied       int
	saves         int         // saves started (user messages and replies)
	savedByTry    map[int]int // attempt number → saves that succeeded on it
	duplicates    int         // redelivered messages, already stored: permanent, not retried
	permanent     int         // other permanent failures
	gaveUp        int         // saves that failed for good and were reported
	notices       int         // notices sent to users
	deadLetters   int         // failed saves recorded for replay
	deadLetterErr int         // failed saves whose dead letter failed too (logged)
	retryDelays   []time.Duration
	ids           []string // every message id a save was started for
}

// Save runs one save of m through retry and accounts for its outcome. A
// reply uses the seed's bool-returning save, through retry.Bool; a user's
// message uses the error-returning save, whose errors say whether to retry.
func (b *Bot) save(ctx context.Context, m Message) {
	var attempts int
	var spent time.Duration
	var lastDBErr error // the bool save hides its error from retry; keep it here
	opts := append(b.policy[:len(b.policy):len(b.policy)],
		retry.WithNotify(func(_ context.Context, e retry.Event) {
			attempts, spent = e.Attempt, e.Elapsed
		}))

	var err error
	if m.Role == "assistant" {
		saveToConversation := func(ctx context.Context) bool {
			if lastDBErr = b.flaky.fail(); lastDBErr != nil {
				return false
			}
			lastDBErr = b.store.Save(ctx, m)
			return lastDBErr == nil
		}
		_, err = retry.Do(ctx, retry.Bool(saveToConversation), append(opts, retry.WithName("save_to_conversation"))...)
	} else {
		_, err = retry.Do(ctx, func(ctx context.Context) (struct{}, error) {
			if err := b.flaky.fail(); err != nil {
				return struct{}{}, err
			}
			return struct{}{}, b.store.Save(ctx, m)
		}, append(opts, retry.WithName("save_user_message"), retry.WithRetryIf(IsTransient))...)
	}

	s := &b.stats
	s.mu.Lock()
	if attempts > 1 || (err != nil && attempts > 0) {
		s.retryDelays = append(s.retryDelays, spent)
	}
	if err == nil {
		s.savedByTry[attempts]++
		s.mu.Unlock()
		return
	}
	if IsDuplicate(err) {
		// A redelivered message: it is in the history already. Not retried,
		// not lost, nothing to tell the user.
		s.duplicates++
		s.mu.Unlock()
		return
	}
	if errors.Is(err, retry.ErrPermanent) {
		s.permanent++
	}
	s.gaveUp++
	s.mu.Unlock()
	b.reportFailure(ctx, m, err, lastDBErr, attempts)
}

// reportFailure tells the user, once, and records the message durably so an
// operator can replay it. It runs even when ctx has ended (shutdown), with a
// bounded budget of its own.
func (b *Bot) reportFailure(ctx context.Context, m Message, err, dbErr error, attempts int) {
	if dbErr != nil {
		err = fmt.Errorf("%w (database: %v)", err, dbErr)
	}
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if sendErr := b.transport.Send(bg, m.ChatID, SaveFailedNotice); sendErr != nil {
		b.logger.ErrorContext(ctx, "notice not delivered", "chat", m.ChatID, "error", sendErr)
	}
	dlErr := retry.Run(bg, func(ctx context.Context) error {
		return b.store.SaveDeadLetter(ctx, m, err, attempts)
	}, retry.WithName("save_dead_letter"), retry.WithRetryIf(IsTransient), retry.WithMaxAttempts(20),
		retry.WithBackoff(retry.Exponential(5*time.Millisecond, 2).FullJitter().Cap(500*time.Millisecond)))

	s := &b.stats
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notices++
	if dlErr != nil {
		s.deadLetterErr++
		b.logger.ErrorContext(ctx, "message lost: dead letter failed", "message_id", m.MessageID, "error", dlErr)
		return
	}
	s.deadLetters++
}

// Handle answers in and starts saving it and the reply. It returns as soon
// as the reply is delivered.
func (b *Bot) Handle(ctx context.Context, in Message) {
	reply := Message{
		ChatID: in.ChatID, ConversationID: in.ConversationID, UserID: in.UserID,
		MessageID: in.MessageID + ":reply:" + strconv.FormatInt(time.Now().UnixNano(), 36),
		Role:      "assistant", Text: "echo: " + in.Text, At: time.Now(),
	}
	b.stats.mu.Lock()
	b.stats.received++
	b.stats.saves += 2
	b.stats.ids = append(b.stats.ids, in.MessageID, reply.MessageID)
	b.stats.mu.Unlock()

	b.startSave(ctx, in)
	if err := b.transport.Send(ctx, in.ChatID, reply.Text); err != nil {
		b.logger.ErrorContext(ctx, "reply not delivered", "chat", in.ChatID, "error", err)
	}
	b.stats.mu.Lock()
	b.stats.replied++
	b.stats.mu.Unlock()
	b.startSave(ctx, reply)
}

func (b *Bot) startSave(ctx context.Context, m Message) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		b.save(ctx, m)
	}()
}

// Wait blocks until every save started so far has ended.
func (b *Bot) Wait() { b.wg.Wait() }

// percentile returns the p-th percentile (0..100) of ds, nearest rank.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := int(p/100*float64(len(s))+0.999999) - 1
	return s[min(max(rank, 0), len(s)-1)]
}
