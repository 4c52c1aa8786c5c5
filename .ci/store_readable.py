"""The store is plain Parquet: DuckDB (no OpenPHM) reads the current snapshot and finds the
row counts its manifest declares, and no identifying table in the analytical folder."""
import json
import sys
from pathlib import Path

import duckdb

store = Path(sys.argv[1])
current = store / "current"
manifest = json.loads((current / "manifest.json").read_text())
expected = {}
for f in [f for s in manifest["sources"].values() for f in s["files"]] + manifest["derived"]:
    if f["tree"] == "analytical":
        expected[f["table"]] = expected.get(f["table"], 0) + f["rows"]
folders = sorted(p.name for p in current.iterdir() if p.is_dir())
assert sorted(expected) == folders, (sorted(expected), folders)
assert "identity" not in folders and "quarantine" not in folders, folders
con = duckdb.connect()
for table, rows in sorted(expected.items()):
    n = con.execute(f"SELECT count(*) FROM read_parquet('{current}/{table}/*.parquet')").fetchone()[0]
    assert n == rows, f"{table}: DuckDB reads {n} rows, the manifest says {rows}"
    print(f"  {table:<18} {n:>10} rows (DuckDB)")
people = con.execute(f"SELECT count(*), count(DISTINCT person_id) FROM read_parquet('{current}/person/*.parquet')").fetchone()
assert people[0] == people[1], people
print(f"store {store}: snapshot {manifest['snapshot']} read by DuckDB {duckdb.__version__}, counts match the manifest")
