//! The synthetic population goes through ingest like a partner's extracts: nothing is
//! quarantined, every count reconciles, reloading is idempotent and a newer extract supersedes.

mod common;

use std::fs;

use phm_ingest::sources_from_manifest;
use phm_store::Tree;

#[test]
fn a_synthetic_drop_loads_with_nothing_quarantined_and_counts_that_reconcile() {
    let drop = common::drop_dir(1500, 11);
    let dir = tempfile::tempdir().expect("tmp");
    let store = common::store(&dir.path().join("store"));
    let sources = sources_from_manifest(&drop.join("manifest.json")).expect("manifest");
    let report = common::ingest(&store, &sources);
    let (read, accepted, rejected) = report.totals();
    assert!(report.reconciles());
    assert_eq!(rejected, 0, "quarantined: {:?}", common::quarantine(&store).iter().take(5).collect::<Vec<_>>());
    assert_eq!(read, accepted);
    let manifest = phm_formats::manifest::Manifest::read(&drop.join("manifest.json")).expect("manifest");
    assert_eq!(read, manifest.total_records(), "every record the manifest declares is read");
    for f in report.files() {
        assert_eq!(f.declared, Some(f.read), "{}", f.path);
    }
    // One person per simulated person, all linked, the opt-out list applied.
    let snap = store.latest().expect("read").expect("snapshot 1");
    let people = snap.manifest().rows(Tree::Analytical, "person");
    let simulated = manifest.parameters["people_simulated"].as_u64().expect("people_simulated");
    assert_eq!(people, simulated);
    let opt_outs = manifest.files.iter().find(|f| f.format == "opt-out-csv").map(|f| f.records).expect("opt-out list");
    assert_eq!(report.linkage["opted_out"].as_u64(), Some(opt_outs));
    assert_eq!(report.linkage["opt_outs_unmatched"].as_u64(), Some(0));
    assert_eq!(report.linkage["without_gp_record"].as_u64(), Some(0));
    // Identifying fields are only in the restricted tree.
    assert!(snap.files(Tree::Analytical, "identity").is_empty());
    assert!(!snap.files(Tree::Restricted, "identity").is_empty());
    for entry in fs::read_dir(snap.dir()).expect("snapshot dir") {
        let name = entry.expect("entry").file_name().to_string_lossy().into_owned();
        assert!(!["identity", "quarantine"].contains(&name.as_str()), "{name} in the analytical snapshot");
    }
    // Row counts in the manifest match the Parquet files.
    for table in ["condition", "observation", "encounter", "registration", "person_source"] {
        let rows: usize = snap.read_table(Tree::Analytical, table).expect("read").iter().map(|b| b.num_rows()).sum();
        assert_eq!(rows as u64, snap.manifest().rows(Tree::Analytical, table), "{table}");
        assert!(rows > 0, "{table}");
    }

    // Reloading the same drop changes nothing.
    let again = common::ingest(&store, &sources);
    assert_eq!(again.snapshot, None);
    assert!(again.sources.iter().all(|s| s.outcome.starts_with("unchanged")));
    assert_eq!(store.snapshot_ids().expect("ids"), vec![1]);
}

#[test]
fn a_newer_extract_supersedes_its_source_and_an_older_one_is_refused() {
    let drop = common::drop_dir(1500, 11);
    let dir = tempfile::tempdir().expect("tmp");
    let store = common::store(&dir.path().join("store"));
    let mut sources = sources_from_manifest(&drop.join("manifest.json")).expect("manifest");
    common::ingest(&store, &sources);
    let before = store.latest().expect("read").expect("snapshot");
    let conditions_before = before.manifest().rows(Tree::Analytical, "condition");

    // The same practice sends a newer extract with its first condition removed.
    let gp = sources.iter_mut().find(|s| s.name.starts_with("gp-")).expect("a GP source");
    let original = gp.clone();
    let newer = dir.path().join("newer");
    fs::create_dir_all(&newer).expect("dir");
    for f in &mut gp.files {
        let to = newer.join(f.path.file_name().expect("name"));
        let text = fs::read_to_string(&f.path).expect("read");
        let text = if f.resource_type.as_deref() == Some("Condition") {
            text.lines().skip(1).map(|l| format!("{l}\n")).collect()
        } else {
            text
        };
        fs::write(&to, text).expect("write");
        if f.resource_type.as_deref() == Some("Condition") {
            f.declared = f.declared.map(|n| n - 1);
        }
        f.path = to;
    }
    gp.extract_date = gp.extract_date.and_then(|d| d.succ_opt());
    let report = common::ingest(&store, &[gp.clone()]);
    assert_eq!(report.snapshot, Some(2));
    let after = store.latest().expect("read").expect("snapshot 2");
    assert_eq!(after.manifest().rows(Tree::Analytical, "condition"), conditions_before - 1);
    // Snapshot 1 is still there, unchanged: "as at" reads reproduce old results.
    let old = store.snapshot(1).expect("snapshot 1");
    assert_eq!(old.manifest().rows(Tree::Analytical, "condition"), conditions_before);
    let rows: usize = old.read_table(Tree::Analytical, "condition").expect("read").iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows as u64, conditions_before);

    // The original (older) extract is now refused for that source.
    let refused = common::ingest(&store, &[original]);
    assert_eq!(refused.snapshot, None);
    assert!(refused.sources[0].outcome.starts_with("refused"), "{}", refused.sources[0].outcome);
}

#[test]
fn a_corrupted_copy_quarantines_exactly_the_corrupted_records() {
    let drop = common::drop_dir(1500, 11);
    let dir = tempfile::tempdir().expect("tmp");
    let store = common::store(&dir.path().join("store"));
    let mut sources = sources_from_manifest(&drop.join("manifest.json")).expect("manifest");
    // Damage lines 2 and 3 of one acute Condition file: a broken line and a future date.
    let acute = sources.iter_mut().find(|s| s.name.starts_with("acute-")).expect("acute source");
    let file = acute.files.iter_mut().find(|f| f.resource_type.as_deref() == Some("Condition")).expect("conditions");
    let text = fs::read_to_string(&file.path).expect("read");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[1] = lines[1][..lines[1].len() / 2].to_owned();
    lines[2] = lines[2].replace("\"recordedDate\":\"20", "\"recordedDate\":\"29");
    let copy = dir.path().join("Condition.ndjson");
    fs::write(&copy, lines.join("\n") + "\n").expect("write");
    file.path = copy;
    let display = file.display.clone();
    let report = common::ingest(&store, &sources);
    assert!(report.reconciles());
    assert_eq!(report.totals().2, 2);
    let q = common::quarantine(&store);
    let got: Vec<(String, String, String)> = q.iter().map(|r| (r[0].clone(), r[1].clone(), r[5].clone())).collect();
    assert_eq!(
        got,
        vec![(display.clone(), "2".into(), "invalid JSON".into()), (display, "3".into(), "date in the future".into())]
    );
}
