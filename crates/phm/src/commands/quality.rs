//! `phm quality`.

use std::time::Instant;

use anyhow::Context;
use phm_store::Store;

use crate::cli::QualityArgs;

pub fn run(args: &QualityArgs) -> anyhow::Result<()> {
    let store =
        Store::open(&args.store).with_context(|| format!("Failed to open the store `{}`", args.store.display()))?;
    let snapshot = match args.snapshot {
        Some(id) => store.snapshot(id)?,
        None => store.latest()?.with_context(|| {
            format!("The store `{}` has no snapshot yet: load one with `phm ingest`", args.store.display())
        })?,
    };
    let started = Instant::now();
    let report = phm_quality::assess(&snapshot)
        .with_context(|| format!("Failed to assess snapshot {} of `{}`", snapshot.id(), args.store.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    if let Some(path) = &args.json {
        let json = serde_json::to_vec_pretty(&report)?;
        std::fs::write(path, json).with_context(|| format!("Failed to write the report to `{}`", path.display()))?;
    }
    if let Some(path) = &args.csv {
        std::fs::write(path, report.to_csv())
            .with_context(|| format!("Failed to write the report to `{}`", path.display()))?;
    }
    let mut text = report.summary();
    text += &format!("\nAssessed in {seconds:.1} s.");
    if let Some(peak) = super::peak_memory_mib() {
        text += &format!(" Peak memory {peak:.0} MiB.");
    }
    text.push('\n');
    for (what, path) in [("JSON", &args.json), ("CSV", &args.csv)] {
        if let Some(path) = path {
            text += &format!("{what}: {}\n", path.display());
        }
    }
    if args.json.is_none() && args.csv.is_none() {
        text += "Every result, with its description: --csv FILE or --json FILE.\n";
    }
    super::print(&text);
    Ok(())
}
