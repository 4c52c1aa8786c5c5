#!/usr/bin/env bash
# Ingest throughput of a whole drop (default: the full 1.1 million synthetic population),
# side by side with DuckDB's plain read of the same files (bench/duckdb_read.py), as a ratio.
# Target (issue 4): OpenPHM with full validation at least 0.8x DuckDB's throughput.
#
#   bench/ingest.sh [DROP_DIR]     (default data/bench-synth, made by bench/synth.sh if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
drop="${1:-data/bench-synth}"
store="${BENCH_STORE:-data/bench-store}"
cargo build --release -q -p phm
if [ ! -f "$drop/manifest.json" ]; then
  ./target/release/phm synth --out "$drop" --quiet
fi
python3 -m venv .ci/.venv-bench
.ci/.venv-bench/bin/pip install --quiet --disable-pip-version-check 'duckdb==2.0.1'

rm -rf "$store" "$store.pseudonym-key"
# Same page cache state for both: read everything once first.
cat "$drop"/*/*/* > /dev/null 2>&1 || true
/usr/bin/time -f "%e %M" -o /tmp/phm-ingest-time ./target/release/phm ingest --store "$store" \
  --manifest "$drop/manifest.json" --quiet --report /tmp/phm-ingest-report.json > /tmp/phm-ingest-summary.txt
read -r phm_seconds phm_kib < /tmp/phm-ingest-time
duck_json="$(.ci/.venv-bench/bin/python bench/duckdb_read.py "$drop" 2)"
python3 - "$phm_seconds" "$phm_kib" "$duck_json" <<'PY'
import json, sys
phm_s, phm_kib, duck = float(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
report = json.load(open("/tmp/phm-ingest-report.json"))
read = sum(f["read"] for s in report["sources"] for f in s["files"])
rejected = sum(f["rejected"] for s in report["sources"] for f in s["files"])
mb = duck["bytes"] / 1e6
print(f"drop: {mb:,.0f} MB, {read:,} records (DuckDB counted {duck['records']:,}); quarantined {rejected:,}")
print(f"OpenPHM ingest (validate, pseudonymise, link, write Parquet): {phm_s:7.1f} s  {mb / phm_s:7.1f} MB/s  peak {phm_kib / 1024:,.0f} MiB")
print(f"DuckDB {duck['duckdb']} plain read (parse and hash every row): {duck['seconds']:7.1f} s  {mb / duck['seconds']:7.1f} MB/s")
ratio = duck["seconds"] / phm_s
print(f"ratio (OpenPHM throughput / DuckDB throughput): {ratio:.2f}  (target >= 0.80: {'met' if ratio >= 0.8 else 'NOT met'})")
PY
