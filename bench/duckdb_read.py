"""DuckDB's plain read of a drop's NDJSON and CSV files, the comparator of bench/ingest.sh.

For each resource type (and each CSV kind) DuckDB reads every file of that kind with
read_ndjson / read_csv and hashes every row (`bit_xor(hash(t))`), so that every field of every
record is parsed; nothing is validated, linked or written. Prints one JSON object with the
seconds taken and the bytes and records read.
"""
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import duckdb

drop = Path(sys.argv[1])
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
manifest = json.loads((drop / "manifest.json").read_text())
groups = defaultdict(list)
for f in manifest["files"]:
    groups[(f["format"], f["resource_type"])].append(str(drop / f["path"]))

con = duckdb.connect()
con.execute(f"SET threads = {threads}")
con.execute("SET preserve_insertion_order = false")
started = time.perf_counter()
records = 0
for (fmt, kind), files in sorted(groups.items()):
    if fmt == "fhir-ndjson":
        source = "read_ndjson($files, union_by_name = true, maximum_object_size = 16777216, sample_size = -1)"
    else:
        source = "read_csv($files, union_by_name = true, all_varchar = true)"
    n, _ = con.execute(f"SELECT count(*), bit_xor(hash(t)) FROM {source} t", {"files": files}).fetchone()
    records += n
seconds = time.perf_counter() - started
size = sum(f["bytes"] for f in manifest["files"])
print(json.dumps({"seconds": seconds, "records": records, "bytes": size, "duckdb": duckdb.__version__, "threads": threads}))
