"""The example indicator set in hand-written DuckDB SQL (bench/catalogue.sql), the comparator
of bench/engine.sh.

    catalogue_duckdb.py STORE OUT_CSV [THREADS] [INDEX_DATE]

Reads the latest snapshot's Parquet files (STORE/current/<table>/*.parquet), the reference
CSVs and the codelists, writes the same rows as `phm run` (indicator, index_date, breakdown,
category, numerator, denominator, value, method) to OUT_CSV and prints one JSON object with
the seconds taken.
"""
import json
import sys
import time
from pathlib import Path

import duckdb

root = Path(__file__).resolve().parent.parent
store = Path(sys.argv[1]).resolve()
out = Path(sys.argv[2]).resolve()
threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
index_date = sys.argv[4] if len(sys.argv) > 4 else "2026-03-31"

started = time.perf_counter()
con = duckdb.connect()
con.execute(f"SET threads = {threads}")
con.execute("SET preserve_insertion_order = false")
con.execute("SET VARIABLE snapshot = ?", [str(store / "current")])
con.execute("SET VARIABLE reference = ?", [str(root / "reference")])
con.execute("SET VARIABLE codelists = ?", [str(root / "codelists")])
con.execute(f"SET VARIABLE index_date = DATE '{index_date}'")
con.execute((root / "bench" / "catalogue.sql").read_text())
con.execute(f"COPY result TO '{out}' (HEADER, DELIMITER ',', DATEFORMAT '%Y-%m-%d')")
rows = con.execute("SELECT count(*) FROM result").fetchone()[0]
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "rows": rows, "duckdb": duckdb.__version__, "threads": threads}))
