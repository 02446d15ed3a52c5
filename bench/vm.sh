#!/usr/bin/env bash
# bench/vm.sh: the VM engine's startup and memory against the raw KVM
# floor, in the same run (bench/bench_vm.c).  BENCH_RUNS: runs of the fast
# columns (default 30); BENCH_LINUX_RUNS: boots of the Linux guest per
# backend (default 3).
set -uo pipefail
cd "$(dirname "$0")/.."
exec build/bench/bench_vm --runs "${BENCH_RUNS:-30}" --linux-runs "${BENCH_LINUX_RUNS:-3}"
