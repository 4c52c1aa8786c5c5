//! The store's promises: snapshots are immutable and complete, commits are atomic, one writer
//! at a time, and leftovers of a dead writer are discarded.

use std::fs;

use chrono::NaiveDate;
use phm_core::schema::REGISTRATION;
use phm_store::{BatchBuilder, Error, SourceEntry, Store, Tree};

fn entry() -> SourceEntry {
    SourceEntry {
        loaded_in: 0,
        loaded_at: String::new(),
        extract_date: Some("2026-09-30".into()),
        fingerprint: "f".into(),
        details: serde_json::Value::Null,
        files: Vec::new(),
    }
}

fn write_source(store: &Store, source: &str, rows: usize) -> u64 {
    let mut tx = store.begin().expect("begin");
    tx.replace_source(source, entry());
    let mut w = tx.create_parquet(Tree::Analytical, &REGISTRATION, source).expect("file");
    let mut b = BatchBuilder::new(&REGISTRATION);
    for i in 0..rows {
        b.push_text(Some(&format!("p{i}")))
            .push_text(Some("SYNGP001"))
            .push_date(NaiveDate::from_ymd_opt(2020, 1, 1))
            .push_date(None)
            .push_text(Some(source))
            .end_row();
    }
    w.write(&b.finish().expect("batch")).expect("write");
    let e = w.finish().expect("finish");
    tx.add_file(Some(source), e);
    tx.commit("test", serde_json::Value::Null).expect("commit")
}

#[test]
fn each_commit_makes_a_complete_snapshot_and_old_ones_stay_readable() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open_or_create(&dir.path().join("s"), "key1").expect("create");
    assert!(store.latest().expect("latest").is_none());
    assert_eq!(write_source(&store, "a", 3), 1);
    assert_eq!(write_source(&store, "b", 5), 2);
    assert_eq!(write_source(&store, "a", 7), 3);
    let rows = |id: u64| store.snapshot(id).expect("snap").manifest().rows(Tree::Analytical, "registration");
    assert_eq!((rows(1), rows(2), rows(3)), (3, 8, 12));
    // Snapshot 3 reads back in full, and carried-forward files share their bytes (hard links).
    let s3 = store.snapshot(3).expect("3");
    let read: usize = s3.read_table(Tree::Analytical, "registration").expect("read").iter().map(|b| b.num_rows()).sum();
    assert_eq!(read, 12);
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        let b2 = store
            .snapshot(2)
            .expect("2")
            .files(Tree::Analytical, "registration")
            .into_iter()
            .find(|(_, f)| f.name.starts_with("b."))
            .expect("b in 2")
            .0;
        let b3 = s3
            .files(Tree::Analytical, "registration")
            .into_iter()
            .find(|(_, f)| f.name.starts_with("b."))
            .expect("b in 3")
            .0;
        assert_eq!(fs::metadata(b2).expect("m").ino(), fs::metadata(b3).expect("m").ino());
    }
    let e = store.snapshot(9).expect_err("no snapshot 9").to_string();
    assert!(e.contains("there is no snapshot 9 (latest is 3)"), "{e}");
}

#[test]
fn a_transaction_that_is_not_committed_leaves_no_trace() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open_or_create(&dir.path().join("s"), "key1").expect("create");
    write_source(&store, "a", 1);
    {
        let mut tx = store.begin().expect("begin");
        tx.replace_source("a", entry());
        let w = tx.create_parquet(Tree::Analytical, &REGISTRATION, "a").expect("file");
        drop(w);
    }
    assert_eq!(store.snapshot_ids().expect("ids"), vec![1]);
    assert!(fs::read_dir(dir.path().join("s/staging")).expect("staging").next().is_none());
}

#[test]
fn what_a_dead_writer_left_is_discarded_by_the_next_one() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = dir.path().join("s");
    let store = Store::open_or_create(&root, "key1").expect("create");
    write_source(&store, "a", 1);
    // A writer died after renaming its restricted folder but before its commit rename, and
    // another left half-written staging files.
    fs::create_dir_all(root.join("restricted/000002/identity")).expect("orphan");
    fs::create_dir_all(root.join("staging/000002/snapshot/condition")).expect("staging");
    fs::write(root.join("staging/000002/snapshot/condition/x.parquet"), b"PAR1 half").expect("junk");
    assert_eq!(store.latest().expect("latest").map(|s| s.id()), Some(1));
    assert_eq!(write_source(&store, "b", 1), 2);
    assert!(!root.join("restricted/000002/identity").exists(), "the orphan was not discarded");
    assert!(fs::read_dir(root.join("staging")).expect("staging").next().is_none());
}

#[test]
fn one_writer_at_a_time() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open_or_create(&dir.path().join("s"), "key1").expect("create");
    let _tx = store.begin().expect("first writer");
    match store.begin() {
        Err(Error::Busy { .. }) => {}
        Err(e) => panic!("expected Busy, got {e}"),
        Ok(_) => panic!("a second writer got in"),
    }
}

#[test]
fn a_store_refuses_another_key_and_a_folder_that_is_not_a_store() {
    let dir = tempfile::tempdir().expect("tmp");
    Store::open_or_create(&dir.path().join("s"), "key1").expect("create");
    let e = Store::open_or_create(&dir.path().join("s"), "key2").expect_err("other key").to_string();
    assert!(e.contains("made with key key1") && e.contains("key2"), "{e}");
    fs::create_dir_all(dir.path().join("other")).expect("dir");
    fs::write(dir.path().join("other/notes.txt"), "x").expect("file");
    let e = Store::open_or_create(&dir.path().join("other"), "key1").expect_err("not a store").to_string();
    assert!(e.contains("is not an OpenPHM store"), "{e}");
}
