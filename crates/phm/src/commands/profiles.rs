//! `phm profiles`: the outcome framework's indicators for the ICS, each place and each
//! neighbourhood, their trends with SPC, and the registered population's pyramid, computed once
//! and released under each disclosure policy asked for.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use phm_core::reference::ReferenceData;
use phm_engine::Engine;
use phm_profiles::comparators::England;
use phm_profiles::framework::Framework;
use phm_profiles::profile::{Definition, Ics, Profiles};
use phm_profiles::{Extras, PopulationTable, ProfileTable, TrendTable, write};
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
    let extra: Vec<Definition> = out
        .iter()
        .filter_map(|d| d.indicator.about.life_table.clone())
        .filter(|n| !names.contains(n))
        .filter_map(|n| by_name.remove(&n))
        .collect();
    out.extend(extra);
    Ok(out)
}

/// The registered population's definition, from `population.phm` beside the framework file:
/// the file must define exactly one indicator, whose denominator the pyramid counts.
fn population_definition(framework_path: &Path) -> anyhow::Result<Definition> {
    let path = framework_path.parent().unwrap_or(Path::new(".")).join("population.phm");
    if !path.exists() {
        bail!(
            "`{}` does not exist: `phm profiles` counts the registered population for the population pyramids with the one indicator of a `population.phm` beside the framework file (see definitions/population.phm)",
            path.display()
        );
    }
    let loaded = super::definitions::load_all(std::slice::from_ref(&path))?;
    let Some((_, l)) = loaded.first() else { bail!("`{}` was not loaded", path.display()) };
    let Some(defs) = &l.definitions else { bail!("`{}` has no definitions", path.display()) };
    let [indicator] = defs.indicators.as_slice() else {
        bail!(
            "`{}` defines {} indicators: the population pyramid needs exactly one, whose denominator is the registered population",
            path.display(),
            defs.indicators.len()
        );
    };
    let index_date = defs
        .index_date
        .with_context(|| format!("`{}` sets no `index_date`: add `index_date = YYYY-MM-DD` to it", path.display()))?;
    Ok(Definition {
        indicator: indicator.clone(),
        index_date,
        source: path.display().to_string(),
        content_hash: defs.content_hash.clone(),
    })
}

/// The disclosure policies asked for, each once, with names that can be folder names.
fn policies(specs: &[String]) -> anyhow::Result<Vec<phm_disclosure::Policy>> {
    let specs: Vec<&str> = if specs.is_empty() { vec!["public"] } else { specs.iter().map(String::as_str).collect() };
    let mut out: Vec<phm_disclosure::Policy> = Vec::new();
    for spec in specs {
        let policy = super::release::policy(spec)?;
        if out.iter().any(|p| p.name() == policy.name()) {
            bail!("--policy names the policy `{}` twice: give each policy once", policy.name());
        }
        let name = policy.name();
        if name.is_empty()
            || name.starts_with('.')
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            bail!("the policy name `{name}` cannot be a folder name: use letters, digits, `-`, `_` and `.`");
        }
        out.push(policy);
    }
    Ok(out)
}

/// What was written under one policy, for the summary.
struct Written {
    dir: PathBuf,
    policy: String,
    summary: String,
    rows: u64,
    trend_rows: u64,
    population_rows: u64,
    suppressed: usize,
    places: usize,
    neighbourhoods: usize,
}

pub fn run(args: &ProfilesArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let policies = policies(&args.policy)?;
    let framework = Framework::load(&args.framework).with_context(|| "Failed to read the outcome framework")?;
    let england = if args.england.exists() { England::load(&args.england)? } else { England::none() };
    let defs = definitions(&framework, &args.framework)?;
    let population = population_definition(&args.framework)?;
    let reference = ReferenceData::builtin()?;
    let ics = Ics::from_reference(&reference)?;
    let store =
        Store::open(&args.store).with_context(|| format!("Failed to open the store `{}`", args.store.display()))?;
    let snapshot = match args.as_at {
        Some(id) => store.snapshot(id).with_context(|| {
            format!("No snapshot {id} in `{}`; list them with `phm snapshots`", args.store.display())
        })?,
        None => store.latest()?.with_context(|| {
            format!("The store `{}` has no snapshot yet: load one with `phm ingest`", args.store.display())
        })?,
    };
    // Figures are computed once from exact counts and once per rounding among the policies:
    // under a rounding policy every published figure comes from rounded counts.
    let roundings = Extras::roundings_of(&policies);
    let extras = Extras {
        trend_points: args.trend_points,
        trend_every_months: args.trend_every_months,
        population: Some(population),
        roundings,
    };
    let bar = if args.quiet { ProgressBar::hidden() } else { ProgressBar::new(1) };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let n_defs = defs.len();
    bar.set_message(format!("counting {n_defs} indicators"));
    let rt = super::runtime()?;
    let profiles = rt.block_on(async {
        let ctx = datafusion::prelude::SessionContext::new_with_config(phm_engine::session_config());
        let engine = Engine::over_snapshot(ctx, &snapshot).await?;
        let on_pass = |done: usize, total: usize| {
            bar.set_length((total + policies.len()) as u64);
            bar.set_position(done as u64);
            bar.set_message(format!("counting {n_defs} indicators: engine pass {done} of {total}"));
        };
        anyhow::Ok(phm_profiles::compute(&engine, defs, &reference, ics, &extras, on_pass).await?)
    })?;
    let mut written = Vec::new();
    for policy in &policies {
        bar.set_message(format!("releasing under the `{}` policy", policy.name()));
        let dir = if policies.len() == 1 { args.out.clone() } else { args.out.join(policy.name()) };
        let computed = Computed {
            args,
            profiles: &profiles,
            framework: &framework,
            reference: &reference,
            england: &england,
            snapshot: snapshot.id(),
        };
        written.push(release_and_write(&computed, &dir, policy)?);
        bar.inc(1);
    }
    bar.finish_and_clear();

    let mut text = String::new();
    for w in &written {
        text += &format!(
            "{}: {} rows for {} indicators, the ICS, {} places and {} neighbourhoods; {} rows with a suppressed numerator; {} trend rows; {} population rows.\n",
            w.dir.display(),
            w.rows,
            profiles.definitions.len(),
            w.places,
            w.neighbourhoods,
            w.suppressed,
            w.trend_rows,
            w.population_rows,
        );
        text += &format!("Policy `{}`: {}\n", w.policy, w.summary);
    }
    let trends = if args.trend_points == 0 {
        "no trends".to_owned()
    } else {
        format!("trends of {} points {} month(s) apart", args.trend_points, args.trend_every_months)
    };
    text += &format!(
        "Snapshot {} of `{}`, {} engine passes ({trends}), {} cells, in {:.1} s.",
        snapshot.id(),
        args.store.display(),
        profiles.passes,
        profiles.cells,
        started.elapsed().as_secs_f64()
    );
    if let Some(peak) = super::peak_memory_mib() {
        text += &format!(" Peak memory {peak:.0} MiB.");
    }
    text += "\n";
    super::print(&text);
    Ok(())
}

/// What was computed once, and what it was computed from.
struct Computed<'a> {
    args: &'a ProfilesArgs,
    profiles: &'a Profiles,
    framework: &'a Framework,
    reference: &'a ReferenceData,
    england: &'a England,
    snapshot: u64,
}

/// Releases everything computed under `policy`, checks every released table with `audited`,
/// and writes the profiles, trends, population, framework and provenance to `dir`.
fn release_and_write(computed: &Computed<'_>, dir: &Path, policy: &phm_disclosure::Policy) -> anyhow::Result<Written> {
    let Computed { args, profiles, framework, reference, england, snapshot } = *computed;
    let released = phm_profiles::release(profiles, policy)?;
    super::release::audited(&released)?;
    let released_trends = phm_profiles::trend::release(profiles, policy)?;
    super::release::audited(&released_trends)?;
    let released_population = match &profiles.population {
        Some(p) => phm_profiles::population::release(p, reference, &profiles.ics, policy)?,
        None => Vec::new(),
    };
    super::release::audited(&released_population)?;

    let table = ProfileTable::from_released(profiles, &released, reference, england);
    let trends = TrendTable::from_released(profiles, &released, &released_trends, reference);
    let population = PopulationTable::from_released(&released_population, reference, &profiles.ics);
    let rows = write::write(dir, &table)?;
    let trend_rows = write::write_trends(dir, &trends)?;
    let population_rows = write::write_population(dir, &population)?;
    let framework_json = serde_json::to_string_pretty(framework)?;
    std::fs::write(dir.join("framework.json"), framework_json + "\n")
        .with_context(|| format!("Failed to write `{}`", dir.join("framework.json").display()))?;
    let population_definition = profiles.population.as_ref().map(|p| &p.definition);
    let provenance = serde_json::json!({
        "framework": args.framework.display().to_string(),
        "england": args.england.exists().then(|| args.england.display().to_string()),
        "policy": policy.name(),
        "policy_summary": policy.summary(),
        "store": args.store.display().to_string(),
        "snapshot": snapshot,
        "indicators": profiles.definitions.iter().zip(&profiles.trend_dates).map(|(d, dates)| serde_json::json!({
            "name": d.indicator.name, "definition": d.source, "definition_sha256": d.content_hash, "index_date": d.index_date,
            "trend_dates": dates,
        })).collect::<Vec<_>>(),
        "trends": {
            "points": args.trend_points,
            "every_months": args.trend_every_months,
            "rows": trend_rows,
            "spc": "Making Data Count XmR (phm_stats::spc defaults) over the released values; limits need at least 15 points with a value",
        },
        "population": {
            "definition": population_definition.map(|d| d.source.clone()),
            "definition_sha256": population_definition.map(|d| d.content_hash.clone()),
            "indicator": population_definition.map(|d| d.indicator.name.clone()),
            "index_dates": profiles.population.as_ref().map(|p| p.dates().collect::<Vec<_>>()),
            "rows": population_rows,
        },
        "engine_passes": profiles.passes,
        "cells": profiles.cells,
        "rows": rows,
        "version": env!("CARGO_PKG_VERSION"),
    });
    std::fs::write(dir.join("provenance.json"), serde_json::to_string_pretty(&provenance)? + "\n")
        .with_context(|| format!("Failed to write `{}`", dir.join("provenance.json").display()))?;

    let count_areas = |t: &str| {
        table
            .rows()
            .iter()
            .filter(|r| r.area_type == t && r.area_code != phm_engine::NOT_RECORDED)
            .map(|r| &r.area_code)
            .collect::<BTreeSet<_>>()
            .len()
    };
    Ok(Written {
        dir: dir.to_path_buf(),
        policy: policy.name().to_owned(),
        summary: policy.summary(),
        rows,
        trend_rows,
        population_rows,
        suppressed: table
            .rows()
            .iter()
            .filter(|r| {
                r.disclosure != "published" && !r.disclosure.starts_with("numerator rounded") && r.numerator.is_none()
            })
            .count(),
        places: count_areas("place"),
        neighbourhoods: count_areas("neighbourhood"),
    })
}
