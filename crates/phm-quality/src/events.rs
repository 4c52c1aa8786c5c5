//! One source's event tables (and registrations), read batch by batch: references, codes,
//! dates against the person's life and the extract, values against plausible ranges, and
//! the same event sent twice.

use chrono::NaiveDate;
use phm_core::codes::{CodeSystem, check_code};
use phm_core::schema::{CONDITION, ENCOUNTER, IMMUNISATION, MEDICATION, OBSERVATION, PROCEDURE, REGISTRATION, Table};
use phm_core::setting::Setting;
use phm_store::batch::from_date32;

use crate::checks::Emitter;
use crate::persons::{People, Person, Tally};
use crate::plausible::Sex;
use crate::report::CheckResult;
use crate::scan::{KeySet, hash_str, opt, opt_text, person_key, scan};
use crate::{Ctx, Result, SourceInfo};

/// How a table is coded.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Coded {
    /// `code` with its `code_system`.
    WithSystem,
    /// An optional SNOMED CT `code` (the encounter type).
    OptionalSnomed,
    /// No code.
    No,
}

/// What the checks need to know about an event table.
struct Spec {
    table: &'static Table,
    /// The event's date.
    date: &'static str,
    /// Its end, if it has one.
    end: Option<&'static str>,
    coded: Coded,
    /// Whether rows may name an `encounter_id`.
    encounter_ref: bool,
    /// The columns on which two rows are the same event.
    same_event: &'static [&'static str],
}

/// Encounters first: the others refer to them.
static SPECS: [Spec; 7] = [
    Spec {
        table: &ENCOUNTER,
        date: "start_date",
        end: Some("end_date"),
        coded: Coded::OptionalSnomed,
        encounter_ref: false,
        same_event: &["person_id", "setting", "start_date", "end_date", "code"],
    },
    Spec {
        table: &REGISTRATION,
        date: "start_date",
        end: Some("end_date"),
        coded: Coded::No,
        encounter_ref: false,
        same_event: &["person_id", "practice_code", "start_date", "end_date"],
    },
    Spec {
        table: &CONDITION,
        date: "date",
        end: None,
        coded: Coded::WithSystem,
        encounter_ref: true,
        same_event: &["person_id", "code_system", "code", "date", "encounter_id"],
    },
    Spec {
        table: &OBSERVATION,
        date: "date",
        end: None,
        coded: Coded::WithSystem,
        encounter_ref: true,
        same_event: &["person_id", "code_system", "code", "date", "value", "unit", "encounter_id"],
    },
    Spec {
        table: &PROCEDURE,
        date: "date",
        end: None,
        coded: Coded::WithSystem,
        encounter_ref: true,
        same_event: &["person_id", "code_system", "code", "date", "encounter_id"],
    },
    Spec {
        table: &MEDICATION,
        date: "date",
        end: Some("end_date"),
        coded: Coded::WithSystem,
        encounter_ref: false,
        same_event: &["person_id", "code_system", "code", "date", "end_date"],
    },
    Spec {
        table: &IMMUNISATION,
        date: "date",
        end: None,
        coded: Coded::WithSystem,
        encounter_ref: false,
        same_event: &["person_id", "code_system", "code", "date", "dose_number"],
    },
];

#[derive(Default)]
struct Tallies {
    required: Tally,
    person: Tally,
    encounter_pk: Tally,
    setting: Tally,
    code_missing: Tally,
    system: Tally,
    code: Tally,
    encounter_fk: Tally,
    encounter_missing: Tally,
    practice: Tally,
    value_missing: Tally,
    value_low: Tally,
    value_high: Tally,
    gender: Tally,
    after_death: Tally,
    before_birth: Tally,
    future: Tally,
    end_before_start: Tally,
    same_event: Tally,
}

/// One source's event-table results, and its latest event date on or before its extract.
pub(crate) struct SourceEvents {
    pub results: Vec<CheckResult>,
    /// The date and the `table.field` it is from.
    pub latest: Option<(NaiveDate, String)>,
}

/// Checks every event table of `source`.
pub(crate) fn assess_source(ctx: &Ctx<'_>, source: &SourceInfo, people: &People) -> Result<SourceEvents> {
    let mut emit = Emitter::new(&ctx.thresholds);
    let extract = source.extract32();
    let mut latest: Option<(i32, &'static Spec)> = None;
    let mut encounter_ids: KeySet<u64> = KeySet::default();
    let is_acute = source.source_type == "acute_trust";
    for spec in &SPECS {
        let files = ctx.source_files(&source.name, spec.table.name);
        if files.is_empty() {
            continue;
        }
        let table = spec.table.name;
        let columns: Vec<&str> = spec.table.columns.iter().map(|c| c.name).collect();
        let required: Vec<&str> = spec.table.columns.iter().filter(|c| !c.nullable).map(|c| c.name).collect();
        let mut t = Tallies::default();
        let mut same: KeySet<u64> = KeySet::default();
        for path in &files {
            scan(path, &columns, |b| {
                let n = b.len();
                t.required.bad += b.rows_with_a_null(&required)?;
                t.required.of += n as u64;
                let pid = b.text("person_id")?;
                let persons: Vec<Option<&Person>> =
                    (0..n).map(|i| opt_text(pid, i).and_then(|id| people.get(&person_key(id)))).collect();
                for p in &persons {
                    t.person.add(p.is_none());
                }
                // Dates against the extract and the person's life.
                let date = b.date(spec.date)?;
                for (i, person) in persons.iter().enumerate() {
                    let Some(d) = opt(date, i) else { continue };
                    if let Some(x) = extract {
                        t.future.add(d > x);
                        if d <= x && latest.is_none_or(|(l, _)| d > l) {
                            latest = Some((d, spec));
                        }
                    }
                    if let Some(p) = person {
                        if let Some(death) = p.death {
                            t.after_death.add(d > death);
                        }
                        t.before_birth.add(p.born_after(d));
                    }
                }
                if let Some(end) = spec.end {
                    let end = b.date(end)?;
                    for i in 0..n {
                        if let (Some(s), Some(e)) = (opt(date, i), opt(end, i)) {
                            t.end_before_start.add(e < s);
                        }
                    }
                }
                // Codes.
                match spec.coded {
                    Coded::WithSystem => {
                        let (system, code) = (b.text("code_system")?, b.text("code")?);
                        let values =
                            if table == "observation" { Some((b.float("value")?, b.text("unit")?)) } else { None };
                        for (i, person) in persons.iter().enumerate() {
                            let (Some(sys), Some(c)) = (opt_text(system, i), opt_text(code, i)) else { continue };
                            let known = CodeSystem::from_name(sys);
                            t.system.add(known.is_none());
                            let Some(known) = known else { continue };
                            t.code.add(check_code(known, c).is_err());
                            if let (CodeSystem::Snomed, Some(sex), Some(p)) = (known, ctx.sex_specific.get(c), person) {
                                t.gender.add(opposite(*sex, p.sex));
                            }
                            if let (Some((value, unit)), Some(range)) = (values, ctx.ranges.get(sys, c)) {
                                let v = opt(value, i);
                                t.value_missing.add(v.is_none());
                                let same_unit = opt_text(unit, i).is_none_or(|u| u.is_empty() || u == range.unit);
                                if let (Some(v), true) = (v, same_unit) {
                                    t.value_low.add(v < range.min);
                                    t.value_high.add(v > range.max);
                                }
                            }
                        }
                    }
                    Coded::OptionalSnomed => {
                        let code = b.text("code")?;
                        for i in 0..n {
                            let c = opt_text(code, i);
                            t.code_missing.add(c.is_none());
                            if let Some(c) = c {
                                t.code.add(check_code(CodeSystem::Snomed, c).is_err());
                            }
                        }
                    }
                    Coded::No => {}
                }
                // References.
                if table == "encounter" {
                    let (id, setting) = (b.text("encounter_id")?, b.text("setting")?);
                    for i in 0..n {
                        if let Some(id) = opt_text(id, i) {
                            t.encounter_pk.add(!encounter_ids.insert(hash_str(id)));
                        }
                        if let Some(s) = opt_text(setting, i) {
                            t.setting.add(Setting::from_name(s).is_none());
                        }
                    }
                }
                if spec.encounter_ref {
                    let id = b.text("encounter_id")?;
                    for i in 0..n {
                        let e = opt_text(id, i);
                        if is_acute && table == "condition" {
                            t.encounter_missing.add(e.is_none());
                        }
                        if let Some(e) = e {
                            t.encounter_fk.add(!encounter_ids.contains(&hash_str(e)));
                        }
                    }
                }
                if table == "registration" {
                    let practice = b.text("practice_code")?;
                    for i in 0..n {
                        if let Some(p) = opt_text(practice, i) {
                            t.practice.add(!ctx.practices.codes.contains(p));
                        }
                    }
                }
                for h in b.row_hashes(spec.same_event)? {
                    t.same_event.add(!same.insert(h));
                }
                Ok(())
            })?;
        }

        let s = source.as_ref();
        let mut rate = |check: &str, field: &str, tally: Tally, detail: Option<String>| {
            emit.rate(check, &s, table, field, tally.bad, tally.of, detail)
        };
        rate("isRequired", "", t.required, None);
        if table == "encounter" {
            rate("isPrimaryKey", "encounter_id", t.encounter_pk, None);
        }
        rate("isForeignKey", "person_id", t.person, Some("Checked against the linked person table.".to_owned()));
        if spec.encounter_ref {
            rate(
                "isForeignKey",
                "encounter_id",
                t.encounter_fk,
                Some("Checked against the encounter_id of this source's encounter rows.".to_owned()),
            );
        }
        if table == "registration" {
            rate("isForeignKey", "practice_code", t.practice, Some(format!("Checked against {}.", ctx.practices.from)));
        }
        if table == "encounter" {
            let allowed: Vec<&str> = Setting::ALL.iter().map(|s| s.name()).collect();
            rate("fkDomain", "setting", t.setting, Some(format!("Allowed: {}.", allowed.join(", "))));
        }
        if spec.coded == Coded::WithSystem {
            let allowed: Vec<&str> = CodeSystem::ALL.iter().map(|s| s.name()).collect();
            rate("fkDomain", "code_system", t.system, Some(format!("Allowed: {}.", allowed.join(", "))));
        }
        if spec.coded != Coded::No {
            rate(
                "isValidCode",
                "code",
                t.code,
                (spec.coded == Coded::OptionalSnomed).then(|| "The encounter type is SNOMED CT.".to_owned()),
            );
        }
        if spec.coded == Coded::OptionalSnomed {
            rate("measureValueCompleteness", "code", t.code_missing, Some("The encounter type.".to_owned()));
        }
        if is_acute && table == "condition" {
            rate(
                "measureValueCompleteness",
                "encounter_id",
                t.encounter_missing,
                Some("A hospital diagnosis should name the spell it was recorded in.".to_owned()),
            );
        }
        if table == "observation" {
            let from = "Rows with a measurement code of reference/plausibility.csv";
            rate("measureValueCompleteness", "value", t.value_missing, Some(format!("{from}.")));
            rate(
                "plausibleValueLow",
                "value",
                t.value_low,
                Some(format!("{from}, compared with its range when in its unit.")),
            );
            rate(
                "plausibleValueHigh",
                "value",
                t.value_high,
                Some(format!("{from}, compared with its range when in its unit.")),
            );
        }
        rate("plausibleGender", "code", t.gender, Some(ctx.sex_specific_text.clone()));
        rate(
            "plausibleDuringLife",
            spec.date,
            t.after_death,
            Some("The date of death may come from another source.".to_owned()),
        );
        rate("plausibleAfterBirth", spec.date, t.before_birth, None);
        if let Some(x) = source.extract_date {
            rate("plausibleBeforeExtractDate", spec.date, t.future, Some(format!("Extract date {x}.")));
        }
        if let Some(end) = spec.end {
            rate("plausibleTemporalAfter", end, t.end_before_start, Some(format!("Compared with {}.", spec.date)));
        }
        rate("plausibleUniqueEvent", "", t.same_event, Some(format!("Compared on: {}.", spec.same_event.join(", "))));
    }
    let latest = latest.and_then(|(d, spec)| Some((from_date32(d)?, format!("{}.{}", spec.table.name, spec.date))));
    Ok(SourceEvents { results: emit.results, latest })
}

/// Whether a person of sex `person` is of the other sex than a code for `code` allows.
fn opposite(code: Sex, person: Sex) -> bool {
    matches!((code, person), (Sex::Female, Sex::Male) | (Sex::Male, Sex::Female))
}
