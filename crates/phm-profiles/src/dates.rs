//! Month-end dates for trends: an indicator's figure at its own index date and at earlier
//! month ends, a fixed number of months apart.
//!
//! Calendar months have 28 to 31 days, so "one month before 31 March" is not a fixed number of
//! days. Each earlier point is taken in whole months with chrono's month arithmetic
//! (`NaiveDate::checked_sub_months`, which clamps a day past the end of the shorter month) and
//! then snapped to the last day of its month: 31 March 2026 back one month is 28 February 2026,
//! and 29 February 2024 back twelve months is 28 February 2023. Index dates that are month ends
//! therefore give month ends, whatever the month lengths.

use chrono::{Datelike, Months, NaiveDate};

use crate::{Error, Result};

/// The last day of `date`'s month.
///
/// # Errors
/// A date in the last month chrono can represent (there is no next month to step back from).
pub fn month_end(date: NaiveDate) -> Result<NaiveDate> {
    let first = date.with_day(1).ok_or_else(|| Error::Internal(format!("{date} has no first day")))?;
    first
        .checked_add_months(Months::new(1))
        .and_then(|next| next.pred_opt())
        .ok_or_else(|| Error::Invalid(format!("{date} is too late in the calendar for month-end arithmetic")))
}

/// The month end `months` whole months before `date`'s month: `month_end(date − months)`.
///
/// # Errors
/// A date that would fall before the earliest date chrono can represent.
pub fn months_before(date: NaiveDate, months: u32) -> Result<NaiveDate> {
    let earlier = date
        .checked_sub_months(Months::new(months))
        .ok_or_else(|| Error::Invalid(format!("{months} months before {date} is outside the calendar")))?;
    month_end(earlier)
}

/// The dates of a trend of `points` points ending at `index_date`, `every_months` apart, in
/// time order: the month ends `k × every_months` months before the index date's month for
/// `k = points − 1 … 1`, then the index date itself (which need not be a month end, so that the
/// last point is the profile's own figure). No points gives no dates.
///
/// # Errors
/// `every_months` of 0 with more than one point (the points would coincide), or dates outside
/// the calendar.
pub fn trend_dates(index_date: NaiveDate, points: usize, every_months: u32) -> Result<Vec<NaiveDate>> {
    if points > 1 && every_months == 0 {
        return Err(Error::Invalid(
            "trend points must be at least one month apart (--trend-every-months 0 was given)".into(),
        ));
    }
    let mut dates = Vec::with_capacity(points);
    for k in (1..points).rev() {
        let months = u32::try_from(k).ok().and_then(|k| k.checked_mul(every_months)).ok_or_else(|| {
            Error::Invalid(format!("{points} trend points {every_months} months apart reach outside the calendar"))
        })?;
        dates.push(months_before(index_date, months)?);
    }
    if points > 0 {
        dates.push(index_date);
    }
    Ok(dates)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date")
    }

    #[test]
    fn the_end_of_march_back_one_month_is_the_end_of_february() {
        assert_eq!(months_before(d("2026-03-31"), 1).expect("in range"), d("2026-02-28"));
        assert_eq!(months_before(d("2024-03-31"), 1).expect("in range"), d("2024-02-29"));
    }

    #[test]
    fn a_leap_day_snaps_to_the_end_of_february_in_other_years() {
        assert_eq!(months_before(d("2024-02-29"), 12).expect("in range"), d("2023-02-28"));
        assert_eq!(months_before(d("2024-02-29"), 1).expect("in range"), d("2024-01-31"));
        assert_eq!(month_end(d("2024-02-10")).expect("in range"), d("2024-02-29"));
        assert_eq!(month_end(d("2100-02-10")).expect("in range"), d("2100-02-28"));
    }

    #[test]
    fn a_month_end_stays_a_month_end_across_months_of_every_length() {
        // 30 April back one month is 31 March, not 30 March.
        assert_eq!(months_before(d("2026-04-30"), 1).expect("in range"), d("2026-03-31"));
        assert_eq!(months_before(d("2026-01-31"), 1).expect("in range"), d("2025-12-31"));
        assert_eq!(month_end(d("2025-12-31")).expect("in range"), d("2025-12-31"));
    }

    #[test]
    fn trend_dates_end_at_the_index_date_and_run_in_time_order() {
        let dates = trend_dates(d("2026-03-31"), 4, 1).expect("dates");
        assert_eq!(dates, [d("2025-12-31"), d("2026-01-31"), d("2026-02-28"), d("2026-03-31")]);
        let quarterly = trend_dates(d("2024-09-30"), 3, 3).expect("dates");
        assert_eq!(quarterly, [d("2024-03-31"), d("2024-06-30"), d("2024-09-30")]);
        assert_eq!(trend_dates(d("2026-03-31"), 24, 1).expect("dates").first(), Some(&d("2024-04-30")));
    }

    #[test]
    fn an_index_date_mid_month_is_kept_and_earlier_points_are_month_ends() {
        assert_eq!(trend_dates(d("2026-03-15"), 2, 1).expect("dates"), [d("2026-02-28"), d("2026-03-15")]);
    }

    #[test]
    fn no_points_and_zero_spacing() {
        assert!(trend_dates(d("2026-03-31"), 0, 1).expect("no dates").is_empty());
        assert_eq!(trend_dates(d("2026-03-31"), 1, 0).expect("one date"), [d("2026-03-31")]);
        let err = trend_dates(d("2026-03-31"), 2, 0).expect_err("coinciding points");
        assert!(err.to_string().contains("at least one month apart"), "{err}");
    }
}
