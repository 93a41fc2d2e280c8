package bench

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/voxpersona/retry"
)

// Benchmark names carry lib=NAME so that benchstat and run.sh can put the
// libraries side by side; "-reused" marks a policy built once.

var sink int

func okOp(context.Context) (int, error) { return 1, nil }

// BenchmarkSuccess: the first attempt succeeds. This is the cost a library
// adds to every healthy call.
func BenchmarkSuccess(b *testing.B) {
	ctx := context.Background()
	for _, p := range Peers {
		b.Run("lib="+p.Name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				v, _ := p.Call(ctx, okOp, time.Second)
				sink += v
			}
		})
		if p.Reused == nil {
			continue
		}
		b.Run("lib="+p.Name+"-reused", func(b *testing.B) {
			call := p.Reused(time.Second)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				v, _ := call(ctx, okOp)
				sink += v
			}
		})
	}
}

// BenchmarkRetry: fail, fail, succeed, with waits of 1ns and 2ns on the
// real clock: the cost of the retry machinery itself.
func BenchmarkRetry(b *testing.B) {
	ctx := context.Background()
	for _, p := range Peers {
		if p.Name == "bare-call" {
			continue
		}
		b.Run("lib="+p.Name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				n := 0
				v, _ := p.Call(ctx, func(context.Context) (int, error) {
					if n++; n < 3 {
						return 0, errTransient
					}
					return n, nil
				}, time.Nanosecond)
				sink += v
			}
		})
	}
}

// BenchmarkParked parks 10,000 calls in a 1-hour wait, then releases them
// all with one cancel. It reports the memory each parked call holds (heap
// and stack, B/parked) and how long the release of all of them takes
// (ns/release). Run it with a small -benchtime such as 3x.
func BenchmarkParked(b *testing.B) {
	const calls = 10_000
	for _, p := range Peers {
		if p.Name == "bare-call" {
			continue
		}
		b.Run("lib="+p.Name, func(b *testing.B) {
			var perCall, release float64
			for i := 0; i < b.N; i++ {
				pc, rel := park(p, calls)
				perCall += pc
				release += rel
			}
			b.ReportMetric(perCall/float64(b.N), "B/parked")
			b.ReportMetric(release/float64(b.N), "ns/release")
		})
	}
}

func park(p Peer, calls int) (bytesPerCall, releaseNs float64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	release := Park(p, calls, nil)
	runtime.GC()
	runtime.ReadMemStats(&after)
	used := float64((after.HeapInuse + after.StackInuse) - (before.HeapInuse + before.StackInuse))

	start := time.Now()
	release()
	return used / float64(calls), float64(time.Since(start).Nanoseconds())
}

// instantClock ends every wait at once: After returns a channel that already
// holds a value.
type instantClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *instantClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *instantClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// BenchmarkFakeClock runs the default schedule (3 attempts, waits of 1s and
// 2s, all failing) on fake clocks: a test's cost per retried call. With the
// benbjohnson Mock the hook advances the clock, and the Mock itself sleeps
// 1ms of real time in every Add.
func BenchmarkFakeClock(b *testing.B) {
	ctx := context.Background()
	failing := func(context.Context) (int, error) { return 0, errTransient }
	b.Run("clock=instant", func(b *testing.B) {
		clk := &instantClock{}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			_, _ = retry.Do(ctx, failing, retry.WithClock(clk))
		}
	})
	b.Run("clock=benbjohnson-mock", func(b *testing.B) {
		mock := clock.NewMock()
		advance := retry.WithNotify(func(_ context.Context, e retry.Event) {
			if e.Outcome == retry.WillRetry {
				mock.Add(e.Delay)
			}
		})
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			_, _ = retry.Do(ctx, failing, retry.WithClock(mock), advance)
		}
	})
}
