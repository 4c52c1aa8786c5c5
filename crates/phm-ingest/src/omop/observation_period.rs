//! `observation_period`: checked and counted, not stored.

use super::reader::{Cols, TableReader};
use super::{Io, State};
use crate::check::problem;
use crate::report::FileReport;
use crate::{InputFile, Result};

/// `observation_period`: checked and counted, not stored (no canonical table holds periods of
/// observation yet).
pub(super) fn observation_periods(
    io: &mut Io<'_, '_>,
    st: &mut State,
    f: &InputFile,
    reader: TableReader,
    report: &mut FileReport,
) -> Result<()> {
    let cols = Cols { headers: &reader.headers, path: &f.path, table: "observation_period" };
    let id = cols.find(&["observation_period_id"]);
    let person = Some(cols.need(&["person_id"])?);
    let start = Some(cols.need(&["observation_period_start_date"])?);
    let end = Some(cols.need(&["observation_period_end_date"])?);
    let file = st.file(&f.display);
    io.each_row(st, f, "observation_period", reader, id, report, |st, _, row| {
        let period = st.check_id("observation_period", row, id, "observation_period_id")?;
        st.persons.get(row, person)?;
        let s = row
            .date(start, "observation_period_start_date")?
            .ok_or_else(|| problem(row.name(start, ""), "missing date", "the start date is required"))?;
        let e = row
            .date(end, "observation_period_end_date")?
            .ok_or_else(|| problem(row.name(end, ""), "missing date", "the end date is required"))?;
        if e < s {
            return Err(problem(
                row.name(end, ""),
                "end before start",
                format!("the period ends {e}, before it starts {s}"),
            ));
        }
        st.keep_id("observation_period", period, row.line, file);
        Ok(())
    })
}
