//! How often things happen: event rates by age band, person and calendar month (the 2020
//! pandemic dip), and the dates drawn from them.

use chrono::{Datelike, Duration, NaiveDate};
use rand::Rng;
use rand_distr::{Distribution, Normal};

use crate::model::Sex;
use crate::person::{Frailty, Person, date_between, poisson};

/// Monthly multiplier for the 2020 pandemic dip in activity, by stream.
pub(super) fn covid_factor(stream: Stream, date: NaiveDate) -> f64 {
    let ym = date.year() * 100 + date.month() as i32;
    let (spring, rest_of_2020) = match stream {
        Stream::Gp => (0.75, 0.95),
        Stream::AE => (0.55, 0.85),
        Stream::Emergency => (0.70, 0.90),
        Stream::Elective => (0.35, 0.70),
        Stream::Outpatient => (0.60, 0.85),
        Stream::Community => (0.80, 0.95),
    };
    match ym {
        202003..=202006 => spring,
        202007..=202012 => rest_of_2020,
        202101..=202102 => rest_of_2020,
        _ => 1.0,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Stream {
    Gp,
    AE,
    Emergency,
    Elective,
    Outpatient,
    Community,
}

/// Rates per person-year by ESP band (0-4 … 90+), England-like (NHS Digital HES 2022-23,
/// GP appointments data 2023), before the person-level multipliers.
pub(super) fn base_rate(stream: Stream, band: usize) -> f64 {
    const GP: [f64; 19] =
        [5.0, 2.6, 2.4, 3.0, 3.6, 4.0, 4.2, 4.3, 4.4, 4.7, 5.2, 5.8, 6.4, 7.4, 8.5, 10.0, 11.5, 12.5, 13.0];
    const AE: [f64; 19] = [
        0.55, 0.25, 0.25, 0.42, 0.45, 0.38, 0.33, 0.30, 0.28, 0.28, 0.28, 0.29, 0.30, 0.32, 0.36, 0.45, 0.58, 0.75,
        0.95,
    ];
    const EMERGENCY: [f64; 19] = [
        0.12, 0.035, 0.035, 0.06, 0.06, 0.06, 0.065, 0.065, 0.065, 0.07, 0.08, 0.09, 0.11, 0.13, 0.17, 0.23, 0.31,
        0.42, 0.55,
    ];
    const ELECTIVE: [f64; 19] = [
        0.03, 0.02, 0.025, 0.04, 0.05, 0.06, 0.07, 0.08, 0.10, 0.12, 0.15, 0.19, 0.24, 0.30, 0.34, 0.36, 0.33, 0.26,
        0.18,
    ];
    const OUTPATIENT: [f64; 19] =
        [0.9, 0.6, 0.6, 0.8, 0.9, 1.1, 1.2, 1.2, 1.3, 1.5, 1.7, 2.0, 2.3, 2.8, 3.2, 3.6, 3.7, 3.4, 2.9];
    const COMMUNITY: [f64; 19] =
        [1.0, 0.15, 0.15, 0.15, 0.15, 0.15, 0.2, 0.2, 0.2, 0.2, 0.25, 0.3, 0.4, 0.6, 0.9, 1.6, 3.0, 5.0, 7.0];
    let table = match stream {
        Stream::Gp => &GP,
        Stream::AE => &AE,
        Stream::Emergency => &EMERGENCY,
        Stream::Elective => &ELECTIVE,
        Stream::Outpatient => &OUTPATIENT,
        Stream::Community => &COMMUNITY,
    };
    table[band.min(18)]
}

/// Person-level multiplier: more conditions, frailty and deprivation mean more use; normalised
/// by the conditions expected at that age so the age profile keeps its level.
pub(super) fn multiplier(stream: Stream, person: &Person, date: NaiveDate) -> f64 {
    let age = person.age_on(date);
    let conditions = person.conditions_by(date) as f64;
    let expected = ((age - 40.0) / 15.0).clamp(0.0, 3.5);
    let quintile = f64::from(person.demo.decile.div_ceil(2));
    let (k, dep) = match stream {
        Stream::Gp => (0.12, 0.05),
        Stream::AE => (0.15, 0.13),
        Stream::Emergency => (0.25, 0.14),
        Stream::Elective => (0.08, -0.02),
        Stream::Outpatient => (0.2, 0.02),
        Stream::Community => (0.2, 0.06),
    };
    let mut m = (1.0 + k * conditions) / (1.0 + k * expected) * (dep * (3.0 - quintile)).exp();
    let frail = person.frailty.filter(|(_, d)| *d <= date).map(|(f, _)| f);
    m *= match (stream, frail) {
        (Stream::Emergency | Stream::Community, Some(Frailty::Severe)) => 2.5,
        (Stream::Emergency | Stream::Community, Some(Frailty::Moderate)) => 1.7,
        (Stream::Emergency | Stream::Community, Some(Frailty::Mild)) => 1.3,
        (Stream::AE, Some(Frailty::Severe | Frailty::Moderate)) => 1.4,
        _ => 1.0,
    };
    if stream == Stream::Gp && person.demo.sex == Sex::Female && (15.0..65.0).contains(&age) {
        m *= 1.3;
    }
    m
}

/// Dates of events of a stream in `[from, to]`: a Poisson count from the yearly rates, dates
/// spread by rejection against the pandemic dip.
pub(super) fn event_dates(
    rng: &mut impl Rng,
    stream: Stream,
    person: &Person,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<NaiveDate> {
    if to < from {
        return Vec::new();
    }
    let mut expected = 0.0;
    let mut year_start = from;
    while year_start <= to {
        let year_end = (year_start + Duration::days(364)).min(to);
        let mid = year_start + (year_end - year_start) / 2;
        let band = phm_core::age::esp_band_index(person.age_on(mid) as i32);
        let fraction = ((year_end - year_start).num_days() + 1) as f64 / 365.25;
        expected += base_rate(stream, band) * multiplier(stream, person, mid) * fraction;
        year_start = year_end + Duration::days(1);
    }
    let n = poisson(rng, expected);
    let mut dates = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let mut d = date_between(rng, from, to);
        for _ in 0..8 {
            if rng.random::<f64>() < covid_factor(stream, d) {
                break;
            }
            d = date_between(rng, from, to);
        }
        dates.push(d);
    }
    dates.sort_unstable();
    dates
}

pub(super) fn normal(rng: &mut impl Rng, mean: f64, sd: f64) -> f64 {
    Normal::new(mean, sd).map_or(mean, |n| n.sample(rng))
}
