#!/usr/bin/env bash
# Runs the whole test suite and ends with the plain line "N passed, N failed" that CI reads.
set -uo pipefail
cd "$(dirname "$0")/.."
# The distributed tests run two ranks under OpenMPI's mpirun: install it when missing and root (CI is).
if ! command -v mpirun >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing openmpi-bin (the distributed tests run 2 ranks under mpirun)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q openmpi-bin >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q openmpi-bin >/dev/null; } \
      || echo "could not install openmpi-bin; the distributed tests will fail"
  else
    echo "the distributed tests need OpenMPI: sudo apt-get install openmpi-bin"
  fi
fi
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
