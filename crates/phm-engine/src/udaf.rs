//! `phm_first_by(key₁, key₂, …, value)` and `phm_last_by(key₁, key₂, …, value)`: the last
//! argument of the row that comes first (last) when rows are ordered by every argument in
//! turn, ascending, a missing value after any other. This is
//! `first_value(value ORDER BY key₁, key₂, …, value NULLS LAST)` (and `last_value`), the
//! language's `first(rows).column` and `last(rows).column`, whose order is the table's
//! columns up to and including `column`.
//!
//! DataFusion's own `first_value`/`last_value` keep each group's ordering as `ScalarValue`s
//! and scan every group after each batch, which made them most of the catalogue's time. Here
//! the arguments of a batch become Arrow's byte-comparable row format once, and each group
//! keeps only the bytes of its best row, in one buffer shared by every group. The value is the
//! last of the row's columns, so it is decoded from the winning bytes when the groups are
//! emitted: no per-group value or allocation is kept.
//!
//! The partial state is the key bytes, so a Ballista executor that has these functions
//! registered (`phm executor` does) merges what another produced. [`register`] adds them to
//! a session.

use std::mem::{size_of, size_of_val};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BinaryArray, BooleanArray, UInt32Array, new_null_array};
use datafusion::arrow::compute::{SortOptions, take};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::arrow::row::{RowConverter, Rows, SortField};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, Expr, GroupsAccumulator, Signature, Volatility,
};
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

/// `phm_first_by(keys…, value)` / `phm_last_by(keys…, value)` as expressions: the value of
/// the first (last) row in the order of `keys`, which must end with the value itself.
pub(crate) fn call(last: bool, keys: Vec<Expr>) -> Expr {
    let f = if last { last_by() } else { first_by() };
    f.call(keys)
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
        match arg_types.last() {
            Some(value) => Ok(value.clone()),
            None => plan_err!("{} needs at least one argument", self.name()),
        }
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(format_state_name(args.name, "key"), DataType::Binary, true))])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(OneGroup { groups: Groups::new(self.end, &args)? }))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(Groups::new(self.end, &args)?))
    }
}

/// A group's length when it has not seen a row.
const NONE: u32 = u32::MAX;

/// Per-group best rows: each group's key bytes are `arena[start[g]..start[g] + len[g]]`.
#[derive(Debug)]
struct Groups {
    end: End,
    value_type: DataType,
    converter: RowConverter,
    start: Vec<usize>,
    len: Vec<u32>,
    arena: Vec<u8>,
    /// Bytes of `arena` that belong to some group's best row (the rest is replaced rows).
    live: usize,
}

impl Groups {
    fn new(end: End, args: &AccumulatorArgs) -> Result<Self> {
        let value_type = args.return_type().clone();
        let options = SortOptions { descending: false, nulls_first: false };
        let fields =
            args.expr_fields.iter().map(|f| SortField::new_with_options(f.data_type().clone(), options)).collect();
        Ok(Groups {
            end,
            value_type,
            converter: RowConverter::new(fields)?,
            start: Vec::new(),
            len: Vec::new(),
            arena: Vec::new(),
            live: 0,
        })
    }

    fn resize(&mut self, groups: usize) {
        if self.len.len() < groups {
            self.start.resize(groups, 0);
            self.len.resize(groups, NONE);
        }
    }

    fn key(&self, g: usize) -> Option<&[u8]> {
        let len = self.len[g];
        (len != NONE).then(|| &self.arena[self.start[g]..self.start[g] + len as usize])
    }

    /// Offer a row's key bytes to group `g`.
    fn offer(&mut self, g: usize, key: &[u8]) {
        let better = match (self.key(g), self.end) {
            (None, _) => true,
            (Some(best), End::First) => key < best,
            (Some(best), End::Last) => key > best,
        };
        if !better {
            return;
        }
        let old = self.len[g];
        if old != NONE && key.len() <= old as usize {
            // Fixed-width keys (dates, numbers) replace the old bytes where they are.
            let s = self.start[g];
            self.arena[s..s + key.len()].copy_from_slice(key);
            self.live -= old as usize - key.len();
        } else {
            if old != NONE {
                self.live -= old as usize;
            }
            self.start[g] = self.arena.len();
            self.arena.extend_from_slice(key);
            self.live += key.len();
        }
        self.len[g] = key.len() as u32;
        if self.arena.len() > 2 * self.live + (1 << 20) {
            self.compact();
        }
    }

    /// Drop the bytes of replaced rows.
    fn compact(&mut self) {
        let mut arena = Vec::with_capacity(self.live);
        for (s, &l) in self.start.iter_mut().zip(&self.len) {
            if l != NONE {
                let from = *s;
                *s = arena.len();
                arena.extend_from_slice(&self.arena[from..from + l as usize]);
            }
        }
        self.arena = arena;
    }

    /// The value of each of `keys` (missing where a group has no row): the last column of its row.
    fn decode(&self, keys: &[Option<&[u8]>]) -> Result<ArrayRef> {
        let present: Vec<&[u8]> = keys.iter().flatten().copied().collect();
        if present.is_empty() {
            return Ok(new_null_array(&self.value_type, keys.len()));
        }
        let parser = self.converter.parser();
        let columns = self.converter.convert_rows(present.iter().map(|k| parser.parse(k)))?;
        let Some(values) = columns.last() else {
            return plan_err!("phm_first_by/phm_last_by needs at least one argument");
        };
        if present.len() == keys.len() {
            return Ok(Arc::clone(values));
        }
        let mut next = 0u32;
        let at: UInt32Array = keys
            .iter()
            .map(|k| {
                k.map(|_| {
                    next += 1;
                    next - 1
                })
            })
            .collect();
        Ok(take(values.as_ref(), &at, None)?)
    }

    /// Remove the emitted groups' slots and hand their key bytes (missing where a group has no
    /// row) to `f` while they are still in the buffer.
    fn emit<T>(&mut self, emit_to: EmitTo, f: impl FnOnce(&Self, &[Option<&[u8]>]) -> T) -> T {
        let start = emit_to.take_needed(&mut self.start);
        let len = emit_to.take_needed(&mut self.len);
        let keys: Vec<Option<&[u8]>> =
            start.iter().zip(&len).map(|(&s, &l)| (l != NONE).then(|| &self.arena[s..s + l as usize])).collect();
        let out = f(self, &keys);
        self.live -= len.iter().filter(|&&l| l != NONE).map(|&l| l as usize).sum::<usize>();
        if self.len.is_empty() {
            self.arena.clear();
            self.live = 0;
        }
        out
    }

    /// The rows a filter passes, or `None` when there is no filter.
    fn selected(filter: Option<&BooleanArray>) -> Option<UInt32Array> {
        let f = filter?;
        Some((0..f.len()).filter(|&i| f.is_valid(i) && f.value(i)).map(|i| i as u32).collect())
    }

    fn rows(&self, columns: &[ArrayRef]) -> Result<Rows> {
        Ok(self.converter.convert_columns(columns)?)
    }

    /// The rows `sel` picks from `arrays`.
    fn pick(arrays: &[ArrayRef], sel: &UInt32Array) -> Result<Vec<ArrayRef>> {
        Ok(arrays.iter().map(|v| take(v.as_ref(), sel, None)).collect::<std::result::Result<_, _>>()?)
    }
}

impl GroupsAccumulator for Groups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.resize(total_num_groups);
        match Self::selected(opt_filter) {
            None => {
                let rows = self.rows(values)?;
                for (r, &g) in group_indices.iter().enumerate() {
                    self.offer(g, rows.row(r).data());
                }
            }
            Some(sel) if sel.is_empty() => {}
            Some(sel) => {
                let rows = self.rows(&Self::pick(values, &sel)?)?;
                for (r, &i) in sel.values().iter().enumerate() {
                    self.offer(group_indices[i as usize], rows.row(r).data());
                }
            }
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        self.emit(emit_to, |groups, keys| groups.decode(keys))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let keys: BinaryArray = self.emit(emit_to, |_, keys| keys.iter().copied().collect());
        Ok(vec![Arc::new(keys)])
    }

    fn merge_batch(&mut self, values: &[ArrayRef], group_indices: &[usize], total_num_groups: usize) -> Result<()> {
        self.resize(total_num_groups);
        let keys = values[0].as_binary::<i32>();
        for (r, &g) in group_indices.iter().enumerate() {
            if keys.is_valid(r) {
                self.offer(g, keys.value(r));
            }
        }
        Ok(())
    }

    fn convert_to_state(&self, values: &[ArrayRef], opt_filter: Option<&BooleanArray>) -> Result<Vec<ArrayRef>> {
        // Only the rows the filter passes get key bytes (the others a missing key).
        let n = values.first().map_or(0, |v| v.len());
        let keys: BinaryArray = match Self::selected(opt_filter) {
            None => {
                let rows = self.rows(values)?;
                (0..rows.num_rows()).map(|r| Some(rows.row(r).data())).collect()
            }
            Some(sel) => {
                let rows = self.rows(&Self::pick(values, &sel)?)?;
                let mut next = sel.values().iter().enumerate().peekable();
                (0..n)
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
        Ok(vec![Arc::new(keys)])
    }

    fn size(&self) -> usize {
        size_of_val(self)
            + self.arena.capacity()
            + self.start.capacity() * size_of::<usize>()
            + self.len.capacity() * size_of::<u32>()
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
        let value = self.groups.decode(&[self.groups.key(0)])?;
        ScalarValue::try_from_array(&value, 0)
    }

    fn size(&self) -> usize {
        self.groups.size()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        self.groups.resize(1);
        Ok(vec![ScalarValue::Binary(self.groups.key(0).map(<[u8]>::to_vec))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let n = states.first().map_or(0, |v| v.len());
        GroupsAccumulator::merge_batch(&mut self.groups, states, &vec![0; n], 1)
    }
}
