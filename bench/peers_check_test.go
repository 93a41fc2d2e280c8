package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// behaviour is what TestPeers observed of one library, on synctest's fake
// clock: no real waiting, and the same timebase for waits and deadlines.
type behaviour struct {
	calls          int           // fn calls when every attempt fails
	waited         time.Duration // total wait for those calls
	cancelReturn   time.Duration // when Do returned after a cancel at 1.5s (during the 2s wait)
	keepsLastError bool          // after that cancel, errors.Is(err, the last error of fn)
	precancelCalls int           // fn calls under an already-cancelled ctx
}

func observe(t *testing.T, p Peer) (b behaviour) {
	failing := func(ctx context.Context) (int, error) {
		b.calls++
		return 0, errTransient
	}
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		_, err := p.Call(context.Background(), failing, time.Second)
		b.waited = time.Since(start)
		require.ErrorIs(t, err, errTransient, "%s returns fn's error when attempts run out", p.Name)
	})
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		time.AfterFunc(1500*time.Millisecond, cancel)
		start := time.Now()
		_, err := p.Call(ctx, func(context.Context) (int, error) { return 0, errTransient }, time.Second)
		b.cancelReturn = time.Since(start)
		b.keepsLastError = errors.Is(err, errTransient)
	})
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, _ = p.Call(ctx, func(context.Context) (int, error) { b.precancelCalls++; return 0, errTransient }, time.Second)
	})
	return b
}

// TestPeers checks, before any timing, that every library really makes 3
// calls and really waits 1s then 2s under the shared policy, so that the
// benchmarks compare like with like. It also records how each one treats
// cancellation, and prints the findings as a markdown table (go test -v).
func TestPeers(t *testing.T) {
	var rows []string
	for _, p := range Peers {
		b := observe(t, p)
		if p.Name == "bare-call" {
			assert.Equal(t, 1, b.calls)
			continue
		}
		assert.Equal(t, 3, b.calls, "%s: 3 attempts", p.Name)
		assert.Equal(t, 3*time.Second, b.waited, "%s: waits of 1s then 2s", p.Name)
		if p.Name == "voxpersona-retry" {
			assert.Equal(t, 1500*time.Millisecond, b.cancelReturn, "returns at the cancel")
			assert.True(t, b.keepsLastError, "keeps fn's last error after cancel")
			assert.Zero(t, b.precancelCalls, "never calls fn under a cancelled ctx")
		}
		reuse := "yes"
		if p.Reused == nil {
			reuse = "no"
		}
		rows = append(rows, fmt.Sprintf("| %s | %d | %v | %v | %v | %d | %s | %s |", p.Name, b.calls, b.waited,
			b.cancelReturn, yesNo(b.keepsLastError), b.precancelCalls, reuse, p.Note))
	}
	t.Log("\n| library | calls | waited | returns after cancel at 1.5s | keeps last error after cancel | calls under a cancelled ctx | reusable policy benchmarked | note |\n" +
		"|---|---|---|---|---|---|---|---|\n" + strings.Join(rows, "\n"))
}

// TestReusedPoliciesGiveEachCallItsBudget checks the reused variants the
// benchmarks time: two calls in a row, each with its full 3 attempts.
func TestReusedPoliciesGiveEachCallItsBudget(t *testing.T) {
	for _, p := range Peers {
		if p.Reused == nil {
			continue
		}
		synctest.Test(t, func(t *testing.T) {
			call := p.Reused(time.Second)
			for i := 0; i < 2; i++ {
				calls := 0
				_, err := call(context.Background(), func(context.Context) (int, error) { calls++; return 0, errTransient })
				require.Error(t, err)
				assert.Equal(t, 3, calls, "%s, call %d", p.Name, i+1)
			}
		})
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
