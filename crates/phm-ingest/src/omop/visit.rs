//! `visit_occurrence` → `encounter`.

use super::reader::{Cols, TableReader};
use super::{Io, State, event_date};
use crate::check::problem;
use crate::report::FileReport;
use crate::rows::T;
use crate::{InputFile, Result};

/// The care setting of a visit: `visit_concept_id`, and for inpatient visits whether the
/// patient was admitted from the emergency room.
pub fn setting(
    visit_concept_id: i64,
    admitted_from_concept_id: Option<i64>,
    admitted_from_source_value: &str,
) -> Option<&'static str> {
    let value = admitted_from_source_value.to_ascii_lowercase();
    let from_emergency = matches!(admitted_from_concept_id, Some(8870 | 9203 | 262))
        || value.contains("emergency")
        || value.contains("a&e");
    Some(match visit_concept_id {
        9201 if from_emergency => "emergency_admission",
        9201 => "other_admission",
        262 => "emergency_admission",
        9202 | 38_004_207 => "outpatient",
        9203 => "ae",
        581_476 => "community",
        _ => return None,
    })
}

/// `visit_occurrence` → `encounter`.
pub(super) fn visits(
    io: &mut Io<'_, '_>,
    st: &mut State,
    f: &InputFile,
    reader: TableReader,
    report: &mut FileReport,
) -> Result<()> {
    let cols = Cols { headers: &reader.headers, path: &f.path, table: "visit_occurrence" };
    let id = Some(cols.need(&["visit_occurrence_id"])?);
    let person = Some(cols.need(&["person_id"])?);
    let concept = Some(cols.need(&["visit_concept_id"])?);
    let start = cols.find(&["visit_start_date"]);
    let start_time = cols.find(&["visit_start_datetime"]);
    if start.is_none() && start_time.is_none() {
        cols.need(&["visit_start_date"])?;
    }
    let end = cols.find(&["visit_end_date"]);
    let end_time = cols.find(&["visit_end_datetime"]);
    let from_concept = cols.find(&["admitted_from_concept_id", "admitting_source_concept_id"]);
    let from_value = cols.find(&["admitted_from_source_value", "admitting_source_value"]);
    let ctx = io.ctx;
    let file = st.file(&f.display);
    io.each_row(st, f, "visit_occurrence", reader, id, report, |st, rows, row| {
        let visit = st.check_id("visit_occurrence", row, id, "visit_occurrence_id")?;
        let visit = visit.ok_or_else(|| problem(row.name(id, "visit_occurrence_id"), "missing value", "`visit_occurrence_id` is required"))?;
        let (person, life) = st.persons.get(row, person)?;
        let start_date = event_date(ctx, row, start, start_time, "visit_start_date", &life)?
            .ok_or_else(|| problem(row.name(start, "visit_start_date"), "missing date", "the visit start date is required"))?;
        let end_date = event_date(ctx, row, end, end_time, "visit_end_date", &life)?;
        if let Some(e) = end_date.filter(|e| *e < start_date) {
            return Err(problem(row.name(end, "visit_end_date"), "end before start", format!("the visit ends {e}, before it starts {start_date}")));
        }
        let visit_concept = row.required_int(concept, "visit_concept_id")?;
        let setting = setting(visit_concept, row.int(from_concept, "admitted_from_concept_id")?, row.get(from_value)).ok_or_else(|| {
            problem(
                row.name(concept, "visit_concept_id"),
                "unknown setting",
                format!("visit_concept_id {visit_concept} names no care setting OpenPHM maps (9201 inpatient, 262 emergency room and inpatient, 9202 outpatient, 9203 emergency room, 581476 home, 38004207 ambulatory clinic)"),
            )
        })?;
        let eid = format!("{}/{visit}", ctx.source);
        rows.get(T::Encounter)
            .push_text(Some(&eid))
            .push_text(Some(&person.to_hex()))
            .push_text(Some(setting))
            .push_date(Some(start_date))
            .push_date(end_date)
            .push_text(None)
            .push_text(Some(ctx.source_org))
            .push_text(Some(ctx.source))
            .end_row();
        st.keep_id("visit_occurrence", Some(visit), row.line, file);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_follow_the_visit_concept() {
        assert_eq!(setting(9201, Some(0), ""), Some("other_admission"));
        assert_eq!(setting(9201, Some(8870), ""), Some("emergency_admission"));
        assert_eq!(setting(9201, None, "Emergency Room"), Some("emergency_admission"));
        assert_eq!(setting(262, None, ""), Some("emergency_admission"));
        assert_eq!(setting(9202, None, ""), Some("outpatient"));
        assert_eq!(setting(9203, None, ""), Some("ae"));
        assert_eq!(setting(581_476, None, ""), Some("community"));
        assert_eq!(setting(38_004_207, None, ""), Some("outpatient"));
        assert_eq!(setting(581_477, None, ""), None);
    }
}
