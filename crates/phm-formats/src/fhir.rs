//! FHIR R4 resources as UK Core uses them, for Bulk Data NDJSON (one resource per line, one
//! resource type per file).
//!
//! The types cover the elements OpenPHM writes and reads; unknown elements in input are ignored
//! by the reader (UK Core resources carry many), while [`validate`] checks the R4 rules that
//! matter for a resource to be usable: required elements, code and date formats, references.
//!
//! R4's choice elements (`performed[x]`, `effective[x]`, `onset[x]`, `abatement[x]`,
//! `occurrence[x]`, `value[x]`, `deceased[x]`, `medication[x]`) are read in every form R4 allows
//! for the resources here, each as its own field (`performed_date_time`, `performed_period`,
//! `performed_string`, ...); [`validate`] refuses a resource that gives two forms of one choice.
//! Times are compared as instants ([`time_order`]): `2020-10-25T01:30:00+01:00` is before
//! `2020-10-25T01:10:00+00:00`.
//!
//! A UTF-8 byte-order mark at the start of a file is not part of its first line.

use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A code from a code system.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Coding {
    /// Code system URI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Human-readable text of the code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

impl Coding {
    /// A coding with system, code and display.
    pub fn new(system: &str, code: &str, display: &str) -> Self {
        Self { system: Some(system.to_owned()), code: Some(code.to_owned()), display: Some(display.to_owned()) }
    }
}

/// A concept as one or more codings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CodeableConcept {
    /// Codings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coding: Vec<Coding>,
    /// Plain text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl CodeableConcept {
    /// A concept with one coding.
    pub fn one(system: &str, code: &str, display: &str) -> Self {
        Self { coding: vec![Coding::new(system, code, display)], text: None }
    }

    /// The first coding in the given system.
    pub fn coding_in(&self, system: &str) -> Option<&Coding> {
        self.coding.iter().find(|c| c.system.as_deref() == Some(system))
    }
}

/// An extension (only the value types OpenPHM uses).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Extension {
    /// What the extension is.
    pub url: String,
    /// Nested extensions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    /// A coded value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_codeable_concept: Option<CodeableConcept>,
    /// A string value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_string: Option<String>,
}

/// A business identifier.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Identifier {
    /// Extensions (e.g. NHS number verification status).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    /// Identifier system URI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// A reference to another resource, by literal reference or by identifier.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    /// Literal reference, e.g. `Patient/123`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Logical reference by identifier, e.g. an ODS code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifier: Option<Identifier>,
    /// Text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

impl Reference {
    /// `ResourceType/id`.
    pub fn to(resource_type: &str, id: &str) -> Self {
        Self { reference: Some(format!("{resource_type}/{id}")), ..Self::default() }
    }

    /// A logical reference to an organisation by ODS code.
    pub fn ods(code: &str, name: &str) -> Self {
        Self {
            identifier: Some(Identifier {
                system: Some(phm_core::codes::uri::ODS_ORGANISATION.to_owned()),
                value: Some(code.to_owned()),
                ..Identifier::default()
            }),
            display: Some(name.to_owned()),
            ..Self::default()
        }
    }

    /// The id part of a literal reference to `resource_type`.
    pub fn id_of(&self, resource_type: &str) -> Option<&str> {
        self.reference.as_deref()?.strip_prefix(resource_type)?.strip_prefix('/')
    }

    /// The value of a logical reference by ODS code.
    pub fn ods_code(&self) -> Option<&str> {
        let id = self.identifier.as_ref()?;
        (id.system.as_deref() == Some(phm_core::codes::uri::ODS_ORGANISATION)).then_some(id.value.as_deref()?)
    }
}

/// A time period.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Period {
    /// Start (date or dateTime).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// End (date or dateTime).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

/// A measured amount.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Quantity {
    /// Numeric value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// Unit as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Unit system (UCUM).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Unit code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl Quantity {
    /// A UCUM quantity.
    pub fn ucum(value: f64, unit: &str, code: &str) -> Self {
        Self {
            value: Some(value),
            unit: Some(unit.to_owned()),
            system: Some(phm_core::codes::uri::UCUM.to_owned()),
            code: Some(code.to_owned()),
        }
    }
}

/// A range of quantities (`onsetRange`, `valueRange`, ...).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Range {
    /// Low limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub low: Option<Quantity>,
    /// High limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub high: Option<Quantity>,
}

/// When something happens or happened, as events or a repeat (`effectiveTiming`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// When the event occurs (dateTimes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub event: Vec<String>,
    /// The repeat rule, kept as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeat: Option<serde_json::Value>,
}

/// A person's name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HumanName {
    /// `official`, `usual`, ...
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// Family name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// Given names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub given: Vec<String>,
    /// Prefixes (Mr, Ms, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefix: Vec<String>,
}

/// A postal address.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// `home`, `work`, ...
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// Street lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub line: Vec<String>,
    /// Town or city.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// County or district.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    /// Postcode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
}

/// Resource metadata.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    /// Profiles the resource claims to conform to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profile: Vec<String>,
    /// When the resource last changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
}

impl Meta {
    /// Meta claiming a UK Core profile, e.g. `UKCore-Patient`.
    pub fn uk_core(profile: &str) -> Option<Self> {
        Some(Self {
            profile: vec![format!("https://fhir.hl7.org.uk/StructureDefinition/{profile}")],
            last_updated: None,
        })
    }
}

/// A FHIR resource type OpenPHM reads or writes.
pub trait Resource: Serialize + for<'de> Deserialize<'de> {
    /// The `resourceType` value.
    const TYPE: &'static str;
    /// The resource's `resourceType` field as read.
    fn resource_type(&self) -> &str;
    /// The logical id.
    fn id(&self) -> Option<&str>;
    /// R4 structural checks beyond what deserialisation enforces; each problem names its element.
    fn problems(&self) -> Vec<Problem>;
}

/// A structural problem found by [`validate`]: which element, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// FHIRPath-like element path, e.g. `Observation.status`.
    pub element: String,
    /// What is wrong.
    pub message: String,
}

fn problem(element: &str, message: impl Into<String>) -> Problem {
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
enum When<'a> {
    /// A date (or a partial date): the text of its date part.
    Day(&'a str),
    /// A time with an offset: an instant.
    Instant(chrono::DateTime<chrono::Utc>),
    /// A time without an offset (not valid FHIR, but seen): local.
    Local(chrono::NaiveDateTime),
}

fn when(text: &str) -> Option<When<'_>> {
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
fn one_form(element: &str, forms: &[(&str, bool)], out: &mut Vec<Problem>) {
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
fn check_period(element: &str, period: Option<&Period>, out: &mut Vec<Problem>) {
    let Some(p) = period else { return };
    check_date(&format!("{element}.start"), p.start.as_deref(), false, out);
    check_date(&format!("{element}.end"), p.end.as_deref(), false, out);
    if let (Some(s), Some(e)) = (&p.start, &p.end)
        && time_order(e, s) == Some(std::cmp::Ordering::Less)
    {
        out.push(problem(element, format!("end {e} is before start {s}")));
    }
}

fn check_id(resource: &str, id: Option<&str>, out: &mut Vec<Problem>) {
    match id {
        Some(id)
            if !id.is_empty()
                && id.len() <= 64
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.') => {}
        Some(_) => out.push(problem(&format!("{resource}.id"), "must be 1-64 of A-Z a-z 0-9 - .")),
        None => out.push(problem(&format!("{resource}.id"), "is required in a Bulk Data export")),
    }
}

fn check_date(element: &str, value: Option<&str>, required: bool, out: &mut Vec<Problem>) {
    match value {
        Some(v) if is_fhir_date_or_datetime(v) => {}
        Some(v) => out.push(problem(element, format!("`{v}` is not a FHIR date or dateTime"))),
        None if required => out.push(problem(element, "is required")),
        None => {}
    }
}

fn check_concept(element: &str, concept: Option<&CodeableConcept>, required: bool, out: &mut Vec<Problem>) {
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

fn check_reference(element: &str, reference: Option<&Reference>, target: &str, out: &mut Vec<Problem>) {
    match reference {
        Some(r) if r.id_of(target).is_some() || r.identifier.is_some() => {}
        Some(_) => out.push(problem(element, format!("must reference a {target}"))),
        None => out.push(problem(element, "is required")),
    }
}

fn check_code(element: &str, value: Option<&str>, allowed: &[&str], out: &mut Vec<Problem>) {
    match value {
        Some(v) if allowed.contains(&v) => {}
        Some(v) => out.push(problem(element, format!("`{v}` is not one of {}", allowed.join(", ")))),
        None => out.push(problem(element, "is required")),
    }
}

/// `Patient` (UK Core: UKCore-Patient).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[expect(missing_docs, reason = "fields are the FHIR elements of the same name")]
pub struct Patient {
    pub resource_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifier: Vec<Identifier>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub name: Vec<HumanName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deceased_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deceased_boolean: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub address: Vec<Address>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub general_practitioner: Vec<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managing_organization: Option<Reference>,
}

impl Patient {
    /// The NHS number identifier's value, if present.
    pub fn nhs_number(&self) -> Option<&str> {
        self.identifier.iter().find(|i| i.system.as_deref() == Some(phm_core::codes::uri::NHS_NUMBER))?.value.as_deref()
    }

    /// The UK Core ethnic category code, if present.
    pub fn ethnic_category(&self) -> Option<&str> {
        self.extension
            .iter()
            .find(|e| e.url == phm_core::codes::uri::ETHNIC_CATEGORY_EXTENSION)?
            .value_codeable_concept
            .as_ref()?
            .coding_in(phm_core::codes::uri::ETHNIC_CATEGORY_SYSTEM)?
            .code
            .as_deref()
    }
}

impl Resource for Patient {
    const TYPE: &'static str = "Patient";
    fn resource_type(&self) -> &str {
        &self.resource_type
    }
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        check_id("Patient", self.id.as_deref(), &mut out);
        if let Some(g) = &self.gender {
            check_code("Patient.gender", Some(g), &["male", "female", "other", "unknown"], &mut out);
        }
        check_date("Patient.birthDate", self.birth_date.as_deref(), false, &mut out);
        check_date("Patient.deceasedDateTime", self.deceased_date_time.as_deref(), false, &mut out);
        if self.deceased_date_time.is_some() && self.deceased_boolean.is_some() {
            out.push(problem("Patient.deceased[x]", "only one of deceasedBoolean and deceasedDateTime may be present"));
        }
        out
    }
}

/// `Condition` (UK Core: UKCore-Condition).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[expect(missing_docs, reason = "fields are the FHIR elements of the same name")]
pub struct Condition {
    pub resource_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clinical_status: Option<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification_status: Option<CodeableConcept>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub category: Vec<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encounter: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onset_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onset_period: Option<Period>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onset_age: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onset_range: Option<Range>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onset_string: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abatement_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abatement_age: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abatement_period: Option<Period>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abatement_range: Option<Range>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abatement_string: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asserter: Option<Reference>,
}

impl Resource for Condition {
    const TYPE: &'static str = "Condition";
    fn resource_type(&self) -> &str {
        &self.resource_type
    }
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        check_id("Condition", self.id.as_deref(), &mut out);
        check_reference("Condition.subject", self.subject.as_ref(), "Patient", &mut out);
        check_concept("Condition.code", self.code.as_ref(), false, &mut out);
        check_concept("Condition.clinicalStatus", self.clinical_status.as_ref(), false, &mut out);
        check_date("Condition.onsetDateTime", self.onset_date_time.as_deref(), false, &mut out);
        check_period("Condition.onsetPeriod", self.onset_period.as_ref(), &mut out);
        one_form(
            "Condition.onset[x]",
            &[
                ("onsetDateTime", self.onset_date_time.is_some()),
                ("onsetAge", self.onset_age.is_some()),
                ("onsetPeriod", self.onset_period.is_some()),
                ("onsetRange", self.onset_range.is_some()),
                ("onsetString", self.onset_string.is_some()),
            ],
            &mut out,
        );
        check_date("Condition.abatementDateTime", self.abatement_date_time.as_deref(), false, &mut out);
        check_period("Condition.abatementPeriod", self.abatement_period.as_ref(), &mut out);
        one_form(
            "Condition.abatement[x]",
            &[
                ("abatementDateTime", self.abatement_date_time.is_some()),
                ("abatementAge", self.abatement_age.is_some()),
                ("abatementPeriod", self.abatement_period.is_some()),
                ("abatementRange", self.abatement_range.is_some()),
                ("abatementString", self.abatement_string.is_some()),
            ],
            &mut out,
        );
        check_date("Condition.recordedDate", self.recorded_date.as_deref(), false, &mut out);
        out
    }
}

/// One component of an observation (e.g. systolic within a blood pressure).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[expect(missing_docs, reason = "fields are the FHIR elements of the same name")]
pub struct ObservationComponent {
    pub code: CodeableConcept,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_quantity: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_codeable_concept: Option<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_string: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_boolean: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_integer: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_range: Option<Range>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_ratio: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_sampled_data: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_period: Option<Period>,
}

/// An observation's (or a component's) `value[x]`, in whichever R4 form it was given.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    /// No value (e.g. a panel, or `dataAbsentReason`).
    None,
    /// `valueQuantity`.
    Quantity(&'a Quantity),
    /// `valueCodeableConcept`.
    CodeableConcept(&'a CodeableConcept),
    /// `valueInteger`.
    Integer(i64),
    /// `valueBoolean`.
    Boolean(bool),
    /// `valueString`.
    String(&'a str),
    /// A form with no numeric or coded reading: `valueRange`, `valueRatio`,
    /// `valueSampledData`, `valueTime`, `valueDateTime` or `valuePeriod` (the element name).
    Other(&'static str),
}

macro_rules! value_of {
    ($x:expr) => {{
        let x = $x;
        let forms: [(&'static str, bool); 11] = [
            ("valueQuantity", x.value_quantity.is_some()),
            ("valueCodeableConcept", x.value_codeable_concept.is_some()),
            ("valueString", x.value_string.is_some()),
            ("valueBoolean", x.value_boolean.is_some()),
            ("valueInteger", x.value_integer.is_some()),
            ("valueRange", x.value_range.is_some()),
            ("valueRatio", x.value_ratio.is_some()),
            ("valueSampledData", x.value_sampled_data.is_some()),
            ("valueTime", x.value_time.is_some()),
            ("valueDateTime", x.value_date_time.is_some()),
            ("valuePeriod", x.value_period.is_some()),
        ];
        let value = if let Some(q) = &x.value_quantity {
            Value::Quantity(q)
        } else if let Some(c) = &x.value_codeable_concept {
            Value::CodeableConcept(c)
        } else if let Some(i) = x.value_integer {
            Value::Integer(i)
        } else if let Some(b) = x.value_boolean {
            Value::Boolean(b)
        } else if let Some(t) = &x.value_string {
            Value::String(t)
        } else {
            forms[5..].iter().find(|(_, present)| *present).map_or(Value::None, |(name, _)| Value::Other(name))
        };
        (value, forms)
    }};
}

impl ObservationComponent {
    /// The component's value, in the form given.
    pub fn value(&self) -> Value<'_> {
        value_of!(self).0
    }
}

impl Observation {
    /// The observation's own value, in the form given.
    pub fn value(&self) -> Value<'_> {
        value_of!(self).0
    }
}

fn check_value(
    element: &str,
    forms: &[(&str, bool)],
    quantity: Option<&Quantity>,
    concept: Option<&CodeableConcept>,
    out: &mut Vec<Problem>,
) {
    one_form(&format!("{element}.value[x]"), forms, out);
    if quantity.is_some_and(|q| q.value.is_none_or(|v| !v.is_finite())) {
        out.push(problem(&format!("{element}.valueQuantity.value"), "must be a finite number"));
    }
    check_concept(&format!("{element}.valueCodeableConcept"), concept, false, out);
}

/// `Observation` (UK Core: UKCore-Observation).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[expect(missing_docs, reason = "fields are the FHIR elements of the same name")]
pub struct Observation {
    pub resource_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub category: Vec<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encounter: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_period: Option<Period>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_instant: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_timing: Option<Timing>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub performer: Vec<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_quantity: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_codeable_concept: Option<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_string: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_boolean: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_integer: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_range: Option<Range>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_ratio: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_sampled_data: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_period: Option<Period>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_absent_reason: Option<CodeableConcept>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub component: Vec<ObservationComponent>,
}

impl Resource for Observation {
    const TYPE: &'static str = "Observation";
    fn resource_type(&self) -> &str {
        &self.resource_type
    }
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        check_id("Observation", self.id.as_deref(), &mut out);
        check_code(
            "Observation.status",
            self.status.as_deref(),
            &["registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"],
            &mut out,
        );
        check_concept("Observation.code", self.code.as_ref(), true, &mut out);
        check_reference("Observation.subject", self.subject.as_ref(), "Patient", &mut out);
        check_date("Observation.effectiveDateTime", self.effective_date_time.as_deref(), false, &mut out);
        check_period("Observation.effectivePeriod", self.effective_period.as_ref(), &mut out);
        check_date("Observation.effectiveInstant", self.effective_instant.as_deref(), false, &mut out);
        one_form(
            "Observation.effective[x]",
            &[
                ("effectiveDateTime", self.effective_date_time.is_some()),
                ("effectivePeriod", self.effective_period.is_some()),
                ("effectiveTiming", self.effective_timing.is_some()),
                ("effectiveInstant", self.effective_instant.is_some()),
            ],
            &mut out,
        );
        check_value(
            "Observation",
            &value_of!(self).1,
            self.value_quantity.as_ref(),
            self.value_codeable_concept.as_ref(),
            &mut out,
        );
        for (i, c) in self.component.iter().enumerate() {
            check_value(
                &format!("Observation.component[{i}]"),
                &value_of!(c).1,
                c.value_quantity.as_ref(),
                c.value_codeable_concept.as_ref(),
                &mut out,
            );
        }
        out
    }
}

/// `MedicationStatement` (UK Core: UKCore-MedicationStatement).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[expect(missing_docs, reason = "fields are the FHIR elements of the same name")]
pub struct MedicationStatement {
    pub resource_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub medication_codeable_concept: Option<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_period: Option<Period>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_asserted: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub information_source: Option<Reference>,
}

impl Resource for MedicationStatement {
    const TYPE: &'static str = "MedicationStatement";
    fn resource_type(&self) -> &str {
        &self.resource_type
    }
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        check_id("MedicationStatement", self.id.as_deref(), &mut out);
        check_code(
            "MedicationStatement.status",
            self.status.as_deref(),
            &["active", "completed", "entered-in-error", "intended", "stopped", "on-hold", "unknown", "not-taken"],
            &mut out,
        );
        check_concept(
            "MedicationStatement.medicationCodeableConcept",
            self.medication_codeable_concept.as_ref(),
            true,
            &mut out,
        );
        check_reference("MedicationStatement.subject", self.subject.as_ref(), "Patient", &mut out);
        check_date("MedicationStatement.effectiveDateTime", self.effective_date_time.as_deref(), false, &mut out);
        check_period("MedicationStatement.effectivePeriod", self.effective_period.as_ref(), &mut out);
        one_form(
            "MedicationStatement.effective[x]",
            &[
                ("effectiveDateTime", self.effective_date_time.is_some()),
                ("effectivePeriod", self.effective_period.is_some()),
            ],
            &mut out,
        );
        check_date("MedicationStatement.dateAsserted", self.date_asserted.as_deref(), false, &mut out);
        out
    }
}

/// `MedicationRequest` (UK Core: UKCore-MedicationRequest): a prescription.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[expect(missing_docs, reason = "fields are the FHIR elements of the same name")]
pub struct MedicationRequest {
    pub resource_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub medication_codeable_concept: Option<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub medication_reference: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authored_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dispense_request: Option<DispenseRequest>,
}

/// `MedicationRequest.dispenseRequest`: how the prescription may be dispensed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DispenseRequest {
    /// The time the prescription may be dispensed in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validity_period: Option<Period>,
    /// How long the supply is expected to last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_supply_duration: Option<Quantity>,
}

impl Resource for MedicationRequest {
    const TYPE: &'static str = "MedicationRequest";
    fn resource_type(&self) -> &str {
        &self.resource_type
    }
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        check_id("MedicationRequest", self.id.as_deref(), &mut out);
        check_code(
            "MedicationRequest.status",
            self.status.as_deref(),
            &["active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped", "draft", "unknown"],
            &mut out,
        );
        check_code(
            "MedicationRequest.intent",
            self.intent.as_deref(),
            &[
                "proposal",
                "plan",
                "order",
                "original-order",
                "reflex-order",
                "filler-order",
                "instance-order",
                "option",
            ],
            &mut out,
        );
        if self.medication_codeable_concept.is_none() && self.medication_reference.is_none() {
            out.push(problem("MedicationRequest.medication[x]", "is required"));
        }
        check_concept(
            "MedicationRequest.medicationCodeableConcept",
            self.medication_codeable_concept.as_ref(),
            false,
            &mut out,
        );
        check_reference("MedicationRequest.subject", self.subject.as_ref(), "Patient", &mut out);
        check_date("MedicationRequest.authoredOn", self.authored_on.as_deref(), false, &mut out);
        check_period(
            "MedicationRequest.dispenseRequest.validityPeriod",
            self.dispense_request.as_ref().and_then(|d| d.validity_period.as_ref()),
            &mut out,
        );
        out
    }
}

/// A dose in a vaccination protocol.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProtocolApplied {
    /// Dose number within the series.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dose_number_positive_int: Option<u32>,
}

/// `Immunization` (UK Core: UKCore-Immunization).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[expect(missing_docs, reason = "fields are the FHIR elements of the same name")]
pub struct Immunization {
    pub resource_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vaccine_code: Option<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occurrence_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occurrence_string: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_source: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protocol_applied: Vec<ProtocolApplied>,
}

impl Immunization {
    /// The UK Core vaccination procedure code (SNOMED CT), if present.
    pub fn vaccination_procedure(&self) -> Option<&Coding> {
        self.extension
            .iter()
            .find(|e| e.url == phm_core::codes::uri::VACCINATION_PROCEDURE_EXTENSION)?
            .value_codeable_concept
            .as_ref()?
            .coding
            .first()
    }
}

impl Resource for Immunization {
    const TYPE: &'static str = "Immunization";
    fn resource_type(&self) -> &str {
        &self.resource_type
    }
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        check_id("Immunization", self.id.as_deref(), &mut out);
        check_code(
            "Immunization.status",
            self.status.as_deref(),
            &["completed", "entered-in-error", "not-done"],
            &mut out,
        );
        check_concept("Immunization.vaccineCode", self.vaccine_code.as_ref(), true, &mut out);
        check_reference("Immunization.patient", self.patient.as_ref(), "Patient", &mut out);
        match (&self.occurrence_date_time, &self.occurrence_string) {
            (Some(_), Some(_)) => out.push(problem(
                "Immunization.occurrence[x]",
                "only one of occurrenceDateTime, occurrenceString may be present",
            )),
            (None, Some(_)) => {}
            _ => check_date("Immunization.occurrenceDateTime", self.occurrence_date_time.as_deref(), true, &mut out),
        }
        out
    }
}

/// `Encounter.hospitalization`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hospitalization {
    /// Extensions, e.g. UK Core admission method.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    /// Where the patient went on discharge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discharge_disposition: Option<CodeableConcept>,
}

/// `Encounter` (UK Core: UKCore-Encounter).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[expect(missing_docs, reason = "fields are the FHIR elements of the same name")]
pub struct Encounter {
    pub resource_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<Coding>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub r#type: Vec<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_type: Option<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hospitalization: Option<Hospitalization>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_provider: Option<Reference>,
}

impl Encounter {
    /// The UK Core admission method code, if present.
    pub fn admission_method(&self) -> Option<&str> {
        self.hospitalization
            .as_ref()?
            .extension
            .iter()
            .find(|e| e.url == phm_core::codes::uri::ADMISSION_METHOD_EXTENSION)?
            .value_codeable_concept
            .as_ref()?
            .coding
            .first()?
            .code
            .as_deref()
    }
}

impl Resource for Encounter {
    const TYPE: &'static str = "Encounter";
    fn resource_type(&self) -> &str {
        &self.resource_type
    }
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        check_id("Encounter", self.id.as_deref(), &mut out);
        check_code(
            "Encounter.status",
            self.status.as_deref(),
            &[
                "planned",
                "arrived",
                "triaged",
                "in-progress",
                "onleave",
                "finished",
                "cancelled",
                "entered-in-error",
                "unknown",
            ],
            &mut out,
        );
        if self.class.as_ref().and_then(|c| c.code.as_deref()).is_none() {
            out.push(problem("Encounter.class", "is required"));
        }
        check_period("Encounter.period", self.period.as_ref(), &mut out);
        check_reference("Encounter.subject", self.subject.as_ref(), "Patient", &mut out);
        out
    }
}

/// `Procedure` (UK Core: UKCore-Procedure).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[expect(missing_docs, reason = "fields are the FHIR elements of the same name")]
pub struct Procedure {
    pub resource_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encounter: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub performed_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub performed_period: Option<Period>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub performed_string: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub performed_age: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub performed_range: Option<Range>,
}

impl Resource for Procedure {
    const TYPE: &'static str = "Procedure";
    fn resource_type(&self) -> &str {
        &self.resource_type
    }
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        check_id("Procedure", self.id.as_deref(), &mut out);
        check_code(
            "Procedure.status",
            self.status.as_deref(),
            &[
                "preparation",
                "in-progress",
                "not-done",
                "on-hold",
                "stopped",
                "completed",
                "entered-in-error",
                "unknown",
            ],
            &mut out,
        );
        check_concept("Procedure.code", self.code.as_ref(), false, &mut out);
        check_reference("Procedure.subject", self.subject.as_ref(), "Patient", &mut out);
        check_date("Procedure.performedDateTime", self.performed_date_time.as_deref(), false, &mut out);
        check_period("Procedure.performedPeriod", self.performed_period.as_ref(), &mut out);
        one_form(
            "Procedure.performed[x]",
            &[
                ("performedDateTime", self.performed_date_time.is_some()),
                ("performedPeriod", self.performed_period.is_some()),
                ("performedString", self.performed_string.is_some()),
                ("performedAge", self.performed_age.is_some()),
                ("performedRange", self.performed_range.is_some()),
            ],
            &mut out,
        );
        out
    }
}

/// `EpisodeOfCare`: a period of registration with a GP practice.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[expect(missing_docs, reason = "fields are the FHIR elements of the same name")]
pub struct EpisodeOfCare {
    pub resource_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub r#type: Vec<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managing_organization: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
}

impl Resource for EpisodeOfCare {
    const TYPE: &'static str = "EpisodeOfCare";
    fn resource_type(&self) -> &str {
        &self.resource_type
    }
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        check_id("EpisodeOfCare", self.id.as_deref(), &mut out);
        check_code(
            "EpisodeOfCare.status",
            self.status.as_deref(),
            &["planned", "waitlist", "active", "onhold", "finished", "cancelled", "entered-in-error"],
            &mut out,
        );
        check_reference("EpisodeOfCare.patient", self.patient.as_ref(), "Patient", &mut out);
        check_period("EpisodeOfCare.period", self.period.as_ref(), &mut out);
        out
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

/// Writes resources of one type as NDJSON, counting them.
pub struct NdjsonWriter<W: Write> {
    out: W,
    count: u64,
}

impl<W: Write> NdjsonWriter<W> {
    /// Wraps a writer (give it a buffered one).
    pub fn new(out: W) -> Self {
        Self { out, count: 0 }
    }

    /// Appends one resource as one line.
    pub fn write<R: Resource>(&mut self, resource: &R) -> Result<()> {
        serde_json::to_writer(&mut self.out, resource).map_err(|source| Error::Serialise { what: R::TYPE, source })?;
        self.out
            .write_all(b"\n")
            .map_err(|source| Error::Serialise { what: R::TYPE, source: serde_json::Error::io(source) })?;
        self.count += 1;
        Ok(())
    }

    /// Resources written so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// One line of an NDJSON file that could not be used, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based line number.
    pub line: u64,
    /// The element at fault, where known (`resourceType`, `Observation.status`, ...).
    pub element: Option<String>,
    /// What was wrong.
    pub reason: String,
}

/// The outcome of reading one NDJSON file: every line is either a resource or a [`BadLine`].
#[derive(Debug)]
pub struct NdjsonRead<R> {
    /// Resources that parsed and validated, with their line numbers.
    pub resources: Vec<(u64, R)>,
    /// Lines that did not, with reasons.
    pub bad: Vec<BadLine>,
    /// Non-empty lines read (resources + bad).
    pub lines: u64,
}

/// Reads an NDJSON stream of one resource type into memory. Never fails on bad content: each
/// unusable line (invalid UTF-8, not JSON, wrong `resourceType`, structural problems) becomes a
/// [`BadLine`]. Blank lines are skipped and not counted. For large files use [`NdjsonLines`].
pub fn read_ndjson<R: Resource, B: BufRead>(input: B) -> std::io::Result<NdjsonRead<R>> {
    let mut out = NdjsonRead { resources: Vec::new(), bad: Vec::new(), lines: 0 };
    for item in NdjsonLines::<R, B>::new(input) {
        out.lines += 1;
        match item? {
            Ok(pair) => out.resources.push(pair),
            Err(bad) => out.bad.push(bad),
        }
    }
    Ok(out)
}

/// The UTF-8 byte-order mark, which some tools write at the start of a file.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Streams an NDJSON file line by line: each item is a resource with its line number, or a
/// [`BadLine`]; only an IO failure is an error. Blank lines are skipped.
pub struct NdjsonLines<R, B> {
    input: B,
    buf: Vec<u8>,
    line_no: u64,
    marker: std::marker::PhantomData<R>,
}

impl<R: Resource, B: BufRead> NdjsonLines<R, B> {
    /// Starts reading.
    pub fn new(input: B) -> Self {
        Self { input, buf: Vec::new(), line_no: 0, marker: std::marker::PhantomData }
    }
}

impl<R: Resource, B: BufRead> Iterator for NdjsonLines<R, B> {
    type Item = std::io::Result<Result<(u64, R), BadLine>>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.buf.clear();
            match self.input.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err(e)),
            }
            self.line_no += 1;
            let bytes = self.buf.strip_suffix(b"\n").unwrap_or(&self.buf);
            let bytes = if self.line_no == 1 { bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes) } else { bytes };
            let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
            if bytes.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Some(Ok(parse_line(self.line_no, bytes)));
        }
    }
}

fn parse_line<R: Resource>(line: u64, bytes: &[u8]) -> Result<(u64, R), BadLine> {
    let bad = |element: Option<String>, reason: String| BadLine { line, element, reason };
    let text =
        std::str::from_utf8(bytes).map_err(|e| bad(None, format!("not valid UTF-8 at byte {}", e.valid_up_to())))?;
    let resource =
        serde_json::from_str::<R>(text).map_err(|e| bad(None, format!("not a valid {} resource: {e}", R::TYPE)))?;
    let problems = validate(&resource);
    if let Some(first) = problems.first() {
        let more = if problems.len() > 1 { format!(" (and {} more)", problems.len() - 1) } else { String::new() };
        return Err(bad(Some(first.element.clone()), format!("{}{more}", first.message)));
    }
    Ok((line, resource))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_follow_the_fhir_formats() {
        for ok in ["2020", "2020-02", "2020-02-29", "2019-12-10T13:00:00+00:00"] {
            assert!(is_fhir_date_or_datetime(ok), "{ok}");
        }
        for bad in ["20", "2020-2-1", "10/02/2020", "", "2020-02-29 13:00"] {
            assert!(!is_fhir_date_or_datetime(bad), "{bad}");
        }
    }

    #[test]
    fn reader_accounts_for_every_line() {
        let input = concat!(
            r#"{"resourceType":"Patient","id":"a","gender":"female"}"#,
            "\n",
            "\n",
            r#"{"resourceType":"Patient","id":"b","gender":"f"}"#,
            "\n",
            r#"{"resourceType":"Observation","id":"c"}"#,
            "\n",
            r#"{"resourceType":"Patient","id":"#,
            "\n",
        );
        let read: NdjsonRead<Patient> = read_ndjson(input.as_bytes()).expect("in-memory read");
        assert_eq!(read.lines, 4);
        assert_eq!(read.resources.len(), 1);
        let lines: Vec<u64> = read.bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, vec![3, 4, 5]);
        assert_eq!(read.bad[0].element.as_deref(), Some("Patient.gender"));
        assert_eq!(read.bad[1].element.as_deref(), Some("resourceType"));
    }

    #[test]
    fn times_with_offsets_are_ordered_as_instants() {
        use std::cmp::Ordering::{Equal, Greater, Less};
        // The night the clocks go back: 01:50 BST is 00:50 UTC, before 01:10 GMT.
        assert_eq!(time_order("2020-10-25T01:50:00+01:00", "2020-10-25T01:10:00+00:00"), Some(Less));
        assert_eq!(time_order("2020-10-25T00:30:00+01:00", "2020-10-24T23:50:00+00:00"), Some(Less));
        assert_eq!(time_order("2020-01-01T10:00:00Z", "2020-01-01T11:00:00+01:00"), Some(Equal));
        assert_eq!(time_order("2020-01-01T10:00:00.5Z", "2020-01-01T10:00:00Z"), Some(Greater));
        // A date covers its day; dates compare at the precision both have.
        assert_eq!(time_order("2020-01-01", "2020-01-01T23:00:00+00:00"), Some(Equal));
        assert_eq!(time_order("2020", "2020-06-01"), Some(Equal));
        assert_eq!(time_order("2019-12-31", "2020-01-01T00:30:00+01:00"), Some(Less));
        assert_eq!(time_order("yesterday", "2020-01-01"), None);
    }

    #[test]
    fn an_encounter_across_a_clock_change_is_valid_and_one_that_really_ends_first_is_not() {
        let enc = |start: &str, end: &str| Encounter {
            resource_type: "Encounter".into(),
            id: Some("e".into()),
            status: Some("finished".into()),
            class: Some(Coding::new("http://terminology.hl7.org/CodeSystem/v3-ActCode", "EMER", "emergency")),
            subject: Some(Reference::to("Patient", "p")),
            period: Some(Period { start: Some(start.into()), end: Some(end.into()) }),
            ..Encounter::default()
        };
        assert_eq!(validate(&enc("2020-10-25T01:50:00+01:00", "2020-10-25T01:10:00+00:00")), vec![]);
        let p = validate(&enc("2020-10-25T01:10:00+00:00", "2020-10-25T01:50:00+01:00"));
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].element, "Encounter.period");
    }

    #[test]
    fn every_form_of_a_choice_is_read_and_two_forms_are_refused() {
        let line = r#"{"resourceType":"Procedure","id":"a","status":"completed","subject":{"reference":"Patient/p"},"performedPeriod":{"start":"2010-11-20T02:52:44-05:00","end":"2010-11-20T03:07:44-05:00"}}"#;
        let read: NdjsonRead<Procedure> = read_ndjson(line.as_bytes()).expect("in-memory read");
        assert_eq!(
            read.resources[0].1.performed_period.as_ref().and_then(|p| p.start.as_deref()),
            Some("2010-11-20T02:52:44-05:00")
        );
        let obs = r#"{"resourceType":"Observation","id":"o","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p"},"valueBoolean":false}"#;
        let read: NdjsonRead<Observation> = read_ndjson(obs.as_bytes()).expect("in-memory read");
        assert_eq!(read.resources[0].1.value(), Value::Boolean(false));
        let two = obs.replace("\"valueBoolean\":false", "\"valueBoolean\":false,\"valueInteger\":1");
        let read: NdjsonRead<Observation> = read_ndjson(two.as_bytes()).expect("in-memory read");
        assert_eq!(read.bad[0].element.as_deref(), Some("Observation.value[x]"));
    }

    #[test]
    fn a_byte_order_mark_at_the_start_of_a_file_is_skipped() {
        let mut input = UTF8_BOM.to_vec();
        input.extend_from_slice(br#"{"resourceType":"Patient","id":"a"}"#);
        let read: NdjsonRead<Patient> = read_ndjson(&input[..]).expect("in-memory read");
        assert_eq!((read.resources.len(), read.bad.len()), (1, 0));
    }

    #[test]
    fn invalid_utf8_is_a_bad_line_not_an_error() {
        let mut input = br#"{"resourceType":"Patient","id":"a"}"#.to_vec();
        input.extend_from_slice(b"\n\xff\xfe\n");
        let read: NdjsonRead<Patient> = read_ndjson(&input[..]).expect("in-memory read");
        assert_eq!((read.lines, read.resources.len(), read.bad.len()), (2, 1, 1));
        assert!(read.bad[0].reason.contains("UTF-8"));
    }
}
