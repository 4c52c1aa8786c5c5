//! `EpisodeOfCare` (GP registration).

use serde::{Deserialize, Serialize};

use crate::fhir::Resource;
use crate::fhir::datatypes::{CodeableConcept, Meta, Period, Reference};
use crate::fhir::validation::{Problem, check_code, check_id, check_period, check_reference};

/// `EpisodeOfCare`: a period of registration with a GP practice.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[expect(missing_docs, reason = "fields are the FHIR elements of the same name")]
pub struct EpisodeOfCare {
    pub resource_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub r#type: Vec<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managing_organization: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
}

impl Resource for EpisodeOfCare {
    const TYPE: &'static str = "EpisodeOfCare";
    fn resource_type(&self) -> &str {
        &self.resource_type
    }
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        check_id("EpisodeOfCare", self.id.as_deref(), &mut out);
        check_code(
            "EpisodeOfCare.status",
            self.status.as_deref(),
            &["planned", "waitlist", "active", "onhold", "finished", "cancelled", "entered-in-error"],
            &mut out,
        );
        check_reference("EpisodeOfCare.patient", self.patient.as_ref(), "Patient", &mut out);
        check_period("EpisodeOfCare.period", self.period.as_ref(), &mut out);
        out
    }
}
