//! Rows produced by a block of records, by table, with where each record's rows are (so that a
//! duplicate found when blocks are merged can be taken out again).

use phm_core::schema::{self, Table};
use phm_store::BatchBuilder;

/// The tables ingest writes, by index.
pub const TABLES: [&Table; 13] = [
    &schema::PERSON_SOURCE,
    &schema::IDENTITY,
    &schema::REGISTRATION,
    &schema::CONDITION,
    &schema::OBSERVATION,
    &schema::MEDICATION,
    &schema::IMMUNISATION,
    &schema::ENCOUNTER,
    &schema::PROCEDURE,
    &schema::OPT_OUT,
    &schema::POSTCODE_AREA,
    &schema::AREA_DEPRIVATION,
    &schema::PRACTICE_PCN,
];

/// Index of a table in [`TABLES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
#[expect(missing_docs, reason = "one per table")]
pub enum T {
    PersonSource = 0,
    Identity,
    Registration,
    Condition,
    Observation,
    Medication,
    Immunisation,
    Encounter,
    Procedure,
    OptOut,
    PostcodeArea,
    AreaDeprivation,
    PracticePcn,
}

/// Where one accepted record's rows are in a block's builders.
#[derive(Clone, Copy, Debug)]
pub struct Span {
    /// The table.
    pub table: T,
    /// First row.
    pub start: u32,
    /// Rows.
    pub count: u32,
}

/// One accepted record of a block.
#[derive(Clone, Copy, Debug)]
pub struct Accepted {
    /// Its line.
    pub line: u64,
    /// Hash of its duplicate key (resource type and id), 0 if it has none.
    pub key: u64,
    /// Its rows (up to two tables).
    pub spans: [Option<Span>; 2],
}

/// Builders for every table, created on first use.
#[derive(Default)]
pub struct Rows {
    builders: Vec<Option<BatchBuilder>>,
}

impl Rows {
    /// The builder of table `t`.
    pub fn get(&mut self, t: T) -> &mut BatchBuilder {
        let i = t as usize;
        if self.builders.len() <= i {
            self.builders.resize_with(TABLES.len(), || None);
        }
        self.builders[i].get_or_insert_with(|| BatchBuilder::new(TABLES[i]))
    }

    /// Rows so far in table `t`.
    pub fn len(&self, t: T) -> u32 {
        self.builders.get(t as usize).and_then(Option::as_ref).map_or(0, |b| b.len() as u32)
    }

    /// The non-empty builders with their table index.
    pub fn take(&mut self) -> impl Iterator<Item = (usize, BatchBuilder)> + '_ {
        self.builders.iter_mut().enumerate().filter_map(|(i, b)| b.take().filter(|b| !b.is_empty()).map(|b| (i, b)))
    }
}
