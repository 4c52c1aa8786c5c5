//! Writing the released tables: a [`ProfileTable`] as `profiles.parquet` and `profiles.csv`, a
//! [`TrendTable`] as `trends.*` and a [`PopulationTable`] as `population.*`. Each writer takes
//! only its table type, which only released figures can make.

use std::path::Path;
use std::sync::Arc;

use arrow_array::types::Date32Type;
use arrow_array::{ArrayRef, Date32Array, Float64Array, RecordBatch, StringArray, UInt64Array};

use crate::population::{PopulationRow, PopulationTable};
use crate::profile::{ProfileRow, ProfileTable};
use crate::trend::{TrendRow, TrendTable};
use crate::{Error, Result};

/// The rows as one Arrow batch, columns in [`ProfileRow`]'s order.
///
/// # Errors
/// Arrow refusing the columns (a bug).
pub fn batch(table: &ProfileTable) -> Result<RecordBatch> {
    let rows = table.rows();
    let text = |f: fn(&ProfileRow) -> &str| -> ArrayRef { Arc::new(StringArray::from_iter_values(rows.iter().map(f))) };
    let opt_text =
        |f: fn(&ProfileRow) -> Option<&str>| -> ArrayRef { Arc::new(StringArray::from_iter(rows.iter().map(f))) };
    let num = |f: fn(&ProfileRow) -> Option<f64>| -> ArrayRef { Arc::new(Float64Array::from_iter(rows.iter().map(f))) };
    let count =
        |f: fn(&ProfileRow) -> Option<u64>| -> ArrayRef { Arc::new(UInt64Array::from_iter(rows.iter().map(f))) };
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("indicator", text(|r| &r.indicator)),
        ("title", text(|r| &r.title)),
        ("method", text(|r| r.method.as_str())),
        ("multiplier", num(|r| Some(r.multiplier))),
        ("polarity", text(|r| &r.polarity)),
        ("period", Arc::new(Date32Array::from_iter_values(rows.iter().map(|r| Date32Type::from_naive_date(r.period))))),
        ("area_type", text(|r| &r.area_type)),
        ("area_code", text(|r| &r.area_code)),
        ("area_name", text(|r| &r.area_name)),
        ("parent_code", opt_text(|r| r.parent_code.as_deref())),
        ("breakdown", text(|r| &r.breakdown)),
        ("category", text(|r| &r.category)),
        ("numerator", count(|r| r.numerator)),
        ("denominator", count(|r| r.denominator)),
        ("value", num(|r| r.value)),
        ("lower_95", num(|r| r.lower_95)),
        ("upper_95", num(|r| r.upper_95)),
        ("lower_99_8", num(|r| r.lower_99_8)),
        ("upper_99_8", num(|r| r.upper_99_8)),
        ("reason", opt_text(|r| r.reason.as_deref())),
        ("sii", num(|r| r.sii)),
        ("sii_lower_95", num(|r| r.sii_lower_95)),
        ("sii_upper_95", num(|r| r.sii_upper_95)),
        ("rii", num(|r| r.rii)),
        ("rii_lower_95", num(|r| r.rii_lower_95)),
        ("rii_upper_95", num(|r| r.rii_upper_95)),
        ("sii_reason", opt_text(|r| r.sii_reason.as_deref())),
        ("ics_value", num(|r| r.ics_value)),
        ("compared_to_ics_95", opt_text(|r| r.compared_to_ics_95.as_deref())),
        ("compared_to_ics_99_8", opt_text(|r| r.compared_to_ics_99_8.as_deref())),
        ("england_value", num(|r| r.england_value)),
        ("england_period", opt_text(|r| r.england_period.as_deref())),
        ("compared_to_england_95", opt_text(|r| r.compared_to_england_95.as_deref())),
        ("compared_to_england_99_8", opt_text(|r| r.compared_to_england_99_8.as_deref())),
        ("disclosure", text(|r| &r.disclosure)),
        ("definition", text(|r| &r.definition)),
        ("definition_sha256", text(|r| &r.definition_sha256)),
    ];
    RecordBatch::try_from_iter(columns).map_err(|e| Error::Internal(format!("profile batch: {e}")))
}

/// Writes `profiles.parquet` and `profiles.csv` in `dir`; returns the row count.
///
/// # Errors
/// A file that cannot be written.
pub fn write(dir: &Path, table: &ProfileTable) -> Result<u64> {
    let b = batch(table)?;
    Ok(phm_release::write_table(dir, "profiles", b.schema(), &[b])?)
}

/// The trend rows as one Arrow batch, columns in [`TrendRow`]'s order.
///
/// # Errors
/// Arrow refusing the columns (a bug).
pub fn trend_batch(table: &TrendTable) -> Result<RecordBatch> {
    let rows = table.rows();
    let text = |f: fn(&TrendRow) -> &str| -> ArrayRef { Arc::new(StringArray::from_iter_values(rows.iter().map(f))) };
    let opt_text =
        |f: fn(&TrendRow) -> Option<&str>| -> ArrayRef { Arc::new(StringArray::from_iter(rows.iter().map(f))) };
    let num = |f: fn(&TrendRow) -> Option<f64>| -> ArrayRef { Arc::new(Float64Array::from_iter(rows.iter().map(f))) };
    let count = |f: fn(&TrendRow) -> Option<u64>| -> ArrayRef { Arc::new(UInt64Array::from_iter(rows.iter().map(f))) };
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("indicator", text(|r| &r.indicator)),
        ("title", text(|r| &r.title)),
        ("method", text(|r| r.method.as_str())),
        ("polarity", text(|r| &r.polarity)),
        ("period", Arc::new(Date32Array::from_iter_values(rows.iter().map(|r| Date32Type::from_naive_date(r.period))))),
        ("area_type", text(|r| &r.area_type)),
        ("area_code", text(|r| &r.area_code)),
        ("area_name", text(|r| &r.area_name)),
        ("numerator", count(|r| r.numerator)),
        ("denominator", count(|r| r.denominator)),
        ("value", num(|r| r.value)),
        ("lower_95", num(|r| r.lower_95)),
        ("upper_95", num(|r| r.upper_95)),
        ("reason", opt_text(|r| r.reason.as_deref())),
        ("disclosure", text(|r| &r.disclosure)),
        ("mean", num(|r| r.mean)),
        ("lower_process_limit", num(|r| r.lower_process_limit)),
        ("upper_process_limit", num(|r| r.upper_process_limit)),
        ("special_cause", opt_text(|r| r.special_cause.as_deref())),
        ("variation", opt_text(|r| r.variation.as_deref())),
        ("variation_icon", opt_text(|r| r.variation_icon.as_deref())),
        ("assurance_icon", text(|r| &r.assurance_icon)),
        ("spc_reason", opt_text(|r| r.spc_reason.as_deref())),
    ];
    RecordBatch::try_from_iter(columns).map_err(|e| Error::Internal(format!("trend batch: {e}")))
}

/// Writes `trends.parquet` and `trends.csv` in `dir`; returns the row count.
///
/// # Errors
/// A file that cannot be written.
pub fn write_trends(dir: &Path, table: &TrendTable) -> Result<u64> {
    let b = trend_batch(table)?;
    Ok(phm_release::write_table(dir, "trends", b.schema(), &[b])?)
}

/// The population rows as one Arrow batch, columns in [`PopulationRow`]'s order.
///
/// # Errors
/// Arrow refusing the columns (a bug).
pub fn population_batch(table: &PopulationTable) -> Result<RecordBatch> {
    let rows = table.rows();
    let text =
        |f: fn(&PopulationRow) -> &str| -> ArrayRef { Arc::new(StringArray::from_iter_values(rows.iter().map(f))) };
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("area_type", text(|r| &r.area_type)),
        ("area_code", text(|r| &r.area_code)),
        ("area_name", text(|r| &r.area_name)),
        ("period", Arc::new(Date32Array::from_iter_values(rows.iter().map(|r| Date32Type::from_naive_date(r.period))))),
        ("sex", text(|r| &r.sex)),
        ("age_band", text(|r| &r.age_band)),
        ("count", Arc::new(UInt64Array::from_iter(rows.iter().map(|r| r.count)))),
        ("disclosure", text(|r| &r.disclosure)),
    ];
    RecordBatch::try_from_iter(columns).map_err(|e| Error::Internal(format!("population batch: {e}")))
}

/// Writes `population.parquet` and `population.csv` in `dir`; returns the row count.
///
/// # Errors
/// A file that cannot be written.
pub fn write_population(dir: &Path, table: &PopulationTable) -> Result<u64> {
    let b = population_batch(table)?;
    Ok(phm_release::write_table(dir, "population", b.schema(), &[b])?)
}
