//! Binding: names and types. Turns the syntax tree into `phm-model` nodes, or diagnostics.

use std::collections::BTreeMap;

use phm_model::*;

use crate::ast::*;
use crate::diag::{Diagnostic, Diags};
use crate::suggest;

/// What a name or expression stands for once bound.
#[derive(Clone, Debug)]
pub(crate) enum Bound {
    /// A value per person.
    P(PExpr, Type),
    /// A value per event row (inside `where`).
    E(EExpr, Type),
    /// A missing value whose type comes from its surroundings.
    Null,
    /// Rows of a table.
    Frame(Frame),
    /// A column of a frame, for `min`, `max`, `sum`, `mean`, `count_distinct`.
    Col(Frame, EExpr, Type),
    /// `first(F)` / `last(F)`: pick a column with `.name`.
    Row(Frame, bool),
    /// A codelist.
    Codelist(CodelistRef),
    /// `12 months`.
    Duration(i64, Unit),
}

impl Bound {
    pub(crate) fn describe(&self) -> String {
        match self {
            Bound::P(_, t) => format!("a {} per person", t.name()),
            Bound::E(_, t) => format!("a {} per event", t.name()),
            Bound::Null => "missing".into(),
            Bound::Frame(f) => format!("rows of `{}`", f.table.name()),
            Bound::Col(f, _, t) => format!("a column of `{}` ({})", f.table.name(), t.name()),
            Bound::Row(f, first) => {
                format!("the {} row of `{}`", if *first { "first" } else { "last" }, f.table.name())
            }
            Bound::Codelist(c) => format!("the codelist `{}`", c.name),
            Bound::Duration(..) => "a length of time".into(),
        }
    }
}

/// Person-level names every definition can use, with their documentation.
pub const BUILTINS: &[(&str, &str, &str)] = &[
    ("index_date", "date", "The date the definition is evaluated at (for a measure, the last day of each period)."),
    ("age", "whole number", "Age in whole years on the index date (birth taken as the 1st of the birth month)."),
    ("age_band", "text", "ESP2013 age band on the index date: `0-4`, `5-9`, … `85-89`, `90+`."),
    ("age_band5", "text", "Five-year age band: `0-4` … `95-99`, `100+`."),
    ("age_band10", "text", "Ten-year age band: `0-9` … `80-89`, `90+`."),
    ("life_table_band", "text", "Age band of the abridged life table: `0`, `1-4`, `5-9`, … `85-89`, `90+`."),
    ("sex", "text", "`female`, `male`, `other` or `unknown`."),
    ("ethnicity", "text", "NHS ethnic category `A`–`S` (16 groups); missing when not stated."),
    ("ethnicity5", "text", "ONS 5 groups: `asian`, `black`, `mixed`, `white`, `other`; missing when not stated."),
    ("imd_decile", "whole number", "IMD 2019 decile of the area of residence, 1 = most deprived."),
    ("imd_quintile", "whole number", "IMD 2019 quintile, 1 = most deprived."),
    ("place", "text", "Place (local authority code) of residence."),
    ("area", "text", "Area (LSOA) of residence."),
    ("practice", "text", "Practice registered with on the index date; missing if not registered."),
    ("neighbourhood", "text", "Primary care network of that practice."),
    ("registered", "true/false", "Registered with a practice on the index date."),
    ("alive", "true/false", "Not recorded as dead on or before the index date."),
    ("opted_out", "true/false", "National data opt-out registered: exclude from secondary uses."),
    ("date_of_death", "date", "Date of death, if recorded."),
    ("year_of_birth", "whole number", "Year of birth."),
    ("month_of_birth", "whole number", "Month of birth, 1–12."),
];

/// Functions, with signature and documentation.
pub const FUNCTIONS: &[(&str, &str, &str)] = &[
    ("exists", "exists(rows)", "true if there is any row, else false (never missing)."),
    ("count", "count(rows)", "Number of rows (0 when none, never missing)."),
    (
        "first",
        "first(rows).column",
        "A column of the earliest row (by `date`, then `code`, then the other columns); missing when none.",
    ),
    ("last", "last(rows).column", "A column of the latest row (same order); missing when none."),
    ("min", "min(rows.column)", "Smallest value; missing when none."),
    ("max", "max(rows.column)", "Largest value; missing when none."),
    ("sum", "sum(rows.column)", "Sum of values; missing when none."),
    ("mean", "mean(rows.column)", "Mean of values; missing when none."),
    ("count_distinct", "count_distinct(rows.column)", "Number of different values (0 when none)."),
    ("age_at", "age_at(date)", "Age in whole years on a date."),
    ("registered_on", "registered_on(date)", "Registered with a practice on a date."),
    ("alive_on", "alive_on(date)", "Not recorded as dead on or before a date."),
];

/// Statistical methods an indicator may name (implemented in `phm-stats`), with what the
/// language reference says of each, in [`Method::ALL`]'s order.
pub const METHODS: [(Method, &str); Method::ALL.len()] = {
    let mut out = [(Method::Proportion, ""); Method::ALL.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = (Method::ALL[i], method_doc(Method::ALL[i]));
        i += 1;
    }
    out
};

/// What the language reference says of a method.
const fn method_doc(method: Method) -> &'static str {
    match method {
        Method::Proportion => {
            "Proportion with Wilson score confidence interval; value × multiplier (default 100: a percentage)."
        }
        Method::CrudeRate => "Crude rate per multiplier (default 100,000) with Byar's confidence interval.",
        Method::Dsr => {
            "Directly standardised rate per multiplier (default 100,000) on the 2013 European Standard Population, Dobson's interval; needs the `age_band` breakdown internally."
        }
        Method::Isr => "Indirectly standardised ratio against the whole population, Byar's interval.",
        Method::Count => "A count of the numerator only, with Byar's interval.",
        Method::LifeExpectancy => {
            "Life expectancy at birth in years (Chiang II abridged life table, 5-year bands to 90+): the numerator counts deaths in the period among *everyone* it is true for (not only within the denominator, since people who died are not in a mid-period population), the denominator is the mid-period population, and `years` gives the period's length; needs the `life_table_band` breakdown internally."
        }
        Method::HealthyLifeExpectancy => {
            "Healthy life expectancy in years by Sullivan's method: the numerator counts people in good health within the denominator, by life-table band, and `life_table` names the life-expectancy indicator whose deaths and population give the life table."
        }
    }
}

/// The deepest a bound expression may be in the query model, `let`s put in: every engine
/// compiles the model recursively. Syntax is at most [`MAX_NESTING`] deep and each level of it
/// adds a few model levels (`within` adds three), so this is reached only through `let`s
/// built on `let`s.
pub const MAX_MODEL_DEPTH: usize = 4 * MAX_NESTING;

/// The most model nodes that the `let`s (and codelists, a node per code) used by one load may
/// copy into the expressions that use them. A `let` is put in wherever it is used, so `let b =
/// a and a`, `let c = b and b`, … doubles at each step; this stops such a file in a fraction of
/// a second. The shipped definitions copy at most about 1,500 (codelists of tens of
/// thousands of codes used a few times each stay well below it).
pub const MAX_COPIED_NODES: usize = 2_000_000;

/// A bound `let`, with its size in model nodes (what using it copies).
#[derive(Clone, Debug)]
pub(crate) struct Let {
    pub bound: Bound,
    pub nodes: usize,
}

pub(crate) struct Binder<'a> {
    pub file: FileId,
    pub diags: &'a mut Diags,
    pub lets: &'a BTreeMap<String, Let>,
    pub codelists: &'a BTreeMap<String, CodelistRef>,
    /// Model nodes copied from `let`s and codelists so far in this load (see
    /// [`MAX_COPIED_NODES`]).
    pub copied: &'a mut usize,
}

type R<T> = Result<T, ()>;

fn date_lit(d: chrono::NaiveDate) -> PExpr {
    PExpr::Value { value: Value::Date(d), ty: Type::Date }
}

// The built-in series the engine's cells also use live in the model, so both mean the same nodes.
pub(crate) use phm_model::cells::{active_registrations, alive_on, practice_on};

/// A person series that is the same for everyone (constants, the index date, date shifts):
/// the only person-level values an event filter may use.
pub(crate) fn is_period_constant(e: &PExpr) -> bool {
    match e {
        PExpr::Value { .. } | PExpr::IndexDate => true,
        PExpr::DateAdd { date, .. } => is_period_constant(date),
        PExpr::Neg { arg } | PExpr::ToFloat { arg } => is_period_constant(arg),
        PExpr::Binary { left, right, .. } => is_period_constant(left) && is_period_constant(right),
        _ => false,
    }
}

impl Binder<'_> {
    fn err(&mut self, span: Span, msg: impl Into<String>) -> Diagnostic {
        Diagnostic::error(self.file, span, msg)
    }

    /// Bind the expression of a `let` (or of any item), refusing one whose model is deeper
    /// than [`MAX_MODEL_DEPTH`]; the result carries its size.
    pub fn bind_item(&mut self, e: &Expr, what: &str) -> R<Let> {
        let bound = self.bind(e, None)?;
        let (depth, nodes) = measure(&bound);
        if depth > MAX_MODEL_DEPTH {
            let d = self
                .err(
                    e.span,
                    format!("{what} nests deeper than {MAX_MODEL_DEPTH} levels once the `let`s it uses are put in"),
                )
                .help("the `let`s it uses are built on each other too deeply: combine fewer of them");
            self.push(d);
            return Err(());
        }
        Ok(Let { bound, nodes })
    }

    /// Count `nodes` about to be copied from a `let` or codelist used at `span`; refuse past
    /// [`MAX_COPIED_NODES`].
    fn copy(&mut self, span: Span, name: &str, nodes: usize) -> R<()> {
        *self.copied = self.copied.saturating_add(nodes);
        if *self.copied > MAX_COPIED_NODES {
            let d = self
                .err(
                    span,
                    format!("using `{name}` here makes the definitions larger than {MAX_COPIED_NODES} model nodes"),
                )
                .help("each use of a `let` copies it: a `let` built from many uses of other `let`s grows very fast");
            self.push(d);
            return Err(());
        }
        Ok(())
    }

    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// Bind and require a person-level value of one of `want` types.
    pub fn person(&mut self, e: &Expr, what: &str, want: &[Type]) -> R<(PExpr, Type)> {
        let b = self.bind_item(e, what)?.bound;
        match b {
            Bound::P(p, t) if want.is_empty() || want.contains(&t) => Ok((p, t)),
            Bound::P(_, t) => {
                let wanted: Vec<&str> = want.iter().map(|t| t.name()).collect();
                let d = self
                    .err(e.span, format!("{what} must be {}, but this is a {}", wanted.join(" or "), t.name()))
                    .label(format!("this is a {}", t.name()));
                let d = if want == [Type::Bool] && t != Type::Bool {
                    d.help("compare it with something, e.g. `age >= 18`, or use `exists(...)`")
                } else {
                    d
                };
                self.push(d);
                Err(())
            }
            Bound::Null => {
                let ty = want.first().copied().unwrap_or(Type::Bool);
                Ok((PExpr::Value { value: Value::Null, ty }, ty))
            }
            Bound::Frame(f) => {
                let d = self.err(e.span, format!("{what} must be a value per person, but these are rows of `{}`", f.table.name())).help("turn rows into a value with `exists(...)`, `count(...)`, `first(...).date` or `last(...).value`");
                self.push(d);
                Err(())
            }
            other => {
                let d =
                    self.err(e.span, format!("{what} must be a value per person, but this is {}", other.describe()));
                self.push(d);
                Err(())
            }
        }
    }

    fn frame(&mut self, e: &Expr, func: &str) -> R<Frame> {
        match self.bind(e, None)? {
            Bound::Frame(f) => Ok(f),
            other => {
                let d = self
                    .err(e.span, format!("`{func}` needs rows of a table, but this is {}", other.describe()))
                    .help(format!("e.g. `{func}(condition where code in asthma)`"));
                self.push(d);
                Err(())
            }
        }
    }

    fn unknown_name(&mut self, span: Span, name: &str, table: Option<EventTable>) {
        let candidates = self
            .lets
            .keys()
            .chain(self.codelists.keys())
            .map(String::as_str)
            .chain(BUILTINS.iter().map(|b| b.0))
            .chain(EventTable::ALL.iter().map(|t| t.name()))
            .chain(table.iter().flat_map(|t| t.columns().iter().map(|c| c.name)));
        // Past the diagnostics kept, a suggestion would not be seen: not worth comparing the
        // name with every other (a file of thousands of misspellings would be quadratic).
        let suggestion = if self.diags.full() { None } else { suggest(name, candidates).map(str::to_owned) };
        let mut d = self.err(span, format!("unknown name `{name}`")).label("not defined");
        if let Some(s) = suggestion {
            d = d.help(format!("did you mean `{s}`?"));
        } else if let Some(t) = table {
            let cols: Vec<&str> = t.columns().iter().map(|c| c.name).collect();
            d = d.help(format!(
                "`{}` has the columns {}; define other names with `let` before using them",
                t.name(),
                cols.join(", ")
            ));
        } else {
            d = d.help("define it with `let` or `codelist` before using it, or import the file that does");
        }
        self.push(d);
    }

    /// Bind an expression; `table` is the event table whose columns are in scope.
    pub fn bind(&mut self, e: &Expr, table: Option<EventTable>) -> R<Bound> {
        use ExprKind as K;
        Ok(match &e.kind {
            K::Int(n) => Bound::P(PExpr::Value { value: Value::Int(*n), ty: Type::Int }, Type::Int),
            K::Float(x) => Bound::P(PExpr::Value { value: Value::Float(*x), ty: Type::Float }, Type::Float),
            K::Str(s) => Bound::P(PExpr::Value { value: Value::Text(s.clone()), ty: Type::Text }, Type::Text),
            K::Date(d) => Bound::P(date_lit(*d), Type::Date),
            K::Bool(b) => Bound::P(PExpr::Value { value: Value::Bool(*b), ty: Type::Bool }, Type::Bool),
            K::Missing => Bound::Null,
            K::Duration(n, u) => Bound::Duration(*n, *u),
            K::Name(name) => self.name(e.span, name, table)?,
            K::Call(f, args) => self.call(e, f, args, table)?,
            K::Dot(inner, field) => {
                let b = self.bind(inner, table)?;
                match b {
                    Bound::Frame(frame) => {
                        let Some(col) = frame.table.column(&field.text) else {
                            return self.no_column(frame.table, field);
                        };
                        Bound::Col(frame, EExpr::Column { name: col.name.into(), ty: col.ty }, col.ty)
                    }
                    Bound::Row(frame, first) => {
                        let Some(col) = frame.table.column(&field.text) else {
                            return self.no_column(frame.table, field);
                        };
                        let kind = if first {
                            AggKind::First { column: col.name.into() }
                        } else {
                            AggKind::Last { column: col.name.into() }
                        };
                        Bound::P(PExpr::Aggregate(Box::new(Aggregate { frame, kind, ty: col.ty })), col.ty)
                    }
                    other => {
                        let d = self.err(
                            field.span,
                            format!(
                                "`.{}` needs rows or `first(...)`/`last(...)` before it, but this is {}",
                                field.text,
                                other.describe()
                            ),
                        );
                        self.push(d);
                        return Err(());
                    }
                }
            }
            K::Where { frame, cond, kw } => {
                let f = self.bind(frame, table)?;
                let Bound::Frame(mut f) = f else {
                    let d = self
                        .err(*kw, format!("`where` filters rows of a table, but before it is {}", f.describe()))
                        .help("start from a table, e.g. `condition where code in asthma`");
                    self.push(d);
                    return Err(());
                };
                let c = self.bind(cond, Some(f.table))?;
                let c = self.to_event(c, cond.span, "the condition after `where`")?;
                match c {
                    (c, Type::Bool) => f.filters.push(c),
                    (_, t) => {
                        let d = self.err(
                            cond.span,
                            format!("the condition after `where` must be true/false, but this is a {}", t.name()),
                        );
                        self.push(d);
                        return Err(());
                    }
                }
                Bound::Frame(f)
            }
            K::Not(arg) => {
                let b = self.bind(arg, table)?;
                self.unary(
                    b,
                    arg.span,
                    Type::Bool,
                    "`not`",
                    |p| PExpr::Not { arg: Box::new(p) },
                    |x| EExpr::Not { arg: Box::new(x) },
                )?
            }
            K::Neg(arg) => {
                let b = self.bind(arg, table)?;
                let ty = match &b {
                    Bound::P(_, t) | Bound::E(_, t) => *t,
                    _ => Type::Int,
                };
                if !ty.is_numeric() {
                    let d = self.err(arg.span, format!("only numbers can be negated; this is a {}", ty.name()));
                    self.push(d);
                    return Err(());
                }
                self.unary(
                    b,
                    arg.span,
                    ty,
                    "`-`",
                    |p| PExpr::Neg { arg: Box::new(p) },
                    |x| EExpr::Neg { arg: Box::new(x) },
                )?
            }
            K::IsMissing(arg) => {
                let b = self.bind(arg, table)?;
                match b {
                    Bound::P(p, _) => Bound::P(PExpr::IsMissing { arg: Box::new(p) }, Type::Bool),
                    Bound::E(x, _) => Bound::E(EExpr::IsMissing { arg: Box::new(x) }, Type::Bool),
                    Bound::Null => Bound::P(PExpr::Value { value: Value::Bool(true), ty: Type::Bool }, Type::Bool),
                    other => {
                        let d =
                            self.err(arg.span, format!("`is missing` needs a value, but this is {}", other.describe()));
                        self.push(d);
                        return Err(());
                    }
                }
            }
            K::Binary(op, op_span, l, r) => {
                let lb = self.bind(l, table)?;
                let rb = self.bind(r, table)?;
                self.binary(*op, *op_span, lb, l.span, rb, r.span)?
            }
            K::In { arg, set, kw } => {
                let b = self.bind(arg, table)?;
                let values: Result<Vec<Value>, ()> = match set {
                    InSet::Name(n) => {
                        match self.codelists.get(&n.text).cloned() {
                            Some(cl) => {
                                self.copy(n.span, &n.text, 1 + cl.codes.len())?;
                                return match b {
                                    Bound::E(x, Type::Text) => {
                                        Ok(Bound::E(EExpr::InCodelist { arg: Box::new(x), codelist: cl }, Type::Bool))
                                    }
                                    Bound::P(p, Type::Text) => Ok(Bound::P(
                                        PExpr::InList {
                                            arg: Box::new(p),
                                            values: cl.codes.iter().map(|c| Value::Text(c.clone())).collect(),
                                        },
                                        Type::Bool,
                                    )),
                                    other => {
                                        let d = self.err(arg.span, format!("only codes (text) can be looked up in a codelist, but this is {}", other.describe())).help("e.g. `code in asthma` inside `where`, or `last(condition).code in asthma`");
                                        self.push(d);
                                        Err(())
                                    }
                                };
                            }
                            None => {
                                let mut d =
                                    self.err(n.span, format!("unknown codelist `{}`", n.text)).label("not defined");
                                if let Some(s) = suggest(&n.text, self.codelists.keys().map(String::as_str)) {
                                    d = d.help(format!("did you mean `{s}`?"));
                                } else {
                                    d = d.help(format!(
                                        "declare it first: codelist {} = \"codelists/{}.csv\"",
                                        n.text, n.text
                                    ));
                                }
                                self.push(d);
                                return Err(());
                            }
                        }
                    }
                    InSet::List(items, _) => items
                        .iter()
                        .map(|it| match self.bind(it, None) {
                            Ok(Bound::P(PExpr::Value { value, .. }, _)) => Ok(value),
                            _ => {
                                let d = self.err(
                                    it.span,
                                    "a list after `in` holds constants only, e.g. (\"a\", \"b\") or (1, 2)",
                                );
                                self.push(d);
                                Err(())
                            }
                        })
                        .collect(),
                };
                let values = values?;
                let arg_ty = match &b {
                    Bound::P(_, t) | Bound::E(_, t) => *t,
                    _ => Type::Text,
                };
                for (v, it) in values.iter().zip(match set {
                    InSet::List(items, _) => items.iter(),
                    InSet::Name(_) => [].iter(),
                }) {
                    let vt = v.ty();
                    if let Some(vt) = vt
                        && vt != arg_ty
                        && !(vt.is_numeric() && arg_ty.is_numeric())
                    {
                        let d = self.err(
                            it.span,
                            format!("this list holds a {} but the value before `in` is a {}", vt.name(), arg_ty.name()),
                        );
                        self.push(d);
                        return Err(());
                    }
                }
                let values = if arg_ty == Type::Float {
                    values.into_iter().map(|v| if let Value::Int(i) = v { Value::Float(i as f64) } else { v }).collect()
                } else {
                    values
                };
                match b {
                    Bound::P(p, _) => Bound::P(PExpr::InList { arg: Box::new(p), values }, Type::Bool),
                    Bound::E(x, _) => Bound::E(EExpr::InList { arg: Box::new(x), values }, Type::Bool),
                    other => {
                        let d =
                            self.err(*kw, format!("`in` needs a value before it, but this is {}", other.describe()));
                        self.push(d);
                        return Err(());
                    }
                }
            }
            K::Between { arg, lo, hi } => {
                let a = self.bind(arg, table)?;
                let l = self.bind(lo, table)?;
                let h = self.bind(hi, table)?;
                let ge = self.binary(BinOpSyn::Ge, lo.span, a.clone(), arg.span, l, lo.span)?;
                let le = self.binary(BinOpSyn::Le, hi.span, a, arg.span, h, hi.span)?;
                self.binary(BinOpSyn::And, e.span, ge, arg.span, le, hi.span)?
            }
            K::Within { arg, amount, after, anchor, kw } => {
                let a = self.bind(arg, table)?;
                let Bound::Duration(n, unit) = self.bind(amount, table)? else {
                    let d = self
                        .err(amount.span, "`within` needs a length of time, e.g. `within 12 months before index_date`");
                    self.push(d);
                    return Err(());
                };
                let x = self.bind(anchor, table)?;
                let shifted = self.binary(
                    if *after { BinOpSyn::Add } else { BinOpSyn::Sub },
                    *kw,
                    x.clone(),
                    anchor.span,
                    Bound::Duration(n, unit),
                    amount.span,
                )?;
                if *after {
                    // [anchor, anchor + n)
                    let lo = self.binary(BinOpSyn::Ge, *kw, a.clone(), arg.span, x, anchor.span)?;
                    let hi = self.binary(BinOpSyn::Lt, *kw, a, arg.span, shifted, anchor.span)?;
                    self.binary(BinOpSyn::And, *kw, lo, arg.span, hi, anchor.span)?
                } else {
                    // (anchor - n, anchor]
                    let lo = self.binary(BinOpSyn::Gt, *kw, a.clone(), arg.span, shifted, anchor.span)?;
                    let hi = self.binary(BinOpSyn::Le, *kw, a, arg.span, x, anchor.span)?;
                    self.binary(BinOpSyn::And, *kw, lo, arg.span, hi, anchor.span)?
                }
            }
            K::Case(branches, otherwise) => {
                let mut out = Vec::new();
                let mut ty: Option<Type> = None;
                let mut vals = Vec::new();
                for (c, v) in branches {
                    let (cp, _) = self.person(c, "a `when` condition", &[Type::Bool])?;
                    let vb = self.bind(v, table)?;
                    vals.push((cp, vb, v.span));
                }
                let other = match otherwise {
                    Some(o) => Some((self.bind(o, table)?, o.span)),
                    None => None,
                };
                for (_, vb, _) in &vals {
                    if let Bound::P(_, t) = vb {
                        ty = Some(unify(ty, *t));
                    }
                }
                if let Some((Bound::P(_, t), _)) = &other {
                    ty = Some(unify(ty, *t));
                }
                let ty = ty.unwrap_or(Type::Text);
                for (cp, vb, span) in vals {
                    let vp = self.coerce(vb, ty, span)?;
                    out.push((cp, vp));
                }
                let otherwise = match other {
                    Some((b, span)) => Some(Box::new(self.coerce(b, ty, span)?)),
                    None => None,
                };
                Bound::P(PExpr::Case { branches: out, otherwise, ty }, ty)
            }
        })
    }

    fn coerce(&mut self, b: Bound, ty: Type, span: Span) -> R<PExpr> {
        match b {
            Bound::Null => Ok(PExpr::Value { value: Value::Null, ty }),
            Bound::P(p, t) if t == ty => Ok(p),
            Bound::P(p, Type::Int) if ty == Type::Float => Ok(PExpr::ToFloat { arg: Box::new(p) }),
            other => {
                let d = self.err(
                    span,
                    format!(
                        "every branch of `case` must give the same type ({}), but this is {}",
                        ty.name(),
                        other.describe()
                    ),
                );
                self.push(d);
                Err(())
            }
        }
    }

    fn no_column(&mut self, table: EventTable, field: &Name) -> R<Bound> {
        let cols: Vec<&str> = table.columns().iter().map(|c| c.name).collect();
        let mut d =
            self.err(field.span, format!("`{}` has no column `{}`", table.name(), field.text)).label("unknown column");
        d = match suggest(&field.text, cols.iter().copied()) {
            Some(s) => d.help(format!("did you mean `{s}`? The columns are {}", cols.join(", "))),
            None => d.help(format!("the columns are {}", cols.join(", "))),
        };
        self.push(d);
        Err(())
    }

    fn name(&mut self, span: Span, name: &str, table: Option<EventTable>) -> R<Bound> {
        if let Some(t) = table
            && let Some(col) = t.column(name)
        {
            return Ok(Bound::E(EExpr::Column { name: col.name.into(), ty: col.ty }, col.ty));
        }
        if let Some(l) = self.lets.get(name) {
            self.copy(span, name, l.nodes)?;
            return Ok(l.bound.clone());
        }
        if let Some(c) = self.codelists.get(name) {
            self.copy(span, name, 1 + c.codes.len())?;
            return Ok(Bound::Codelist(c.clone()));
        }
        if let Some(t) = EventTable::from_name(name) {
            return Ok(Bound::Frame(Frame { table: t, filters: vec![] }));
        }
        let attr = |a: PersonAttr| Bound::P(PExpr::Attr { attr: a }, a.ty());
        let age = || PExpr::AgeAt { date: Box::new(PExpr::IndexDate) };
        Ok(match name {
            "index_date" => Bound::P(PExpr::IndexDate, Type::Date),
            "age" => Bound::P(age(), Type::Int),
            "age_band" => Bound::P(PExpr::AgeBand { bands: AgeBands::Esp2013, age: Box::new(age()) }, Type::Text),
            "age_band5" => Bound::P(PExpr::AgeBand { bands: AgeBands::FiveYear, age: Box::new(age()) }, Type::Text),
            "age_band10" => Bound::P(PExpr::AgeBand { bands: AgeBands::TenYear, age: Box::new(age()) }, Type::Text),
            "life_table_band" => {
                Bound::P(PExpr::AgeBand { bands: AgeBands::LifeTable, age: Box::new(age()) }, Type::Text)
            }
            "sex" => attr(PersonAttr::Sex),
            "ethnicity" => attr(PersonAttr::EthnicCategory),
            "ethnicity5" => attr(PersonAttr::EthnicGroup5),
            "imd_decile" => attr(PersonAttr::ImdDecile),
            "imd_quintile" => attr(PersonAttr::ImdQuintile),
            "place" => attr(PersonAttr::Place),
            "area" => attr(PersonAttr::AreaCode),
            "opted_out" => attr(PersonAttr::OptedOut),
            "date_of_death" => attr(PersonAttr::DateOfDeath),
            "year_of_birth" => attr(PersonAttr::YearOfBirth),
            "month_of_birth" => attr(PersonAttr::MonthOfBirth),
            "registered" => Bound::P(
                PExpr::Aggregate(Box::new(Aggregate {
                    frame: active_registrations(PExpr::IndexDate),
                    kind: AggKind::Exists,
                    ty: Type::Bool,
                })),
                Type::Bool,
            ),
            "practice" => Bound::P(practice_on(PExpr::IndexDate), Type::Text),
            "neighbourhood" => Bound::P(
                PExpr::PracticeLookup { practice: Box::new(practice_on(PExpr::IndexDate)), field: PracticeField::Pcn },
                Type::Text,
            ),
            "alive" => Bound::P(alive_on(PExpr::IndexDate), Type::Bool),
            _ => {
                self.unknown_name(span, name, table);
                return Err(());
            }
        })
    }

    fn call(&mut self, e: &Expr, f: &Name, args: &[Expr], table: Option<EventTable>) -> R<Bound> {
        let arity = |n: usize, this: &mut Self| -> R<()> {
            if args.len() == n {
                Ok(())
            } else {
                let sig = FUNCTIONS.iter().find(|x| x.0 == f.text).map(|x| x.1).unwrap_or("");
                let d = this
                    .err(
                        e.span,
                        format!(
                            "`{}` takes {n} argument{}, but {} {} given",
                            f.text,
                            if n == 1 { "" } else { "s" },
                            args.len(),
                            if args.len() == 1 { "was" } else { "were" }
                        ),
                    )
                    .help(format!("write `{sig}`"));
                this.push(d);
                Err(())
            }
        };
        let _ = table;
        match f.text.as_str() {
            "exists" | "count" => {
                arity(1, self)?;
                let frame = self.frame(&args[0], &f.text)?;
                let (kind, ty) =
                    if f.text == "exists" { (AggKind::Exists, Type::Bool) } else { (AggKind::Count, Type::Int) };
                Ok(Bound::P(PExpr::Aggregate(Box::new(Aggregate { frame, kind, ty })), ty))
            }
            "first" | "last" => {
                arity(1, self)?;
                let frame = self.frame(&args[0], &f.text)?;
                Ok(Bound::Row(frame, f.text == "first"))
            }
            "min" | "max" | "sum" | "mean" | "count_distinct" => {
                arity(1, self)?;
                let b = self.bind(&args[0], None)?;
                let Bound::Col(frame, col, ty) = b else {
                    let d = self
                        .err(
                            args[0].span,
                            format!("`{}` needs a column of some rows, but this is {}", f.text, b.describe()),
                        )
                        .help(format!("e.g. `{}((observation where code in hba1c).value)`", f.text));
                    self.push(d);
                    return Err(());
                };
                let numeric_only = matches!(f.text.as_str(), "sum" | "mean");
                if numeric_only && !ty.is_numeric() {
                    let d = self
                        .err(args[0].span, format!("`{}` needs numbers, but this column holds {}", f.text, ty.name()));
                    self.push(d);
                    return Err(());
                }
                if matches!(f.text.as_str(), "min" | "max") && ty == Type::Bool {
                    let d = self.err(args[0].span, format!("`{}` needs numbers, dates or text", f.text));
                    self.push(d);
                    return Err(());
                }
                let (kind, out) = match f.text.as_str() {
                    "min" => (AggKind::Min { of: col }, ty),
                    "max" => (AggKind::Max { of: col }, ty),
                    "sum" => (AggKind::Sum { of: col }, ty),
                    "mean" => (AggKind::Mean { of: col }, Type::Float),
                    _ => (AggKind::CountDistinct { of: col }, Type::Int),
                };
                Ok(Bound::P(PExpr::Aggregate(Box::new(Aggregate { frame, kind, ty: out })), out))
            }
            "age_at" | "registered_on" | "alive_on" => {
                arity(1, self)?;
                let (d, _) = self.person(&args[0], &format!("the argument of `{}`", f.text), &[Type::Date])?;
                Ok(match f.text.as_str() {
                    "age_at" => Bound::P(PExpr::AgeAt { date: Box::new(d) }, Type::Int),
                    "alive_on" => Bound::P(alive_on(d), Type::Bool),
                    _ => {
                        if !is_period_constant(&d) {
                            let diag = self.err(args[0].span, "`registered_on` needs a date that is the same for everyone (a date, or the index date shifted)");
                            self.push(diag);
                            return Err(());
                        }
                        Bound::P(
                            PExpr::Aggregate(Box::new(Aggregate {
                                frame: active_registrations(d),
                                kind: AggKind::Exists,
                                ty: Type::Bool,
                            })),
                            Type::Bool,
                        )
                    }
                })
            }
            _ => {
                let mut d = self.err(f.span, format!("unknown function `{}`", f.text)).label("not a function");
                d = match suggest(&f.text, FUNCTIONS.iter().map(|x| x.0)) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(format!(
                        "the functions are {}",
                        FUNCTIONS.iter().map(|x| x.0).collect::<Vec<_>>().join(", ")
                    )),
                };
                self.push(d);
                Err(())
            }
        }
    }

    fn unary(
        &mut self,
        b: Bound,
        span: Span,
        want: Type,
        what: &str,
        p: impl Fn(PExpr) -> PExpr,
        x: impl Fn(EExpr) -> EExpr,
    ) -> R<Bound> {
        match b {
            Bound::P(e, t) if t == want || (want.is_numeric() && t.is_numeric()) => Ok(Bound::P(p(e), t)),
            Bound::E(e, t) if t == want || (want.is_numeric() && t.is_numeric()) => Ok(Bound::E(x(e), t)),
            Bound::Null => Ok(Bound::Null),
            other => {
                let d = self.err(span, format!("{what} needs a {}, but this is {}", want.name(), other.describe()));
                self.push(d);
                Err(())
            }
        }
    }

    /// Lift a bound value into event context.
    fn to_event(&mut self, b: Bound, span: Span, what: &str) -> R<(EExpr, Type)> {
        match b {
            Bound::E(x, t) => Ok((x, t)),
            Bound::P(p, t) if is_period_constant(&p) => Ok((EExpr::Person { expr: p }, t)),
            Bound::P(_, _) => {
                let d = self.err(span, format!("{what} can only use the table's columns, constants and the index date; this is a value per person")).help("compare the person-level value outside the `where`, e.g. `exists(condition where code in asthma) and age >= 18`");
                self.push(d);
                Err(())
            }
            Bound::Null => {
                Ok((EExpr::Person { expr: PExpr::Value { value: Value::Null, ty: Type::Bool } }, Type::Bool))
            }
            other => {
                let d = self.err(span, format!("{what} must be a value, but this is {}", other.describe()));
                self.push(d);
                Err(())
            }
        }
    }

    fn binary(&mut self, op: BinOpSyn, op_span: Span, l: Bound, lspan: Span, r: Bound, rspan: Span) -> R<Bound> {
        // Date arithmetic with durations.
        if matches!(op, BinOpSyn::Add | BinOpSyn::Sub) {
            if let Bound::Duration(n, unit) = r {
                let amount = if op == BinOpSyn::Sub { -n } else { n };
                return match l {
                    Bound::P(p, Type::Date) => {
                        Ok(Bound::P(PExpr::DateAdd { date: Box::new(p), amount, unit }, Type::Date))
                    }
                    Bound::E(x, Type::Date) => {
                        Ok(Bound::E(EExpr::DateAdd { date: Box::new(x), amount, unit }, Type::Date))
                    }
                    other => {
                        let d = self.err(
                            lspan,
                            format!(
                                "a length of time can only be added to or taken from a date, but this is {}",
                                other.describe()
                            ),
                        );
                        self.push(d);
                        Err(())
                    }
                };
            }
            if let Bound::Duration(..) = l {
                let d = self.err(lspan, "write the date first: `index_date - 12 months`");
                self.push(d);
                return Err(());
            }
        }
        if let (Bound::Duration(..), _) | (_, Bound::Duration(..)) = (&l, &r) {
            let span = if matches!(l, Bound::Duration(..)) { lspan } else { rspan };
            let d = self.err(span, "a length of time can only be used with `+`, `-` or `within`");
            self.push(d);
            return Err(());
        }
        // Types of the two sides (a bare `missing` takes the other side's type).
        let lt = bound_type(&l);
        let rt = bound_type(&r);
        let (lt, rt) = match (lt, rt) {
            (None, None) if !matches!((&l, &r), (Bound::Null, Bound::Null)) => {
                let (b, span) =
                    if bound_type(&l).is_none() && !matches!(l, Bound::Null) { (&l, lspan) } else { (&r, rspan) };
                let desc = b.describe();
                let mut d = self.err(span, format!("`{}` needs values on both sides, but this is {desc}", sym(op)));
                if matches!(b, Bound::Frame(_)) {
                    d = d.help("turn rows into a value with `exists(...)`, `count(...)` or `last(...).value`");
                }
                self.push(d);
                return Err(());
            }
            (Some(a), None) => (a, a),
            (None, Some(b)) => (b, b),
            (Some(a), Some(b)) => (a, b),
            (None, None) => (Type::Bool, Type::Bool),
        };
        for (b, span) in [(&l, lspan), (&r, rspan)] {
            if bound_type(b).is_none() && !matches!(b, Bound::Null) {
                let d = self.err(span, format!("`{}` needs a value here, but this is {}", sym(op), b.describe()));
                self.push(d);
                return Err(());
            }
        }
        let (model_op, out_ty) = match op {
            BinOpSyn::And | BinOpSyn::Or => {
                for (t, span) in [(lt, lspan), (rt, rspan)] {
                    if t != Type::Bool {
                        let d = self
                            .err(span, format!("`{}` joins true/false conditions, but this is a {}", sym(op), t.name()))
                            .help("compare it with something first, e.g. `age >= 18`");
                        self.push(d);
                        return Err(());
                    }
                }
                (if op == BinOpSyn::And { BinOp::And } else { BinOp::Or }, Type::Bool)
            }
            BinOpSyn::Eq | BinOpSyn::Ne | BinOpSyn::Lt | BinOpSyn::Le | BinOpSyn::Gt | BinOpSyn::Ge => {
                if lt != rt && !(lt.is_numeric() && rt.is_numeric()) {
                    let mut d = self
                        .err(op_span, format!("a {} cannot be compared with a {}", lt.name(), rt.name()))
                        .label(format!("{} {} {}", lt.name(), sym(op), rt.name()));
                    if (lt == Type::Date && rt.is_numeric()) || (rt == Type::Date && lt.is_numeric()) {
                        d = d.help("write a date as YYYY-MM-DD, or compare with a date such as `index_date - 12 months`; to compare ages use `age`");
                    } else if lt == Type::Text || rt == Type::Text {
                        d = d.help("text values go in double quotes, e.g. sex = \"female\"");
                    }
                    self.push(d);
                    return Err(());
                }
                if lt == Type::Bool && !matches!(op, BinOpSyn::Eq | BinOpSyn::Ne) {
                    let d = self.err(op_span, "true/false values can only be compared with `=` or `!=`");
                    self.push(d);
                    return Err(());
                }
                let m = match op {
                    BinOpSyn::Eq => BinOp::Eq,
                    BinOpSyn::Ne => BinOp::Ne,
                    BinOpSyn::Lt => BinOp::Lt,
                    BinOpSyn::Le => BinOp::Le,
                    BinOpSyn::Gt => BinOp::Gt,
                    _ => BinOp::Ge,
                };
                (m, Type::Bool)
            }
            BinOpSyn::Add | BinOpSyn::Sub | BinOpSyn::Mul | BinOpSyn::Div => {
                for (t, span) in [(lt, lspan), (rt, rspan)] {
                    if !t.is_numeric() {
                        let mut d = self.err(span, format!("`{}` needs numbers, but this is a {}", sym(op), t.name()));
                        if t == Type::Date {
                            d = d.help("to move a date, add a length of time: `index_date - 12 months`");
                        }
                        self.push(d);
                        return Err(());
                    }
                }
                let m = match op {
                    BinOpSyn::Add => BinOp::Add,
                    BinOpSyn::Sub => BinOp::Sub,
                    BinOpSyn::Mul => BinOp::Mul,
                    _ => BinOp::Div,
                };
                let out =
                    if op == BinOpSyn::Div || lt == Type::Float || rt == Type::Float { Type::Float } else { Type::Int };
                (m, out)
            }
            BinOpSyn::Otherwise => {
                if lt != rt && !(lt.is_numeric() && rt.is_numeric()) {
                    let d = self.err(
                        op_span,
                        format!(
                            "`otherwise` needs the same type on both sides, but this is a {} and a {}",
                            lt.name(),
                            rt.name()
                        ),
                    );
                    self.push(d);
                    return Err(());
                }
                (BinOp::Eq, unify(Some(lt), rt))
            }
        };
        // Numeric operands are made the same type: both decimal if either is (or for `/`).
        let operand_ty = match op {
            BinOpSyn::Div => Type::Float,
            _ if lt.is_numeric() && rt.is_numeric() && (lt == Type::Float || rt == Type::Float) => Type::Float,
            _ => lt,
        };
        let event = matches!(l, Bound::E(..)) || matches!(r, Bound::E(..));
        if event {
            let (le, _) = self.to_event_typed(l, lt, operand_ty, lspan)?;
            let (re, _) = self.to_event_typed(r, rt, operand_ty, rspan)?;
            return Ok(Bound::E(
                if op == BinOpSyn::Otherwise {
                    EExpr::Otherwise { arg: Box::new(le), fallback: Box::new(re) }
                } else {
                    EExpr::Binary { op: model_op, left: Box::new(le), right: Box::new(re) }
                },
                out_ty,
            ));
        }
        let lp = person_typed(l, lt, operand_ty);
        let rp = person_typed(r, rt, operand_ty);
        Ok(Bound::P(
            if op == BinOpSyn::Otherwise {
                PExpr::Otherwise { arg: Box::new(lp), fallback: Box::new(rp) }
            } else {
                PExpr::Binary { op: model_op, left: Box::new(lp), right: Box::new(rp) }
            },
            out_ty,
        ))
    }

    fn to_event_typed(&mut self, b: Bound, ty: Type, want: Type, span: Span) -> R<(EExpr, Type)> {
        let (x, _) = match b {
            Bound::Null => (EExpr::Person { expr: PExpr::Value { value: Value::Null, ty: want } }, want),
            b => self.to_event(b, span, "a value inside `where`")?,
        };
        Ok(if ty == Type::Int && want == Type::Float { (EExpr::ToFloat { arg: Box::new(x) }, want) } else { (x, ty) })
    }
}

fn person_typed(b: Bound, ty: Type, want: Type) -> PExpr {
    match b {
        Bound::Null => PExpr::Value { value: Value::Null, ty: want },
        Bound::P(p, _) if ty == Type::Int && want == Type::Float => PExpr::ToFloat { arg: Box::new(p) },
        Bound::P(p, _) => p,
        _ => PExpr::Value { value: Value::Null, ty: want },
    }
}

fn bound_type(b: &Bound) -> Option<Type> {
    match b {
        Bound::P(_, t) | Bound::E(_, t) => Some(*t),
        _ => None,
    }
}

fn unify(a: Option<Type>, b: Type) -> Type {
    match a {
        Some(Type::Int) if b == Type::Float => Type::Float,
        Some(a) => a,
        None => b,
    }
}

fn sym(op: BinOpSyn) -> &'static str {
    match op {
        BinOpSyn::And => "and",
        BinOpSyn::Or => "or",
        BinOpSyn::Eq => "=",
        BinOpSyn::Ne => "!=",
        BinOpSyn::Lt => "<",
        BinOpSyn::Le => "<=",
        BinOpSyn::Gt => ">",
        BinOpSyn::Ge => ">=",
        BinOpSyn::Add => "+",
        BinOpSyn::Sub => "-",
        BinOpSyn::Mul => "*",
        BinOpSyn::Div => "/",
        BinOpSyn::Otherwise => "otherwise",
    }
}

/// The depth and the number of nodes of a bound expression in the query model, a codelist
/// counting a node per code. Recursive: the binder only builds expressions whose parts are
/// bounded ([`MAX_NESTING`] of syntax, [`MAX_MODEL_DEPTH`] for each `let`).
pub(crate) fn measure(b: &Bound) -> (usize, usize) {
    match b {
        Bound::P(p, _) => p_measure(p),
        Bound::E(x, _) => e_measure(x),
        Bound::Null | Bound::Duration(..) => (1, 1),
        Bound::Frame(f) | Bound::Row(f, _) => frame_measure(f),
        Bound::Col(f, x, _) => join([frame_measure(f), e_measure(x)]),
        Bound::Codelist(c) => (1, 1 + c.codes.len()),
    }
}

/// One node above `parts`.
fn join<const N: usize>(parts: [(usize, usize); N]) -> (usize, usize) {
    parts.iter().fold((1, 1), |(d, n), &(pd, pn)| (d.max(pd + 1), n.saturating_add(pn)))
}

fn all<'a, T: 'a>(items: impl IntoIterator<Item = &'a T>, f: impl Fn(&T) -> (usize, usize)) -> (usize, usize) {
    items.into_iter().map(f).fold((0, 0), |(d, n), (pd, pn)| (d.max(pd), n.saturating_add(pn)))
}

fn frame_measure(f: &Frame) -> (usize, usize) {
    let (d, n) = all(&f.filters, e_measure);
    (d + 1, n + 1)
}

fn p_measure(p: &PExpr) -> (usize, usize) {
    match p {
        PExpr::Value { .. } | PExpr::IndexDate | PExpr::Attr { .. } => (1, 1),
        PExpr::AgeAt { date: a }
        | PExpr::AgeBand { age: a, .. }
        | PExpr::Not { arg: a }
        | PExpr::Neg { arg: a }
        | PExpr::IsMissing { arg: a }
        | PExpr::DateAdd { date: a, .. }
        | PExpr::ToFloat { arg: a }
        | PExpr::PracticeLookup { practice: a, .. } => join([p_measure(a)]),
        PExpr::InList { arg, values } => {
            let (d, n) = join([p_measure(arg)]);
            (d, n.saturating_add(values.len()))
        }
        PExpr::Aggregate(a) => join([frame_measure(&a.frame), agg_measure(&a.kind)]),
        PExpr::Binary { left, right, .. } | PExpr::Otherwise { arg: left, fallback: right } => {
            join([p_measure(left), p_measure(right)])
        }
        PExpr::Case { branches, otherwise, .. } => {
            let b = all(branches, |(c, v)| {
                let (c, v) = (p_measure(c), p_measure(v));
                (c.0.max(v.0), c.1.saturating_add(v.1))
            });
            join([b, otherwise.as_deref().map_or((0, 0), p_measure)])
        }
    }
}

fn agg_measure(k: &AggKind) -> (usize, usize) {
    match k {
        AggKind::CountDistinct { of }
        | AggKind::Min { of }
        | AggKind::Max { of }
        | AggKind::Sum { of }
        | AggKind::Mean { of } => e_measure(of),
        _ => (0, 0),
    }
}

fn e_measure(x: &EExpr) -> (usize, usize) {
    match x {
        EExpr::Column { .. } => (1, 1),
        EExpr::Person { expr } => join([p_measure(expr)]),
        EExpr::InCodelist { arg, codelist } => {
            let (d, n) = join([e_measure(arg)]);
            (d, n.saturating_add(codelist.codes.len()))
        }
        EExpr::InList { arg, values } => {
            let (d, n) = join([e_measure(arg)]);
            (d, n.saturating_add(values.len()))
        }
        EExpr::Not { arg: a }
        | EExpr::Neg { arg: a }
        | EExpr::IsMissing { arg: a }
        | EExpr::DateAdd { date: a, .. }
        | EExpr::ToFloat { arg: a } => join([e_measure(a)]),
        EExpr::Binary { left, right, .. } | EExpr::Otherwise { arg: left, fallback: right } => {
            join([e_measure(left), e_measure(right)])
        }
    }
}
