#!/usr/bin/env bash
# Time and peak memory of generating the synthetic population (default 1.1 million people).
# Targets (issue 3): at most 2 minutes and 2 GiB on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
population="${1:-1100000}"
out="${BENCH_OUT:-data/bench-synth}"
cargo build --release -q -p phm
/usr/bin/time -v ./target/release/phm synth --population "$population" --out "$out" --quiet 2>&1 \
  | grep -E "people simulated|records|size|Elapsed|Maximum resident|Percent of CPU"
