//! `Encounter`.

use serde::{Deserialize, Serialize};

use crate::fhir::Resource;
use crate::fhir::datatypes::{CodeableConcept, Coding, Extension, Meta, Period, Reference};
use crate::fhir::validation::{Problem, check_code, check_id, check_period, check_reference, problem};

/// `Encounter.hospitalization`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hospitalization {
    /// Extensions, e.g. UK Core admission method.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    /// Where the patient went on discharge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discharge_disposition: Option<CodeableConcept>,
}

/// `Encounter` (UK Core: UKCore-Encounter).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[expect(missing_docs, reason = "fields are the FHIR elements of the same name")]
pub struct Encounter {
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
    pub class: Option<Coding>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub r#type: Vec<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_type: Option<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hospitalization: Option<Hospitalization>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_provider: Option<Reference>,
}

impl Encounter {
    /// The UK Core admission method code, if present.
    pub fn admission_method(&self) -> Option<&str> {
        self.hospitalization
            .as_ref()?
            .extension
            .iter()
            .find(|e| e.url == phm_core::codes::uri::ADMISSION_METHOD_EXTENSION)?
            .value_codeable_concept
            .as_ref()?
            .coding
            .first()?
            .code
            .as_deref()
    }
}

impl Resource for Encounter {
    const TYPE: &'static str = "Encounter";
    fn resource_type(&self) -> &str {
        &self.resource_type
    }
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        check_id("Encounter", self.id.as_deref(), &mut out);
        check_code(
            "Encounter.status",
            self.status.as_deref(),
            &[
                "planned",
                "arrived",
                "triaged",
                "in-progress",
                "onleave",
                "finished",
                "cancelled",
                "entered-in-error",
                "unknown",
            ],
            &mut out,
        );
        if self.class.as_ref().and_then(|c| c.code.as_deref()).is_none() {
            out.push(problem("Encounter.class", "is required"));
        }
        check_period("Encounter.period", self.period.as_ref(), &mut out);
        check_reference("Encounter.subject", self.subject.as_ref(), "Patient", &mut out);
        out
    }
}
