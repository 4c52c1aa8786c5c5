//! `phm_first_by(value, key₁, key₂, …)` and `phm_last_by(value, key₁, key₂, …)`: the value
//! of the row with the smallest (largest) key, keys compared in order, ascending, a missing
//! key after any other. This is `first_value(value ORDER BY key₁, key₂, … NULLS LAST)` (and
//! `last_value`), the language's `first(rows).column` and `last(rows).column`.
//!
//! DataFusion's own `first_value`/`last_value` keep each group's ordering as `ScalarValue`s
//! and scan every group after each batch, which made them most of the catalogue's time. Here
//! the keys of a batch become Arrow's byte-comparable row format once, each group keeps the
//! bytes of its best row, and a group's value is copied out at most once per batch.
//!
//! The partial state is `(value, key bytes)`, so a Ballista executor that has these functions
//! registered (`phm executor` does) merges what another produced. [`register`] adds them to
//! a session.

use std::mem::{size_of, size_of_val};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BinaryArray, BooleanArray, UInt32Array, new_empty_array};
use datafusion::arrow::compute::{SortOptions, take};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::arrow::row::{RowConverter, Rows, SortField};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, Expr, GroupsAccumulator, Signature, Volatility};
use datafusion::prelude::SessionContext;

/// Which end of the order a function picks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum End {
    First,
    Last,
}

/// The UDAF behind `phm_first_by` / `phm_last_by`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ExtremeBy {
    end: End,
    signature: Signature,
}

impl ExtremeBy {
    fn new(end: End) -> Self {
        ExtremeBy { end, signature: Signature::variadic_any(Volatility::Immutable) }
    }
}

/// `phm_first_by`.
pub fn first_by() -> AggregateUDF {
    AggregateUDF::from(ExtremeBy::new(End::First))
}

/// `phm_last_by`.
pub fn last_by() -> AggregateUDF {
    AggregateUDF::from(ExtremeBy::new(End::Last))
}

/// Every function OpenPHM plans use that DataFusion does not have.
pub fn functions() -> Vec<AggregateUDF> {
    vec![first_by(), last_by()]
}

/// Register [`functions`] and the person keys ([`crate::person_key`]) in a session.
pub fn register(ctx: &SessionContext) {
    for f in functions() {
        ctx.register_udaf(f);
    }
    ctx.register_udf(crate::person_key::key_hi());
    ctx.register_udf(crate::person_key::key_lo());
}

/// `phm_first_by(value, keys…)` / `phm_last_by(value, keys…)` as expressions.
pub(crate) fn call(last: bool, value: Expr, keys: Vec<Expr>) -> Expr {
    let f = if last { last_by() } else { first_by() };
    let mut args = vec![value];
    args.extend(keys);
    f.call(args)
}

impl AggregateUDFImpl for ExtremeBy {
    fn name(&self) -> &str {
        match self.end {
            End::First => "phm_first_by",
            End::Last => "phm_last_by",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types {
            [value, _, ..] => Ok(value.clone()),
            _ => plan_err!("{} needs a value and at least one key", self.name()),
        }
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new(format_state_name(args.name, "value"), args.return_type().clone(), true)),
            Arc::new(Field::new(format_state_name(args.name, "key"), DataType::Binary, true)),
        ])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(OneGroup { groups: Groups::new(self.end, &args)?, }))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(Groups::new(self.end, &args)?))
    }
}

/// Per-group best rows.
#[derive(Debug)]
struct Groups {
    end: End,
    value_type: DataType,
    converter: RowConverter,
    /// Key bytes of each group's best row; `None` before the group has seen a row.
    keys: Vec<Option<Vec<u8>>>,
    values: Vec<ScalarValue>,
    null: ScalarValue,
    /// Scratch for one batch: which row (of the batch) is the group's best so far.
    pending: Vec<u32>,
    touched: Vec<usize>,
    is_touched: Vec<bool>,
    /// Bytes held by key buffers and by values outside `values` itself (strings).
    heap: usize,
}

impl Groups {
    fn new(end: End, args: &AccumulatorArgs) -> Result<Self> {
        let value_type = args.return_type().clone();
        let options = SortOptions { descending: false, nulls_first: false };
        let fields = args.expr_fields.iter().skip(1).map(|f| SortField::new_with_options(f.data_type().clone(), options)).collect();
        let null = ScalarValue::try_from(&value_type)?;
        Ok(Groups { end, value_type, converter: RowConverter::new(fields)?, keys: Vec::new(), values: Vec::new(), null, pending: Vec::new(), touched: Vec::new(), is_touched: Vec::new(), heap: 0 })
    }

    fn resize(&mut self, groups: usize) {
        if self.keys.len() < groups {
            self.keys.resize(groups, None);
            self.values.resize(groups, self.null.clone());
            self.pending.resize(groups, 0);
            self.is_touched.resize(groups, false);
        }
    }

    fn beats(&self, key: &[u8], best: Option<&Vec<u8>>) -> bool {
        match (best, self.end) {
            (None, _) => true,
            (Some(b), End::First) => key < b.as_slice(),
            (Some(b), End::Last) => key > b.as_slice(),
        }
    }

    /// Offer rows `0..n` (key bytes from `key`, value at the same row of `values`) to their
    /// groups.
    fn offer<'k>(&mut self, n: usize, key: impl Fn(usize) -> Option<&'k [u8]>, groups: impl Fn(usize) -> usize, values: &ArrayRef) -> Result<()> {
        for row in 0..n {
            let Some(k) = key(row) else { continue };
            let g = groups(row);
            if self.beats(k, self.keys[g].as_ref()) {
                let slot = self.keys[g].get_or_insert_with(Vec::new);
                let before = slot.capacity();
                slot.clear();
                slot.extend_from_slice(k);
                self.heap += slot.capacity() - before;
                self.pending[g] = row as u32;
                if !self.is_touched[g] {
                    self.is_touched[g] = true;
                    self.touched.push(g);
                }
            }
        }
        for g in std::mem::take(&mut self.touched) {
            let value = ScalarValue::try_from_array(values, self.pending[g] as usize)?;
            self.heap = (self.heap + value.size()).saturating_sub(self.values[g].size());
            self.values[g] = value;
            self.is_touched[g] = false;
        }
        Ok(())
    }

    /// The rows a filter passes (all when there is none), or `None` when it passes all.
    fn selected(filter: Option<&BooleanArray>) -> Option<UInt32Array> {
        let f = filter?;
        Some((0..f.len()).filter(|&i| f.is_valid(i) && f.value(i)).map(|i| i as u32).collect())
    }

    fn rows(&self, keys: &[ArrayRef]) -> Result<Rows> {
        Ok(self.converter.convert_columns(keys)?)
    }

    /// The rows `sel` picks from `arrays`.
    fn pick(arrays: &[ArrayRef], sel: &UInt32Array) -> Result<Vec<ArrayRef>> {
        Ok(arrays.iter().map(|v| take(v.as_ref(), sel, None)).collect::<std::result::Result<_, _>>()?)
    }

    fn take_state(&mut self, emit_to: EmitTo) -> Result<(ArrayRef, BinaryArray)> {
        let values = emit_to.take_needed(&mut self.values);
        let keys = emit_to.take_needed(&mut self.keys);
        let freed: usize = keys.iter().map(|k| k.as_ref().map_or(0, Vec::capacity)).sum::<usize>() + values.iter().map(|v| v.size() - size_of::<ScalarValue>()).sum::<usize>();
        self.heap = self.heap.saturating_sub(freed);
        // Scratch vectors only need to cover the groups that remain.
        let remaining = self.keys.len();
        self.pending.truncate(remaining);
        self.is_touched.truncate(remaining);
        let values = if values.is_empty() { new_empty_array(&self.value_type) } else { ScalarValue::iter_to_array(values)? };
        let keys: BinaryArray = keys.iter().map(|k| k.as_deref()).collect();
        Ok((values, keys))
    }
}

impl GroupsAccumulator for Groups {
    fn update_batch(&mut self, values: &[ArrayRef], group_indices: &[usize], opt_filter: Option<&BooleanArray>, total_num_groups: usize) -> Result<()> {
        self.resize(total_num_groups);
        match Self::selected(opt_filter) {
            None => {
                let rows = self.rows(&values[1..])?;
                self.offer(rows.num_rows(), |r| Some(rows.row(r).data()), |r| group_indices[r], &values[0])
            }
            Some(sel) if sel.is_empty() => Ok(()),
            Some(sel) => {
                let picked = Self::pick(values, &sel)?;
                let rows = self.rows(&picked[1..])?;
                let groups: Vec<usize> = sel.values().iter().map(|&i| group_indices[i as usize]).collect();
                self.offer(rows.num_rows(), |r| Some(rows.row(r).data()), |r| groups[r], &picked[0])
            }
        }
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        Ok(self.take_state(emit_to)?.0)
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let (values, keys) = self.take_state(emit_to)?;
        Ok(vec![values, Arc::new(keys)])
    }

    fn merge_batch(&mut self, values: &[ArrayRef], group_indices: &[usize], total_num_groups: usize) -> Result<()> {
        self.resize(total_num_groups);
        let keys = values[1].as_binary::<i32>();
        self.offer(keys.len(), |r| keys.is_valid(r).then(|| keys.value(r)), |r| group_indices[r], &values[0])
    }

    fn convert_to_state(&self, values: &[ArrayRef], opt_filter: Option<&BooleanArray>) -> Result<Vec<ArrayRef>> {
        // Only the rows the filter passes get key bytes (the others a missing key).
        let keys: BinaryArray = match Self::selected(opt_filter) {
            None => {
                let rows = self.rows(&values[1..])?;
                (0..rows.num_rows()).map(|r| Some(rows.row(r).data())).collect()
            }
            Some(sel) => {
                let rows = self.rows(&Self::pick(&values[1..], &sel)?)?;
                let mut next = sel.values().iter().enumerate().peekable();
                (0..values[0].len())
                    .map(|r| match next.peek() {
                        Some(&(j, &i)) if i as usize == r => {
                            next.next();
                            Some(rows.row(j).data())
                        }
                        _ => None,
                    })
                    .collect()
            }
        };
        Ok(vec![Arc::clone(&values[0]), Arc::new(keys)])
    }

    fn size(&self) -> usize {
        // Kept as running totals: this is asked after every batch, so it must not walk the groups.
        size_of_val(self)
            + self.heap
            + self.keys.capacity() * size_of::<Option<Vec<u8>>>()
            + self.values.capacity() * size_of::<ScalarValue>()
            + self.pending.capacity() * 4
            + self.is_touched.capacity()
            + self.converter.size()
    }
}

/// The same for a query with no `GROUP BY` (one group).
#[derive(Debug)]
struct OneGroup {
    groups: Groups,
}

impl Accumulator for OneGroup {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let n = values.first().map_or(0, |v| v.len());
        GroupsAccumulator::update_batch(&mut self.groups, values, &vec![0; n], None, 1)
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        self.groups.resize(1);
        Ok(self.groups.values[0].clone())
    }

    fn size(&self) -> usize {
        self.groups.size()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        self.groups.resize(1);
        let key = ScalarValue::Binary(self.groups.keys[0].clone());
        Ok(vec![self.groups.values[0].clone(), key])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let n = states.first().map_or(0, |v| v.len());
        GroupsAccumulator::merge_batch(&mut self.groups, states, &vec![0; n], 1)
    }
}
