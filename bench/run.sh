#!/usr/bin/env bash
# Side-by-side benchmarks of retry libraries, as the README reports them.
#
#   bash bench/run.sh            # COUNT=6 interleaved runs (about 10 minutes)
#   COUNT=10 bash bench/run.sh
#
# It first checks that every library really makes 3 calls and waits 1s then
# 2s (TestPeers, on synctest's fake clock), then runs each benchmark COUNT
# times, interleaving the libraries so that a noisy moment hurts them all
# alike. BenchmarkParked runs in a fresh process per library, because the
# runtime sizes new goroutine stacks from what it has seen before. benchstat
# takes the medians; cmd/benchtable prints them with ratios to the
# hand-written loop of the same run. With valgrind installed, instr.sh also
# counts instructions per successful call, which no noise can move, and
# cmd/stackroom measures how much stack a parked call needs (the main part of
# BenchmarkParked's memory). Outputs go to bench/results/.
set -euo pipefail
cd "$(dirname "$0")"
count=${COUNT:-6}
out=results
mkdir -p "$out"

go test -count=1 -run 'TestPeers|TestReused' -v . > "$out/peers.txt"
go test -c -o "$out/bench.test" .

libs=$(grep -o 'Name: *"[a-z0-9-]*"' peers.go | sed 's/.*"\(.*\)"/\1/' | grep -v bare-call)
: > "$out/raw.txt"
for i in $(seq "$count"); do
  echo "run $i/$count" >&2
  "$out/bench.test" -test.run '^$' -test.bench 'Success|Retry|FakeClock' -test.benchmem >> "$out/raw.txt"
  for lib in $libs; do
    "$out/bench.test" -test.run '^$' -test.bench "Parked/lib=${lib}\$" -test.benchtime 3x >> "$out/raw.txt"
  done
done

go tool benchstat "$out/raw.txt" > "$out/benchstat.txt"
{
  echo "go test -bench, $count interleaved runs, medians by benchstat; $(go version | cut -d' ' -f3), $(nproc) cores, $(date -u +%Y-%m-%d)"
  go tool benchstat -format csv "$out/raw.txt" 2>/dev/null | go run ./cmd/benchtable
} > "$out/table.md"
sed 's/^ *//' "$out/peers.txt" | grep '^|' > "$out/peers.md"
go run ./cmd/stackroom > "$out/stackroom.md"
if command -v valgrind >/dev/null; then
  bash instr.sh > "$out/instr.md"
else
  echo "valgrind not installed: skipping the instruction counts (apt-get install valgrind)" >&2
fi
cat "$out/table.md"
echo
[ -f "$out/instr.md" ] && cat "$out/instr.md" && echo
cat "$out/stackroom.md"
echo
cat "$out/peers.md"
