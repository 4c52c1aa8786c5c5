//! `phm run`, `phm explain` and `phm check`: definitions from files to results.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use datafusion::prelude::SessionContext;
use indicatif::{ProgressBar, ProgressStyle};
use phm_engine::{Engine, Periods};
use phm_lang::Loaded;
use phm_store::Store;

use crate::cli::{CheckArgs, ExplainArgs, RunArgs};

/// Definition files named on the command line ([`phm_pipeline::definitions::definition_files`]).
pub(crate) fn definition_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    Ok(phm_pipeline::definitions::definition_files(paths)?)
}

/// Load each file; print diagnostics; fail if any has errors.
pub(crate) fn load_all(files: &[PathBuf]) -> anyhow::Result<Vec<(PathBuf, Loaded)>> {
    Ok(phm_pipeline::definitions::load_all(files, &mut std::io::stderr().lock())?)
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
    let policy = phm_pipeline::disclosure::policy(&args.policy)?;
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
            let text = std::fs::read_to_string(path).with_context(|| format!("Failed to read `{}`", path.display()))?;
            let request = phm_pipeline::run::FileRequest {
                path,
                definitions: defs,
                text: &text,
                index_date: index,
                policy: &policy,
                dir: &dir,
                separate_plans: args.separate_plans,
                store: &args.store,
                snapshot: Some(snapshot.id()),
                engine: if args.ballista.is_some() { "ballista" } else { "datafusion" },
            };
            let on_step = |step: phm_pipeline::run::Step<'_>| match step {
                phm_pipeline::run::Step::Cohort(name) => bar.set_message(format!("cohort {name}")),
                phm_pipeline::run::Step::Indicators(n) => bar.set_message(format!("{n} indicators")),
                phm_pipeline::run::Step::Measure(name) => bar.set_message(format!("measure {name}")),
                phm_pipeline::run::Step::Done => bar.inc(1),
            };
            let outcome = phm_pipeline::run::run_file(&engine, &request, on_step).await?;
            let section: String = outcome.lines.iter().map(|l| format!("  {l}\n")).collect();
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
