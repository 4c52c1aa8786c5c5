//! `death` and `person` → `person_source` and `identity`.

use chrono::{Datelike as _, NaiveDate};

use super::reader::{Cols, TableReader};
use super::{Io, PendingDeath, State};
use crate::check::{self, Lifespan, Problem, problem};
use crate::quarantine::{Reject, excerpt};
use crate::report::FileReport;
use crate::rows::T;
use crate::{InputFile, Result};

/// Reads deaths: a row with a readable, past date is held until the persons are loaded (see
/// [`settle_deaths`]); the date goes into the person's `person_source` row.
pub(super) fn deaths(
    io: &mut Io<'_, '_>,
    st: &mut State,
    f: &InputFile,
    reader: TableReader,
    report: &mut FileReport,
    index: usize,
) -> Result<()> {
    let cols = Cols { headers: &reader.headers, path: &f.path, table: "death" };
    let person = Some(cols.need(&["person_id"])?);
    let date = cols.find(&["death_date"]);
    let datetime = cols.find(&["death_datetime"]);
    if date.is_none() && datetime.is_none() {
        cols.need(&["death_date"])?;
    }
    let extract = io.ctx.extract_date;
    let mut pending = Vec::new();
    io.each_row(st, f, "death", reader, person, report, |st, _, row| {
        let id = row.required_int(person, "person_id")?;
        if st.deaths.contains_key(&id) {
            return Err(problem(
                row.name(person, "person_id"),
                "duplicate record",
                format!("person_id {id} has a death recorded earlier in the file, which was kept"),
            ));
        }
        let (col, name) = if row.get(date).is_empty() && !row.get(datetime).is_empty() {
            (datetime, "death_datetime")
        } else {
            (date, "death_date")
        };
        let d = row
            .date(col, name)?
            .ok_or_else(|| problem(row.name(col, name), "missing date", "the date of death is required"))?;
        if d > extract {
            return Err(problem(
                row.name(col, name),
                "date in the future",
                format!("date of death {d} is after the extract date {extract}"),
            ));
        }
        st.deaths.insert(id, d);
        pending.push((id, row.line, row.fields.join(",")));
        Ok(())
    })?;
    // Held back: counted as accepted now, settled (possibly moved to rejected) after `person`.
    for (id, line, text) in pending {
        let reject = Reject {
            line,
            record_type: "death".into(),
            record_id: id.to_string(),
            field: String::new(),
            kind: "",
            reason: String::new(),
            record: excerpt(text.as_bytes()),
        };
        st.pending_deaths.push(PendingDeath { report: index, file: f.display.clone(), person: id, reject });
    }
    Ok(())
}

/// Death rows whose person was not accepted are moved from accepted to rejected.
pub(super) fn settle_deaths(io: &mut Io<'_, '_>, st: &mut State, reports: &mut [FileReport]) -> Result<()> {
    for mut d in std::mem::take(&mut st.pending_deaths) {
        if st.persons.accepted.contains_key(&d.person) {
            continue;
        }
        let p = match st.persons.rejected.get(&d.person) {
            Some((line, file)) => problem(
                "person_id",
                "person rejected",
                format!("person_id {} was rejected at line {line} of {file}", d.person),
            ),
            None if !st.persons.supplied => problem(
                "person_id",
                "unknown person",
                format!(
                    "person_id {} is not among this source's accepted persons: the source has no person table",
                    d.person
                ),
            ),
            None => problem(
                "person_id",
                "unknown person",
                format!("person_id {} is not among this source's accepted persons", d.person),
            ),
        };
        (d.reject.field, d.reject.kind, d.reject.reason) = (p.field, p.kind, p.reason);
        let Some(report) = reports.get_mut(d.report) else { continue };
        report.accepted -= 1;
        io.reject(report, &d.file, &d.reject)?;
    }
    Ok(())
}

/// `person` → `person_source` and `identity`.
pub(super) fn persons(
    io: &mut Io<'_, '_>,
    st: &mut State,
    f: &InputFile,
    reader: TableReader,
    report: &mut FileReport,
) -> Result<()> {
    let cols = Cols { headers: &reader.headers, path: &f.path, table: "person" };
    let id = Some(cols.need(&["person_id"])?);
    let year_col = Some(cols.need(&["year_of_birth"])?);
    let month_col = cols.find(&["month_of_birth"]);
    let day_col = cols.find(&["day_of_birth"]);
    let birth_col = cols.find(&["birth_datetime"]);
    let psv_col = cols.find(&["person_source_value"]);
    let gender_col = cols.find(&["gender_concept_id"]);
    let gender_source_col = cols.find(&["gender_source_value"]);
    let ctx = io.ctx;
    let file_index = st.file(&f.display);
    io.each_row(st, f, "person", reader, id, report, |st, rows, row| {
        let pid = row.required_int(id, "person_id")?;
        let result = (|| -> Result<(), Problem> {
            st.check_id("person", row, id, "person_id")?;
            let year = row.required_int(year_col, "year_of_birth")?;
            let year_field = row.name(year_col, "year_of_birth");
            if !(1900..=2100).contains(&year) {
                return Err(problem(
                    year_field,
                    "implausible age",
                    format!("year of birth {year} is outside 1900-2100"),
                ));
            }
            let month = row.int(month_col, "month_of_birth")?;
            if month.is_some_and(|m| !(1..=12).contains(&m)) {
                return Err(problem(
                    row.name(month_col, "month_of_birth"),
                    "implausible value",
                    format!("month of birth {} is not 1-12", month.unwrap_or_default()),
                ));
            }
            let day = row.int(day_col, "day_of_birth")?;
            let (full, birth_field) = match row.date(birth_col, "birth_datetime")? {
                Some(d) => (Some(d), row.name(birth_col, "birth_datetime")),
                None => match (month, day) {
                    (Some(m), Some(d)) => {
                        let date = NaiveDate::from_ymd_opt(year as i32, m as u32, d as u32).ok_or_else(|| {
                            problem(
                                row.name(day_col, "day_of_birth"),
                                "invalid date",
                                format!("{year}-{m:02}-{d:02} is not a date"),
                            )
                        })?;
                        (Some(date), year_field)
                    }
                    _ => (None, year_field),
                },
            };
            if let Some(d) = full {
                if i64::from(d.year()) != year || month.is_some_and(|m| m != i64::from(d.month())) {
                    return Err(problem(
                        birth_field,
                        "inconsistent date of birth",
                        format!(
                            "birth date {d} does not agree with year_of_birth {year}{}",
                            month.map(|m| format!(" and month_of_birth {m}")).unwrap_or_default()
                        ),
                    ));
                }
            }
            let death = st.deaths.get(&pid).copied();
            // Only a year (and month): check the first day it could be.
            let earliest = full.or_else(|| NaiveDate::from_ymd_opt(year as i32, month.unwrap_or(1) as u32, 1));
            check::birth_and_death(earliest, death, ctx.extract_date, birth_field, "death_date").map_err(|mut p| {
                if full.is_none() {
                    p.reason.push_str(" (only the year or month of birth is given: its first day is used)");
                }
                p
            })?;
            let source_value = row.get(psv_col);
            let (person, linked, nhs) = match check::nhs_number(row.name(psv_col, "person_source_value"), source_value)
            {
                Ok(n) => (ctx.key.person_id(n), true, format!("{:010}", n.as_u64())),
                Err(_) => {
                    // Without a source value, the person_id: written so that it cannot equal a source value.
                    let local =
                        if source_value.is_empty() { format!("person_id:{pid}") } else { source_value.to_owned() };
                    (ctx.key.local_person_id(ctx.source, &local), false, String::new())
                }
            };
            if let Some((other, line)) = st.persons.pseudonyms.get(&person) {
                let what = if linked { "the same NHS number" } else { "the same person_source_value" };
                return Err(problem(
                    row.name(psv_col, "person_source_value"),
                    "duplicate record",
                    format!("{what} as person_id {other} at line {line}, which was kept"),
                ));
            }
            let sex = match row.int(gender_col, "gender_concept_id").ok().flatten() {
                Some(8507) => "male",
                Some(8532) => "female",
                Some(8521) => "other",
                _ => match row.get(gender_source_col).to_ascii_lowercase().as_str() {
                    "m" | "male" => "male",
                    "f" | "female" => "female",
                    _ => "unknown",
                },
            };
            let hex = person.to_hex();
            rows.get(T::PersonSource)
                .push_text(Some(&hex))
                .push_text(Some(ctx.source))
                .push_text(Some(ctx.source_type.name()))
                .push_text(Some(ctx.source_org))
                .push_bool(Some(linked))
                .push_small(Some(year as i16))
                .push_small(full.map(|d| d.month() as i16).or(month.map(|m| m as i16)))
                .push_text(Some(sex))
                .push_text(None)
                .push_text(None)
                .push_text(None)
                .push_date(death)
                .push_date(Some(ctx.extract_date))
                .end_row();
            rows.get(T::Identity)
                .push_text(Some(&hex))
                .push_text(Some(&nhs))
                .push_text(None)
                .push_text(None)
                .push_date(full)
                .push_text(None)
                .push_text(None)
                .push_text(None)
                .push_text(Some(ctx.source))
                .end_row();
            st.persons.pseudonyms.insert(person, (pid, row.line));
            st.persons.accepted.insert(pid, (person, Lifespan { birth: full, death }));
            st.keep_id("person", Some(pid), row.line, file_index);
            Ok(())
        })();
        if result.is_err() && !st.persons.accepted.contains_key(&pid) {
            st.persons.rejected.entry(pid).or_insert((row.line, f.display.clone()));
        }
        result
    })
}
