//! Turning a simulated [`Person`] into the records each partner holds: the GP practice (FHIR),
//! the acute trust (FHIR, ICD-10 and OPCS-4), the community and mental health trusts (FHIR) and
//! the council (social care CSV).

mod activity;
mod community;
mod gp;
mod hospital;
mod social_care;

use chrono::{Datelike, NaiveDate};
use phm_core::codes::uri;
use phm_formats::fhir::{Address, CodeableConcept, Extension, HumanName, Identifier, Meta, Patient, Reference};
use rand::Rng;

use crate::Result;
use crate::codes::{Code, Codes};
use crate::model::Model;
use crate::output::{Layout, Sink};
use crate::person::Person;

use community::community;
use gp::GpRecords;
use hospital::hospital;
use social_care::social_care;

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
