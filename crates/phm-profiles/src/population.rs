//! The registered population by area, sex and five-year age band: the population pyramid of
//! each area, released under the same disclosure policy as the profiles.
//!
//! Who counts is content, not code: the denominator of the population definition
//! (`definitions/population.phm`: `in_population`, people registered with a practice of the
//! ICS, alive and without a national data opt-out on the index date), on the latest index date
//! of the profiled indicators. It is counted in the same engine pass as that date's indicators,
//! as one more indicator, so the pyramid costs no extra scan. Ages are whole years on the index date, banded as the 2013 European
//! Standard Population (`0-4` … `90+`), plus `not recorded`.
//!
//! The table holds every area's counts by sex × age band, and their margins (`all` sexes, `all`
//! ages, both): a reader sees the margins anyway (in this table, and as the denominators of
//! indicators counted over the registered population), so they are released with the cells,
//! and disclosure control protects each suppressed count against subtraction from them. The
//! groups are: within an area, the bands of a sex add up to the sex's `all` row and the sexes
//! of a band to the band's `all` row; across areas, the places (and the neighbourhoods) add up
//! to the ICS, cell by cell.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use chrono::NaiveDate;
use phm_core::reference::ReferenceData;
use phm_disclosure::{Policy, Released, ReleasedTable, Table};
use phm_model::{Cells, Dimension, NOT_RECORDED};

use crate::cells::{AreaType, esp_band_of, position};
use crate::profile::{Definition, Ics, area_names};
use crate::{Error, Result};

/// The category that stands for every sex, or every age band.
pub const ALL: &str = "all";

/// One count of the pyramid: an area on a date, a sex and an age band (either may be [`ALL`]).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PopulationKey {
    /// Index date.
    pub index_date: NaiveDate,
    /// Kind of area.
    pub area_type: AreaType,
    /// Area code.
    pub area: String,
    /// `female`, `male`, `other`, `unknown` or [`ALL`].
    pub sex: String,
    /// An ESP2013 band (`0-4` … `90+`), `not recorded`, or [`ALL`].
    pub age_band: String,
}

impl fmt::Display for PopulationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "population {} {} {} sex={} age_band={}",
            self.index_date,
            self.area_type.name(),
            self.area,
            self.sex,
            self.age_band
        )
    }
}

/// Exact counts per (sex, age band) of one area.
type Counts = BTreeMap<(String, String), u64>;

/// The registered population counted so far, before disclosure control: per index date and
/// area, per (sex, age band), exact counts.
#[derive(Clone, Debug)]
pub struct Population {
    /// The definition whose denominator is counted.
    pub definition: Definition,
    counts: BTreeMap<NaiveDate, BTreeMap<(AreaType, String), Counts>>,
}

impl Population {
    /// Nothing counted yet.
    pub fn new(definition: Definition) -> Self {
        Self { definition, counts: BTreeMap::new() }
    }

    /// The index dates counted.
    pub fn dates(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.counts.keys().copied()
    }

    /// Adds the denominators of indicator `k` of the engine's cells (by place, neighbourhood,
    /// sex and life-table band) to the ICS, the place and the neighbourhood of each cell.
    ///
    /// # Errors
    /// Cells without those dimensions.
    pub fn add(&mut self, cells: &Cells, k: usize, ics_code: &str) -> Result<()> {
        let [place, neighbourhood, sex, band] = [
            position(cells, Dimension::Place)?,
            position(cells, Dimension::Neighbourhood)?,
            position(cells, Dimension::Sex)?,
            position(cells, Dimension::LifeTableBand)?,
        ];
        for cell in &cells.cells {
            let n = cell.counts.get(k).ok_or_else(|| Error::Internal(format!("the cells count no indicator {k}")))?;
            let n = n.denominator;
            if n == 0 {
                continue;
            }
            let v = |j: usize| cell.values[j].clone().unwrap_or_else(|| NOT_RECORDED.to_owned());
            let b = v(band);
            let age_band = if b == NOT_RECORDED { b } else { esp_band_of(&b) };
            let by_area = self.counts.entry(cell.index_date).or_default();
            for area in [
                (AreaType::Ics, ics_code.to_owned()),
                (AreaType::Place, v(place)),
                (AreaType::Neighbourhood, v(neighbourhood)),
            ] {
                *by_area.entry(area).or_default().entry((v(sex), age_band.clone())).or_default() += n;
            }
        }
        Ok(())
    }

    /// Every count of the pyramid with its margins, in display order: for each date and area
    /// with anyone in it, every sex seen in the ICS on that date × every ESP2013 band and `not
    /// recorded` (0 where nobody is), then each sex's `all` ages, then `all` sexes by band and
    /// in total.
    pub fn cells(&self, esp_bands: &[String]) -> Vec<(PopulationKey, u64)> {
        let mut out = Vec::new();
        let mut bands: Vec<String> = esp_bands.to_vec();
        bands.push(NOT_RECORDED.to_owned());
        for (date, by_area) in &self.counts {
            let sexes: BTreeSet<&String> = by_area.values().flat_map(|c| c.keys().map(|(s, _)| s)).collect();
            for ((area_type, area), counts) in by_area {
                let key = |sex: &str, age_band: &str| PopulationKey {
                    index_date: *date,
                    area_type: *area_type,
                    area: area.clone(),
                    sex: sex.to_owned(),
                    age_band: age_band.to_owned(),
                };
                let mut by_band: Vec<u64> = vec![0; bands.len()];
                let mut total = 0;
                for sex in &sexes {
                    let mut sex_total = 0;
                    for (j, band) in bands.iter().enumerate() {
                        let n = counts.get(&((*sex).clone(), band.clone())).copied().unwrap_or(0);
                        out.push((key(sex, band), n));
                        sex_total += n;
                        by_band[j] += n;
                    }
                    out.push((key(sex, ALL), sex_total));
                    total += sex_total;
                }
                for (band, n) in bands.iter().zip(by_band) {
                    out.push((key(ALL, band), n));
                }
                out.push((key(ALL, ALL), total));
            }
        }
        out
    }
}

/// The ESP2013 band labels, in order (`0-4` … `90+`).
pub fn esp_band_labels(reference: &ReferenceData) -> Vec<String> {
    reference.esp2013.iter().map(|b| b.age_band.clone()).collect()
}

/// Releases the pyramid under `policy`: one disclosure table per index date with the groups a
/// reader could subtract (see the [module documentation](self)).
///
/// # Errors
/// A table the disclosure layer refuses (a bug in the groups, which must add up).
pub fn release(
    population: &Population,
    reference: &ReferenceData,
    ics: &Ics,
    policy: &Policy,
) -> Result<Vec<Released<ReleasedTable<PopulationKey>>>> {
    let cells = population.cells(&esp_band_labels(reference));
    let mut by_date: BTreeMap<NaiveDate, Vec<(PopulationKey, u64)>> = BTreeMap::new();
    for (key, n) in cells {
        by_date.entry(key.index_date).or_default().push((key, n));
    }
    let mut out = Vec::new();
    for cells in by_date.into_values() {
        let mut table = Table::new(&["count"], &[])?;
        let mut index: HashMap<PopulationKey, usize> = HashMap::new();
        for (key, n) in &cells {
            let i = table.push(key.clone(), &[*n], &[])?;
            index.insert(key.clone(), i);
        }
        for (total, parts) in groups(cells.iter().map(|(k, _)| k), &ics.code) {
            let t = index[&total];
            let p: Vec<usize> = parts.iter().map(|k| index[k]).collect();
            if !p.is_empty() {
                table.group(t, &p)?;
            }
        }
        out.push(phm_disclosure::release(table, policy)?);
    }
    Ok(out)
}

/// The additive groups among one date's keys: (total, parts).
fn groups<'a>(
    keys: impl Iterator<Item = &'a PopulationKey>,
    ics_code: &str,
) -> Vec<(PopulationKey, Vec<PopulationKey>)> {
    let keys: Vec<&PopulationKey> = keys.collect();
    let mut within_sex: BTreeMap<(AreaType, &str, &str), Vec<PopulationKey>> = BTreeMap::new();
    let mut within_band: BTreeMap<(AreaType, &str, &str), Vec<PopulationKey>> = BTreeMap::new();
    let mut across_areas: BTreeMap<(AreaType, &str, &str), Vec<PopulationKey>> = BTreeMap::new();
    for k in &keys {
        if k.age_band != ALL {
            within_sex.entry((k.area_type, k.area.as_str(), k.sex.as_str())).or_default().push((*k).clone());
        }
        if k.sex != ALL {
            within_band.entry((k.area_type, k.area.as_str(), k.age_band.as_str())).or_default().push((*k).clone());
        }
        if k.area_type != AreaType::Ics {
            across_areas.entry((k.area_type, k.sex.as_str(), k.age_band.as_str())).or_default().push((*k).clone());
        }
    }
    let Some(date) = keys.first().map(|k| k.index_date) else { return Vec::new() };
    let key = |area_type: AreaType, area: &str, sex: &str, age_band: &str| PopulationKey {
        index_date: date,
        area_type,
        area: area.to_owned(),
        sex: sex.to_owned(),
        age_band: age_band.to_owned(),
    };
    let mut out = Vec::new();
    for ((area_type, area, sex), parts) in within_sex {
        out.push((key(area_type, area, sex, ALL), parts));
    }
    for ((area_type, area, band), parts) in within_band {
        out.push((key(area_type, area, ALL, band), parts));
    }
    for ((_, sex, band), parts) in across_areas {
        out.push((key(AreaType::Ics, ics_code, sex, band), parts));
    }
    out
}

/// A released count of the pyramid, as written (and read back by the web app).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PopulationRow {
    /// `ics`, `place` or `neighbourhood`.
    pub area_type: String,
    /// Area code.
    pub area_code: String,
    /// Area name.
    pub area_name: String,
    /// Index date.
    pub period: NaiveDate,
    /// `female`, `male`, `other`, `unknown` or `all`.
    pub sex: String,
    /// ESP2013 band (`0-4` … `90+`), `not recorded`, or `all`.
    pub age_band: String,
    /// The count, as released (suppressed or rounded).
    pub count: Option<u64>,
    /// Disclosure control applied to the count.
    pub disclosure: String,
}

/// The released pyramid. Only [`PopulationTable::from_released`] makes one (private fields, no
/// `Deserialize`), and the writer takes only a `PopulationTable`.
#[derive(Clone, Debug)]
pub struct PopulationTable {
    rows: Vec<PopulationRow>,
    policy: String,
}

impl PopulationTable {
    /// The rows.
    pub fn rows(&self) -> &[PopulationRow] {
        &self.rows
    }

    /// The disclosure policy the rows were released under (empty with no tables).
    pub fn policy(&self) -> &str {
        &self.policy
    }

    /// Names the areas of released tables and orders the rows: area type, area code, date, then
    /// the pyramid's own order (sexes, bands, margins).
    pub fn from_released(
        released: &[Released<ReleasedTable<PopulationKey>>],
        reference: &ReferenceData,
        ics: &Ics,
    ) -> PopulationTable {
        let names = area_names(reference, ics);
        let mut rows = Vec::new();
        let mut policy = String::new();
        for table in released {
            policy = table.get().policy().name().to_owned();
            for cell in table.get().cells() {
                let k = cell.key();
                let area_name =
                    names.get(&(k.area_type, k.area.clone())).map_or_else(|| k.area.clone(), |(name, _)| name.clone());
                rows.push((
                    (k.area_type, k.area.clone(), k.index_date),
                    PopulationRow {
                        area_type: k.area_type.name().to_owned(),
                        area_code: k.area.clone(),
                        area_name,
                        period: k.index_date,
                        sex: k.sex.clone(),
                        age_band: k.age_band.clone(),
                        count: cell.counts()[0].value(),
                        disclosure: table.get().counts_status(cell),
                    },
                ));
            }
        }
        // A stable sort keeps the pyramid's order within an area and date.
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        PopulationTable { rows: rows.into_iter().map(|(_, r)| r).collect(), policy }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definition() -> Definition {
        let dir = tempfile::tempdir().expect("tmp");
        let loaded = phm_lang::load_str(
            "p.phm",
            "indicator p {\n  denominator = registered\n  numerator = registered\n  method = count\n}\n",
            dir.path(),
        );
        let defs = loaded.definitions.expect("loads");
        Definition {
            indicator: defs.indicators[0].clone(),
            index_date: date(),
            source: "p.phm".into(),
            content_hash: String::new(),
        }
    }

    fn date() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 31).expect("a date")
    }

    fn population(cells: &[(&str, &str, &str, &str, u64)]) -> Population {
        let mut p = Population::new(definition());
        let by_area = p.counts.entry(date()).or_default();
        for (place, pcn, sex, band, n) in cells {
            for area in [
                (AreaType::Ics, "ICS".to_owned()),
                (AreaType::Place, (*place).to_owned()),
                (AreaType::Neighbourhood, (*pcn).to_owned()),
            ] {
                *by_area.entry(area).or_default().entry(((*sex).to_owned(), (*band).to_owned())).or_default() += n;
            }
        }
        p
    }

    #[test]
    fn every_area_gets_every_sex_and_band_with_margins_that_add_up() {
        let p = population(&[
            ("A", "A1", "female", "0-4", 30),
            ("A", "A2", "male", "90+", 3),
            ("B", "B1", "female", "90+", 12),
        ]);
        let bands = vec!["0-4".to_owned(), "90+".to_owned()];
        let cells: BTreeMap<PopulationKey, u64> = p.cells(&bands).into_iter().collect();
        let get = |area_type, area: &str, sex: &str, band: &str| {
            cells[&PopulationKey {
                index_date: date(),
                area_type,
                area: area.into(),
                sex: sex.into(),
                age_band: band.into(),
            }]
        };
        // 2 sexes × (2 bands + not recorded + all) + all × (3 + all) for each of 1 + 2 + 3 areas.
        assert_eq!(cells.len(), 6 * (2 * 4 + 4));
        assert_eq!(get(AreaType::Neighbourhood, "A1", "male", "90+"), 0);
        assert_eq!(get(AreaType::Place, "A", ALL, ALL), 33);
        assert_eq!(get(AreaType::Ics, "ICS", "female", ALL), 42);
        assert_eq!(get(AreaType::Ics, "ICS", ALL, "90+"), 15);
        assert_eq!(get(AreaType::Ics, "ICS", ALL, NOT_RECORDED), 0);
    }

    #[test]
    fn released_counts_obey_the_policy_and_the_groups_add_up() {
        let p = population(&[
            ("A", "A1", "female", "0-4", 30),
            ("A", "A2", "male", "90+", 3),
            ("B", "B1", "female", "90+", 12),
            ("B", "B1", "male", "0-4", 41),
        ]);
        let mut reference = ReferenceData::builtin().expect("reference");
        reference.esp2013.retain(|b| b.age_band == "0-4" || b.age_band == "90+");
        let ics = Ics { code: "ICS".into(), name: "The ICS".into() };
        let policy = Policy::builtin("public").expect("policy");
        let released = release(&p, &reference, &ics, &policy).expect("released");
        assert!(released.iter().all(|t| phm_disclosure::audit(t.get()).is_empty()));
        let table = PopulationTable::from_released(&released, &reference, &ics);
        let a2_male_old =
            table.rows().iter().find(|r| r.area_code == "A2" && r.sex == "male" && r.age_band == "90+").expect("row");
        assert_eq!(a2_male_old.count, None, "3 is suppressed");
        assert!(table.rows().iter().filter_map(|r| r.count).all(|n| n % 5 == 0), "public rounds to 5");
        assert_eq!(table.rows()[0].area_type, "ics");
    }
}
