//! The DataFusion engine against the reference engine, on random small stores and random
//! valid definitions (ehrQL's generative tests), and on a few hand-written tricky cases.
//!
//! A failure prints the definition (the model as JSON; codelists are named by their codes),
//! the store as text tables that `phm_testkit::tables::table_from_text` reads back, and both
//! results, so the case can be pasted into a deterministic test.
//!
//! `PROPTEST_CASES` sets the number of cases of each property test (128 by default),
//! `PROPTEST_MAX_SHRINK_ITERS` and `PROPTEST_MAX_SHRINK_TIME` (ms) how hard a failure is
//! shrunk, and `PROPTEST_RNG_SEED` the seed (a failure prints the one it used).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::NaiveDate;
use datafusion::arrow::array::RecordBatch;
use phm_engine::{Engine, IndicatorRow, NOT_RECORDED, Periods};
use phm_model::*;
use phm_testkit::reference::{self, cohorts_match, indicator_rows_match};
use phm_testkit::tables::{store_from_text, table_to_text};
use phm_testkit::{engine_cohort, values_match};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use proptest::strategy::Union;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};

type S<T> = BoxedStrategy<T>;
type Tables = BTreeMap<String, Vec<RecordBatch>>;
/// Cohort rows: person id and column values.
type Rows = Vec<(String, Vec<Value>)>;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime")
}

fn lookups() -> Lookups {
    phm_engine::lookups_for(None).expect("built-in reference data")
}

/// The runner's settings; the seed is random unless `PROPTEST_RNG_SEED` is set, and is
/// printed on failure so the same cases can be run again.
fn config() -> (Config, u64) {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let seed = env("PROPTEST_RNG_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
    });
    let config = Config {
        cases: env("PROPTEST_CASES").map_or(128, |n| n as u32),
        failure_persistence: None,
        max_shrink_iters: env("PROPTEST_MAX_SHRINK_ITERS").map_or(2000, |n| n as u32),
        max_shrink_time: env("PROPTEST_MAX_SHRINK_TIME").map_or(120_000, |n| n as u32),
        rng_seed: RngSeed::Fixed(seed),
        ..Config::default()
    };
    (config, seed)
}

fn run<T: std::fmt::Debug>(strategy: impl Strategy<Value = T>, test: impl Fn(T) -> Result<(), TestCaseError>) {
    let (config, seed) = config();
    let mut runner = TestRunner::new(config);
    match runner.run(&strategy, test) {
        Ok(()) => {}
        // The reason holds the definition, the store and both results; the input's Debug
        // form would repeat them less readably.
        Err(proptest::test_runner::TestError::Fail(reason, _)) => {
            panic!("{reason}\n(run again with PROPTEST_RNG_SEED={seed})")
        }
        Err(e) => panic!("{e}\n(run again with PROPTEST_RNG_SEED={seed})"),
    }
}

// ---------------------------------------------------------------------------------------
// Random stores.

/// Dates that catch off-by-one and month-end mistakes, plus index dates, so rows tie.
fn special_dates() -> Vec<NaiveDate> {
    vec![
        d(2024, 2, 29),
        d(2024, 2, 28),
        d(2024, 3, 1),
        d(2023, 2, 28),
        d(2023, 3, 1),
        d(2024, 3, 31),
        d(2024, 1, 31),
        d(2025, 2, 28),
        d(2023, 12, 31),
        d(2022, 6, 30),
        d(2025, 3, 31),
        d(2021, 1, 1),
    ]
}

fn date() -> S<NaiveDate> {
    prop_oneof![
        3 => select(special_dates()),
        2 => (0i64..(7 * 366)).prop_map(|n| d(2020, 1, 1) + chrono::Duration::days(n)),
    ]
    .boxed()
}

fn index_date() -> S<NaiveDate> {
    prop_oneof![2 => Just(d(2024, 2, 29)), 1 => Just(d(2025, 3, 31)), 1 => Just(d(2023, 12, 31)), 2 => date()].boxed()
}

fn opt<T: std::fmt::Debug + Clone + 'static>(p: f64, s: impl Strategy<Value = T> + 'static) -> S<Option<T>> {
    proptest::option::weighted(p, s).boxed()
}

fn cell<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// Area codes: one known area for each IMD decile, plus two unknown to the lookups.
fn area_codes(lookups: &Lookups) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for decile in 1..=10 {
        if let Some((code, _)) = lookups.areas.iter().find(|(_, (_, dec))| *dec == Some(decile)) {
            out.push(code.clone());
        }
    }
    out.extend(["UNKNOWN01".to_owned(), "E01000001".to_owned()]);
    out
}

fn practice_codes(lookups: &Lookups) -> Vec<String> {
    let mut out: Vec<String> = lookups.practices.keys().take(3).cloned().collect();
    out.push("UNKNOWNGP".to_owned());
    out
}

const CODES: [&str; 4] = ["C1", "C2", "C3", "C4"];

fn code() -> S<String> {
    select(CODES.to_vec()).prop_map(str::to_owned).boxed()
}

fn org() -> S<String> {
    select(vec!["ORG1", "ORG2"]).prop_map(str::to_owned).boxed()
}

fn obs_value() -> S<Option<f64>> {
    opt(
        0.8,
        prop_oneof![
            select(vec![0.0, -0.0, 1.5, -2.0, 120.0, 7.25, 3.0]),
            (-400i32..=1200).prop_map(|x| f64::from(x) / 4.0)
        ],
    )
}

/// One person: their `person` cells and rows of each event table (cells after `person`).
#[derive(Clone, Debug)]
struct PersonSpec {
    person: Vec<String>,
    events: Vec<Vec<Vec<String>>>,
}

const PERSON_HEADER: &str = "person | sex | year_of_birth | month_of_birth | date_of_death | area_code | national_data_opt_out | ethnic_category | ethnic_group_5";

/// Event tables of random stores, with the header of their text.
const EVENT_HEADERS: [(&str, &str); 5] = [
    ("condition", "person | code | date | diagnosis_rank | source_org"),
    ("observation", "person | code | date | value | unit | source_org"),
    ("immunisation", "person | code | date | dose_number | source_org"),
    ("encounter", "person | date | code | setting | end_date | source_org"),
    ("registration", "person | date | end_date | practice"),
];

fn event_row(table: &str, practices: Vec<String>) -> S<Vec<String>> {
    match table {
        "condition" => (code(), date(), opt(0.6, 1i16..=3), org())
            .prop_map(|(c, dt, r, o)| vec![c, dt.to_string(), cell(&r), o])
            .boxed(),
        "observation" => (code(), date(), obs_value(), opt(0.5, select(vec!["mmHg", "kg"])), org())
            .prop_map(|(c, dt, v, u, o)| vec![c, dt.to_string(), cell(&v), cell(&u), o])
            .boxed(),
        "immunisation" => (code(), date(), opt(0.6, 1i16..=3), org())
            .prop_map(|(c, dt, n, o)| vec![c, dt.to_string(), cell(&n), o])
            .boxed(),
        "encounter" => {
            (date(), opt(0.7, code()), select(vec!["gp", "ae", "emergency_admission"]), opt(0.5, 0i64..=10), org())
                .prop_map(|(dt, c, s, len, o)| {
                    vec![dt.to_string(), cell(&c), s.to_owned(), cell(&len.map(|n| dt + chrono::Duration::days(n))), o]
                })
                .boxed()
        }
        _ => (date(), opt(0.5, 0i64..=900), select(practices))
            .prop_map(|(dt, len, p)| vec![dt.to_string(), cell(&len.map(|n| dt + chrono::Duration::days(n))), p])
            .boxed(),
    }
}

fn person_spec(lookups: &Lookups) -> S<PersonSpec> {
    let person = (
        select(vec!["female", "male", "other", "unknown"]),
        opt(0.9, 1915i16..=2025),
        opt(0.75, 1u8..=12),
        opt(0.3, date()),
        opt(0.9, select(area_codes(lookups))),
        proptest::bool::weighted(0.15),
        opt(0.6, select(vec!["A", "B", "M", "S"])),
        opt(0.6, select(vec!["white", "asian", "black"])),
    )
        .prop_map(|(sex, yob, mob, dod, area, opted, eth, eth5)| {
            vec![
                sex.to_owned(),
                cell(&yob),
                cell(&mob),
                cell(&dod),
                cell(&area),
                opted.to_string(),
                cell(&eth),
                cell(&eth5),
            ]
        });
    let events: Vec<S<Vec<Vec<String>>>> =
        EVENT_HEADERS.iter().map(|(t, _)| vec(event_row(t, practice_codes(lookups)), 0..=6).boxed()).collect();
    (person, events).prop_map(|(person, events)| PersonSpec { person, events }).boxed()
}

/// A random store, as text tables (person ids `1`, `2`, … so that `10` sorts before `2`).
#[derive(Clone)]
struct StoreText(Vec<(String, String)>);

impl std::fmt::Debug for StoreText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (name, text) in &self.0 {
            writeln!(f, "table {name}\n{text}")?;
        }
        Ok(())
    }
}

fn store(lookups: &Lookups) -> S<StoreText> {
    vec(person_spec(lookups), 1..=12)
        .prop_map(|people| {
            let mut person = format!("{PERSON_HEADER}\n");
            let mut events: Vec<String> = EVENT_HEADERS.iter().map(|(_, h)| format!("{h}\n")).collect();
            for (i, p) in people.iter().enumerate() {
                let id = (i + 1).to_string();
                let _ = writeln!(person, "{id} | {}", p.person.join(" | "));
                for (t, rows) in p.events.iter().enumerate() {
                    for r in rows {
                        let _ = writeln!(events[t], "{id} | {}", r.join(" | "));
                    }
                }
            }
            let mut out = vec![("person".to_owned(), person)];
            out.extend(EVENT_HEADERS.iter().zip(events).map(|((t, _), text)| ((*t).to_owned(), text)));
            StoreText(out)
        })
        .boxed()
}

fn tables_of(store: &StoreText) -> Tables {
    let parts: Vec<(&str, &str)> = store.0.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    store_from_text(&parts).expect("generated tables are valid")
}

// ---------------------------------------------------------------------------------------
// Random valid definitions: typed generators of person and event series.

const TYPES: [Type; 5] = [Type::Bool, Type::Int, Type::Float, Type::Date, Type::Text];

fn ti(t: Type) -> usize {
    match t {
        Type::Bool => 0,
        Type::Int => 1,
        Type::Float => 2,
        Type::Date => 3,
        Type::Text => 4,
    }
}

fn union<T: std::fmt::Debug + 'static>(arms: Vec<(u32, S<T>)>) -> S<T> {
    Union::new_weighted(arms).boxed()
}

fn bx<T>(x: T) -> Box<T> {
    Box::new(x)
}

fn pbin(op: BinOp, l: PExpr, r: PExpr) -> PExpr {
    PExpr::Binary { op, left: bx(l), right: bx(r) }
}

fn ebin(op: BinOp, l: EExpr, r: EExpr) -> EExpr {
    EExpr::Binary { op, left: bx(l), right: bx(r) }
}

fn lit(value: Value, ty: Type) -> PExpr {
    PExpr::Value { value, ty }
}

fn ecol(table: EventTable, name: &str) -> EExpr {
    let c = table.column(name).expect("column");
    EExpr::Column { name: name.to_owned(), ty: c.ty }
}

const TEXTS: [&str; 9] = ["female", "male", "C1", "C2", "gp", "ORG1", "E06000055", "", "zz"];

fn texts(lookups: &Lookups) -> Vec<String> {
    let mut out: Vec<String> = TEXTS.iter().map(|s| (*s).to_owned()).collect();
    out.extend(practice_codes(lookups));
    out
}

fn literal(ty: Type, lookups: &Lookups) -> S<PExpr> {
    let v: S<Value> = match ty {
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::Int => select(vec![-2i64, 0, 1, 2, 3, 6, 12, 18, 65, 1950, 2000]).prop_map(Value::Int).boxed(),
        Type::Float => select(vec![0.0, 0.5, 1.5, -2.0, 3.0, 120.0, 7.25]).prop_map(Value::Float).boxed(),
        Type::Date => date().prop_map(Value::Date).boxed(),
        Type::Text => select(texts(lookups)).prop_map(Value::Text).boxed(),
    };
    prop_oneof![8 => v, 1 => Just(Value::Null)].prop_map(move |v| lit(v, ty)).boxed()
}

fn shift() -> S<(i64, Unit)> {
    prop_oneof![
        (-400i64..=400).prop_map(|n| (n, Unit::Days)),
        (-24i64..=24).prop_map(|n| (n, Unit::Months)),
        (-5i64..=5).prop_map(|n| (n, Unit::Years)),
    ]
    .boxed()
}

/// Person series that are the same for everyone: what an event filter may use.
fn period_const(ty: Type, lookups: &Lookups) -> S<PExpr> {
    match ty {
        Type::Date => prop_oneof![
            2 => Just(PExpr::IndexDate),
            1 => literal(Type::Date, lookups),
            3 => (prop_oneof![Just(PExpr::IndexDate), literal(Type::Date, lookups)], shift()).prop_map(|(d, (amount, unit))| PExpr::DateAdd { date: bx(d), amount, unit }),
        ]
        .boxed(),
        Type::Int => prop_oneof![3 => literal(Type::Int, lookups), 1 => (literal(Type::Int, lookups), literal(Type::Int, lookups)).prop_map(|(a, b)| pbin(BinOp::Add, a, b))].boxed(),
        Type::Float => prop_oneof![
            3 => literal(Type::Float, lookups),
            1 => literal(Type::Int, lookups).prop_map(|a| PExpr::ToFloat { arg: bx(a) }),
            1 => literal(Type::Float, lookups).prop_map(|a| PExpr::Neg { arg: bx(a) }),
        ]
        .boxed(),
        _ => literal(ty, lookups),
    }
}

fn comparison() -> S<BinOp> {
    select(vec![BinOp::Eq, BinOp::Ne, BinOp::Lt, BinOp::Le, BinOp::Gt, BinOp::Ge]).boxed()
}

fn int_list() -> S<Vec<Value>> {
    vec(select(vec![-1i64, 0, 1, 2, 3, 5, 1950, 2000]).prop_map(Value::Int), 0..=3).boxed()
}

fn text_list(lookups: &Lookups) -> S<Vec<Value>> {
    vec(select(texts(lookups)).prop_map(Value::Text), 0..=3).boxed()
}

fn codelist() -> S<CodelistRef> {
    subsequence(CODES.to_vec(), 0..=3)
        .prop_map(|codes| {
            let codes: Vec<String> = codes.into_iter().map(str::to_owned).collect();
            CodelistRef {
                name: format!("codes[{}]", codes.join(",")),
                system: "snomed".into(),
                sha256: String::new(),
                codes,
            }
        })
        .boxed()
}

/// All the generators, built once (each level refers to the one below).
struct Gen {
    /// Event series per table: levels 0..=2, one strategy per type.
    events: BTreeMap<EventTable, Vec<Vec<S<EExpr>>>>,
    /// Frames per table.
    frames: BTreeMap<EventTable, S<Frame>>,
    /// Person series: levels 0..=3, one strategy per type.
    person: Vec<Vec<S<PExpr>>>,
}

const E_DEPTH: usize = 2;
const P_DEPTH: usize = 3;

/// Tables with rows in the random stores; the others are always empty.
const FILLED: [EventTable; 5] = [
    EventTable::Condition,
    EventTable::Observation,
    EventTable::Immunisation,
    EventTable::Encounter,
    EventTable::Registration,
];

fn columns_of(table: EventTable, ty: Type) -> Vec<&'static str> {
    table.columns().iter().filter(|c| c.ty == ty).map(|c| c.name).collect()
}

fn event_level0(table: EventTable, ty: Type, lookups: &Lookups) -> S<EExpr> {
    let mut arms: Vec<(u32, S<EExpr>)> =
        vec![(1, period_const(ty, lookups).prop_map(|expr| EExpr::Person { expr }).boxed())];
    let cols = columns_of(table, ty);
    if !cols.is_empty() {
        arms.push((3, select(cols).prop_map(move |c| ecol(table, c)).boxed()));
    }
    union(arms)
}

fn event_level(table: EventTable, ty: Type, prev: &[S<EExpr>], lookups: &Lookups) -> S<EExpr> {
    let p = |t: Type| prev[ti(t)].clone();
    let mut arms: Vec<(u32, S<EExpr>)> = vec![(4, p(ty))];
    match ty {
        Type::Bool => {
            for t in [Type::Int, Type::Float, Type::Date, Type::Text] {
                let w = if t == Type::Date { 3 } else { 1 };
                arms.push((w, (comparison(), p(t), p(t)).prop_map(|(op, l, r)| ebin(op, l, r)).boxed()));
            }
            arms.push((
                1,
                (select(vec![BinOp::Eq, BinOp::Ne]), p(Type::Bool), p(Type::Bool))
                    .prop_map(|(op, l, r)| ebin(op, l, r))
                    .boxed(),
            ));
            arms.push((
                2,
                (select(vec![BinOp::And, BinOp::Or]), p(Type::Bool), p(Type::Bool))
                    .prop_map(|(op, l, r)| ebin(op, l, r))
                    .boxed(),
            ));
            arms.push((1, p(Type::Bool).prop_map(|a| EExpr::Not { arg: bx(a) }).boxed()));
            arms.push((
                2,
                union(TYPES.iter().map(|t| (1, p(*t))).collect()).prop_map(|a| EExpr::IsMissing { arg: bx(a) }).boxed(),
            ));
            arms.push((
                1,
                (p(Type::Int), int_list()).prop_map(|(a, values)| EExpr::InList { arg: bx(a), values }).boxed(),
            ));
            arms.push((
                1,
                (p(Type::Text), text_list(lookups))
                    .prop_map(|(a, values)| EExpr::InList { arg: bx(a), values })
                    .boxed(),
            ));
            if table.column("code").is_some() {
                arms.push((
                    3,
                    (prop_oneof![3 => Just(ecol(table, "code")), 1 => p(Type::Text)], codelist())
                        .prop_map(|(a, codelist)| EExpr::InCodelist { arg: bx(a), codelist })
                        .boxed(),
                ));
            }
            arms.push((
                1,
                (p(Type::Bool), p(Type::Bool))
                    .prop_map(|(a, b)| EExpr::Otherwise { arg: bx(a), fallback: bx(b) })
                    .boxed(),
            ));
            // `date within N units before index_date`, as phm-lang lowers it.
            arms.push((
                3,
                shift()
                    .prop_map(move |(n, unit)| {
                        let anchor = || EExpr::Person { expr: PExpr::IndexDate };
                        let start = EExpr::Person {
                            expr: PExpr::DateAdd { date: bx(PExpr::IndexDate), amount: -n.abs(), unit },
                        };
                        ebin(
                            BinOp::And,
                            ebin(BinOp::Gt, ecol(table, "date"), start),
                            ebin(BinOp::Le, ecol(table, "date"), anchor()),
                        )
                    })
                    .boxed(),
            ));
        }
        Type::Int => {
            arms.push((
                2,
                (select(vec![BinOp::Add, BinOp::Sub]), p(Type::Int), p(Type::Int))
                    .prop_map(|(op, l, r)| ebin(op, l, r))
                    .boxed(),
            ));
            arms.push((
                1,
                (p(Type::Int), -3i64..=3)
                    .prop_map(|(l, k)| ebin(BinOp::Mul, l, EExpr::Person { expr: lit(Value::Int(k), Type::Int) }))
                    .boxed(),
            ));
            arms.push((1, p(Type::Int).prop_map(|a| EExpr::Neg { arg: bx(a) }).boxed()));
            arms.push((
                1,
                (p(Type::Int), p(Type::Int))
                    .prop_map(|(a, b)| EExpr::Otherwise { arg: bx(a), fallback: bx(b) })
                    .boxed(),
            ));
        }
        Type::Float => {
            arms.push((2, p(Type::Int).prop_map(|a| EExpr::ToFloat { arg: bx(a) }).boxed()));
            arms.push((
                2,
                (select(vec![BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div]), p(Type::Float), p(Type::Float))
                    .prop_map(|(op, l, r)| ebin(op, l, r))
                    .boxed(),
            ));
            arms.push((1, p(Type::Float).prop_map(|a| EExpr::Neg { arg: bx(a) }).boxed()));
            arms.push((
                1,
                (p(Type::Float), p(Type::Float))
                    .prop_map(|(a, b)| EExpr::Otherwise { arg: bx(a), fallback: bx(b) })
                    .boxed(),
            ));
        }
        Type::Date => {
            arms.push((
                2,
                (p(Type::Date), shift())
                    .prop_map(|(a, (amount, unit))| EExpr::DateAdd { date: bx(a), amount, unit })
                    .boxed(),
            ));
            arms.push((
                1,
                (p(Type::Date), p(Type::Date))
                    .prop_map(|(a, b)| EExpr::Otherwise { arg: bx(a), fallback: bx(b) })
                    .boxed(),
            ));
        }
        Type::Text => {
            arms.push((
                1,
                (p(Type::Text), p(Type::Text))
                    .prop_map(|(a, b)| EExpr::Otherwise { arg: bx(a), fallback: bx(b) })
                    .boxed(),
            ));
        }
    }
    union(arms)
}

/// Registrations active on a date, as phm-lang builds them for `registered` and `practice`.
fn active_registrations(on: PExpr) -> Frame {
    let t = EventTable::Registration;
    let on_e = || EExpr::Person { expr: on.clone() };
    Frame {
        table: t,
        filters: vec![
            ebin(BinOp::Le, ecol(t, "date"), on_e()),
            ebin(
                BinOp::Or,
                EExpr::IsMissing { arg: bx(ecol(t, "end_date")) },
                ebin(BinOp::Ge, ecol(t, "end_date"), on_e()),
            ),
        ],
    }
}

fn practice_on(on: PExpr) -> PExpr {
    PExpr::Aggregate(bx(Aggregate {
        frame: active_registrations(on),
        kind: AggKind::Last { column: "practice".into() },
        ty: Type::Text,
    }))
}

fn alive_on(on: PExpr) -> PExpr {
    let dod = || PExpr::Attr { attr: PersonAttr::DateOfDeath };
    pbin(BinOp::Or, PExpr::IsMissing { arg: bx(dod()) }, pbin(BinOp::Gt, dod(), on))
}

fn age() -> PExpr {
    PExpr::AgeAt { date: bx(PExpr::IndexDate) }
}

impl Gen {
    fn new(lookups: &Lookups) -> Gen {
        let mut events = BTreeMap::new();
        let mut frames = BTreeMap::new();
        for table in EventTable::ALL {
            let mut levels: Vec<Vec<S<EExpr>>> = vec![TYPES.iter().map(|t| event_level0(table, *t, lookups)).collect()];
            for depth in 1..=E_DEPTH {
                let next = TYPES.iter().map(|t| event_level(table, *t, &levels[depth - 1], lookups)).collect();
                levels.push(next);
            }
            let filter = levels[E_DEPTH][ti(Type::Bool)].clone();
            frames.insert(table, vec(filter, 0..=3).prop_map(move |filters| Frame { table, filters }).boxed());
            events.insert(table, levels);
        }
        let mut g = Gen { events, frames, person: Vec::new() };
        let level0: Vec<S<PExpr>> = TYPES.iter().map(|t| g.person_level0(*t, lookups)).collect();
        g.person.push(level0);
        for depth in 1..=P_DEPTH {
            let next = TYPES.iter().map(|t| g.person_level(*t, depth, lookups)).collect();
            g.person.push(next);
        }
        g
    }

    /// The column an aggregate reads: mostly a plain column, sometimes an event series.
    fn of(&self, table: EventTable, ty: Type) -> S<EExpr> {
        let cols = columns_of(table, ty);
        let series = self.events[&table][1][ti(ty)].clone();
        if cols.is_empty() {
            return series;
        }
        prop_oneof![4 => select(cols).prop_map(move |c| ecol(table, c)), 1 => series].boxed()
    }

    /// Aggregates of every table giving a series of type `ty`.
    fn aggregates(&self, ty: Type) -> S<PExpr> {
        let mut arms: Vec<(u32, S<PExpr>)> = Vec::new();
        for table in EventTable::ALL {
            let weight = if FILLED.contains(&table) { 3 } else { 1 };
            let frame = self.frames[&table].clone();
            let agg = move |kind: S<AggKind>| -> S<PExpr> {
                (frame.clone(), kind)
                    .prop_map(move |(frame, kind)| PExpr::Aggregate(bx(Aggregate { frame, kind, ty })))
                    .boxed()
            };
            let mut kinds: Vec<(u32, S<AggKind>)> = Vec::new();
            let first_last = |cols: Vec<&'static str>| -> Option<S<AggKind>> {
                (!cols.is_empty()).then(|| {
                    (select(cols), any::<bool>())
                        .prop_map(|(c, first)| {
                            if first {
                                AggKind::First { column: c.to_owned() }
                            } else {
                                AggKind::Last { column: c.to_owned() }
                            }
                        })
                        .boxed()
                })
            };
            match ty {
                Type::Bool => kinds.push((1, Just(AggKind::Exists).boxed())),
                Type::Int => {
                    kinds.push((3, Just(AggKind::Count).boxed()));
                    let any_col = union(TYPES[1..].iter().map(|t| (1, self.of(table, *t))).collect());
                    kinds.push((2, any_col.prop_map(|of| AggKind::CountDistinct { of }).boxed()));
                    if !columns_of(table, Type::Int).is_empty() {
                        kinds.push((
                            3,
                            (0..3usize, self.of(table, Type::Int))
                                .prop_map(|(k, of)| {
                                    [
                                        AggKind::Min { of: of.clone() },
                                        AggKind::Max { of: of.clone() },
                                        AggKind::Sum { of },
                                    ][k]
                                        .clone()
                                })
                                .boxed(),
                        ));
                    }
                    if let Some(s) = first_last(columns_of(table, Type::Int)) {
                        kinds.push((2, s));
                    }
                }
                Type::Float => {
                    let numeric = prop_oneof![self.of(table, Type::Float), self.of(table, Type::Int)];
                    kinds.push((2, numeric.prop_map(|of| AggKind::Mean { of }).boxed()));
                    if !columns_of(table, Type::Float).is_empty() {
                        kinds.push((
                            3,
                            (0..3usize, self.of(table, Type::Float))
                                .prop_map(|(k, of)| {
                                    [
                                        AggKind::Min { of: of.clone() },
                                        AggKind::Max { of: of.clone() },
                                        AggKind::Sum { of },
                                    ][k]
                                        .clone()
                                })
                                .boxed(),
                        ));
                    }
                    if let Some(s) = first_last(columns_of(table, Type::Float)) {
                        kinds.push((2, s));
                    }
                }
                Type::Date | Type::Text => {
                    kinds.push((
                        2,
                        (any::<bool>(), self.of(table, ty))
                            .prop_map(|(min, of)| if min { AggKind::Min { of } } else { AggKind::Max { of } })
                            .boxed(),
                    ));
                    if let Some(s) = first_last(columns_of(table, ty)) {
                        kinds.push((3, s));
                    }
                }
            }
            arms.push((weight, agg(union(kinds))));
        }
        union(arms)
    }

    /// A practice code: the practice registered with, a constant, or the last practice of
    /// some registrations (never another lookup, which phm-lang cannot write).
    fn practice(&self, lookups: &Lookups) -> S<PExpr> {
        let frame = self.frames[&EventTable::Registration].clone();
        prop_oneof![
            3 => Just(practice_on(PExpr::IndexDate)),
            1 => select(practice_codes(lookups)).prop_map(|p| lit(Value::Text(p), Type::Text)),
            1 => frame.prop_map(|frame| PExpr::Aggregate(bx(Aggregate { frame, kind: AggKind::Last { column: "practice".into() }, ty: Type::Text }))),
        ]
        .boxed()
    }

    fn person_level0(&self, ty: Type, lookups: &Lookups) -> S<PExpr> {
        let attr = |attrs: Vec<PersonAttr>| select(attrs).prop_map(|attr| PExpr::Attr { attr }).boxed();
        let mut arms: Vec<(u32, S<PExpr>)> = vec![(2, literal(ty, lookups)), (4, self.aggregates(ty))];
        match ty {
            Type::Bool => {
                arms.push((1, attr(vec![PersonAttr::OptedOut])));
                arms.push((1, Just(alive_on(PExpr::IndexDate)).boxed()));
                arms.push((
                    1,
                    Just(PExpr::Aggregate(bx(Aggregate {
                        frame: active_registrations(PExpr::IndexDate),
                        kind: AggKind::Exists,
                        ty: Type::Bool,
                    })))
                    .boxed(),
                ));
            }
            Type::Int => {
                arms.push((
                    3,
                    attr(vec![
                        PersonAttr::YearOfBirth,
                        PersonAttr::MonthOfBirth,
                        PersonAttr::ImdDecile,
                        PersonAttr::ImdQuintile,
                    ]),
                ));
                arms.push((2, Just(age()).boxed()));
            }
            Type::Float => {}
            Type::Date => {
                arms.push((2, Just(PExpr::IndexDate).boxed()));
                arms.push((2, attr(vec![PersonAttr::DateOfDeath])));
            }
            Type::Text => {
                arms.push((
                    3,
                    attr(vec![
                        PersonAttr::Sex,
                        PersonAttr::EthnicCategory,
                        PersonAttr::EthnicGroup5,
                        PersonAttr::AreaCode,
                        PersonAttr::Place,
                    ]),
                ));
                arms.push((1, Just(practice_on(PExpr::IndexDate)).boxed()));
            }
        }
        union(arms)
    }

    fn person_level(&self, ty: Type, depth: usize, lookups: &Lookups) -> S<PExpr> {
        let p = |t: Type| self.person[depth - 1][ti(t)].clone();
        let mut arms: Vec<(u32, S<PExpr>)> = vec![(6, p(ty))];
        let case = {
            let branch = (p(Type::Bool), p(ty));
            (vec(branch, 1..=3), proptest::option::of(p(ty)))
                .prop_map(move |(branches, otherwise)| PExpr::Case { branches, otherwise: otherwise.map(bx), ty })
                .boxed()
        };
        arms.push((1, case));
        arms.push((1, (p(ty), p(ty)).prop_map(|(a, b)| PExpr::Otherwise { arg: bx(a), fallback: bx(b) }).boxed()));
        match ty {
            Type::Bool => {
                for t in [Type::Int, Type::Float, Type::Date, Type::Text] {
                    arms.push((2, (comparison(), p(t), p(t)).prop_map(|(op, l, r)| pbin(op, l, r)).boxed()));
                }
                arms.push((
                    1,
                    (select(vec![BinOp::Eq, BinOp::Ne]), p(Type::Bool), p(Type::Bool))
                        .prop_map(|(op, l, r)| pbin(op, l, r))
                        .boxed(),
                ));
                arms.push((
                    3,
                    (select(vec![BinOp::And, BinOp::Or]), p(Type::Bool), p(Type::Bool))
                        .prop_map(|(op, l, r)| pbin(op, l, r))
                        .boxed(),
                ));
                arms.push((1, p(Type::Bool).prop_map(|a| PExpr::Not { arg: bx(a) }).boxed()));
                arms.push((
                    2,
                    union(TYPES.iter().map(|t| (1, p(*t))).collect())
                        .prop_map(|a| PExpr::IsMissing { arg: bx(a) })
                        .boxed(),
                ));
                arms.push((
                    1,
                    (p(Type::Int), int_list()).prop_map(|(a, values)| PExpr::InList { arg: bx(a), values }).boxed(),
                ));
                arms.push((
                    1,
                    (p(Type::Text), text_list(lookups))
                        .prop_map(|(a, values)| PExpr::InList { arg: bx(a), values })
                        .boxed(),
                ));
                arms.push((1, p(Type::Date).prop_map(alive_on).boxed()));
            }
            Type::Int => {
                arms.push((
                    2,
                    (select(vec![BinOp::Add, BinOp::Sub]), p(Type::Int), p(Type::Int))
                        .prop_map(|(op, l, r)| pbin(op, l, r))
                        .boxed(),
                ));
                arms.push((
                    1,
                    (p(Type::Int), -3i64..=3)
                        .prop_map(|(l, k)| pbin(BinOp::Mul, l, lit(Value::Int(k), Type::Int)))
                        .boxed(),
                ));
                arms.push((1, p(Type::Int).prop_map(|a| PExpr::Neg { arg: bx(a) }).boxed()));
                arms.push((2, p(Type::Date).prop_map(|date| PExpr::AgeAt { date: bx(date) }).boxed()));
            }
            Type::Float => {
                arms.push((2, p(Type::Int).prop_map(|a| PExpr::ToFloat { arg: bx(a) }).boxed()));
                arms.push((
                    2,
                    (select(vec![BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div]), p(Type::Float), p(Type::Float))
                        .prop_map(|(op, l, r)| pbin(op, l, r))
                        .boxed(),
                ));
                arms.push((1, p(Type::Float).prop_map(|a| PExpr::Neg { arg: bx(a) }).boxed()));
            }
            Type::Date => {
                arms.push((
                    3,
                    (p(Type::Date), shift())
                        .prop_map(|(a, (amount, unit))| PExpr::DateAdd { date: bx(a), amount, unit })
                        .boxed(),
                ));
            }
            Type::Text => {
                let bands = select(vec![AgeBands::Esp2013, AgeBands::FiveYear, AgeBands::TenYear, AgeBands::LifeTable]);
                arms.push((
                    2,
                    (bands, p(Type::Int)).prop_map(|(bands, a)| PExpr::AgeBand { bands, age: bx(a) }).boxed(),
                ));
                let field = select(vec![PracticeField::Pcn, PracticeField::Place]);
                arms.push((
                    2,
                    (self.practice(lookups), field)
                        .prop_map(|(p, field)| PExpr::PracticeLookup { practice: bx(p), field })
                        .boxed(),
                ));
            }
        }
        union(arms)
    }

    fn expr(&self, ty: Type) -> S<PExpr> {
        self.person[P_DEPTH][ti(ty)].clone()
    }

    fn cohort(&self) -> S<Cohort> {
        let population = prop_oneof![1 => Just(lit(Value::Bool(true), Type::Bool)), 3 => self.expr(Type::Bool)];
        let column = select(TYPES.to_vec()).prop_flat_map({
            let strategies: Vec<S<PExpr>> = TYPES.iter().map(|t| self.expr(*t)).collect();
            move |ty| strategies[ti(ty)].clone().prop_map(move |expr| (expr, ty))
        });
        (population, vec(column, 1..=4))
            .prop_map(|(population, cols)| Cohort {
                name: "random".into(),
                title: "A random cohort".into(),
                population,
                columns: cols
                    .into_iter()
                    .enumerate()
                    .map(|(i, (expr, ty))| Column { name: format!("c{i}"), expr, ty })
                    .collect(),
                events: None,
            })
            .boxed()
    }

    fn indicator(&self, i: usize) -> S<Indicator> {
        let standard = vec![
            Column { name: "sex".into(), expr: PExpr::Attr { attr: PersonAttr::Sex }, ty: Type::Text },
            Column {
                name: "age_band".into(),
                expr: PExpr::AgeBand { bands: AgeBands::Esp2013, age: bx(age()) },
                ty: Type::Text,
            },
            Column { name: "imd_quintile".into(), expr: PExpr::Attr { attr: PersonAttr::ImdQuintile }, ty: Type::Int },
        ];
        let own = prop_oneof![
            self.person[1][ti(Type::Text)].clone().prop_map(move |expr| Column {
                name: format!("x{i}"),
                expr,
                ty: Type::Text
            }),
            self.person[1][ti(Type::Int)].clone().prop_map(move |expr| Column {
                name: format!("x{i}"),
                expr,
                ty: Type::Int
            }),
        ];
        let denominator =
            prop_oneof![1 => Just(lit(Value::Bool(true), Type::Bool)), 3 => self.person[2][ti(Type::Bool)].clone()];
        let numerator = prop_oneof![
            self.person[2][ti(Type::Bool)].clone().prop_map(|e| (e, Type::Bool)),
            self.person[2][ti(Type::Int)].clone().prop_map(|e| (e, Type::Int))
        ];
        // `life_expectancy` counts its (true/false) numerator outside the denominator too.
        let method = select(vec![Method::Proportion, Method::LifeExpectancy]);
        (
            denominator,
            numerator,
            subsequence(standard, 0..=3),
            proptest::option::weighted(0.3, own),
            select(vec![1.0, 100.0, 1000.0]),
            method,
        )
            .prop_map(move |(denominator, (numerator, numerator_ty), mut breakdowns, own, multiplier, method)| {
                breakdowns.extend(own);
                let method = if numerator_ty == Type::Bool { method } else { Method::Proportion };
                Indicator {
                    name: format!("ind{i}"),
                    title: String::new(),
                    denominator,
                    numerator,
                    numerator_ty,
                    method,
                    multiplier,
                    breakdowns,
                    about: Default::default(),
                }
            })
            .boxed()
    }

    fn indicators(&self) -> S<Vec<Indicator>> {
        prop_oneof![
            self.indicator(0).prop_map(|a| vec![a]),
            (self.indicator(0), self.indicator(1)).prop_map(|(a, b)| vec![a, b])
        ]
        .boxed()
    }
}

fn index_dates() -> S<Vec<NaiveDate>> {
    vec(index_date(), 1..=3)
        .prop_map(|mut v| {
            v.sort();
            v.dedup();
            v
        })
        .boxed()
}

// ---------------------------------------------------------------------------------------
// Comparing and reporting.

fn show_rows(rows: &[(String, Vec<Value>)]) -> String {
    let mut out = String::new();
    for (id, values) in rows {
        let v: Vec<String> = values.iter().map(ToString::to_string).collect();
        let _ = writeln!(out, "  {id}: {}", v.join(", "));
    }
    if rows.is_empty() {
        out.push_str("  (no rows)\n");
    }
    out
}

fn show_indicator_rows(rows: &[IndicatorRow]) -> String {
    let mut out = String::new();
    for r in rows {
        let _ = writeln!(
            out,
            "  {} {} {}={}: {}/{} value {:?}",
            r.indicator, r.index_date, r.breakdown, r.category, r.numerator, r.denominator, r.value
        );
    }
    if rows.is_empty() {
        out.push_str("  (no rows)\n");
    }
    out
}

fn show_store(tables: &Tables) -> String {
    let mut out = String::new();
    for (name, batches) in tables {
        if batches.iter().map(|b| b.num_rows()).sum::<usize>() > 0 {
            let _ = writeln!(out, "table {name}\n{}", table_to_text(batches));
        }
    }
    out
}

/// Cohort rows from both engines.
fn both_cohort(
    rt: &tokio::runtime::Runtime,
    tables: &Tables,
    lookups: &Lookups,
    cohort: &Cohort,
    index: NaiveDate,
) -> (Result<Rows, String>, Rows) {
    let engine = Engine::from_batches(tables.clone(), lookups.clone()).expect("engine over in-memory tables");
    let got = rt.block_on(engine_cohort(&engine, cohort, index)).map_err(|e| e.to_string());
    (got, reference::cohort(tables, lookups, cohort, index))
}

fn both_indicators(
    rt: &tokio::runtime::Runtime,
    tables: &Tables,
    lookups: &Lookups,
    indicators: &[&Indicator],
    periods: Periods,
) -> (Result<Vec<IndicatorRow>, String>, Vec<IndicatorRow>) {
    let engine = Engine::from_batches(tables.clone(), lookups.clone()).expect("engine over in-memory tables");
    let dates = match &periods {
        Periods::One(d) => vec![*d],
        Periods::Many(ds) => ds.clone(),
    };
    let got = rt.block_on(engine.indicators(indicators, periods)).map_err(|e| e.to_string());
    (got, reference::indicators(tables, lookups, indicators, &dates))
}

// ---------------------------------------------------------------------------------------
// Property tests.

#[test]
fn random_cohorts_agree() {
    let rt = runtime();
    let lookups = lookups();
    let g = Gen::new(&lookups);
    run((store(&lookups), g.cohort(), index_date()), |(store, cohort, index)| {
        let tables = tables_of(&store);
        let (got, want) = both_cohort(&rt, &tables, &lookups, &cohort, index);
        let ok = got.as_ref().is_ok_and(|got| cohorts_match(got, &want));
        prop_assert!(
            ok,
            "cohort at {index} differs\n--- definition\n{}\n--- store\n{}--- engine\n{}--- reference\n{}",
            serde_json::to_string_pretty(&cohort).unwrap_or_default(),
            show_store(&tables),
            match &got {
                Ok(rows) => show_rows(rows),
                Err(e) => format!("  error: {e}\n"),
            },
            show_rows(&want)
        );
        Ok(())
    });
}

#[test]
fn random_indicators_agree() {
    let rt = runtime();
    let lookups = lookups();
    let g = Gen::new(&lookups);
    run((store(&lookups), g.indicators(), index_dates()), |(store, indicators, dates)| {
        let tables = tables_of(&store);
        let refs: Vec<&Indicator> = indicators.iter().collect();
        let mut runs = vec![Periods::Many(dates.clone())];
        if dates.len() == 1 {
            runs.push(Periods::One(dates[0]));
        }
        for periods in runs {
            let what = format!("{periods:?}");
            let (got, want) = both_indicators(&rt, &tables, &lookups, &refs, periods);
            // Counts are never negative: where the reference sums a whole-number numerator
            // below zero, the engine must refuse the definition, naming it.
            let negative = want.iter().any(|r| r.numerator < 0 || r.denominator < 0);
            let ok = if negative {
                got.as_ref().is_err_and(|e| e.contains("a count must be 0 or more"))
            } else {
                got.as_ref().is_ok_and(|got| indicator_rows_match(got, &want))
            };
            prop_assert!(
                ok,
                "indicators over {what} differ\n--- definition\n{}\n--- store\n{}--- engine\n{}--- reference\n{}",
                serde_json::to_string_pretty(&indicators).unwrap_or_default(),
                show_store(&tables),
                match &got {
                    Ok(rows) => show_indicator_rows(rows),
                    Err(e) => format!("  error: {e}\n"),
                },
                show_indicator_rows(&want)
            );
        }
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------
// Hand-written cases: both engines must give the expected values.

fn tables(parts: &[(&str, &str)]) -> Tables {
    store_from_text(parts).expect("valid tables")
}

fn bind(text: &str) -> (PExpr, Type) {
    let codelists = BTreeMap::from([(
        "c1".to_owned(),
        CodelistRef { name: "c1".into(), system: "snomed".into(), sha256: String::new(), codes: vec!["C1".into()] },
    )]);
    phm_lang::bind_expression(text, &codelists, &[]).unwrap_or_else(|e| panic!("`{text}` does not bind:\n{e}"))
}

fn cohort_of(population: &str, columns: &[&str]) -> Cohort {
    Cohort {
        name: "c".into(),
        title: String::new(),
        population: bind(population).0,
        columns: columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let (expr, ty) = bind(c);
                Column { name: format!("c{i}"), expr, ty }
            })
            .collect(),
        events: None,
    }
}

/// Run a cohort on both engines and check each against the expected rows.
fn expect_cohort(t: &Tables, population: &str, columns: &[&str], index: NaiveDate, expected: &[(&str, Vec<Value>)]) {
    let rt = runtime();
    let lookups = lookups();
    let cohort = cohort_of(population, columns);
    let (got, want) = both_cohort(&rt, t, &lookups, &cohort, index);
    let got = got.unwrap_or_else(|e| panic!("engine failed: {e}"));
    let expected: Rows = expected.iter().map(|(id, v)| ((*id).to_owned(), v.clone())).collect();
    assert!(
        cohorts_match(&want, &expected),
        "reference for {columns:?} at {index}:\n{}expected:\n{}",
        show_rows(&want),
        show_rows(&expected)
    );
    assert!(
        cohorts_match(&got, &expected),
        "engine for {columns:?} at {index}:\n{}expected:\n{}",
        show_rows(&got),
        show_rows(&expected)
    );
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn date_v(y: i32, m: u32, day: u32) -> Value {
    Value::Date(d(y, m, day))
}

#[test]
fn first_and_last_break_ties_by_code_then_other_columns() {
    let t = tables(&[
        ("person", "person\n1\n2\n"),
        (
            "condition",
            "person | code | date       | diagnosis_rank | source_org
             1      | C2   | 2024-02-29 | 1              | ORG1
             1      | C1   | 2024-02-29 |                | ORG1
             1      | C1   | 2024-02-29 | 2              | ORG2
             1      | C3   | 2023-01-01 | 1              | ORG1
             2      | C1   | 2024-02-29 | 2              | ORG2
             2      | C1   | 2024-02-29 | 2              | ORG1",
        ),
        (
            "encounter",
            "person | date       | code | setting
             1      | 2024-02-29 |      | ae
             1      | 2024-02-29 | C1   | gp",
        ),
    ]);
    // Within 2024-02-29: code C1 before C2; among the C1 rows, rank 2 before the missing
    // rank; for person 2, ORG1 before ORG2. An encounter without a code sorts last.
    expect_cohort(
        &t,
        "true",
        &[
            "first(condition where date >= 2024-01-01).code",
            "first(condition where date >= 2024-01-01).diagnosis_rank",
            "last(condition).code",
            "last(condition where code = \"C1\").diagnosis_rank",
            "first(condition where code in c1).source_org",
            "last(encounter).setting",
            "first(encounter).setting",
        ],
        d(2024, 2, 29),
        &[
            ("1", vec![text("C1"), Value::Int(2), text("C2"), Value::Null, text("ORG2"), text("ae"), text("gp")]),
            ("2", vec![text("C1"), Value::Int(2), text("C1"), Value::Int(2), text("ORG1"), Value::Null, Value::Null]),
        ],
    );
}

#[test]
fn month_arithmetic_clamps_at_month_end_and_leap_days() {
    let t = tables(&[
        ("person", "person\n1\n"),
        (
            "observation",
            "person | code | date       | value
             1      | C1   | 2023-02-28 | 1
             1      | C1   | 2023-03-01 | 2
             1      | C1   | 2024-02-29 | 4",
        ),
    ]);
    expect_cohort(
        &t,
        "true",
        &[
            "index_date - 1 year",
            "index_date + 12 months",
            "2024-03-31 - 1 month",
            "2024-01-31 + 1 month",
            "2023-01-31 + 1 month",
            "index_date + 1 day",
            "sum((observation where date within 12 months before index_date).value)",
            "count(observation where date within 1 year before index_date)",
        ],
        d(2024, 2, 29),
        &[(
            "1",
            vec![
                date_v(2023, 2, 28),
                date_v(2025, 2, 28),
                date_v(2024, 2, 29),
                date_v(2024, 2, 29),
                date_v(2023, 2, 28),
                date_v(2024, 3, 1),
                Value::Float(6.0),
                Value::Int(2),
            ],
        )],
    );
}

#[test]
fn age_takes_missing_birth_month_as_july() {
    let t = tables(&[(
        "person",
        "person | year_of_birth | month_of_birth
         1      | 2000          |
         2      | 2000          | 7
         3      | 2000          | 6
         4      |               | 3",
    )]);
    for (index, ages) in [(d(2024, 6, 30), [23, 23, 24]), (d(2024, 7, 1), [24, 24, 24]), (d(2024, 2, 29), [23, 23, 23])]
    {
        let expected: Vec<(&str, Vec<Value>)> = vec![
            ("1", vec![Value::Int(ages[0])]),
            ("2", vec![Value::Int(ages[1])]),
            ("3", vec![Value::Int(ages[2])]),
            ("4", vec![Value::Null]),
        ];
        expect_cohort(&t, "true", &["age"], index, &expected);
    }
}

#[test]
fn a_death_inside_a_window() {
    let t = tables(&[
        (
            "person",
            "person | date_of_death
             1      | 2024-01-15
             2      | 2024-02-29
             3      | 2024-03-01
             4      |",
        ),
        (
            "registration",
            "person | date       | end_date   | practice
             1      | 2010-01-01 | 2024-01-15 | SYNGP001
             2      | 2010-01-01 |            | SYNGP001
             3      | 2024-02-29 |            | SYNGP002",
        ),
    ]);
    // Dying on the index date is not alive on it; registration ending on the day still counts.
    expect_cohort(
        &t,
        "true",
        &["alive", "alive_on(index_date - 3 months)", "registered", "registered_on(2024-01-15)", "neighbourhood"],
        d(2024, 2, 29),
        &[
            ("1", vec![Value::Bool(false), Value::Bool(true), Value::Bool(false), Value::Bool(true), Value::Null]),
            (
                "2",
                vec![Value::Bool(false), Value::Bool(true), Value::Bool(true), Value::Bool(true), text("SYNPCNBE01")],
            ),
            (
                "3",
                vec![Value::Bool(true), Value::Bool(true), Value::Bool(true), Value::Bool(false), text("SYNPCNBE02")],
            ),
            ("4", vec![Value::Bool(true), Value::Bool(true), Value::Bool(false), Value::Bool(false), Value::Null]),
        ],
    );
    // An indicator whose denominator is those alive at the index date.
    let rt = runtime();
    let lookups = lookups();
    let ind = Indicator {
        name: "alive_registered".into(),
        title: String::new(),
        denominator: bind("alive").0,
        numerator: bind("registered").0,
        numerator_ty: Type::Bool,
        method: Method::Proportion,
        multiplier: 100.0,
        breakdowns: vec![],
        about: Default::default(),
    };
    let (got, want) = both_indicators(&rt, &t, &lookups, &[&ind], Periods::Many(vec![d(2024, 1, 14), d(2024, 2, 29)]));
    let got = got.expect("engine runs");
    assert!(
        indicator_rows_match(&got, &want),
        "engine:\n{}reference:\n{}",
        show_indicator_rows(&got),
        show_indicator_rows(&want)
    );
    let dens: Vec<(i64, i64)> = want.iter().map(|r| (r.numerator, r.denominator)).collect();
    assert_eq!(dens, vec![(2, 4), (1, 2)]);
}

#[test]
fn null_comparisons_and_division() {
    let t = tables(&[
        ("person", "person | year_of_birth\n1 | 1950\n2 |\n"),
        ("observation", "person | code | date | value\n1 | C1 | 2024-01-01 | 0\n1 | C2 | 2024-01-02 |\n"),
    ]);
    expect_cohort(
        &t,
        "true",
        &[
            "year_of_birth > 1900 or false",
            "year_of_birth > 1900 and false",
            "year_of_birth > 1900 or true",
            "1 / 0",
            "last(observation where code = \"C1\").value / last(observation where code = \"C1\").value",
            "10 / 4",
            "mean((observation).value)",
            "count_distinct((observation).code)",
            "max((observation).value) otherwise -1",
        ],
        d(2024, 2, 29),
        &[
            (
                "1",
                vec![
                    Value::Bool(true),
                    Value::Bool(false),
                    Value::Bool(true),
                    Value::Null,
                    Value::Null,
                    Value::Float(2.5),
                    Value::Float(0.0),
                    Value::Int(2),
                    Value::Float(0.0),
                ],
            ),
            (
                "2",
                vec![
                    Value::Null,
                    Value::Bool(false),
                    Value::Bool(true),
                    Value::Null,
                    Value::Null,
                    Value::Float(2.5),
                    Value::Null,
                    Value::Int(0),
                    Value::Float(-1.0),
                ],
            ),
        ],
    );
}

#[test]
fn negative_zero_is_zero() {
    let t = tables(&[
        ("person", "person\n1\n2\n"),
        (
            "observation",
            "person | code | date | value\n1 | C1 | 2024-01-01 | -0\n1 | C2 | 2024-01-02 | 0\n2 | C1 | 2024-01-01 | 0\n",
        ),
    ]);
    // `=` says -0.0 and 0.0 are equal, so they are one distinct value, and dividing by
    // either is dividing by zero.
    expect_cohort(
        &t,
        "true",
        &[
            "count_distinct((observation).value)",
            "count(observation where value = 0)",
            "1 / last(observation where code = \"C1\").value",
            "exists(observation where value < 0)",
        ],
        d(2024, 2, 29),
        &[
            ("1", vec![Value::Int(1), Value::Int(2), Value::Null, Value::Bool(false)]),
            ("2", vec![Value::Int(1), Value::Int(1), Value::Null, Value::Bool(false)]),
        ],
    );
}

#[test]
fn an_empty_list_is_missing_for_a_missing_value() {
    // phm-lang never writes `x in ()`, but the model allows it: missing when x is missing
    // (DataFusion alone would simplify it to false).
    let t = tables(&[
        ("person", "person | year_of_birth\n1 | 1950\n2 |\n"),
        ("encounter", "person | date | code\n1 | 2024-01-01 |\n1 | 2024-01-02 | C1\n"),
    ]);
    let in_empty = |arg: PExpr| PExpr::InList { arg: bx(arg), values: vec![] };
    let yob = PExpr::Attr { attr: PersonAttr::YearOfBirth };
    let code = EExpr::Column { name: "code".into(), ty: Type::Text };
    let no_code = PExpr::Aggregate(bx(Aggregate {
        frame: Frame {
            table: EventTable::Encounter,
            filters: vec![EExpr::IsMissing { arg: bx(EExpr::InList { arg: bx(code), values: vec![] }) }],
        },
        kind: AggKind::Count,
        ty: Type::Int,
    }));
    let cohort = Cohort {
        name: "c".into(),
        title: String::new(),
        population: lit(Value::Bool(true), Type::Bool),
        columns: vec![
            Column { name: "a".into(), expr: in_empty(yob), ty: Type::Bool },
            Column { name: "b".into(), expr: no_code, ty: Type::Int },
        ],
        events: None,
    };
    let (got, want) = both_cohort(&runtime(), &t, &lookups(), &cohort, d(2024, 2, 29));
    let expected = vec![
        ("1".to_owned(), vec![Value::Bool(false), Value::Int(1)]),
        ("2".to_owned(), vec![Value::Null, Value::Int(0)]),
    ];
    assert!(cohorts_match(&want, &expected), "reference:\n{}", show_rows(&want));
    let got = got.expect("engine runs");
    assert!(cohorts_match(&got, &expected), "engine:\n{}", show_rows(&got));
}

#[test]
fn empty_population_gives_no_rows_and_zero_denominators() {
    let t = tables(&[("person", "person | sex | area_code\n1 | female | SYNBE001\n2 | male |\n")]);
    expect_cohort(&t, "false", &["sex"], d(2024, 2, 29), &[]);
    expect_cohort(&t, "year_of_birth > 1900", &["sex"], d(2024, 2, 29), &[]);

    let rt = runtime();
    let lookups = lookups();
    let ind = Indicator {
        name: "none".into(),
        title: String::new(),
        denominator: bind("false").0,
        numerator: bind("true").0,
        numerator_ty: Type::Bool,
        method: Method::Proportion,
        multiplier: 100.0,
        breakdowns: vec![
            Column { name: "sex".into(), expr: PExpr::Attr { attr: PersonAttr::Sex }, ty: Type::Text },
            Column { name: "imd_quintile".into(), expr: PExpr::Attr { attr: PersonAttr::ImdQuintile }, ty: Type::Int },
        ],
        about: Default::default(),
    };
    let (got, want) = both_indicators(&rt, &t, &lookups, &[&ind], Periods::One(d(2024, 2, 29)));
    let got = got.expect("engine runs");
    assert!(
        indicator_rows_match(&got, &want),
        "engine:\n{}reference:\n{}",
        show_indicator_rows(&got),
        show_indicator_rows(&want)
    );
    let q = lookups.areas.get("SYNBE001").and_then(|a| a.1).map(|d| (d + 1) / 2).expect("SYNBE001 has a decile");
    let cats: Vec<(String, String, i64, Option<f64>)> =
        want.iter().map(|r| (r.breakdown.clone(), r.category.clone(), r.denominator, r.value)).collect();
    let expected = vec![
        ("all".to_owned(), "all".to_owned(), 0, None),
        ("imd_quintile".to_owned(), q.to_string(), 0, None),
        ("imd_quintile".to_owned(), NOT_RECORDED.to_owned(), 0, None),
        ("sex".to_owned(), "female".to_owned(), 0, None),
        ("sex".to_owned(), "male".to_owned(), 0, None),
    ];
    assert_eq!(cats, expected);

    // No persons at all: no groups, so no rows from either engine.
    let empty = tables(&[("person", "person\n")]);
    let (got, want) = both_indicators(&rt, &empty, &lookups, &[&ind], Periods::One(d(2024, 2, 29)));
    assert_eq!(got.expect("engine runs"), Vec::<IndicatorRow>::new());
    assert_eq!(want, Vec::<IndicatorRow>::new());
}

#[test]
fn values_match_uses_a_relative_tolerance() {
    assert!(values_match(&Value::Float(0.1 + 0.2), &Value::Float(0.3)));
    assert!(values_match(&Value::Float(1e12), &Value::Float(1e12 + 1e-4)));
    assert!(!values_match(&Value::Float(1.0), &Value::Float(1.0 + 1e-6)));
    assert!(!values_match(&Value::Int(1), &Value::Float(1.0)));
    assert!(values_match(&Value::Null, &Value::Null));
}
