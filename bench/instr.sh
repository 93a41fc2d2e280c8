#!/usr/bin/env bash
# Instructions per successful call, counted by valgrind's callgrind: unlike
# ns/op, the count does not depend on what else the machine is doing. For
# each library, runs cmd/instr with N calls and with 0 calls; the difference
# divided by N is one call's cost (garbage collection off; see count). Prints a markdown table with ratios to the
# hand-written loop. Needs valgrind (Debian package "valgrind").
set -euo pipefail
cd "$(dirname "$0")"
n=${N:-200000}
command -v valgrind >/dev/null || { echo "instr.sh: valgrind is not installed" >&2; exit 1; }
bin=$(mktemp -d)/instr
go build -o "$bin" ./cmd/instr

count() { # lib n [flags]: instructions collected for one run
  # Go's preemption signals crash callgrind's signal bookkeeping: turn them
  # off. With them off a collection can spin waiting for goroutines to stop,
  # so the collector is off too: the count is the call path itself, its
  # allocations included, without the collection cycles they later cause
  # (allocs/op in the timing table shows those).
  GOGC=off GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" -lib "$1" -n "$2" ${3:-} 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
per_call() { # lib [flags]
  local base full
  base=$(count "$1" 0 "${2:-}")
  full=$(count "$1" "$n" "${2:-}")
  if [ -z "$base" ] || [ -z "$full" ]; then
    echo "instr.sh: valgrind failed for $1 $2" >&2
    exit 1
  fi
  echo $(( (full - base) / n ))
}

libs=$(grep -o 'Name: *"[a-z0-9-]*"' peers.go | sed 's/.*"\(.*\)"/\1/')
rows=()
hand=
for lib in $libs; do
  for flags in "" "-reused"; do
    if [ -n "$flags" ] && ! "$bin" -lib "$lib" -n 0 "$flags" 2>/dev/null; then
      continue # no reused policy for this library
    fi
    c=$(per_call "$lib" "$flags")
    [ "$lib$flags" = hand-loop ] && hand=$c
    rows+=("$lib${flags:+ (reused)}:$c")
  done
done
echo "instructions per successful call (callgrind, $n calls, garbage collector off, $(go version | cut -d' ' -f3))"
echo
echo "| library | instructions | × hand-loop |"
echo "|---|---:|---:|"
for row in "${rows[@]}"; do
  awk -v l="${row%:*}" -v c="${row##*:}" -v h="$hand" 'BEGIN { printf "| %s | %d | %.2f× |\n", l, c, c / h }'
done
