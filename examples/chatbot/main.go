// Command chatbot is the problem retry exists for, end to end: a chat bot
// answers messages at once and saves every message and reply into a SQLite
// conversation history in the background. Several writers share the database
// with busy_timeout 0, so saves fail with genuine SQLITE_BUSY errors; each save
// goes through retry.Do (3 attempts, waits of 1s then 2s by default), every
// retry is logged, a user whose reply could not be saved is told so, and the
// failed message is kept in a dead-letter table. At the end it prints the
// operator's figures, and checks them against the database: nothing may be
// lost silently.
//
//	go -C examples run ./chatbot                    # default load, about 10 seconds
//	go -C examples run ./chatbot -fail 0.7          # the seed's test: 70 % injected failures
//	go -C examples run ./chatbot -json -db /tmp/h.db
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/voxpersona/retry"
)

// Config is what the flags set.
type Config struct {
	DB        string        // database path; "" means a file in a new temporary directory
	Chats     int           // chats talking to the bot at once
	Messages  int           // user messages in all
	Spread    time.Duration // the messages arrive over this span
	Writers   int           // concurrent database connections
	Attempts  int           // retry.WithMaxAttempts
	Base      time.Duration // first wait of the exponential backoff (factor 2)
	Fail      float64       // probability of an injected failure per attempt
	Dup       float64       // probability that a user message is delivered twice
	Seed      uint64
	JSON      bool
	Replies   bool       // print every reply, not only the failure notices
	LogLevel  slog.Level // retry log lines at or above this level go to the log
	Transport Transport  // nil: stdout
}

func defaultConfig() Config {
	return Config{Chats: 8, Messages: 400, Spread: 6 * time.Second, Writers: 6, Attempts: 3,
		Base: time.Second, Dup: 0.02, Seed: 1, LogLevel: slog.LevelInfo}
}

func main() {
	cfg := defaultConfig()
	flag.StringVar(&cfg.DB, "db", "", "SQLite database path (default: a new temporary directory)")
	flag.IntVar(&cfg.Chats, "chats", cfg.Chats, "chats talking to the bot at once")
	flag.IntVar(&cfg.Messages, "messages", cfg.Messages, "user messages in all")
	flag.DurationVar(&cfg.Spread, "spread", cfg.Spread, "the messages arrive over this span")
	flag.IntVar(&cfg.Writers, "writers", cfg.Writers, "concurrent database connections (busy_timeout 0)")
	flag.IntVar(&cfg.Attempts, "attempts", cfg.Attempts, "attempts per save, counting the first")
	flag.DurationVar(&cfg.Base, "base", cfg.Base, "first retry wait; each next one doubles")
	flag.Float64Var(&cfg.Fail, "fail", cfg.Fail, "probability of an injected transient failure per attempt (the seed tested 0.7)")
	flag.Float64Var(&cfg.Dup, "dup", cfg.Dup, "probability that a user message is delivered twice")
	flag.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the load and of the injected failures")
	flag.BoolVar(&cfg.JSON, "json", false, "print the summary as JSON")
	flag.BoolVar(&cfg.Replies, "replies", false, "print every reply, not only the failure notices")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	sum, err := Run(ctx, cfg, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chatbot:", err)
		os.Exit(1)
	}
	if err := sum.Print(os.Stdout, cfg.JSON); err != nil {
		fmt.Fprintln(os.Stderr, "chatbot:", err)
		os.Exit(1)
	}
	if sum.LostSilently != 0 {
		os.Exit(2)
	}
}

// Run plays the load against a bot until every message is handled and every
// save has ended, or until ctx ends, and returns the summary. Replies and
// notices go to out, logs to logw.
func Run(ctx context.Context, cfg Config, out, logw io.Writer) (*Summary, error) {
	path, shown := cfg.DB, cfg.DB
	if path == "" {
		dir, err := os.MkdirTemp("", "chatbot-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "history.db")
		shown = path + " (temporary, removed at exit; set -db to keep it)"
	}
	store, err := OpenStore(ctx, path, max(cfg.Writers, 1))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer store.Close()

	logger := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: cfg.LogLevel}))
	transport := cfg.Transport
	if transport == nil {
		transport = &stdoutTransport{w: out, replies: cfg.Replies}
	}
	bot := &Bot{
		store: store, flaky: newFlaky(cfg.Fail, cfg.Seed), transport: transport, logger: logger,
		policy: []retry.Option{
			retry.WithMaxAttempts(cfg.Attempts),
			retry.WithBackoff(retry.Exponential(cfg.Base, 2)),
			retry.WithLogger(logger),
		},
		stats: stats{savedByTry: map[int]int{}},
	}

	start := time.Now()
	interrupted := playLoad(ctx, cfg, bot)
	bot.Wait() // saves end on their own, or promptly once ctx ends
	elapsed := time.Since(start)

	// The checks read the database with a context of their own: they must
	// run even when the run was interrupted.
	checkCtx := context.WithoutCancel(ctx)
	rows, deadLetters, err := store.Counts(checkCtx)
	if err != nil {
		return nil, err
	}
	s := &bot.stats
	s.mu.Lock()
	defer s.mu.Unlock()
	missing, err := store.Missing(checkCtx, s.ids)
	if err != nil {
		return nil, err
	}
	sum := &Summary{
		DB: shown, Interrupted: interrupted, Seconds: elapsed.Seconds(),
		Received: s.received, Replied: s.replied, Saves: s.saves,
		SavedFirstAttempt: s.savedByTry[1], SavedAfterRetry: map[string]int{},
		Duplicates: s.duplicates, PermanentFailures: s.permanent, GaveUp: s.gaveUp, Notices: s.notices,
		DeadLetters: s.deadLetters, DeadLetterFailed: s.deadLetterErr,
		LostSilently:       len(missing),
		RowsInHistory:      rows,
		RowsInDeadLetters:  deadLetters,
		RetriedSaves:       len(s.retryDelays),
		RetryDelayP50:      percentile(s.retryDelays, 50).Round(time.Millisecond).String(),
		RetryDelayP99:      percentile(s.retryDelays, 99).Round(time.Millisecond).String(),
		UnaccountedSaves:   s.saves - s.duplicates - s.gaveUp,
		InjectedFailure:    cfg.Fail,
		AttemptsPerSave:    cfg.Attempts,
		FirstRetryWait:     cfg.Base.String(),
		ConcurrentWriters:  cfg.Writers,
		MissingMessageIDs:  missing,
		SavedTotalReported: 0,
	}
	for n, c := range s.savedByTry {
		sum.SavedTotalReported += c
		sum.UnaccountedSaves -= c
		if n > 1 {
			sum.SavedAfterRetry[strconv.Itoa(n)] = c
		}
	}
	return sum, nil
}

// playLoad sends cfg.Messages user messages from cfg.Chats chats, spread over
// cfg.Spread, to the bot, one at a time as they arrive. It reports whether ctx
// ended first.
func playLoad(ctx context.Context, cfg Config, bot *Bot) bool {
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed+1))
	gap := time.Duration(0)
	if cfg.Messages > 0 {
		gap = cfg.Spread / time.Duration(cfg.Messages)
	}
	next := time.NewTimer(0)
	defer next.Stop()
	for i := 0; i < cfg.Messages; i++ {
		select {
		case <-ctx.Done():
			return true
		case <-next.C:
		}
		chat := int64(rng.IntN(max(cfg.Chats, 1)) + 1)
		m := Message{
			ChatID: chat, ConversationID: fmt.Sprintf("chat-%d", chat), UserID: 1000 + chat,
			MessageID: fmt.Sprintf("chat-%d:msg-%d", chat, i), Role: "user",
			Text: fmt.Sprintf("message %d", i), At: time.Now(),
		}
		bot.Handle(ctx, m)
		if rng.Float64() < cfg.Dup {
			bot.Handle(ctx, m) // the transport delivered it twice
		}
		// Exponential gaps with the configured mean: bursts and lulls.
		next.Reset(time.Duration(rng.ExpFloat64() * float64(gap)))
	}
	return ctx.Err() != nil
}

// Summary is the operator's view of a run: what came in, how each save
// ended, and a check against the database that nothing was lost silently.
type Summary struct {
	DB          string  `json:"db"`
	Interrupted bool    `json:"interrupted"`
	Seconds     float64 `json:"seconds"`

	Received          int            `json:"messages_received"`
	Replied           int            `json:"replies_sent"`
	Saves             int            `json:"saves"`
	SavedFirstAttempt int            `json:"saved_first_attempt"`
	SavedAfterRetry   map[string]int `json:"saved_after_retry_by_attempt"`
	Duplicates        int            `json:"duplicates_not_retried"`
	PermanentFailures int            `json:"permanent_failures"`
	GaveUp            int            `json:"reported_give_ups"`
	Notices           int            `json:"user_notices"`
	DeadLetters       int            `json:"dead_letters"`
	DeadLetterFailed  int            `json:"dead_letters_failed"`
	LostSilently      int            `json:"lost_silently"`

	RetriedSaves  int    `json:"retried_saves"`
	RetryDelayP50 string `json:"retry_delay_p50"`
	RetryDelayP99 string `json:"retry_delay_p99"`

	RowsInHistory      int `json:"rows_in_history"`
	RowsInDeadLetters  int `json:"rows_in_dead_letters"`
	SavedTotalReported int `json:"saved_total_reported"`
	UnaccountedSaves   int `json:"unaccounted_saves"`

	InjectedFailure   float64  `json:"injected_failure"`
	AttemptsPerSave   int      `json:"attempts_per_save"`
	FirstRetryWait    string   `json:"first_retry_wait"`
	ConcurrentWriters int      `json:"concurrent_writers"`
	MissingMessageIDs []string `json:"missing_message_ids,omitempty"`
}

// Print writes the summary as text, or as JSON.
func (s *Summary) Print(w io.Writer, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	var after []string
	keys := make([]string, 0, len(s.SavedAfterRetry))
	for k := range s.SavedAfterRetry {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		after = append(after, fmt.Sprintf("attempt %s: %d", k, s.SavedAfterRetry[k]))
	}
	if len(after) == 0 {
		after = []string{"none"}
	}
	status := "completed"
	if s.Interrupted {
		status = "interrupted"
	}
	_, err := fmt.Fprintf(w, `
== chatbot summary (%s in %.1fs; %d writers, %d attempts, first wait %s, injected failures %.0f%%)
messages received        %d (replies sent %d)
saves                    %d (messages and replies)
saved on first attempt   %d
saved after retry        %s
duplicates, not retried  %d
permanent failures       %d
reported give-ups        %d (user notices %d, dead letters %d, dead letters failed %d)
lost silently            %d
retry delay added        p50 %s, p99 %s over %d retried saves
database check           %d rows in history = %d saves reported saved; %d dead letters
`, status, s.Seconds, s.ConcurrentWriters, s.AttemptsPerSave, s.FirstRetryWait, s.InjectedFailure*100,
		s.Received, s.Replied, s.Saves, s.SavedFirstAttempt, strings.Join(after, ", "),
		s.Duplicates, s.PermanentFailures, s.GaveUp, s.Notices, s.DeadLetters, s.DeadLetterFailed,
		s.LostSilently, s.RetryDelayP50, s.RetryDelayP99, s.RetriedSaves,
		s.RowsInHistory, s.SavedTotalReported, s.RowsInDeadLetters)
	return err
}
