//! Reading a snapshot's Parquet files column-wise, batch by batch, and the compact keys the
//! checks hold in memory.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, DefaultHasher, Hash as _, Hasher};
use std::path::Path;

use arrow_array::{Array, BooleanArray, Date32Array, Float64Array, Int16Array, Int64Array, RecordBatch, StringArray};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::{Error, Result};

/// Rows per batch read.
const BATCH_ROWS: usize = 65_536;

/// Calls `f` with each batch of `path`, holding only `columns`.
pub(crate) fn scan(path: &Path, columns: &[&str], mut f: impl FnMut(&Batch<'_>) -> Result<()>) -> Result<()> {
    let file = std::fs::File::open(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
    let parquet = |source| Error::Parquet { path: path.to_owned(), source };
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(parquet)?;
    for c in columns {
        if builder.schema().field_with_name(c).is_err() {
            return Err(Error::MissingColumn { path: path.to_owned(), column: (*c).to_owned() });
        }
    }
    let mask = ProjectionMask::columns(builder.parquet_schema(), columns.iter().copied());
    let reader = builder.with_projection(mask).with_batch_size(BATCH_ROWS).build().map_err(parquet)?;
    for batch in reader {
        let batch = batch.map_err(|e| parquet(e.into()))?;
        f(&Batch { batch: &batch, path })?;
    }
    Ok(())
}

/// One batch of a file, with typed access to its columns by name.
pub(crate) struct Batch<'a> {
    batch: &'a RecordBatch,
    path: &'a Path,
}

impl<'a> Batch<'a> {
    /// Rows.
    pub(crate) fn len(&self) -> usize {
        self.batch.num_rows()
    }

    fn typed<A: Array + 'static>(&self, name: &str, expected: &'static str) -> Result<&'a A> {
        self.batch.column_by_name(name).and_then(|c| c.as_any().downcast_ref::<A>()).ok_or_else(|| Error::Column {
            path: self.path.to_owned(),
            column: name.to_owned(),
            expected,
        })
    }

    /// A text column.
    pub(crate) fn text(&self, name: &str) -> Result<&'a StringArray> {
        self.typed(name, "Utf8")
    }

    /// A date column.
    pub(crate) fn date(&self, name: &str) -> Result<&'a Date32Array> {
        self.typed(name, "Date32")
    }

    /// A 16-bit integer column.
    pub(crate) fn small(&self, name: &str) -> Result<&'a Int16Array> {
        self.typed(name, "Int16")
    }

    /// A float column.
    pub(crate) fn float(&self, name: &str) -> Result<&'a Float64Array> {
        self.typed(name, "Float64")
    }

    /// A boolean column.
    pub(crate) fn bool(&self, name: &str) -> Result<&'a BooleanArray> {
        self.typed(name, "Boolean")
    }

    /// Rows with a null in any of `columns`.
    pub(crate) fn rows_with_a_null(&self, columns: &[&str]) -> Result<u64> {
        let mut arrays = Vec::new();
        for c in columns {
            let a = self
                .batch
                .column_by_name(c)
                .ok_or_else(|| Error::MissingColumn { path: self.path.to_owned(), column: (*c).to_owned() })?;
            if a.null_count() > 0 {
                arrays.push(a);
            }
        }
        if arrays.is_empty() {
            return Ok(0);
        }
        Ok((0..self.len()).filter(|&i| arrays.iter().any(|a| a.is_null(i))).count() as u64)
    }

    /// A 64-bit hash of each row's values in `columns` (nulls distinct from every value).
    pub(crate) fn row_hashes(&self, columns: &[&str]) -> Result<Vec<u64>> {
        enum Col<'c> {
            Text(&'c StringArray),
            Date(&'c Date32Array),
            Small(&'c Int16Array),
            Int(&'c Int64Array),
            Float(&'c Float64Array),
            Bool(&'c BooleanArray),
        }
        let mut cols = Vec::with_capacity(columns.len());
        for name in columns {
            let a = self
                .batch
                .column_by_name(name)
                .ok_or_else(|| Error::MissingColumn { path: self.path.to_owned(), column: (*name).to_owned() })?;
            let any = a.as_any();
            let col = if let Some(a) = any.downcast_ref::<StringArray>() {
                Col::Text(a)
            } else if let Some(a) = any.downcast_ref::<Date32Array>() {
                Col::Date(a)
            } else if let Some(a) = any.downcast_ref::<Int16Array>() {
                Col::Small(a)
            } else if let Some(a) = any.downcast_ref::<Int64Array>() {
                Col::Int(a)
            } else if let Some(a) = any.downcast_ref::<Float64Array>() {
                Col::Float(a)
            } else if let Some(a) = any.downcast_ref::<BooleanArray>() {
                Col::Bool(a)
            } else {
                return Err(Error::Column {
                    path: self.path.to_owned(),
                    column: (*name).to_owned(),
                    expected: "a canonical column type (text, date, int16, int64, float64, bool)",
                });
            };
            cols.push(col);
        }
        let mut out = Vec::with_capacity(self.len());
        for i in 0..self.len() {
            let mut h = DefaultHasher::new();
            for c in &cols {
                let valid = match c {
                    Col::Text(a) => a.is_valid(i),
                    Col::Date(a) => a.is_valid(i),
                    Col::Small(a) => a.is_valid(i),
                    Col::Int(a) => a.is_valid(i),
                    Col::Float(a) => a.is_valid(i),
                    Col::Bool(a) => a.is_valid(i),
                };
                h.write_u8(u8::from(valid));
                if !valid {
                    continue;
                }
                match c {
                    Col::Text(a) => a.value(i).hash(&mut h),
                    Col::Date(a) => h.write_i32(a.value(i)),
                    Col::Small(a) => h.write_i16(a.value(i)),
                    Col::Int(a) => h.write_i64(a.value(i)),
                    Col::Float(a) => h.write_u64(a.value(i).to_bits()),
                    Col::Bool(a) => h.write_u8(u8::from(a.value(i))),
                }
            }
            out.push(h.finish());
        }
        Ok(out)
    }
}

/// A value of a nullable primitive column.
pub(crate) fn opt<T: arrow_array::ArrowPrimitiveType>(
    a: &arrow_array::PrimitiveArray<T>,
    i: usize,
) -> Option<T::Native> {
    a.is_valid(i).then(|| a.value(i))
}

/// A value of a nullable text column.
pub(crate) fn opt_text(a: &StringArray, i: usize) -> Option<&str> {
    a.is_valid(i).then(|| a.value(i))
}

/// A person id as 128 bits: the 16 bytes of the pseudonym, which is written as 32 hex digits;
/// any other id (a test's `p1`) is hashed to 128 bits.
pub(crate) fn person_key(id: &str) -> u128 {
    if id.len() == 32
        && id.bytes().all(|b| b.is_ascii_hexdigit())
        && let Ok(v) = u128::from_str_radix(id, 16)
    {
        return v;
    }
    let half = |salt: u8| {
        let mut h = DefaultHasher::new();
        h.write_u8(salt);
        id.hash(&mut h);
        h.finish()
    };
    (u128::from(half(1)) << 64) | u128::from(half(2))
}

/// A 64-bit hash of a string.
pub(crate) fn hash_str(s: &str) -> u64 {
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// A hasher for keys that are already uniformly distributed (pseudonyms, hashes): it folds
/// them to 64 bits instead of hashing them again.
#[derive(Clone, Copy, Default)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Not used by the key types below; a plain FNV-1a keeps it correct if it is.
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
    fn write_u128(&mut self, v: u128) {
        self.0 = (v as u64) ^ ((v >> 64) as u64);
    }
}

/// A map keyed by a pseudonym or hash.
pub(crate) type KeyMap<K, V> = HashMap<K, V, BuildHasherDefault<KeyHasher>>;
/// A set of pseudonyms or hashes.
pub(crate) type KeySet<K> = HashSet<K, BuildHasherDefault<KeyHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_read_as_their_bytes_and_other_ids_hashed() {
        assert_eq!(person_key("000102030405060708090a0b0c0d0e0f"), 0x0001_0203_0405_0607_0809_0a0b_0c0d_0e0f);
        assert_ne!(person_key("p1"), person_key("p2"));
        assert_eq!(person_key("p1"), person_key("p1"));
    }
}
