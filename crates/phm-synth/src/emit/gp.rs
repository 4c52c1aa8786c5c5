//! The GP practice's records (FHIR): registrations, appointments, conditions, observations,
//! medications, immunisations and screening, routed to the practice registered at each date.

use chrono::{Datelike, Duration, NaiveDate};
use phm_core::codes::uri;
use phm_formats::fhir::{
    CodeableConcept, Coding, Condition as FhirCondition, Encounter, EpisodeOfCare, Extension, Immunization,
    MedicationStatement, Observation, ObservationComponent, Period, Procedure, ProtocolApplied, Quantity, Reference,
};
use rand::Rng;

use super::activity::{Stream, event_dates, normal};
use super::{
    Context, GP_APPOINTMENT_MONTHS, Variant, category, concept, iso, local_patient_id, patient_resource, uuid,
};
use crate::Result;
use crate::model::{Condition, Sex, Smoking};
use crate::output::{GpFile, Sink};
use crate::person::{Frailty, Person, add_years, date_between, poisson, window_start};

/// GP-held records, routed to the practice registered at each date.
pub(super) struct GpRecords {
    first_practice: usize,
}

impl GpRecords {
    pub(super) fn new(_ctx: &Context<'_>, person: &Person) -> Self {
        Self { first_practice: person.registrations.first().map_or(0, |r| r.practice) }
    }

    fn practice_at(&self, person: &Person, date: NaiveDate) -> usize {
        person.practice_on(date).unwrap_or_else(|| {
            // Before registration (history transferred) or after deregistration: the nearest.
            if person.registrations.first().is_some_and(|r| date < r.start) {
                self.first_practice
            } else {
                person.registrations.last().map_or(self.first_practice, |r| r.practice)
            }
        })
    }

    pub(super) fn write(&self, ctx: &Context<'_>, person: &Person, rng: &mut impl Rng, sink: &mut Sink) -> Result<()> {
        let layout = ctx.layout;
        let codes = ctx.codes;
        let model = ctx.model;
        let end = person.end(model);
        let start = window_start(model);

        // One Patient and its registration episodes per practice.
        let mut seen = Vec::new();
        for reg in &person.registrations {
            let file = layout.gp(reg.practice, GpFile::Patient);
            let pid = local_patient_id(ctx.seed, person.index, file);
            if !seen.contains(&reg.practice) {
                seen.push(reg.practice);
                let patient = patient_resource(ctx, person, pid.clone(), Variant::Gp, rng);
                sink.fhir(file, &patient)?;
            }
            let practice = &model.reference.practices[reg.practice];
            let episode = EpisodeOfCare {
                resource_type: "EpisodeOfCare".into(),
                id: Some(uuid(rng)),
                meta: None,
                status: Some(if reg.end.is_some() { "finished" } else { "active" }.into()),
                r#type: vec![CodeableConcept { coding: Vec::new(), text: Some("GP registration".into()) }],
                patient: Some(Reference::to("Patient", &pid)),
                managing_organization: Some(Reference::ods(&practice.practice_code, &practice.practice_name)),
                period: Some(Period { start: Some(iso(reg.start)), end: reg.end.map(iso) }),
            };
            sink.fhir(layout.gp(reg.practice, GpFile::EpisodeOfCare), &episode)?;
        }
        let subject = |practice: usize| {
            Reference::to("Patient", &local_patient_id(ctx.seed, person.index, layout.gp(practice, GpFile::Patient)))
        };

        // Diagnoses.
        for (condition, date) in &person.conditions {
            let key = match condition {
                Condition::Diabetes if person.type_1_diabetes => "diabetes_type_1",
                Condition::Diabetes => "diabetes_type_2",
                Condition::Cancer => person.cancer_site,
                Condition::Smi if person.index % 3 == 0 => "smi_bipolar",
                other => other.key(),
            };
            let practice = self.practice_at(person, *date);
            let resource = FhirCondition {
                resource_type: "Condition".into(),
                id: Some(uuid(rng)),
                meta: None,
                clinical_status: Some(CodeableConcept::one(uri::CONDITION_CLINICAL, "active", "Active")),
                verification_status: Some(CodeableConcept::one(uri::CONDITION_VERIFICATION, "confirmed", "Confirmed")),
                category: category(uri::CONDITION_CATEGORY, "problem-list-item", "Problem List Item"),
                code: Some(concept(codes.get(key))),
                subject: Some(subject(practice)),
                encounter: None,
                onset_date_time: Some(iso(*date)),
                recorded_date: Some(iso(*date)),
                ..FhirCondition::default()
            };
            sink.fhir(layout.gp(practice, GpFile::Condition), &resource)?;
        }
        if let Some((level, date)) = person.frailty {
            let key = match level {
                Frailty::Mild => "frailty_mild",
                Frailty::Moderate => "frailty_moderate",
                Frailty::Severe => "frailty_severe",
            };
            let practice = self.practice_at(person, date);
            let resource = FhirCondition {
                resource_type: "Condition".into(),
                id: Some(uuid(rng)),
                clinical_status: Some(CodeableConcept::one(uri::CONDITION_CLINICAL, "active", "Active")),
                category: category(uri::CONDITION_CATEGORY, "problem-list-item", "Problem List Item"),
                code: Some(concept(codes.get(key))),
                subject: Some(subject(practice)),
                onset_date_time: Some(iso(date)),
                recorded_date: Some(iso(date)),
                ..FhirCondition::default()
            };
            sink.fhir(layout.gp(practice, GpFile::Condition), &resource)?;
        }

        self.observations(ctx, person, rng, sink, start, end, &subject)?;
        self.medications(ctx, person, rng, sink, end, &subject)?;
        self.immunisations(ctx, person, rng, sink, start, end, &subject)?;
        self.screening(ctx, person, rng, sink, start, end, &subject)?;

        // Appointments over the rolling window, while registered.
        let from = (model.extract_date - Duration::days(GP_APPOINTMENT_MONTHS * 365 / 12)).max(start);
        for reg in &person.registrations {
            let a = reg.start.max(from);
            let b = reg.end.unwrap_or(end).min(end);
            let practice = &model.reference.practices[reg.practice];
            for date in event_dates(rng, Stream::Gp, person, a, b) {
                let kind = if rng.random::<f64>() < 0.3 { "gp_telephone_consultation" } else { "gp_consultation" };
                let encounter = Encounter {
                    resource_type: "Encounter".into(),
                    id: Some(uuid(rng)),
                    status: Some("finished".into()),
                    class: Some(Coding::new(uri::V3_ACT_CODE, "AMB", "ambulatory")),
                    r#type: vec![concept(codes.get(kind))],
                    subject: Some(subject(reg.practice)),
                    period: Some(Period { start: Some(iso(date)), end: Some(iso(date)) }),
                    service_provider: Some(Reference::ods(&practice.practice_code, &practice.practice_name)),
                    ..Encounter::default()
                };
                sink.fhir(layout.gp(reg.practice, GpFile::Encounter), &encounter)?;
            }
        }
        Ok(())
    }

    #[expect(clippy::too_many_arguments, reason = "internal helper with one caller")]
    fn observations(
        &self,
        ctx: &Context<'_>,
        person: &Person,
        rng: &mut impl Rng,
        sink: &mut Sink,
        start: NaiveDate,
        end: NaiveDate,
        subject: &dyn Fn(usize) -> Reference,
    ) -> Result<()> {
        let codes = ctx.codes;
        let adult_from = add_years(person.demo.birth, 18.0).max(start);
        if adult_from > end {
            return Ok(());
        }
        let quit_date =
            (person.demo.smoking == Smoking::Ex && rng.random::<f64>() < 0.3).then(|| date_between(rng, start, end));
        let prediabetic = rng.random::<f64>() < 0.12;
        let mut year_start = adult_from;
        while year_start <= end {
            let year_end = (year_start + Duration::days(364)).min(end);
            let age = person.age_on(year_start);
            let has_by = |c: Condition| person.diagnosed(c).is_some_and(|d| d <= year_start);
            let cardio = [
                Condition::Hypertension,
                Condition::Diabetes,
                Condition::Ckd,
                Condition::Chd,
                Condition::StrokeTia,
                Condition::HeartFailure,
                Condition::AtrialFibrillation,
            ]
            .into_iter()
            .any(has_by);
            let diabetic = has_by(Condition::Diabetes);
            let bp_n = if cardio {
                poisson(rng, 1.3)
            } else if person.undiagnosed_hypertension && age >= 40.0 {
                poisson(rng, 0.45)
            } else if age >= 40.0 {
                poisson(rng, 0.3)
            } else {
                poisson(rng, 0.1)
            };
            for _ in 0..bp_n {
                let date = date_between(rng, year_start, year_end);
                let hypertensive = person.diagnosed(Condition::Hypertension).is_some_and(|d| d <= date);
                let (s, d) = if hypertensive && person.bp_controlled {
                    (normal(rng, 130.0, 8.0), normal(rng, 78.0, 6.0))
                } else if hypertensive {
                    (normal(rng, 150.0, 11.0), normal(rng, 89.0, 7.0))
                } else if person.undiagnosed_hypertension {
                    (normal(rng, 149.0, 9.0), normal(rng, 91.0, 6.0))
                } else {
                    (
                        normal(rng, 112.0 + 0.35 * (age - 20.0), 10.0).min(normal(rng, 136.0, 3.0)),
                        normal(rng, 72.0 + 0.12 * (age - 20.0), 7.0).min(88.0),
                    )
                };
                let practice = self.practice_at(person, date);
                let bp = Observation {
                    resource_type: "Observation".into(),
                    id: Some(uuid(rng)),
                    status: Some("final".into()),
                    category: category(uri::OBSERVATION_CATEGORY, "vital-signs", "Vital Signs"),
                    code: Some(concept(codes.get("blood_pressure"))),
                    subject: Some(subject(practice)),
                    effective_date_time: Some(iso(date)),
                    component: vec![
                        ObservationComponent {
                            code: concept(codes.get("systolic_bp")),
                            value_quantity: Some(Quantity::ucum(s.clamp(80.0, 230.0).round(), "mmHg", "mm[Hg]")),
                            ..ObservationComponent::default()
                        },
                        ObservationComponent {
                            code: concept(codes.get("diastolic_bp")),
                            value_quantity: Some(Quantity::ucum(d.clamp(40.0, 140.0).round(), "mmHg", "mm[Hg]")),
                            ..ObservationComponent::default()
                        },
                    ],
                    ..Observation::default()
                };
                sink.fhir(ctx.layout.gp(practice, GpFile::Observation), &bp)?;
            }
            let bmi_n = poisson(rng, if cardio || person.has[Condition::Obesity as usize] { 0.7 } else { 0.18 });
            for _ in 0..bmi_n {
                let date = date_between(rng, year_start, year_end);
                let value = (person.bmi + normal(rng, 0.0, 0.7)).clamp(14.0, 70.0);
                self.quantity(
                    ctx,
                    person,
                    rng,
                    sink,
                    subject,
                    date,
                    "bmi",
                    (value * 10.0).round() / 10.0,
                    "kg/m2",
                    "kg/m2",
                )?;
            }
            let hba1c_n = if diabetic {
                poisson(rng, 1.6)
            } else if age >= 40.0 {
                poisson(rng, 0.15)
            } else {
                0
            };
            for _ in 0..hba1c_n {
                let date = date_between(rng, year_start, year_end);
                let value = if diabetic {
                    normal(rng, 58.0, 13.0).clamp(30.0, 150.0)
                } else if prediabetic {
                    normal(rng, 43.5, 2.0).clamp(36.0, 47.0)
                } else {
                    normal(rng, 36.0, 3.0).clamp(20.0, 41.0)
                };
                self.quantity(ctx, person, rng, sink, subject, date, "hba1c", value.round(), "mmol/mol", "mmol/mol")?;
            }
            let smoking_n = poisson(rng, if cardio || person.demo.smoking == Smoking::Current { 0.7 } else { 0.2 });
            for _ in 0..smoking_n {
                let date = date_between(rng, year_start, year_end);
                let key = match (person.demo.smoking, quit_date) {
                    (Smoking::Current, _) => "smoking_current",
                    (Smoking::Ex, Some(q)) if date < q => "smoking_current",
                    (Smoking::Ex, _) => "smoking_ex",
                    (Smoking::Never, _) => "smoking_never",
                };
                let practice = self.practice_at(person, date);
                let obs = Observation {
                    resource_type: "Observation".into(),
                    id: Some(uuid(rng)),
                    status: Some("final".into()),
                    category: category(uri::OBSERVATION_CATEGORY, "social-history", "Social History"),
                    code: Some(concept(codes.get(key))),
                    subject: Some(subject(practice)),
                    effective_date_time: Some(iso(date)),
                    ..Observation::default()
                };
                sink.fhir(ctx.layout.gp(practice, GpFile::Observation), &obs)?;
            }
            year_start = year_end + Duration::days(1);
        }
        Ok(())
    }

    #[expect(clippy::too_many_arguments, reason = "internal helper")]
    fn quantity(
        &self,
        ctx: &Context<'_>,
        person: &Person,
        rng: &mut impl Rng,
        sink: &mut Sink,
        subject: &dyn Fn(usize) -> Reference,
        date: NaiveDate,
        key: &str,
        value: f64,
        unit: &str,
        ucum: &str,
    ) -> Result<()> {
        let practice = self.practice_at(person, date);
        let (cat, display) = if key == "hba1c" { ("laboratory", "Laboratory") } else { ("vital-signs", "Vital Signs") };
        let obs = Observation {
            resource_type: "Observation".into(),
            id: Some(uuid(rng)),
            status: Some("final".into()),
            category: category(uri::OBSERVATION_CATEGORY, cat, display),
            code: Some(concept(ctx.codes.get(key))),
            subject: Some(subject(practice)),
            effective_date_time: Some(iso(date)),
            value_quantity: Some(Quantity::ucum(value, unit, ucum)),
            ..Observation::default()
        };
        sink.fhir(ctx.layout.gp(practice, GpFile::Observation), &obs)
    }

    fn medications(
        &self,
        ctx: &Context<'_>,
        person: &Person,
        rng: &mut impl Rng,
        sink: &mut Sink,
        end: NaiveDate,
        subject: &dyn Fn(usize) -> Reference,
    ) -> Result<()> {
        let mut drugs: Vec<(&str, NaiveDate, Option<NaiveDate>)> = Vec::new();
        for (condition, date) in &person.conditions {
            let treatments: &[(&str, f64)] = match condition {
                Condition::Hypertension => &[("med_amlodipine", 0.6), ("med_ramipril", 0.5)],
                Condition::Diabetes if person.type_1_diabetes => &[],
                Condition::Diabetes => &[("med_metformin", 0.9), ("med_gliclazide", 0.3), ("med_atorvastatin", 0.6)],
                Condition::Chd | Condition::StrokeTia => &[("med_atorvastatin", 0.85)],
                Condition::AtrialFibrillation => &[("med_apixaban", 0.75)],
                Condition::Asthma => &[("med_salbutamol", 0.95), ("med_beclometasone", 0.6)],
                Condition::Copd => &[("med_tiotropium", 0.7), ("med_salbutamol", 0.8)],
                Condition::HeartFailure => &[("med_bisoprolol", 0.8), ("med_furosemide", 0.7)],
                Condition::Depression => &[("med_sertraline", 0.5), ("med_citalopram", 0.25)],
                Condition::Dementia => &[("med_donepezil", 0.55)],
                Condition::Smi => &[("med_olanzapine", 0.6)],
                _ => &[],
            };
            for (drug, p) in treatments {
                if drugs.iter().any(|(d, _, _)| d == drug) || rng.random::<f64>() >= *p {
                    continue;
                }
                let from = *date + Duration::days(rng.random_range(0..60));
                if from > end {
                    continue;
                }
                let stop = if *condition == Condition::Depression {
                    Some((from + Duration::days(rng.random_range(180..540))).min(end))
                } else {
                    person.death
                };
                drugs.push((drug, from, stop.filter(|s| *s <= end)));
            }
        }
        for (drug, from, stop) in drugs {
            let practice = self.practice_at(person, from);
            let statement = MedicationStatement {
                resource_type: "MedicationStatement".into(),
                id: Some(uuid(rng)),
                meta: None,
                status: Some(if stop.is_some() { "completed" } else { "active" }.into()),
                medication_codeable_concept: Some(concept(ctx.codes.get(drug))),
                subject: Some(subject(practice)),
                effective_period: Some(Period { start: Some(iso(from)), end: stop.map(iso) }),
                date_asserted: Some(iso(from)),
                ..MedicationStatement::default()
            };
            sink.fhir(ctx.layout.gp(practice, GpFile::MedicationStatement), &statement)?;
        }
        Ok(())
    }

    #[expect(clippy::too_many_arguments, reason = "internal helper")]
    fn immunisations(
        &self,
        ctx: &Context<'_>,
        person: &Person,
        rng: &mut impl Rng,
        sink: &mut Sink,
        start: NaiveDate,
        end: NaiveDate,
        subject: &dyn Fn(usize) -> Reference,
    ) -> Result<()> {
        let model = ctx.model;
        let place = &model.reference.places[person.demo.place].place_code;
        let birth = person.demo.birth;
        let decile = f64::from(person.demo.decile);
        // Uptake: the place's published coverage, lower in more deprived areas, and for MMR
        // drifting down over time as it has nationally.
        // Centred on the place's mean decile and the year the coverage was measured, so the
        // place's published figure holds on average.
        let mean_decile = model.place_mean_decile[person.demo.place];
        let uptake = |base: f64, due: NaiveDate, trend: f64| {
            let x = logit(base) + 0.11 * (decile - mean_decile) + trend * f64::from(due.year() - 2024);
            1.0 / (1.0 + (-x).exp())
        };
        let mut given: Vec<(&str, &str, NaiveDate, u32)> = Vec::new();
        let first_record = NaiveDate::from_ymd_opt(1996, 1, 1).unwrap_or(start);
        if birth >= first_record {
            let mmr1 = model.targets.coverage("mmr", "1", place).unwrap_or(0.9);
            let due = add_years(birth, 1.05);
            // Coverage is measured at 24 months: that share is vaccinated by then; a third of the
            // rest catch up later.
            let on_time = rng.random::<f64>() < uptake(mmr1, due, -0.04);
            if on_time || rng.random::<f64>() < 0.33 {
                let date = if on_time {
                    due + Duration::days(rng.random_range(0..300))
                } else {
                    add_years(birth, 2.05) + Duration::days(rng.random_range(0..1200))
                };
                given.push(("mmr_vaccination", "vaccine_mmr", date, 1));
                let mmr2 = model.targets.coverage("mmr", "2", place).unwrap_or(0.85);
                let due2 = add_years(birth, 3.35);
                if rng.random::<f64>() < (uptake(mmr2, due2, -0.04) / uptake(mmr1, due, -0.04)).min(1.0) {
                    let date2 = if rng.random::<f64>() < 0.9 {
                        due2 + Duration::days(rng.random_range(0..120))
                    } else {
                        due2 + Duration::days(rng.random_range(200..2500))
                    };
                    given.push(("mmr_vaccination", "vaccine_mmr", date2.max(date + Duration::days(28)), 2));
                }
            }
            // HPV in school Year 8 (about 12.5 years): girls since 2008, boys since 2019.
            let hpv_due = add_years(birth, 12.6);
            let eligible = match person.demo.sex {
                Sex::Female => true,
                Sex::Male => hpv_due >= NaiveDate::from_ymd_opt(2019, 9, 1).unwrap_or(hpv_due),
            };
            let key = if person.demo.sex == Sex::Female { "hpv_female" } else { "hpv_male" };
            let hpv = model.targets.coverage(key, "1", place).unwrap_or(0.7);
            if eligible && rng.random::<f64>() < uptake(hpv, hpv_due, 0.0) {
                let date = hpv_due + Duration::days(rng.random_range(0..240));
                given.push(("hpv_vaccination", "vaccine_hpv", date, 1));
                // Two doses until the one-dose schedule of September 2023.
                if date < NaiveDate::from_ymd_opt(2023, 9, 1).unwrap_or(date) && rng.random::<f64>() < 0.9 {
                    given.push((
                        "hpv_vaccination",
                        "vaccine_hpv",
                        date + Duration::days(rng.random_range(180..400)),
                        2,
                    ));
                }
            }
            let men_due = add_years(birth, 13.8);
            let men = model.targets.coverage("menacwy", "1", place).unwrap_or(0.75);
            if men_due >= NaiveDate::from_ymd_opt(2015, 9, 1).unwrap_or(men_due)
                && rng.random::<f64>() < uptake(men, men_due, 0.0)
            {
                given.push((
                    "menacwy_vaccination",
                    "vaccine_menacwy",
                    men_due + Duration::days(rng.random_range(0..240)),
                    1,
                ));
            }
        }
        // Seasonal flu for people 65 and over and younger adults with long-term conditions.
        let mut season = start.year();
        while season <= end.year() {
            let from = NaiveDate::from_ymd_opt(season, 9, 15).unwrap_or(start);
            let to = NaiveDate::from_ymd_opt(season, 12, 31).unwrap_or(end);
            if from >= start && from <= end {
                let age = person.age_on(from);
                let at_risk = person.conditions_by(from) > 0 && age >= 18.0;
                let base: f64 = if age >= 65.0 {
                    0.76
                } else if at_risk {
                    0.45
                } else {
                    0.0
                };
                if base > 0.0 && rng.random::<f64>() < uptake(base, from, 0.0) {
                    given.push(("flu_vaccination", "vaccine_flu", date_between(rng, from, to.min(end)), 1));
                }
            }
            season += 1;
        }
        for (procedure, vaccine, date, dose) in given {
            if date > end {
                continue;
            }
            let practice = self.practice_at(person, date);
            let resource = Immunization {
                resource_type: "Immunization".into(),
                id: Some(uuid(rng)),
                meta: None,
                extension: vec![Extension {
                    url: uri::VACCINATION_PROCEDURE_EXTENSION.to_owned(),
                    value_codeable_concept: Some(concept(ctx.codes.get(procedure))),
                    ..Extension::default()
                }],
                status: Some("completed".into()),
                vaccine_code: Some(concept(ctx.codes.get(vaccine))),
                patient: Some(subject(practice)),
                occurrence_date_time: Some(iso(date)),
                recorded: Some(iso(date)),
                primary_source: Some(true),
                protocol_applied: vec![ProtocolApplied { dose_number_positive_int: Some(dose) }],
                ..Immunization::default()
            };
            sink.fhir(ctx.layout.gp(practice, GpFile::Immunization), &resource)?;
        }
        Ok(())
    }

    #[expect(clippy::too_many_arguments, reason = "internal helper")]
    fn screening(
        &self,
        ctx: &Context<'_>,
        person: &Person,
        rng: &mut impl Rng,
        sink: &mut Sink,
        start: NaiveDate,
        end: NaiveDate,
        subject: &dyn Fn(usize) -> Reference,
    ) -> Result<()> {
        let decile = f64::from(person.demo.decile);
        let south_asian = if person.demo.ethnicity.is_south_asian() { -0.4 } else { 0.0 };
        let programmes: [(&str, bool, f64, f64, f64, f64); 3] = [
            ("cervical_screening", person.demo.sex == Sex::Female, 25.0, 64.99, 0.70, 3.0),
            ("breast_screening", person.demo.sex == Sex::Female, 50.0, 70.99, 0.70, 3.0),
            ("bowel_screening", true, 60.0, 74.99, 0.68, 2.0),
        ];
        for (key, eligible, min_age, max_age, base, interval) in programmes {
            if !eligible {
                continue;
            }
            let p = {
                let x = logit(base) + 0.10 * (decile - 5.5) + south_asian;
                1.0 / (1.0 + (-x).exp())
            };
            let mut due = add_years(start, rng.random::<f64>() * interval);
            while due <= end {
                let age = person.age_on(due);
                let interval_here = if key == "cervical_screening" && age >= 50.0 { 5.0 } else { interval };
                if age >= min_age && age <= max_age && rng.random::<f64>() < p {
                    let date = due + Duration::days(rng.random_range(0..90));
                    if date <= end {
                        let practice = self.practice_at(person, date);
                        let procedure = Procedure {
                            resource_type: "Procedure".into(),
                            id: Some(uuid(rng)),
                            status: Some("completed".into()),
                            code: Some(concept(ctx.codes.get(key))),
                            subject: Some(subject(practice)),
                            performed_date_time: Some(iso(date)),
                            ..Procedure::default()
                        };
                        sink.fhir(ctx.layout.gp(practice, GpFile::Procedure), &procedure)?;
                    }
                }
                due = add_years(due, interval_here);
            }
        }
        Ok(())
    }
}

pub(super) fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    (p / (1.0 - p)).ln()
}
