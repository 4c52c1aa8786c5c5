//! `phm profiles` end to end on a small synthetic BLMK drop: every area is there, and every
//! figure written obeys the disclosure policy it was released under. The scan reads the CSV
//! back, so it checks what a reader gets, not what the code meant to write.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use phm_disclosure::{Policy, PublishedTable, audit_published};

fn phm(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_phm")).args(args).current_dir(repo("")).output().expect("phm runs");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn repo(rel: &str) -> String {
    format!("{}/../../{rel}", env!("CARGO_MANIFEST_DIR"))
}

type Row = BTreeMap<String, String>;

fn read(path: &str) -> Vec<Row> {
    let mut r = csv::Reader::from_path(path).expect("profiles.csv exists");
    let headers = r.headers().expect("headers").clone();
    r.records().map(|rec| headers.iter().zip(rec.expect("a record").iter()).map(|(h, v)| (h.to_owned(), v.to_owned())).collect()).collect()
}

fn count(row: &Row, col: &str) -> Option<u64> {
    let v = &row[col];
    if v.is_empty() { None } else { Some(v.parse().unwrap_or_else(|_| panic!("{col} = {v:?} is not a count"))) }
}

fn number(row: &Row, col: &str) -> Option<f64> {
    let v = &row[col];
    if v.is_empty() { None } else { Some(v.parse().unwrap_or_else(|_| panic!("{col} = {v:?} is not a number"))) }
}

/// The published figures of one indicator, with the groups a reader could subtract, for
/// `phm_disclosure::audit_published`.
fn published(rows: &[&Row]) -> PublishedTable<String> {
    let derived = ["value", "lower_95", "upper_95", "lower_99_8", "upper_99_8"];
    let mut t = PublishedTable::new(&["numerator", "denominator"], &derived).expect("table");
    if rows.first().is_some_and(|r| r["method"] == "proportion") {
        t.proportion("numerator", "denominator").expect("proportion");
    }
    let key = |r: &Row| format!("{} {} {} {}={}", r["period"], r["area_type"], r["area_code"], r["breakdown"], r["category"]);
    let mut index = BTreeMap::new();
    for r in rows {
        let i = t.push(key(r), &[count(r, "numerator"), count(r, "denominator")], &derived.map(|d| number(r, d))).expect("push");
        index.insert(key(r), i);
    }
    // An area's categories add up to its `all` row; places and neighbourhoods to the ICS.
    let mut by_area: BTreeMap<(String, String, String, String), Vec<usize>> = BTreeMap::new();
    let mut by_category: BTreeMap<(String, String, String, String), Vec<usize>> = BTreeMap::new();
    let ics = rows.iter().find(|r| r["area_type"] == "ics").map(|r| r["area_code"].clone()).expect("an ICS row");
    for r in rows {
        let i = index[&key(r)];
        if r["breakdown"] != "all" {
            by_area.entry((r["period"].clone(), r["area_type"].clone(), r["area_code"].clone(), r["breakdown"].clone())).or_default().push(i);
        }
        if r["area_type"] != "ics" {
            by_category.entry((r["period"].clone(), r["area_type"].clone(), r["breakdown"].clone(), r["category"].clone())).or_default().push(i);
        }
    }
    for ((period, area_type, area, _), parts) in by_area {
        if let Some(&total) = index.get(&format!("{period} {area_type} {area} all=all")) {
            t.group(total, &parts).expect("group");
        }
    }
    for ((period, _, breakdown, category), parts) in by_category {
        if let Some(&total) = index.get(&format!("{period} ics {ics} {breakdown}={category}")) {
            t.group(total, &parts).expect("group");
        }
    }
    t
}

#[test]
fn profiles_cover_every_area_and_every_figure_obeys_its_policy() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let t = tmp.path().display().to_string();
    let (ok, _, err) = phm(&["synth", "--population", "3000", "--seed", "11", "--out", &format!("{t}/drop"), "--quiet"]);
    assert!(ok, "{err}");
    let store = format!("{t}/store");
    let (ok, _, err) = phm(&["ingest", "--store", &store, "--manifest", &format!("{t}/drop/manifest.json"), "--quiet"]);
    assert!(ok, "{err}");

    for policy in ["public", "analyst"] {
        let out = format!("{t}/profiles-{policy}");
        let (ok, stdout, err) = phm(&["profiles", "--store", &store, "--out", &out, "--policy", policy, "--quiet"]);
        assert!(ok, "{err}");
        assert!(stdout.contains(&format!("Policy `{policy}`")), "{stdout}");
        let rows = read(&format!("{out}/profiles.csv"));

        // The ICS, its four places and neighbourhoods in every place.
        let areas: BTreeSet<(&str, &str)> = rows.iter().map(|r| (r["area_type"].as_str(), r["area_code"].as_str())).collect();
        assert!(areas.contains(&("ics", "E54000024")));
        for place in ["E06000055", "E06000056", "E06000032", "E06000042"] {
            assert!(areas.contains(&("place", place)), "{place} missing");
        }
        assert!(areas.iter().filter(|(t, _)| *t == "neighbourhood").count() >= 20);

        // Every figure obeys the policy, read back from the file.
        let policy = Policy::builtin(policy).expect("policy");
        let mut by_indicator: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
        for r in &rows {
            by_indicator.entry(r["indicator"].as_str()).or_default().push(r);
        }
        assert!(by_indicator.len() >= 30, "{} indicators", by_indicator.len());
        for (name, rows) in &by_indicator {
            let violations = audit_published(&policy, &published(rows));
            assert!(violations.is_empty(), "{name}: {}", violations.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"));
        }
        // And a value is never shown beside a withheld count.
        for r in &rows {
            if r["numerator"].is_empty() || r["denominator"].is_empty() {
                assert!(r["value"].is_empty() && r["lower_95"].is_empty(), "a value beside a suppressed count: {r:?}");
            }
        }
    }
}
