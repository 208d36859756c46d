#!/usr/bin/env bash
# Runs the whole test suite and ends with the plain line "N passed, N failed" that CI reads.
set -uo pipefail
cd "$(dirname "$0")/.."
results=$(mktemp -d)
dotnet test tests/Flame.Tests/Flame.Tests.csproj -c Release --logger "trx;LogFileName=results.trx" \
  --results-directory "$results" "$@"
status=$?
trx="$results/results.trx"
if [ -f "$trx" ]; then
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  passed=$(sed -E 's/.* passed="([0-9]+)".*/\1/' <<<"$counters")
  failed=$(sed -E 's/.* failed="([0-9]+)".*/\1/' <<<"$counters")
else
  passed=0; failed=1
fi
rm -rf "$results"
echo "${passed} passed, ${failed} failed"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ]; then exit 1; fi
