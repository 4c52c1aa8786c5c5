//! Structural validation: the R4 rules that matter for a resource to be usable, and the
//! date and time helpers they rely on.

use crate::fhir::Resource;
use crate::fhir::datatypes::{CodeableConcept, Period, Reference};

/// A structural problem found by [`validate`]: which element, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// FHIRPath-like element path, e.g. `Observation.status`.
    pub element: String,
    /// What is wrong.
    pub message: String,
}

pub(super) fn problem(element: &str, message: impl Into<String>) -> Problem {
    Problem { element: element.to_owned(), message: message.into() }
}

/// Whether `text` is a FHIR `date` (YYYY, YYYY-MM or YYYY-MM-DD) or `dateTime`.
pub fn is_fhir_date_or_datetime(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    match b.len() {
        4 => digits(0..4),
        7 => digits(0..4) && b[4] == b'-' && digits(5..7),
        10 => digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10),
        n if n > 10 => digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10) && b[10] == b'T',
        _ => false,
    }
}

/// A FHIR `date`, `dateTime` or `instant`, read for comparison.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum When<'a> {
    /// A date (or a partial date): the text of its date part.
    Day(&'a str),
    /// A time with an offset: an instant.
    Instant(chrono::DateTime<chrono::Utc>),
    /// A time without an offset (not valid FHIR, but seen): local.
    Local(chrono::NaiveDateTime),
}

pub(super) fn when(text: &str) -> Option<When<'_>> {
    if !is_fhir_date_or_datetime(text) {
        return None;
    }
    if text.len() <= 10 {
        return Some(When::Day(text));
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(When::Instant(t.with_timezone(&chrono::Utc)));
    }
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok().map(When::Local)
}

/// How two FHIR `date`/`dateTime`/`instant` values are ordered in time, or `None` when either
/// is not one. Two times with offsets are compared as instants (UTC), so an encounter that
/// starts at `01:30+01:00` and ends at `01:10+00:00` (the night the clocks go back) ends after
/// it starts. Where either is a date without a time, their dates are compared at the precision
/// both have (`2020` against `2020-03-01` is `Equal`): a date covers the whole day.
pub fn time_order(a: &str, b: &str) -> Option<std::cmp::Ordering> {
    let (wa, wb) = (when(a)?, when(b)?);
    Some(match (wa, wb) {
        (When::Instant(x), When::Instant(y)) => x.cmp(&y),
        (When::Local(x), When::Local(y)) => x.cmp(&y),
        (When::Instant(x), When::Local(y)) => x.naive_utc().cmp(&y),
        (When::Local(x), When::Instant(y)) => x.cmp(&y.naive_utc()),
        _ => {
            let n = a.len().min(b.len()).min(10);
            a[..n].cmp(&b[..n])
        }
    })
}

/// Checks that at most one form of a choice element is present.
pub(super) fn one_form(element: &str, forms: &[(&str, bool)], out: &mut Vec<Problem>) {
    let given: Vec<&str> = forms.iter().filter(|(_, present)| *present).map(|(name, _)| *name).collect();
    if given.len() > 1 {
        out.push(problem(
            element,
            format!(
                "only one of {} may be present (found {})",
                forms.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "),
                given.join(" and ")
            ),
        ));
    }
}

/// Checks a period: both ends are dates or dateTimes, and the end is not before the start
/// (compared as instants).
pub(super) fn check_period(element: &str, period: Option<&Period>, out: &mut Vec<Problem>) {
    let Some(p) = period else { return };
    check_date(&format!("{element}.start"), p.start.as_deref(), false, out);
    check_date(&format!("{element}.end"), p.end.as_deref(), false, out);
    if let (Some(s), Some(e)) = (&p.start, &p.end)
        && time_order(e, s) == Some(std::cmp::Ordering::Less)
    {
        out.push(problem(element, format!("end {e} is before start {s}")));
    }
}

pub(super) fn check_id(resource: &str, id: Option<&str>, out: &mut Vec<Problem>) {
    match id {
        Some(id)
            if !id.is_empty()
                && id.len() <= 64
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.') => {}
        Some(_) => out.push(problem(&format!("{resource}.id"), "must be 1-64 of A-Z a-z 0-9 - .")),
        None => out.push(problem(&format!("{resource}.id"), "is required in a Bulk Data export")),
    }
}

pub(super) fn check_date(element: &str, value: Option<&str>, required: bool, out: &mut Vec<Problem>) {
    match value {
        Some(v) if is_fhir_date_or_datetime(v) => {}
        Some(v) => out.push(problem(element, format!("`{v}` is not a FHIR date or dateTime"))),
        None if required => out.push(problem(element, "is required")),
        None => {}
    }
}

pub(super) fn check_concept(element: &str, concept: Option<&CodeableConcept>, required: bool, out: &mut Vec<Problem>) {
    match concept {
        Some(c) if c.coding.is_empty() && c.text.is_none() => out.push(problem(element, "has neither coding nor text")),
        Some(c) => {
            for coding in &c.coding {
                if coding.code.as_deref().is_none_or(|s| s.trim() != s || s.is_empty()) {
                    out.push(problem(
                        &format!("{element}.coding.code"),
                        "must be a non-empty code without surrounding spaces",
                    ));
                }
                if coding.system.is_none() {
                    out.push(problem(&format!("{element}.coding.system"), "is missing"));
                }
            }
        }
        None if required => out.push(problem(element, "is required")),
        None => {}
    }
}

pub(super) fn check_reference(element: &str, reference: Option<&Reference>, target: &str, out: &mut Vec<Problem>) {
    match reference {
        Some(r) if r.id_of(target).is_some() || r.identifier.is_some() => {}
        Some(_) => out.push(problem(element, format!("must reference a {target}"))),
        None => out.push(problem(element, "is required")),
    }
}

pub(super) fn check_code(element: &str, value: Option<&str>, allowed: &[&str], out: &mut Vec<Problem>) {
    match value {
        Some(v) if allowed.contains(&v) => {}
        Some(v) => out.push(problem(element, format!("`{v}` is not one of {}", allowed.join(", ")))),
        None => out.push(problem(element, "is required")),
    }
}

/// Every problem with a resource: wrong `resourceType` plus the type's own checks.
pub fn validate<R: Resource>(resource: &R) -> Vec<Problem> {
    let mut out = Vec::new();
    if resource.resource_type() != R::TYPE {
        out.push(problem("resourceType", format!("expected `{}`, found `{}`", R::TYPE, resource.resource_type())));
    }
    out.extend(resource.problems());
    out
}
