#!/usr/bin/env bash
# Query engine speed (issue 5): the example indicator set with all its breakdowns
# (definitions/indicators/catalogue.phm) by `phm run`, side by side with hand-written DuckDB
# SQL over the same Parquet files (bench/catalogue.sql via bench/catalogue_duckdb.py). The two
# CSVs must agree exactly (same rows; equal numerator and denominator on every row).
# Target: OpenPHM time <= 1.0x DuckDB's; OpenPHM peak memory <= 4 GiB.
#
#   bench/engine.sh [STORE]     (default data/bench-store, made by bench/ingest.sh)
#
# Environment: PHM=path/to/phm uses that binary instead of building target/release/phm;
# THREADS (default 2) cores for both (pinned with taskset when the machine has more);
# RUNS (default 1) runs of each, best time and highest peak reported.
set -euo pipefail
cd "$(dirname "$0")/.."
store="${1:-data/bench-store}"
threads="${THREADS:-2}"
runs="${RUNS:-1}"
. bench/engine-common.sh
python3 -m venv .ci/.venv-bench
.ci/.venv-bench/bin/pip install --quiet --disable-pip-version-check 'duckdb==2.0.1'

work="$(mktemp -d /tmp/phm-engine-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# Same page cache state for both: read everything once first.
cat codelists/*.csv reference/*.csv > /dev/null

best() { # best time and highest peak over the runs: "seconds kib"
  sort -n "$1" | awk 'NR == 1 { s = $1 } { if ($2 > m) m = $2 } END { print s, m }'
}
: > "$work/phm-times"
: > "$work/duck-times"
for _ in $(seq "$runs"); do
  rm -rf "$work/phm-out"
  /usr/bin/time -f "%e %M" -o "$work/t" "${pin[@]}" "$PHM" run --store "$store" --out "$work/phm-out" --policy bench/unsuppressed.toml:unsuppressed \
    definitions/indicators/catalogue.phm > "$work/phm-run.txt" 2>&1 || { cat "$work/phm-run.txt" >&2; exit 1; }
  cat "$work/t" >> "$work/phm-times"
  /usr/bin/time -f "%e %M" -o "$work/t" "${pin[@]}" .ci/.venv-bench/bin/python bench/catalogue_duckdb.py \
    "$store" "$work/duckdb.csv" "$threads" > "$work/duck.json"
  cat "$work/t" >> "$work/duck-times"
done
read -r phm_seconds phm_kib < <(best "$work/phm-times")
read -r duck_seconds duck_kib < <(best "$work/duck-times")

python3 - "$work/phm-out/catalogue/indicators.csv" "$work/duckdb.csv" "$phm_seconds" "$phm_kib" \
  "$duck_seconds" "$duck_kib" "$(cat "$work/duck.json")" "$store" "$threads" "$runs" <<'PY'
import csv, json, sys
from collections import Counter

phm_csv, duck_csv = sys.argv[1], sys.argv[2]
phm_s, phm_kib, duck_s, duck_kib = float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
duck, store, threads, runs = json.loads(sys.argv[7]), sys.argv[8], sys.argv[9], sys.argv[10]

def load(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    out = {}
    for r in rows:
        key = (r["indicator"], r["index_date"], r["breakdown"], r["category"])
        if key in out:
            raise SystemExit(f"{path}: row {key} twice")
        out[key] = r
    return out

def number(v):
    return float(v) if v != "" else None

a, b = load(phm_csv), load(duck_csv)
problems = []
for key in sorted(a.keys() - b.keys()):
    problems.append((key, "only in OpenPHM", a[key]["numerator"], a[key]["denominator"]))
for key in sorted(b.keys() - a.keys()):
    problems.append((key, "only in DuckDB", b[key]["numerator"], b[key]["denominator"]))
for key in sorted(a.keys() & b.keys()):
    x, y = a[key], b[key]
    if (int(x["numerator"]), int(x["denominator"])) != (int(y["numerator"]), int(y["denominator"])):
        problems.append((key, "differs", f"{x['numerator']}/{x['denominator']}", f"{y['numerator']}/{y['denominator']}"))
    elif x["method"] != y["method"] or number(x["value"]) != number(y["value"]):
        problems.append((key, "value or method differs", f"{x['value']} {x['method']}", f"{y['value']} {y['method']}"))

print(f"store: {store}; {threads} threads; best of {runs} run(s)")
print(f"rows compared: {len(a.keys() | b.keys()):,} (OpenPHM {len(a):,}, DuckDB {len(b):,}); mismatches: {len(problems):,}")
if problems:
    for ind, n in sorted(Counter(p[0][0] for p in problems).items()):
        print(f"  {ind}: {n:,} rows")
    for key, what, x, y in problems[:10]:
        print(f"  {what}: {'/'.join(key)}  OpenPHM {x}  DuckDB {y}")
print(f"OpenPHM phm run (catalogue, 13 indicators, all breakdowns): {phm_s:7.2f} s  peak {phm_kib / 1024:,.0f} MiB")
print(f"DuckDB {duck['duckdb']} hand-written SQL (process; query {duck['seconds']:.2f} s): {duck_s:7.2f} s  peak {duck_kib / 1024:,.0f} MiB")
ratio = phm_s / duck_s
print(f"ratio (OpenPHM time / DuckDB time): {ratio:.2f}  (target <= 1.00: {'met' if ratio <= 1.0 else 'NOT met'})")
print(f"OpenPHM peak memory <= 4 GiB: {'met' if phm_kib <= 4 * 1024 * 1024 else 'NOT met'}")
if problems:
    sys.exit(1)
PY
