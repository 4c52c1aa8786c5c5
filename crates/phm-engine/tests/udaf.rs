//! `phm_first_by` / `phm_last_by` pick the same value as DataFusion's `first_value` /
//! `last_value` with the same ordering (ascending, missing keys last), whether the rows come
//! in one batch or many, through one partition or several, and whether the partial step
//! aggregates or passes rows on as state (as it does for groups that barely shrink).

use std::sync::Arc;

use datafusion::arrow::array::{Date32Array, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::datasource::MemTable;
use datafusion::execution::FunctionRegistry as _;
use datafusion::functions_aggregate::first_last::{first_value_udaf, last_value_udaf};
use datafusion::logical_expr::ExprFunctionExt as _;
use datafusion::prelude::{Expr, SessionConfig, SessionContext, col, lit};
use proptest::prelude::*;

type Row = (i64, Option<i32>, Option<String>, Option<f64>);

fn rows() -> impl Strategy<Value = Vec<Row>> {
    let code = prop::option::weighted(
        0.8,
        prop::sample::select(vec!["a".to_owned(), "ab".to_owned(), "b".to_owned(), "".to_owned()]),
    );
    let value = prop::option::weighted(0.8, prop::sample::select(vec![-1.5, 0.0, 2.0, 10.0]));
    prop::collection::vec((0..12i64, prop::option::weighted(0.9, 0..5i32), code, value), 0..80)
}

fn table(rows: &[Row], batches: usize) -> MemTable {
    let schema = Arc::new(Schema::new(vec![
        Field::new("g", DataType::Int64, false),
        Field::new("date", DataType::Date32, true),
        Field::new("code", DataType::Utf8, true),
        Field::new("value", DataType::Float64, true),
    ]));
    let chunk = rows.len().div_ceil(batches.max(1)).max(1);
    let parts: Vec<Vec<RecordBatch>> = rows
        .chunks(chunk)
        .map(|c| {
            let batch = RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(Int64Array::from_iter_values(c.iter().map(|r| r.0))),
                    Arc::new(Date32Array::from_iter(c.iter().map(|r| r.1))),
                    Arc::new(StringArray::from_iter(c.iter().map(|r| r.2.clone()))),
                    Arc::new(Float64Array::from_iter(c.iter().map(|r| r.3))),
                ],
            )
            .expect("batch");
            vec![batch]
        })
        .collect();
    let parts = if parts.is_empty() { vec![vec![]] } else { parts };
    MemTable::try_new(schema, parts).expect("table")
}

/// The aggregates each side computes per group `g` (or over the whole table with `by_g` false):
/// OpenPHM's functions, or DataFusion's with the same ordering, under the same filter. Built as
/// DataFusion expressions: OpenPHM's builds carry no SQL parser.
#[derive(Clone, Copy)]
enum Query {
    Ours,
    DataFusion,
    LastByValueOnly,
}

fn aggregates(ctx: &SessionContext, query: Query) -> Vec<Expr> {
    let udaf = |name: &str| ctx.udaf(name).expect("registered");
    let not_b = || col("code").not_eq(lit("b"));
    let order = |cols: &[&str]| cols.iter().map(|c| col(*c).sort(true, false)).collect::<Vec<_>>();
    match query {
        Query::Ours => vec![
            udaf("phm_first_by").call(vec![col("date"), col("code"), col("value")]).filter(not_b()).build().expect("f"),
            udaf("phm_last_by").call(vec![col("date"), col("code"), col("value")]).filter(not_b()).build().expect("l"),
            udaf("phm_last_by").call(vec![col("date"), col("code")]),
        ],
        Query::DataFusion => vec![
            first_value_udaf()
                .call(vec![col("value")])
                .order_by(order(&["date", "code", "value"]))
                .filter(not_b())
                .build()
                .expect("f"),
            last_value_udaf()
                .call(vec![col("value")])
                .order_by(order(&["date", "code", "value"]))
                .filter(not_b())
                .build()
                .expect("l"),
            last_value_udaf().call(vec![col("code")]).order_by(order(&["date", "code"])).build().expect("lc"),
        ],
        Query::LastByValueOnly => {
            return vec![udaf("phm_last_by").call(vec![col("date"), col("code"), col("value")]).alias("v")];
        }
    }
    .into_iter()
    .zip(["f", "l", "lc"])
    .map(|(e, name)| e.alias(name))
    .collect()
}

async fn run(rows: &[Row], batches: usize, partitions: usize, skip_partial: bool, query: Query, by_g: bool) -> String {
    let mut config = SessionConfig::new().with_target_partitions(partitions);
    if skip_partial {
        let o = config.options_mut();
        o.execution.skip_partial_aggregation_probe_rows_threshold = 0;
        o.execution.skip_partial_aggregation_probe_ratio_threshold = 0.0;
    }
    let ctx = SessionContext::new_with_config(config);
    phm_engine::udaf::register(&ctx);
    ctx.register_table("t", Arc::new(table(rows, batches))).expect("register");
    let frame = ctx.table("t").await.expect("table");
    let groups = if by_g { vec![col("g")] } else { vec![] };
    let mut frame = frame.aggregate(groups, aggregates(&ctx, query)).expect("plan");
    if by_g {
        frame = frame.sort(vec![col("g").sort(true, false)]).expect("sort");
    }
    let batches = frame.collect().await.expect("run");
    pretty_format_batches(&batches).expect("format").to_string()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn first_by_and_last_by_agree_with_first_value_and_last_value(rows in rows(), batches in 1..4usize, partitions in 1..4usize, skip in any::<bool>()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let ours = rt.block_on(run(&rows, batches, partitions, skip, Query::Ours, true));
        let theirs = rt.block_on(run(&rows, batches, partitions, skip, Query::DataFusion, true));
        prop_assert_eq!(ours, theirs);
    }
}

#[tokio::test]
async fn with_no_group_by_the_whole_table_is_one_group() {
    let rows: Vec<Row> = vec![
        (1, Some(3), Some("a".into()), Some(1.0)),
        (2, Some(4), None, Some(2.0)),
        (3, Some(4), Some("b".into()), Some(3.0)),
    ];
    let ours = run(&rows, 2, 1, false, Query::LastByValueOnly, false).await;
    assert!(ours.contains("| 2.0 |"), "a missing code sorts last:\n{ours}");
}
