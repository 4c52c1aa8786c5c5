#!/usr/bin/env python3
"""Writes the synthetic BLMK geography: areas (LSOA-level), neighbourhoods (PCNs) and GP practices.

Run from the repository root: `python3 reference/tools/make_geography.py`. It is deterministic
(fixed seed) and only needs the Python standard library. The real inputs are the count of
LSOAs per place in each national IMD 2019 decile (blmk-facts.md, from MHCLG's IoD2019 file)
and the number of practices per place; everything else is synthetic and says so in its code:
areas `SYN<place><nnn>`, PCNs `SYNPCN<place><nn>`, practices `SYNGP<nnn>`.
"""
import csv
import random

rng = random.Random(20191)

# place_code, short code, name, LSOAs by IMD decile 1..10, PCNs, practices, postcode districts
PLACES = [
    ("E06000055", "BE", "Bedford", [4, 10, 11, 12, 10, 10, 14, 13, 10, 9], 6, 17,
     ["MK40", "MK41", "MK42", "MK43", "MK44"]),
    ("E06000056", "CB", "Central Bedfordshire", [0, 3, 10, 7, 11, 14, 23, 15, 42, 32], 8, 26,
     ["LU5", "LU6", "LU7", "SG15", "SG16", "SG17", "SG18", "SG19", "MK45"]),
    ("E06000032", "LU", "Luton", [4, 29, 18, 18, 21, 7, 9, 10, 5, 0], 7, 22,
     ["LU1", "LU2", "LU3", "LU4"]),
    ("E06000042", "MK", "Milton Keynes", [8, 10, 10, 15, 13, 17, 22, 29, 18, 10], 8, 27,
     ["MK1", "MK2", "MK3", "MK4", "MK5", "MK6", "MK7", "MK8", "MK9", "MK10", "MK11",
      "MK12", "MK13", "MK14", "MK15", "MK16", "MK17", "MK19"]),
]
PCN_SUFFIXES = ["North", "South", "East", "West", "Central", "Rural", "Riverside", "Park"]
STREETS = ["Park Road", "Church Street", "Station Road", "High Street", "Victoria Road",
           "Mill Lane", "London Road", "The Green", "Castle Street", "Queens Road",
           "Manor Road", "Kings Road", "Bridge Street", "Grove Road", "Orchard Way",
           "Market Square", "Meadow Lane", "Abbey Road", "Elm Avenue", "Priory Walk"]
KINDS = ["Surgery", "Medical Centre", "Health Centre", "Medical Practice", "Family Practice"]

areas, pcns, practices = [], [], []
practice_no = 0
for place_code, short, name, deciles, n_pcn, n_practices, districts in PLACES:
    place_areas = []
    for decile, count in enumerate(deciles, start=1):
        place_areas += [decile] * count
    # Deprivation clusters in space: order areas by decile with noise, then cut into PCNs.
    keyed = sorted(place_areas, key=lambda d: d + rng.gauss(0, 1.6))
    n = len(keyed)
    bounds = [round(i * n / n_pcn) for i in range(n_pcn + 1)]
    suffixes = rng.sample(PCN_SUFFIXES, n_pcn)
    area_no = 0
    for p in range(n_pcn):
        pcn_code = f"SYNPCN{short}{p + 1:02d}"
        pcn_name = f"{name} {suffixes[p]} (synthetic)"
        pcns.append((pcn_code, pcn_name, place_code))
        district = districts[p % len(districts)]
        for decile in keyed[bounds[p]:bounds[p + 1]]:
            area_no += 1
            weight = round(rng.lognormvariate(0, 0.15), 3)
            d = districts[rng.randrange(len(districts))] if rng.random() < 0.3 else district
            areas.append((f"SYN{short}{area_no:03d}", f"{name} {area_no:03d} (synthetic)",
                          place_code, pcn_code, decile, weight, d))
    # Practices: spread over the PCNs, every PCN gets at least two.
    pcn_codes = [c for c, _, pl in pcns if pl == place_code]
    for i in range(n_practices):
        practice_no += 1
        pcn_code = pcn_codes[i % len(pcn_codes)]
        street = STREETS[rng.randrange(len(STREETS))]
        kind = KINDS[rng.randrange(len(KINDS))]
        weight = round(rng.lognormvariate(0, 0.45), 3)
        practices.append((f"SYNGP{practice_no:03d}", f"{street} {kind} (synthetic)", pcn_code,
                          place_code, weight))

def write(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)

write("reference/areas.csv",
      ["area_code", "area_name", "place_code", "pcn_code", "imd_decile", "population_weight",
       "postcode_district"], areas)
write("reference/pcns.csv", ["pcn_code", "pcn_name", "place_code"], pcns)
write("reference/practices.csv",
      ["practice_code", "practice_name", "pcn_code", "place_code", "list_size_weight"], practices)
print(f"{len(areas)} areas, {len(pcns)} PCNs, {len(practices)} practices")
