#!/usr/bin/env bash
# Runs every test of every module in the repository under the race detector:
# the core module, then each nested module (examples/, bench/) that exists.
set -euo pipefail
cd "$(dirname "$0")/.."
for m in $(git ls-files 'go.mod' '*/go.mod' 2>/dev/null | xargs -n1 dirname | sort); do
  echo "-- go test -race ./... in $m"
  go -C "$m" test -race -count=1 ./...
done
