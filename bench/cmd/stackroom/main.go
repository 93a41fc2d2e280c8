// Command stackroom measures how much goroutine stack each library's parked
// call needs, as a difference to the hand-written loop, and whether it fits
// in the runtime's smallest (2 KB) goroutine stack.
//
//	go run ./cmd/stackroom
//
// BenchmarkParked's memory per parked call is mostly stack: a goroutine starts
// with 2 KB and the runtime doubles the stack when a call would run past it,
// so a few bytes too many cost 2 KB. Stack use cannot be read from outside,
// so stackroom measures it from below: it parks 500 calls of a library, each
// under n extra frames of a known size, and looks at how big the stacks have
// become (runtime.MemStats.StackInuse). The smallest n at which the stacks
// double gives the room left above the call's deepest point: in the 2 KB
// stack (none if it does not fit at all) and in the 4 KB one, which every
// library fits. The difference between two libraries' room in the 4 KB stack
// is the difference of their deepest points, whatever their size. Two
// sketches of the leanest possible design follow the libraries (sketch.go).
//
// Each measurement runs in a fresh process with GODEBUG=adaptivestackstart=0,
// so that every goroutine starts with 2 KB instead of a size the runtime
// learnt from the goroutines before it.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"unsafe"

	"github.com/voxpersona/retry/bench"
)

const calls = 500

func main() {
	probeLib := flag.String("probe", "", "internal: measure one library under -pad frames")
	padN := flag.Int("pad", 0, "internal: extra frames under each call")
	flag.Parse()
	if *probeLib != "" {
		fmt.Println(probe(peer(*probeLib), *padN))
		return
	}
	frame := frameSize()
	fmt.Printf("stack room of a parked call (%d calls per measurement, frames of %d B; %s)\n\n",
		calls, frame, runtime.Version())
	fmt.Println("| library | room in a 2 KB stack (B) | room in a 4 KB stack (B) | deepest point − hand-loop's (B) |")
	fmt.Println("|---|---:|---:|---:|")
	var handRoom int
	for _, p := range peers {
		if p.Name == "bare-call" {
			continue
		}
		room2 := room(p.Name, 3<<10, frame)
		room4 := room(p.Name, 6<<10, frame)
		if p.Name == "hand-loop" {
			handRoom = room4
		}
		two := "none"
		if room2 >= 0 {
			two = strconv.Itoa(room2)
		}
		fmt.Printf("| %s | %s | %d | %+d |\n", p.Name, two, room4, handRoom-room4)
	}
}

// room returns the bytes of extra frames under which a parked call still
// keeps its stacks below limit per goroutine, in steps of frame, or -1 if
// even no extra frame does.
func room(lib string, limit float64, frame int) int {
	grows := func(n int) bool { return measure(lib, n) > limit }
	if grows(0) {
		return -1
	}
	lo, hi := 0, 1 // lo fits, hi grows
	for !grows(hi) {
		lo, hi = hi, hi*2
	}
	for hi-lo > 1 {
		if mid := (lo + hi) / 2; grows(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return lo * frame
}

// measure runs one probe in a fresh process and returns the stack bytes per
// parked call.
func measure(lib string, n int) float64 {
	cmd := exec.Command(os.Args[0], "-probe", lib, "-pad", strconv.Itoa(n))
	cmd.Env = append(os.Environ(), "GODEBUG=adaptivestackstart=0")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "stackroom:", lib, err)
		os.Exit(1)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stackroom:", lib, err)
		os.Exit(1)
	}
	return v
}

// peers are the libraries of bench.Peers, then the sketches.
var peers = append(bench.Peers[:len(bench.Peers):len(bench.Peers)], sketches...)

func peer(name string) bench.Peer {
	for _, p := range peers {
		if p.Name == name {
			return p
		}
	}
	fmt.Fprintln(os.Stderr, "stackroom: no library", name)
	os.Exit(2)
	return bench.Peer{}
}

// probe parks calls of p, each under n frames of pad, and returns the stack
// bytes per parked call.
func probe(p bench.Peer, n int) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	release := bench.Park(p, calls, func(call func()) { go pad(n, call) })
	runtime.GC()
	runtime.ReadMemStats(&after)
	release()
	return float64(after.StackInuse-before.StackInuse) / calls
}

// marks holds the address of a local of pad at depths 0 and 1, for
// frameSize; only the measuring call writes it.
var marks [2]uintptr

// pad calls f under n frames of its own.
//
//go:noinline
func pad(n int, f func()) {
	var here byte
	if f == nil && n < len(marks) {
		marks[n] = uintptr(unsafe.Pointer(&here))
	}
	if n == 0 {
		if f != nil {
			f()
		}
		return
	}
	pad(n-1, f)
}

// frameSize returns the size of one frame of pad.
func frameSize() int {
	pad(1, nil)
	return int(marks[1] - marks[0])
}
