//! The council's records (the social care CSV).

use chrono::{Duration, NaiveDate};
use rand::{Rng, SeedableRng};

use super::{Context, iso, uuid};
use crate::Result;
use crate::model::Condition;
use crate::output::Sink;
use crate::person::{Frailty, Person, add_years, date_between, window_start};

pub(super) fn social_care(ctx: &Context<'_>, person: &Person, rng: &mut impl Rng, sink: &mut Sink) -> Result<()> {
    let model = ctx.model;
    let start = window_start(model);
    let end = person.end(model);
    let age = person.age_on(end);
    if age < 18.0 {
        return Ok(());
    }
    let has = |c: Condition| person.has[c as usize];
    let (p, reason) = if age < 65.0 {
        if has(Condition::LearningDisability) {
            (0.55, "Learning Disability Support")
        } else if has(Condition::Smi) {
            (0.08, "Mental Health Support")
        } else {
            (0.004, "Physical Support: Personal Care Support")
        }
    } else {
        let frailty: f64 = match person.frailty.map(|(f, _)| f) {
            Some(Frailty::Severe) => 6.0,
            Some(Frailty::Moderate) => 3.0,
            Some(Frailty::Mild) => 1.5,
            None => 0.6,
        };
        let dementia = if has(Condition::Dementia) { 3.0 } else { 1.0 };
        let reason = if has(Condition::Dementia) {
            "Support with Memory and Cognition"
        } else {
            "Physical Support: Personal Care Support"
        };
        ((0.025 * frailty * dementia).min(0.9), reason)
    };
    if rng.random::<f64>() >= p {
        return Ok(());
    }
    let eligible_from = add_years(person.demo.birth, if age < 65.0 { 18.0 } else { 65.0 });
    let service_start = if rng.random::<f64>() < 0.45 {
        date_between(rng, eligible_from.max(add_years(start, -5.0)), start)
    } else {
        date_between(rng, eligible_from.max(start), end)
    };
    if service_start > end {
        return Ok(());
    }
    let service_type = if age >= 75.0 && rng.random::<f64>() < 0.3 {
        if has(Condition::Dementia) { "Long Term Support: Nursing Care" } else { "Long Term Support: Residential Care" }
    } else {
        "Long Term Support: Community"
    };
    let file = ctx.layout.social_care(person.demo.place);
    let nhs = person.nhs_number.to_string();
    let dob = iso(person.demo.birth);
    let mut row = |event_type: &str,
                   service: &str,
                   from: NaiveDate,
                   to: Option<NaiveDate>,
                   rng: &mut dyn FnMut() -> String|
     -> Result<()> {
        if from < start || from > end {
            return Ok(());
        }
        let to_text = to.map(iso).unwrap_or_default();
        sink.csv_row(
            file,
            &[
                &rng(),
                &nhs,
                &person.given_name,
                &person.family_name,
                &dob,
                person.demo.sex.fhir(),
                &person.postcode,
                event_type,
                service,
                reason,
                &iso(from),
                &to_text,
            ],
        )
    };
    let mut ids = {
        let mut inner = rand_chacha::ChaCha8Rng::from_rng(&mut *rng);
        move || uuid(&mut inner)
    };
    row("request", "", service_start - Duration::days(30), Some(service_start - Duration::days(30)), &mut ids)?;
    row("assessment", "", service_start - Duration::days(14), Some(service_start - Duration::days(7)), &mut ids)?;
    row("service", service_type, service_start, person.death, &mut ids)?;
    let mut review = add_years(service_start, 1.0);
    while review <= end {
        row("review", "", review, Some(review), &mut ids)?;
        review = add_years(review, 1.0);
    }
    Ok(())
}
