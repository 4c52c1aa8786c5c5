//! Crash safety: `kill -9` of `phm ingest` at any moment leaves the previous snapshot intact
//! and readable, and the next ingest completes.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use phm_store::Store;

fn phm(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_phm")).args(args).output().expect("run phm");
    assert!(out.status.success(), "phm {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// Every file of a snapshot, read back in full, with its row count.
fn fingerprint(store: &Path, id: u64) -> Vec<(String, u64, Vec<u8>)> {
    let store = Store::open(store).expect("open");
    let snap = store.snapshot(id).expect("snapshot");
    let mut out = Vec::new();
    for f in snap.manifest().all_files() {
        let path = snap.path_of(f);
        if f.name.ends_with(".parquet") {
            let rows: usize =
                phm_store::read_parquet(&path).expect("readable Parquet").iter().map(|b| b.num_rows()).sum();
            assert_eq!(rows as u64, f.rows, "{}", path.display());
        }
        out.push((format!("{}/{}", f.table, f.name), f.rows, std::fs::read(&path).expect("read")));
    }
    out.sort();
    out
}

#[test]
fn killing_ingest_at_any_moment_leaves_the_previous_snapshot_intact() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = |n: &str| tmp.path().join(n).to_string_lossy().into_owned();
    phm(&["synth", "--population", "600", "--seed", "1", "--out", &dir("a"), "--quiet"]);
    phm(&["synth", "--population", "5000", "--seed", "2", "--out", &dir("b"), "--quiet"]);
    let store = dir("store");
    let key = dir("store.key");
    phm(&["ingest", "--store", &store, "--key", &key, "--manifest", &format!("{}/manifest.json", dir("a")), "--quiet"]);
    let before = fingerprint(Path::new(&store), 1);

    // How long a full load of drop b takes, to spread the kills over it.
    let started = Instant::now();
    phm(&[
        "ingest",
        "--store",
        &dir("scratch"),
        "--key",
        &dir("scratch.key"),
        "--manifest",
        &format!("{}/manifest.json", dir("b")),
        "--quiet",
    ]);
    let full = started.elapsed();
    let kills = 12u32;
    let mut killed = 0;
    for k in 0..kills {
        let delay = full.mul_f64(f64::from(k) / f64::from(kills)) + Duration::from_millis(5);
        let mut child = Command::new(env!("CARGO_BIN_EXE_phm"))
            .args([
                "ingest",
                "--store",
                &store,
                "--key",
                &key,
                "--manifest",
                &format!("{}/manifest.json", dir("b")),
                "--quiet",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(delay);
        if child.try_wait().expect("wait").is_some() {
            // Finished before the kill: the new snapshot is complete; start over from 1.
            break;
        }
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        killed += 1;
        let s = Store::open(Path::new(&store)).expect("store still opens");
        assert_eq!(s.snapshot_ids().expect("ids"), vec![1], "kill {k} after {delay:?} left a partial snapshot");
        assert_eq!(fingerprint(Path::new(&store), 1), before, "kill {k} after {delay:?} changed snapshot 1");
    }
    assert!(killed >= kills / 2, "only {killed} of {kills} kills landed mid-ingest");
    // The next ingest cleans up after the dead ones and commits.
    phm(&["ingest", "--store", &store, "--key", &key, "--manifest", &format!("{}/manifest.json", dir("b")), "--quiet"]);
    let s = Store::open(Path::new(&store)).expect("open");
    let ids = s.snapshot_ids().expect("ids");
    assert_eq!(ids.last(), Some(&2));
    assert_eq!(fingerprint(Path::new(&store), 1), before);
    fingerprint(Path::new(&store), 2);
    assert!(
        std::fs::read_dir(Path::new(&store).join("staging")).expect("staging").next().is_none(),
        "staging left behind"
    );
}
