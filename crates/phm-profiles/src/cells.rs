//! The engine's cells for the profiles, and their sums by area, breakdown and age band.
//!
//! The engine counts every indicator in one pass into *cells*: one row per combination of
//! the [`DIMS`] values (place of residence, neighbourhood, IMD decile, ethnic group, sex and
//! life-table age band), with a numerator and denominator per indicator. Every figure of a
//! profile is a sum of cells, so the cells are read once and added up here in memory:
//! about 200,000 cells for 1.1 million people.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use phm_model::{AgeBands, Cells, Dimension, NOT_RECORDED};

use crate::{Error, Result};

/// The number of life-table bands (`0`, `1-4`, `5-9`, … `90+`); slot [`BANDS`] holds people
/// whose age is not recorded.
pub const BANDS: usize = 20;

/// A way of dividing an area's population.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Breakdown {
    /// Everyone.
    All,
    /// IMD 2019 quintile of the area of residence (1 = most deprived).
    ImdQuintile,
    /// IMD 2019 decile of the area of residence (1 = most deprived).
    ImdDecile,
    /// ONS 5 ethnic groups.
    Ethnicity5,
    /// Sex.
    Sex,
    /// ESP2013 age band.
    AgeBand,
}

impl Breakdown {
    /// Every breakdown, in display order.
    pub const ALL: [Breakdown; 6] =
        [Self::All, Self::ImdQuintile, Self::ImdDecile, Self::Ethnicity5, Self::Sex, Self::AgeBand];

    /// The name used in definitions and in the profile table.
    pub fn name(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::ImdQuintile => "imd_quintile",
            Self::ImdDecile => "imd_decile",
            Self::Ethnicity5 => "ethnicity5",
            Self::Sex => "sex",
            Self::AgeBand => "age_band",
        }
    }
}

/// The kind of area a profile row is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AreaType {
    /// The whole integrated care system.
    Ics,
    /// A place (local authority) of residence.
    Place,
    /// A neighbourhood: the primary care network of the practice a person is registered with.
    Neighbourhood,
}

impl AreaType {
    /// The name used in the profile table.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ics => "ics",
            Self::Place => "place",
            Self::Neighbourhood => "neighbourhood",
        }
    }
}

/// Numerator and denominator per life-table band, plus a last slot for age not recorded.
pub type Bands = [(i64, i64); BANDS + 1];

/// What one sum is of: an area, a breakdown and one of its categories.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    /// Index date.
    pub index_date: NaiveDate,
    /// Kind of area.
    pub area_type: AreaType,
    /// Area code (the ICS code, a place code, a PCN code, or `not recorded`).
    pub area: String,
    /// Breakdown.
    pub breakdown: Breakdown,
    /// Category within the breakdown (`all` for [`Breakdown::All`]).
    pub category: String,
}

/// Sums of cells: for each [`Key`], per indicator, numerator and denominator by band.
#[derive(Debug, Default)]
pub struct Sums {
    /// Per key, per indicator (in the order given to the engine).
    pub sums: BTreeMap<Key, Vec<Bands>>,
    /// Cells read.
    pub cells: usize,
}

impl Sums {
    /// The bands of indicator `i` for `key`, if anyone is in that key.
    pub fn get(&self, key: &Key, i: usize) -> Option<&Bands> {
        self.sums.get(key).map(|v| &v[i])
    }
}

/// The ESP2013 band that a life-table band falls in (`0` and `1-4` are both `0-4`).
pub fn esp_band_of(life_band: &str) -> String {
    match life_band {
        "0" | "1-4" => "0-4".to_owned(),
        other => other.to_owned(),
    }
}

/// Adds up the engine's cells for the ICS, each place and each neighbourhood, by each of
/// `breakdowns`. Cells by [`Dimension::PROFILE`] serve every breakdown; cells by
/// [`Dimension::TREND`] only [`Breakdown::All`] and [`Breakdown::AgeBand`].
///
/// # Errors
/// Cells without a dimension the breakdowns need, or an IMD decile or age band the profiles do
/// not know.
pub fn sum_cells(cells: &Cells, ics_code: &str, breakdowns: &[Breakdown]) -> Result<Sums> {
    let band_index: HashMap<String, usize> =
        AgeBands::LifeTable.bands().into_iter().enumerate().map(|(i, (_, label))| (label, i)).collect();
    let indicators = cells.indicators;
    // Each dimension's position, when a breakdown asked for needs it (areas and bands always).
    let needed = |d: Dimension| -> Result<Option<usize>> {
        let wanted = match d {
            Dimension::ImdDecile => {
                breakdowns.iter().any(|b| matches!(b, Breakdown::ImdDecile | Breakdown::ImdQuintile))
            }
            Dimension::Ethnicity5 => breakdowns.contains(&Breakdown::Ethnicity5),
            Dimension::Sex => breakdowns.contains(&Breakdown::Sex),
            Dimension::Place | Dimension::Neighbourhood | Dimension::LifeTableBand => true,
        };
        wanted.then(|| position(cells, d)).transpose()
    };
    let [place, neighbourhood, imd_decile, ethnicity5, sex, life_band] = [
        needed(Dimension::Place)?,
        needed(Dimension::Neighbourhood)?,
        needed(Dimension::ImdDecile)?,
        needed(Dimension::Ethnicity5)?,
        needed(Dimension::Sex)?,
        needed(Dimension::LifeTableBand)?,
    ];
    let mut sums: HashMap<Key, Vec<Bands>> = HashMap::new();
    for cell in &cells.cells {
        let v = |at: Option<usize>| at.and_then(|j| cell.values[j].as_deref()).unwrap_or(NOT_RECORDED);
        let band = match v(life_band) {
            NOT_RECORDED => BANDS,
            b => *band_index.get(b).ok_or_else(|| Error::Internal(format!("unknown life-table band `{b}`")))?,
        };
        let decile = v(imd_decile);
        let quintile = match decile.parse::<u8>() {
            Ok(d @ 1..=10) => d.div_ceil(2).to_string(),
            _ if decile == NOT_RECORDED => decile.to_owned(),
            _ => return Err(Error::Internal(format!("unknown IMD decile `{decile}`"))),
        };
        let wanted = |b: &Breakdown| breakdowns.contains(b);
        let age_band = if band == BANDS { NOT_RECORDED.to_owned() } else { esp_band_of(v(life_band)) };
        let areas =
            [(AreaType::Ics, ics_code), (AreaType::Place, v(place)), (AreaType::Neighbourhood, v(neighbourhood))];
        let categories = [
            (Breakdown::All, "all"),
            (Breakdown::ImdQuintile, quintile.as_str()),
            (Breakdown::ImdDecile, decile),
            (Breakdown::Ethnicity5, v(ethnicity5)),
            (Breakdown::Sex, v(sex)),
            (Breakdown::AgeBand, age_band.as_str()),
        ];
        for (area_type, area) in areas {
            for (breakdown, category) in categories.into_iter().filter(|(b, _)| wanted(b)) {
                let key = Key {
                    index_date: cell.index_date,
                    area_type,
                    area: area.to_owned(),
                    breakdown,
                    category: category.to_owned(),
                };
                let entry = sums.entry(key).or_insert_with(|| vec![[(0, 0); BANDS + 1]; indicators]);
                for (i, count) in cell.counts.iter().enumerate() {
                    let slot = &mut entry[i][band];
                    slot.0 += count_i64(count.numerator)?;
                    slot.1 += count_i64(count.denominator)?;
                }
            }
        }
    }
    Ok(Sums { sums: sums.into_iter().collect(), cells: cells.cells.len() })
}

/// Where `dimension` is among the cells' dimensions.
///
/// # Errors
/// Cells not by it (a bug in the caller's choice of dimensions).
pub(crate) fn position(cells: &Cells, dimension: Dimension) -> Result<usize> {
    cells
        .position(dimension)
        .ok_or_else(|| Error::Internal(format!("the engine's cells are not by `{}`", dimension.name())))
}

/// A count as the figures' whole numbers (exact up to 2^63).
fn count_i64(n: u64) -> Result<i64> {
    i64::try_from(n).map_err(|_| Error::Internal(format!("a count of {n} is too large to add up")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn life_table_bands_fold_into_esp_bands() {
        assert_eq!(esp_band_of("0"), "0-4");
        assert_eq!(esp_band_of("1-4"), "0-4");
        assert_eq!(esp_band_of("85-89"), "85-89");
        assert_eq!(AgeBands::LifeTable.bands().len(), BANDS);
    }
}
