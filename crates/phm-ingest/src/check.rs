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
    let bad = || {
        problem(field, "invalid date", format!("`{}` is not a date (expected YYYY-MM-DD, or a FHIR dateTime)", cut(t)))
    };
    if t.len() < 10 {
        if t.len() == 4 || t.len() == 7 {
            if t.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
                return Err(problem(
                    field,
                    "partial date",
                    format!("`{t}` gives only the year or month; a full date is needed"),
                ));
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
pub fn birth_and_death(
    birth: Option<NaiveDate>,
    death: Option<NaiveDate>,
    extract_date: NaiveDate,
    birth_field: &str,
    death_field: &str,
) -> Result<(), Problem> {
    if let Some(b) = birth {
        if b > extract_date {
            return Err(problem(
                birth_field,
                "date in the future",
                format!("date of birth {b} is after the extract date {extract_date}"),
            ));
        }
        let oldest =
            extract_date.checked_sub_months(chrono::Months::new(12 * MAX_AGE_YEARS as u32)).unwrap_or(extract_date);
        if death.is_none() && b < oldest {
            return Err(problem(
                birth_field,
                "implausible age",
                format!(
                    "date of birth {b} makes the person over {MAX_AGE_YEARS} at the extract date, with no death recorded"
                ),
            ));
        }
    }
    if let Some(d) = death {
        if d > extract_date {
            return Err(problem(
                death_field,
                "date in the future",
                format!("date of death {d} is after the extract date {extract_date}"),
            ));
        }
        if let Some(b) = birth {
            if d < b {
                return Err(problem(
                    death_field,
                    "death before birth",
                    format!("date of death {d} is before the date of birth {b}"),
                ));
            }
        }
    }
    Ok(())
}

/// Parses an NHS number, naming the field on failure (the number itself is not repeated in the
/// reason: quarantine reasons are counted and shown in reports). A placeholder that passes
/// Modulus 11 ([`placeholder_nhs_number`]) is refused too, with the kind
/// [`PLACEHOLDER_NHS_NUMBER`]: it is no one's number and would link unrelated people.
pub fn nhs_number(field: &str, text: &str) -> Result<NhsNumber, Problem> {
    let n = NhsNumber::parse(text).map_err(|e| {
        let why = match e {
            phm_core::Error::NhsNumber { reason, .. } => reason,
            _ => "not a valid NHS number",
        };
        problem(field, "invalid NHS number", format!("not a valid NHS number: {why}"))
    })?;
    match placeholder_nhs_number(n) {
        Some(why) => Err(problem(
            field,
            PLACEHOLDER_NHS_NUMBER,
            format!(
                "a placeholder, not a person's NHS number: {why}; it passes Modulus 11 but would link unrelated people"
            ),
        )),
        None => Ok(n),
    }
}

/// The kind of problem of a placeholder NHS number.
pub const PLACEHOLDER_NHS_NUMBER: &str = "placeholder NHS number";

/// Why `n` is a placeholder rather than a person's number, or `None`.
///
/// Systems fill a required NHS number with a number that passes Modulus 11 but belongs to no
/// one; taken at face value, every record filled that way links into one "person". Refused:
/// * all ten digits the same: every one of `0000000000` … `9999999999` passes Modulus 11 (the
///   weights 10..=2 sum to 54 ≡ −1 mod 11, so the check digit of `ddddddddd` is `d`);
/// * the runs `0123456789` and `9876543210`, which also pass (`1234567890` fails: its check
///   digit would be 10).
///
/// Numbers in the 999 range are not refused: they are reserved for test data and never issued,
/// but test and synthetic data use them as people's numbers.
pub fn placeholder_nhs_number(n: NhsNumber) -> Option<&'static str> {
    let digits = format!("{:010}", n.as_u64());
    let b = digits.as_bytes();
    if b.iter().all(|d| *d == b[0]) {
        return Some("all ten digits are the same, as in a default or filler value");
    }
    if digits == "0123456789" || digits == "9876543210" {
        return Some("a run of consecutive digits, as typed to fill a required field");
    }
    None
}

/// Checks a code in a named system; ICD-10 and OPCS-4 codes written with a dot (`E11.9`) are
/// stored without it, as in HES.
pub fn code(field: &str, system: CodeSystem, code: &str) -> Result<String, Problem> {
    let normalised = match system {
        CodeSystem::Icd10 | CodeSystem::Opcs4 => code.trim().replace('.', ""),
        _ => code.trim().to_owned(),
    };
    check_code(system, &normalised).map(|()| normalised.clone()).map_err(|e| {
        problem(field, "invalid code", format!("`{}` is not a valid {} code: {}", cut(code), system.name(), e.reason()))
    })
}

/// The plausible ranges; `phm-core`'s tests check the committed file parses.
static RANGES: LazyLock<PlausibleRanges> = LazyLock::new(|| PlausibleRanges::builtin().unwrap_or_default());

/// Checks a measured value against the plausible range of its code. The unit is normalised to
/// UCUM first ([`ucum_unit`]: `kg/m²`, `kg m-2` and `kg/m2` are one unit) and the value
/// converted to the range's unit (a height in m is checked in cm). A value of a code with a
/// range whose unit is unknown, or of another kind (a weight given for a BMI), is refused with
/// the unit named: a check skipped for a spelling would let any value through. No unit given:
/// the range's own unit is assumed.
pub fn plausible(field: &str, system: CodeSystem, code: &str, value: f64, unit: Option<&str>) -> Result<(), Problem> {
    if !value.is_finite() {
        return Err(problem(field, "implausible value", format!("{value} is not a number")));
    }
    let Some(r) = RANGES.get(system.name(), code) else { return Ok(()) };
    let value = match unit.map(str::trim).filter(|u| !u.is_empty()) {
        None => value,
        Some(u) => match (ucum_unit(u), ucum_unit(&r.unit)) {
            (Some(given), Some(range)) if given.dimension == range.dimension => value * given.factor / range.factor,
            (Some(given), Some(range)) => {
                return Err(problem(
                    field,
                    "wrong unit",
                    format!(
                        "`{}` ({}) is not a unit of {} ({}, a {})",
                        cut(u),
                        given.dimension,
                        r.term,
                        range.code,
                        range.dimension
                    ),
                ));
            }
            (None, Some(range)) => {
                return Err(problem(
                    field,
                    "unknown unit",
                    format!(
                        "`{}` is not a unit OpenPHM knows for {} (expected {} or another {} unit)",
                        cut(u),
                        r.term,
                        range.code,
                        range.dimension
                    ),
                ));
            }
            // The reference file names a unit this table lacks: compare as written.
            (_, None) if u == r.unit => value,
            (_, None) => {
                return Err(problem(
                    field,
                    "unknown unit",
                    format!("`{}` is not {}, the unit of the plausible range of {}", cut(u), r.unit, r.term),
                ));
            }
        },
    };
    if value < r.min || value > r.max {
        return Err(problem(
            field,
            "implausible value",
            format!("{} of {} is outside the plausible range {} to {} {}", r.term, short(value), r.min, r.max, r.unit),
        ));
    }
    Ok(())
}

fn short(v: f64) -> String {
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A unit in its UCUM form, with what it measures and its factor to that kind's base unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Unit {
    /// The UCUM code (`kg/m2`, `mm[Hg]`, `cm`).
    pub code: &'static str,
    /// What it measures (`length`, `mass`, ...); units of one kind convert by `factor`.
    pub dimension: &'static str,
    /// Value in this unit × `factor` = value in the kind's base unit.
    pub factor: f64,
}

/// Units measured values come in, by UCUM code, with the other spellings met in extracts.
/// Spellings are matched ignoring case, spaces and the usual ways of writing a power
/// (`m²`, `m^2`, `m**2`, `m-2` after a `.` or space).
const UNITS: &[(&str, &str, f64, &[&str])] = &[
    ("kg/m2", "body mass index", 1.0, &["kg/m2", "kg.m-2", "kg/(m2)", "kg/m.m", "kg/sq.m", "kg/sqm"]),
    (
        "mm[Hg]",
        "pressure",
        1.0,
        &["mm[hg]", "mmhg", "mm.hg", "mm(hg)", "millimetre.of.mercury", "millimeter.of.mercury"],
    ),
    ("kPa", "pressure", 7.500_615_758, &["kpa"]),
    ("mmol/mol", "HbA1c (IFCC)", 1.0, &["mmol/mol", "mmol/mol.hb", "mmol/mol{hb}"]),
    ("%", "percent", 1.0, &["%", "percent", "%{hb}", "%.hb"]),
    ("cm", "length", 1.0, &["cm", "centimetre", "centimetres", "centimeter", "centimeters"]),
    ("m", "length", 100.0, &["m", "metre", "metres", "meter", "meters"]),
    ("mm", "length", 0.1, &["mm", "millimetre", "millimetres", "millimeter", "millimeters"]),
    ("[in_i]", "length", 2.54, &["[in_i]", "in", "inch", "inches"]),
    ("kg", "mass", 1.0, &["kg", "kilogram", "kilograms", "kgs"]),
    ("g", "mass", 0.001, &["g", "gram", "grams"]),
    ("[lb_av]", "mass", 0.453_592_37, &["[lb_av]", "lb", "lbs", "pound", "pounds"]),
    ("mmol/L", "substance concentration", 1.0, &["mmol/l", "mmol.l-1"]),
    ("/min", "rate", 1.0, &["/min", "1/min", "{beats}/min", "bpm", "beats/min", "min-1"]),
];

/// The unit written as `text`, normalised to UCUM; `None` if it is not one OpenPHM knows.
pub fn ucum_unit(text: &str) -> Option<Unit> {
    let mut key = String::with_capacity(text.len());
    for c in text.trim().chars() {
        match c {
            '²' => key.push('2'),
            '³' => key.push('3'),
            '⁻' => key.push('-'),
            '^' => {}
            '·' | '⋅' | '*' | ' ' => key.push('.'),
            c => key.extend(c.to_lowercase()),
        }
    }
    // Separators: runs become one; none around `/`; a power after one (`m**2`) joins its unit.
    while key.contains("..") {
        key = key.replace("..", ".");
    }
    let key = key.replace("./", "/").replace("/.", "/").replace(".2", "2").replace(".3", "3");
    UNITS
        .iter()
        .find(|(_, _, _, spellings)| spellings.contains(&key.as_str()))
        .map(|(code, dimension, factor, _)| Unit { code, dimension, factor: *factor })
}

/// At most 60 characters of a value, for reasons.
pub fn cut(text: &str) -> String {
    cut_to(text, 60)
}

/// At most `n` characters of `text`, the last a `…` when it was cut.
pub fn cut_to(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(n.saturating_sub(1)).collect::<String>())
    }
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
        assert_eq!(
            event_date("f", d("2026-10-01"), &Lifespan::default(), extract).expect_err("").kind,
            "date in the future"
        );
    }

    #[test]
    fn plausible_ranges_come_from_the_reference_file() {
        assert!(plausible("v", CodeSystem::Snomed, "60621009", 25.0, Some("kg/m2")).is_ok());
        assert_eq!(
            plausible("v", CodeSystem::Snomed, "60621009", 250.0, Some("kg/m2")).expect_err("").kind,
            "implausible value"
        );
        // A unit OpenPHM does not know, for a code with a range: refused, not waved through.
        assert_eq!(
            plausible("v", CodeSystem::Snomed, "60621009", 250.0, Some("lb/in2")).expect_err("").kind,
            "unknown unit"
        );
        // No range for the code: nothing to check.
        assert!(plausible("v", CodeSystem::Snomed, "123", 1e9, None).is_ok());
    }

    #[test]
    fn unit_spellings_are_one_ucum_unit_and_values_are_converted_before_the_check() {
        for spelling in ["kg/m2", "kg/m²", "kg m-2", "kg·m⁻²", "kg.m-2", "kg/m^2", "kg/m**2", "KG/M2", " kg / m2 "]
        {
            assert_eq!(ucum_unit(spelling).map(|u| u.code), Some("kg/m2"), "{spelling}");
            assert_eq!(
                plausible("v", CodeSystem::Snomed, "60621009", 99999.0, Some(spelling)).expect_err(spelling).kind,
                "implausible value",
                "{spelling}"
            );
        }
        for spelling in ["mmHg", "mm Hg", "mm[Hg]", "mm(Hg)"] {
            assert_eq!(ucum_unit(spelling).map(|u| u.code), Some("mm[Hg]"), "{spelling}");
        }
        // Both spellings of the range's unit in the reference file are one unit.
        assert!(plausible("v", CodeSystem::Loinc, "8480-6", 120.0, Some("mmHg")).is_ok());
        assert!(plausible("v", CodeSystem::Snomed, "271649006", 120.0, Some("mm[Hg]")).is_ok());
        // Height in metres is checked in centimetres; weight in grams and pounds in kilograms.
        assert!(plausible("v", CodeSystem::Loinc, "8302-2", 1.75, Some("m")).is_ok());
        assert_eq!(
            plausible("v", CodeSystem::Loinc, "8302-2", 175.0, Some("m")).expect_err("175 m").kind,
            "implausible value"
        );
        assert!(plausible("v", CodeSystem::Loinc, "29463-7", 70_000.0, Some("g")).is_ok());
        assert!(plausible("v", CodeSystem::Loinc, "29463-7", 154.0, Some("[lb_av]")).is_ok());
        assert_eq!(
            plausible("v", CodeSystem::Loinc, "29463-7", 70_000.0, Some("kg")).expect_err("70 t").kind,
            "implausible value"
        );
        // A unit of another kind is named as such.
        let p = plausible("v", CodeSystem::Snomed, "60621009", 25.0, Some("kg")).expect_err("a mass for a BMI");
        assert_eq!(p.kind, "wrong unit");
        assert!(p.reason.contains("`kg`") && p.reason.contains("kg/m2"), "{}", p.reason);
    }

    #[test]
    fn every_unit_of_the_plausible_ranges_is_known() {
        let text = include_str!("../../../reference/plausibility.csv");
        for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
            let unit = line.split(',').nth(3).unwrap_or_default();
            assert!(ucum_unit(unit).is_some(), "reference/plausibility.csv: unit `{unit}` is not in check::UNITS");
        }
    }

    #[test]
    fn placeholder_nhs_numbers_that_pass_modulus_11_are_refused() {
        for d in 0..=9u8 {
            let text: String = std::iter::repeat_n(char::from(b'0' + d), 10).collect();
            assert!(NhsNumber::parse(&text).is_ok(), "{text} passes Modulus 11");
            assert_eq!(nhs_number("n", &text).expect_err(&text).kind, PLACEHOLDER_NHS_NUMBER);
        }
        for text in ["0123456789", "9876543210"] {
            assert!(NhsNumber::parse(text).is_ok(), "{text} passes Modulus 11");
            assert_eq!(nhs_number("n", text).expect_err(text).kind, PLACEHOLDER_NHS_NUMBER);
        }
        assert!(NhsNumber::parse("1234567890").is_err(), "fails Modulus 11 anyway");
        // A real-looking number and the test range are numbers.
        assert!(nhs_number("n", "943 476 5919").is_ok());
        assert!(nhs_number("n", "9990000018").is_ok());
    }

    #[test]
    fn icd10_dots_are_removed_and_bad_codes_named() {
        assert_eq!(code("c", CodeSystem::Icd10, "E11.9").expect("icd"), "E119");
        let p = code("c", CodeSystem::Snomed, "38341004").expect_err("check digit");
        assert!(p.reason.contains("Verhoeff"), "{}", p.reason);
    }
}
