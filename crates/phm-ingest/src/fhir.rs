//! FHIR R4 Bulk Data NDJSON (UK Core) onto the canonical tables.
//!
//! | resource | table | notes |
//! |---|---|---|
//! | Patient | `person_source`, `identity` | NHS number → pseudonym; postcode → LSOA through the store's postcode lookup |
//! | EpisodeOfCare | `registration` | `managingOrganization` is the practice |
//! | Condition | `condition` | date = `onsetDateTime`, else `onsetPeriod.start`, else `recordedDate` (also when onset is an age, range or text) |
//! | Observation | `observation` | date = `effective[x]` (dateTime, period start, instant, first timing event), else `issued`; one row per component when there are components (blood pressure) |
//! | MedicationStatement, MedicationRequest | `medication` | see "Medicines" below |
//! | Immunization | `immunisation` | UK Core vaccination procedure (SNOMED CT) if given, else `vaccineCode`; date = `occurrenceDateTime` |
//! | Encounter | `encounter` | setting from class, admission method and the sending organisation's kind |
//! | Procedure | `procedure` | date = `performedDateTime`, else `performedPeriod.start` (or its end when it gives only that) |
//!
//! **Choice types.** Every R4 form of `performed[x]`, `effective[x]`, `onset[x]`,
//! `abatement[x]`, `occurrence[x]` and `value[x]` is read. A form that gives no date
//! (`performedString`, `performedAge`, `performedRange`, `occurrenceString`) cannot place a
//! record in time: it is quarantined with a reason naming the form. A Condition whose onset is an
//! age, range or text is dated by `recordedDate`. `abatement[x]` is checked but not stored (the
//! `condition` table has no end).
//!
//! **Values.** `valueQuantity` → `value` and `unit` (held to the code's plausible range);
//! `valueInteger` → `value`; `valueBoolean` → `value` 1 (true) or 0 (false);
//! `valueCodeableConcept` → `value_code` and `value_code_system` (its first coding in a system
//! OpenPHM knows, checked like any code; a coded value in no known system is quarantined, as an
//! unknown code is). `valueString`, `valueRange`, `valueRatio`, `valueSampledData`, `valueTime`,
//! `valueDateTime` and `valuePeriod` have no canonical column: the observation is kept, with no
//! value.
//!
//! **Times** are compared as instants: an end is before a start only if it is earlier in UTC, so
//! an encounter across the autumn clock change is valid. Stored dates are the dates as recorded
//! (in the record's own offset); an end whose recorded date falls before its start's (possible
//! only across offsets) is stored as the start date.
//!
//! **Medicines.** A course starts on `MedicationStatement.effective[x]` (dateTime or period
//! start, else `dateAsserted`) or `MedicationRequest.authoredOn`. It ends on
//! `effectivePeriod.end`, or `dispenseRequest.validityPeriod.end` for a request. A course whose
//! status says it is over (`completed`, `stopped`, and a request's `cancelled`) but that gives no
//! end ends on its start date: the record says it is no longer current but not when it stopped,
//! and its start is the only date it gives, so it never reads as current after it. A statement
//! with status `not-taken` is quarantined (the medicine was not taken); `entered-in-error` is
//! quarantined as for every resource.
//!
//! Other resource types are counted by type and quarantined with the reason that OpenPHM does
//! not take them in. Records with status `entered-in-error` (and immunisations `not-done`) are
//! quarantined as not being records of care. References to the patient are resolved through
//! the same source's Patient resources, which are all read before any other resource, in
//! whatever file and order they come (a file may hold several resource types); a reference by
//! NHS number identifier is also accepted. A UTF-8 byte-order mark at the start of a file is
//! skipped; one anywhere else (files joined together) is quarantined with a reason that names it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash as _, Hasher as _};

use chrono::{Datelike as _, NaiveDate};
use phm_core::codes::{CodeSystem, uri};
use phm_formats::fhir::{self, CodeableConcept, Reference, Resource};
use phm_identity::PersonId;
use serde::de::DeserializeOwned;

use crate::check::{self, Lifespan, Problem, problem};
use crate::lines::{self, Block};
use crate::quarantine::{Reject, excerpt};
use crate::report::FileReport;
use crate::rows::{Accepted, Rows, Span, T};
use crate::{Error, FileCtx, InputFile, Progress, Result, SourceLoad, SourceSpec, SourceType};
use phm_store::Transaction;

/// What a block of NDJSON lines became.
#[derive(Default)]
pub struct BlockOut {
    /// Rows by table.
    pub rows: Rows,
    /// Accepted records.
    pub accepted: Vec<Accepted>,
    /// Rejected records.
    pub rejects: Vec<Reject>,
    /// Records by resource type.
    pub types: BTreeMap<String, u64>,
    /// Accepted Patient resources: index into `accepted`, local id, pseudonym, lifespan.
    pub patients: Vec<(usize, String, PersonId, Lifespan)>,
    /// Lines read.
    pub read: u64,
    /// Bytes of the block, for progress.
    pub bytes: u64,
}

/// The accepted Patient resources of one source, by their local id.
#[derive(Default)]
pub struct PatientIndex {
    /// Accepted: pseudonym and lifespan.
    pub accepted: HashMap<String, (PersonId, Lifespan)>,
    /// Rejected: the file and line that were rejected.
    pub rejected: HashMap<String, (String, u64)>,
}

/// Which lines of a file a pass over it takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// Every line.
    All,
    /// Only Patient resources (the first pass over a file that may hold them).
    Patients,
    /// Every line but Patient resources (the second pass over such a file).
    NotPatients,
}

/// Hash of a duplicate key.
pub fn key_hash(resource_type: &str, id: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    resource_type.hash(&mut h);
    id.hash(&mut h);
    h.finish().max(1)
}

/// The `resourceType` of a line, found without parsing the whole line.
fn resource_type(bytes: &[u8]) -> Option<&str> {
    const KEY: &[u8] = b"\"resourceType\"";
    let at = bytes.windows(KEY.len()).position(|w| w == KEY)?;
    let rest = &bytes[at + KEY.len()..];
    let rest = &rest[rest.iter().position(|b| !b.is_ascii_whitespace())?..];
    let rest = rest.strip_prefix(b":")?;
    let rest = &rest[rest.iter().position(|b| !b.is_ascii_whitespace())?..];
    let rest = rest.strip_prefix(b"\"")?;
    let end = rest.iter().position(|b| *b == b'"')?;
    std::str::from_utf8(&rest[..end]).ok()
}

/// Processes the lines of one block of an NDJSON file that `pass` takes.
pub fn process_block(ctx: &FileCtx<'_>, patients: &PatientIndex, block: &Block, pass: Pass) -> BlockOut {
    let mut out = BlockOut { bytes: block.bytes(), ..BlockOut::default() };
    for (line, bytes) in block.lines() {
        if pass != Pass::All {
            let patient = line.oversized.is_none() && resource_type(bytes) == Some("Patient");
            if patient != (pass == Pass::Patients) {
                continue;
            }
        }
        out.read += 1;
        if bytes.starts_with(fhir::UTF8_BOM) {
            out.rejects.push(Reject::line(line.number, "byte-order mark", "the line starts with a UTF-8 byte-order mark (EF BB BF), which belongs only at the start of a file: were files joined together?", bytes));
            *out.types.entry("(unreadable)".into()).or_default() += 1;
            continue;
        }
        if line.number == 1 && (bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF")) {
            out.rejects.push(Reject::line(
                line.number,
                "byte-order mark",
                "the file starts with a UTF-16 byte-order mark: it is UTF-16 text, and NDJSON must be UTF-8",
                bytes,
            ));
            *out.types.entry("(unreadable)".into()).or_default() += 1;
            continue;
        }
        if let Some(len) = line.oversized {
            out.rejects.push(Reject::line(
                line.number,
                "line too long",
                format!("line of {len} bytes is longer than the {} MiB limit for one resource", lines::MAX_LINE >> 20),
                b"",
            ));
            *out.types.entry("(unreadable)".into()).or_default() += 1;
            continue;
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            out.rejects.push(Reject::line(
                line.number,
                "empty line",
                "empty line: NDJSON has one resource on every line",
                bytes,
            ));
            *out.types.entry("(empty)".into()).or_default() += 1;
            continue;
        }
        if let Err(e) = std::str::from_utf8(bytes) {
            out.rejects.push(Reject::line(
                line.number,
                "invalid UTF-8",
                format!("not valid UTF-8 at byte {}", e.valid_up_to()),
                bytes,
            ));
            *out.types.entry("(unreadable)".into()).or_default() += 1;
            continue;
        }
        let rt = resource_type(bytes).unwrap_or("");
        *out.types.entry(if rt.is_empty() { "(unreadable)".to_owned() } else { rt.to_owned() }).or_default() += 1;
        let mut m = Mapper { ctx, patients, out: &mut out, line: line.number, bytes };
        let result = match rt {
            "Patient" => m.parse::<fhir::Patient>().and_then(|r| m.patient(r)),
            "EpisodeOfCare" => m.parse::<fhir::EpisodeOfCare>().and_then(|r| m.registration(r)),
            "Condition" => m.parse::<fhir::Condition>().and_then(|r| m.condition(r)),
            "Observation" => m.parse::<fhir::Observation>().and_then(|r| m.observation(r)),
            "MedicationStatement" => m.parse::<fhir::MedicationStatement>().and_then(|r| m.medication_statement(r)),
            "MedicationRequest" => m.parse::<fhir::MedicationRequest>().and_then(|r| m.medication_request(r)),
            "Immunization" => m.parse::<fhir::Immunization>().and_then(|r| m.immunization(r)),
            "Encounter" => m.parse::<fhir::Encounter>().and_then(|r| m.encounter(r)),
            "Procedure" => m.parse::<fhir::Procedure>().and_then(|r| m.procedure(r)),
            "" => Err(m.unreadable()),
            other => Err(Reject {
                record_type: other.to_owned(),
                ..Reject::line(
                    line.number,
                    "unsupported resource type",
                    format!("resource type `{}` is not one OpenPHM takes in", check::cut(other)),
                    bytes,
                )
            }),
        };
        if let Err(reject) = result {
            out.rejects.push(reject);
        }
    }
    out
}

struct Mapper<'a, 'o> {
    ctx: &'a FileCtx<'a>,
    patients: &'a PatientIndex,
    out: &'o mut BlockOut,
    line: u64,
    bytes: &'a [u8],
}

type R<T = ()> = Result<T, Reject>;

impl Mapper<'_, '_> {
    fn reject(&self, record_type: &str, id: Option<&str>, p: Problem) -> Reject {
        Reject {
            line: self.line,
            record_type: record_type.to_owned(),
            record_id: id.unwrap_or_default().to_owned(),
            field: p.field,
            kind: p.kind,
            reason: p.reason,
            record: excerpt(self.bytes),
        }
    }

    fn unreadable(&self) -> Reject {
        match serde_json::from_slice::<serde_json::Value>(self.bytes) {
            Err(e) => Reject::line(self.line, "invalid JSON", format!("not valid JSON: {e}"), self.bytes),
            Ok(serde_json::Value::Object(_)) => {
                Reject::line(self.line, "no resourceType", "a JSON object without a `resourceType` string", self.bytes)
            }
            Ok(_) => Reject::line(
                self.line,
                "invalid JSON",
                "not a JSON object: NDJSON holds one resource object per line",
                self.bytes,
            ),
        }
    }

    fn parse<X: Resource + DeserializeOwned>(&self) -> R<X> {
        let resource: X = serde_json::from_slice(self.bytes).map_err(|e| {
            let kind = if e.is_syntax() || e.is_eof() { "invalid JSON" } else { "wrong type" };
            Reject {
                record_type: X::TYPE.to_owned(),
                ..Reject::line(self.line, kind, format!("not a valid {} resource: {e}", X::TYPE), self.bytes)
            }
        })?;
        let problems = fhir::validate(&resource);
        if let Some(first) = problems.first() {
            let more = if problems.len() > 1 { format!(" (and {} more)", problems.len() - 1) } else { String::new() };
            return Err(self.reject(
                X::TYPE,
                resource.id(),
                problem(&first.element, "FHIR structure", format!("{} {}{more}", first.element, first.message)),
            ));
        }
        Ok(resource)
    }

    fn accept(&mut self, key: u64, spans: [Option<Span>; 2]) {
        self.out.accepted.push(Accepted { line: self.line, key, spans });
    }

    /// Resolves the patient a record is about.
    fn subject(&self, rt: &str, id: Option<&str>, field: &str, r: Option<&Reference>) -> R<(PersonId, Lifespan)> {
        let r = r.ok_or_else(|| self.reject(rt, id, problem(field, "missing patient", "is required")))?;
        if let Some(local) = r.id_of("Patient") {
            if let Some(found) = self.patients.accepted.get(local) {
                return Ok(*found);
            }
            let reason = match self.patients.rejected.get(local) {
                Some((file, line)) => format!("refers to Patient/{local}, which was rejected (line {line} of {file})"),
                None => format!("refers to Patient/{local}, which is not among this source's Patient resources"),
            };
            return Err(self.reject(rt, id, problem(field, "unknown patient", reason)));
        }
        if let Some(ident) = &r.identifier {
            if ident.system.as_deref() == Some(uri::NHS_NUMBER) {
                let nhs = check::nhs_number(&format!("{field}.identifier.value"), ident.value.as_deref().unwrap_or(""))
                    .map_err(|p| self.reject(rt, id, p))?;
                return Ok((self.ctx.key.person_id(nhs), Lifespan::default()));
            }
        }
        Err(self.reject(
            rt,
            id,
            problem(field, "unknown patient", "refers to no Patient of this source and carries no NHS number"),
        ))
    }

    /// The first coding of a concept in a code system OpenPHM knows, checked.
    fn coded(&self, rt: &str, id: Option<&str>, field: &str, c: Option<&CodeableConcept>) -> R<(CodeSystem, String)> {
        let c = c.ok_or_else(|| self.reject(rt, id, problem(field, "missing code", "is required")))?;
        for coding in &c.coding {
            let (Some(system), Some(code)) = (coding.system.as_deref(), coding.code.as_deref()) else { continue };
            if let Some(system) = CodeSystem::from_uri(system) {
                let code =
                    check::code(&format!("{field}.coding.code"), system, code).map_err(|p| self.reject(rt, id, p))?;
                return Ok((system, code));
            }
        }
        let systems: Vec<&str> = c.coding.iter().filter_map(|c| c.system.as_deref()).collect();
        let reason = if systems.is_empty() {
            "has no coding with a code system (text alone cannot be analysed)".to_owned()
        } else {
            format!(
                "has no coding in a code system OpenPHM knows (found {})",
                systems.iter().map(|s| check::cut(s)).collect::<Vec<_>>().join(", ")
            )
        };
        Err(self.reject(rt, id, problem(field, "unknown code system", reason)))
    }

    fn date(&self, rt: &str, id: Option<&str>, field: &str, text: Option<&str>, life: &Lifespan) -> R<NaiveDate> {
        let text = text.ok_or_else(|| {
            self.reject(rt, id, problem(field, "missing date", "no date is given: the record cannot be placed in time"))
        })?;
        let date = check::parse_date(field, text).map_err(|p| self.reject(rt, id, p))?;
        check::event_date(field, date, life, self.ctx.extract_date).map_err(|p| self.reject(rt, id, p))?;
        Ok(date)
    }

    /// The date of a record from the first form of its choice element that is given: each
    /// form is `(field, text)`. A form that gives no date (`performedString`, ...) is named in
    /// `undated` with what it holds; when it is the one given, the record is quarantined with a
    /// reason that says so. `choice` names the element when nothing is given.
    fn choice_date(
        &self,
        rt: &str,
        id: Option<&str>,
        choice: &str,
        forms: &[(&str, Option<&str>)],
        undated: &[(&str, Option<String>)],
        life: &Lifespan,
    ) -> R<NaiveDate> {
        if let Some((field, text)) = forms.iter().find(|(_, t)| t.is_some()) {
            return self.date(rt, id, field, *text, life);
        }
        if let Some((field, Some(held))) = undated.iter().find(|(_, t)| t.is_some()) {
            let reason = format!("{field} `{}` is not a date: the record cannot be placed in time", check::cut(held));
            return Err(self.reject(rt, id, problem(field, "not a date", reason)));
        }
        Err(self.reject(
            rt,
            id,
            problem(choice, "missing date", "no date is given: the record cannot be placed in time"),
        ))
    }

    /// The end of a period that starts at `start_text` (on `start`): parsed (and, given the
    /// person's `life`, checked like any event date), and not before the start, compared as
    /// instants. An end whose recorded date is before the start's while its instant is not
    /// (across time-zone offsets) is stored as the start's date. `what` names the period in
    /// the reason.
    #[expect(clippy::too_many_arguments, reason = "internal helper")]
    fn end_date(
        &self,
        rt: &str,
        id: Option<&str>,
        field: &str,
        text: Option<&str>,
        start: NaiveDate,
        start_text: &str,
        what: &str,
        life: Option<&Lifespan>,
    ) -> R<Option<NaiveDate>> {
        let Some(t) = text else { return Ok(None) };
        let end = match life {
            Some(life) => self.date(rt, id, field, Some(t), life)?,
            None => check::parse_date(field, t).map_err(|p| self.reject(rt, id, p))?,
        };
        let before = match fhir::time_order(t, start_text) {
            Some(order) => order == std::cmp::Ordering::Less,
            None => end < start,
        };
        if before {
            return Err(self.reject(
                rt,
                id,
                problem(
                    field,
                    "end before start",
                    format!("{what} ends {}, before it starts {}", check::cut(t), check::cut(start_text)),
                ),
            ));
        }
        Ok(Some(end.max(start)))
    }

    /// An observation's (or component's) code, checked, and its value in whatever form it was
    /// given: a quantity or integer held to the code's plausible range, a boolean as 1 or 0, a
    /// coded value checked like any code. `at` is the element (`Observation`,
    /// `Observation.component[0]`).
    fn measured(
        &self,
        rt: &str,
        id: Option<&str>,
        at: &str,
        concept: Option<&CodeableConcept>,
        value: fhir::Value<'_>,
    ) -> R<Measured> {
        let (system, code) = self.coded(rt, id, &format!("{at}.code"), concept)?;
        let mut m = Measured { system, code, value: None, unit: None, value_code: None };
        match value {
            fhir::Value::Quantity(q) => {
                m.value = q.value;
                m.unit = q.code.clone().or_else(|| q.unit.clone());
                if let Some(v) = m.value {
                    check::plausible(&format!("{at}.valueQuantity.value"), system, &m.code, v, m.unit.as_deref())
                        .map_err(|p| self.reject(rt, id, p))?;
                }
            }
            fhir::Value::Integer(i) => {
                let v = i as f64;
                check::plausible(&format!("{at}.valueInteger"), system, &m.code, v, None)
                    .map_err(|p| self.reject(rt, id, p))?;
                m.value = Some(v);
            }
            fhir::Value::Boolean(b) => m.value = Some(if b { 1.0 } else { 0.0 }),
            fhir::Value::CodeableConcept(c) => {
                m.value_code = Some(self.coded(rt, id, &format!("{at}.valueCodeableConcept"), Some(c))?)
            }
            fhir::Value::String(_) | fhir::Value::Other(_) | fhir::Value::None => {}
        }
        Ok(m)
    }

    fn not_in_error(&self, rt: &str, id: Option<&str>, status: Option<&str>) -> R {
        if status == Some("entered-in-error") {
            return Err(self.reject(
                rt,
                id,
                problem(
                    &format!("{rt}.status"),
                    "entered in error",
                    "status is entered-in-error: not a record of care",
                ),
            ));
        }
        Ok(())
    }

    fn patient(&mut self, p: fhir::Patient) -> R {
        let id = p.id.as_deref();
        let rt = "Patient";
        // A placeholder NHS number (`check::placeholder_nhs_number`) links no one: the Patient is
        // kept under a local pseudonym, as one with no NHS number is, and counted at ingest.
        let nhs = match p.nhs_number().map(|text| check::nhs_number("Patient.identifier(nhs-number).value", text)) {
            Some(Ok(n)) => Some(n),
            Some(Err(e)) if e.kind == check::PLACEHOLDER_NHS_NUMBER => None,
            Some(Err(e)) => return Err(self.reject(rt, id, e)),
            None => None,
        };
        let person_id = match nhs {
            Some(n) => self.ctx.key.person_id(n),
            None => self.ctx.key.local_person_id(self.ctx.source, id.unwrap_or_default()),
        };
        let linked = nhs.is_some();
        let birth = p.birth_date.as_deref().map(|t| check::parse_date("Patient.birthDate", t));
        let (birth_day, year, month) = match birth {
            Some(Ok(d)) => (Some(d), Some(d.year()), Some(d.month())),
            Some(Err(e)) if e.kind == "partial date" => {
                let t = p.birth_date.as_deref().unwrap_or_default();
                (None, t.get(..4).and_then(|y| y.parse().ok()), t.get(5..7).and_then(|m| m.parse().ok()))
            }
            Some(Err(e)) => return Err(self.reject(rt, id, e)),
            None => (None, None, None),
        };
        let death = match p.deceased_date_time.as_deref() {
            Some(t) => Some(check::parse_date("Patient.deceasedDateTime", t).map_err(|e| self.reject(rt, id, e))?),
            None => None,
        };
        check::birth_and_death(
            birth_day,
            death,
            self.ctx.extract_date,
            "Patient.birthDate",
            "Patient.deceasedDateTime",
        )
        .map_err(|e| self.reject(rt, id, e))?;
        if year.is_some_and(|y| !(1900..=2100).contains(&y)) {
            return Err(self.reject(
                rt,
                id,
                problem("Patient.birthDate", "implausible age", "year of birth outside 1900-2100"),
            ));
        }
        let address = p.address.iter().find(|a| a.use_.as_deref() == Some("home")).or(p.address.first());
        let postcode = address.and_then(|a| a.postal_code.as_deref());
        let area = postcode.and_then(|pc| self.ctx.postcodes.get(&crate::normalise_postcode(pc)));
        let practice = p.general_practitioner.iter().find_map(Reference::ods_code);
        let ethnic = p.ethnic_category().filter(|c| *c != "Z" && *c != "99");
        let pid = person_id.to_hex();

        let start = self.out.rows.len(T::PersonSource);
        let b = self.out.rows.get(T::PersonSource);
        b.push_text(Some(&pid))
            .push_text(Some(self.ctx.source))
            .push_text(Some(self.ctx.source_type.name()))
            .push_text(Some(self.ctx.source_org))
            .push_bool(Some(linked))
            .push_small(year.map(|y| y as i16))
            .push_small(month.map(|m| m as i16))
            .push_text(Some(p.gender.as_deref().unwrap_or("unknown")))
            .push_text(ethnic)
            .push_text(area.map(String::as_str))
            .push_text(practice)
            .push_date(death)
            .push_date(Some(self.ctx.extract_date))
            .end_row();
        let name = p.name.iter().find(|n| n.use_.as_deref() == Some("official")).or(p.name.first());
        let b = self.out.rows.get(T::Identity);
        b.push_text(Some(&pid))
            .push_text(p.nhs_number().map(|n| n.replace(' ', "")).as_deref().or(Some("")))
            .push_text(name.and_then(|n| n.given.first()).map(String::as_str))
            .push_text(name.and_then(|n| n.family.as_deref()))
            .push_date(birth_day)
            .push_text(address.and_then(|a| a.line.first()).map(String::as_str))
            .push_text(address.and_then(|a| a.city.as_deref()))
            .push_text(postcode)
            .push_text(Some(self.ctx.source))
            .end_row();
        let key = key_hash(rt, id.unwrap_or_default());
        let idx = self.out.accepted.len();
        self.accept(
            key,
            [
                Some(Span { table: T::PersonSource, start, count: 1 }),
                Some(Span { table: T::Identity, start, count: 1 }),
            ],
        );
        self.out.patients.push((
            idx,
            id.unwrap_or_default().to_owned(),
            person_id,
            Lifespan { birth: birth_day, death },
        ));
        Ok(())
    }

    fn registration(&mut self, e: fhir::EpisodeOfCare) -> R {
        let (rt, id) = ("EpisodeOfCare", e.id.as_deref());
        self.not_in_error(rt, id, e.status.as_deref())?;
        let (person, life) = self.subject(rt, id, "EpisodeOfCare.patient", e.patient.as_ref())?;
        let practice = e.managing_organization.as_ref().and_then(Reference::ods_code).ok_or_else(|| {
            self.reject(
                rt,
                id,
                problem("EpisodeOfCare.managingOrganization", "missing practice", "must name the practice by ODS code"),
            )
        })?;
        let period = e.period.as_ref();
        let start_text = period.and_then(|p| p.start.as_deref());
        let start = self.date(rt, id, "EpisodeOfCare.period.start", start_text, &Lifespan { death: None, ..life })?;
        let end = self.end_date(
            rt,
            id,
            "EpisodeOfCare.period.end",
            period.and_then(|p| p.end.as_deref()),
            start,
            start_text.unwrap_or_default(),
            "registration",
            None,
        )?;
        let row = self.out.rows.len(T::Registration);
        self.out
            .rows
            .get(T::Registration)
            .push_text(Some(&person.to_hex()))
            .push_text(Some(practice))
            .push_date(Some(start))
            .push_date(end)
            .push_text(Some(self.ctx.source))
            .end_row();
        self.accept(
            key_hash(rt, id.unwrap_or_default()),
            [Some(Span { table: T::Registration, start: row, count: 1 }), None],
        );
        Ok(())
    }

    fn condition(&mut self, c: fhir::Condition) -> R {
        let (rt, id) = ("Condition", c.id.as_deref());
        if c.verification_status.as_ref().and_then(|v| v.coding.first()).and_then(|c| c.code.as_deref())
            == Some("entered-in-error")
        {
            return Err(self.reject(
                rt,
                id,
                problem(
                    "Condition.verificationStatus",
                    "entered in error",
                    "verification status is entered-in-error: not a record of care",
                ),
            ));
        }
        let (person, life) = self.subject(rt, id, "Condition.subject", c.subject.as_ref())?;
        let (system, code) = self.coded(rt, id, "Condition.code", c.code.as_ref())?;
        // onsetAge, onsetRange and onsetString give no date: the date recorded stands in.
        let onset_period = c.onset_period.as_ref();
        let undated = [
            (
                "Condition.onsetAge",
                c.onset_age.as_ref().map(|q| {
                    format!(
                        "{} {}",
                        q.value.unwrap_or_default(),
                        q.unit.as_deref().or(q.code.as_deref()).unwrap_or_default()
                    )
                }),
            ),
            ("Condition.onsetRange", c.onset_range.as_ref().map(|_| "a range of ages".to_owned())),
            ("Condition.onsetString", c.onset_string.clone()),
        ];
        let forms = [
            ("Condition.onsetDateTime", c.onset_date_time.as_deref()),
            ("Condition.onsetPeriod.start", onset_period.and_then(|p| p.start.as_deref())),
            ("Condition.onsetPeriod.end", onset_period.and_then(|p| p.end.as_deref())),
            ("Condition.recordedDate", c.recorded_date.as_deref()),
        ];
        let date = self.choice_date(rt, id, "Condition.onset[x]", &forms, &undated, &life)?;
        let encounter =
            c.encounter.as_ref().and_then(|r| r.id_of("Encounter")).map(|e| format!("{}/{e}", self.ctx.source));
        let row = self.out.rows.len(T::Condition);
        self.out
            .rows
            .get(T::Condition)
            .push_text(Some(&person.to_hex()))
            .push_text(Some(&code))
            .push_text(Some(system.name()))
            .push_date(Some(date))
            .push_small(None)
            .push_text(encounter.as_deref())
            .push_text(Some(self.ctx.source_org))
            .push_text(Some(self.ctx.source))
            .end_row();
        self.accept(
            key_hash(rt, id.unwrap_or_default()),
            [Some(Span { table: T::Condition, start: row, count: 1 }), None],
        );
        Ok(())
    }

    fn observation(&mut self, o: fhir::Observation) -> R {
        let (rt, id) = ("Observation", o.id.as_deref());
        if matches!(o.status.as_deref(), Some("entered-in-error" | "cancelled")) {
            return Err(self.reject(
                rt,
                id,
                problem(
                    "Observation.status",
                    "entered in error",
                    format!("status is {}: not a result", o.status.as_deref().unwrap_or_default()),
                ),
            ));
        }
        let (person, life) = self.subject(rt, id, "Observation.subject", o.subject.as_ref())?;
        // The clinically relevant time: effective[x] (dateTime, period start, instant, the
        // first event of a timing), else when the result was issued.
        let period = o.effective_period.as_ref();
        let forms = [
            ("Observation.effectiveDateTime", o.effective_date_time.as_deref()),
            ("Observation.effectivePeriod.start", period.and_then(|p| p.start.as_deref())),
            ("Observation.effectivePeriod.end", period.and_then(|p| p.end.as_deref())),
            ("Observation.effectiveInstant", o.effective_instant.as_deref()),
            (
                "Observation.effectiveTiming.event",
                o.effective_timing.as_ref().and_then(|t| t.event.first()).map(String::as_str),
            ),
            ("Observation.issued", o.issued.as_deref()),
        ];
        let undated =
            [("Observation.effectiveTiming", o.effective_timing.as_ref().map(|_| "a timing with no event".to_owned()))];
        let date = self.choice_date(rt, id, "Observation.effective[x]", &forms, &undated, &life)?;
        let encounter =
            o.encounter.as_ref().and_then(|r| r.id_of("Encounter")).map(|e| format!("{}/{e}", self.ctx.source));
        // Components (blood pressure) become one row each; otherwise the observation itself.
        let mut values: Vec<Measured> = Vec::new();
        if o.component.is_empty() {
            values.push(self.measured(rt, id, "Observation", o.code.as_ref(), o.value())?);
        } else {
            for (i, comp) in o.component.iter().enumerate() {
                values.push(self.measured(
                    rt,
                    id,
                    &format!("Observation.component[{i}]"),
                    Some(&comp.code),
                    comp.value(),
                )?);
            }
        }
        let start = self.out.rows.len(T::Observation);
        let pid = person.to_hex();
        for m in &values {
            self.out
                .rows
                .get(T::Observation)
                .push_text(Some(&pid))
                .push_text(Some(&m.code))
                .push_text(Some(m.system.name()))
                .push_date(Some(date))
                .push_float(m.value)
                .push_text(m.unit.as_deref())
                .push_text(m.value_code.as_ref().map(|(_, c)| c.as_str()))
                .push_text(m.value_code.as_ref().map(|(s, _)| s.name()))
                .push_text(encounter.as_deref())
                .push_text(Some(self.ctx.source_org))
                .push_text(Some(self.ctx.source))
                .end_row();
        }
        self.accept(
            key_hash(rt, id.unwrap_or_default()),
            [Some(Span { table: T::Observation, start, count: values.len() as u32 }), None],
        );
        Ok(())
    }

    fn medication_row(
        &mut self,
        rt: &str,
        id: Option<&str>,
        person: PersonId,
        system: CodeSystem,
        code: &str,
        date: NaiveDate,
        end: Option<NaiveDate>,
    ) {
        let row = self.out.rows.len(T::Medication);
        self.out
            .rows
            .get(T::Medication)
            .push_text(Some(&person.to_hex()))
            .push_text(Some(code))
            .push_text(Some(system.name()))
            .push_date(Some(date))
            .push_date(end)
            .push_text(Some(self.ctx.source_org))
            .push_text(Some(self.ctx.source))
            .end_row();
        self.accept(
            key_hash(rt, id.unwrap_or_default()),
            [Some(Span { table: T::Medication, start: row, count: 1 }), None],
        );
    }

    fn medication_statement(&mut self, m: fhir::MedicationStatement) -> R {
        let (rt, id) = ("MedicationStatement", m.id.as_deref());
        self.not_in_error(rt, id, m.status.as_deref())?;
        if m.status.as_deref() == Some("not-taken") {
            return Err(self.reject(
                rt,
                id,
                problem(
                    "MedicationStatement.status",
                    "not taken",
                    "status is not-taken: the patient did not take the medicine, so it is no course of it",
                ),
            ));
        }
        let (person, life) = self.subject(rt, id, "MedicationStatement.subject", m.subject.as_ref())?;
        let (system, code) = self.coded(
            rt,
            id,
            "MedicationStatement.medicationCodeableConcept",
            m.medication_codeable_concept.as_ref(),
        )?;
        let period = m.effective_period.as_ref();
        let forms = [
            ("MedicationStatement.effectiveDateTime", m.effective_date_time.as_deref()),
            ("MedicationStatement.effectivePeriod.start", period.and_then(|p| p.start.as_deref())),
            ("MedicationStatement.dateAsserted", m.date_asserted.as_deref()),
        ];
        let date = self.choice_date(rt, id, "MedicationStatement.effective[x]", &forms, &[], &life)?;
        let start_text = forms.iter().find_map(|(_, t)| *t).unwrap_or_default();
        let end = self.end_date(
            rt,
            id,
            "MedicationStatement.effectivePeriod.end",
            period.and_then(|p| p.end.as_deref()),
            date,
            start_text,
            "the course",
            None,
        )?;
        let end = end.or_else(|| course_over(m.status.as_deref()).then_some(date));
        self.medication_row(rt, id, person, system, &code, date, end);
        Ok(())
    }

    fn medication_request(&mut self, m: fhir::MedicationRequest) -> R {
        let (rt, id) = ("MedicationRequest", m.id.as_deref());
        self.not_in_error(rt, id, m.status.as_deref())?;
        let (person, life) = self.subject(rt, id, "MedicationRequest.subject", m.subject.as_ref())?;
        if m.medication_codeable_concept.is_none() {
            return Err(self.reject(rt, id, problem("MedicationRequest.medicationReference", "unresolved reference", "names the medicine by reference to a Medication resource, which a Bulk export carries separately; only medicationCodeableConcept is taken in")));
        }
        let (system, code) =
            self.coded(rt, id, "MedicationRequest.medicationCodeableConcept", m.medication_codeable_concept.as_ref())?;
        let date = self.date(rt, id, "MedicationRequest.authoredOn", m.authored_on.as_deref(), &life)?;
        let validity = m.dispense_request.as_ref().and_then(|d| d.validity_period.as_ref());
        let end = self.end_date(
            rt,
            id,
            "MedicationRequest.dispenseRequest.validityPeriod.end",
            validity.and_then(|p| p.end.as_deref()),
            date,
            m.authored_on.as_deref().unwrap_or_default(),
            "the prescription",
            None,
        )?;
        let end = end
            .or_else(|| (course_over(m.status.as_deref()) || m.status.as_deref() == Some("cancelled")).then_some(date));
        self.medication_row(rt, id, person, system, &code, date, end);
        Ok(())
    }

    fn immunization(&mut self, i: fhir::Immunization) -> R {
        let (rt, id) = ("Immunization", i.id.as_deref());
        self.not_in_error(rt, id, i.status.as_deref())?;
        if i.status.as_deref() == Some("not-done") {
            return Err(self.reject(
                rt,
                id,
                problem(
                    "Immunization.status",
                    "not done",
                    "status is not-done: no vaccine was given (declines and contraindications are not yet taken in)",
                ),
            ));
        }
        let (person, life) = self.subject(rt, id, "Immunization.patient", i.patient.as_ref())?;
        let (system, code) = match i.vaccination_procedure() {
            Some(c) => self.coded(
                rt,
                id,
                "Immunization.extension(vaccinationProcedure)",
                Some(&CodeableConcept { coding: vec![c.clone()], text: None }),
            )?,
            None => self.coded(rt, id, "Immunization.vaccineCode", i.vaccine_code.as_ref())?,
        };
        let date = self.choice_date(
            rt,
            id,
            "Immunization.occurrence[x]",
            &[("Immunization.occurrenceDateTime", i.occurrence_date_time.as_deref())],
            &[("Immunization.occurrenceString", i.occurrence_string.clone())],
            &life,
        )?;
        let dose = i.protocol_applied.first().and_then(|p| p.dose_number_positive_int);
        if dose.is_some_and(|d| !(1..=10).contains(&d)) {
            return Err(self.reject(
                rt,
                id,
                problem(
                    "Immunization.protocolApplied.doseNumberPositiveInt",
                    "implausible value",
                    "dose number outside 1-10",
                ),
            ));
        }
        let row = self.out.rows.len(T::Immunisation);
        self.out
            .rows
            .get(T::Immunisation)
            .push_text(Some(&person.to_hex()))
            .push_text(Some(&code))
            .push_text(Some(system.name()))
            .push_date(Some(date))
            .push_small(dose.map(|d| d as i16))
            .push_text(Some(self.ctx.source_org))
            .push_text(Some(self.ctx.source))
            .end_row();
        self.accept(
            key_hash(rt, id.unwrap_or_default()),
            [Some(Span { table: T::Immunisation, start: row, count: 1 }), None],
        );
        Ok(())
    }

    fn encounter(&mut self, e: fhir::Encounter) -> R {
        let (rt, id) = ("Encounter", e.id.as_deref());
        if matches!(e.status.as_deref(), Some("entered-in-error" | "cancelled" | "planned")) {
            return Err(self.reject(
                rt,
                id,
                problem(
                    "Encounter.status",
                    "not a contact",
                    format!("status is {}: no contact took place", e.status.as_deref().unwrap_or_default()),
                ),
            ));
        }
        let (person, life) = self.subject(rt, id, "Encounter.subject", e.subject.as_ref())?;
        let period = e.period.as_ref();
        let start_text = period.and_then(|p| p.start.as_deref());
        let start = self.date(rt, id, "Encounter.period.start", start_text, &life)?;
        let end = self.end_date(
            rt,
            id,
            "Encounter.period.end",
            period.and_then(|p| p.end.as_deref()),
            start,
            start_text.unwrap_or_default(),
            "the encounter",
            Some(&life),
        )?;
        let class = e.class.as_ref().and_then(|c| c.code.as_deref()).unwrap_or_default();
        let setting = setting(
            self.ctx.source_type,
            class,
            e.admission_method(),
            e.service_type.as_ref().and_then(|s| s.text.as_deref()),
        )
        .ok_or_else(|| {
            self.reject(
                rt,
                id,
                problem(
                    "Encounter.class",
                    "unknown setting",
                    format!(
                        "class `{}` from a {} names no care setting OpenPHM knows",
                        check::cut(class),
                        self.ctx.source_type.name()
                    ),
                ),
            )
        })?;
        let code = match e.r#type.first() {
            Some(t) if !t.coding.is_empty() => Some(self.coded(rt, id, "Encounter.type", Some(t))?.1),
            _ => None,
        };
        let row = self.out.rows.len(T::Encounter);
        let eid = format!("{}/{}", self.ctx.source, id.unwrap_or_default());
        self.out
            .rows
            .get(T::Encounter)
            .push_text(Some(&eid))
            .push_text(Some(&person.to_hex()))
            .push_text(Some(setting))
            .push_date(Some(start))
            .push_date(end)
            .push_text(code.as_deref())
            .push_text(Some(self.ctx.source_org))
            .push_text(Some(self.ctx.source))
            .end_row();
        self.accept(
            key_hash(rt, id.unwrap_or_default()),
            [Some(Span { table: T::Encounter, start: row, count: 1 }), None],
        );
        Ok(())
    }

    fn procedure(&mut self, p: fhir::Procedure) -> R {
        let (rt, id) = ("Procedure", p.id.as_deref());
        if matches!(p.status.as_deref(), Some("entered-in-error" | "not-done" | "preparation")) {
            return Err(self.reject(
                rt,
                id,
                problem(
                    "Procedure.status",
                    "not done",
                    format!("status is {}: the procedure was not performed", p.status.as_deref().unwrap_or_default()),
                ),
            ));
        }
        let (person, life) = self.subject(rt, id, "Procedure.subject", p.subject.as_ref())?;
        let (system, code) = self.coded(rt, id, "Procedure.code", p.code.as_ref())?;
        let period = p.performed_period.as_ref();
        let forms = [
            ("Procedure.performedDateTime", p.performed_date_time.as_deref()),
            ("Procedure.performedPeriod.start", period.and_then(|p| p.start.as_deref())),
            ("Procedure.performedPeriod.end", period.and_then(|p| p.end.as_deref())),
        ];
        let undated = [
            ("Procedure.performedString", p.performed_string.clone()),
            (
                "Procedure.performedAge",
                p.performed_age.as_ref().map(|q| {
                    format!(
                        "{} {}",
                        q.value.unwrap_or_default(),
                        q.unit.as_deref().or(q.code.as_deref()).unwrap_or_default()
                    )
                }),
            ),
            ("Procedure.performedRange", p.performed_range.as_ref().map(|_| "a range of ages".to_owned())),
        ];
        let date = self.choice_date(rt, id, "Procedure.performed[x]", &forms, &undated, &life)?;
        let encounter =
            p.encounter.as_ref().and_then(|r| r.id_of("Encounter")).map(|e| format!("{}/{e}", self.ctx.source));
        let row = self.out.rows.len(T::Procedure);
        self.out
            .rows
            .get(T::Procedure)
            .push_text(Some(&person.to_hex()))
            .push_text(Some(&code))
            .push_text(Some(system.name()))
            .push_date(Some(date))
            .push_text(encounter.as_deref())
            .push_text(Some(self.ctx.source_org))
            .push_text(Some(self.ctx.source))
            .end_row();
        self.accept(
            key_hash(rt, id.unwrap_or_default()),
            [Some(Span { table: T::Procedure, start: row, count: 1 }), None],
        );
        Ok(())
    }
}

/// Loads a FHIR source in two passes, so that the order of resources within and across its
/// files does not matter: first the Patient resources of every file that may hold them (a
/// file declared as holding Patients, or one whose type is not declared: a file may mix
/// resource types), then everything else, each resource finding its patient among all of the
/// source's Patients. A file declared as holding one other type is read once. Reports list the
/// files that start with Patients first; a mixed file's quarantine rows list its Patients first.
pub(crate) fn load(
    ctx: &FileCtx<'_>,
    spec: &SourceSpec,
    tx: &mut Transaction,
    load: &mut SourceLoad,
    progress: &dyn Progress,
) -> Result<Vec<FileReport>> {
    let may_hold_patients = |f: &InputFile| f.resource_type.as_deref().is_none_or(|t| t == "Patient");
    let starts_with_patients = |f: &InputFile| match &f.resource_type {
        Some(t) => t == "Patient",
        None => first_resource_type(&f.path).as_deref() == Some("Patient"),
    };
    let mut files: Vec<(&InputFile, bool)> = spec.files.iter().map(|f| (f, starts_with_patients(f))).collect();
    files.sort_by_key(|(_, patient)| !patient);
    let mut patients = PatientIndex::default();
    let mut seen: HashMap<u64, (usize, u64)> = HashMap::new();
    let mut reports: Vec<FileReport> = files
        .iter()
        .map(|(f, _)| FileReport {
            path: f.display.clone(),
            format: "fhir-ndjson".into(),
            declared: f.declared,
            ..FileReport::default()
        })
        .collect();
    let names: Vec<&str> = files.iter().map(|(f, _)| f.display.as_str()).collect();
    // Bytes are counted for progress once per file: in its last pass.
    let first_pass: Vec<bool> = files.iter().map(|(f, _)| may_hold_patients(f)).collect();
    for pass in [Pass::Patients, Pass::NotPatients] {
        for (i, &(f, _)) in files.iter().enumerate() {
            let pass = match (pass, first_pass[i]) {
                (Pass::Patients, false) => continue,
                (Pass::NotPatients, false) => Pass::All,
                (p, true) => p,
                (Pass::All, _) => Pass::All,
            };
            let count_bytes = pass != Pass::Patients;
            let mut found: Vec<(String, PersonId, Lifespan)> = Vec::new();
            let mut rejected: Vec<(String, u64)> = Vec::new();
            let report = &mut reports[i];
            let file = crate::open_input(&f.path)?;
            let index = &patients;
            let work = |block: &Block| process_block(ctx, index, block, pass);
            let merge = |mut out: BlockOut| -> Result<()> {
                if count_bytes {
                    progress.advance(out.bytes);
                }
                report.read += out.read;
                for (t, n) in std::mem::take(&mut out.types) {
                    *report.record_types.entry(t).or_default() += n;
                }
                // Duplicates: the same resource type and id again in this source.
                let mut drop = Vec::new();
                for (k, a) in out.accepted.iter().enumerate() {
                    if a.key == 0 {
                        continue;
                    }
                    match seen.entry(a.key) {
                        std::collections::hash_map::Entry::Vacant(e) => {
                            e.insert((i, a.line));
                        }
                        std::collections::hash_map::Entry::Occupied(e) => {
                            let (fi, line) = *e.get();
                            drop.push(k);
                            out.rejects.push(Reject::line(
                                a.line,
                                "duplicate record",
                                format!("same resource type and id as line {line} of {}, which was kept", names[fi]),
                                b"",
                            ));
                        }
                    }
                }
                let dropped: HashSet<usize> = drop.iter().copied().collect();
                for (k, id, person, life) in std::mem::take(&mut out.patients) {
                    if !dropped.contains(&k) {
                        found.push((id, person, life));
                    }
                }
                for r in &out.rejects {
                    if r.record_type == "Patient" && !r.record_id.is_empty() {
                        rejected.push((r.record_id.clone(), r.line));
                    }
                }
                report.accepted += (out.accepted.len() - drop.len()) as u64;
                out.rejects.sort_by_key(|r| r.line);
                for r in &out.rejects {
                    load.quarantine.reject(report, &f.display, r)?;
                }
                load.write_rows(tx, ctx.source, &mut out.rows, &out.accepted, &drop, report)
            };
            lines::for_each_block(file, |source| Error::Io { path: f.path.clone(), source }, work, merge)?;
            for (id, person, life) in found {
                patients.accepted.entry(id).or_insert((person, life));
            }
            for (id, line) in rejected {
                if !patients.accepted.contains_key(&id) {
                    patients.rejected.entry(id).or_insert_with(|| (f.display.clone(), line));
                }
            }
        }
    }
    Ok(reports)
}

/// The `resourceType` of a file's first line (after a byte-order mark), if it has one.
fn first_resource_type(path: &std::path::Path) -> Option<String> {
    use std::io::{BufRead as _, Read as _};
    let file = crate::open_input(path).ok()?;
    let mut line = Vec::new();
    std::io::BufReader::new(file).take(1 << 20).read_until(b'\n', &mut line).ok()?;
    let line = line.strip_prefix(fhir::UTF8_BOM).unwrap_or(&line);
    resource_type(line).map(str::to_owned)
}

/// One observation row's code and value.
struct Measured {
    system: CodeSystem,
    code: String,
    value: Option<f64>,
    unit: Option<String>,
    value_code: Option<(CodeSystem, String)>,
}

/// Whether a medicine's status says the course is over (R4 MedicationStatement and
/// MedicationRequest both have `completed` and `stopped`).
fn course_over(status: Option<&str>) -> bool {
    matches!(status, Some("completed" | "stopped"))
}

/// The care setting of an encounter, from its class (v3 ActCode), admission method (NHS Data
/// Dictionary: 1x elective, 2x emergency, others maternity and transfers), the service type
/// text, and the kind of organisation that sent it.
pub fn setting(
    source_type: SourceType,
    class: &str,
    admission_method: Option<&str>,
    service: Option<&str>,
) -> Option<&'static str> {
    let mental = service.is_some_and(|s| s.to_ascii_lowercase().contains("mental health"));
    Some(match class {
        "EMER" => "ae",
        "IMP" | "ACUTE" | "NONAC" | "SS" => match admission_method.and_then(|m| m.chars().next()) {
            Some('1') => "elective_admission",
            Some('2') => "emergency_admission",
            _ => "other_admission",
        },
        "AMB" | "HH" | "VR" | "FLD" => match source_type {
            SourceType::GpPractice => "gp",
            SourceType::MentalHealthTrust => "mental_health",
            SourceType::CommunityTrust if mental => "mental_health",
            SourceType::CommunityTrust => "community",
            SourceType::LocalAuthority => "social_care",
            _ if mental => "mental_health",
            _ if class == "HH" => "community",
            _ => "outpatient",
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resource_type_is_found_without_a_full_parse() {
        assert_eq!(resource_type(br#"{"resourceType":"Patient","id":"a"}"#), Some("Patient"));
        assert_eq!(resource_type(br#"{ "id":"a", "resourceType" : "Condition" }"#), Some("Condition"));
        assert_eq!(resource_type(br#"{"id":"a"}"#), None);
    }

    #[test]
    fn settings_follow_class_method_and_sender() {
        assert_eq!(setting(SourceType::AcuteTrust, "IMP", Some("21"), None), Some("emergency_admission"));
        assert_eq!(setting(SourceType::AcuteTrust, "IMP", Some("11"), None), Some("elective_admission"));
        assert_eq!(setting(SourceType::AcuteTrust, "IMP", Some("31"), None), Some("other_admission"));
        assert_eq!(setting(SourceType::AcuteTrust, "AMB", None, None), Some("outpatient"));
        assert_eq!(setting(SourceType::GpPractice, "AMB", None, None), Some("gp"));
        assert_eq!(
            setting(SourceType::CommunityTrust, "AMB", None, Some("Mental health services")),
            Some("mental_health")
        );
        assert_eq!(
            setting(SourceType::CommunityTrust, "HH", None, Some("Community health services")),
            Some("community")
        );
        assert_eq!(setting(SourceType::AcuteTrust, "XYZ", None, None), None);
    }
}
