"""Validates every FHIR resource of a drop with an independent implementation.

Usage: fhir_validate.py DROP_DIR. Reads manifest.json, parses each NDJSON line with the
fhir.resources R4B model of its resource type, and checks the manifest's record counts.
Exits non-zero naming file, line and error for the first failures.
"""
import importlib
import json
import sys
from pathlib import Path

MODULES = {
    "Patient": "patient", "EpisodeOfCare": "episodeofcare", "Condition": "condition",
    "Observation": "observation", "MedicationStatement": "medicationstatement",
    "Immunization": "immunization", "Encounter": "encounter", "Procedure": "procedure",
}

def main(root: Path) -> int:
    manifest = json.loads((root / "manifest.json").read_text())
    failures, checked = [], 0
    for entry in manifest["files"]:
        if entry["format"] != "fhir-ndjson":
            continue
        name = entry["resource_type"]
        model = getattr(importlib.import_module(f"fhir.resources.R4B.{MODULES[name]}"), name)
        count = 0
        with open(root / entry["path"], encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                count += 1
                try:
                    model.model_validate_json(line)
                except Exception as error:  # noqa: BLE001 - report any validation failure
                    failures.append(f"{entry['path']}:{number}: {str(error).splitlines()[0]}")
        checked += count
        if count != entry["records"]:
            failures.append(f"{entry['path']}: manifest says {entry['records']} records, file has {count}")
    for failure in failures[:20]:
        print(failure, file=sys.stderr)
    print(f"fhir.resources R4B: {checked} resources checked, {len(failures)} failures")
    return 1 if failures else 0

if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
