#!/usr/bin/env bash
# Benchmark: the whole outcome framework's catalogue as profiles (`phm profiles`) end to end on a
# store: engine passes, statistics, SII/RII, disclosure control and benchmarking, trends with SPC
# and the population pyramid, writing Parquet + CSV. Reports wall time and peak memory per run,
# without trends (`--trend-points 0`) and with the default trends (24 monthly points).
#
# Usage: bench/profiles.sh STORE [RUNS]   (e.g. a 1.1M-person store from `phm synth` + `phm ingest`)
# Environment: PHM=path/to/phm uses that binary instead of building target/release/phm;
# TREND_POINTS=N benchmarks N trend points instead of the default.
set -euo pipefail
cd "$(dirname "$0")/.."
store="${1:?usage: bench/profiles.sh STORE [RUNS]}"
runs="${2:-3}"
if [ -z "${PHM:-}" ]; then
  cargo build --release --locked -p phm >&2
  PHM=./target/release/phm
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
people=$(python3 -c "import json,sys; m=json.load(open(sys.argv[1]+'/current/manifest.json')); print(sum(d['rows'] for d in m['derived'] if d['table']=='person'))" "$store" 2>/dev/null || echo "?")
echo "store: $store (person rows: $people); runs: $runs"
for trends in 0 "${TREND_POINTS:-24}"; do
  for i in $(seq "$runs"); do
    rm -rf "$work/out"
    /usr/bin/time -f "%e %M" -o "$work/t" "$PHM" profiles --store "$store" --out "$work/out" --trend-points "$trends" --quiet > "$work/stdout" 2>&1 || { cat "$work/stdout" >&2; exit 1; }
    read -r secs kib < "$work/t"
    printf 'trend points %s, run %d: %.2f s, peak %.0f MiB\n' "$trends" "$i" "$secs" "$(echo "$kib / 1024" | bc -l)"
  done
  head -1 "$work/stdout"
  tail -1 "$work/stdout"
done
