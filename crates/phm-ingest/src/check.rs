//! The record checks every format shares: dates, codes, NHS numbers, plausible values.
//!
//! Each check returns a [`Problem`] naming the field, a short kind (for counting) and a reason
//! a data manager can act on. The plausible ranges are data: `reference/plausibility.csv`.

use std::sync::LazyLock;

use chrono::NaiveDate;
use phm_core::codes::{CodeSystem, check_code};
use phm_core::nhs_number::NhsNumber;
use phm_core::reference::PlausibleRanges;

/// Why a record is rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Field (FHIR path or column).
    pub field: String,
    /// Reason class, for counting.
    pub kind: &'static str,
    /// Full reason.
    pub reason: String,
}

/// A problem with `field`.
pub fn problem(field: &str, kind: &'static str, reason: impl Into<String>) -> Problem {
    Problem { field: field.to_owned(), kind, reason: reason.into() }
}

/// Birth and death of the person a record is about, as its source knows them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lifespan {
    /// Date of birth, if known to the day.
    pub birth: Option<NaiveDate>,
    /// Date of death, if dead.
    pub death: Option<NaiveDate>,
}

/// Oldest plausible age at the extract date for someone not known to have died.
pub const MAX_AGE_YEARS: i32 = 120;

/// Parses a FHIR `date` or `dateTime` (or a CSV date) to its calendar date. Partial dates
/// (`2020`, `2020-05`) are refused: the canonical tables hold days.
pub fn parse_date(field: &str, text: &str) -> Result<NaiveDate, Problem> {
    let t = text.trim();
    let day = t.get(..10).unwrap_or(t);
    let bad = || problem(field, "invalid date", format!("`{}` is not a date (expected YYYY-MM-DD, or a FHIR dateTime)", cut(t)));
    if t.len() < 10 {
        if t.len() == 4 || t.len() == 7 {
            if t.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
                return Err(problem(field, "partial date", format!("`{t}` gives only the year or month; a full date is needed")));
            }
        }
        return Err(bad());
    }
    if t.len() > 10 && !matches!(t.as_bytes()[10], b'T' | b' ') {
        return Err(bad());
    }
    NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| bad())
}

/// Checks an event's date: not after the extract date, not before birth, not after death.
pub fn event_date(field: &str, date: NaiveDate, life: &Lifespan, extract_date: NaiveDate) -> Result<(), Problem> {
    if date > extract_date {
        return Err(problem(field, "date in the future", format!("{date} is after the extract date {extract_date}")));
    }
    if let Some(birth) = life.birth {
        if date < birth {
            return Err(problem(field, "date before birth", format!("{date} is before the date of birth {birth}")));
        }
    }
    if let Some(death) = life.death {
        if date > death {
            return Err(problem(field, "date after death", format!("{date} is after the date of death {death}")));
        }
    }
    Ok(())
}

/// Checks a date of birth (and death) against the extract date.
pub fn birth_and_death(birth: Option<NaiveDate>, death: Option<NaiveDate>, extract_date: NaiveDate, birth_field: &str, death_field: &str) -> Result<(), Problem> {
    if let Some(b) = birth {
        if b > extract_date {
            return Err(problem(birth_field, "date in the future", format!("date of birth {b} is after the extract date {extract_date}")));
        }
        let oldest = extract_date.checked_sub_months(chrono::Months::new(12 * MAX_AGE_YEARS as u32)).unwrap_or(extract_date);
        if death.is_none() && b < oldest {
            return Err(problem(birth_field, "implausible age", format!("date of birth {b} makes the person over {MAX_AGE_YEARS} at the extract date, with no death recorded")));
        }
    }
    if let Some(d) = death {
        if d > extract_date {
            return Err(problem(death_field, "date in the future", format!("date of death {d} is after the extract date {extract_date}")));
        }
        if let Some(b) = birth {
            if d < b {
                return Err(problem(death_field, "death before birth", format!("date of death {d} is before the date of birth {b}")));
            }
        }
    }
    Ok(())
}

/// Parses an NHS number, naming the field on failure (the number itself is not repeated in the
/// reason: quarantine reasons are counted and shown in reports).
pub fn nhs_number(field: &str, text: &str) -> Result<NhsNumber, Problem> {
    NhsNumber::parse(text).map_err(|e| {
        let why = match e {
            phm_core::Error::NhsNumber { reason, .. } => reason,
            _ => "not a valid NHS number",
        };
        problem(field, "invalid NHS number", format!("not a valid NHS number: {why}"))
    })
}

/// Checks a code in a named system; ICD-10 and OPCS-4 codes written with a dot (`E11.9`) are
/// stored without it, as in HES.
pub fn code(field: &str, system: CodeSystem, code: &str) -> Result<String, Problem> {
    let normalised = match system {
        CodeSystem::Icd10 | CodeSystem::Opcs4 => code.trim().replace('.', ""),
        _ => code.trim().to_owned(),
    };
    check_code(system, &normalised)
        .map(|()| normalised.clone())
        .map_err(|e| problem(field, "invalid code", format!("`{}` is not a valid {} code: {}", cut(code), system.name(), e.reason())))
}

/// The plausible ranges; `phm-core`'s tests check the committed file parses.
static RANGES: LazyLock<PlausibleRanges> = LazyLock::new(|| PlausibleRanges::builtin().unwrap_or_default());

/// Checks a measured value against the plausible range of its code, when the unit is the
/// range's own (or not given).
pub fn plausible(field: &str, system: CodeSystem, code: &str, value: f64, unit: Option<&str>) -> Result<(), Problem> {
    if !value.is_finite() {
        return Err(problem(field, "implausible value", format!("{value} is not a number")));
    }
    let Some(r) = RANGES.get(system.name(), code) else { return Ok(()) };
    if unit.is_some_and(|u| !u.is_empty() && u != r.unit) {
        return Ok(());
    }
    if value < r.min || value > r.max {
        return Err(problem(field, "implausible value", format!("{} of {value} is outside the plausible range {} to {} {}", r.term, r.min, r.max, r.unit)));
    }
    Ok(())
}

/// At most 60 characters of a value, for reasons.
pub fn cut(text: &str) -> String {
    cut_to(text, 60)
}

/// At most `n` characters of `text`, the last a `…` when it was cut.
pub fn cut_to(text: &str, n: usize) -> String {
    if text.chars().count() <= n { text.to_owned() } else { format!("{}…", text.chars().take(n.saturating_sub(1)).collect::<String>()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn dates_and_datetimes_parse_and_partial_dates_are_named() {
        assert_eq!(parse_date("x", "2020-08-18").expect("date"), d("2020-08-18"));
        assert_eq!(parse_date("x", "2020-08-18T10:00:00+01:00").expect("datetime"), d("2020-08-18"));
        assert_eq!(parse_date("x", "2020-08").expect_err("partial").kind, "partial date");
        assert_eq!(parse_date("x", "18/08/2020").expect_err("bad").kind, "invalid date");
        assert_eq!(parse_date("x", "2020-02-30").expect_err("bad").kind, "invalid date");
        assert_eq!(parse_date("x", "2020-08-18X").expect_err("bad").kind, "invalid date");
    }

    #[test]
    fn event_dates_must_fall_in_life_and_before_the_extract() {
        let life = Lifespan { birth: Some(d("1950-01-01")), death: Some(d("2020-01-01")) };
        let extract = d("2026-09-30");
        assert!(event_date("f", d("2019-12-31"), &life, extract).is_ok());
        assert_eq!(event_date("f", d("1949-12-31"), &life, extract).expect_err("").kind, "date before birth");
        assert_eq!(event_date("f", d("2020-01-02"), &life, extract).expect_err("").kind, "date after death");
        assert_eq!(event_date("f", d("2026-10-01"), &Lifespan::default(), extract).expect_err("").kind, "date in the future");
    }

    #[test]
    fn plausible_ranges_come_from_the_reference_file() {
        assert!(plausible("v", CodeSystem::Snomed, "60621009", 25.0, Some("kg/m2")).is_ok());
        assert_eq!(plausible("v", CodeSystem::Snomed, "60621009", 250.0, Some("kg/m2")).expect_err("").kind, "implausible value");
        // Another unit: no range to apply.
        assert!(plausible("v", CodeSystem::Snomed, "60621009", 250.0, Some("lb/in2")).is_ok());
        assert!(plausible("v", CodeSystem::Snomed, "123", 1e9, None).is_ok());
    }

    #[test]
    fn icd10_dots_are_removed_and_bad_codes_named() {
        assert_eq!(code("c", CodeSystem::Icd10, "E11.9").expect("icd"), "E119");
        let p = code("c", CodeSystem::Snomed, "38341004").expect_err("check digit");
        assert!(p.reason.contains("Verhoeff"), "{}", p.reason);
    }
}
