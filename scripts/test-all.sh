#!/usr/bin/env bash
# Runs the given make targets in order, each to completion even when an earlier one failed, so
# one run shows every problem; then prints a summary and exits non-zero if any target failed.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

MAKE_CMD=${MAKE:-make}
START=$(date +%s)
RESULTS=()
FAILED=0

for target in "$@"; do
  printf '\n=== make %s ===\n' "$target"
  t0=$(date +%s)
  if "$MAKE_CMD" --no-print-directory "$target"; then
    status=PASS
  else
    status=FAIL
    FAILED=$((FAILED + 1))
  fi
  RESULTS+=("$(printf '%-14s %s %5d s' "$target" "$status" $(($(date +%s) - t0)))")
done

printf '\n=== summary ===\n'
for line in "${RESULTS[@]}"; do printf '  %s\n' "$line"; done
printf '  total %d s\n' $(($(date +%s) - START))
if [ "$FAILED" -gt 0 ]; then
  printf 'make test: FAILED (%d of %d steps)\n' "$FAILED" "$#"
else
  printf 'make test: OK\n'
fi
# The plain closing line CI reads: steps, each of which is a whole suite.
printf 'steps: %d passed, %d failed\n' $(($# - FAILED)) "$FAILED"
[ "$FAILED" -eq 0 ]
