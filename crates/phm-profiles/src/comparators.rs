//! England's values for benchmarking, from a reference file with their source and period.
//!
//! The file (by default `reference/england.csv`) has the columns
//! `indicator,period,value,lower_95,upper_95,source`: a row per indicator and period, the value
//! in the indicator's unit, the limits optional. Only `all` rows of a profile are compared with
//! England, using the indicator's latest period in the file (periods compare as text, so write
//! them alike, e.g. `2020-22` and `2023-25`).

use std::collections::BTreeMap;
use std::path::Path;

use crate::{Error, Result};

/// England's value of one indicator.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct Comparator {
    /// Indicator name, as in the definitions.
    pub indicator: String,
    /// The period the value is for, e.g. `2022/23`.
    pub period: String,
    /// The value, in the indicator's unit.
    pub value: f64,
    /// 95% lower limit, if published.
    pub lower_95: Option<f64>,
    /// 95% upper limit, if published.
    pub upper_95: Option<f64>,
    /// Where the figure was read.
    pub source: String,
}

/// England's values by indicator name and period.
#[derive(Clone, Debug, Default)]
pub struct England(BTreeMap<(String, String), Comparator>);

impl England {
    /// No comparators.
    pub fn none() -> Self {
        Self::default()
    }

    /// Reads the comparators file.
    ///
    /// # Errors
    /// A file that cannot be read, a row that does not parse (naming the line and the problem),
    /// an empty source, or an indicator given twice.
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.display().to_string(), source })?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// Parses comparators from CSV text; `origin` names the file in errors.
    ///
    /// # Errors
    /// As [`England::load`].
    pub fn parse(origin: &str, text: &str) -> Result<Self> {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let headers = reader.headers().map_err(|e| Error::Invalid(format!("{origin}: {e}")))?.clone();
        for want in ["indicator", "period", "value", "source"] {
            if !headers.iter().any(|h| h == want) {
                return Err(Error::Invalid(format!(
                    "{origin}: no column `{want}` (expected indicator,period,value,lower_95,upper_95,source)"
                )));
            }
        }
        let mut out = BTreeMap::new();
        for (i, row) in reader.deserialize::<Comparator>().enumerate() {
            let line = i + 2;
            let row = row.map_err(|e| Error::Invalid(format!("{origin} line {line}: {e}")))?;
            if row.source.trim().is_empty() {
                return Err(Error::Invalid(format!(
                    "{origin} line {line}: `source` is empty: say where the value was read"
                )));
            }
            if !row.value.is_finite() {
                return Err(Error::Invalid(format!("{origin} line {line}: `value` must be a number")));
            }
            if let Some(prev) = out.insert((row.indicator.clone(), row.period.clone()), row) {
                return Err(Error::Invalid(format!(
                    "{origin} line {line}: `{}` is given twice for {}",
                    prev.indicator, prev.period
                )));
            }
        }
        Ok(Self(out))
    }

    /// England's value of an indicator, for its latest period in the file.
    pub fn get(&self, indicator: &str) -> Option<&Comparator> {
        self.0
            .range((indicator.to_owned(), String::new())..)
            .take_while(|((i, _), _)| i == indicator)
            .last()
            .map(|(_, c)| c)
    }

    /// Every comparator.
    pub fn iter(&self) -> impl Iterator<Item = &Comparator> {
        self.0.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_values_with_their_source() {
        let e = England::parse(
            "england.csv",
            "indicator,period,value,lower_95,upper_95,source\nx,2022/23,14.4,,,QOF 2022-23\n",
        )
        .expect("parses");
        assert_eq!(e.get("x").map(|c| c.value), Some(14.4));
    }

    #[test]
    fn the_latest_period_is_the_comparator() {
        let e = England::parse("england.csv", "indicator,period,value,lower_95,upper_95,source\nle,2023-25,79.7,,,F\nle,2020-22,78.9,,,O\nlf,2020-22,1,,,O\n").expect("parses");
        assert_eq!(e.get("le").map(|c| c.period.as_str()), Some("2023-25"));
        assert!(
            England::parse(
                "e.csv",
                "indicator,period,value,lower_95,upper_95,source\nle,2023-25,79.7,,,F\nle,2023-25,1,,,F\n"
            )
            .is_err()
        );
    }

    #[test]
    fn names_the_line_of_a_bad_value() {
        let err =
            England::parse("england.csv", "indicator,period,value,lower_95,upper_95,source\nx,2022/23,lots,,,QOF\n")
                .expect_err("fails");
        assert!(err.to_string().starts_with("england.csv line 2:"), "{err}");
    }

    #[test]
    fn a_value_needs_a_source() {
        let err = England::parse("england.csv", "indicator,period,value,lower_95,upper_95,source\nx,2022/23,1,,, \n")
            .expect_err("fails");
        assert!(err.to_string().contains("`source` is empty"), "{err}");
    }
}
