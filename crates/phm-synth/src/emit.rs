//! Turning a simulated [`Person`] into the records each partner holds: the GP practice (FHIR),
//! the acute trust (FHIR, ICD-10 and OPCS-4), the community and mental health trusts (FHIR) and
//! the council (social care CSV).

use chrono::{Datelike, Duration, NaiveDate};
use phm_core::codes::uri;
use phm_formats::fhir::{
    Address, CodeableConcept, Coding, Condition as FhirCondition, Encounter, EpisodeOfCare, Extension, Hospitalization,
    HumanName, Identifier, Immunization, MedicationStatement, Meta, Observation, ObservationComponent, Patient, Period,
    Procedure, ProtocolApplied, Quantity, Reference,
};
use rand::Rng;
use rand_distr::{Distribution, Normal};

use crate::Result;
use crate::codes::{Code, Codes};
use crate::model::{Condition, Model, Sex, Smoking};
use crate::output::{GpFile, Layout, Sink};
use crate::person::{Frailty, Person, add_years, date_between, poisson, window_start, years_between};

/// Months of GP appointment history in the extracts (GP appointment feeds are rolling).
pub const GP_APPOINTMENT_MONTHS: i64 = 12;
/// Months of outpatient, community and mental health activity in the extracts.
pub const OUTPATIENT_COMMUNITY_MONTHS: i64 = 24;

/// Everything the emitter needs besides the person.
pub struct Context<'a> {
    /// The model.
    pub model: &'a Model,
    /// Codes to write.
    pub codes: &'a Codes,
    /// File layout.
    pub layout: &'a Layout,
    /// Run seed (for source-local identifiers).
    pub seed: u64,
}

/// ISO 8601 date.
pub fn iso(d: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

/// A random RFC 4122 version-4 UUID.
pub fn uuid(rng: &mut impl Rng) -> String {
    let v: u128 = rng.random();
    let v = (v & !(0xf << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let h = format!("{v:032x}");
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// A stable source-local patient id: the same person and source always get the same id.
fn local_patient_id(seed: u64, person: u64, source: usize) -> String {
    let mut z = seed ^ person.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (source as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let mut next = || {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut x = z;
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^ (x >> 31)
    };
    let v = (u128::from(next()) << 64) | u128::from(next());
    let v = (v & !(0xf << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let h = format!("{v:032x}");
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

fn concept(code: &Code) -> CodeableConcept {
    CodeableConcept::one(code.system_uri(), &code.code, &code.display)
}

fn category(system: &str, code: &str, display: &str) -> Vec<CodeableConcept> {
    vec![CodeableConcept::one(system, code, display)]
}

/// Monthly multiplier for the 2020 pandemic dip in activity, by stream.
fn covid_factor(stream: Stream, date: NaiveDate) -> f64 {
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
enum Stream {
    Gp,
    AE,
    Emergency,
    Elective,
    Outpatient,
    Community,
}

/// Rates per person-year by ESP band (0-4 … 90+), England-like (NHS Digital HES 2022-23,
/// GP appointments data 2023), before the person-level multipliers.
fn base_rate(stream: Stream, band: usize) -> f64 {
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
fn multiplier(stream: Stream, person: &Person, date: NaiveDate) -> f64 {
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
fn event_dates(rng: &mut impl Rng, stream: Stream, person: &Person, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
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

fn normal(rng: &mut impl Rng, mean: f64, sd: f64) -> f64 {
    Normal::new(mean, sd).map_or(mean, |n| n.sample(rng))
}

/// Writes every record about `person` into `sink`.
pub fn emit(ctx: &Context<'_>, person: &Person, rng: &mut impl Rng, sink: &mut Sink) -> Result<()> {
    let gp = GpRecords::new(ctx, person);
    gp.write(ctx, person, rng, sink)?;
    hospital(ctx, person, rng, sink)?;
    community(ctx, person, rng, sink)?;
    social_care(ctx, person, rng, sink)?;
    if person.opt_out {
        sink.csv_row(ctx.layout.opt_out(), &[&person.nhs_number.to_string()])?;
    }
    Ok(())
}

fn patient_resource(ctx: &Context<'_>, person: &Person, id: String, variant: Variant, rng: &mut impl Rng) -> Patient {
    let mut extension = Vec::new();
    let ethnicity_recorded = match variant {
        Variant::Gp => rng.random::<f64>() < 0.93,
        Variant::Secondary => rng.random::<f64>() < 0.85,
    };
    if ethnicity_recorded {
        extension.push(Extension {
            url: uri::ETHNIC_CATEGORY_EXTENSION.to_owned(),
            value_codeable_concept: Some(CodeableConcept::one(
                uri::ETHNIC_CATEGORY_SYSTEM,
                person.demo.ethnicity.code(),
                person.demo.ethnicity.display(),
            )),
            ..Extension::default()
        });
    }
    let area = &ctx.model.reference.areas[person.demo.area];
    let place = &ctx.model.reference.places[person.demo.place];
    // Secondary care sometimes holds an older address.
    let (line, postcode) = if variant == Variant::Secondary && rng.random::<f64>() < 0.03 {
        crate::names::address(rng, &area.postcode_district, ctx.model.area_in_district[person.demo.area])
    } else {
        (person.address_line.clone(), person.postcode.clone())
    };
    let current = person.registrations.last().map(|r| &ctx.model.reference.practices[r.practice]);
    Patient {
        resource_type: "Patient".into(),
        id: Some(id),
        meta: Meta::uk_core("UKCore-Patient"),
        extension,
        identifier: vec![Identifier {
            system: Some(uri::NHS_NUMBER.to_owned()),
            value: Some(person.nhs_number.to_string()),
            ..Identifier::default()
        }],
        name: vec![HumanName {
            use_: Some("official".into()),
            family: Some(person.family_name.clone()),
            given: vec![person.given_name.clone()],
            prefix: Vec::new(),
        }],
        gender: Some(person.demo.sex.fhir().into()),
        birth_date: Some(iso(person.demo.birth)),
        deceased_date_time: person.death.map(iso),
        deceased_boolean: None,
        address: vec![Address {
            use_: Some("home".into()),
            line: vec![line],
            city: Some(place.place_name.clone()),
            district: None,
            postal_code: Some(postcode),
        }],
        general_practitioner: current.map(|p| Reference::ods(&p.practice_code, &p.practice_name)).into_iter().collect(),
        managing_organization: None,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    Gp,
    Secondary,
}

/// GP-held records, routed to the practice registered at each date.
struct GpRecords {
    first_practice: usize,
}

impl GpRecords {
    fn new(_ctx: &Context<'_>, person: &Person) -> Self {
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

    fn write(&self, ctx: &Context<'_>, person: &Person, rng: &mut impl Rng, sink: &mut Sink) -> Result<()> {
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

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    (p / (1.0 - p)).ln()
}

/// Which acute trust serves the person's area.
fn acute_trust(ctx: &Context<'_>, person: &Person) -> usize {
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

fn hospital(ctx: &Context<'_>, person: &Person, rng: &mut impl Rng, sink: &mut Sink) -> Result<()> {
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
fn write_diagnoses(
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

fn emergency_primary_diagnosis(person: &Person, date: NaiveDate, rng: &mut impl Rng) -> &'static str {
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

fn community(ctx: &Context<'_>, person: &Person, rng: &mut impl Rng, sink: &mut Sink) -> Result<()> {
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

fn social_care(ctx: &Context<'_>, person: &Person, rng: &mut impl Rng, sink: &mut Sink) -> Result<()> {
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

use rand::SeedableRng;
