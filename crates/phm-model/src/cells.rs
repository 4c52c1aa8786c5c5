//! Cells: the typed contract between the engine and the statistics above it.
//!
//! The engine counts many indicators in one pass into *cells*: one per index date and
//! combination of the values of some [`Dimension`]s, with a numerator and denominator per
//! indicator. Every figure of a profile is a sum of cells. A dimension is a model node built
//! here, not a name sent back through the language, and a cell holds typed values, not
//! columns found by name.

use std::future::Future;

use chrono::NaiveDate;

use crate::tables::{EventTable, PersonAttr};
use crate::{AgeBands, AggKind, Aggregate, BinOp, Column, EExpr, Frame, Indicator, PExpr, PracticeField, Type};

/// The label of a missing dimension value wherever it is written out.
pub const NOT_RECORDED: &str = "not recorded";

/// A way of dividing people into cells. Each is one of the language's built-in person series
/// (`phm-lang` checks that its built-in names mean the same nodes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dimension {
    /// Place (local authority code) of residence.
    Place,
    /// Neighbourhood: the primary care network of the practice of registration.
    Neighbourhood,
    /// IMD 2019 decile of the area of residence (1 = most deprived).
    ImdDecile,
    /// ONS 5 ethnic groups.
    Ethnicity5,
    /// Sex.
    Sex,
    /// Age band of the abridged life table (`0`, `1-4`, `5-9`, … `90+`).
    LifeTableBand,
}

impl Dimension {
    /// The dimensions of a profile's cells: areas, every inequality breakdown and the
    /// life-table band that standardised rates and life tables are computed over.
    pub const PROFILE: [Dimension; 6] =
        [Self::Place, Self::Neighbourhood, Self::ImdDecile, Self::Ethnicity5, Self::Sex, Self::LifeTableBand];

    /// The dimensions of a trend point's cells: areas and life-table band only (trends are for
    /// everyone, so the engine makes far fewer cells).
    pub const TREND: [Dimension; 3] = [Self::Place, Self::Neighbourhood, Self::LifeTableBand];

    /// The language's built-in name for it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Place => "place",
            Self::Neighbourhood => "neighbourhood",
            Self::ImdDecile => "imd_decile",
            Self::Ethnicity5 => "ethnicity5",
            Self::Sex => "sex",
            Self::LifeTableBand => "life_table_band",
        }
    }

    /// The person series, on the index date.
    pub fn expr(self) -> PExpr {
        let attr = |attr: PersonAttr| PExpr::Attr { attr };
        match self {
            Self::Place => attr(PersonAttr::Place),
            Self::Neighbourhood => {
                PExpr::PracticeLookup { practice: Box::new(practice_on(PExpr::IndexDate)), field: PracticeField::Pcn }
            }
            Self::ImdDecile => attr(PersonAttr::ImdDecile),
            Self::Ethnicity5 => attr(PersonAttr::EthnicGroup5),
            Self::Sex => attr(PersonAttr::Sex),
            Self::LifeTableBand => PExpr::AgeBand {
                bands: AgeBands::LifeTable,
                age: Box::new(PExpr::AgeAt { date: Box::new(PExpr::IndexDate) }),
            },
        }
    }

    /// The type of its values.
    pub fn ty(self) -> Type {
        match self {
            Self::ImdDecile => PersonAttr::ImdDecile.ty(),
            Self::Place | Self::Neighbourhood | Self::Ethnicity5 | Self::Sex | Self::LifeTableBand => Type::Text,
        }
    }

    /// As a named column.
    pub fn column(self) -> Column {
        Column { name: self.name().to_owned(), expr: self.expr(), ty: self.ty() }
    }
}

/// The registrations active on `on`: started on or before it, and not ended before it.
pub fn active_registrations(on: PExpr) -> Frame {
    let date = || EExpr::Column { name: "date".into(), ty: Type::Date };
    let end = || EExpr::Column { name: "end_date".into(), ty: Type::Date };
    let on_e = || EExpr::Person { expr: on.clone() };
    Frame {
        table: EventTable::Registration,
        filters: vec![
            EExpr::Binary { op: BinOp::Le, left: Box::new(date()), right: Box::new(on_e()) },
            EExpr::Binary {
                op: BinOp::Or,
                left: Box::new(EExpr::IsMissing { arg: Box::new(end()) }),
                right: Box::new(EExpr::Binary { op: BinOp::Ge, left: Box::new(end()), right: Box::new(on_e()) }),
            },
        ],
    }
}

/// The practice of the latest registration active on `on`.
pub fn practice_on(on: PExpr) -> PExpr {
    PExpr::Aggregate(Box::new(Aggregate {
        frame: active_registrations(on),
        kind: AggKind::Last { column: "practice".into() },
        ty: Type::Text,
    }))
}

/// Alive on `on`: no date of death, or one after it.
pub fn alive_on(on: PExpr) -> PExpr {
    let dod = || PExpr::Attr { attr: PersonAttr::DateOfDeath };
    PExpr::Binary {
        op: BinOp::Or,
        left: Box::new(PExpr::IsMissing { arg: Box::new(dod()) }),
        right: Box::new(PExpr::Binary { op: BinOp::Gt, left: Box::new(dod()), right: Box::new(on) }),
    }
}

/// An indicator's counts in one cell. Counts are never negative: the engine refuses a
/// definition whose numerator sums to less than zero in any cell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Count {
    /// Numerator (for a life expectancy: deaths).
    pub numerator: u64,
    /// Denominator.
    pub denominator: u64,
}

/// One cell: an index date, one value per dimension and one [`Count`] per indicator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    /// Index date.
    pub index_date: NaiveDate,
    /// The value of each of [`Cells::dimensions`], in that order; `None` where not recorded.
    pub values: Vec<Option<String>>,
    /// The counts of each indicator, in the order they were given to the engine.
    pub counts: Vec<Count>,
}

/// The engine's cells for some indicators, by some dimensions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cells {
    /// The dimensions of every cell's values.
    pub dimensions: Vec<Dimension>,
    /// How many indicators every cell counts.
    pub indicators: usize,
    /// The cells, in no particular order.
    pub cells: Vec<Cell>,
}

impl Cells {
    /// Where `dimension` is among [`Cells::dimensions`].
    pub fn position(&self, dimension: Dimension) -> Option<usize> {
        self.dimensions.iter().position(|d| *d == dimension)
    }
}

/// What counts indicators into cells: the engine, or a test's own cells. The profiles take any
/// source, so they need no query engine to build and test.
pub trait CellSource {
    /// Why counting failed.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The cells of `indicators` on the index date `on`, by `dimensions` (in that order in each
    /// cell's values), with one [`Count`] per indicator in the order given.
    fn cells(
        &self,
        indicators: &[&Indicator],
        on: NaiveDate,
        dimensions: &[Dimension],
    ) -> impl Future<Output = Result<Cells, Self::Error>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trend_dimensions_are_among_the_profile_dimensions() {
        assert!(Dimension::TREND.iter().all(|d| Dimension::PROFILE.contains(d)));
    }

    #[test]
    fn a_dimension_is_a_text_or_whole_number_series() {
        for d in Dimension::PROFILE {
            assert!(matches!(d.column().ty, Type::Text | Type::Int), "{d:?}");
        }
    }
}
