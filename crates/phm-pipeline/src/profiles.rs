//! `phm profiles`' pipeline: the outcome framework's indicators for the ICS, each place and
//! each neighbourhood, their trends and the registered population's pyramid, computed once and
//! released under each disclosure policy into its own release folder.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use phm_core::reference::ReferenceData;
use phm_disclosure::Policy;
use phm_engine::Engine;
use phm_profiles::comparators::England;
use phm_profiles::framework::Framework;
use phm_profiles::profile::{Definition, Ics, Profiles};
use phm_profiles::{Extras, PopulationTable, ProfileTable, TrendTable, write};
use phm_release::{Manifest, PopulationEntry, TrendsEntry};
use phm_store::Snapshot;

use crate::definitions::{definition_files, indicator_entry, load_all};
use crate::disclosure::audited;
use crate::{Error, Result};

/// What to compute and where to write it.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// The outcome framework file (`definitions/framework.toml`).
    pub framework: &'a Path,
    /// England's comparator values (optional: no file, no comparison with England).
    pub england: &'a Path,
    /// The store folder (for the manifest).
    pub store: &'a Path,
    /// The snapshot to read.
    pub snapshot: &'a Snapshot,
    /// The disclosure policies, each released into its own folder (the output folder itself
    /// when there is one).
    pub policies: &'a [Policy],
    /// Points per trend, the index date included (0: no trends).
    pub trend_points: usize,
    /// Months between trend points.
    pub trend_every_months: u32,
    /// The output folder.
    pub out: &'a Path,
}

/// Where the pipeline has got to, for a progress bar.
#[derive(Clone, Copy, Debug)]
pub enum Progress<'a> {
    /// Counting: engine pass `done` of `total`.
    Pass {
        /// Passes done.
        done: usize,
        /// Passes in all.
        total: usize,
    },
    /// Releasing under a policy.
    Releasing {
        /// The policy's name.
        policy: &'a str,
    },
}

/// What was written under one policy.
#[derive(Clone, Debug)]
pub struct Written {
    /// The release folder.
    pub dir: PathBuf,
    /// The policy's name.
    pub policy: String,
    /// What the policy does.
    pub summary: String,
    /// Profile rows.
    pub rows: u64,
    /// Trend rows.
    pub trend_rows: u64,
    /// Population rows.
    pub population_rows: u64,
    /// Rows whose numerator was suppressed.
    pub suppressed: usize,
    /// Places with rows.
    pub places: usize,
    /// Neighbourhoods with rows.
    pub neighbourhoods: usize,
}

/// What [`run`] did.
#[derive(Debug)]
pub struct Outcome {
    /// Indicators profiled.
    pub indicators: usize,
    /// Engine passes.
    pub passes: usize,
    /// Cells the engine produced.
    pub cells: usize,
    /// One entry per policy.
    pub written: Vec<Written>,
}

/// The framework's indicators, from the `.phm` files in its definitions folder, in framework
/// order (and the life tables their healthy life expectancies need); an error names any
/// indicator the framework lists but no file defines.
fn definitions(
    framework: &Framework,
    framework_path: &Path,
    diagnostics: &mut dyn Write,
) -> Result<(Vec<Definition>, BTreeMap<String, String>)> {
    let dir = framework.definitions_dir(framework_path);
    let files = definition_files(std::slice::from_ref(&dir))?;
    let loaded = load_all(&files, diagnostics)?;
    let mut by_name: BTreeMap<String, Definition> = BTreeMap::new();
    let mut texts = BTreeMap::new();
    for (path, l) in &loaded {
        let Some(defs) = &l.definitions else { continue };
        for ind in &defs.indicators {
            let Some(index_date) = defs.index_date else {
                return Err(Error::Invalid(format!(
                    "`{}` sets no `index_date`: add `index_date = YYYY-MM-DD` to it",
                    path.display()
                )));
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
    for d in by_name.values() {
        if !texts.contains_key(&d.source) {
            let text = std::fs::read_to_string(&d.source)
                .map_err(|source| Error::Io { message: format!("Failed to read `{}`", d.source), source })?;
            texts.insert(d.source.clone(), text);
        }
    }
    let defined: BTreeSet<&str> = by_name.keys().map(String::as_str).collect();
    let unknown = framework.unknown(&defined);
    if !unknown.is_empty() {
        return Err(Error::Invalid(format!(
            "`{}` lists indicator{} that no definition in `{}` defines: {}",
            framework_path.display(),
            if unknown.len() == 1 { "" } else { "s" },
            dir.display(),
            unknown.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
        )));
    }
    let mut out = Vec::new();
    for name in framework.indicator_names() {
        if let Some(d) = by_name.remove(name) {
            out.push(d);
        }
    }
    // A healthy life expectancy needs its life table profiled too.
    let names: BTreeSet<String> = out.iter().map(|d| d.indicator.name.clone()).collect();
    let extra: Vec<Definition> = out
        .iter()
        .filter_map(|d| d.indicator.about.life_table.clone())
        .filter(|n| !names.contains(n))
        .filter_map(|n| by_name.remove(&n))
        .collect();
    out.extend(extra);
    Ok((out, texts))
}

/// The registered population's definition, from `population.phm` beside the framework file:
/// the file must define exactly one indicator, whose denominator the pyramid counts.
fn population_definition(framework_path: &Path, diagnostics: &mut dyn Write) -> Result<Definition> {
    let path = framework_path.parent().unwrap_or(Path::new(".")).join("population.phm");
    if !path.exists() {
        return Err(Error::Invalid(format!(
            "`{}` does not exist: `phm profiles` counts the registered population for the population pyramids with the one indicator of a `population.phm` beside the framework file (see definitions/population.phm)",
            path.display()
        )));
    }
    let loaded = load_all(std::slice::from_ref(&path), diagnostics)?;
    let defs = loaded
        .first()
        .and_then(|(_, l)| l.definitions.as_ref())
        .ok_or_else(|| Error::Invalid(format!("`{}` has no definitions", path.display())))?;
    let [indicator] = defs.indicators.as_slice() else {
        return Err(Error::Invalid(format!(
            "`{}` defines {} indicators: the population pyramid needs exactly one, whose denominator is the registered population",
            path.display(),
            defs.indicators.len()
        )));
    };
    let index_date = defs.index_date.ok_or_else(|| {
        Error::Invalid(format!("`{}` sets no `index_date`: add `index_date = YYYY-MM-DD` to it", path.display()))
    })?;
    Ok(Definition {
        indicator: indicator.clone(),
        index_date,
        source: path.display().to_string(),
        content_hash: defs.content_hash.clone(),
    })
}

/// Computes the profiles once from the snapshot and releases them under each policy, writing
/// each release folder (tables, `framework.json` and the [`Manifest`]). Definition diagnostics
/// go to `diagnostics`; `progress` hears of each engine pass and each release.
///
/// # Errors
/// Definitions with errors or that the framework does not match, engine and store failures, a
/// table that disclosure control refuses or that breaks its policy, a folder that cannot be
/// written.
pub async fn run(
    request: &Request<'_>,
    diagnostics: &mut dyn Write,
    mut progress: impl FnMut(Progress<'_>),
) -> Result<Outcome> {
    let framework = Framework::load(request.framework)?;
    let england = if request.england.exists() { England::load(request.england)? } else { England::none() };
    let (defs, texts) = definitions(&framework, request.framework, diagnostics)?;
    let population = population_definition(request.framework, diagnostics)?;
    let reference = ReferenceData::builtin().map_err(|e| Error::Reference(e.to_string()))?;
    let ics = Ics::from_reference(&reference)?;
    // Figures are computed once from exact counts and once per rounding among the policies:
    // under a rounding policy every published figure comes from rounded counts.
    let extras = Extras {
        trend_points: request.trend_points,
        trend_every_months: request.trend_every_months,
        population: Some(population),
        roundings: Extras::roundings_of(request.policies),
    };
    let engine = Engine::local(request.snapshot).await?;
    let on_pass = |done: usize, total: usize| progress(Progress::Pass { done, total });
    let profiles = phm_profiles::compute(&engine, defs, &reference, ics, &extras, on_pass).await?;
    let mut written = Vec::new();
    for policy in request.policies {
        progress(Progress::Releasing { policy: policy.name() });
        let dir = if request.policies.len() == 1 { request.out.to_path_buf() } else { request.out.join(policy.name()) };
        let computed = Computed {
            request,
            profiles: &profiles,
            framework: &framework,
            reference: &reference,
            england: &england,
            texts: &texts,
        };
        written.push(release_and_write(&computed, &dir, policy)?);
    }
    Ok(Outcome { indicators: profiles.definitions.len(), passes: profiles.passes, cells: profiles.cells, written })
}

/// What was computed once, and what it was computed from.
struct Computed<'a> {
    request: &'a Request<'a>,
    profiles: &'a Profiles,
    framework: &'a Framework,
    reference: &'a ReferenceData,
    england: &'a England,
    texts: &'a BTreeMap<String, String>,
}

/// Releases everything computed under `policy`, checks every released table with `audited`,
/// and writes the profiles, trends, population, framework and manifest to `dir`.
fn release_and_write(computed: &Computed<'_>, dir: &Path, policy: &Policy) -> Result<Written> {
    let Computed { request, profiles, framework, reference, england, texts } = *computed;
    let released = phm_profiles::release(profiles, policy)?;
    audited(&released)?;
    let released_trends = phm_profiles::trend::release(profiles, policy)?;
    audited(&released_trends)?;
    let released_population = match &profiles.population {
        Some(p) => phm_profiles::population::release(p, reference, &profiles.ics, policy)?,
        None => Vec::new(),
    };
    audited(&released_population)?;

    let table = ProfileTable::from_released(profiles, &released, reference, england);
    let trends = TrendTable::from_released(profiles, &released, &released_trends, reference);
    let population = PopulationTable::from_released(&released_population, reference, &profiles.ics);
    let rows = write::write(dir, &table)?;
    let trend_rows = write::write_trends(dir, &trends)?;
    let population_rows = write::write_population(dir, &population)?;
    let framework_path = dir.join("framework.json");
    let framework_json =
        serde_json::to_string_pretty(framework).map_err(|e| Error::Invalid(format!("the framework as JSON: {e}")))?;
    std::fs::write(&framework_path, framework_json + "\n")
        .map_err(|source| Error::Io { message: format!("Failed to write `{}`", framework_path.display()), source })?;
    let population_definition = profiles.population.as_ref().map(|p| &p.definition);
    let manifest = Manifest {
        format: phm_release::FORMAT,
        command: "profiles".into(),
        framework: Some(request.framework.display().to_string()),
        england: request.england.exists().then(|| request.england.display().to_string()),
        policy: policy.name().to_owned(),
        policy_summary: policy.summary(),
        store: Some(request.store.display().to_string()),
        snapshot: Some(request.snapshot.id()),
        engine: "datafusion".into(),
        definitions: Vec::new(),
        indicators: profiles
            .definitions
            .iter()
            .zip(&profiles.trend_dates)
            .map(|(d, dates)| {
                let text = texts.get(&d.source).map(String::as_str);
                indicator_entry(&d.indicator, &d.source, &d.content_hash, text, d.index_date, dates)
            })
            .collect(),
        trends: Some(TrendsEntry {
            points: request.trend_points,
            every_months: request.trend_every_months,
            rows: trend_rows,
            spc: "Making Data Count XmR (phm_stats::spc defaults) over the released values; limits need at least 15 points with a value".into(),
        }),
        population: Some(PopulationEntry {
            definition: population_definition.map(|d| d.source.clone()),
            definition_sha256: population_definition.map(|d| d.content_hash.clone()),
            indicator: population_definition.map(|d| d.indicator.name.clone()),
            index_dates: profiles.population.as_ref().map(|p| p.dates().collect()),
            rows: population_rows,
        }),
        engine_passes: profiles.passes,
        cells: profiles.cells,
        outputs: BTreeMap::from([
            ("population".to_owned(), population_rows),
            ("profiles".to_owned(), rows),
            ("trends".to_owned(), trend_rows),
        ]),
        version: env!("CARGO_PKG_VERSION").into(),
    };
    manifest.write(dir)?;

    let count_areas = |t: &str| {
        table
            .rows()
            .iter()
            .filter(|r| r.area_type == t && r.area_code != phm_model::NOT_RECORDED)
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
