//! The checks' thresholds and plain-English descriptions: `reference/quality-thresholds.csv`.
//!
//! One row per rule: `check_name,table,field,source_type,threshold,unit,description`. A row with
//! `table`, `field` and `source_type` empty is the check's default, and its `description` is the
//! template every result of the check is described with (`{table}` and `{field}` are filled in).
//! A row naming any of them overrides the threshold where all the named ones match, the most
//! specific row winning; its description says why the threshold differs there. A check fails
//! when its value is above the threshold (DQD: `pctViolated > threshold`), so a threshold of 0
//! fails on one row.

use serde::Serialize;

use crate::checks::CHECKS;
use crate::{Error, Result};

/// What a check's value and threshold measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Percent of the denominator violating.
    Percent,
    /// Days.
    Days,
}

impl Unit {
    /// The name used in the thresholds file and the CSV output.
    pub fn name(self) -> &'static str {
        match self {
            Self::Percent => "percent",
            Self::Days => "days",
        }
    }
}

/// One row of the thresholds file.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// Check name.
    pub check: String,
    /// Table it applies to; empty for any.
    pub table: String,
    /// Field it applies to; empty for any.
    pub field: String,
    /// Kind of source it applies to; empty for any.
    pub source_type: String,
    /// Highest passing value.
    pub threshold: f64,
    /// Unit of the value and threshold.
    pub unit: Unit,
    /// For a default row, the description template; for an override, why it differs.
    pub description: String,
}

impl Rule {
    fn is_default(&self) -> bool {
        self.table.is_empty() && self.field.is_empty() && self.source_type.is_empty()
    }
}

/// The threshold and description that apply to one check result.
#[derive(Clone, Debug, PartialEq)]
pub struct Applied {
    /// Highest passing value.
    pub threshold: f64,
    /// Unit.
    pub unit: Unit,
    /// The check's description with table and field filled in.
    pub description: String,
}

/// Every rule of the thresholds file.
#[derive(Clone, Debug)]
pub struct Thresholds {
    rules: Vec<Rule>,
}

const FILE: &str = include_str!("../../../reference/quality-thresholds.csv");

impl Thresholds {
    /// The thresholds compiled into this build.
    pub fn builtin() -> Result<Self> {
        Self::parse(FILE)
    }

    /// Parses a thresholds file, checking that every check has exactly one default row and
    /// that every row names a check this crate runs.
    pub fn parse(text: &str) -> Result<Self> {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let expected = ["check_name", "table", "field", "source_type", "threshold", "unit", "description"];
        let headers = reader.headers().map_err(|e| Error::Thresholds { line: 1, message: e.to_string() })?;
        if headers.iter().collect::<Vec<_>>() != expected {
            return Err(Error::Thresholds { line: 1, message: format!("the header must be `{}`", expected.join(",")) });
        }
        let mut rules = Vec::new();
        for (i, record) in reader.records().enumerate() {
            let line = i as u64 + 2;
            let bad = |message: String| Error::Thresholds { line, message };
            let record = record.map_err(|e| bad(e.to_string()))?;
            let get = |k: usize| record.get(k).unwrap_or_default().trim().to_owned();
            let check = get(0);
            if !CHECKS.iter().any(|c| c.name == check) {
                return Err(bad(format!("`{check}` is not a check this build runs")));
            }
            let threshold: f64 = get(4).parse().map_err(|_| bad(format!("threshold `{}` is not a number", get(4))))?;
            if threshold.is_nan() || threshold < 0.0 {
                return Err(bad(format!("threshold {threshold} is negative")));
            }
            let unit = match get(5).as_str() {
                "percent" => Unit::Percent,
                "days" => Unit::Days,
                other => return Err(bad(format!("unit `{other}` is not `percent` or `days`"))),
            };
            if unit == Unit::Percent && threshold > 100.0 {
                return Err(bad(format!("threshold {threshold} is over 100 percent")));
            }
            let rule =
                Rule { check, table: get(1), field: get(2), source_type: get(3), threshold, unit, description: get(6) };
            if rule.description.is_empty() {
                return Err(bad("the description is empty".to_owned()));
            }
            if rules.iter().any(|r: &Rule| {
                (&r.check, &r.table, &r.field, &r.source_type)
                    == (&rule.check, &rule.table, &rule.field, &rule.source_type)
            }) {
                return Err(bad(format!(
                    "a second row for `{}` with the same table, field and source type",
                    rule.check
                )));
            }
            if let Some(d) =
                rules.iter().find(|r: &&Rule| r.check == rule.check && r.is_default()).filter(|d| d.unit != rule.unit)
            {
                return Err(bad(format!(
                    "unit `{}` differs from the default row's `{}`",
                    rule.unit.name(),
                    d.unit.name()
                )));
            }
            rules.push(rule);
        }
        for c in CHECKS {
            if !rules.iter().any(|r| r.check == c.name && r.is_default()) {
                return Err(Error::Thresholds {
                    line: 0,
                    message: format!("check `{}` has no default row (empty table, field and source type)", c.name),
                });
            }
        }
        Ok(Self { rules })
    }

    /// Every rule, in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The threshold and description for `check` on `table.field` of a source of `source_type`.
    pub fn get(&self, check: &str, table: &str, field: &str, source_type: &str) -> Applied {
        let matches = |r: &&Rule| {
            r.check == check
                && (r.table.is_empty() || r.table == table)
                && (r.field.is_empty() || r.field == field)
                && (r.source_type.is_empty() || r.source_type == source_type)
        };
        let specificity = |r: &Rule| [&r.table, &r.field, &r.source_type].iter().filter(|s| !s.is_empty()).count();
        let mut best: Option<&Rule> = None;
        for r in self.rules.iter().filter(matches) {
            if best.is_none_or(|b| specificity(r) > specificity(b)) {
                best = Some(r);
            }
        }
        let default = self.rules.iter().find(|r| r.check == check && r.is_default());
        let template = default.map_or("", |d| d.description.as_str());
        let description =
            template.replace("{table}", table).replace("{field}", if field.is_empty() { "the row" } else { field });
        match best {
            Some(r) => Applied { threshold: r.threshold, unit: r.unit, description },
            // `parse` refused a file without a default row for every check.
            None => Applied { threshold: 0.0, unit: Unit::Percent, description },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_file_parses_and_covers_every_check() {
        let t = Thresholds::builtin().expect("reference/quality-thresholds.csv");
        for c in CHECKS {
            assert!(t.rules().iter().any(|r| r.check == c.name), "{}", c.name);
        }
    }

    #[test]
    fn the_most_specific_rule_wins_and_the_default_describes() {
        let t = Thresholds::builtin().expect("thresholds");
        let a = t.get("measureValueCompleteness", "person_source", "practice_code", "local_authority");
        assert_eq!(a.threshold, 100.0);
        assert_eq!(a.description, "Rows of person_source with no value in practice_code.");
        assert_eq!(t.get("measureValueCompleteness", "person_source", "practice_code", "acute_trust").threshold, 5.0);
        assert_eq!(
            t.get("measureValueCompleteness", "person_source", "ethnic_category", "gp_practice").threshold,
            10.0
        );
        assert_eq!(t.get("sourceTimeliness", "", "", "gp_practice").unit, Unit::Days);
    }

    #[test]
    fn a_malformed_file_is_refused_with_its_line() {
        let head = "check_name,table,field,source_type,threshold,unit,description\n";
        let e =
            Thresholds::parse(&format!("{head}noSuchCheck,,,,0,percent,x\n")).expect_err("unknown check").to_string();
        assert!(e.contains("line 2") && e.contains("noSuchCheck"), "{e}");
        let e =
            Thresholds::parse(&format!("{head}isRequired,,,,lots,percent,x\n")).expect_err("bad number").to_string();
        assert!(e.contains("line 2") && e.contains("lots"), "{e}");
        let e =
            Thresholds::parse(&format!("{head}isRequired,,,,0,percent,x\n")).expect_err("missing checks").to_string();
        assert!(e.contains("no default row"), "{e}");
    }
}
