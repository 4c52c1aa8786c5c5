#!/usr/bin/env bash
# Measures (issue 5): every period of a measure in one pass over the events, against the same
# measures computed one period at a time (`phm run --separate-plans`), on a store. The two
# outputs must be identical (same rows, same counts). Reports wall time and peak memory of each.
#
#   bench/measures.sh [STORE] [DEFINITIONS]   (defaults: data/bench-store, definitions/measures/trends.phm)
#
# Environment: PHM=path/to/phm uses that binary instead of building target/release/phm;
# THREADS (default 2) cores (pinned with taskset when the machine has more).
set -euo pipefail
cd "$(dirname "$0")/.."
store="${1:-data/bench-store}"
defs="${2:-definitions/measures/trends.phm}"
threads="${THREADS:-2}"
. bench/engine-common.sh
work="$(mktemp -d /tmp/phm-measures-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
name="$(basename "$defs" .phm)"
for mode in one-pass by-period; do
  flag=()
  [ "$mode" = by-period ] && flag=(--separate-plans)
  /usr/bin/time -f "%e %M" -o "$work/$mode.time" "${pin[@]}" "$PHM" run --store "$store" --out "$work/$mode" \
    --policy bench/unsuppressed.toml:unsuppressed "${flag[@]}" "$defs" > "$work/$mode.txt" 2>&1 || { cat "$work/$mode.txt" >&2; exit 1; }
  read -r secs kib < "$work/$mode.time"
  printf '%-10s %7.2f s  peak %5d MiB\n' "$mode" "$secs" "$((kib / 1024))"
done
status=0
for f in "$work/one-pass/$name"/*.csv; do
  other="$work/by-period/$name/$(basename "$f")"
  if cmp -s <(sort "$f") <(sort "$other"); then
    echo "$(basename "$f"): $(($(wc -l < "$f") - 1)) rows, identical"
  else
    echo "$(basename "$f"): DIFFERS between one pass and one period at a time" >&2
    status=1
  fi
done
exit "$status"
