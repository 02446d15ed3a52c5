#!/usr/bin/env bash
# bench/unikernel.sh: unikernel start-to-READY against the raw KVM floor,
# the host agent and the container (bench/bench_unikernel.c), with the
# image size and the memory at READY.
set -uo pipefail
cd "$(dirname "$0")/.."
exec build/bench/bench_unikernel --runs "${BENCH_RUNS:-100}"
