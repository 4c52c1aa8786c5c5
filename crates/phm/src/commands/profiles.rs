//! `phm profiles`: the outcome framework's indicators for the ICS, each place and each
//! neighbourhood, released under a disclosure policy, as one tidy table.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use phm_core::reference::ReferenceData;
use phm_engine::Engine;
use phm_profiles::comparators::England;
use phm_profiles::framework::Framework;
use phm_profiles::profile::{Definition, Ics};
use phm_profiles::{ProfileTable, write};
use phm_store::Store;

use crate::cli::ProfilesArgs;

/// The framework's indicators, from the `.phm` files in its definitions folder, in framework
/// order; an error names any indicator the framework lists but no file defines.
fn definitions(framework: &Framework, framework_path: &Path) -> anyhow::Result<Vec<Definition>> {
    let dir = framework.definitions_dir(framework_path);
    let files = super::definitions::definition_files(std::slice::from_ref(&dir))?;
    let loaded = super::definitions::load_all(&files)?;
    let mut by_name: BTreeMap<String, Definition> = BTreeMap::new();
    for (path, l) in &loaded {
        let Some(defs) = &l.definitions else { continue };
        for ind in &defs.indicators {
            let Some(index_date) = defs.index_date else {
                bail!("`{}` sets no `index_date`: add `index_date = YYYY-MM-DD` to it", path.display());
            };
            // An imported file's indicators appear in every file that imports it: keep the
            // file that defines it (the first, in sorted order, with the same content).
            by_name.entry(ind.name.clone()).or_insert_with(|| Definition {
                indicator: ind.clone(),
                index_date,
                source: path.display().to_string(),
                content_hash: defs.content_hash.clone(),
            });
        }
    }
    let defined: BTreeSet<&str> = by_name.keys().map(String::as_str).collect();
    let unknown = framework.unknown(&defined);
    if !unknown.is_empty() {
        bail!(
            "`{}` lists indicator{} that no definition in `{}` defines: {}",
            framework_path.display(),
            if unknown.len() == 1 { "" } else { "s" },
            dir.display(),
            unknown.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
        );
    }
    let mut out = Vec::new();
    for name in framework.indicator_names() {
        if let Some(d) = by_name.remove(name) {
            // A healthy life expectancy needs its life table profiled too.
            out.push(d);
        }
    }
    let names: BTreeSet<String> = out.iter().map(|d| d.indicator.name.clone()).collect();
    let extra: Vec<Definition> = out.iter().filter_map(|d| d.indicator.about.life_table.clone()).filter(|n| !names.contains(n)).filter_map(|n| by_name.remove(&n)).collect();
    out.extend(extra);
    Ok(out)
}

pub fn run(args: &ProfilesArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let policy = super::release::policy(args.policy.first().map_or("public", String::as_str))?;
    let framework = Framework::load(&args.framework).with_context(|| "Failed to read the outcome framework")?;
    let england = if args.england.exists() { England::load(&args.england)? } else { England::none() };
    let defs = definitions(&framework, &args.framework)?;
    let reference = ReferenceData::builtin()?;
    let ics = Ics::from_reference(&reference)?;
    let store = Store::open(&args.store).with_context(|| format!("Failed to open the store `{}`", args.store.display()))?;
    let snapshot = match args.as_at {
        Some(id) => store.snapshot(id).with_context(|| format!("No snapshot {id} in `{}`; list them with `phm snapshots`", args.store.display()))?,
        None => store.latest()?.with_context(|| format!("The store `{}` has no snapshot yet: load one with `phm ingest`", args.store.display()))?,
    };
    let bar = if args.quiet { ProgressBar::hidden() } else { ProgressBar::new(4) };
    bar.set_style(ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}").unwrap_or_else(|_| ProgressStyle::default_bar()));
    let n_defs = defs.len();
    bar.set_message(format!("counting {n_defs} indicators"));
    let rt = super::runtime()?;
    let profiles = rt.block_on(async {
        let ctx = datafusion::prelude::SessionContext::new_with_config(phm_engine::session_config());
        let engine = Engine::over_snapshot(ctx, &snapshot).await?;
        anyhow::Ok(phm_profiles::compute(&engine, defs, &reference, ics).await?)
    })?;
    bar.inc(1);
    bar.set_message(format!("releasing under the `{}` policy", policy.name()));
    let released = phm_profiles::release(&profiles, &policy)?;
    super::release::audited(&released)?;
    bar.inc(1);
    bar.set_message("benchmarking");
    let table = ProfileTable::from_released(&profiles, &released, &reference, &england);
    bar.inc(1);
    bar.set_message("writing");
    let rows = write::write(&args.out, &table)?;
    let framework_json = serde_json::to_string_pretty(&framework)?;
    std::fs::write(args.out.join("framework.json"), framework_json + "\n").with_context(|| format!("Failed to write `{}`", args.out.join("framework.json").display()))?;
    let provenance = serde_json::json!({
        "framework": args.framework.display().to_string(),
        "england": args.england.exists().then(|| args.england.display().to_string()),
        "policy": policy.name(),
        "policy_summary": policy.summary(),
        "store": args.store.display().to_string(),
        "snapshot": snapshot.id(),
        "indicators": profiles.definitions.iter().map(|d| serde_json::json!({
            "name": d.indicator.name, "definition": d.source, "definition_sha256": d.content_hash, "index_date": d.index_date,
        })).collect::<Vec<_>>(),
        "cells": profiles.cells,
        "rows": rows,
        "version": env!("CARGO_PKG_VERSION"),
    });
    std::fs::write(args.out.join("provenance.json"), serde_json::to_string_pretty(&provenance)? + "\n").with_context(|| format!("Failed to write `{}`", args.out.join("provenance.json").display()))?;
    bar.inc(1);
    bar.finish_and_clear();

    let suppressed = table.rows().iter().filter(|r| r.disclosure != "published" && !r.disclosure.starts_with("numerator rounded") && r.numerator.is_none()).count();
    let mut text = format!(
        "{}: {rows} rows for {} indicators, the ICS, {} places and {} neighbourhoods; {suppressed} rows with a suppressed numerator.\n",
        args.out.display(),
        profiles.definitions.len(),
        table.rows().iter().filter(|r| r.area_type == "place" && r.area_code != phm_engine::NOT_RECORDED).map(|r| &r.area_code).collect::<BTreeSet<_>>().len(),
        table.rows().iter().filter(|r| r.area_type == "neighbourhood" && r.area_code != phm_engine::NOT_RECORDED).map(|r| &r.area_code).collect::<BTreeSet<_>>().len(),
    );
    text += &format!("Policy `{}`: {}\n", policy.name(), policy.summary());
    text += &format!("Snapshot {} of `{}`, {} cells, in {:.1} s.", snapshot.id(), args.store.display(), profiles.cells, started.elapsed().as_secs_f64());
    if let Some(peak) = super::peak_memory_mib() {
        text += &format!(" Peak memory {peak:.0} MiB.");
    }
    text += "\n";
    super::print(&text);
    Ok(())
}
