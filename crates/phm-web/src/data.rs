//! What the app shows, loaded once at start-up from the folder `phm profiles` wrote.
//!
//! A profiles folder holds, per disclosure policy, the released tables (`profiles.csv`,
//! `trends.csv`, `population.csv`) with `framework.json` and `provenance.json`. With one
//! policy they sit in the folder itself; with several, in one sub-folder per policy. Every
//! table is checked against its policy on load ([`check_release`]): the app refuses to serve a
//! file whose figures break the policy it claims, so a hand-edited or mislabelled file cannot
//! reach a page.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use phm_disclosure::{Policy, PolicySet, PublishedTable, audit_published};
use phm_model::Method;
use phm_profiles::ProfileRow;
use phm_profiles::framework::Framework;
use serde::Serialize;

use crate::{Error, Result};

pub use phm_profiles::{PopulationRow, TrendRow};

/// The tables released under one policy.
#[derive(Debug)]
pub struct Release {
    /// The policy they were released under.
    pub policy: Policy,
    /// Profile rows.
    pub rows: Vec<ProfileRow>,
    /// Trend points (empty when the profiles were computed without trends).
    pub trends: Vec<TrendRow>,
    /// Population by sex and age band (empty when not computed).
    pub population: Vec<PopulationRow>,
    /// The release's manifest (`provenance.json`).
    pub manifest: phm_release::Manifest,
    by_indicator_area: HashMap<(String, String), Vec<usize>>,
    trends_by: HashMap<(String, String), Vec<usize>>,
}

impl Release {
    /// The rows of `indicator` for area `code`, every breakdown.
    pub fn rows_for(&self, indicator: &str, code: &str) -> impl Iterator<Item = &ProfileRow> {
        self.by_indicator_area
            .get(&(indicator.to_owned(), code.to_owned()))
            .into_iter()
            .flatten()
            .map(|&i| &self.rows[i])
    }

    /// The headline (breakdown `all`) row of `indicator` for area `code`.
    pub fn headline(&self, indicator: &str, code: &str) -> Option<&ProfileRow> {
        self.rows_for(indicator, code).find(|r| r.breakdown == "all")
    }

    /// The trend of `indicator` for area `code`, oldest first.
    pub fn trend(&self, indicator: &str, code: &str) -> Vec<&TrendRow> {
        let mut out: Vec<&TrendRow> = self
            .trends_by
            .get(&(indicator.to_owned(), code.to_owned()))
            .into_iter()
            .flatten()
            .map(|&i| &self.trends[i])
            .collect();
        out.sort_by_key(|t| t.period);
        out
    }

    /// The latest period with population figures for area `code`.
    fn population_period(&self, code: &str) -> Option<NaiveDate> {
        self.population.iter().filter(|p| p.area_code == code).map(|p| p.period).max()
    }

    /// The population rows of area `code` by sex and age band on the latest period (not the
    /// `all` totals).
    pub fn population_of(&self, code: &str) -> impl Iterator<Item = &PopulationRow> {
        let period = self.population_period(code);
        self.population
            .iter()
            .filter(move |p| p.area_code == code && Some(p.period) == period && p.sex != "all" && p.age_band != "all")
    }

    /// The registered population of area `code` on the latest period, as released.
    pub fn population_total(&self, code: &str) -> Option<u64> {
        let period = self.population_period(code);
        self.population
            .iter()
            .find(|p| p.area_code == code && Some(p.period) == period && p.sex == "all" && p.age_band == "all")
            .and_then(|p| p.count)
    }
}

/// An area the profiles cover.
#[derive(Clone, Debug, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Area {
    /// `ics`, `place` or `neighbourhood`.
    #[schema(value_type = crate::api::AreaKind)]
    pub area_type: String,
    /// Code (ONS for the ICS and places; PCN code for neighbourhoods).
    pub code: String,
    /// Name.
    pub name: String,
    /// The area it lies in.
    pub parent: Option<String>,
    /// The areas within it, by name.
    pub children: Vec<String>,
}

/// What the app knows about an indicator: the definition, and where it sits in the framework.
#[derive(Clone, Debug, Serialize)]
pub struct IndicatorInfo {
    /// Name (identifier).
    pub name: String,
    /// Title.
    pub title: String,
    /// Method (`proportion`, `crude_rate`, `dsr`, …).
    pub method: Method,
    /// Multiplier (100 for a percentage, 100,000 for a rate per 100,000).
    pub multiplier: f64,
    /// `higher_is_better`, `lower_is_better` or `no_judgement`.
    pub polarity: String,
    /// Why it matters.
    pub rationale: Option<String>,
    /// Known limitations.
    pub caveats: Option<String>,
    /// Fingertips indicator id.
    pub fingertips: Option<i64>,
    /// Breakdowns it is reported by.
    pub breakdowns: Vec<String>,
    /// Definition file.
    pub definition: String,
    /// SHA-256 of the definition file's content when the profiles were computed.
    pub definition_sha256: String,
    /// The indicator's block of the definition file, as written.
    pub source: Option<String>,
    /// Index date.
    pub index_date: Option<NaiveDate>,
    /// The framework priority it belongs to (id, title).
    pub priority: Option<(String, String)>,
    /// Whether it is one of its priority's headline indicators.
    pub headline: bool,
}

impl IndicatorInfo {
    /// How values are expressed: "%", "per 1,000", "years", …
    pub fn unit(&self) -> String {
        match self.method {
            Method::Proportion if self.multiplier == 100.0 => "%".into(),
            Method::LifeExpectancy | Method::HealthyLifeExpectancy => "years".into(),
            Method::Isr => "ratio".into(),
            Method::Proportion | Method::CrudeRate | Method::Dsr | Method::Count if self.multiplier > 1.0 => {
                format!("per {}", thousands(self.multiplier as u64))
            }
            Method::Proportion | Method::CrudeRate | Method::Dsr | Method::Count => String::new(),
        }
    }
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Everything the app serves.
#[derive(Debug)]
pub struct Catalogue {
    /// The outcome framework.
    pub framework: Framework,
    /// Indicators in framework order.
    pub indicators: Vec<IndicatorInfo>,
    by_name: HashMap<String, usize>,
    /// Areas: the ICS, then places, then neighbourhoods, each by name.
    pub areas: Vec<Area>,
    by_code: HashMap<String, usize>,
    /// The `public` release (a profiles folder without one is refused).
    pub public: Release,
    /// The `analyst` release, when the folder has one.
    pub analyst: Option<Release>,
    /// The data-quality report (`phm quality --json`), when there is one.
    pub quality: Option<serde_json::Value>,
    /// The folder the profiles were read from.
    pub folder: PathBuf,
}

impl Catalogue {
    /// The indicator called `name`.
    pub fn indicator(&self, name: &str) -> Option<&IndicatorInfo> {
        self.by_name.get(name).map(|&i| &self.indicators[i])
    }

    /// The area with code `code`.
    pub fn area(&self, code: &str) -> Option<&Area> {
        self.by_code.get(code).map(|&i| &self.areas[i])
    }

    /// The ICS.
    pub fn ics(&self) -> &Area {
        &self.areas[0]
    }

    /// Areas of a type, in name order.
    pub fn areas_of(&self, area_type: &str) -> impl Iterator<Item = &Area> {
        let t = area_type.to_owned();
        self.areas.iter().filter(move |a| a.area_type == t)
    }

    /// The release a visitor sees: `public` for the public; for signed-in analysts and admins
    /// the `analyst` release where there is one.
    pub fn release_for(&self, analyst: bool) -> &Release {
        match &self.analyst {
            Some(a) if analyst => a,
            _ => &self.public,
        }
    }

    /// Loads a profiles folder (see the module documentation) and, if given, a data-quality
    /// report.
    ///
    /// # Errors
    /// A missing or unreadable file, a row that does not parse (file and line named), a table
    /// whose figures break its policy, or a folder with no `public` release.
    pub fn load(folder: &Path, policies: &PolicySet, quality: Option<&Path>) -> Result<Self> {
        let mut dirs = Vec::new();
        if folder.join("profiles.csv").exists() {
            dirs.push(folder.to_path_buf());
        } else {
            let entries = std::fs::read_dir(folder).map_err(|e| Error::io(folder, e))?;
            for entry in entries {
                let path = entry.map_err(|e| Error::io(folder, e))?.path();
                if path.join("profiles.csv").exists() {
                    dirs.push(path);
                }
            }
            dirs.sort();
        }
        if dirs.is_empty() {
            return Err(Error::Load(format!(
                "`{}` holds no profiles: run `phm profiles --store STORE --out {}` (or `phm demo`) first",
                folder.display(),
                folder.display()
            )));
        }
        let mut releases = BTreeMap::new();
        let mut framework = None;
        for dir in &dirs {
            let manifest = phm_release::Manifest::read(dir).map_err(|e| Error::Load(e.to_string()))?;
            let name = manifest.policy.clone();
            let policy = policies
                .get(&name)
                .map_err(|e| Error::Load(format!("`{}`: {e}", dir.join(phm_release::MANIFEST).display())))?
                .clone();
            let rows: Vec<ProfileRow> = read_csv(&dir.join("profiles.csv"))?;
            let trends: Vec<TrendRow> =
                if dir.join("trends.csv").exists() { read_csv(&dir.join("trends.csv"))? } else { Vec::new() };
            let population: Vec<PopulationRow> =
                if dir.join("population.csv").exists() { read_csv(&dir.join("population.csv"))? } else { Vec::new() };
            let shares = ["numerator", "denominator"];
            check_release(
                &dir.join("profiles.csv"),
                &policy,
                &shares,
                &["value"],
                rows.iter().map(|r| (vec![r.numerator, r.denominator], vec![r.value])),
            )?;
            check_release(
                &dir.join("trends.csv"),
                &policy,
                &shares,
                &["value"],
                trends.iter().map(|r| (vec![r.numerator, r.denominator], vec![r.value])),
            )?;
            check_release(
                &dir.join("population.csv"),
                &policy,
                &["count"],
                &[],
                population.iter().map(|r| (vec![r.count], vec![])),
            )?;
            if framework.is_none() {
                framework = Some(read_json::<Framework>(&dir.join("framework.json"))?);
            }
            let mut by_indicator_area: HashMap<(String, String), Vec<usize>> = HashMap::new();
            for (i, r) in rows.iter().enumerate() {
                by_indicator_area.entry((r.indicator.clone(), r.area_code.clone())).or_default().push(i);
            }
            let mut trends_by: HashMap<(String, String), Vec<usize>> = HashMap::new();
            for (i, t) in trends.iter().enumerate() {
                trends_by.entry((t.indicator.clone(), t.area_code.clone())).or_default().push(i);
            }
            releases.insert(name, Release { policy, rows, trends, population, manifest, by_indicator_area, trends_by });
        }
        let analyst = releases.remove("analyst");
        let Some(public) = releases.remove("public") else {
            return Err(Error::Load(format!(
                "`{}` has no release under the `public` policy, which pages for visitors who are not signed in need: run `phm profiles --policy public --policy analyst`",
                folder.display()
            )));
        };
        let framework = framework.ok_or_else(|| Error::Load("no framework.json".into()))?;
        let areas = areas(&public.rows);
        let by_code = areas.iter().enumerate().map(|(i, a)| (a.code.clone(), i)).collect();
        let indicators = indicators(&framework, &public);
        let by_name = indicators.iter().enumerate().map(|(i, d)| (d.name.clone(), i)).collect();
        let quality = match quality {
            Some(path) if path.exists() => Some(read_json(path)?),
            _ => None,
        };
        Ok(Catalogue {
            framework,
            indicators,
            by_name,
            areas,
            by_code,
            public,
            analyst,
            quality,
            folder: folder.to_path_buf(),
        })
    }
}

/// Checks every row of a released table against `policy`, one cell per row (its counts, and
/// the values derived from them): no published count from 1 to the threshold, every count on
/// the rounding grid, no value beside a suppressed count.
///
/// # Errors
/// [`Error::Disclosure`] naming the file, the row and the rule broken.
pub fn check_release<'a>(
    file: &Path,
    policy: &Policy,
    counts: &[&str],
    derived: &[&str],
    rows: impl Iterator<Item = (Vec<Option<u64>>, Vec<Option<f64>>)> + 'a,
) -> Result<()> {
    let mut table = PublishedTable::new(counts, derived).map_err(|e| Error::Internal(e.to_string()))?;
    for (i, (c, d)) in rows.enumerate() {
        table.push(format!("line {}", i + 2), &c, &d).map_err(|e| Error::Internal(e.to_string()))?;
    }
    let violations = audit_published(policy, &table);
    if let Some(first) = violations.first() {
        return Err(Error::Disclosure(format!(
            "`{}` breaks the `{}` policy it was released under ({} figure{}); the first: {first}",
            file.display(),
            policy.name(),
            violations.len(),
            if violations.len() == 1 { "" } else { "s" }
        )));
    }
    Ok(())
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text)
        .map_err(|e| Error::Load(format!("`{}` line {}, column {}: {e}", path.display(), e.line(), e.column())))
}

fn read_csv<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| Error::Load(format!("`{}`: {e}", path.display())))?;
    let mut out = Vec::new();
    for (i, record) in reader.deserialize().enumerate() {
        out.push(record.map_err(|e| Error::Load(format!("`{}` line {}: {e}", path.display(), i + 2)))?);
    }
    Ok(out)
}

fn areas(rows: &[ProfileRow]) -> Vec<Area> {
    let mut found: BTreeMap<(u8, String), Area> = BTreeMap::new();
    for r in rows {
        if r.area_code == phm_model::NOT_RECORDED {
            continue;
        }
        let rank = match r.area_type.as_str() {
            "ics" => 0,
            "place" => 1,
            _ => 2,
        };
        found.entry((rank, r.area_name.clone())).or_insert_with(|| Area {
            area_type: r.area_type.clone(),
            code: r.area_code.clone(),
            name: r.area_name.clone(),
            parent: r.parent_code.clone(),
            children: Vec::new(),
        });
    }
    let mut areas: Vec<Area> = found.into_values().collect();
    let index: HashMap<String, usize> = areas.iter().enumerate().map(|(i, a)| (a.code.clone(), i)).collect();
    for i in 0..areas.len() {
        if let Some(p) = areas[i].parent.clone().and_then(|p| index.get(&p).copied()) {
            let code = areas[i].code.clone();
            areas[p].children.push(code);
        }
    }
    areas
}

/// The indicators of the framework, in its order, then any other indicator released, with what
/// the release's manifest says of each: the app never reads a definition file.
fn indicators(framework: &Framework, public: &Release) -> Vec<IndicatorInfo> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let members = framework
        .priorities
        .iter()
        .flat_map(|p| p.indicators.iter().map(move |m| (Some(p), m.name.clone(), m.headline)));
    let extra = public.rows.iter().map(|r| r.indicator.clone()).collect::<std::collections::BTreeSet<_>>();
    let all: Vec<_> = members.chain(extra.into_iter().map(|n| (None, n, false))).collect();
    for (priority, name, headline) in all {
        if !seen.insert(name.clone()) {
            continue;
        }
        let Some(row) = public.rows.iter().find(|r| r.indicator == name) else { continue };
        let entry = public.manifest.indicator(&name);
        out.push(IndicatorInfo {
            name: name.clone(),
            title: row.title.clone(),
            method: row.method,
            multiplier: row.multiplier,
            polarity: row.polarity.clone(),
            rationale: entry.and_then(|e| e.rationale.clone()),
            caveats: entry.and_then(|e| e.caveats.clone()),
            fingertips: entry.and_then(|e| e.fingertips),
            breakdowns: entry.map(|e| e.breakdowns.clone()).unwrap_or_default(),
            definition: entry.map_or_else(|| row.definition.clone(), |e| e.definition.clone()),
            definition_sha256: entry.map_or_else(|| row.definition_sha256.clone(), |e| e.definition_sha256.clone()),
            source: entry.and_then(|e| e.source.clone()),
            index_date: entry.map(|e| e.index_date),
            priority: priority.map(|p| (p.id.clone(), p.title.clone())),
            headline,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(1_100_000), "1,100,000");
        assert_eq!(thousands(100), "100");
        assert_eq!(thousands(1000), "1,000");
    }
}
