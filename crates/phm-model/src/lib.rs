//! The typed query model: what a definition means, with no syntax and no engine.
//!
//! `phm-lang` builds these nodes from definition files after checking names and types;
//! `phm-engine` compiles them to DataFusion plans and `phm-testkit` evaluates them naively.
//! Both engines must agree on every rule written here, so the semantics live in the doc
//! comments of this crate and in the spec files under `spec/`.
//!
//! Two dimensions, as in ehrQL: a **person series** has one value per person (per index
//! date), an **event series** has one value per row of an event table. Event series appear
//! only inside a [`Frame`]'s filter or as the argument of an [`Aggregate`], which turns them
//! back into a person series.
//!
//! Missing values follow SQL's three-valued logic: comparisons and arithmetic with a missing
//! operand are missing; `and`/`or` are Kleene (`false and missing` is `false`, `true or
//! missing` is `true`); a row or person is kept only where a condition is `true`.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub mod cells;
pub mod tables;

pub use cells::{Cell, CellSource, Cells, Count, Dimension, NOT_RECORDED};
pub use tables::{EventColumn, EventTable, Lookups, PersonAttr};

/// The type of a series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Type {
    /// true / false.
    Bool,
    /// Whole number.
    Int,
    /// Decimal number.
    Float,
    /// Calendar date.
    Date,
    /// Text (codes, categories).
    Text,
}

impl Type {
    /// Name used in diagnostics and documentation.
    pub fn name(self) -> &'static str {
        match self {
            Type::Bool => "true/false",
            Type::Int => "whole number",
            Type::Float => "number",
            Type::Date => "date",
            Type::Text => "text",
        }
    }

    /// Int and Float.
    pub fn is_numeric(self) -> bool {
        matches!(self, Type::Int | Type::Float)
    }
}

/// A constant.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    /// Missing.
    Null,
    /// Boolean.
    Bool(bool),
    /// Integer.
    Int(i64),
    /// Float.
    Float(f64),
    /// Date.
    Date(NaiveDate),
    /// Text.
    Text(String),
}

impl Value {
    /// The type of a constant; `None` for a missing value, whose type comes from context.
    pub fn ty(&self) -> Option<Type> {
        Some(match self {
            Value::Null => return None,
            Value::Bool(_) => Type::Bool,
            Value::Int(_) => Type::Int,
            Value::Float(_) => Type::Float,
            Value::Date(_) => Type::Date,
            Value::Text(_) => Type::Text,
        })
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("missing"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Date(d) => write!(f, "{d}"),
            Value::Text(s) => write!(f, "{s:?}"),
        }
    }
}

/// Calendar units for date arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Days.
    Days,
    /// Calendar months: the day of month is kept, clamped to the month's last day
    /// (31 March minus one month is 29 February in a leap year).
    Months,
    /// Calendar years (12 months, clamped the same way).
    Years,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum BinOp {
    /// `and` (Kleene).
    And,
    /// `or` (Kleene).
    Or,
    /// `=`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`: always a decimal result; division by zero is missing.
    Div,
}

impl BinOp {
    /// Source spelling.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Eq => "=",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
        }
    }

    /// Comparison operators.
    pub fn is_comparison(self) -> bool {
        matches!(self, BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge)
    }
}

/// A codelist, resolved: its name, content hash and normalised codes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CodelistRef {
    /// Name in the definition.
    pub name: String,
    /// Code system name (`snomed`, `icd10`, `dmd`, `opcs4`).
    pub system: String,
    /// SHA-256 of the normalised codes.
    pub sha256: String,
    /// The codes, sorted.
    #[serde(skip)]
    pub codes: Vec<String>,
}

/// Fixed age-band schemes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AgeBands {
    /// `0-4`, `5-9`, … `85-89`, `90+`: the 19 bands of the 2013 European Standard Population.
    Esp2013,
    /// `0-4`, `5-9`, … `95-99`, `100+`.
    FiveYear,
    /// `0-9`, `10-19`, … `80-89`, `90+`.
    TenYear,
    /// `0`, `1-4`, `5-9`, … `85-89`, `90+`: the 20 bands of the abridged life table.
    LifeTable,
}

impl AgeBands {
    /// The lower bound of every band, youngest first; the last band is open.
    fn lower_bounds(self) -> Vec<i64> {
        match self {
            AgeBands::Esp2013 => (0..=90).step_by(5).collect(),
            AgeBands::FiveYear => (0..=100).step_by(5).collect(),
            AgeBands::TenYear => (0..=90).step_by(10).collect(),
            AgeBands::LifeTable => [0, 1].into_iter().chain((5..=90).step_by(5)).collect(),
        }
    }

    /// Band label for an age, or `None` for a negative age.
    pub fn label(self, age: i64) -> Option<String> {
        if age < 0 {
            return None;
        }
        let bounds = self.lower_bounds();
        let i = bounds.iter().rposition(|lo| *lo <= age)?;
        Some(match bounds.get(i + 1) {
            None => format!("{}+", bounds[i]),
            Some(next) if *next == bounds[i] + 1 => bounds[i].to_string(),
            Some(next) => format!("{}-{}", bounds[i], next - 1),
        })
    }

    /// (lower bound, label) for every band, youngest first.
    pub fn bands(self) -> Vec<(i64, String)> {
        self.lower_bounds().into_iter().map(|lo| (lo, self.label(lo).unwrap_or_default())).collect()
    }
}

/// A person series: one value per person and index date.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "node", rename_all = "snake_case")]
pub enum PExpr {
    /// A constant.
    Value {
        /// The constant.
        value: Value,
        /// Its type (needed for a typed null).
        ty: Type,
    },
    /// The index date.
    IndexDate,
    /// A stored or derived attribute of the person at the index date.
    Attr {
        /// Which.
        attr: PersonAttr,
    },
    /// Age in whole years on a date, taking the date of birth as the 1st of the birth month
    /// (the analytical tables keep only year and month), or 1 July when the month is missing.
    AgeAt {
        /// The date.
        date: Box<PExpr>,
    },
    /// Age band label of an age.
    AgeBand {
        /// Scheme.
        bands: AgeBands,
        /// The age (whole years).
        age: Box<PExpr>,
    },
    /// Aggregate of an event frame.
    Aggregate(Box<Aggregate>),
    /// `not x` (missing stays missing).
    Not {
        /// Operand.
        arg: Box<PExpr>,
    },
    /// `-x`.
    Neg {
        /// Operand.
        arg: Box<PExpr>,
    },
    /// Binary operation.
    Binary {
        /// Operator.
        op: BinOp,
        /// Left.
        left: Box<PExpr>,
        /// Right.
        right: Box<PExpr>,
    },
    /// `x is missing` (never missing itself).
    IsMissing {
        /// Operand.
        arg: Box<PExpr>,
    },
    /// `x otherwise y`: x unless it is missing.
    Otherwise {
        /// Preferred.
        arg: Box<PExpr>,
        /// Fallback.
        fallback: Box<PExpr>,
    },
    /// `x in ("a", "b")`: missing if x is missing.
    InList {
        /// Operand.
        arg: Box<PExpr>,
        /// Values.
        values: Vec<Value>,
    },
    /// Date shifted by a number of units.
    DateAdd {
        /// The date.
        date: Box<PExpr>,
        /// Signed amount.
        amount: i64,
        /// Unit.
        unit: Unit,
    },
    /// `case when … then … else … end`: the first branch whose condition is true; else the
    /// `otherwise` value, or missing.
    Case {
        /// (condition, value) pairs.
        branches: Vec<(PExpr, PExpr)>,
        /// Else value.
        otherwise: Option<Box<PExpr>>,
        /// Result type.
        ty: Type,
    },
    /// Integer to decimal, so both engines agree on types.
    ToFloat {
        /// Operand.
        arg: Box<PExpr>,
    },
    /// The PCN (neighbourhood) or place of a practice, from [`Lookups`]; missing for an
    /// unknown practice.
    PracticeLookup {
        /// A practice code.
        practice: Box<PExpr>,
        /// Which.
        field: PracticeField,
    },
}

/// What [`PExpr::PracticeLookup`] returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PracticeField {
    /// PCN code.
    Pcn,
    /// Place code of the practice.
    Place,
}

/// An event series: one value per row of an event table.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "node", rename_all = "snake_case")]
pub enum EExpr {
    /// A column of the frame's table.
    Column {
        /// Column name.
        name: String,
        /// Its type.
        ty: Type,
    },
    /// A person-level constant or the index date (only those: see `phm-lang`).
    Person {
        /// The value.
        expr: PExpr,
    },
    /// `code in codelist`.
    InCodelist {
        /// Code column.
        arg: Box<EExpr>,
        /// The codelist.
        codelist: CodelistRef,
    },
    /// `x in ("a", "b")`.
    InList {
        /// Operand.
        arg: Box<EExpr>,
        /// Values.
        values: Vec<Value>,
    },
    /// `not`.
    Not {
        /// Operand.
        arg: Box<EExpr>,
    },
    /// `-x`.
    Neg {
        /// Operand.
        arg: Box<EExpr>,
    },
    /// Binary operation.
    Binary {
        /// Operator.
        op: BinOp,
        /// Left.
        left: Box<EExpr>,
        /// Right.
        right: Box<EExpr>,
    },
    /// `is missing`.
    IsMissing {
        /// Operand.
        arg: Box<EExpr>,
    },
    /// `otherwise`.
    Otherwise {
        /// Preferred.
        arg: Box<EExpr>,
        /// Fallback.
        fallback: Box<EExpr>,
    },
    /// Date shift.
    DateAdd {
        /// The date.
        date: Box<EExpr>,
        /// Signed amount.
        amount: i64,
        /// Unit.
        unit: Unit,
    },
    /// Integer to decimal.
    ToFloat {
        /// Operand.
        arg: Box<EExpr>,
    },
}

/// Rows of one event table that pass every filter.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Frame {
    /// The table.
    pub table: EventTable,
    /// Conditions; a row is kept where all are true.
    pub filters: Vec<EExpr>,
}

/// How a frame becomes a person series.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AggKind {
    /// Any row: true or false, never missing.
    Exists,
    /// Number of rows: 0 when none, never missing.
    Count,
    /// Number of distinct non-missing values of a column.
    CountDistinct {
        /// Column.
        of: EExpr,
    },
    /// Smallest non-missing value; missing when none.
    Min {
        /// Column.
        of: EExpr,
    },
    /// Largest non-missing value; missing when none.
    Max {
        /// Column.
        of: EExpr,
    },
    /// Sum of non-missing values; missing when none.
    Sum {
        /// Column.
        of: EExpr,
    },
    /// Mean of non-missing values; missing when none.
    Mean {
        /// Column.
        of: EExpr,
    },
    /// A column of the earliest row: rows are ordered by the table's date, then code, then
    /// the remaining columns of [`EventTable::sort_columns`], so ties are decided the same
    /// way by every engine. Missing when no row.
    First {
        /// Column returned.
        column: String,
    },
    /// A column of the latest row (the same order, reversed).
    Last {
        /// Column returned.
        column: String,
    },
}

/// An aggregate of a frame, per person.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Aggregate {
    /// Rows.
    pub frame: Frame,
    /// How.
    pub kind: AggKind,
    /// Result type.
    pub ty: Type,
}

/// One output column of a cohort.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Column {
    /// Output name.
    pub name: String,
    /// Value.
    pub expr: PExpr,
    /// Type.
    pub ty: Type,
}

/// A cohort: who, and which columns.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cohort {
    /// Name.
    pub name: String,
    /// Plain-English title.
    pub title: String,
    /// Who is in it.
    pub population: PExpr,
    /// Columns after `person_id`.
    pub columns: Vec<Column>,
    /// When set, one row per matching event of this frame per person in the population
    /// (an event-level extract), with `event_columns` from the table.
    pub events: Option<EventExtract>,
}

/// Event-level rows for each person of a cohort.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EventExtract {
    /// Rows.
    pub frame: Frame,
    /// Columns of the table to output.
    pub columns: Vec<String>,
}

/// An indicator: numerator over denominator by breakdown.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Indicator {
    /// Name.
    pub name: String,
    /// Plain-English title.
    pub title: String,
    /// Who is counted in the denominator.
    pub denominator: PExpr,
    /// What is counted in the numerator, only within the denominator: a true/false series
    /// counts the people for whom it is true; a whole-number series (e.g. a count of
    /// admissions) is summed, missing counting as 0.
    pub numerator: PExpr,
    /// Type of the numerator: `Bool` or `Int`.
    pub numerator_ty: Type,
    /// Statistical method (implemented in `phm-stats`).
    pub method: Method,
    /// Multiplier for the presented value (100 for a percentage).
    pub multiplier: f64,
    /// Breakdown columns: name and person series (text or whole number).
    pub breakdowns: Vec<Column>,
    /// What a reader needs besides the numbers: rationale, polarity, caveats, sources.
    pub about: About,
}

/// The statistical method of an indicator (implemented in `phm-stats`). It is written, read and
/// shown by the name a definition writes ([`Method::as_str`]): serde and [`fmt::Display`] use it.
///
/// Code that decides something per method matches on it without a catch-all, so adding a method
/// is a compile error wherever a method needs a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// A proportion with the Wilson score interval.
    Proportion,
    /// A crude rate with Byar's interval.
    CrudeRate,
    /// A directly standardised rate on the 2013 European Standard Population.
    Dsr,
    /// An indirectly standardised ratio.
    Isr,
    /// A count of the numerator.
    Count,
    /// Life expectancy at birth (Chiang II abridged life table).
    LifeExpectancy,
    /// Healthy life expectancy (Sullivan's method).
    HealthyLifeExpectancy,
}

impl Method {
    /// Every method, in the order the language reference lists them.
    pub const ALL: [Method; 7] = [
        Method::Proportion,
        Method::CrudeRate,
        Method::Dsr,
        Method::Isr,
        Method::Count,
        Method::LifeExpectancy,
        Method::HealthyLifeExpectancy,
    ];

    /// The name a definition writes, e.g. `proportion`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Proportion => "proportion",
            Method::CrudeRate => "crude_rate",
            Method::Dsr => "dsr",
            Method::Isr => "isr",
            Method::Count => "count",
            Method::LifeExpectancy => "life_expectancy",
            Method::HealthyLifeExpectancy => "healthy_life_expectancy",
        }
    }

    /// The method a definition names, or `None` for an unknown name.
    pub fn from_name(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == name)
    }

    /// Whether the numerator counts only people in the denominator. Life expectancy counts
    /// deaths among everyone the numerator is true for (people who died are not in a
    /// mid-period population); every other method counts only within the denominator.
    pub fn numerator_within_denominator(self) -> bool {
        match self {
            Method::LifeExpectancy => false,
            Method::Proportion
            | Method::CrudeRate
            | Method::Dsr
            | Method::Isr
            | Method::Count
            | Method::HealthyLifeExpectancy => true,
        }
    }

    /// The multiplier an indicator of this method has when its definition gives none: 100 for a
    /// proportion (a percentage), 100,000 for a rate, 1 for a ratio, a count or a life expectancy.
    pub fn default_multiplier(self) -> f64 {
        match self {
            Method::Proportion => 100.0,
            Method::CrudeRate | Method::Dsr => 100_000.0,
            Method::Isr | Method::Count | Method::LifeExpectancy | Method::HealthyLifeExpectancy => 1.0,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An indicator's descriptive fields, as written in its definition.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct About {
    /// Why the indicator matters (plain English).
    pub rationale: Option<String>,
    /// Whether a higher value is better, worse, or neither.
    pub polarity: Polarity,
    /// Known limitations of the data or the definition.
    pub caveats: Option<String>,
    /// The OHID Fingertips indicator it mirrors, by id, where there is one.
    pub fingertips: Option<i64>,
    /// Life expectancy: the length of the period in years, so that person-years are
    /// `years × denominator`.
    pub years: Option<f64>,
    /// Healthy life expectancy: the life-expectancy indicator (by name) whose deaths and
    /// population give the life table.
    pub life_table: Option<String>,
}

/// Whether a higher value of an indicator is better, worse, or neither.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Polarity {
    /// Higher is better (e.g. vaccination coverage).
    HigherIsBetter,
    /// Lower is better (e.g. premature mortality).
    LowerIsBetter,
    /// No judgement (e.g. a recorded prevalence, where higher may mean better case-finding).
    #[default]
    NoJudgement,
}

impl Polarity {
    /// Every polarity with the name a definition writes.
    pub const ALL: [(Self, &'static str); 3] = [
        (Self::HigherIsBetter, "higher_is_better"),
        (Self::LowerIsBetter, "lower_is_better"),
        (Self::NoJudgement, "no_judgement"),
    ];

    /// The name a definition writes.
    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(p, _)| *p == self).map(|(_, n)| *n).unwrap_or("no_judgement")
    }
}

/// Index dates of a measure.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Intervals {
    /// `monthly`, `quarterly` or `annual`.
    pub every: Every,
    /// First period start.
    pub from: NaiveDate,
    /// Last period must start on or before this.
    pub to: NaiveDate,
}

/// Interval lengths.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Every {
    /// 1 month.
    Monthly,
    /// 3 months.
    Quarterly,
    /// 12 months.
    Annual,
}

impl Indicator {
    /// Type of the numerator.
    pub fn numerator_type(&self) -> Type {
        self.numerator_ty
    }
}

impl Intervals {
    /// The index date of each period: its **last day** (a measure counts "as at" the end of
    /// each period, so "in the 12 months before the index date" ends with the period).
    pub fn index_dates(&self) -> Vec<NaiveDate> {
        let step = match self.every {
            Every::Monthly => 1,
            Every::Quarterly => 3,
            Every::Annual => 12,
        };
        let mut out = Vec::new();
        let mut start = self.from;
        while start <= self.to {
            let Some(next) = start.checked_add_months(chrono::Months::new(step)) else { break };
            if let Some(last) = next.pred_opt() {
                out.push(last);
            }
            start = next;
        }
        out
    }
}

/// An indicator over many periods, computed in one pass.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Measure {
    /// Name.
    pub name: String,
    /// Plain-English title.
    pub title: String,
    /// The indicator.
    pub indicator: Indicator,
    /// The periods.
    pub intervals: Intervals,
}

/// Everything one definition file (with its imports) defines.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Definitions {
    /// Source file name (as given).
    pub source: String,
    /// SHA-256 over the file and everything it imports, with their codelists.
    pub content_hash: String,
    /// Default index date, if the file sets one.
    pub index_date: Option<NaiveDate>,
    /// Cohorts, in file order.
    pub cohorts: Vec<Cohort>,
    /// Indicators, in file order.
    pub indicators: Vec<Indicator>,
    /// Measures, in file order.
    pub measures: Vec<Measure>,
    /// Codelists used, by name.
    pub codelists: BTreeMap<String, String>,
}

impl Definitions {
    /// True if nothing runnable is defined.
    pub fn is_empty(&self) -> bool {
        self.cohorts.is_empty() && self.indicators.is_empty() && self.measures.is_empty()
    }
}

/// SHA-256 hex of some text parts, for content hashes.
pub fn sha256_hex<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    hex::encode(h.finalize())
}

/// Visit every aggregate in a person series (depth first), including nested ones.
pub fn aggregates<'a>(expr: &'a PExpr, out: &mut Vec<&'a Aggregate>) {
    match expr {
        PExpr::Value { .. } | PExpr::IndexDate | PExpr::Attr { .. } => {}
        PExpr::AgeAt { date: a }
        | PExpr::AgeBand { age: a, .. }
        | PExpr::Not { arg: a }
        | PExpr::Neg { arg: a }
        | PExpr::IsMissing { arg: a }
        | PExpr::InList { arg: a, .. }
        | PExpr::DateAdd { date: a, .. }
        | PExpr::ToFloat { arg: a }
        | PExpr::PracticeLookup { practice: a, .. } => aggregates(a, out),
        PExpr::Aggregate(agg) => out.push(agg),
        PExpr::Binary { left, right, .. } => {
            aggregates(left, out);
            aggregates(right, out);
        }
        PExpr::Otherwise { arg, fallback } => {
            aggregates(arg, out);
            aggregates(fallback, out);
        }
        PExpr::Case { branches, otherwise, .. } => {
            for (c, v) in branches {
                aggregates(c, out);
                aggregates(v, out);
            }
            if let Some(o) = otherwise {
                aggregates(o, out);
            }
        }
    }
}

/// Visit every person attribute used in a person series.
pub fn attrs(expr: &PExpr, out: &mut Vec<PersonAttr>) {
    match expr {
        PExpr::Attr { attr } => {
            if !out.contains(attr) {
                out.push(*attr)
            }
        }
        PExpr::Value { .. } | PExpr::IndexDate | PExpr::Aggregate(_) => {}
        PExpr::AgeAt { date: a }
        | PExpr::AgeBand { age: a, .. }
        | PExpr::Not { arg: a }
        | PExpr::Neg { arg: a }
        | PExpr::IsMissing { arg: a }
        | PExpr::InList { arg: a, .. }
        | PExpr::DateAdd { date: a, .. }
        | PExpr::ToFloat { arg: a }
        | PExpr::PracticeLookup { practice: a, .. } => attrs(a, out),
        PExpr::Binary { left, right, .. } | PExpr::Otherwise { arg: left, fallback: right } => {
            attrs(left, out);
            attrs(right, out);
        }
        PExpr::Case { branches, otherwise, .. } => {
            for (c, v) in branches {
                attrs(c, out);
                attrs(v, out);
            }
            if let Some(o) = otherwise {
                attrs(o, out);
            }
        }
    }
}
