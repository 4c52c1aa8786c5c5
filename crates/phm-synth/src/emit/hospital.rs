//! The acute trust's records (FHIR, ICD-10 and OPCS-4): A&E attendances, admissions and
//! outpatient appointments.

use chrono::{Duration, NaiveDate};
use phm_core::codes::uri;
use phm_formats::fhir::{
    CodeableConcept, Coding, Condition as FhirCondition, Encounter, Extension, Hospitalization, Period, Procedure,
    Reference,
};
use rand::Rng;

use super::activity::{Stream, event_dates};
use super::{
    Context, OUTPATIENT_COMMUNITY_MONTHS, Variant, category, concept, iso, local_patient_id, patient_resource, uuid,
};
use crate::Result;
use crate::model::Condition;
use crate::output::Sink;
use crate::person::{Person, window_start};

/// Which acute trust serves the person's area.
pub(super) fn acute_trust(ctx: &Context<'_>, person: &Person) -> usize {
    let place = &ctx.model.reference.places[person.demo.place];
    let trusts = &ctx.layout.acute_trusts;
    let serves = |code: &str| {
        ctx.model
            .reference
            .organisation(code)
            .is_some_and(|o| o.serves_places.split(';').any(|p| p == place.place_code))
    };
    let candidates: Vec<usize> = (0..trusts.len()).filter(|&t| serves(&trusts[t])).collect();
    match candidates.len() {
        0 => 0,
        1 => candidates[0],
        // Split shared places by area so each area has a usual hospital.
        n => candidates[(person.demo.area * 7 + 3) % (n * 5) / 5 % n],
    }
}

pub(super) fn hospital(ctx: &Context<'_>, person: &Person, rng: &mut impl Rng, sink: &mut Sink) -> Result<()> {
    let model = ctx.model;
    let codes = ctx.codes;
    let start = window_start(model).max(person.demo.birth);
    let end = person.end(model);
    let trust = acute_trust(ctx, person);
    let org = ctx.model.reference.organisation(&ctx.layout.acute_trusts[trust]);
    let (org_code, org_name) = org.map_or(("", ""), |o| (o.org_code.as_str(), o.org_name.as_str()));
    let patient_file = ctx.layout.acute(trust, 0);
    let pid = local_patient_id(ctx.seed, person.index, patient_file);
    let subject = Reference::to("Patient", &pid);
    let mut wrote_any = false;

    let encounter = |rng: &mut dyn FnMut() -> String,
                     class: (&str, &str),
                     kind: &str,
                     from: NaiveDate,
                     to: NaiveDate,
                     method: Option<(&str, &str)>,
                     died: bool| {
        let hospitalization = method.map(|(code, display)| Hospitalization {
            extension: vec![Extension {
                url: uri::ADMISSION_METHOD_EXTENSION.to_owned(),
                value_codeable_concept: Some(CodeableConcept::one(uri::ADMISSION_METHOD_SYSTEM, code, display)),
                ..Extension::default()
            }],
            discharge_disposition: died.then(|| {
                CodeableConcept::one(
                    "https://fhir.hl7.org.uk/CodeSystem/UKCore-DischargeDestinationEngland",
                    "79",
                    "Not applicable - PATIENT died or still birth",
                )
            }),
        });
        Encounter {
            resource_type: "Encounter".into(),
            id: Some(rng()),
            status: Some("finished".into()),
            class: Some(Coding::new(uri::V3_ACT_CODE, class.0, class.1)),
            r#type: vec![concept(codes.get(kind))],
            subject: Some(subject.clone()),
            period: Some(Period { start: Some(iso(from)), end: Some(iso(to)) }),
            hospitalization,
            service_provider: Some(Reference::ods(org_code, org_name)),
            ..Encounter::default()
        }
    };
    let mut ids: Vec<String> = Vec::new();
    let mut id_source = {
        let seeds: [u64; 2] = [rng.random(), rng.random()];
        let mut counter = 0u64;
        move || {
            counter += 1;
            local_patient_id(seeds[0] ^ counter.wrapping_mul(0x2545_F491_4F6C_DD1D), seeds[1], counter as usize)
        }
    };

    // A&E attendances; some lead to admission the same day.
    let ae = event_dates(rng, Stream::AE, person, start, end);
    for date in &ae {
        let enc = encounter(&mut id_source, ("EMER", "emergency"), "ae_attendance", *date, *date, None, false);
        ids.push(enc.id.clone().unwrap_or_default());
        sink.fhir(ctx.layout.acute(trust, 1), &enc)?;
        wrote_any = true;
    }
    // Emergency admissions, and the final admission of those who die in hospital.
    let mut admissions: Vec<(NaiveDate, bool)> =
        event_dates(rng, Stream::Emergency, person, start, end).into_iter().map(|d| (d, false)).collect();
    if let (Some(death), true) = (person.death, person.died_in_hospital) {
        admissions.retain(|(d, _)| *d < death - Duration::days(20));
        admissions
            .push((death - Duration::days(rng.random_range(0..15)).min(death - start.max(person.demo.birth)), true));
    }
    for (date, died) in admissions {
        let age = person.age_on(date);
        let stay = if died {
            0
        } else if rng.random::<f64>() < 0.3 {
            0
        } else {
            (1.0 + (-(1.0 - rng.random::<f64>()).ln()) * (2.0 + age / 20.0)) as i64
        };
        let to = if died { person.death.unwrap_or(date) } else { (date + Duration::days(stay)).min(end) };
        let via_ae = rng.random::<f64>() < 0.7;
        let method = if via_ae {
            (
                "21",
                "Emergency Admission: Emergency Care Department or dental casualty department of the Health Care Provider",
            )
        } else {
            ("22", "Emergency Admission: GENERAL PRACTITIONER")
        };
        if via_ae {
            let enc = encounter(&mut id_source, ("EMER", "emergency"), "ae_attendance", date, date, None, false);
            sink.fhir(ctx.layout.acute(trust, 1), &enc)?;
        }
        let enc = encounter(
            &mut id_source,
            ("IMP", "inpatient encounter"),
            "emergency_admission",
            date,
            to,
            Some(method),
            died,
        );
        let encounter_id = enc.id.clone().unwrap_or_default();
        sink.fhir(ctx.layout.acute(trust, 1), &enc)?;
        wrote_any = true;
        let primary = emergency_primary_diagnosis(person, date, rng);
        let mut diagnoses = vec![primary];
        for (condition, key) in [
            (Condition::Hypertension, "icd10_hypertension"),
            (Condition::Diabetes, "icd10_diabetes"),
            (Condition::AtrialFibrillation, "icd10_atrial_fibrillation"),
            (Condition::Ckd, "icd10_ckd"),
            (Condition::Dementia, "icd10_dementia"),
            (Condition::Copd, "icd10_copd"),
            (Condition::HeartFailure, "icd10_heart_failure"),
            (Condition::Asthma, "icd10_asthma"),
        ] {
            if person.diagnosed(condition).is_some_and(|d| d <= date)
                && !diagnoses.contains(&key)
                && rng.random::<f64>() < 0.85
            {
                diagnoses.push(key);
            }
        }
        write_diagnoses(ctx, rng, sink, trust, &subject, &encounter_id, date, &diagnoses)?;
    }
    // Elective admissions with a procedure.
    for date in event_dates(rng, Stream::Elective, person, start, end) {
        let age = person.age_on(date);
        let options: [(&str, &str, f64); 5] = [
            ("opcs4_cataract", "icd10_cataract", if age >= 60.0 { 3.0 } else { 0.1 }),
            ("opcs4_hip_replacement", "icd10_hip_oa", if age >= 55.0 { 1.0 } else { 0.05 }),
            ("opcs4_knee_replacement", "icd10_knee_oa", if age >= 55.0 { 1.2 } else { 0.05 }),
            ("opcs4_colonoscopy", "icd10_bowel_screening", if age >= 40.0 { 2.0 } else { 0.3 }),
            ("", "icd10_abdominal_pain", 3.0),
        ];
        let weights: Vec<f64> = options.iter().map(|o| o.2).collect();
        let (procedure, diagnosis, _) = options[crate::model::pick_weighted(rng, &weights)];
        let day_case = procedure == "opcs4_cataract" || procedure == "opcs4_colonoscopy" || rng.random::<f64>() < 0.5;
        let to = if day_case { date } else { (date + Duration::days(rng.random_range(1..6))).min(end) };
        let enc = encounter(
            &mut id_source,
            ("IMP", "inpatient encounter"),
            "elective_admission",
            date,
            to,
            Some(("11", "Elective Admission: Waiting list")),
            false,
        );
        let encounter_id = enc.id.clone().unwrap_or_default();
        sink.fhir(ctx.layout.acute(trust, 1), &enc)?;
        wrote_any = true;
        write_diagnoses(ctx, rng, sink, trust, &subject, &encounter_id, date, &[diagnosis])?;
        if !procedure.is_empty() {
            let resource = Procedure {
                resource_type: "Procedure".into(),
                id: Some(uuid(rng)),
                status: Some("completed".into()),
                code: Some(concept(codes.get(procedure))),
                subject: Some(subject.clone()),
                encounter: Some(Reference::to("Encounter", &encounter_id)),
                performed_date_time: Some(iso(date)),
                ..Procedure::default()
            };
            sink.fhir(ctx.layout.acute(trust, 3), &resource)?;
        }
    }
    // Outpatient attendances over the recent window.
    let from = (model.extract_date - Duration::days(OUTPATIENT_COMMUNITY_MONTHS * 365 / 12)).max(start);
    for date in event_dates(rng, Stream::Outpatient, person, from, end) {
        let enc = encounter(&mut id_source, ("AMB", "ambulatory"), "outpatient_attendance", date, date, None, false);
        sink.fhir(ctx.layout.acute(trust, 1), &enc)?;
        wrote_any = true;
    }
    if wrote_any {
        let patient = patient_resource(ctx, person, pid, Variant::Secondary, rng);
        sink.fhir(patient_file, &patient)?;
    }
    let _ = ids;
    Ok(())
}

#[expect(clippy::too_many_arguments, reason = "internal helper")]
pub(super) fn write_diagnoses(
    ctx: &Context<'_>,
    rng: &mut impl Rng,
    sink: &mut Sink,
    trust: usize,
    subject: &Reference,
    encounter_id: &str,
    date: NaiveDate,
    keys: &[&str],
) -> Result<()> {
    for key in keys {
        let resource = FhirCondition {
            resource_type: "Condition".into(),
            id: Some(uuid(rng)),
            category: category(uri::CONDITION_CATEGORY, "encounter-diagnosis", "Encounter Diagnosis"),
            code: Some(concept(ctx.codes.get(key))),
            subject: Some(subject.clone()),
            encounter: Some(Reference::to("Encounter", encounter_id)),
            recorded_date: Some(iso(date)),
            ..FhirCondition::default()
        };
        sink.fhir(ctx.layout.acute(trust, 2), &resource)?;
    }
    Ok(())
}

pub(super) fn emergency_primary_diagnosis(person: &Person, date: NaiveDate, rng: &mut impl Rng) -> &'static str {
    let age = person.age_on(date);
    let has = |c: Condition| person.diagnosed(c).is_some_and(|d| d <= date);
    let options: [(&str, f64); 13] = [
        ("icd10_copd", if has(Condition::Copd) { 3.0 } else { 0.0 }),
        ("icd10_heart_failure", if has(Condition::HeartFailure) { 3.0 } else { 0.0 }),
        ("icd10_asthma", if has(Condition::Asthma) { 0.8 } else { 0.0 }),
        ("icd10_diabetes", if has(Condition::Diabetes) { 0.4 } else { 0.0 }),
        ("icd10_atrial_fibrillation", if has(Condition::AtrialFibrillation) { 1.0 } else { 0.0 }),
        ("icd10_chd", if has(Condition::Chd) { 1.5 } else { 0.0 }),
        ("icd10_stroke", if has(Condition::StrokeTia) { 0.8 } else { 0.05 * (age / 60.0) }),
        (
            "icd10_hip_fracture",
            if age >= 65.0 { 0.6 + 1.5 * f64::from(u8::from(person.frailty.is_some())) } else { 0.02 },
        ),
        ("icd10_pneumonia", if !(5.0..65.0).contains(&age) { 2.0 } else { 0.6 }),
        ("icd10_uti", if age >= 65.0 { 1.5 } else { 0.5 }),
        ("icd10_cellulitis", 0.8),
        ("icd10_chest_pain", 2.0),
        ("icd10_abdominal_pain", 2.5),
    ];
    let weights: Vec<f64> = options.iter().map(|o| o.1).collect();
    options[crate::model::pick_weighted(rng, &weights)].0
}
