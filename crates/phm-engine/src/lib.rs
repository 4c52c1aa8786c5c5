//! The query engine: compiles the query model to DataFusion logical plans and runs them over
//! a store snapshot, in-process or on a Ballista cluster.
//!
//! Plans use DataFusion's built-in functions, OpenPHM's own functions (registered by name
//! in every session, Ballista's scheduler and executors included: [`udaf::register`]) and
//! scans of Parquet listing tables (or `VALUES` for reference lookups), so they serialise to
//! Ballista executors unchanged. People are grouped and joined on their pseudonym as two
//! integers ([`person_key`]).
//!
//! **Invariants**
//! - A result records the definition's content hash and the snapshot it was computed from.
//! - No person-level value is logged; progress reports carry counts and names only.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Date32Type, Int64Type};
use datafusion::datasource::MemTable;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionConfig, SessionContext};
use phm_model::{Cell, Cells, Cohort, Count, Dimension, Indicator, Lookups, Measure};
use phm_store::Snapshot;

mod compile;
pub mod person_key;
pub mod udaf;

pub use compile::Periods;
pub use phm_model::NOT_RECORDED;

/// Errors from compiling or running definitions.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// DataFusion failed.
    #[error(transparent)]
    DataFusion(#[from] datafusion::error::DataFusionError),
    /// Arrow failed.
    #[error(transparent)]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] phm_store::Error),
    /// A file could not be written.
    #[error("cannot write `{}`: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A definition cannot run.
    #[error("{0}")]
    Definition(String),
    /// Reference data failed to load.
    #[error("reference data: {0}")]
    Reference(String),
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The tables the engine reads from a snapshot.
pub const TABLES: [&str; 8] =
    ["person", "condition", "observation", "medication", "immunisation", "encounter", "procedure", "registration"];

/// A session over one snapshot (or in-memory tables), with the lookups both engines use.
pub struct Engine {
    ctx: SessionContext,
    lookups: Lookups,
    snapshot: Option<u64>,
}

/// Lookups for areas and practices: the store's `area_deprivation` and `practice_pcn` when
/// the snapshot holds them, otherwise the built-in reference data (`reference/areas.csv`,
/// `reference/practices.csv`).
///
/// # Errors
/// The built-in data fails to load, or a snapshot's table cannot be read or lacks a column.
pub fn lookups_for(snapshot: Option<&Snapshot>) -> Result<Lookups> {
    let reference = phm_core::reference::ReferenceData::builtin().map_err(|e| Error::Reference(e.to_string()))?;
    let mut lookups = Lookups::default();
    for a in &reference.areas {
        lookups.areas.insert(a.area_code.clone(), (Some(a.place_code.clone()), Some(i64::from(a.imd_decile))));
    }
    for p in &reference.practices {
        lookups.practices.insert(p.practice_code.clone(), (Some(p.pcn_code.clone()), Some(p.place_code.clone())));
    }
    if let Some(snap) = snapshot {
        // A snapshot without these tables uses the built-in reference data; one whose tables
        // cannot be read, or lack a column, is an error: results must not quietly change areas.
        let text = |batch: &RecordBatch, table: &str, name: &str| {
            batch
                .column_by_name(name)
                .and_then(|c| datafusion::arrow::compute::cast(c, &DataType::Utf8).ok())
                .ok_or_else(|| Error::Reference(format!("the snapshot's `{table}` table has no text column `{name}`")))
        };
        for batch in snap.read_table(phm_store::Tree::Analytical, "area_deprivation")? {
            let code = text(&batch, "area_deprivation", "area_code")?;
            let la = text(&batch, "area_deprivation", "la_code")?;
            let decile = batch
                .column_by_name("imd_decile")
                .and_then(|c| datafusion::arrow::compute::cast(c, &DataType::Int64).ok())
                .ok_or_else(|| {
                    Error::Reference(
                        "the snapshot's `area_deprivation` table has no whole-number column `imd_decile`".into(),
                    )
                })?;
            let (code, la, decile) =
                (code.as_string::<i32>(), la.as_string::<i32>(), decile.as_primitive::<Int64Type>());
            for i in 0..batch.num_rows() {
                let place = la.is_valid(i).then(|| la.value(i).to_owned());
                lookups.areas.insert(code.value(i).to_owned(), (place, decile.is_valid(i).then(|| decile.value(i))));
            }
        }
        for batch in snap.read_table(phm_store::Tree::Analytical, "practice_pcn")? {
            let code = text(&batch, "practice_pcn", "practice_code")?;
            let pcn = text(&batch, "practice_pcn", "pcn_code")?;
            let (code, pcn) = (code.as_string::<i32>(), pcn.as_string::<i32>());
            for i in 0..batch.num_rows() {
                let place = lookups.practices.get(code.value(i)).and_then(|p| p.1.clone());
                lookups.practices.insert(code.value(i).to_owned(), (Some(pcn.value(i).to_owned()), place));
            }
        }
    }
    Ok(lookups)
}

/// The session configuration used for local runs: [`configure`]'s settings, and Parquet
/// strings read as `Utf8View`, so joins and grouping copy 16-byte views rather than the text
/// (bench/engine.sh on the 1.1M catalogue: see ARCHITECTURE.md). Ballista sessions keep
/// `Utf8`: a Ballista 55 standalone cluster did not finish the catalogue with view types
/// (crates/phm-engine/tests/ballista.rs timed out after 600 s), and that test checks that
/// both give the same results. DataFusion's own `DATAFUSION_*` environment variables (for
/// example `DATAFUSION_EXECUTION_TARGET_PARTITIONS`) tune it; by default it uses every core.
pub fn session_config() -> SessionConfig {
    let mut config = configure(SessionConfig::from_env().unwrap_or_default());
    if std::env::var_os("DATAFUSION_EXECUTION_PARQUET_SCHEMA_FORCE_VIEW_TYPES").is_none() {
        config.options_mut().execution.parquet.schema_force_view_types = true;
    }
    config
}

/// Settings every session that runs definitions needs, local or Ballista: Parquet strings
/// as `Utf8`, as Ballista reads them ([`session_config`] turns views on for local runs).
pub fn configure(mut config: SessionConfig) -> SessionConfig {
    let options = config.options_mut();
    options.execution.parquet.schema_force_view_types = false;
    // Plans put the smaller input of each join on the build side themselves; DataFusion's
    // estimates of aggregate sizes are poor and would swap them back.
    options.optimizer.join_reordering = false;
    // Measured on the 1.1M catalogue (bench/engine.sh): larger batches, and per-person
    // aggregates that skip the partial step when it would not shrink the rows by 10×, are
    // each about a fifth faster. `DATAFUSION_*` environment variables still override them.
    if std::env::var_os("DATAFUSION_EXECUTION_SKIP_PARTIAL_AGGREGATION_PROBE_RATIO_THRESHOLD").is_none() {
        options.execution.skip_partial_aggregation_probe_ratio_threshold = 0.1;
    }
    if std::env::var_os("DATAFUSION_EXECUTION_BATCH_SIZE").is_none() {
        config = config.with_batch_size(32 * 1024);
    }
    config
}

/// A session state with OpenPHM's functions ([`udaf`]) for a Ballista scheduler, executor or
/// client: every process that plans or runs a definition must know them.
pub fn session_state(config: SessionConfig) -> datafusion::execution::SessionState {
    let state = datafusion::execution::SessionStateBuilder::new().with_config(config).with_default_features().build();
    let ctx = SessionContext::new_with_state(state);
    udaf::register(&ctx);
    ctx.state()
}

impl Engine {
    /// A local session over a snapshot: each table is a Parquet listing table over the
    /// snapshot's folder.
    pub async fn local(snapshot: &Snapshot) -> Result<Self> {
        let ctx = SessionContext::new_with_config(session_config());
        Self::over_snapshot(ctx, snapshot).await
    }

    /// Register a snapshot's tables into an existing context (local or Ballista).
    pub async fn over_snapshot(ctx: SessionContext, snapshot: &Snapshot) -> Result<Self> {
        udaf::register(&ctx);
        for table in TABLES {
            let dir = snapshot.dir().join(table);
            if snapshot.files(phm_store::Tree::Analytical, table).is_empty() {
                // An empty table with the canonical schema, so definitions still run.
                let schema = canonical_schema(table)?;
                ctx.register_table(table, Arc::new(MemTable::try_new(schema, vec![vec![]])?))?;
                continue;
            }
            let options = ParquetReadOptions::default().file_extension(".parquet");
            ctx.register_parquet(table, dir.to_string_lossy().as_ref(), options).await?;
        }
        Ok(Engine { ctx, lookups: lookups_for(Some(snapshot))?, snapshot: Some(snapshot.id()) })
    }

    /// A session over in-memory tables (spec tests). Missing tables are empty.
    pub fn from_batches(tables: BTreeMap<String, Vec<RecordBatch>>, lookups: Lookups) -> Result<Self> {
        let ctx = SessionContext::new_with_config(session_config().with_target_partitions(1));
        udaf::register(&ctx);
        for table in TABLES {
            let schema = canonical_schema(table)?;
            let batches = tables.get(table).cloned().unwrap_or_default();
            ctx.register_table(table, Arc::new(MemTable::try_new(schema, vec![batches])?))?;
        }
        Ok(Engine { ctx, lookups, snapshot: None })
    }

    /// The DataFusion session.
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// The lookups in use.
    pub fn lookups(&self) -> &Lookups {
        &self.lookups
    }

    /// Snapshot id, when reading a store.
    pub fn snapshot(&self) -> Option<u64> {
        self.snapshot
    }

    /// The plan for a cohort.
    pub async fn cohort(&self, cohort: &Cohort, index: NaiveDate) -> Result<DataFrame> {
        compile::cohort_plan(&self.ctx, &self.lookups, cohort, index).await
    }

    /// The plan for a cohort's event-level rows.
    pub async fn cohort_events(&self, cohort: &Cohort, index: NaiveDate) -> Result<Option<DataFrame>> {
        match &cohort.events {
            Some(e) => Ok(Some(compile::events_plan(&self.ctx, &self.lookups, cohort, e, index).await?)),
            None => Ok(None),
        }
    }

    /// The plan for several indicators at once, over one or more index dates.
    pub async fn indicators_plan(
        &self,
        indicators: &[&Indicator],
        periods: Periods,
    ) -> Result<(DataFrame, Vec<String>)> {
        compile::indicators_plan(&self.ctx, &self.lookups, indicators, periods).await
    }

    /// The plan for indicators' cells ([`Engine::cells`]): one row per index date and
    /// combination of the `dims` values, for `phm explain` and benchmarks.
    pub async fn cells_plan(
        &self,
        indicators: &[&Indicator],
        periods: Periods,
        dims: &[Dimension],
    ) -> Result<DataFrame> {
        let columns: Vec<phm_model::Column> = dims.iter().map(|d| d.column()).collect();
        let columns: Vec<&phm_model::Column> = columns.iter().collect();
        compile::cells_plan(&self.ctx, &self.lookups, indicators, periods, &columns).await
    }

    /// Indicators' cells: one per index date and combination of the `dims` values, with each
    /// indicator's numerator and denominator. Every indicator is counted in one pass over the
    /// events; callers (the profiles) add cells up as they need.
    ///
    /// # Errors
    /// Engine failures, and an indicator whose numerator sums to less than zero in a cell (a
    /// whole-number numerator such as `a - b`): counts are never negative.
    pub async fn cells(&self, indicators: &[&Indicator], periods: Periods, dims: &[Dimension]) -> Result<Cells> {
        let batches = self.cells_plan(indicators, periods, dims).await?.collect().await?;
        cells_from_batches(&batches, indicators, dims)
    }

    /// Compute indicators: one row per indicator, index date, breakdown and category.
    pub async fn indicators(&self, indicators: &[&Indicator], periods: Periods) -> Result<Vec<IndicatorRow>> {
        if indicators.is_empty() {
            return Ok(Vec::new());
        }
        let (df, breakdowns) = self.indicators_plan(indicators, periods).await?;
        let batches = df.collect().await?;
        indicator_rows(&batches, indicators, &breakdowns)
    }

    /// Compute a measure (its indicator at every index date, in one pass).
    pub async fn measure(&self, measure: &Measure) -> Result<Vec<IndicatorRow>> {
        let dates = measure.intervals.index_dates();
        let rows = self.indicators(&[&measure.indicator], Periods::Many(dates)).await?;
        Ok(measure_rows(measure, rows))
    }

    /// A measure computed one index date at a time, one plan per date: the same rows as
    /// [`Engine::measure`], for measuring what its single pass saves.
    pub async fn measure_by_period(&self, measure: &Measure) -> Result<Vec<IndicatorRow>> {
        let mut rows = Vec::new();
        for date in measure.intervals.index_dates() {
            rows.extend(self.indicators(&[&measure.indicator], Periods::One(date)).await?);
        }
        Ok(measure_rows(measure, rows))
    }

    /// Optimised logical plan, indented, for `phm explain`; with `analyze`, the plan is run and
    /// the physical plan is shown with each operator's metrics (rows, time, memory).
    pub async fn explain(&self, df: &DataFrame, analyze: bool) -> Result<String> {
        if !analyze {
            let plan: LogicalPlan = df.clone().into_optimized_plan()?;
            return Ok(plan.display_indent().to_string());
        }
        let batches = df.clone().explain(false, true)?.collect().await?;
        let mut text = String::new();
        for batch in &batches {
            let plans = datafusion::arrow::compute::cast(batch.column(1), &DataType::Utf8)?;
            let plans = plans.as_string::<i32>();
            for row in 0..batch.num_rows() {
                text += plans.value(row);
                text.push('\n');
            }
        }
        Ok(text)
    }
}

impl phm_model::CellSource for Engine {
    type Error = Error;

    async fn cells(&self, indicators: &[&Indicator], on: NaiveDate, dimensions: &[Dimension]) -> Result<Cells> {
        Engine::cells(self, indicators, Periods::One(on), dimensions).await
    }
}

/// A measure's rows: its indicator's rows under the measure's name, in the order
/// [`Engine::indicators`] gives (date, breakdown, category), whichever way they were computed.
fn measure_rows(measure: &Measure, mut rows: Vec<IndicatorRow>) -> Vec<IndicatorRow> {
    rows.sort_by(|a, b| (a.index_date, &a.breakdown, &a.category).cmp(&(b.index_date, &b.breakdown, &b.category)));
    rows.into_iter().map(|r| IndicatorRow { indicator: measure.name.clone(), ..r }).collect()
}

/// The canonical Arrow schema of a table.
pub fn canonical_schema(table: &str) -> Result<datafusion::arrow::datatypes::SchemaRef> {
    phm_core::schema::TABLES
        .iter()
        .find(|t| t.name == table)
        .map(|t| t.arrow_schema())
        .ok_or_else(|| Error::Definition(format!("no table `{table}`")))
}

/// One indicator value.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct IndicatorRow {
    /// Indicator (or measure) name.
    pub indicator: String,
    /// Index date.
    pub index_date: NaiveDate,
    /// Breakdown name, `all` for the whole population.
    pub breakdown: String,
    /// Category within the breakdown (`all` for the whole population).
    pub category: String,
    /// Numerator.
    pub numerator: i64,
    /// Denominator.
    pub denominator: i64,
    /// numerator / denominator × multiplier; missing when the denominator is 0.
    pub value: Option<f64>,
    /// The statistical method named by the indicator (confidence intervals are added by the
    /// statistics layer).
    pub method: phm_model::Method,
}

fn indicator_rows(
    batches: &[RecordBatch],
    indicators: &[&Indicator],
    breakdowns: &[String],
) -> Result<Vec<IndicatorRow>> {
    let mut out = Vec::new();
    for batch in batches {
        let dates = batch.column(0).as_primitive::<Date32Type>();
        let cats: Vec<_> = (0..breakdowns.len())
            .map(|j| datafusion::arrow::compute::cast(batch.column(1 + j), &DataType::Utf8).ok())
            .collect();
        for row in 0..batch.num_rows() {
            let Some(date) = dates.value_as_date(row) else { continue };
            // Which breakdown this row is grouped by: the one non-null breakdown column.
            let grouped: Vec<usize> = cats
                .iter()
                .enumerate()
                .filter(|(_, c)| c.as_ref().is_some_and(|c| c.is_valid(row)))
                .map(|(j, _)| j)
                .collect();
            let (breakdown, category) = match grouped.as_slice() {
                [] => ("all".to_owned(), "all".to_owned()),
                [j] => {
                    let c = cats[*j].as_ref().map(|c| c.as_string::<i32>().value(row).to_owned()).unwrap_or_default();
                    (breakdowns[*j].clone(), c)
                }
                _ => continue,
            };
            for (i, ind) in indicators.iter().enumerate() {
                if breakdown != "all" && !ind.breakdowns.iter().any(|b| b.name == breakdown) {
                    continue;
                }
                let num = batch.column(1 + breakdowns.len() + 2 * i).as_primitive::<Int64Type>();
                let den = batch.column(2 + breakdowns.len() + 2 * i).as_primitive::<Int64Type>();
                let (n, d) = (num.value(row), den.value(row));
                non_negative(ind, "numerator", n, date)?;
                non_negative(ind, "denominator", d, date)?;
                out.push(IndicatorRow {
                    indicator: ind.name.clone(),
                    index_date: date,
                    breakdown: breakdown.clone(),
                    category: category.clone(),
                    numerator: n,
                    denominator: d,
                    value: (d > 0).then(|| n as f64 / d as f64 * ind.multiplier),
                    method: ind.method,
                });
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
    Ok(out)
}

/// The typed cells of the batches of a cells plan: columns `index_date`, one text column per
/// dimension, then numerator and denominator per indicator, in that order.
fn cells_from_batches(batches: &[RecordBatch], indicators: &[&Indicator], dims: &[Dimension]) -> Result<Cells> {
    let mut cells = Vec::new();
    for batch in batches {
        let dates = batch.column(0).as_primitive::<Date32Type>();
        let values: Vec<_> = (0..dims.len()).map(|j| batch.column(1 + j).as_string::<i32>()).collect();
        let counts: Vec<_> = (0..indicators.len())
            .map(|i| {
                let at = 1 + dims.len() + 2 * i;
                (batch.column(at).as_primitive::<Int64Type>(), batch.column(at + 1).as_primitive::<Int64Type>())
            })
            .collect();
        for row in 0..batch.num_rows() {
            let Some(index_date) = dates.value_as_date(row) else {
                return Err(Error::Definition("a cell has no index date".into()));
            };
            let values = values
                .iter()
                .map(|c| match c.value(row) {
                    v if !c.is_valid(row) || v == NOT_RECORDED => None,
                    v => Some(v.to_owned()),
                })
                .collect();
            let mut out = Vec::with_capacity(indicators.len());
            for (ind, (n, d)) in indicators.iter().zip(&counts) {
                out.push(Count {
                    numerator: non_negative(ind, "numerator", n.value(row), index_date)?,
                    denominator: non_negative(ind, "denominator", d.value(row), index_date)?,
                });
            }
            cells.push(Cell { index_date, values, counts: out });
        }
    }
    Ok(Cells { dimensions: dims.to_vec(), indicators: indicators.len(), cells })
}

/// A count as a whole number of people or events, or the error that names the indicator.
fn non_negative(ind: &Indicator, what: &str, count: i64, on: NaiveDate) -> Result<u64> {
    u64::try_from(count).map_err(|_| {
        Error::Definition(format!(
            "indicator `{}`: its {what} adds up to {count} in a cell on {on}; a count must be 0 or more \
             (a whole-number numerator is summed, so it must not be negative)",
            ind.name
        ))
    })
}
