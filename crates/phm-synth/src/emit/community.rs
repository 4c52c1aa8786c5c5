//! The community and mental health trusts' records (FHIR).

use chrono::{Duration, NaiveDate};
use phm_core::codes::uri;
use phm_formats::fhir::{CodeableConcept, Coding, Encounter, Period, Reference};
use rand::Rng;

use super::activity::{Stream, event_dates};
use super::{Context, OUTPATIENT_COMMUNITY_MONTHS, Variant, concept, iso, local_patient_id, patient_resource, uuid};
use crate::Result;
use crate::model::Condition;
use crate::output::Sink;
use crate::person::{Person, date_between, poisson, window_start, years_between};

pub(super) fn community(ctx: &Context<'_>, person: &Person, rng: &mut impl Rng, sink: &mut Sink) -> Result<()> {
    let model = ctx.model;
    let place = &model.reference.places[person.demo.place].place_code;
    let trusts = &ctx.layout.community_trusts;
    let find = |kinds: &[&str]| {
        trusts.iter().position(|t| {
            model
                .reference
                .organisation(t)
                .is_some_and(|o| kinds.contains(&o.org_type.as_str()) && o.serves_places.split(';').any(|p| p == place))
        })
    };
    // Luton's community services come from a community-only trust; mental health from ELFT.
    let community_trust = find(&["community_trust"]).or_else(|| find(&["community_mental_health_trust"]));
    let mental_health_trust = find(&["community_mental_health_trust"]);
    let start = window_start(model).max(person.demo.birth);
    let end = person.end(model);
    let from = (model.extract_date - Duration::days(OUTPATIENT_COMMUNITY_MONTHS * 365 / 12)).max(start);

    let mut per_trust: Vec<(usize, Vec<(NaiveDate, &str)>)> = Vec::new();
    if let Some(t) = community_trust {
        let dates = event_dates(rng, Stream::Community, person, from, end);
        per_trust.push((t, dates.into_iter().map(|d| (d, "community_contact")).collect()));
    }
    if let Some(t) = mental_health_trust {
        let rate = if person.has[Condition::Smi as usize] {
            5.0
        } else if person.has[Condition::Dementia as usize] {
            1.0
        } else if person.has[Condition::Depression as usize] {
            0.35
        } else {
            0.01
        };
        let years = years_between(from, end).max(0.0);
        let n = poisson(rng, rate * years);
        let dates: Vec<(NaiveDate, &str)> =
            (0..n).map(|_| (date_between(rng, from, end), "mental_health_contact")).collect();
        match per_trust.iter_mut().find(|(x, _)| *x == t) {
            Some((_, existing)) => existing.extend(dates),
            None => per_trust.push((t, dates)),
        }
    }
    for (trust, mut events) in per_trust {
        if events.is_empty() {
            continue;
        }
        events.sort_unstable();
        let org = model.reference.organisation(&trusts[trust]);
        let (org_code, org_name) = org.map_or(("", ""), |o| (o.org_code.as_str(), o.org_name.as_str()));
        let patient_file = ctx.layout.community(trust, 0);
        let pid = local_patient_id(ctx.seed, person.index, patient_file);
        let patient = patient_resource(ctx, person, pid.clone(), Variant::Secondary, rng);
        sink.fhir(patient_file, &patient)?;
        for (date, kind) in events {
            let class = if kind == "community_contact" { ("HH", "home health") } else { ("AMB", "ambulatory") };
            let service =
                if kind == "community_contact" { "Community health services" } else { "Mental health services" };
            let enc = Encounter {
                resource_type: "Encounter".into(),
                id: Some(uuid(rng)),
                status: Some("finished".into()),
                class: Some(Coding::new(uri::V3_ACT_CODE, class.0, class.1)),
                r#type: vec![concept(ctx.codes.get(kind))],
                service_type: Some(CodeableConcept { coding: Vec::new(), text: Some(service.into()) }),
                subject: Some(Reference::to("Patient", &pid)),
                period: Some(Period { start: Some(iso(date)), end: Some(iso(date)) }),
                service_provider: Some(Reference::ods(org_code, org_name)),
                ..Encounter::default()
            };
            sink.fhir(ctx.layout.community(trust, 1), &enc)?;
        }
    }
    Ok(())
}
