//! `Immunization`.

use serde::{Deserialize, Serialize};

use crate::fhir::Resource;
use crate::fhir::datatypes::{CodeableConcept, Coding, Extension, Meta, Reference};
use crate::fhir::validation::{Problem, check_code, check_concept, check_date, check_id, check_reference, problem};

/// A dose in a vaccination protocol.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProtocolApplied {
    /// Dose number within the series.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dose_number_positive_int: Option<u32>,
}

/// `Immunization` (UK Core: UKCore-Immunization).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[expect(missing_docs, reason = "fields are the FHIR elements of the same name")]
pub struct Immunization {
    pub resource_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vaccine_code: Option<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occurrence_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occurrence_string: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_source: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protocol_applied: Vec<ProtocolApplied>,
}

impl Immunization {
    /// The UK Core vaccination procedure code (SNOMED CT), if present.
    pub fn vaccination_procedure(&self) -> Option<&Coding> {
        self.extension
            .iter()
            .find(|e| e.url == phm_core::codes::uri::VACCINATION_PROCEDURE_EXTENSION)?
            .value_codeable_concept
            .as_ref()?
            .coding
            .first()
    }
}

impl Resource for Immunization {
    const TYPE: &'static str = "Immunization";
    fn resource_type(&self) -> &str {
        &self.resource_type
    }
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        check_id("Immunization", self.id.as_deref(), &mut out);
        check_code(
            "Immunization.status",
            self.status.as_deref(),
            &["completed", "entered-in-error", "not-done"],
            &mut out,
        );
        check_concept("Immunization.vaccineCode", self.vaccine_code.as_ref(), true, &mut out);
        check_reference("Immunization.patient", self.patient.as_ref(), "Patient", &mut out);
        match (&self.occurrence_date_time, &self.occurrence_string) {
            (Some(_), Some(_)) => out.push(problem(
                "Immunization.occurrence[x]",
                "only one of occurrenceDateTime, occurrenceString may be present",
            )),
            (None, Some(_)) => {}
            _ => check_date("Immunization.occurrenceDateTime", self.occurrence_date_time.as_deref(), true, &mut out),
        }
        out
    }
}
