#!/usr/bin/env bash
# Longer crash-safety soak: runs the SIGKILL crash suite (tests/crash.rs) round after round with
# fresh seeds and more trials than CI does. Stops at the first failure and prints the seed;
# reproduce with:  HOZON_CRASH_SEED=<seed> HOZON_CRASH_TRIALS=<n> cargo test --test crash
#
# Usage: tests/support/crash_soak.sh [ROUNDS] [TRIALS_PER_ROUND]   (defaults: 10 rounds × 200)
set -uo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-10}
trials=${2:-200}
cargo test --test crash --no-run || exit 2
log=$(mktemp)
total=0
for ((r = 1; r <= rounds; r++)); do
  seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
  echo "== round $r/$rounds: seed $seed, $trials trials"
  HOZON_CRASH_SEED=$seed HOZON_CRASH_TRIALS=$trials \
    cargo test --test crash -- --nocapture --test-threads 1 >"$log" 2>&1
  status=$?
  grep -E "crash:|SKIP|test result" "$log"
  if [ $status -ne 0 ]; then
    grep -E "panicked|trial [0-9]+" "$log" | head -20
    echo "crash soak: FAILED in round $r (seed $seed); full log: $log"
    exit 1
  fi
  total=$((total + trials))
done
rm -f "$log"
echo "crash soak: $total trials passed"
