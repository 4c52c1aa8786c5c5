//! Computing, releasing and benchmarking the profile rows.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use chrono::NaiveDate;
use phm_core::reference::ReferenceData;
use phm_disclosure::{Policy, Released, ReleasedCell, Rounding, Table};
use phm_model::{CellSource, Dimension, Indicator, Method, NOT_RECORDED, Polarity};
use phm_stats::compare::{self, Comparison};
use phm_stats::estimate::Estimate;

use crate::cells::{self, AreaType, Breakdown, Key, Sums};
use crate::comparators::England;
use crate::dates;
use crate::figures::{self, Context, Figure, LEVELS};
use crate::inequality;
use crate::population::Population;
use crate::{Error, Result};

/// One indicator to profile, with where it came from.
#[derive(Clone, Debug)]
pub struct Definition {
    /// The indicator.
    pub indicator: Indicator,
    /// Its index date (for a life expectancy, the period's mid-point).
    pub index_date: NaiveDate,
    /// The definition file.
    pub source: String,
    /// SHA-256 of the file, its imports and codelists.
    pub content_hash: String,
}

/// The ICS the profiles are for.
#[derive(Clone, Debug)]
pub struct Ics {
    /// ONS code of the ICB (e.g. `E54000024`).
    pub code: String,
    /// Name.
    pub name: String,
}

impl Ics {
    /// The ICS of the built-in reference data (the ICB of its places).
    ///
    /// # Errors
    /// Reference data with no places.
    pub fn from_reference(reference: &ReferenceData) -> Result<Self> {
        let p = reference.places.first().ok_or_else(|| Error::Invalid("reference/places.csv has no places".into()))?;
        Ok(Self { code: p.icb_ons_code.clone(), name: p.icb_name.clone() })
    }
}

/// A profile row before disclosure control: exact counts and the figures computed from them.
#[derive(Clone, Debug)]
pub struct Computed {
    /// Index into the definitions.
    pub definition: usize,
    /// Area, breakdown and category.
    pub key: Key,
    /// Numerator (for a life expectancy: deaths).
    pub numerator: i64,
    /// Denominator (for a life expectancy: the mid-period population).
    pub denominator: i64,
    /// The figure from exact counts (what a release without rounding publishes).
    pub figure: Figure,
    /// The figure from counts rounded as each rounding policy of [`Extras::roundings`] rounds
    /// them (see [`figures`]): what a release under that policy publishes.
    pub rounded: Vec<(Rounding, Figure)>,
}

impl Computed {
    /// The figure a release under `rounding` publishes: computed from counts rounded that way.
    ///
    /// # Errors
    /// The rounding was not asked for in [`Extras::roundings`] when the figures were computed.
    pub fn figure_for(&self, rounding: Rounding) -> Result<&Figure> {
        if rounding == Rounding::None {
            return Ok(&self.figure);
        }
        self.rounded.iter().find(|(r, _)| *r == rounding).map(|(_, f)| f).ok_or_else(|| {
            Error::Invalid(format!("the figures were not computed for counts rounded as `{rounding:?}`: list the policy's rounding in `Extras::roundings`"))
        })
    }
}

/// Everything computed, before release.
#[derive(Debug)]
pub struct Profiles {
    /// The indicators profiled.
    pub definitions: Vec<Definition>,
    /// Rows in a stable order: definition, index date, area, breakdown, category.
    pub rows: Vec<Computed>,
    /// The ICS.
    pub ics: Ics,
    /// Cells the engine produced (for the report).
    pub cells: usize,
    /// Engine passes run (one per index date, profile or trend).
    pub passes: usize,
    /// Each definition's trend dates in time order, ending at its index date (empty without
    /// trends).
    pub trend_dates: Vec<Vec<NaiveDate>>,
    /// Trend rows (breakdown `all`, every area the indicator covers) at each definition's trend
    /// dates *before* its index date, in the order of [`Profiles::rows`]. The last point of a
    /// trend is the profile row itself.
    pub trends: Vec<Computed>,
    /// The registered population by area, sex and age band on the latest index date, when asked
    /// for.
    pub population: Option<Population>,
}

/// What [`compute`] works out besides the profile rows.
#[derive(Clone, Debug, Default)]
pub struct Extras {
    /// Points per trend, the index date included (0: no trends).
    pub trend_points: usize,
    /// Months between trend points.
    pub trend_every_months: u32,
    /// The registered population's indicator: its denominator is counted by area, sex and age
    /// band on the latest index date of `definitions`, for the population pyramid.
    pub population: Option<Definition>,
    /// The roundings of the policies the figures will be released under (besides none): each
    /// figure is also computed from counts rounded each way ([`Computed::rounded`]).
    pub roundings: Vec<Rounding>,
}

impl Extras {
    /// The roundings of `policies`, for [`Extras::roundings`].
    pub fn roundings_of<'a>(policies: impl IntoIterator<Item = &'a Policy>) -> Vec<Rounding> {
        let mut out: Vec<Rounding> = Vec::new();
        for r in policies.into_iter().map(Policy::rounding) {
            if r != Rounding::None && !out.contains(&r) {
                out.push(r);
            }
        }
        out
    }
}

/// Whether `ind` is reported by `breakdown`: everyone always, the breakdowns it lists, and IMD
/// deciles whenever its method has an SII: the SII is computed from the released decile rows
/// only ([`ProfileTable::from_released`]), so the deciles it stands on are published beside it
/// (as Fingertips' inequality tool publishes them) and it reveals nothing they do not.
fn reports(ind: &Indicator, breakdown: Breakdown) -> bool {
    breakdown == Breakdown::All
        || ind.breakdowns.iter().any(|b| b.name == breakdown.name())
        || (breakdown == Breakdown::ImdDecile && inequality::has_sii(ind.method))
}

/// Whether `ind` is profiled for areas of `area_type`: the ICS always, places and
/// neighbourhoods when its breakdowns list `place` and `neighbourhood`. (A life expectancy
/// leaves neighbourhoods out: people who died before the index date have no practice on it,
/// so their deaths would fall outside every neighbourhood.)
fn covers(ind: &Indicator, area_type: AreaType) -> bool {
    area_type == AreaType::Ics || ind.breakdowns.iter().any(|b| b.name == area_type.name())
}

/// One engine pass, on one date: the indicators whose index date it is (cells by every
/// dimension, every breakdown) and those that need it as an earlier trend point (cells by
/// [`cells::TREND_DIMS`] when no indicator has it as its index date; breakdown `all` only).
#[derive(Debug, Default)]
struct Pass {
    main: Vec<usize>,
    trend: Vec<usize>,
}

/// Runs the engine once per date and computes every figure: the profile rows at each
/// indicator's index date, and the trend rows at its earlier trend dates. Indicators with
/// different index dates that need the same date share its pass. With a population
/// definition, the registered population is counted on the latest index date, as one more
/// indicator of that date's pass. `on_pass(done, total)` is called after each pass.
///
/// One pass per date rather than one plan over many dates (`Periods::Many`): with the whole
/// framework, a plan over many dates carries every person once per date through joins with
/// dozens of per-person aggregates, and "ever before" conditions pair each event with nearly
/// every date. On the 1.1M store, 24 monthly points (the three profile dates' passes plus one
/// plan over the 23 earlier dates) took 248 s and 14.8 GB, against 163 s and 1.1 GB for a pass
/// per date (`phm profiles --trend-points 24`). Measures of one indicator are the other way
/// round: `definitions/measures/trends.phm` runs in one plan per measure.
///
/// # Errors
/// Engine failures; a healthy life expectancy whose life table is not among `definitions`;
/// trend settings that reach outside the calendar.
pub async fn compute(
    source: &impl CellSource,
    definitions: Vec<Definition>,
    reference: &ReferenceData,
    ics: Ics,
    extras: &Extras,
    mut on_pass: impl FnMut(usize, usize),
) -> Result<Profiles> {
    let mut passes: BTreeMap<NaiveDate, Pass> = BTreeMap::new();
    let mut trend_dates = Vec::with_capacity(definitions.len());
    for (i, d) in definitions.iter().enumerate() {
        passes.entry(d.index_date).or_default().main.push(i);
        let dates = dates::trend_dates(d.index_date, extras.trend_points, extras.trend_every_months)?;
        for date in dates.iter().filter(|&&t| t != d.index_date) {
            passes.entry(*date).or_default().trend.push(i);
        }
        trend_dates.push(dates);
    }
    let mut rows = Vec::new();
    let mut trends = Vec::new();
    let mut population = extras.population.as_ref().map(|d| Population::new(d.clone()));
    // The pyramid is of the latest index date: the population most indicators describe.
    let latest = definitions.iter().map(|d| d.index_date).max();
    let mut cell_count = 0;
    let total = passes.len();
    for (done, (date, pass)) in passes.iter().enumerate() {
        // The indicators in the order main, then trend (their counts' positions in the cells),
        // then the population's on the latest index date.
        let members: Vec<usize> = pass.main.iter().chain(&pass.trend).copied().collect();
        let mut inds: Vec<&Indicator> = members.iter().map(|&i| &definitions[i].indicator).collect();
        let population_at = match &extras.population {
            Some(p) if Some(*date) == latest => {
                inds.push(&p.indicator);
                Some(inds.len() - 1)
            }
            _ => None,
        };
        let full = !pass.main.is_empty();
        let (dims, breakdowns): (&[Dimension], &[Breakdown]) =
            if full { (&Dimension::PROFILE, &Breakdown::ALL) } else { (&Dimension::TREND, &[Breakdown::All]) };
        let cells = source.cells(&inds, *date, dims).await.map_err(|e| Error::Cells(Box::new(e)))?;
        let sums = cells::sum_cells(&cells, &ics.code, breakdowns)?;
        cell_count += sums.cells;
        let (main, trend) = members.split_at(pass.main.len());
        rows.extend(figures_for(&definitions, &members, main, &sums, reference, &ics, &extras.roundings, false)?);
        trends.extend(figures_for(&definitions, &members, trend, &sums, reference, &ics, &extras.roundings, true)?);
        if let (Some(p), Some(k)) = (&mut population, population_at) {
            p.add(&cells, k, &ics.code)?;
        }
        on_pass(done + 1, total);
    }
    rows.sort_by(|a, b| (a.definition, &a.key).cmp(&(b.definition, &b.key)));
    trends.sort_by(|a, b| (a.definition, &a.key).cmp(&(b.definition, &b.key)));
    Ok(Profiles { definitions, rows, ics, cells: cell_count, passes: total, trend_dates, trends, population })
}

/// The figures of the indicators `wanted`, among the `members` of one pass (whose counts are
/// in that order in `sums`), from exact counts and from counts rounded each of `roundings`'
/// ways. With `only_all`, only the `all` rows (trend points).
#[expect(clippy::too_many_arguments, reason = "one pass's inputs; the caller is the pass loop above")]
fn figures_for(
    definitions: &[Definition],
    members: &[usize],
    wanted: &[usize],
    sums: &Sums,
    reference: &ReferenceData,
    ics: &Ics,
    roundings: &[Rounding],
    only_all: bool,
) -> Result<Vec<Computed>> {
    let position: HashMap<&str, usize> =
        members.iter().enumerate().map(|(pos, &i)| (definitions[i].indicator.name.as_str(), pos)).collect();
    let mut out = Vec::new();
    for &def in wanted {
        let ind = &definitions[def].indicator;
        let pos = position[ind.name.as_str()];
        let le_pos = match &ind.about.life_table {
            Some(name) => Some(*position.get(name.as_str()).ok_or_else(|| {
                Error::Invalid(format!(
                    "`{}` takes its life table from `{name}`, which is not profiled with the same index date",
                    ind.name
                ))
            })?),
            None => None,
        };
        let le_ind = le_pos.map(|p| &definitions[members[p]].indicator);
        for (key, per_indicator) in &sums.sums {
            if !covers(ind, key.area_type) || !reports(ind, key.breakdown) {
                continue;
            }
            if only_all && key.breakdown != Breakdown::All {
                continue;
            }
            let bands = &per_indicator[pos];
            let ics_key = Key {
                area_type: AreaType::Ics,
                area: ics.code.clone(),
                breakdown: Breakdown::All,
                category: "all".into(),
                ..key.clone()
            };
            let cx = Context {
                esp: &reference.esp2013,
                ics: sums.get(&ics_key, pos),
                life_table: le_pos.zip(le_ind).map(|(p, i)| (i, &per_indicator[p])),
            };
            let figure = figures::figure(ind, key.breakdown, bands, &cx, Rounding::None);
            let rounded = roundings.iter().map(|&r| (r, figures::figure(ind, key.breakdown, bands, &cx, r))).collect();
            let (numerator, denominator) = bands.iter().fold((0, 0), |(n, d), (bn, bd)| (n + bn, d + bd));
            out.push(Computed { definition: def, key: key.clone(), numerator, denominator, figure, rounded });
        }
    }
    Ok(out)
}

/// The key of a row in the disclosure table: which indicator, and which figure of it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RowKey {
    /// Indicator name.
    pub indicator: String,
    /// Area, breakdown and category.
    pub key: Key,
}

impl fmt::Display for RowKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {}={}",
            self.indicator,
            self.key.index_date,
            self.key.area_type.name(),
            self.key.area,
            self.key.breakdown.name(),
            self.key.category
        )
    }
}

/// The derived figures of a row, in the order of the disclosure table's derived columns. The
/// SII and RII are not among them: they are computed after release from the published decile
/// rows ([`ProfileTable::from_released`]).
pub const DERIVED: [&str; 5] = ["value", "lower_95", "upper_95", "lower_99_8", "upper_99_8"];

/// Releases every row under `policy`: one disclosure table per indicator, with the groups a
/// reader could subtract.
///
/// # Errors
/// A table the disclosure layer refuses (a bug in the groups).
pub fn release(profiles: &Profiles, policy: &Policy) -> Result<Vec<Released<phm_disclosure::ReleasedTable<RowKey>>>> {
    release_rows(&profiles.definitions, &profiles.rows, &profiles.ics, policy)
}

/// Releases `rows` (sorted by definition) under `policy`, one table per definition, with the
/// groups a reader could subtract: [`release`] for the profile rows, and the trends' earlier
/// points (whose groups are the places, and the neighbourhoods, of the ICS at each date).
///
/// # Errors
/// As [`release`].
pub(crate) fn release_rows(
    definitions: &[Definition],
    rows: &[Computed],
    ics: &Ics,
    policy: &Policy,
) -> Result<Vec<Released<phm_disclosure::ReleasedTable<RowKey>>>> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        let def = rows[start].definition;
        let end = rows[start..].iter().position(|r| r.definition != def).map_or(rows.len(), |p| start + p);
        let ind = &definitions[def].indicator;
        let mut table = Table::new(&["numerator", "denominator"], &DERIVED)?;
        if ind.method == Method::Proportion {
            table.proportion("numerator", "denominator")?;
        }
        let mut index: HashMap<&Key, usize> = HashMap::new();
        for row in &rows[start..end] {
            // Computed from counts rounded as the policy rounds them (see `figures`).
            let f = row.figure_for(policy.rounding())?;
            let lim = |k: usize, upper: bool| f.limits[k].map(|(l, u)| if upper { u } else { l });
            let derived = [f.value, lim(0, false), lim(0, true), lim(1, false), lim(1, true)];
            // Counts are never negative (the engine refuses a definition whose numerator sums
            // below zero), so this is a check, not a clamp.
            let count = |n: i64| {
                u64::try_from(n).map_err(|_| Error::Internal(format!("a negative count ({n}) in `{}`", ind.name)))
            };
            let counts = [count(row.numerator)?, count(row.denominator)?];
            let i = table.push(RowKey { indicator: ind.name.clone(), key: row.key.clone() }, &counts, &derived)?;
            index.insert(&row.key, i);
        }
        for (total, parts) in groups(&rows[start..end], ics) {
            let t = index[total];
            let p: Vec<usize> = parts.iter().map(|k| index[*k]).collect();
            if !p.is_empty() {
                table.group(t, &p)?;
            }
        }
        out.push(phm_disclosure::release(table, policy)?);
        start = end;
    }
    Ok(out)
}

/// The additive groups among one indicator's rows: (total, parts).
fn groups<'a>(rows: &'a [Computed], ics: &Ics) -> Vec<(&'a Key, Vec<&'a Key>)> {
    let keys: HashMap<&Key, ()> = rows.iter().map(|r| (&r.key, ())).collect();
    let mut out = Vec::new();
    // An area's categories of one breakdown add up to the area's total.
    let mut by_area: BTreeMap<(NaiveDate, AreaType, &str, Breakdown), Vec<&Key>> = BTreeMap::new();
    // Places (and neighbourhoods) add up to the ICS, category by category.
    let mut by_category: BTreeMap<(NaiveDate, AreaType, Breakdown, &str), Vec<&Key>> = BTreeMap::new();
    for r in rows {
        let k = &r.key;
        if k.breakdown != Breakdown::All {
            by_area.entry((k.index_date, k.area_type, k.area.as_str(), k.breakdown)).or_default().push(k);
        }
        if k.area_type != AreaType::Ics {
            by_category.entry((k.index_date, k.area_type, k.breakdown, k.category.as_str())).or_default().push(k);
        }
    }
    for ((date, area_type, area, _), parts) in by_area {
        let total = Key {
            index_date: date,
            area_type,
            area: area.to_owned(),
            breakdown: Breakdown::All,
            category: "all".into(),
        };
        if let Some((t, _)) = keys.get_key_value(&total) {
            out.push((*t, parts));
        }
    }
    for ((date, _, breakdown, category), parts) in by_category {
        let total = Key {
            index_date: date,
            area_type: AreaType::Ics,
            area: ics.code.clone(),
            breakdown,
            category: category.to_owned(),
        };
        if let Some((t, _)) = keys.get_key_value(&total) {
            out.push((*t, parts));
        }
    }
    // Two IMD deciles make a quintile, in every area.
    for r in rows.iter().filter(|r| r.key.breakdown == Breakdown::ImdQuintile) {
        let Ok(q) = r.key.category.parse::<u8>() else { continue };
        let parts: Vec<&Key> = [2 * q - 1, 2 * q]
            .iter()
            .filter_map(|d| {
                keys.get_key_value(&Key { breakdown: Breakdown::ImdDecile, category: d.to_string(), ..r.key.clone() })
                    .map(|(k, _)| *k)
            })
            .collect();
        if !parts.is_empty() {
            out.push((&r.key, parts));
        }
    }
    out
}

/// A released profile row, as written and served (and read back by the web app).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProfileRow {
    /// Indicator name.
    pub indicator: String,
    /// Indicator title.
    pub title: String,
    /// Statistical method.
    pub method: Method,
    /// The multiplier of the value (100 for a percentage, 100,000 for a rate per 100,000).
    pub multiplier: f64,
    /// `higher_is_better`, `lower_is_better` or `no_judgement`.
    pub polarity: String,
    /// Index date.
    pub period: NaiveDate,
    /// `ics`, `place` or `neighbourhood`.
    pub area_type: String,
    /// Area code.
    pub area_code: String,
    /// Area name.
    pub area_name: String,
    /// Code of the area this one is part of (the ICS for places and neighbourhoods; the place
    /// for a neighbourhood's practices' place).
    pub parent_code: Option<String>,
    /// Breakdown.
    pub breakdown: String,
    /// Category.
    pub category: String,
    /// Numerator, as released (suppressed or rounded).
    pub numerator: Option<u64>,
    /// Denominator, as released.
    pub denominator: Option<u64>,
    /// The value.
    pub value: Option<f64>,
    /// 95% lower limit.
    pub lower_95: Option<f64>,
    /// 95% upper limit.
    pub upper_95: Option<f64>,
    /// 99.8% lower limit.
    pub lower_99_8: Option<f64>,
    /// 99.8% upper limit.
    pub upper_99_8: Option<f64>,
    /// Why the value is missing or to be read with care.
    pub reason: Option<String>,
    /// Slope index of inequality across IMD deciles (on `all` rows).
    pub sii: Option<f64>,
    /// Its 95% lower limit.
    pub sii_lower_95: Option<f64>,
    /// Its 95% upper limit.
    pub sii_upper_95: Option<f64>,
    /// Relative index of inequality.
    pub rii: Option<f64>,
    /// Its 95% lower limit.
    pub rii_lower_95: Option<f64>,
    /// Its 95% upper limit.
    pub rii_upper_95: Option<f64>,
    /// Why an `all` row has no SII (e.g. a decile without a value).
    pub sii_reason: Option<String>,
    /// The ICS's value for the same breakdown and category.
    pub ics_value: Option<f64>,
    /// Compared with the ICS at 95%.
    pub compared_to_ics_95: Option<String>,
    /// Compared with the ICS at 99.8%.
    pub compared_to_ics_99_8: Option<String>,
    /// England's value, from the reference file.
    pub england_value: Option<f64>,
    /// The period of England's value.
    pub england_period: Option<String>,
    /// Compared with England at 95%.
    pub compared_to_england_95: Option<String>,
    /// Compared with England at 99.8%.
    pub compared_to_england_99_8: Option<String>,
    /// Disclosure control applied to the row's counts, e.g. `published`, `suppressed: count 1–7`.
    pub disclosure: String,
    /// Definition file.
    pub definition: String,
    /// SHA-256 of the definition.
    pub definition_sha256: String,
}

/// The released profile rows. Only [`ProfileTable::from_released`] makes one, from tables that
/// went through disclosure control (its fields are private and it cannot be deserialised), and
/// the writers and the API take only a `ProfileTable`: nothing unreleased can reach them.
#[derive(Clone, Debug)]
pub struct ProfileTable {
    rows: Vec<ProfileRow>,
    policy: String,
}

impl ProfileTable {
    /// The rows.
    pub fn rows(&self) -> &[ProfileRow] {
        &self.rows
    }

    /// The disclosure policy the rows were released under.
    pub fn policy(&self) -> &str {
        &self.policy
    }

    /// Builds the rows from released tables, naming areas and adding benchmarks: against the
    /// ICS (same breakdown and category) and against England (`all` rows, where the reference
    /// file has a value). Comparisons are only made for published values.
    pub fn from_released(
        profiles: &Profiles,
        released: &[Released<phm_disclosure::ReleasedTable<RowKey>>],
        reference: &ReferenceData,
        england: &England,
    ) -> ProfileTable {
        let names = area_names(reference, &profiles.ics);
        let by_name: HashMap<&str, (usize, &Definition)> =
            profiles.definitions.iter().enumerate().map(|(i, d)| (d.indicator.name.as_str(), (i, d))).collect();
        let rounding = released.first().map_or(Rounding::None, |t| t.get().policy().rounding());
        let reasons: HashMap<(usize, &Key), &String> = profiles
            .rows
            .iter()
            .filter_map(|r| {
                r.figure_for(rounding).ok().and_then(|f| f.reason.as_ref()).map(|why| ((r.definition, &r.key), why))
            })
            .collect();
        let mut rows = Vec::new();
        let mut policy = String::new();
        // The ICS's released values, the comparator of every place and neighbourhood.
        let mut ics_values: HashMap<(&str, NaiveDate, Breakdown, &str), Option<f64>> = HashMap::new();
        // Each area's released IMD decile rows, for its SII.
        let mut deciles: HashMap<(&str, NaiveDate, AreaType, &str), Vec<(u8, &ReleasedCell<RowKey>)>> = HashMap::new();
        for table in released {
            policy = table.get().policy().name().to_owned();
            for cell in table.get().cells() {
                let k = cell.key();
                if k.key.area_type == AreaType::Ics {
                    ics_values.insert(
                        (k.indicator.as_str(), k.key.index_date, k.key.breakdown, k.key.category.as_str()),
                        cell.derived()[0].value(),
                    );
                }
                if k.key.breakdown == Breakdown::ImdDecile
                    && let Ok(decile) = k.key.category.parse::<u8>()
                {
                    deciles
                        .entry((k.indicator.as_str(), k.key.index_date, k.key.area_type, k.key.area.as_str()))
                        .or_default()
                        .push((decile, cell));
                }
            }
        }
        for ds in deciles.values_mut() {
            ds.sort_by_key(|d| d.0);
        }
        for table in released {
            for cell in table.get().cells() {
                let k = cell.key();
                let Some(&(def_index, def)) = by_name.get(k.indicator.as_str()) else { continue };
                let ind = &def.indicator;
                let polarity = match ind.about.polarity {
                    Polarity::HigherIsBetter => compare::Polarity::HigherIsBetter,
                    Polarity::LowerIsBetter => compare::Polarity::LowerIsBetter,
                    Polarity::NoJudgement => compare::Polarity::NoJudgement,
                };
                let d = cell.derived();
                let c = cell.counts();
                let est = |l: usize, lo: usize, hi: usize| match (d[0].value(), d[lo].value(), d[hi].value()) {
                    (Some(value), Some(lower), Some(upper)) => {
                        Some(Estimate { value, lower, upper, confidence: LEVELS[l] })
                    }
                    _ => None,
                };
                let own = [est(0, 1, 2), est(1, 3, 4)];
                let ics =
                    ics_values.get(&(k.indicator.as_str(), k.key.index_date, k.key.breakdown, k.key.category.as_str()));
                let (ics_value, cmp_ics) = match (k.key.area_type, ics) {
                    (AreaType::Ics, _) | (_, None) => (None, [None, None]),
                    (_, Some(v)) => {
                        (*v, [0, 1].map(|l| Some(show(compare::compare_with_interval(own[l].as_ref(), *v, polarity)))))
                    }
                };
                let eng = (k.key.breakdown == Breakdown::All).then(|| england.get(&ind.name)).flatten();
                let cmp_eng = match eng {
                    Some(e) => [0, 1]
                        .map(|l| Some(show(compare::compare_with_interval(own[l].as_ref(), Some(e.value), polarity)))),
                    None => [None, None],
                };
                let figure_reason = reasons.get(&(def_index, &k.key)).map(|s| (*s).clone());
                // The SII of an area's `all` row, from its published decile rows only.
                let ineq = (k.key.breakdown == Breakdown::All).then(|| {
                    let ds =
                        deciles.get(&(k.indicator.as_str(), k.key.index_date, k.key.area_type, k.key.area.as_str()));
                    inequality::from_released(ind, ds.map_or(&[][..], Vec::as_slice))
                });
                let ineq = ineq.unwrap_or_default();
                let (area_name, parent) = names
                    .get(&(k.key.area_type, k.key.area.clone()))
                    .cloned()
                    .unwrap_or_else(|| (k.key.area.clone(), None));
                rows.push(ProfileRow {
                    indicator: ind.name.clone(),
                    title: ind.title.clone(),
                    method: ind.method,
                    multiplier: ind.multiplier,
                    polarity: ind.about.polarity.name().to_owned(),
                    period: k.key.index_date,
                    area_type: k.key.area_type.name().to_owned(),
                    area_code: k.key.area.clone(),
                    area_name,
                    parent_code: parent,
                    breakdown: k.key.breakdown.name().to_owned(),
                    category: k.key.category.clone(),
                    numerator: c[0].value(),
                    denominator: c[1].value(),
                    value: d[0].value(),
                    lower_95: d[1].value(),
                    upper_95: d[2].value(),
                    lower_99_8: d[3].value(),
                    upper_99_8: d[4].value(),
                    reason: match d[0].status() {
                        phm_disclosure::Status::Withheld => Some(d[0].status().to_string()),
                        _ => figure_reason,
                    },
                    sii: ineq.sii,
                    sii_lower_95: ineq.sii_limits.map(|l| l.0),
                    sii_upper_95: ineq.sii_limits.map(|l| l.1),
                    rii: ineq.rii,
                    rii_lower_95: ineq.rii_limits.map(|l| l.0),
                    rii_upper_95: ineq.rii_limits.map(|l| l.1),
                    sii_reason: ineq.reason,
                    ics_value,
                    compared_to_ics_95: cmp_ics[0].clone(),
                    compared_to_ics_99_8: cmp_ics[1].clone(),
                    england_value: eng.map(|e| e.value),
                    england_period: eng.map(|e| e.period.clone()),
                    compared_to_england_95: cmp_eng[0].clone(),
                    compared_to_england_99_8: cmp_eng[1].clone(),
                    disclosure: table.get().counts_status(cell),
                    definition: def.source.clone(),
                    definition_sha256: def.content_hash.clone(),
                });
            }
        }
        ProfileTable { rows, policy }
    }
}

fn show(c: Comparison) -> String {
    c.to_string()
}

/// (area type, code) → (name, parent code).
pub(crate) fn area_names(
    reference: &ReferenceData,
    ics: &Ics,
) -> HashMap<(AreaType, String), (String, Option<String>)> {
    let mut out = HashMap::new();
    out.insert((AreaType::Ics, ics.code.clone()), (ics.name.clone(), None));
    for p in &reference.places {
        out.insert((AreaType::Place, p.place_code.clone()), (p.place_name.clone(), Some(ics.code.clone())));
    }
    for p in &reference.pcns {
        out.insert((AreaType::Neighbourhood, p.pcn_code.clone()), (p.pcn_name.clone(), Some(p.place_code.clone())));
    }
    for t in [AreaType::Place, AreaType::Neighbourhood] {
        out.insert((t, NOT_RECORDED.to_owned()), (format!("{} not recorded", t.name()), Some(ics.code.clone())));
    }
    out
}
