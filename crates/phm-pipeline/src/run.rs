//! `phm run`'s pipeline for one definition file: its cohorts (person-level lists), its indicators
//! (one pass) and its measures, the aggregate tables released under a policy, and the folder's
//! [`Manifest`].

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use phm_disclosure::Policy;
use phm_engine::{Engine, Periods};
use phm_model::Definitions;
use phm_release::{DefinitionFile, IndicatorEntry, Manifest};

use crate::definitions::indicator_entry;
use crate::disclosure;
use crate::{Error, Result};

/// One definition file to run.
#[derive(Clone, Debug)]
pub struct FileRequest<'a> {
    /// The file.
    pub path: &'a Path,
    /// Its loaded definitions.
    pub definitions: &'a Definitions,
    /// Its text (for the manifest's indicator blocks).
    pub text: &'a str,
    /// The index date.
    pub index_date: NaiveDate,
    /// The policy the indicator and measure tables are released under.
    pub policy: &'a Policy,
    /// The folder to write.
    pub dir: &'a Path,
    /// One plan per indicator and per measure date, for measuring what one pass saves.
    pub separate_plans: bool,
    /// The store folder and snapshot read (for the manifest).
    pub store: &'a Path,
    /// The snapshot id.
    pub snapshot: Option<u64>,
    /// `datafusion` or `ballista`.
    pub engine: &'a str,
}

/// What the pipeline is doing, for a progress bar.
#[derive(Clone, Copy, Debug)]
pub enum Step<'a> {
    /// Extracting a cohort.
    Cohort(&'a str),
    /// Counting this many indicators in one pass.
    Indicators(usize),
    /// Computing a measure.
    Measure(&'a str),
    /// A step finished.
    Done,
}

/// What one file gave.
#[derive(Debug)]
pub struct FileOutcome {
    /// The folder's manifest (written).
    pub manifest: Manifest,
    /// One line per output, for the summary: released figures only, never exact counts.
    pub lines: Vec<String>,
}

/// Runs one definition file and writes its folder.
///
/// # Errors
/// Engine failures, a negative count, a table disclosure control refuses or that breaks the
/// policy, a file that cannot be written.
pub async fn run_file(
    engine: &Engine,
    request: &FileRequest<'_>,
    mut on_step: impl FnMut(Step<'_>),
) -> Result<FileOutcome> {
    let FileRequest { definitions: defs, index_date: index, policy, dir, .. } = *request;
    let mut outputs = BTreeMap::new();
    let mut lines = Vec::new();
    for cohort in &defs.cohorts {
        on_step(Step::Cohort(&cohort.name));
        let df = engine.cohort(cohort, index).await?;
        let schema = df.schema().inner().clone();
        let batches = df.collect().await.map_err(phm_engine::Error::from)?;
        let rows = phm_release::write_table(dir, &cohort.name, schema, &batches)?;
        outputs.insert(cohort.name.clone(), rows);
        lines.push(format!("cohort {}: {rows} people", cohort.name));
        if let Some(df) = engine.cohort_events(cohort, index).await? {
            let schema = df.schema().inner().clone();
            let batches = df.collect().await.map_err(phm_engine::Error::from)?;
            let name = format!("{}_events", cohort.name);
            let rows = phm_release::write_table(dir, &name, schema, &batches)?;
            outputs.insert(name, rows);
            lines.push(format!("cohort {} events: {rows} rows", cohort.name));
        }
        on_step(Step::Done);
    }
    if !defs.indicators.is_empty() {
        on_step(Step::Indicators(defs.indicators.len()));
        let inds: Vec<_> = defs.indicators.iter().collect();
        let rows = if request.separate_plans {
            let mut rows = Vec::new();
            for ind in &inds {
                rows.extend(engine.indicators(&[ind], Periods::One(index)).await?);
            }
            rows
        } else {
            engine.indicators(&inds, Periods::One(index)).await?
        };
        let multiplier = |name: &str| defs.indicators.iter().find(|i| i.name == name).map(|i| i.multiplier);
        let released = disclosure::release(&rows, &multiplier, policy)?;
        let written = disclosure::write(dir, "indicators", &rows, &released)?;
        outputs.insert("indicators".into(), written);
        // The summary shows the released figures, like the files (never exact counts).
        let shown = |f: Option<u64>| f.map_or_else(|| "suppressed".to_owned(), |v| v.to_string());
        for ind in &defs.indicators {
            let all = released
                .iter()
                .flat_map(|t| t.get().cells())
                .find(|c| rows[c.key().index()].indicator == ind.name && rows[c.key().index()].breakdown == "all");
            if let Some(c) = all {
                let (n, d, v) = (c.counts()[0].value(), c.counts()[1].value(), c.derived()[0].value());
                lines.push(format!(
                    "indicator {}: {} / {} = {}",
                    ind.name,
                    shown(n),
                    shown(d),
                    v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "-".into())
                ));
            }
        }
        on_step(Step::Done);
    }
    for m in &defs.measures {
        on_step(Step::Measure(&m.name));
        let rows = if request.separate_plans { engine.measure_by_period(m).await? } else { engine.measure(m).await? };
        let released = disclosure::release(&rows, &|_| Some(m.indicator.multiplier), policy)?;
        let written = disclosure::write(dir, &m.name, &rows, &released)?;
        outputs.insert(m.name.clone(), written);
        lines.push(format!("measure {}: {} periods, {} rows", m.name, m.intervals.index_dates().len(), rows.len()));
        on_step(Step::Done);
    }
    let source = request.path.display().to_string();
    let entry =
        |ind: &phm_model::Indicator| indicator_entry(ind, &source, &defs.content_hash, Some(request.text), index, &[]);
    let manifest = Manifest {
        format: phm_release::FORMAT,
        command: "run".into(),
        framework: None,
        england: None,
        policy: policy.name().to_owned(),
        policy_summary: policy.summary(),
        store: Some(request.store.display().to_string()),
        snapshot: request.snapshot,
        engine: request.engine.to_owned(),
        definitions: vec![DefinitionFile {
            path: source.clone(),
            sha256: defs.content_hash.clone(),
            index_date: Some(index),
            codelists: defs.codelists.clone(),
        }],
        indicators: defs
            .indicators
            .iter()
            .map(entry)
            .chain(defs.measures.iter().map(|m| IndicatorEntry { name: m.name.clone(), ..entry(&m.indicator) }))
            .collect(),
        trends: None,
        population: None,
        engine_passes: usize::from(!defs.indicators.is_empty()) + defs.measures.len(),
        cells: 0,
        outputs,
        version: env!("CARGO_PKG_VERSION").into(),
    };
    std::fs::create_dir_all(dir)
        .map_err(|source| Error::Io { message: format!("Failed to create `{}`", dir.display()), source })?;
    manifest.write(dir)?;
    Ok(FileOutcome { manifest, lines })
}
