#!/usr/bin/env bash
# bench/container.sh: container start-to-READY, vlab's runtime against crun,
# runc and bwrap on the same image and agent (bench/bench_container.c).
# Options go to it: --runs N, --warmup N, --versus VLAB (another build of
# vlab, interleaved: an A/B of a change to the runtime).
set -uo pipefail
cd "$(dirname "$0")/.."
exec build/bench/bench_container --runs "${BENCH_RUNS:-100}" "$@"
