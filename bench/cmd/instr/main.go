// Command instr runs one library's success path n times, for counting
// instructions under valgrind: the difference between n and 0 calls, divided
// by n, is the cost of one call, free of the timing noise of a shared
// machine.
//
//	valgrind --tool=callgrind --callgrind-out-file=/dev/null instr -lib hand-loop -n 100000
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/voxpersona/retry/bench"
)

var sink int

func main() {
	lib := flag.String("lib", "hand-loop", "library name (see bench.Peers)")
	n := flag.Int("n", 100000, "successful calls")
	reused := flag.Bool("reused", false, "use the library's reused policy")
	flag.Parse()
	ok := func(context.Context) (int, error) { return 1, nil }
	for _, p := range bench.Peers {
		if p.Name != *lib {
			continue
		}
		call := func(ctx context.Context, fn bench.Op) (int, error) { return p.Call(ctx, fn, time.Second) }
		if *reused {
			if p.Reused == nil {
				fmt.Fprintln(os.Stderr, "instr: no reused policy for", *lib)
				os.Exit(2)
			}
			call = p.Reused(time.Second)
		}
		ctx := context.Background()
		for i := 0; i < *n; i++ {
			v, _ := call(ctx, ok)
			sink += v
		}
		return
	}
	fmt.Fprintln(os.Stderr, "instr: unknown library", *lib)
	os.Exit(2)
}
