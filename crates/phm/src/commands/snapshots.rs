//! `phm snapshots`.

use std::fmt::Write as _;

use phm_store::{Store, Tree};

use crate::cli::SnapshotsArgs;

pub fn run(args: &SnapshotsArgs) -> anyhow::Result<()> {
    let store = Store::open(&args.store)?;
    let ids = store.snapshot_ids()?;
    let mut text = String::new();
    if ids.is_empty() {
        text.push_str("The store has no snapshot yet.\n");
    } else {
        let _ = writeln!(
            text,
            "{:>8}  {:<20}  {:>7}  {:>7}  {:>10}  {:>12}  note",
            "snapshot", "committed (UTC)", "sources", "loaded", "people", "event rows"
        );
    }
    for id in ids {
        let snap = store.snapshot(id)?;
        let m = snap.manifest();
        let loaded = m.sources.values().filter(|s| s.loaded_in == id).count();
        let events: u64 = ["condition", "observation", "medication", "immunisation", "encounter", "procedure"]
            .iter()
            .map(|t| m.rows(Tree::Analytical, t))
            .sum();
        let _ = writeln!(
            text,
            "{id:>8}  {:<20}  {:>7}  {loaded:>7}  {:>10}  {events:>12}  {}",
            m.committed_at.replace('T', " ").trim_end_matches('Z'),
            m.sources.len(),
            m.rows(Tree::Analytical, "person"),
            m.note
        );
    }
    super::print(&text);
    Ok(())
}
