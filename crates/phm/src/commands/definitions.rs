//! `phm run`, `phm explain` and `phm check`: definitions from files to results.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use datafusion::prelude::SessionContext;
use indicatif::{ProgressBar, ProgressStyle};
use phm_engine::output::{Provenance, write_provenance, write_table};
use phm_engine::{Engine, Periods};
use phm_lang::Loaded;
use phm_store::Store;

use crate::cli::{CheckArgs, ExplainArgs, RunArgs};

/// Definition files named on the command line: files as given, folders searched for `.phm`
/// files (sorted; links to folders are not followed). Files under a `library` folder are
/// shared variables, not run on their own.
pub(crate) fn definition_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.path());
        for e in entries {
            let p = e.path();
            // Links to folders are not followed: a link to a folder above would never end.
            if e.file_type()?.is_dir() {
                if p.file_name().is_some_and(|n| n != "library") {
                    walk(&p, out)?;
                }
            } else if p.extension().is_some_and(|x| x == "phm") {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out).with_context(|| format!("Failed to read the folder `{}`", p.display()))?;
        } else if p.exists() {
            out.push(p.clone());
        } else {
            bail!("`{}` does not exist: give a `.phm` definition file or a folder of them", p.display());
        }
    }
    if out.is_empty() {
        bail!(
            "no `.phm` definition files found in {}",
            paths.iter().map(|p| format!("`{}`", p.display())).collect::<Vec<_>>().join(", ")
        );
    }
    Ok(out)
}

/// Load each file; print diagnostics; fail if any has errors.
pub(crate) fn load_all(files: &[PathBuf]) -> anyhow::Result<Vec<(PathBuf, Loaded)>> {
    let mut out = Vec::new();
    let mut errors = 0;
    for f in files {
        let loaded = phm_lang::load(f);
        // Written as rendered, the first hundred and then a count (`Loaded::render_to`).
        loaded.render_to(&mut std::io::stderr().lock()).context("Failed to write the diagnostics")?;
        errors += loaded.error_count();
        out.push((f.clone(), loaded));
    }
    if errors > 0 {
        bail!("{errors} error{} in the definitions: nothing was run", if errors == 1 { "" } else { "s" });
    }
    Ok(out)
}

pub fn check(args: &CheckArgs) -> anyhow::Result<()> {
    let files = definition_files(&args.definitions)?;
    let loaded = load_all(&files)?;
    let mut text = String::new();
    for (path, l) in &loaded {
        let Some(d) = &l.definitions else { continue };
        text += &format!(
            "{}: {} cohort(s), {} indicator(s), {} measure(s), {} codelist(s); sha256 {}\n",
            path.display(),
            d.cohorts.len(),
            d.indicators.len(),
            d.measures.len(),
            d.codelists.len(),
            &d.content_hash[..12]
        );
    }
    text += &format!("{} file(s) checked: no errors.\n", loaded.len());
    super::print(&text);
    Ok(())
}

async fn context(ballista: Option<&str>) -> anyhow::Result<SessionContext> {
    Ok(match ballista {
        None => SessionContext::new_with_config(phm_engine::session_config()),
        Some(url) => super::cluster::remote_context(url).await?,
    })
}

pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    let policy = super::release::policy(&args.policy)?;
    let files = definition_files(&args.definitions)?;
    let loaded = load_all(&files)?;
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
    let started = Instant::now();
    let steps: u64 = loaded
        .iter()
        .filter_map(|(_, l)| l.definitions.as_ref())
        .map(|d| d.cohorts.len() as u64 + u64::from(!d.indicators.is_empty()) + d.measures.len() as u64)
        .sum();
    let bar = ProgressBar::new(steps);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let rt = super::runtime()?;
    let mut summary = String::new();
    rt.block_on(async {
        let ctx = context(args.ballista.as_deref()).await?;
        let engine = Engine::over_snapshot(ctx, &snapshot).await?;
        for (path, l) in &loaded {
            let Some(defs) = &l.definitions else { continue };
            let Some(index) = args.index_date.or(defs.index_date) else {
                bail!(
                    "`{}` sets no `index_date`: add `index_date = YYYY-MM-DD` to it or pass --index-date",
                    path.display()
                );
            };
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("definitions");
            let dir = args.out.join(stem);
            let mut outputs = Vec::new();
            let mut section = String::new();
            for cohort in &defs.cohorts {
                bar.set_message(format!("cohort {}", cohort.name));
                let df = engine.cohort(cohort, index).await?;
                let schema = df.schema().inner().clone();
                let batches = df.collect().await?;
                let rows = write_table(&dir, &cohort.name, schema, &batches)?;
                outputs.push((format!("{}.csv", cohort.name), rows));
                section += &format!("  cohort {}: {rows} people\n", cohort.name);
                if let Some(df) = engine.cohort_events(cohort, index).await? {
                    let schema = df.schema().inner().clone();
                    let batches = df.collect().await?;
                    let name = format!("{}_events", cohort.name);
                    let rows = write_table(&dir, &name, schema, &batches)?;
                    outputs.push((format!("{name}.csv"), rows));
                    section += &format!("  cohort {} events: {rows} rows\n", cohort.name);
                }
                bar.inc(1);
            }
            if !defs.indicators.is_empty() {
                bar.set_message(format!("{} indicators", defs.indicators.len()));
                let inds: Vec<_> = defs.indicators.iter().collect();
                let rows = if args.separate_plans {
                    let mut rows = Vec::new();
                    for ind in &inds {
                        rows.extend(engine.indicators(&[ind], Periods::One(index)).await?);
                    }
                    rows
                } else {
                    engine.indicators(&inds, Periods::One(index)).await?
                };
                let multiplier = |name: &str| defs.indicators.iter().find(|i| i.name == name).map(|i| i.multiplier);
                let released = super::release::release(&rows, &multiplier, &policy)?;
                super::release::write(&dir, "indicators", &rows, &released)?;
                outputs.push(("indicators.csv".into(), rows.len() as u64));
                // The summary shows the released figures, like the files (never exact counts).
                let shown = |f: Option<u64>| f.map_or_else(|| "suppressed".to_owned(), |v| v.to_string());
                for ind in &defs.indicators {
                    let all = released.iter().flat_map(|t| t.get().cells()).find(|c| {
                        rows[c.key().index()].indicator == ind.name && rows[c.key().index()].breakdown == "all"
                    });
                    if let Some(c) = all {
                        let (n, d, v) = (c.counts()[0].value(), c.counts()[1].value(), c.derived()[0].value());
                        section += &format!(
                            "  indicator {}: {} / {} = {}\n",
                            ind.name,
                            shown(n),
                            shown(d),
                            v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "-".into())
                        );
                    }
                }
                bar.inc(1);
            }
            for m in &defs.measures {
                bar.set_message(format!("measure {}", m.name));
                let rows =
                    if args.separate_plans { engine.measure_by_period(m).await? } else { engine.measure(m).await? };
                let name = format!("{}.csv", m.name);
                let released = super::release::release(&rows, &|_| Some(m.indicator.multiplier), &policy)?;
                super::release::write(&dir, &m.name, &rows, &released)?;
                outputs.push((name, rows.len() as u64));
                section += &format!(
                    "  measure {}: {} periods, {} rows\n",
                    m.name,
                    m.intervals.index_dates().len(),
                    rows.len()
                );
                bar.inc(1);
            }
            write_provenance(
                &dir,
                &Provenance {
                    definition: path.display().to_string(),
                    definition_sha256: defs.content_hash.clone(),
                    codelists: defs.codelists.clone(),
                    snapshot: Some(snapshot.id()),
                    store: Some(args.store.clone()),
                    index_date: index,
                    engine: if args.ballista.is_some() { "ballista".into() } else { "datafusion".into() },
                    outputs,
                    disclosure: Some(format!("{}: {}", policy.name(), policy.summary())),
                    version: env!("CARGO_PKG_VERSION").into(),
                },
            )?;
            summary += &format!("{}:\n{section}", dir.display());
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    let mut text = summary;
    text += &format!(
        "Snapshot {} of `{}`, in {:.1} s.",
        snapshot.id(),
        args.store.display(),
        started.elapsed().as_secs_f64()
    );
    if let Some(peak) = super::peak_memory_mib() {
        text += &format!(" Peak memory {peak:.0} MiB.");
    }
    text += &format!(
        "\nIndicator and measure tables were released under the `{}` disclosure policy: {} Cohorts are person-level lists for direct care and are not aggregate outputs.\n",
        policy.name(),
        policy.summary()
    );
    super::print(&text);
    Ok(())
}

pub fn explain(args: &ExplainArgs) -> anyhow::Result<()> {
    let files = definition_files(&args.definitions)?;
    let loaded = load_all(&files)?;
    let store =
        Store::open(&args.store).with_context(|| format!("Failed to open the store `{}`", args.store.display()))?;
    let snapshot =
        store.latest()?.with_context(|| format!("The store `{}` has no snapshot yet", args.store.display()))?;
    let rt = super::runtime()?;
    let mut text = String::new();
    rt.block_on(async {
        let engine = Engine::local(&snapshot).await?;
        for (path, l) in &loaded {
            let Some(defs) = &l.definitions else { continue };
            let index = defs.index_date.unwrap_or_else(|| chrono::Utc::now().date_naive());
            for c in &defs.cohorts {
                let df = engine.cohort(c, index).await?;
                text += &format!(
                    "# {}: cohort {}\n{}\n\n",
                    path.display(),
                    c.name,
                    engine.explain(&df, args.analyze).await?
                );
            }
            if !defs.indicators.is_empty() {
                let inds: Vec<_> = defs.indicators.iter().collect();
                let (df, _) = engine.indicators_plan(&inds, Periods::One(index)).await?;
                text += &format!(
                    "# {}: {} indicators in one plan\n{}\n\n",
                    path.display(),
                    inds.len(),
                    engine.explain(&df, args.analyze).await?
                );
            }
            for m in &defs.measures {
                let (df, _) = engine.indicators_plan(&[&m.indicator], Periods::Many(m.intervals.index_dates())).await?;
                text += &format!(
                    "# {}: measure {}\n{}\n\n",
                    path.display(),
                    m.name,
                    engine.explain(&df, args.analyze).await?
                );
            }
        }
        anyhow::Ok(())
    })?;
    super::print(&text);
    Ok(())
}
