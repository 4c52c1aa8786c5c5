//! A naive reference engine for the query model.
//!
//! Written straight from the doc comments of `phm-model`, with no optimisation: the tables are
//! turned into rows of [`Value`]s once, then every person is evaluated on their own at each
//! index date, and every aggregate re-reads that person's rows of its table. Each rule of the
//! model is one `match` arm below, so the reference can be checked by reading it; the
//! property tests in `tests/reference_vs_engine.rs` check `phm-engine` against it.
//!
//! Rules, as the model documents them:
//! - missing values follow SQL's three-valued logic: comparisons and arithmetic with a missing
//!   operand are missing; `and`/`or` are Kleene; a row or person is kept only where a
//!   condition is exactly `true`;
//! - `/` always gives a decimal, and is missing when dividing by zero;
//! - months are calendar months clamped to the month's last day, a year is 12 months;
//! - age counts birth as the 1st of the birth month, or 1 July when the month is missing;
//! - `exists` and `count` are never missing; `min`, `max`, `sum` and `mean` use the
//!   non-missing values and are missing when there are none;
//! - `first` / `last` order rows by [`EventTable::sort_columns`], ascending, missing values
//!   last.
//!
//! The reference panics on a model `phm-lang` would never produce (a column its table lacks,
//! `first` of an unknown column); it is for tests only.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Days, Months, NaiveDate};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use phm_engine::{Engine, IndicatorRow, NOT_RECORDED};
use phm_model::{
    AggKind, Aggregate, BinOp, Cohort, EExpr, EventTable, Indicator, Lookups, PExpr, PersonAttr, PracticeField, Type,
    Unit, Value,
};

/// Rows of a person, by person id, for one event table.
type EventRows = BTreeMap<String, Vec<Vec<Value>>>;

/// The store as plain values.
struct Store {
    /// One entry per row of `person`, in person id order: id, and store column → value.
    persons: Vec<(String, BTreeMap<String, Value>)>,
    /// For each event table, each person's rows; a row holds the table's columns in the
    /// order of [`EventTable::columns`] (language names).
    events: BTreeMap<EventTable, EventRows>,
}

/// The value of one cell of an Arrow array (integers of any width are whole numbers).
pub fn arrow_value(array: &dyn Array, row: usize) -> Value {
    if array.is_null(row) {
        return Value::Null;
    }
    match array.data_type() {
        DataType::Null => Value::Null,
        DataType::Boolean => Value::Bool(array.as_boolean().value(row)),
        DataType::Int8 => Value::Int(i64::from(array.as_primitive::<Int8Type>().value(row))),
        DataType::Int16 => Value::Int(i64::from(array.as_primitive::<Int16Type>().value(row))),
        DataType::Int32 => Value::Int(i64::from(array.as_primitive::<Int32Type>().value(row))),
        DataType::Int64 => Value::Int(array.as_primitive::<Int64Type>().value(row)),
        DataType::UInt8 => Value::Int(i64::from(array.as_primitive::<UInt8Type>().value(row))),
        DataType::UInt16 => Value::Int(i64::from(array.as_primitive::<UInt16Type>().value(row))),
        DataType::UInt32 => Value::Int(i64::from(array.as_primitive::<UInt32Type>().value(row))),
        DataType::UInt64 => Value::Int(array.as_primitive::<UInt64Type>().value(row) as i64),
        DataType::Float32 => Value::Float(f64::from(array.as_primitive::<Float32Type>().value(row))),
        DataType::Float64 => Value::Float(array.as_primitive::<Float64Type>().value(row)),
        DataType::Date32 => {
            array.as_primitive::<Date32Type>().value_as_date(row).map(Value::Date).unwrap_or(Value::Null)
        }
        DataType::Utf8 => Value::Text(array.as_string::<i32>().value(row).to_owned()),
        DataType::LargeUtf8 => Value::Text(array.as_string::<i64>().value(row).to_owned()),
        DataType::Utf8View => Value::Text(array.as_string_view().value(row).to_owned()),
        _ => Value::Text(datafusion::arrow::util::display::array_value_to_string(array, row).unwrap_or_default()),
    }
}

/// Every row of a table as store column → value.
fn rows_of(tables: &BTreeMap<String, Vec<RecordBatch>>, table: &str) -> Vec<BTreeMap<String, Value>> {
    let mut out = Vec::new();
    for batch in tables.get(table).map(Vec::as_slice).unwrap_or_default() {
        let schema = batch.schema();
        for i in 0..batch.num_rows() {
            out.push(
                schema
                    .fields()
                    .iter()
                    .zip(batch.columns())
                    .map(|(f, c)| (f.name().clone(), arrow_value(c.as_ref(), i)))
                    .collect(),
            );
        }
    }
    out
}

fn text(v: &Value) -> Option<&str> {
    match v {
        Value::Text(s) => Some(s),
        _ => None,
    }
}

impl Store {
    fn new(tables: &BTreeMap<String, Vec<RecordBatch>>) -> Store {
        let mut persons: Vec<(String, BTreeMap<String, Value>)> = rows_of(tables, "person")
            .into_iter()
            .map(|r| (crate::tables::readable_person(r.get("person_id").and_then(text).unwrap_or_default()), r))
            .collect();
        persons.sort_by(|a, b| a.0.cmp(&b.0));
        let mut events = BTreeMap::new();
        for table in EventTable::ALL {
            let mut by_person: EventRows = BTreeMap::new();
            for r in rows_of(tables, table.name()) {
                let id = crate::tables::readable_person(r.get("person_id").and_then(text).unwrap_or_default());
                let row = table.columns().iter().map(|c| r.get(c.store).cloned().unwrap_or(Value::Null)).collect();
                by_person.entry(id).or_default().push(row);
            }
            events.insert(table, by_person);
        }
        Store { persons, events }
    }
}

// ---------------------------------------------------------------------------------------
// Operators on values (shared by person and event series).

/// Numbers as decimals, for mixed comparisons and arithmetic.
fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(x) => Some(*x),
        _ => None,
    }
}

/// Order of two non-missing values of comparable types (numbers compare as numbers).
fn compare(l: &Value, r: &Value) -> Option<Ordering> {
    match (l, r) {
        (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
        (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        (Value::Date(a), Value::Date(b)) => Some(a.cmp(b)),
        (Value::Text(a), Value::Text(b)) => Some(a.cmp(b)),
        _ => as_f64(l)?.partial_cmp(&as_f64(r)?),
    }
}

fn kleene_and(l: &Value, r: &Value) -> Value {
    match (l, r) {
        (Value::Bool(false), _) | (_, Value::Bool(false)) => Value::Bool(false),
        (Value::Bool(true), Value::Bool(true)) => Value::Bool(true),
        _ => Value::Null,
    }
}

fn kleene_or(l: &Value, r: &Value) -> Value {
    match (l, r) {
        (Value::Bool(true), _) | (_, Value::Bool(true)) => Value::Bool(true),
        (Value::Bool(false), Value::Bool(false)) => Value::Bool(false),
        _ => Value::Null,
    }
}

fn binary(op: BinOp, l: &Value, r: &Value) -> Value {
    match op {
        BinOp::And => return kleene_and(l, r),
        BinOp::Or => return kleene_or(l, r),
        _ => {}
    }
    if matches!(l, Value::Null) || matches!(r, Value::Null) {
        return Value::Null;
    }
    if op.is_comparison() {
        let Some(ord) = compare(l, r) else { return Value::Null };
        return Value::Bool(match op {
            BinOp::Eq => ord == Ordering::Equal,
            BinOp::Ne => ord != Ordering::Equal,
            BinOp::Lt => ord == Ordering::Less,
            BinOp::Le => ord != Ordering::Greater,
            BinOp::Gt => ord == Ordering::Greater,
            _ => ord != Ordering::Less,
        });
    }
    if op == BinOp::Div {
        return match (as_f64(l), as_f64(r)) {
            (Some(n), Some(d)) => {
                if d == 0.0 {
                    Value::Null
                } else {
                    Value::Float(n / d)
                }
            }
            _ => Value::Null,
        };
    }
    match (l, r) {
        (Value::Int(a), Value::Int(b)) => Value::Int(match op {
            BinOp::Add => a.wrapping_add(*b),
            BinOp::Sub => a.wrapping_sub(*b),
            _ => a.wrapping_mul(*b),
        }),
        _ => match (as_f64(l), as_f64(r)) {
            (Some(a), Some(b)) => Value::Float(match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                _ => a * b,
            }),
            _ => Value::Null,
        },
    }
}

fn not(v: &Value) -> Value {
    match v {
        Value::Bool(b) => Value::Bool(!b),
        _ => Value::Null,
    }
}

fn neg(v: &Value) -> Value {
    match v {
        Value::Int(i) => Value::Int(i.wrapping_neg()),
        Value::Float(x) => Value::Float(-x),
        _ => Value::Null,
    }
}

fn to_float(v: &Value) -> Value {
    as_f64(v).map(Value::Float).unwrap_or(Value::Null)
}

/// `x in (…)`: missing if x is missing; true if some value equals it; otherwise missing if
/// the list holds a missing value (SQL), else false.
fn in_list<'a>(v: &Value, values: impl IntoIterator<Item = &'a Value>) -> Value {
    if matches!(v, Value::Null) {
        return Value::Null;
    }
    let mut saw_null = false;
    for x in values {
        match x {
            Value::Null => saw_null = true,
            x if compare(v, x) == Some(Ordering::Equal) => return Value::Bool(true),
            _ => {}
        }
    }
    if saw_null { Value::Null } else { Value::Bool(false) }
}

/// A date shifted by whole days, or by calendar months clamped to the month's end.
pub fn shift_date(d: NaiveDate, amount: i64, unit: Unit) -> Option<NaiveDate> {
    let months = match unit {
        Unit::Days => {
            let days = Days::new(amount.unsigned_abs());
            return if amount >= 0 { d.checked_add_days(days) } else { d.checked_sub_days(days) };
        }
        Unit::Months => amount,
        Unit::Years => amount.checked_mul(12)?,
    };
    let m = Months::new(u32::try_from(months.unsigned_abs()).ok()?);
    if months >= 0 { d.checked_add_months(m) } else { d.checked_sub_months(m) }
}

fn date_add(v: &Value, amount: i64, unit: Unit) -> Value {
    match v {
        Value::Date(d) => shift_date(*d, amount, unit).map(Value::Date).unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// A value as a series of type `ty` holds it (whole numbers become decimals in a decimal
/// series).
fn coerce(v: Value, ty: Type) -> Value {
    match (v, ty) {
        (Value::Int(i), Type::Float) => Value::Float(i as f64),
        (v, _) => v,
    }
}

/// The order of `first` / `last`: ascending, missing last, decimals by total order.
fn sort_order(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Greater,
        (_, Value::Null) => Ordering::Less,
        (Value::Float(x), Value::Float(y)) => x.total_cmp(y),
        _ => compare(a, b).unwrap_or(Ordering::Equal),
    }
}

// ---------------------------------------------------------------------------------------
// Evaluation for one person at one index date.

struct Ctx<'a> {
    store: &'a Store,
    lookups: &'a Lookups,
    person: &'a str,
    attrs: &'a BTreeMap<String, Value>,
    index: NaiveDate,
}

impl Ctx<'_> {
    fn stored(&self, column: &str) -> Value {
        self.attrs.get(column).cloned().unwrap_or(Value::Null)
    }

    fn attr(&self, attr: PersonAttr) -> Value {
        if let Some(column) = attr.store_column() {
            return self.stored(column);
        }
        let area = self.stored("area_code");
        let Some((place, decile)) = text(&area).and_then(|a| self.lookups.areas.get(a)) else { return Value::Null };
        match attr {
            PersonAttr::Place => place.clone().map(Value::Text).unwrap_or(Value::Null),
            PersonAttr::ImdDecile => decile.map(Value::Int).unwrap_or(Value::Null),
            _ => decile.map(|d| Value::Int((d + 1) / 2)).unwrap_or(Value::Null),
        }
    }

    fn eval(&self, e: &PExpr) -> Value {
        match e {
            PExpr::Value { value, ty } => coerce(value.clone(), *ty),
            PExpr::IndexDate => Value::Date(self.index),
            PExpr::Attr { attr } => self.attr(*attr),
            PExpr::AgeAt { date } => {
                let (Value::Date(d), Value::Int(year)) = (self.eval(date), self.stored("year_of_birth")) else {
                    return Value::Null;
                };
                let month = match self.stored("month_of_birth") {
                    Value::Int(m) => m,
                    _ => 7,
                };
                let before_birthday = i64::from(i64::from(d.month()) < month);
                Value::Int(i64::from(d.year()) - year - before_birthday)
            }
            PExpr::AgeBand { bands, age } => match self.eval(age) {
                Value::Int(a) => bands.label(a).map(Value::Text).unwrap_or(Value::Null),
                _ => Value::Null,
            },
            PExpr::Aggregate(a) => self.aggregate(a),
            PExpr::Not { arg } => not(&self.eval(arg)),
            PExpr::Neg { arg } => neg(&self.eval(arg)),
            PExpr::Binary { op, left, right } => binary(*op, &self.eval(left), &self.eval(right)),
            PExpr::IsMissing { arg } => Value::Bool(matches!(self.eval(arg), Value::Null)),
            PExpr::Otherwise { arg, fallback } => match self.eval(arg) {
                Value::Null => self.eval(fallback),
                v => v,
            },
            PExpr::InList { arg, values } => in_list(&self.eval(arg), values),
            PExpr::DateAdd { date, amount, unit } => date_add(&self.eval(date), *amount, *unit),
            PExpr::Case { branches, otherwise, ty } => {
                for (cond, value) in branches {
                    if self.eval(cond) == Value::Bool(true) {
                        return coerce(self.eval(value), *ty);
                    }
                }
                otherwise.as_ref().map(|o| coerce(self.eval(o), *ty)).unwrap_or(Value::Null)
            }
            PExpr::ToFloat { arg } => to_float(&self.eval(arg)),
            PExpr::PracticeLookup { practice, field } => {
                let p = self.eval(practice);
                let Some((pcn, place)) = text(&p).and_then(|p| self.lookups.practices.get(p)) else {
                    return Value::Null;
                };
                let v = if *field == PracticeField::Pcn { pcn } else { place };
                v.clone().map(Value::Text).unwrap_or(Value::Null)
            }
        }
    }

    /// An event series on one row of `table`.
    fn eval_event(&self, e: &EExpr, table: EventTable, row: &[Value]) -> Value {
        match e {
            EExpr::Column { name, .. } => {
                let Some(i) = table.columns().iter().position(|c| c.name == name) else {
                    panic!("table `{}` has no column `{name}`", table.name())
                };
                row[i].clone()
            }
            EExpr::Person { expr } => self.eval(expr),
            EExpr::InCodelist { arg, codelist } => {
                let codes: Vec<Value> = codelist.codes.iter().map(|c| Value::Text(c.clone())).collect();
                in_list(&self.eval_event(arg, table, row), &codes)
            }
            EExpr::InList { arg, values } => in_list(&self.eval_event(arg, table, row), values),
            EExpr::Not { arg } => not(&self.eval_event(arg, table, row)),
            EExpr::Neg { arg } => neg(&self.eval_event(arg, table, row)),
            EExpr::Binary { op, left, right } => {
                binary(*op, &self.eval_event(left, table, row), &self.eval_event(right, table, row))
            }
            EExpr::IsMissing { arg } => Value::Bool(matches!(self.eval_event(arg, table, row), Value::Null)),
            EExpr::Otherwise { arg, fallback } => match self.eval_event(arg, table, row) {
                Value::Null => self.eval_event(fallback, table, row),
                v => v,
            },
            EExpr::DateAdd { date, amount, unit } => date_add(&self.eval_event(date, table, row), *amount, *unit),
            EExpr::ToFloat { arg } => to_float(&self.eval_event(arg, table, row)),
        }
    }

    fn aggregate(&self, a: &Aggregate) -> Value {
        let table = a.frame.table;
        let all = self.store.events.get(&table).and_then(|t| t.get(self.person)).map(Vec::as_slice).unwrap_or_default();
        // Rows where every filter is exactly true.
        let rows: Vec<&Vec<Value>> = all
            .iter()
            .filter(|row| a.frame.filters.iter().all(|f| self.eval_event(f, table, row) == Value::Bool(true)))
            .collect();
        let values = |of: &EExpr| -> Vec<Value> {
            rows.iter().map(|row| self.eval_event(of, table, row)).filter(|v| !matches!(v, Value::Null)).collect()
        };
        let column = |name: &str| -> usize {
            table
                .columns()
                .iter()
                .position(|c| c.name == name)
                .unwrap_or_else(|| panic!("table `{}` has no column `{name}`", table.name()))
        };
        let result = match &a.kind {
            AggKind::Exists => Value::Bool(!rows.is_empty()),
            AggKind::Count => Value::Int(rows.len() as i64),
            AggKind::CountDistinct { of } => {
                let mut distinct: Vec<Value> = Vec::new();
                for v in values(of) {
                    if !distinct.iter().any(|d| compare(d, &v) == Some(Ordering::Equal)) {
                        distinct.push(v);
                    }
                }
                Value::Int(distinct.len() as i64)
            }
            AggKind::Min { of } => values(of)
                .into_iter()
                .reduce(|m, v| if compare(&v, &m) == Some(Ordering::Less) { v } else { m })
                .unwrap_or(Value::Null),
            AggKind::Max { of } => values(of)
                .into_iter()
                .reduce(|m, v| if compare(&v, &m) == Some(Ordering::Greater) { v } else { m })
                .unwrap_or(Value::Null),
            AggKind::Sum { of } => {
                let vs = values(of);
                if vs.is_empty() {
                    Value::Null
                } else if a.ty == Type::Int {
                    Value::Int(
                        vs.iter().map(|v| if let Value::Int(i) = v { *i } else { 0 }).fold(0i64, i64::wrapping_add),
                    )
                } else {
                    Value::Float(vs.iter().filter_map(as_f64).sum())
                }
            }
            AggKind::Mean { of } => {
                let vs: Vec<f64> = values(of).iter().filter_map(as_f64).collect();
                if vs.is_empty() { Value::Null } else { Value::Float(vs.iter().sum::<f64>() / vs.len() as f64) }
            }
            AggKind::First { column: name } | AggKind::Last { column: name } => {
                let keys: Vec<usize> = table.sort_columns().iter().map(|c| column(c.name)).collect();
                let mut sorted = rows.clone();
                sorted.sort_by(|x, y| {
                    keys.iter().map(|&k| sort_order(&x[k], &y[k])).find(|o| o.is_ne()).unwrap_or(Ordering::Equal)
                });
                let pick = if matches!(a.kind, AggKind::First { .. }) { sorted.first() } else { sorted.last() };
                pick.map(|row| row[column(name)].clone()).unwrap_or(Value::Null)
            }
        };
        coerce(result, a.ty)
    }
}

/// Each person's context at one index date.
fn contexts<'a>(store: &'a Store, lookups: &'a Lookups, index: NaiveDate) -> impl Iterator<Item = Ctx<'a>> + 'a {
    store.persons.iter().map(move |(id, attrs)| Ctx { store, lookups, person: id, attrs, index })
}

/// A cohort at an index date: the persons (in person id order) for whom the population is
/// `true`, each with the values of the cohort's columns.
pub fn cohort(
    tables: &BTreeMap<String, Vec<RecordBatch>>,
    lookups: &Lookups,
    cohort: &Cohort,
    index: NaiveDate,
) -> Vec<(String, Vec<Value>)> {
    let store = Store::new(tables);
    contexts(&store, lookups, index)
        .filter(|c| c.eval(&cohort.population) == Value::Bool(true))
        .map(|c| (c.person.to_owned(), cohort.columns.iter().map(|col| coerce(c.eval(&col.expr), col.ty)).collect()))
        .collect()
}

/// A cohort's event-level extract at an index date: for each person in the population (in
/// person id order), their rows of the extract's table where every filter is `true`, in the
/// table's sort order ([`EventTable::sort_columns`], missing values last), each as (person
/// id, the listed columns).
pub fn cohort_events(
    tables: &BTreeMap<String, Vec<RecordBatch>>,
    lookups: &Lookups,
    cohort: &Cohort,
    index: NaiveDate,
) -> Vec<(String, Vec<Value>)> {
    let Some(extract) = &cohort.events else { return Vec::new() };
    let table = extract.frame.table;
    let column = |name: &str| -> usize {
        table
            .columns()
            .iter()
            .position(|c| c.name == name)
            .unwrap_or_else(|| panic!("table `{}` has no column `{name}`", table.name()))
    };
    let keys: Vec<usize> = table.sort_columns().iter().map(|c| column(c.name)).collect();
    let store = Store::new(tables);
    let mut out = Vec::new();
    for c in contexts(&store, lookups, index).filter(|c| c.eval(&cohort.population) == Value::Bool(true)) {
        let all = store.events.get(&table).and_then(|t| t.get(c.person)).map(Vec::as_slice).unwrap_or_default();
        let mut rows: Vec<&Vec<Value>> = all
            .iter()
            .filter(|row| extract.frame.filters.iter().all(|f| c.eval_event(f, table, row) == Value::Bool(true)))
            .collect();
        rows.sort_by(|x, y| {
            keys.iter().map(|&k| sort_order(&x[k], &y[k])).find(|o| o.is_ne()).unwrap_or(Ordering::Equal)
        });
        out.extend(
            rows.into_iter()
                .map(|row| (c.person.to_owned(), extract.columns.iter().map(|n| row[column(n)].clone()).collect())),
        );
    }
    out
}

/// What one person contributes to an indicator at one index date.
struct Counted {
    /// The denominator is true.
    in_denominator: bool,
    /// 1 or 0 for a true/false numerator, the value (missing as 0) for a whole number.
    numerator: i64,
    /// The category of each breakdown.
    categories: Vec<String>,
}

/// A breakdown value as the category text the engine reports.
fn category(v: &Value) -> String {
    match v {
        Value::Null => NOT_RECORDED.to_owned(),
        Value::Text(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Date(d) => d.format("%Y-%m-%d").to_string(),
        Value::Float(x) => format!("{x:?}"),
    }
}

/// Indicators at each index date, in the rows `phm_engine::Engine::indicators` returns.
///
/// For each indicator and date: an `all` / `all` row, and for each of its breakdowns one row
/// per category that some person has at that date (whatever their denominator, so a category
/// can have a denominator of 0). A missing breakdown value is [`NOT_RECORDED`]. The
/// denominator counts persons for whom it is `true`; the numerator, only within them (among
/// everyone for `life_expectancy`), counts a true/false series where `true` and sums a
/// whole-number series with missing as 0. With no
/// persons at all there are no rows (the engine groups the persons, and there are none).
pub fn indicators(
    tables: &BTreeMap<String, Vec<RecordBatch>>,
    lookups: &Lookups,
    indicators: &[&Indicator],
    dates: &[NaiveDate],
) -> Vec<IndicatorRow> {
    let store = Store::new(tables);
    let mut out = Vec::new();
    for &date in dates {
        let people: Vec<Ctx<'_>> = contexts(&store, lookups, date).collect();
        if people.is_empty() {
            continue;
        }
        for ind in indicators {
            let per_person: Vec<Counted> = people
                .iter()
                .map(|c| Counted {
                    in_denominator: c.eval(&ind.denominator) == Value::Bool(true),
                    numerator: match (ind.numerator_ty, c.eval(&ind.numerator)) {
                        (Type::Bool, v) => i64::from(v == Value::Bool(true)),
                        (_, Value::Int(i)) => i,
                        (_, Value::Float(x)) => x as i64,
                        _ => 0,
                    },
                    categories: ind.breakdowns.iter().map(|b| category(&c.eval(&b.expr))).collect(),
                })
                .collect();
            let row = |breakdown: &str, category: &str, keep: &dyn Fn(&Counted) -> bool| {
                let here: Vec<&Counted> = per_person.iter().filter(|p| keep(p)).collect();
                let d = here.iter().filter(|p| p.in_denominator).count() as i64;
                // Life expectancy counts deaths among everyone, not only the denominator.
                let n = here
                    .iter()
                    .filter(|p| p.in_denominator || !ind.method.numerator_within_denominator())
                    .map(|p| p.numerator)
                    .sum();
                IndicatorRow {
                    indicator: ind.name.clone(),
                    index_date: date,
                    breakdown: breakdown.to_owned(),
                    category: category.to_owned(),
                    numerator: n,
                    denominator: d,
                    value: (d > 0).then(|| n as f64 / d as f64 * ind.multiplier),
                    method: ind.method,
                }
            };
            out.push(row("all", "all", &|_| true));
            for (j, b) in ind.breakdowns.iter().enumerate() {
                let categories: BTreeSet<&String> = per_person.iter().map(|p| &p.categories[j]).collect();
                for cat in categories {
                    out.push(row(&b.name, cat, &|p| &p.categories[j] == cat));
                }
            }
        }
    }
    out.sort_by(|a, b| {
        (&a.indicator, a.index_date, &a.breakdown, &a.category).cmp(&(
            &b.indicator,
            b.index_date,
            &b.breakdown,
            &b.category,
        ))
    });
    out
}

// ---------------------------------------------------------------------------------------
// The engine's results as values, and comparing results.

/// Run a cohort on the DataFusion engine and read its rows back as values:
/// (person id, column values), in the engine's order.
pub async fn engine_cohort(
    engine: &Engine,
    cohort: &Cohort,
    index: NaiveDate,
) -> phm_engine::Result<Vec<(String, Vec<Value>)>> {
    Ok(person_rows(&engine.cohort(cohort, index).await?.collect().await?))
}

/// Batches whose first column is the person id, as (person id, other values) rows.
fn person_rows(batches: &[RecordBatch]) -> Vec<(String, Vec<Value>)> {
    let mut out = Vec::new();
    for batch in batches {
        for i in 0..batch.num_rows() {
            let id = match arrow_value(batch.column(0).as_ref(), i) {
                Value::Text(s) => crate::tables::readable_person(&s),
                other => other.to_string(),
            };
            out.push((id, (1..batch.num_columns()).map(|j| arrow_value(batch.column(j).as_ref(), i)).collect()));
        }
    }
    out
}

/// Run a cohort's event-level extract on the DataFusion engine and read its rows back as
/// (person id, column values), in the engine's order (none without `events`).
pub async fn engine_cohort_events(
    engine: &Engine,
    cohort: &Cohort,
    index: NaiveDate,
) -> phm_engine::Result<Vec<(String, Vec<Value>)>> {
    let Some(df) = engine.cohort_events(cohort, index).await? else { return Ok(Vec::new()) };
    Ok(person_rows(&df.collect().await?))
}

/// Two values are the same result: equal, or decimals within a relative 1e-9 (sums and
/// means may add in a different order).
pub fn values_match(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => floats_match(*x, *y),
        _ => a == b,
    }
}

fn floats_match(x: f64, y: f64) -> bool {
    x == y || (x.is_nan() && y.is_nan()) || (x - y).abs() <= 1e-9 * x.abs().max(y.abs())
}

/// Two cohort results are the same (same persons in the same order, values matching).
pub fn cohorts_match(a: &[(String, Vec<Value>)], b: &[(String, Vec<Value>)]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.0 == y.0 && x.1.len() == y.1.len() && x.1.iter().zip(&y.1).all(|(u, v)| values_match(u, v)))
}

/// Two indicator results are the same (values within a relative 1e-9).
pub fn indicator_rows_match(a: &[IndicatorRow], b: &[IndicatorRow]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            let value = match (x.value, y.value) {
                (Some(u), Some(v)) => floats_match(u, v),
                (u, v) => u == v,
            };
            value && IndicatorRow { value: None, ..x.clone() } == IndicatorRow { value: None, ..y.clone() }
        })
}
