package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"modernc.org/sqlite"

	"github.com/voxpersona/retry"
)

// Message is one chat message, from a user or from the bot.
type Message struct {
	ChatID         int64
	ConversationID string
	UserID         int64
	MessageID      string // unique across the history
	Role           string // "user" or "assistant"
	Text           string
	At             time.Time
}

// Store is the conversation history in SQLite. Every connection has
// busy_timeout 0, so two writers that meet get a genuine SQLITE_BUSY
// ("database is locked") instead of waiting inside SQLite: the retrying is
// left to the retry library, where it is visible and bounded.
type Store struct {
	db *sql.DB
}

const schema = `
CREATE TABLE IF NOT EXISTS conversations (
	id         TEXT PRIMARY KEY,
	chat_id    INTEGER NOT NULL,
	started_at TEXT NOT NULL,
	last_at    TEXT NOT NULL,
	messages   INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS messages (
	message_id      TEXT PRIMARY KEY,
	chat_id         INTEGER NOT NULL,
	conversation_id TEXT NOT NULL REFERENCES conversations(id),
	user_id         INTEGER NOT NULL,
	role            TEXT NOT NULL,
	text            TEXT NOT NULL,
	at              TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dead_letters (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	message_id      TEXT NOT NULL,
	chat_id         INTEGER NOT NULL,
	conversation_id TEXT NOT NULL,
	user_id         INTEGER NOT NULL,
	role            TEXT NOT NULL,
	text            TEXT NOT NULL,
	at              TEXT NOT NULL,
	error           TEXT NOT NULL,
	attempts        INTEGER NOT NULL,
	failed_at       TEXT NOT NULL
);`

// OpenStore opens (creating if needed) the history at path with a pool of
// writers connections. Transactions start with BEGIN IMMEDIATE, so a writer
// that meets another fails at BEGIN with SQLITE_BUSY.
func OpenStore(ctx context.Context, path string, writers int) (*Store, error) {
	dsn := "file:" + path + "?_pragma=busy_timeout(0)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(writers)
	db.SetMaxIdleConns(writers)
	// The schema is created before any writer starts; a busy database here
	// (another process) is retried like any other write.
	if err := retry.Run(ctx, func(ctx context.Context) error {
		_, err := db.ExecContext(ctx, schema)
		return classify(err)
	}, retry.WithName("create_schema"), retry.WithRetryIf(IsTransient),
		retry.WithBackoff(retry.Exponential(10*time.Millisecond, 2)), retry.WithMaxAttempts(10)); err != nil {
		db.Close()
		return nil, err
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Save stores m in one transaction: its conversation (created on first use),
// the message, and the conversation's counters. A duplicate message id is a
// constraint violation, which no retry can fix, so it comes back marked
// retry.Permanent; a busy or locked database comes back as it is, transient.
func (s *Store) Save(ctx context.Context, m Message) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return classify(err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	at := m.At.UTC().Format(time.RFC3339Nano)
	if _, err = tx.ExecContext(ctx, `INSERT INTO conversations (id, chat_id, started_at, last_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`, m.ConversationID, m.ChatID, at, at); err != nil {
		return classify(err)
	}
	if _, err = tx.ExecContext(ctx, `INSERT INTO messages (message_id, chat_id, conversation_id, user_id, role, text, at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, m.MessageID, m.ChatID, m.ConversationID, m.UserID, m.Role, m.Text, at); err != nil {
		return classify(err)
	}
	if _, err = tx.ExecContext(ctx, `UPDATE conversations SET messages = messages + 1, last_at = ? WHERE id = ?`,
		at, m.ConversationID); err != nil {
		return classify(err)
	}
	return classify(tx.Commit())
}

// SaveDeadLetter records m, which could not be saved, with the reason, so an
// operator can replay it.
func (s *Store) SaveDeadLetter(ctx context.Context, m Message, cause error, attempts int) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO dead_letters
		(message_id, chat_id, conversation_id, user_id, role, text, at, error, attempts, failed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.MessageID, m.ChatID, m.ConversationID, m.UserID, m.Role, m.Text, m.At.UTC().Format(time.RFC3339Nano),
		cause.Error(), attempts, time.Now().UTC().Format(time.RFC3339Nano))
	return classify(err)
}

// Counts returns the number of rows in messages and in dead_letters.
func (s *Store) Counts(ctx context.Context) (messages, deadLetters int, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM dead_letters)`).
		Scan(&messages, &deadLetters)
	return messages, deadLetters, err
}

// Missing returns the ids among ids that are neither in messages nor in
// dead_letters: messages lost without a trace.
func (s *Store) Missing(ctx context.Context, ids []string) ([]string, error) {
	found := make(map[string]bool, len(ids))
	for _, q := range []string{`SELECT message_id FROM messages`, `SELECT message_id FROM dead_letters`} {
		rows, err := s.db.QueryContext(ctx, q)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			found[id] = true
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	var missing []string
	for _, id := range ids {
		if !found[id] {
			missing = append(missing, id)
		}
	}
	return missing, nil
}

// SQLite's primary result codes that matter here.
const (
	sqliteBusy       = 5
	sqliteLocked     = 6
	sqliteConstraint = 19
)

// errInjected is a simulated transient failure (see flakyStore).
var errInjected = errors.New("injected failure: database is locked")

// classify marks constraint violations as permanent. Everything else is
// returned as it is; IsTransient decides whether it is retried.
func classify(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqliteConstraint {
		return retry.Permanent(err)
	}
	return err
}

// IsTransient is the retry predicate: a busy or locked database, or an
// injected failure, is worth another attempt; anything else is not.
func IsTransient(err error) bool {
	if errors.Is(err, errInjected) {
		return true
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		code := se.Code() & 0xff
		return code == sqliteBusy || code == sqliteLocked
	}
	return false
}

// IsDuplicate reports whether err is a constraint violation (here: a message
// id that is already stored).
func IsDuplicate(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqliteConstraint
}

// flakyStore fails a save with probability p before it reaches the database,
// from a seeded source, to reproduce the seed's test of a 70 % failure rate.
type flakyStore struct {
	mu  sync.Mutex
	rng *rand.Rand
	p   float64
}

func newFlaky(p float64, seed uint64) *flakyStore {
	return &flakyStore{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), p: p}
}

func (f *flakyStore) fail() error {
	if f == nil || f.p <= 0 {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rng.Float64() < f.p {
		return fmt.Errorf("save: %w", errInjected)
	}
	return nil
}
