//! The event tables (`condition_occurrence`, `procedure_occurrence`, `drug_exposure`,
//! `measurement`, `observation`) → `condition`, `procedure`, `medication`, `immunisation`, `observation`.

use phm_core::codes::CodeSystem;

use super::concept::system_of;
use super::reader::{Cols, Row, TableReader};
use super::{Concepts, Io, State, event_date};
use crate::check::{self, Problem, problem};
use crate::report::FileReport;
use crate::rows::T;
use crate::{InputFile, Result};

/// `condition_status_concept_id` of a primary diagnosis.
const PRIMARY_DIAGNOSIS: i64 = 32_902;

/// What the fields of one event table are called.
pub(super) struct EventSpec {
    table: &'static str,
    id: &'static str,
    concept: &'static str,
    source_concept: &'static str,
    source_value: &'static str,
    date: &'static str,
    datetime: &'static str,
    end_date: Option<&'static str>,
    /// Whether it carries `value_as_number` and a unit.
    value: bool,
    /// Domains a source concept may have when the row has no standard concept.
    domains: &'static [&'static str],
}

pub(super) const CONDITION: EventSpec = EventSpec {
    table: "condition_occurrence",
    id: "condition_occurrence_id",
    concept: "condition_concept_id",
    source_concept: "condition_source_concept_id",
    source_value: "condition_source_value",
    date: "condition_start_date",
    datetime: "condition_start_datetime",
    end_date: None,
    value: false,
    // SNOMED CT findings OMOP files under Observation ("History of ...", "Body mass index 30+")
    // are diagnoses in UK primary care.
    domains: &["Condition", "Observation"],
};

pub(super) const PROCEDURE: EventSpec = EventSpec {
    table: "procedure_occurrence",
    id: "procedure_occurrence_id",
    concept: "procedure_concept_id",
    source_concept: "procedure_source_concept_id",
    source_value: "procedure_source_value",
    date: "procedure_date",
    datetime: "procedure_datetime",
    end_date: None,
    value: false,
    domains: &["Procedure", "Measurement"],
};

pub(super) const DRUG: EventSpec = EventSpec {
    table: "drug_exposure",
    id: "drug_exposure_id",
    concept: "drug_concept_id",
    source_concept: "drug_source_concept_id",
    source_value: "drug_source_value",
    date: "drug_exposure_start_date",
    datetime: "drug_exposure_start_datetime",
    end_date: Some("drug_exposure_end_date"),
    value: false,
    domains: &["Drug"],
};

pub(super) const MEASUREMENT: EventSpec = EventSpec {
    table: "measurement",
    id: "measurement_id",
    concept: "measurement_concept_id",
    source_concept: "measurement_source_concept_id",
    source_value: "measurement_source_value",
    date: "measurement_date",
    datetime: "measurement_datetime",
    end_date: None,
    value: true,
    domains: &["Measurement", "Observation"],
};

pub(super) const OBSERVATION: EventSpec = EventSpec {
    table: "observation",
    id: "observation_id",
    concept: "observation_concept_id",
    source_concept: "observation_source_concept_id",
    source_value: "observation_source_value",
    date: "observation_date",
    datetime: "observation_datetime",
    end_date: None,
    value: true,
    domains: &["Observation", "Measurement"],
};

/// Column positions of an event table.
struct EventCols {
    id: Option<usize>,
    person: Option<usize>,
    concept: Option<usize>,
    source_concept: Option<usize>,
    source_value: Option<usize>,
    date: Option<usize>,
    datetime: Option<usize>,
    end_date: Option<usize>,
    visit: Option<usize>,
    value: Option<usize>,
    unit: Option<usize>,
    unit_concept: Option<usize>,
    status: Option<usize>,
}

/// The code of an event row: from its concept, else from its source value in the vocabulary
/// of its source concept (see the module documentation).
fn resolve(
    concepts: &Concepts,
    spec: &EventSpec,
    c: &EventCols,
    row: &Row<'_>,
) -> Result<(CodeSystem, String), Problem> {
    let concept_field = row.name(c.concept, spec.concept);
    let value_field = row.name(c.source_value, spec.source_value);
    let source_field = row.name(c.source_concept, spec.source_concept);
    let value = row.get(c.source_value);
    if !concepts.supplied {
        return Err(problem(
            value_field,
            "no concept table",
            format!("no concept table supplied: cannot tell the code system of source value `{}`", check::cut(value)),
        ));
    }
    let concept_id = row.int(c.concept, spec.concept)?.unwrap_or(0);
    let why_not = if concept_id == 0 {
        format!("{concept_field} is 0")
    } else {
        match concepts.by_id.get(&concept_id) {
            Some(k) => match system_of(concepts.vocabulary(k)) {
                Some(system) => return Ok((system, check::code(concept_field, system, &k.code)?)),
                None => {
                    format!("{concept_field} {concept_id} is in vocabulary `{}`", check::cut(concepts.vocabulary(k)))
                }
            },
            None => format!("{concept_field} {concept_id} is not in the concept table supplied"),
        }
    };
    let source_text = row.get(c.source_concept);
    let source_id = row.int(c.source_concept, spec.source_concept)?.unwrap_or(0);
    let shown = if value.is_empty() { "(empty)".to_owned() } else { format!("`{}`", check::cut(value)) };
    let Some(k) = concepts.by_id.get(&source_id).filter(|_| source_id != 0) else {
        let source = match source_text {
            "" => format!("{source_field} is empty"),
            _ if source_id == 0 => format!("{source_field} is 0"),
            _ => format!("{source_field} {source_id} is not in the concept table supplied"),
        };
        return Err(problem(
            value_field,
            "unmapped code",
            format!("{why_not}, and source value {shown} is in no known vocabulary ({source})"),
        ));
    };
    let vocabulary = concepts.vocabulary(k);
    let Some(system) = system_of(vocabulary) else {
        return Err(problem(
            value_field,
            "unknown code system",
            format!(
                "{why_not}, and source value {shown} ({source_field} {source_id}) is in vocabulary `{}`: OpenPHM takes in SNOMED, LOINC, RxNorm, CVX, ICD10, OPCS4 and dm+d",
                check::cut(vocabulary)
            ),
        ));
    };
    let domain = concepts.domain(k);
    if !domain.is_empty() && !spec.domains.iter().any(|d| d.eq_ignore_ascii_case(domain)) {
        return Err(problem(
            source_field,
            "source concept in another domain",
            format!(
                "{why_not}, and source value {shown} ({source_field} {source_id}) is a {vocabulary} concept of the {domain} domain, which {} does not hold (it holds {})",
                spec.table,
                spec.domains.join(" or ")
            ),
        ));
    }
    let code = if value.is_empty() { &*k.code } else { value };
    Ok((system, check::code(value_field, system, code)?))
}

/// `condition_occurrence`, `procedure_occurrence`, `drug_exposure`, `measurement`,
/// `observation` → `condition`, `procedure`, `medication` / `immunisation`, `observation`.
pub(super) fn events(
    io: &mut Io<'_, '_>,
    st: &mut State,
    spec: &'static EventSpec,
    f: &InputFile,
    reader: TableReader,
    report: &mut FileReport,
) -> Result<()> {
    let cols = Cols { headers: &reader.headers, path: &f.path, table: spec.table };
    let c = EventCols {
        id: Some(cols.need(&[spec.id])?),
        person: Some(cols.need(&["person_id"])?),
        concept: Some(cols.need(&[spec.concept])?),
        source_concept: cols.find(&[spec.source_concept]),
        source_value: cols.find(&[spec.source_value]),
        date: cols.find(&[spec.date]),
        datetime: cols.find(&[spec.datetime]),
        end_date: spec.end_date.and_then(|n| cols.find(&[n])),
        visit: cols.find(&["visit_occurrence_id"]),
        value: if spec.value { cols.find(&["value_as_number"]) } else { None },
        unit: if spec.value { cols.find(&["unit_source_value"]) } else { None },
        unit_concept: if spec.value { cols.find(&["unit_concept_id"]) } else { None },
        status: cols.find(&["condition_status_concept_id"]),
    };
    if c.date.is_none() && c.datetime.is_none() {
        cols.need(&[spec.date])?;
    }
    let ctx = io.ctx;
    let file = st.file(&f.display);
    io.each_row(st, f, spec.table, reader, c.id, report, |st, rows, row| {
        let id = st
            .check_id(spec.table, row, c.id, spec.id)?
            .ok_or_else(|| problem(row.name(c.id, spec.id), "missing value", format!("`{}` is required", spec.id)))?;
        let (person, life) = st.persons.get(row, c.person)?;
        let date = event_date(ctx, row, c.date, c.datetime, spec.date, &life)?.ok_or_else(|| {
            problem(row.name(c.date, spec.date), "missing date", format!("`{}` is required", spec.date))
        })?;
        let (system, code) = resolve(&st.concepts, spec, &c, row)?;
        let encounter = match row.int(c.visit, "visit_occurrence_id")? {
            Some(v) if v != 0 => Some(format!("{}/{v}", ctx.source)),
            _ => None,
        };
        let end = match spec.end_date {
            Some(name) => {
                let end = row.date(c.end_date, name)?;
                if let Some(e) = end.filter(|e| *e < date) {
                    return Err(problem(
                        row.name(c.end_date, name),
                        "end before start",
                        format!("the course ends {e}, before it starts {date}"),
                    ));
                }
                end
            }
            None => None,
        };
        let value = row.float(c.value, "value_as_number")?;
        let unit = match row.get(c.unit) {
            "" => row
                .int(c.unit_concept, "unit_concept_id")
                .ok()
                .flatten()
                .filter(|u| *u != 0)
                .and_then(|u| st.concepts.by_id.get(&u))
                .map(|k| k.code.to_string())
                .filter(|u| !u.is_empty()),
            u => Some(u.to_owned()),
        };
        if let Some(v) = value {
            check::plausible(row.name(c.value, "value_as_number"), system, &code, v, unit.as_deref())?;
        }
        let pid = person.to_hex();
        match spec.table {
            "condition_occurrence" => {
                let rank = (row.int(c.status, "condition_status_concept_id").ok().flatten() == Some(PRIMARY_DIAGNOSIS))
                    .then_some(1);
                rows.get(T::Condition)
                    .push_text(Some(&pid))
                    .push_text(Some(&code))
                    .push_text(Some(system.name()))
                    .push_date(Some(date))
                    .push_small(rank)
                    .push_text(encounter.as_deref())
                    .push_text(Some(ctx.source_org))
                    .push_text(Some(ctx.source))
                    .end_row();
            }
            "procedure_occurrence" => {
                rows.get(T::Procedure)
                    .push_text(Some(&pid))
                    .push_text(Some(&code))
                    .push_text(Some(system.name()))
                    .push_date(Some(date))
                    .push_text(encounter.as_deref())
                    .push_text(Some(ctx.source_org))
                    .push_text(Some(ctx.source))
                    .end_row();
            }
            "drug_exposure" if system == CodeSystem::Cvx => {
                rows.get(T::Immunisation)
                    .push_text(Some(&pid))
                    .push_text(Some(&code))
                    .push_text(Some(system.name()))
                    .push_date(Some(date))
                    .push_small(None)
                    .push_text(Some(ctx.source_org))
                    .push_text(Some(ctx.source))
                    .end_row();
            }
            "drug_exposure" => {
                rows.get(T::Medication)
                    .push_text(Some(&pid))
                    .push_text(Some(&code))
                    .push_text(Some(system.name()))
                    .push_date(Some(date))
                    .push_date(end)
                    .push_text(Some(ctx.source_org))
                    .push_text(Some(ctx.source))
                    .end_row();
            }
            _ => {
                rows.get(T::Observation)
                    .push_text(Some(&pid))
                    .push_text(Some(&code))
                    .push_text(Some(system.name()))
                    .push_date(Some(date))
                    .push_float(value)
                    .push_text(unit.as_deref())
                    .push_text(None)
                    .push_text(None)
                    .push_text(encounter.as_deref())
                    .push_text(Some(ctx.source_org))
                    .push_text(Some(ctx.source))
                    .end_row();
            }
        }
        st.keep_id(spec.table, Some(id), row.line, file);
        Ok(())
    })
}
