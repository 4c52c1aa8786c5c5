//! NHS numbers: ten digits, the last a Modulus 11 check digit.
//!
//! Weights 10..=2 apply to the first nine digits; the check digit is `11 - (sum mod 11)`, where
//! 11 becomes 0 and 10 means the number is invalid (NHS Data Dictionary, "NHS Number").
//! Numbers starting with 999 are reserved for test data and are never issued to people.

use std::fmt;

use crate::{Error, Result};

/// A ten-digit NHS number whose check digit is valid.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NhsNumber(u64);

/// The check digit for the first nine digits, or `None` if no valid number starts with them.
pub fn check_digit(first_nine: u64) -> Option<u8> {
    let mut sum = 0u64;
    let mut rest = first_nine;
    // Digit i (0-based from the left) has weight 10 - i; walk from the right.
    for weight in 2..=10u64 {
        sum += (rest % 10) * weight;
        rest /= 10;
    }
    match 11 - (sum % 11) {
        11 => Some(0),
        10 => None,
        d => Some(u8::try_from(d).unwrap_or(0)),
    }
}

impl NhsNumber {
    /// Builds the NHS number that starts with these nine digits, if its check digit exists.
    pub fn from_first_nine(first_nine: u64) -> Option<Self> {
        if first_nine > 999_999_999 {
            return None;
        }
        check_digit(first_nine).map(|d| Self(first_nine * 10 + u64::from(d)))
    }

    /// Parses ten digits, allowing the `3 3 4` spacing used on paper (`943 476 5919`).
    pub fn parse(text: &str) -> Result<Self> {
        let err = |reason| Error::NhsNumber { value: text.to_owned(), reason };
        let digits: String = text.chars().filter(|c| *c != ' ').collect();
        if digits.len() != 10 {
            return Err(err("expected 10 digits"));
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err("expected only digits"));
        }
        let value: u64 = digits.parse().map_err(|_| err("expected only digits"))?;
        match check_digit(value / 10) {
            Some(d) if u64::from(d) == value % 10 => Ok(Self(value)),
            Some(_) => Err(err("the check digit (Modulus 11) does not match")),
            None => Err(err("no valid NHS number has these first nine digits (Modulus 11 gives 10)")),
        }
    }

    /// Whether the number lies in the 999 range reserved for test data.
    pub fn is_test_range(self) -> bool {
        self.0 / 10_000_000 == 999
    }

    /// The number as an integer.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:010}", self.0)
    }
}

impl fmt::Debug for NhsNumber {
    // Never print a real NHS number in logs or panics.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NhsNumber(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_data_dictionary_example() {
        // 943 476 5919 is the NHS Data Dictionary's worked example.
        let n = NhsNumber::parse("943 476 5919").expect("valid");
        assert_eq!(n.to_string(), "9434765919");
        assert!(!n.is_test_range());
    }

    #[test]
    fn rejects_a_wrong_check_digit_and_bad_shapes() {
        assert!(NhsNumber::parse("9434765918").is_err());
        assert!(NhsNumber::parse("943476591").is_err());
        assert!(NhsNumber::parse("94347659l9").is_err());
    }

    #[test]
    fn every_generated_number_round_trips() {
        let mut valid = 0;
        for first_nine in 999_000_000..999_001_000 {
            if let Some(n) = NhsNumber::from_first_nine(first_nine) {
                valid += 1;
                assert!(n.is_test_range());
                assert_eq!(NhsNumber::parse(&n.to_string()).expect("round trip"), n);
            }
        }
        // About one prefix in eleven has no valid check digit.
        assert!((900..=925).contains(&valid), "{valid}");
    }
}
