//! `phm_person_key_hi(person_id)` and `phm_person_key_lo(person_id)`: a person's pseudonym as
//! two 64-bit integers, so plans group and join people on fixed-width keys instead of
//! 32-character text.
//!
//! The store keeps every `person_id` as phm-identity writes it: 32 lower-case hexadecimal
//! digits (128 bits). The first 16 digits are the high half, the last 16 the low half, read
//! as an unsigned number and kept bit for bit in an `Int64`. That is a one-to-one map, so two
//! rows share a key exactly when they share a pseudonym: grouping and joining on the pair
//! give the same result as on the text. A value that is not 32 lower-case hex digits is an
//! error naming it, never a key that could collide with another person's; a missing value
//! is a missing key (it groups with other missing keys and joins nothing, as text does).
//!
//! Measured on the 1.1M catalogue (bench/engine.sh): see ARCHITECTURE.md, phm-engine.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// Which half of the pseudonym a function returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Half {
    High,
    Low,
}

/// The scalar UDF behind `phm_person_key_hi` / `phm_person_key_lo`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PersonKey {
    half: Half,
    signature: Signature,
}

impl PersonKey {
    fn new(half: Half) -> Self {
        PersonKey {
            half,
            signature: Signature::uniform(1, vec![DataType::Utf8, DataType::Utf8View], Volatility::Immutable),
        }
    }
}

/// `phm_person_key_hi`.
pub fn key_hi() -> ScalarUDF {
    ScalarUDF::from(PersonKey::new(Half::High))
}

/// `phm_person_key_lo`.
pub fn key_lo() -> ScalarUDF {
    ScalarUDF::from(PersonKey::new(Half::Low))
}

/// Both halves of `person_id` as expressions, high first.
pub(crate) fn keys(person_id: Expr) -> [Expr; 2] {
    [key_hi().call(vec![person_id.clone()]), key_lo().call(vec![person_id])]
}

/// Each byte's value as a lower-case hex digit, or `NOT_HEX`.
const NOT_HEX: u8 = 0xff;
const HEX: [u8; 256] = {
    let mut t = [NOT_HEX; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// 16 lower-case hex digits as a 64-bit number. Without a branch per digit: a digit's
/// value comes from a table, and one check at the end finds any byte that is not a digit
/// (random hex would mispredict a per-digit branch about half the time).
fn hex16(digits: &[u8]) -> Option<u64> {
    let mut v = 0u64;
    let mut bad = 0u8;
    for &c in digits {
        let d = HEX[c as usize];
        bad |= d & 0xf0;
        v = (v << 4) | u64::from(d & 0x0f);
    }
    (bad == 0).then_some(v)
}

/// Whether `text` is a pseudonym as the store keeps it: 32 lower-case hex digits, the only
/// values these keys accept.
pub fn is_pseudonym(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 32 && hex16(&bytes[..16]).is_some() && hex16(&bytes[16..]).is_some()
}

/// The key half of one pseudonym, or why it is not one.
fn key(half: Half, pseudonym: &str) -> Result<i64> {
    let bytes = pseudonym.as_bytes();
    let digits = (bytes.len() == 32).then(|| match half {
        Half::High => &bytes[..16],
        Half::Low => &bytes[16..],
    });
    match digits.and_then(hex16) {
        // The bits as they are: the map stays one-to-one.
        Some(v) => Ok(v as i64),
        None => {
            exec_err!("person_id `{pseudonym}` is not a pseudonym: the store keeps 32 lower-case hexadecimal digits")
        }
    }
}

impl PersonKey {
    /// The keys of `len` values, missing where the value is.
    fn keys<'a>(&self, len: usize, nulls: Option<&NullBuffer>, value: impl Fn(usize) -> &'a str) -> Result<Int64Array> {
        let mut values = Vec::with_capacity(len);
        for i in 0..len {
            // A missing pseudonym's slot is never read (the null mask covers it).
            values.push(if nulls.is_some_and(|n| n.is_null(i)) { 0 } else { key(self.half, value(i))? });
        }
        Ok(Int64Array::new(values.into(), nulls.cloned()))
    }
}

impl ScalarUDFImpl for PersonKey {
    fn name(&self) -> &str {
        match self.half {
            Half::High => "phm_person_key_hi",
            Half::Low => "phm_person_key_lo",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [arg] = args.args.as_slice() else {
            return exec_err!("{} takes one argument, `person_id`", self.name());
        };
        match arg {
            ColumnarValue::Scalar(ScalarValue::Utf8(v) | ScalarValue::Utf8View(v)) => {
                Ok(ColumnarValue::Scalar(ScalarValue::Int64(v.as_deref().map(|p| key(self.half, p)).transpose()?)))
            }
            ColumnarValue::Scalar(other) => exec_err!("{} takes text, not {}", self.name(), other.data_type()),
            ColumnarValue::Array(array) => {
                let out = if let Some(text) = array.as_string_opt::<i32>() {
                    self.keys(text.len(), text.nulls(), |i| text.value(i))?
                } else if let Some(text) = array.as_string_view_opt() {
                    self.keys(text.len(), text.nulls(), |i| text.value(i))?
                } else {
                    return exec_err!("{} takes text, not {}", self.name(), array.data_type());
                };
                Ok(ColumnarValue::Array(Arc::new(out) as ArrayRef))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_two_halves_are_the_pseudonym_read_as_a_number() {
        let p = "0123456789abcdef fedcba9876543210".replace(' ', "");
        assert_eq!(key(Half::High, &p).expect("a pseudonym"), 0x0123_4567_89ab_cdef);
        assert_eq!(key(Half::Low, &p).expect("a pseudonym") as u64, 0xfedc_ba98_7654_3210);
    }

    #[test]
    fn anything_that_is_not_32_lower_case_hex_digits_is_refused_by_name() {
        for bad in [
            "0123456789ABCDEF0123456789abcdef",
            "0123456789abcdef",
            "0123456789abcdef0123456789abcdeg",
            " 123456789abcdef0123456789abcdef",
        ] {
            assert!(!is_pseudonym(bad), "{bad}");
            let err = key(Half::High, bad).and_then(|_| key(Half::Low, bad)).expect_err("not a pseudonym").to_string();
            assert!(err.contains(&format!("`{bad}`")) && err.contains("32 lower-case hexadecimal digits"), "{err}");
        }
    }

    proptest::proptest! {
        /// One-to-one: two pseudonyms get the same pair of keys only when they are equal,
        /// and the pair gives the pseudonym back.
        #[test]
        fn the_pair_of_keys_gives_the_pseudonym_back(a in proptest::array::uniform16(proptest::num::u8::ANY), b in proptest::array::uniform16(proptest::num::u8::ANY)) {
            let (pa, pb) = (hex::encode(a), hex::encode(b));
            proptest::prop_assert!(is_pseudonym(&pa) && is_pseudonym(&pb));
            let ka = (key(Half::High, &pa).expect("a pseudonym"), key(Half::Low, &pa).expect("a pseudonym"));
            let kb = (key(Half::High, &pb).expect("a pseudonym"), key(Half::Low, &pb).expect("a pseudonym"));
            proptest::prop_assert_eq!(format!("{:016x}{:016x}", ka.0 as u64, ka.1 as u64), pa.clone());
            proptest::prop_assert_eq!(ka == kb, pa == pb);
        }
    }
}
