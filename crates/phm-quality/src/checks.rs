//! The catalogue of checks: name, category, subcategory and level, after the OHDSI Data Quality
//! Dashboard (Kahn et al. 2016 framework) where DQD has the check, and in its naming style where
//! it does not. Thresholds and descriptions are data (`reference/quality-thresholds.csv`).

use serde::Serialize;

use crate::report::{CheckResult, Status};
use crate::thresholds::Thresholds;

/// Kahn category.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Category {
    /// Values follow the data model: types, required values, allowed values, references.
    Conformance,
    /// Values are present.
    Completeness,
    /// Values are believable: in range, in time order, consistent with each other.
    Plausibility,
}

impl Category {
    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Conformance => "Conformance",
            Self::Completeness => "Completeness",
            Self::Plausibility => "Plausibility",
        }
    }
}

/// What a check looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// A source as a whole (its extract, its files).
    Source,
    /// Rows of a table.
    Table,
    /// One field of a table.
    Field,
}

impl Level {
    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Source => "source",
            Self::Table => "table",
            Self::Field => "field",
        }
    }
}

/// One kind of check.
#[derive(Clone, Copy, Debug)]
pub struct CheckDef {
    /// Name (DQD's where DQD has the check).
    pub name: &'static str,
    /// Kahn category.
    pub category: Category,
    /// Kahn subcategory (`Value`, `Relational`, `Computation`, `Atemporal`, `Temporal`,
    /// `Uniqueness`); empty for completeness.
    pub subcategory: &'static str,
    /// Level.
    pub level: Level,
}

const fn def(name: &'static str, category: Category, subcategory: &'static str, level: Level) -> CheckDef {
    CheckDef { name, category, subcategory, level }
}

use Category::{Completeness, Conformance, Plausibility};

/// Every check this crate runs, in report order.
pub const CHECKS: [CheckDef; 22] = [
    def("isRequired", Conformance, "Relational", Level::Table),
    def("isPrimaryKey", Conformance, "Relational", Level::Field),
    def("isForeignKey", Conformance, "Relational", Level::Field),
    def("fkDomain", Conformance, "Value", Level::Field),
    def("isValidCode", Conformance, "Value", Level::Field),
    def("measureValueCompleteness", Completeness, "", Level::Field),
    def("measureNhsNumberCompleteness", Completeness, "", Level::Table),
    def("measureGpLinkage", Completeness, "Relational", Level::Table),
    def("plausibleValueLow", Plausibility, "Atemporal", Level::Field),
    def("plausibleValueHigh", Plausibility, "Atemporal", Level::Field),
    def("plausibleGender", Plausibility, "Atemporal", Level::Field),
    def("plausibleLinkedDemographics", Plausibility, "Atemporal", Level::Field),
    def("plausibleDuringLife", Plausibility, "Temporal", Level::Field),
    def("plausibleAfterBirth", Plausibility, "Temporal", Level::Field),
    def("plausibleTemporalAfter", Plausibility, "Temporal", Level::Field),
    def("plausibleBeforeExtractDate", Plausibility, "Temporal", Level::Field),
    def("plausibleUniqueEvent", Plausibility, "Uniqueness", Level::Table),
    def("sourceTimeliness", Plausibility, "Temporal", Level::Source),
    def("plausibleNhsNumber", Plausibility, "Atemporal", Level::Source),
    def("plausibleIdentityLinkage", Plausibility, "Atemporal", Level::Source),
    def("quarantineRate", Conformance, "Value", Level::Source),
    def("ingestReconciliation", Conformance, "Computation", Level::Source),
];

/// The definition of check `name`.
pub fn check_def(name: &str) -> Option<&'static CheckDef> {
    CHECKS.iter().find(|c| c.name == name)
}

/// Which source a result is about.
#[derive(Clone, Debug)]
pub(crate) struct SourceRef {
    /// Name.
    pub name: String,
    /// Kind of sender.
    pub source_type: String,
}

/// Turns counts into results with the thresholds applied.
pub(crate) struct Emitter<'a> {
    thresholds: &'a Thresholds,
    /// Results so far.
    pub results: Vec<CheckResult>,
}

impl<'a> Emitter<'a> {
    /// An emitter with no results.
    pub(crate) fn new(thresholds: &'a Thresholds) -> Self {
        Self { thresholds, results: Vec::new() }
    }

    /// A rate check: `violating` of `denominator` rows (or people, or files). Nothing is
    /// reported when there was nothing to check (`denominator` 0).
    #[expect(clippy::too_many_arguments, reason = "one result's columns")]
    pub(crate) fn rate(
        &mut self,
        check: &str,
        source: &SourceRef,
        table: &str,
        field: &str,
        violating: u64,
        denominator: u64,
        detail: Option<String>,
    ) {
        if denominator == 0 {
            return;
        }
        let value = 100.0 * violating as f64 / denominator as f64;
        self.push(check, source, table, field, violating, denominator, value, detail);
    }

    /// A measure in its own unit (days), with `violating` the measure rounded.
    pub(crate) fn measure(
        &mut self,
        check: &str,
        source: &SourceRef,
        table: &str,
        field: &str,
        value: f64,
        detail: Option<String>,
    ) {
        self.push(check, source, table, field, value.max(0.0).round() as u64, 0, value, detail);
    }

    #[expect(clippy::too_many_arguments, reason = "one result's columns")]
    fn push(
        &mut self,
        check: &str,
        source: &SourceRef,
        table: &str,
        field: &str,
        violating: u64,
        denominator: u64,
        value: f64,
        detail: Option<String>,
    ) {
        let applied = self.thresholds.get(check, table, field, &source.source_type);
        let def = check_def(check);
        let mut description = applied.description;
        if let Some(d) = detail {
            description.push(' ');
            description.push_str(&d);
        }
        let status = if value > applied.threshold { Status::Fail } else { Status::Pass };
        self.results.push(CheckResult {
            check: check.to_owned(),
            category: def.map_or(Conformance, |d| d.category),
            subcategory: def.map_or("", |d| d.subcategory).to_owned(),
            level: def.map_or(Level::Table, |d| d.level),
            source: source.name.clone(),
            source_type: source.source_type.clone(),
            table: table.to_owned(),
            field: field.to_owned(),
            violating,
            denominator,
            value,
            unit: applied.unit,
            threshold: applied.threshold,
            status,
            description,
        });
    }
}
