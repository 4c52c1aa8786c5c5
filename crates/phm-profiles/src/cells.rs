//! The engine's cells for the profiles, and their sums by area, breakdown and age band.
//!
//! The engine counts every indicator in one pass into *cells*: one row per combination of
//! the [`DIMS`] values (place of residence, neighbourhood, IMD decile, ethnic group, sex and
//! life-table age band), with a numerator and denominator per indicator. Every figure of a
//! profile is a sum of cells, so the cells are read once and added up here in memory:
//! about 200,000 cells for 1.1 million people.

use std::collections::{BTreeMap, HashMap};

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use chrono::NaiveDate;
use phm_model::{AgeBands, Column};

use crate::{Error, Result};

/// The dimensions the profiles need, by the language's built-in names.
pub const DIMS: [&str; 6] = ["place", "neighbourhood", "imd_decile", "ethnicity5", "sex", "life_table_band"];

const PLACE: usize = 0;
const NEIGHBOURHOOD: usize = 1;
const IMD_DECILE: usize = 2;
const ETHNICITY5: usize = 3;
const SEX: usize = 4;
const BAND: usize = 5;

/// The number of life-table bands (`0`, `1-4`, `5-9`, … `90+`); slot [`BANDS`] holds people
/// whose age is not recorded.
pub const BANDS: usize = 20;

/// The dimensions a trend needs: areas, and the life-table band that age-standardised rates
/// and life tables are computed over. Trends are for everyone (breakdown `all`), so the IMD
/// decile, ethnic group and sex are left out and the engine produces far fewer cells.
pub const TREND_DIMS: [&str; 3] = ["place", "neighbourhood", "life_table_band"];

/// The [`DIMS`] as bound columns, for [`phm_engine::Engine::cells_plan`].
///
/// # Errors
/// A built-in name the language no longer knows (a programming error, reported not panicked).
pub fn dim_columns() -> Result<Vec<Column>> {
    columns(&DIMS)
}

/// The [`TREND_DIMS`] as bound columns.
///
/// # Errors
/// As [`dim_columns`].
pub fn trend_dim_columns() -> Result<Vec<Column>> {
    columns(&TREND_DIMS)
}

fn columns(names: &[&str]) -> Result<Vec<Column>> {
    names
        .iter()
        .map(|name| {
            let (expr, ty) = phm_lang::bind_expression(name, &BTreeMap::new(), &[])
                .map_err(|e| Error::Internal(format!("binding `{name}`: {e}")))?;
            Ok(Column { name: (*name).to_owned(), expr, ty })
        })
        .collect()
}

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

/// Adds up the engine's cell batches (columns `index_date`, `b_{dim}` for the dimensions,
/// then `_cn{i}`, `_cd{i}` for each of `indicators` indicators) for the ICS, each place and
/// each neighbourhood, by each of `breakdowns`. Batches from [`dim_columns`] hold every
/// dimension; batches from [`trend_dim_columns`] only those of [`Breakdown::All`] and
/// [`Breakdown::AgeBand`].
///
/// # Errors
/// A batch without the columns the breakdowns need, or an IMD decile or age band the profiles
/// do not know.
pub fn sum_cells(batches: &[RecordBatch], indicators: usize, ics_code: &str, breakdowns: &[Breakdown]) -> Result<Sums> {
    let band_index: HashMap<String, usize> =
        AgeBands::LifeTable.bands().into_iter().enumerate().map(|(i, (_, label))| (label, i)).collect();
    let mut sums: HashMap<Key, Vec<Bands>> = HashMap::new();
    let mut cells = 0;
    for batch in batches {
        let column = |name: &str| {
            batch
                .column_by_name(name)
                .ok_or_else(|| Error::Internal(format!("the engine's cells have no column `{name}`")))
        };
        let dates = column("index_date")?
            .as_primitive_opt::<Date32Type>()
            .ok_or_else(|| Error::Internal("`index_date` is not a date".into()))?;
        // Each dimension's column, when a breakdown asked for needs it (areas and bands always).
        let needed = |j: usize| match j {
            IMD_DECILE => breakdowns.iter().any(|b| matches!(b, Breakdown::ImdDecile | Breakdown::ImdQuintile)),
            ETHNICITY5 => breakdowns.contains(&Breakdown::Ethnicity5),
            SEX => breakdowns.contains(&Breakdown::Sex),
            _ => true,
        };
        let mut dims = Vec::new();
        for (j, d) in DIMS.iter().enumerate() {
            if !needed(j) {
                dims.push(None);
                continue;
            }
            let c = column(&format!("b_{d}"))?;
            dims.push(Some(
                c.as_string_opt::<i32>().ok_or_else(|| Error::Internal(format!("`b_{d}` is not text")))?.clone(),
            ));
        }
        let mut counts = Vec::new();
        for i in 0..indicators {
            let n = column(&format!("_cn{i}"))?
                .as_primitive_opt::<Int64Type>()
                .ok_or_else(|| Error::Internal(format!("`_cn{i}` is not a whole number")))?
                .clone();
            let d = column(&format!("_cd{i}"))?
                .as_primitive_opt::<Int64Type>()
                .ok_or_else(|| Error::Internal(format!("`_cd{i}` is not a whole number")))?
                .clone();
            counts.push((n, d));
        }
        for row in 0..batch.num_rows() {
            cells += 1;
            let Some(date) = dates.value_as_date(row) else { continue };
            let v = |j: usize| match &dims[j] {
                Some(c) if c.is_valid(row) => c.value(row),
                _ => phm_engine::NOT_RECORDED,
            };
            let band = match v(BAND) {
                b if b == phm_engine::NOT_RECORDED => BANDS,
                b => *band_index.get(b).ok_or_else(|| Error::Internal(format!("unknown life-table band `{b}`")))?,
            };
            let decile = v(IMD_DECILE);
            let quintile = match decile.parse::<u8>() {
                Ok(d @ 1..=10) => d.div_ceil(2).to_string(),
                _ if decile == phm_engine::NOT_RECORDED => decile.to_owned(),
                _ => return Err(Error::Internal(format!("unknown IMD decile `{decile}`"))),
            };
            let wanted = |b: &Breakdown| breakdowns.contains(b);
            let age_band = if band == BANDS { phm_engine::NOT_RECORDED.to_owned() } else { esp_band_of(v(BAND)) };
            let areas =
                [(AreaType::Ics, ics_code), (AreaType::Place, v(PLACE)), (AreaType::Neighbourhood, v(NEIGHBOURHOOD))];
            let categories = [
                (Breakdown::All, "all"),
                (Breakdown::ImdQuintile, quintile.as_str()),
                (Breakdown::ImdDecile, decile),
                (Breakdown::Ethnicity5, v(ETHNICITY5)),
                (Breakdown::Sex, v(SEX)),
                (Breakdown::AgeBand, age_band.as_str()),
            ];
            for (area_type, area) in areas {
                for (breakdown, category) in categories.into_iter().filter(|(b, _)| wanted(b)) {
                    let key = Key {
                        index_date: date,
                        area_type,
                        area: area.to_owned(),
                        breakdown,
                        category: category.to_owned(),
                    };
                    let entry = sums.entry(key).or_insert_with(|| vec![[(0, 0); BANDS + 1]; indicators]);
                    for (i, (n, d)) in counts.iter().enumerate() {
                        let slot = &mut entry[i][band];
                        slot.0 += n.value(row);
                        slot.1 += d.value(row);
                    }
                }
            }
        }
    }
    Ok(Sums { sums: sums.into_iter().collect(), cells })
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
