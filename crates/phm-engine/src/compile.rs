//! Query model → DataFusion logical plans.
//!
//! One plan per request, built with DataFusion's DataFrame/LogicalPlanBuilder API (never SQL
//! text). The person frame is `person` (with area lookups) joined to **one aggregate per event
//! table**: every aggregate the definitions need from a table is computed in the same pass,
//! each with its own `FILTER (WHERE …)`, after a pre-filter that keeps only rows some
//! aggregate can use. Indicators then group the person frame once with `GROUPING SETS`, so a
//! whole catalogue with all its breakdowns is one scan of each table. Measures cross-join
//! the (pre-filtered) events with their index dates and group by (person, index date).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use datafusion::arrow::datatypes::{DataType, Date32Type, IntervalMonthDayNano};
use datafusion::common::{JoinType, ScalarValue};
use datafusion::functions_aggregate::expr_fn::{avg, count, count_distinct, max, min, sum};
use datafusion::logical_expr::expr::Case as CaseExpr;
use datafusion::logical_expr::{
    ExprSchemable, GroupingSet, LogicalPlan, LogicalPlanBuilder, SortExpr, cast, col, lit, when,
};
use datafusion::prelude::{DataFrame, Expr, SessionContext, coalesce, date_part};
use phm_model::*;

use crate::{Error, Result};

/// Where index dates come from in a plan.
#[derive(Clone, Debug)]
pub enum Periods {
    /// One date, compiled as a literal.
    One(NaiveDate),
    /// Several dates, joined as a `VALUES` table (column `index_date`).
    Many(Vec<NaiveDate>),
}

impl Periods {
    fn index_expr(&self) -> Expr {
        match self {
            Periods::One(d) => date_lit(*d),
            Periods::Many(_) => col("index_date"),
        }
    }
}

pub(crate) fn date_lit(d: NaiveDate) -> Expr {
    lit(ScalarValue::Date32(Some(Date32Type::from_naive_date(d))))
}

fn null_of(ty: Type) -> ScalarValue {
    match ty {
        Type::Bool => ScalarValue::Boolean(None),
        Type::Int => ScalarValue::Int64(None),
        Type::Float => ScalarValue::Float64(None),
        Type::Date => ScalarValue::Date32(None),
        Type::Text => ScalarValue::Utf8(None),
    }
}

pub(crate) fn arrow_type(ty: Type) -> DataType {
    match ty {
        Type::Bool => DataType::Boolean,
        Type::Int => DataType::Int64,
        Type::Float => DataType::Float64,
        Type::Date => DataType::Date32,
        Type::Text => DataType::Utf8,
    }
}

fn value_lit(v: &Value, ty: Type) -> Expr {
    lit(match v {
        Value::Null => null_of(ty),
        Value::Bool(b) => ScalarValue::Boolean(Some(*b)),
        Value::Int(i) if ty == Type::Float => ScalarValue::Float64(Some(*i as f64)),
        Value::Int(i) => ScalarValue::Int64(Some(*i)),
        Value::Float(x) => ScalarValue::Float64(Some(*x)),
        Value::Date(d) => ScalarValue::Date32(Some(Date32Type::from_naive_date(*d))),
        Value::Text(s) => ScalarValue::Utf8(Some(s.clone())),
    })
}

fn bin(op: BinOp, l: Expr, r: Expr) -> Expr {
    match op {
        BinOp::And => l.and(r),
        BinOp::Or => l.or(r),
        BinOp::Eq => l.eq(r),
        BinOp::Ne => l.not_eq(r),
        BinOp::Lt => l.lt(r),
        BinOp::Le => l.lt_eq(r),
        BinOp::Gt => l.gt(r),
        BinOp::Ge => l.gt_eq(r),
        BinOp::Add => l + r,
        BinOp::Sub => l - r,
        BinOp::Mul => l * r,
        // Division by zero is missing, not an error.
        BinOp::Div => {
            let r = cast(r, DataType::Float64);
            Expr::Case(CaseExpr {
                expr: None,
                when_then_expr: vec![(Box::new(r.clone().eq(lit(0.0f64))), Box::new(lit(ScalarValue::Float64(None))))],
                else_expr: Some(Box::new(cast(l, DataType::Float64) / r)),
            })
        }
    }
}

/// `x IN (…)`: missing when `x` is missing, also for an empty list (which DataFusion would
/// simplify to `false`).
fn in_list(x: Expr, list: Vec<Expr>) -> Expr {
    if list.is_empty() {
        return when(x.is_null(), lit(ScalarValue::Boolean(None))).otherwise(lit(false)).unwrap_or_else(|_| lit(false));
    }
    x.in_list(list, false)
}

fn date_add(d: Expr, amount: i64, unit: Unit) -> Expr {
    let (months, days) = match unit {
        Unit::Days => (0, amount as i32),
        Unit::Months => (amount as i32, 0),
        Unit::Years => (amount as i32 * 12, 0),
    };
    d + lit(ScalarValue::IntervalMonthDayNano(Some(IntervalMonthDayNano::new(months, days, 0))))
}

/// Compile an event series over the columns of its table.
pub(crate) fn event_expr(e: &EExpr, periods: &Periods) -> Expr {
    match e {
        EExpr::Column { name, .. } => col(name.as_str()),
        EExpr::Person { expr } => person_const(expr, periods),
        EExpr::InCodelist { arg, codelist } => {
            in_list(event_expr(arg, periods), codelist.codes.iter().map(|c| lit(c.as_str())).collect())
        }
        EExpr::InList { arg, values } => {
            let ty = values.iter().find_map(Value::ty).unwrap_or(Type::Text);
            in_list(event_expr(arg, periods), values.iter().map(|v| value_lit(v, ty)).collect())
        }
        EExpr::Not { arg } => Expr::Not(Box::new(event_expr(arg, periods))),
        EExpr::Neg { arg } => Expr::Negative(Box::new(event_expr(arg, periods))),
        EExpr::Binary { op, left, right } => bin(*op, event_expr(left, periods), event_expr(right, periods)),
        EExpr::IsMissing { arg } => event_expr(arg, periods).is_null(),
        EExpr::Otherwise { arg, fallback } => coalesce(vec![event_expr(arg, periods), event_expr(fallback, periods)]),
        EExpr::DateAdd { date, amount, unit } => date_add(event_expr(date, periods), *amount, *unit),
        EExpr::ToFloat { arg } => cast(event_expr(arg, periods), DataType::Float64),
    }
}

/// A person series that is the same for everyone (checked by `phm-lang`).
fn person_const(e: &PExpr, periods: &Periods) -> Expr {
    match e {
        PExpr::Value { value, ty } => value_lit(value, *ty),
        PExpr::IndexDate => periods.index_expr(),
        PExpr::DateAdd { date, amount, unit } => date_add(person_const(date, periods), *amount, *unit),
        PExpr::Neg { arg } => Expr::Negative(Box::new(person_const(arg, periods))),
        PExpr::ToFloat { arg } => cast(person_const(arg, periods), DataType::Float64),
        PExpr::Binary { op, left, right } => bin(*op, person_const(left, periods), person_const(right, periods)),
        other => lit(ScalarValue::Utf8(Some(format!("unsupported in an event filter: {other:?}")))),
    }
}

/// Does this event series use the index date?
fn uses_index(e: &EExpr) -> bool {
    match e {
        EExpr::Column { .. } => false,
        EExpr::Person { expr } => person_uses_index(expr),
        EExpr::InCodelist { arg, .. }
        | EExpr::InList { arg, .. }
        | EExpr::Not { arg }
        | EExpr::Neg { arg }
        | EExpr::IsMissing { arg }
        | EExpr::ToFloat { arg }
        | EExpr::DateAdd { date: arg, .. } => uses_index(arg),
        EExpr::Binary { left, right, .. } | EExpr::Otherwise { arg: left, fallback: right } => {
            uses_index(left) || uses_index(right)
        }
    }
}

fn person_uses_index(e: &PExpr) -> bool {
    match e {
        PExpr::IndexDate => true,
        PExpr::Value { .. } => false,
        PExpr::DateAdd { date, .. } => person_uses_index(date),
        PExpr::Neg { arg } | PExpr::ToFloat { arg } => person_uses_index(arg),
        PExpr::Binary { left, right, .. } => person_uses_index(left) || person_uses_index(right),
        _ => true,
    }
}

/// `agg FILTER (WHERE f)`, keeping the aggregate's `DISTINCT` and `ORDER BY`
/// (`ExprFunctionExt::filter(..).build()` resets both, which lost the order of `first`/`last`
/// and the distinctness of `count_distinct`).
fn with_filter(agg: Expr, f: Expr) -> Expr {
    match agg {
        Expr::AggregateFunction(mut a) => {
            a.params.filter = Some(Box::new(f));
            Expr::AggregateFunction(a)
        }
        other => other,
    }
}

fn and_all(exprs: impl IntoIterator<Item = Expr>) -> Option<Expr> {
    exprs.into_iter().reduce(Expr::and)
}

/// The key that identifies an aggregate (structural equality).
fn agg_key(a: &Aggregate) -> String {
    serde_json::to_string(a).unwrap_or_default()
}

fn sort_exprs(table: EventTable) -> Vec<SortExpr> {
    table.sort_columns().into_iter().map(|c| col(c.name).sort(true, false)).collect()
}

/// The columns that order rows for `first`/`last` of `column`: the table's order up to and
/// including that column, which always ends the list (the functions in [`crate::udaf`] return
/// the last column of the row they pick). Rows that tie on this prefix hold the same value of
/// `column`, so the result is the same as with the whole order, and the keys compared are
/// shorter.
fn order_keys(table: EventTable, column: &str) -> Vec<Expr> {
    let order = table.sort_columns();
    match order.iter().position(|c| c.name == column) {
        Some(i) => order[..=i].iter().map(|c| col(c.name)).collect(),
        None => order.iter().map(|c| col(c.name)).chain([col(column)]).collect(),
    }
}

/// The `and` parts of an event filter.
fn conjuncts<'a>(e: &'a EExpr, out: &mut Vec<&'a EExpr>) {
    match e {
        EExpr::Binary { op: BinOp::And, left, right } => {
            conjuncts(left, out);
            conjuncts(right, out);
        }
        other => out.push(other),
    }
}

/// A code-membership condition: `x in codelist`, `x in ("a", "b", …)` of text, or an `or` of
/// such conditions on the same `x`; the column and every code it accepts.
fn membership(e: &EExpr) -> Option<(&EExpr, Vec<&str>)> {
    match e {
        EExpr::InCodelist { arg, codelist } => Some((arg, codelist.codes.iter().map(String::as_str).collect())),
        EExpr::InList { arg, values } => values
            .iter()
            .map(|v| if let Value::Text(t) = v { Some(t.as_str()) } else { None })
            .collect::<Option<Vec<_>>>()
            .map(|codes| (arg.as_ref(), codes)),
        EExpr::Binary { op: BinOp::Or, left, right } => {
            let ((x, mut codes), (y, more)) = (membership(left)?, membership(right)?);
            (x == y).then(|| {
                codes.extend(more);
                (x, codes)
            })
        }
        _ => None,
    }
}

/// The pre-filter of an event table: the rows some aggregate can use, `⋁ᵢ ⋀ⱼ partᵢⱼ` over the
/// `and` parts of each aggregate's filter (`None` when some aggregate uses every row).
///
/// When every aggregate requires a codelist `Cᵢ` of the same column `x` besides its other
/// parts `Rᵢ`, aggregates with the same other parts are merged, which is exact:
/// `⋁ᵢ (x ∈ Cᵢ ∧ Rᵢ) = ⋁_R (x ∈ ⋃_{Rᵢ = R} Cᵢ ∧ R)`. A catalogue whose aggregates of a table
/// differ only in their codelist (most do) is then one `x IN (…)`, tested with a hash look-up
/// per row, where the plain disjunction compared each row with every code of every list
/// (DataFusion turns lists of up to three codes into `=` chains), which was most of the cost
/// of scanning the observation table.
fn prefilter(parts: &[Vec<&EExpr>], periods: &Periods) -> Option<Expr> {
    if parts.iter().any(Vec::is_empty) {
        return None;
    }
    let compile = |p: &[&EExpr]| and_all(p.iter().map(|f| event_expr(f, periods)));
    merged(parts, periods)
        .or_else(|| parts.iter().map(|p| compile(p)).collect::<Option<Vec<_>>>()?.into_iter().reduce(Expr::or))
}

/// [`prefilter`] with aggregates that differ only in their codelist merged, when every one
/// has a codelist of the same column.
fn merged(parts: &[Vec<&EExpr>], periods: &Periods) -> Option<Expr> {
    let column = parts.first()?.iter().find_map(|f| membership(f).map(|(x, _)| x))?;
    let mut groups: Vec<(Vec<&EExpr>, std::collections::BTreeSet<&str>)> = Vec::new();
    for p in parts {
        let i = p.iter().position(|f| membership(f).is_some_and(|(x, _)| x == column))?;
        let rest: Vec<&EExpr> = p.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, f)| *f).collect();
        let codes = membership(p[i]).map(|(_, c)| c).unwrap_or_default();
        match groups.iter_mut().find(|(r, _)| *r == rest) {
            Some((_, all)) => all.extend(codes),
            None => groups.push((rest, codes.into_iter().collect())),
        }
    }
    groups
        .into_iter()
        .map(|(rest, codes)| {
            let set = in_list(event_expr(column, periods), codes.into_iter().map(lit).collect());
            match and_all(rest.iter().map(|f| event_expr(f, periods))) {
                Some(r) => set.and(r),
                None => set,
            }
        })
        .reduce(Expr::or)
}

/// Scan an event table with language column names (16-bit integers widened, `date` aliased).
pub(crate) async fn event_scan(ctx: &SessionContext, table: EventTable) -> Result<DataFrame> {
    let df = ctx.table(table.name()).await?;
    let mut cols = vec![col("person_id")];
    for c in table.columns() {
        cols.push(cast(col(c.store), arrow_type(c.ty)).alias(c.name));
    }
    Ok(df.select(cols)?)
}

/// Everything a person frame must compute.
#[derive(Default)]
pub(crate) struct Needs<'a> {
    aggregates: Vec<&'a Aggregate>,
    attrs: Vec<PersonAttr>,
    practice_lookups: Vec<&'a PExpr>,
}

impl<'a> Needs<'a> {
    pub fn add(&mut self, e: &'a PExpr) {
        let mut aggs = Vec::new();
        aggregates(e, &mut aggs);
        for a in aggs {
            if !self.aggregates.iter().any(|x| agg_key(x) == agg_key(a)) {
                self.aggregates.push(a);
            }
        }
        attrs(e, &mut self.attrs);
        practice_lookups(e, &mut self.practice_lookups);
    }
}

fn practice_lookups<'a>(e: &'a PExpr, out: &mut Vec<&'a PExpr>) {
    if let PExpr::PracticeLookup { practice, .. } = e {
        if !out.iter().any(|x| *x == practice.as_ref()) {
            out.push(practice);
        }
        practice_lookups(practice, out);
        return;
    }
    match e {
        PExpr::Value { .. } | PExpr::IndexDate | PExpr::Attr { .. } | PExpr::Aggregate(_) => {}
        PExpr::AgeAt { date: a }
        | PExpr::AgeBand { age: a, .. }
        | PExpr::Not { arg: a }
        | PExpr::Neg { arg: a }
        | PExpr::IsMissing { arg: a }
        | PExpr::InList { arg: a, .. }
        | PExpr::DateAdd { date: a, .. }
        | PExpr::ToFloat { arg: a }
        | PExpr::PracticeLookup { practice: a, .. } => practice_lookups(a, out),
        PExpr::Binary { left, right, .. } | PExpr::Otherwise { arg: left, fallback: right } => {
            practice_lookups(left, out);
            practice_lookups(right, out);
        }
        PExpr::Case { branches, otherwise, .. } => {
            for (c, v) in branches {
                practice_lookups(c, out);
                practice_lookups(v, out);
            }
            if let Some(o) = otherwise {
                practice_lookups(o, out);
            }
        }
    }
}

/// The index dates as a table (column `index_date`).
fn dates_table(ctx: &SessionContext, dates: &[NaiveDate]) -> Result<DataFrame> {
    let rows = dates.iter().map(|d| vec![date_lit(*d)]).collect();
    let plan = values_plan(rows, &["index_date"], &[DataType::Date32])?;
    Ok(DataFrame::new(ctx.state(), plan))
}

/// A compiled person frame: the plan and how to refer to its parts.
pub(crate) struct PersonFrame {
    pub df: DataFrame,
    agg_alias: BTreeMap<String, (String, AggKind)>,
    lookup_alias: Vec<(PExpr, String)>,
    pub periods: Periods,
}

impl PersonFrame {
    /// Compile a person series over this frame.
    pub fn expr(&self, e: &PExpr) -> Expr {
        match e {
            PExpr::Value { value, ty } => value_lit(value, *ty),
            PExpr::IndexDate => self.periods.index_expr(),
            PExpr::Attr { attr } => col(attr.key()),
            PExpr::AgeAt { date } => {
                let d = self.expr(date);
                let year = cast(date_part(lit("year"), d.clone()), DataType::Int64);
                let month = cast(date_part(lit("month"), d), DataType::Int64);
                let birth_month = coalesce(vec![col("month_of_birth"), lit(7i64)]);
                let before_birthday =
                    when(month.lt(birth_month), lit(1i64)).otherwise(lit(0i64)).unwrap_or_else(|_| lit(0i64));
                year - col("year_of_birth") - before_birthday
            }
            PExpr::AgeBand { bands, age } => {
                // `CASE (age capped at top) WHEN 0 THEN '0-4' WHEN 1 THEN '0-4' … END`, one arm
                // per year of age up to the open-ended top band: literal arms are a hash look-up
                // per row in DataFusion, where range tests ran every band's test on every row.
                // A negative or missing age is in no band (missing).
                let all = bands.bands();
                let top = all.last().map_or(0, |(lo, _)| *lo);
                let mut branches = Vec::new();
                for (i, (lo, label)) in all.iter().enumerate() {
                    let next = all.get(i + 1).map_or(top + 1, |(n, _)| *n);
                    for year in (*lo).max(0)..next {
                        branches.push((Box::new(lit(year)), Box::new(lit(label.as_str()))));
                    }
                }
                let a = self.expr(age);
                let capped = Expr::Case(CaseExpr {
                    expr: None,
                    when_then_expr: vec![(Box::new(a.clone().gt(lit(top))), Box::new(lit(top)))],
                    else_expr: Some(Box::new(a)),
                });
                Expr::Case(CaseExpr {
                    expr: Some(Box::new(capped)),
                    when_then_expr: branches,
                    else_expr: Some(Box::new(lit(ScalarValue::Utf8(None)))),
                })
            }
            PExpr::Aggregate(a) => {
                let (alias, kind) = &self.agg_alias[&agg_key(a)];
                match kind {
                    AggKind::Exists => coalesce(vec![col(alias.as_str()), lit(0i64)]).gt(lit(0i64)),
                    AggKind::Count | AggKind::CountDistinct { .. } => coalesce(vec![col(alias.as_str()), lit(0i64)]),
                    _ => col(alias.as_str()),
                }
            }
            PExpr::Not { arg } => Expr::Not(Box::new(self.expr(arg))),
            PExpr::Neg { arg } => Expr::Negative(Box::new(self.expr(arg))),
            PExpr::Binary { op, left, right } => bin(*op, self.expr(left), self.expr(right)),
            PExpr::IsMissing { arg } => self.expr(arg).is_null(),
            PExpr::Otherwise { arg, fallback } => coalesce(vec![self.expr(arg), self.expr(fallback)]),
            PExpr::InList { arg, values } => {
                let ty = values.iter().find_map(Value::ty).unwrap_or(Type::Text);
                in_list(self.expr(arg), values.iter().map(|v| value_lit(v, ty)).collect())
            }
            PExpr::DateAdd { date, amount, unit } => date_add(self.expr(date), *amount, *unit),
            PExpr::Case { branches, otherwise, ty } => Expr::Case(CaseExpr {
                expr: None,
                when_then_expr: branches
                    .iter()
                    .map(|(c, v)| (Box::new(self.expr(c)), Box::new(cast(self.expr(v), arrow_type(*ty)))))
                    .collect(),
                else_expr: Some(Box::new(match otherwise {
                    Some(o) => cast(self.expr(o), arrow_type(*ty)),
                    None => lit(null_of(*ty)),
                })),
            }),
            PExpr::ToFloat { arg } => cast(self.expr(arg), DataType::Float64),
            PExpr::PracticeLookup { practice, field } => {
                let alias = self
                    .lookup_alias
                    .iter()
                    .find(|(p, _)| p == practice.as_ref())
                    .map(|(_, a)| a.clone())
                    .unwrap_or_default();
                col(format!("{alias}_{}", if *field == PracticeField::Pcn { "pcn" } else { "place" }))
            }
        }
    }
}

fn values_plan(rows: Vec<Vec<Expr>>, names: &[&str], types: &[DataType]) -> Result<LogicalPlan> {
    let rows = if rows.is_empty() {
        vec![types.iter().map(|t| lit(ScalarValue::try_from(t).unwrap_or(ScalarValue::Null))).collect()]
    } else {
        rows
    };
    let plan = LogicalPlanBuilder::values(rows)?.build()?;
    let exprs: Vec<Expr> = plan
        .schema()
        .columns()
        .into_iter()
        .zip(names.iter().zip(types))
        .map(|(c, (n, t))| cast(Expr::Column(c), t.clone()).alias(*n))
        .collect();
    Ok(LogicalPlanBuilder::from(plan).project(exprs)?.build()?)
}

/// The person frame's key columns: `person_id` as two integers ([`crate::person_key`]), on
/// which every per-person aggregate groups and every join to the person frame matches.
const KEY_HI: &str = "_pk_hi";
const KEY_LO: &str = "_pk_lo";

/// Build the person frame for a set of person series.
pub(crate) async fn person_frame<'a>(
    ctx: &SessionContext,
    lookups: &Lookups,
    needs: &Needs<'a>,
    periods: Periods,
) -> Result<PersonFrame> {
    // Person attributes.
    let [hi, lo] = crate::person_key::keys(col("person_id"));
    let mut cols = vec![col("person_id"), hi.alias(KEY_HI), lo.alias(KEY_LO)];
    let mut attrs = needs.attrs.clone();
    let needs_area = attrs.iter().any(|a| a.store_column().is_none());
    // Age needs birth year and month whatever asks for it.
    for a in [PersonAttr::YearOfBirth, PersonAttr::MonthOfBirth] {
        if !attrs.contains(&a) {
            attrs.push(a);
        }
    }
    if needs_area && !attrs.contains(&PersonAttr::AreaCode) {
        attrs.push(PersonAttr::AreaCode);
    }
    for a in &attrs {
        if let Some(store) = a.store_column() {
            cols.push(cast(col(store), arrow_type(a.ty())).alias(a.key()));
        }
    }
    let mut df = ctx.table("person").await?.select(cols)?;
    if needs_area {
        let rows: Vec<Vec<Expr>> = lookups
            .areas
            .iter()
            .map(|(code, (place, decile))| {
                vec![
                    lit(code.as_str()),
                    lit(ScalarValue::Utf8(place.clone())),
                    lit(ScalarValue::Int64(*decile)),
                    lit(ScalarValue::Int64(decile.map(|d| (d + 1) / 2))),
                ]
            })
            .collect();
        let plan = values_plan(
            rows,
            &["_area", "place", "imd_decile", "imd_quintile"],
            &[DataType::Utf8, DataType::Utf8, DataType::Int64, DataType::Int64],
        )?;
        let areas = DataFrame::new(ctx.state(), plan);
        // The lookup is the (small) build side; people stream through it.
        df = areas.join(df, JoinType::Right, &["_area"], &["area"], None)?;
    }
    if let Periods::Many(dates) = &periods {
        // The dates are the (small) build side; people stream through.
        df = dates_table(ctx, dates)?.join(df, JoinType::Inner, &[], &[], None)?;
    }
    // One aggregate per event table.
    let mut agg_alias = BTreeMap::new();
    let mut by_table: BTreeMap<EventTable, Vec<(usize, &Aggregate)>> = BTreeMap::new();
    for (i, a) in needs.aggregates.iter().enumerate() {
        by_table.entry(a.frame.table).or_default().push((i, a));
    }
    for (table, aggs) in by_table {
        let mut events = event_scan(ctx, table).await?;
        // Keep only rows some aggregate can use (the parts that do not depend on the index date).
        // Each filter is split into its `and` parts; with one index date every part is a
        // constant comparison, with several only the parts that do not use the index date
        // can be applied before the rows are joined to the dates.
        let parts: Vec<Vec<&EExpr>> = aggs
            .iter()
            .map(|(_, a)| {
                let mut parts = Vec::new();
                for f in &a.frame.filters {
                    conjuncts(f, &mut parts);
                }
                parts
            })
            .collect();
        let [hi, lo] = crate::person_key::keys(col("person_id"));
        let mut group = vec![hi.alias(KEY_HI), lo.alias(KEY_LO)];
        match &periods {
            Periods::One(_) => {
                if let Some(keep) = prefilter(&parts, &periods) {
                    events = events.filter(keep)?;
                }
            }
            Periods::Many(dates) => {
                // The parts that do not use the index date filter the rows as they are read;
                // the whole filter is the condition that pairs a row with an index date, so
                // a row meets only the dates some aggregate can use it for (an event "in the
                // 12 months before" meets twelve monthly dates, not all of them). The dates
                // are the build side of that join and the events stream through it.
                let fixed: Vec<Vec<&EExpr>> =
                    parts.iter().map(|p| p.iter().copied().filter(|f| !uses_index(f)).collect()).collect();
                if let Some(keep) = prefilter(&fixed, &periods) {
                    events = events.filter(keep)?;
                }
                events = dates_table(ctx, dates)?.join_on(events, JoinType::Inner, prefilter(&parts, &periods))?;
                group.push(col("index_date"));
            }
        }
        let mut aggr = Vec::new();
        for (i, a) in &aggs {
            let alias = format!("_agg{i}");
            // `IS TRUE` so that the filter handed to accumulators never holds nulls (a row is
            // kept only where every condition is true).
            // (`CASE WHEN … THEN true ELSE false END`, as `IS TRUE` trips DataFusion 55's
            // nullability check after common-subexpression elimination.)
            let filter = match and_all(a.frame.filters.iter().map(|f| event_expr(f, &periods))) {
                Some(f) => Some(when(f, lit(true)).otherwise(lit(false))?),
                None => None,
            };
            let base = match &a.kind {
                AggKind::Exists | AggKind::Count => count(lit(1i64)),
                AggKind::CountDistinct { of } => {
                    // -0.0 and 0.0 are one value (`=` says so), but a distinct count hashes bits.
                    let x = event_expr(of, &periods);
                    let x = if x.get_type(events.schema())? == DataType::Float64 {
                        when(x.clone().eq(lit(0.0f64)), lit(0.0f64)).otherwise(x)?
                    } else {
                        x
                    };
                    count_distinct(x)
                }
                AggKind::Min { of } => min(event_expr(of, &periods)),
                AggKind::Max { of } => max(event_expr(of, &periods)),
                AggKind::Sum { of } => sum(event_expr(of, &periods)),
                AggKind::Mean { of } => avg(cast(event_expr(of, &periods), DataType::Float64)),
                AggKind::First { column } => crate::udaf::call(false, order_keys(table, column)),
                AggKind::Last { column } => crate::udaf::call(true, order_keys(table, column)),
            };
            let e = match filter {
                Some(f) => with_filter(base, f),
                None => base,
            };
            aggr.push(e.alias(alias.as_str()));
            agg_alias.insert(agg_key(a), (alias, a.kind.clone()));
        }
        let grouped = events.aggregate(group, aggr)?;
        // Rename the keys so the join does not clash with the person frame's columns.
        let (khi, klo) = (format!("{KEY_HI}_{}", table.name()), format!("{KEY_LO}_{}", table.name()));
        let idx = format!("_idx_{}", table.name());
        let mut sel = vec![col(KEY_HI).alias(khi.as_str()), col(KEY_LO).alias(klo.as_str())];
        if matches!(periods, Periods::Many(_)) {
            sel.push(col("index_date").alias(idx.as_str()));
        }
        for (i, _) in &aggs {
            sel.push(col(format!("_agg{i}")));
        }
        let grouped = grouped.select(sel)?;
        df = if matches!(periods, Periods::Many(_)) {
            grouped.join(
                df,
                JoinType::Right,
                &[khi.as_str(), klo.as_str(), idx.as_str()],
                &[KEY_HI, KEY_LO, "index_date"],
                None,
            )?
        } else {
            grouped.join(df, JoinType::Right, &[khi.as_str(), klo.as_str()], &[KEY_HI, KEY_LO], None)?
        };
    }
    let mut frame = PersonFrame { df, agg_alias, lookup_alias: Vec::new(), periods };
    // Practice lookups: compute the practice, then join the practice table.
    for (k, practice) in needs.practice_lookups.iter().enumerate() {
        let alias = format!("_practice{k}");
        let key = frame.expr(practice);
        let mut sel: Vec<Expr> = frame.df.schema().columns().into_iter().map(Expr::Column).collect();
        sel.push(key.alias(alias.as_str()));
        let df = frame.df.clone().select(sel)?;
        let rows: Vec<Vec<Expr>> = lookups
            .practices
            .iter()
            .map(|(code, (pcn, place))| {
                vec![lit(code.as_str()), lit(ScalarValue::Utf8(pcn.clone())), lit(ScalarValue::Utf8(place.clone()))]
            })
            .collect();
        let names = [format!("{alias}_key"), format!("{alias}_pcn"), format!("{alias}_place")];
        let plan = values_plan(
            rows,
            &[names[0].as_str(), names[1].as_str(), names[2].as_str()],
            &[DataType::Utf8, DataType::Utf8, DataType::Utf8],
        )?;
        frame.df = DataFrame::new(ctx.state(), plan).join(
            df,
            JoinType::Right,
            &[names[0].as_str()],
            &[alias.as_str()],
            None,
        )?;
        frame.lookup_alias.push(((*practice).clone(), alias));
    }
    Ok(frame)
}

/// The label used for a missing breakdown value, so that grouping-set rows can be told
/// apart from people whose value is missing.
use phm_model::NOT_RECORDED;

/// Plan for a cohort: `person_id` and its columns, one row per person in the population.
pub(crate) async fn cohort_plan(
    ctx: &SessionContext,
    lookups: &Lookups,
    cohort: &Cohort,
    index: NaiveDate,
) -> Result<DataFrame> {
    let mut needs = Needs::default();
    needs.add(&cohort.population);
    for c in &cohort.columns {
        needs.add(&c.expr);
    }
    let frame = person_frame(ctx, lookups, &needs, Periods::One(index)).await?;
    // Written as `Utf8` whatever the scan read it as.
    let mut sel = vec![cast(col("person_id"), DataType::Utf8).alias("person_id")];
    for c in &cohort.columns {
        sel.push(cast(frame.expr(&c.expr), arrow_type(c.ty)).alias(c.name.as_str()));
    }
    let df = frame.df.clone().filter(frame.expr(&cohort.population).is_true())?.select(sel)?;
    Ok(df.sort(vec![col("person_id").sort(true, false)])?)
}

/// Plan for a cohort's event-level rows: one row per matching event per person in it.
pub(crate) async fn events_plan(
    ctx: &SessionContext,
    lookups: &Lookups,
    cohort: &Cohort,
    extract: &EventExtract,
    index: NaiveDate,
) -> Result<DataFrame> {
    let people = cohort_plan(ctx, lookups, &Cohort { columns: vec![], events: None, ..cohort.clone() }, index)
        .await?
        .select(vec![col("person_id").alias("_pid")])?;
    let periods = Periods::One(index);
    let mut events = event_scan(ctx, extract.frame.table).await?;
    if let Some(f) = and_all(extract.frame.filters.iter().map(|f| event_expr(f, &periods))) {
        events = events.filter(f)?;
    }
    let mut sel = vec![cast(col("person_id"), DataType::Utf8).alias("person_id")];
    sel.extend(extract.columns.iter().map(|c| col(c.as_str())));
    let mut order = vec![col("person_id").sort(true, false)];
    order.extend(sort_exprs(extract.frame.table));
    Ok(events.join(people, JoinType::LeftSemi, &["person_id"], &["_pid"], None)?.select(sel)?.sort(order)?)
}

/// Plan for indicators' cells: one row per index date and combination of `dims` values,
/// with `_cn{i}` (numerator) and `_cd{i}` (denominator) per indicator.
///
/// A dimension's value is text, [`NOT_RECORDED`] where missing, in the column `b_{name}`. The
/// person frame is built once for every indicator, so every event table is read once.
pub(crate) async fn cells_plan(
    ctx: &SessionContext,
    lookups: &Lookups,
    indicators: &[&Indicator],
    periods: Periods,
    dims: &[&Column],
) -> Result<DataFrame> {
    let mut needs = Needs::default();
    for ind in indicators {
        needs.add(&ind.denominator);
        needs.add(&ind.numerator);
    }
    for d in dims {
        needs.add(&d.expr);
    }
    let frame = person_frame(ctx, lookups, &needs, periods).await?;
    let mut sel = vec![frame.periods.index_expr().alias("index_date")];
    // Grouped as `Utf8View` (short values compare inside their 16-byte views), written as `Utf8`.
    for d in dims {
        sel.push(
            coalesce(vec![
                cast(frame.expr(&d.expr), DataType::Utf8View),
                lit(ScalarValue::Utf8View(Some(NOT_RECORDED.to_owned()))),
            ])
            .alias(format!("b_{}", d.name)),
        );
    }
    let mut cells = Vec::new();
    for (i, ind) in indicators.iter().enumerate() {
        // The denominator as 1 or 0 (missing is 0), so that the cells are plain sums with no
        // `FILTER`, which DataFusion's sums handle in their fastest path.
        let den = when(frame.expr(&ind.denominator), lit(1i64)).otherwise(lit(0i64))?;
        let num = match ind.numerator_type() {
            Type::Bool => when(frame.expr(&ind.numerator), lit(1i64)).otherwise(lit(0i64))?,
            _ => coalesce(vec![cast(frame.expr(&ind.numerator), DataType::Int64), lit(0i64)]),
        };
        let (d, n) = (col(format!("_d{i}")), col(format!("_n{i}")));
        sel.push(den.alias(format!("_d{i}")));
        sel.push(num.alias(format!("_n{i}")));
        // Life expectancy counts deaths among everyone (people who died are not in a
        // mid-period population); every other method counts only within the denominator.
        let cn = if ind.method.numerator_within_denominator() { sum(d.clone() * n) } else { sum(n) };
        cells.push(coalesce(vec![cn, lit(0i64)]).alias(format!("_cn{i}")));
        cells.push(coalesce(vec![sum(d), lit(0i64)]).alias(format!("_cd{i}")));
    }
    let mut keys = vec![col("index_date")];
    keys.extend(dims.iter().map(|d| col(format!("b_{}", d.name))));
    let mut out = vec![col("index_date")];
    out.extend(dims.iter().map(|d| format!("b_{}", d.name)).map(|b| cast(col(b.as_str()), DataType::Utf8).alias(b)));
    for i in 0..indicators.len() {
        out.extend([col(format!("_cn{i}")), col(format!("_cd{i}"))]);
    }
    Ok(frame.df.clone().select(sel)?.aggregate(keys, cells)?.select(out)?)
}

/// The distinct breakdowns of `indicators`, in order of first use.
///
/// # Errors
/// Two indicators that give the same breakdown name different meanings.
pub(crate) fn breakdowns_of<'a>(indicators: &[&'a Indicator]) -> Result<Vec<&'a Column>> {
    let mut breakdowns: Vec<&Column> = Vec::new();
    for ind in indicators {
        for b in &ind.breakdowns {
            if let Some(prev) = breakdowns.iter().find(|x| x.name == b.name) {
                if prev.expr != b.expr {
                    return Err(Error::Definition(format!(
                        "two indicators define the breakdown `{}` differently",
                        b.name
                    )));
                }
            } else {
                breakdowns.push(b);
            }
        }
    }
    Ok(breakdowns)
}

/// Plan for indicators: one grouped pass over a shared person frame with `GROUPING SETS`.
///
/// Output columns: `index_date`, each breakdown (text; null where the row is not grouped by
/// it), and `_num{i}`, `_den{i}` per indicator. [`crate::indicators`] turns it into long rows.
pub(crate) async fn indicators_plan(
    ctx: &SessionContext,
    lookups: &Lookups,
    indicators: &[&Indicator],
    periods: Periods,
) -> Result<(DataFrame, Vec<String>)> {
    let breakdowns = breakdowns_of(indicators)?;
    // Two steps: first one row per combination of index date and breakdown values (the
    // frame's cells, far fewer than people), then the grouping sets over the cells. Grouping
    // sets expand every input row once per set, so they are cheaper over cells than people.
    let projected = cells_plan(ctx, lookups, indicators, periods, &breakdowns).await?;
    let mut aggr = Vec::new();
    for i in 0..indicators.len() {
        aggr.push(coalesce(vec![sum(col(format!("_cn{i}"))), lit(0i64)]).alias(format!("_num{i}")));
        aggr.push(coalesce(vec![sum(col(format!("_cd{i}"))), lit(0i64)]).alias(format!("_den{i}")));
    }
    let mut sets = vec![vec![col("index_date")]];
    for b in &breakdowns {
        sets.push(vec![col("index_date"), col(format!("b_{}", b.name))]);
    }
    let group = vec![Expr::GroupingSet(GroupingSet::GroupingSets(sets))];
    let df = projected.aggregate(group, aggr)?;
    let mut out = vec![col("index_date")];
    out.extend(breakdowns.iter().map(|b| col(format!("b_{}", b.name))));
    for i in 0..indicators.len() {
        out.push(col(format!("_num{i}")));
        out.push(col(format!("_den{i}")));
    }
    Ok((df.select(out)?, breakdowns.iter().map(|b| b.name.clone()).collect()))
}
