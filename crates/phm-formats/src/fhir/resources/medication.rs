//! `MedicationStatement` and `MedicationRequest`.

use serde::{Deserialize, Serialize};

use crate::fhir::Resource;
use crate::fhir::datatypes::{CodeableConcept, Meta, Period, Quantity, Reference};
use crate::fhir::validation::{
    Problem, check_code, check_concept, check_date, check_id, check_period, check_reference, one_form, problem,
};

/// `MedicationStatement` (UK Core: UKCore-MedicationStatement).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[expect(missing_docs, reason = "fields are the FHIR elements of the same name")]
pub struct MedicationStatement {
    pub resource_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub medication_codeable_concept: Option<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_period: Option<Period>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_asserted: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub information_source: Option<Reference>,
}

impl Resource for MedicationStatement {
    const TYPE: &'static str = "MedicationStatement";
    fn resource_type(&self) -> &str {
        &self.resource_type
    }
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        check_id("MedicationStatement", self.id.as_deref(), &mut out);
        check_code(
            "MedicationStatement.status",
            self.status.as_deref(),
            &["active", "completed", "entered-in-error", "intended", "stopped", "on-hold", "unknown", "not-taken"],
            &mut out,
        );
        check_concept(
            "MedicationStatement.medicationCodeableConcept",
            self.medication_codeable_concept.as_ref(),
            true,
            &mut out,
        );
        check_reference("MedicationStatement.subject", self.subject.as_ref(), "Patient", &mut out);
        check_date("MedicationStatement.effectiveDateTime", self.effective_date_time.as_deref(), false, &mut out);
        check_period("MedicationStatement.effectivePeriod", self.effective_period.as_ref(), &mut out);
        one_form(
            "MedicationStatement.effective[x]",
            &[
                ("effectiveDateTime", self.effective_date_time.is_some()),
                ("effectivePeriod", self.effective_period.is_some()),
            ],
            &mut out,
        );
        check_date("MedicationStatement.dateAsserted", self.date_asserted.as_deref(), false, &mut out);
        out
    }
}

/// `MedicationRequest` (UK Core: UKCore-MedicationRequest): a prescription.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[expect(missing_docs, reason = "fields are the FHIR elements of the same name")]
pub struct MedicationRequest {
    pub resource_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub medication_codeable_concept: Option<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub medication_reference: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authored_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dispense_request: Option<DispenseRequest>,
}

/// `MedicationRequest.dispenseRequest`: how the prescription may be dispensed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DispenseRequest {
    /// The time the prescription may be dispensed in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validity_period: Option<Period>,
    /// How long the supply is expected to last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_supply_duration: Option<Quantity>,
}

impl Resource for MedicationRequest {
    const TYPE: &'static str = "MedicationRequest";
    fn resource_type(&self) -> &str {
        &self.resource_type
    }
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        check_id("MedicationRequest", self.id.as_deref(), &mut out);
        check_code(
            "MedicationRequest.status",
            self.status.as_deref(),
            &["active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped", "draft", "unknown"],
            &mut out,
        );
        check_code(
            "MedicationRequest.intent",
            self.intent.as_deref(),
            &[
                "proposal",
                "plan",
                "order",
                "original-order",
                "reflex-order",
                "filler-order",
                "instance-order",
                "option",
            ],
            &mut out,
        );
        if self.medication_codeable_concept.is_none() && self.medication_reference.is_none() {
            out.push(problem("MedicationRequest.medication[x]", "is required"));
        }
        check_concept(
            "MedicationRequest.medicationCodeableConcept",
            self.medication_codeable_concept.as_ref(),
            false,
            &mut out,
        );
        check_reference("MedicationRequest.subject", self.subject.as_ref(), "Patient", &mut out);
        check_date("MedicationRequest.authoredOn", self.authored_on.as_deref(), false, &mut out);
        check_period(
            "MedicationRequest.dispenseRequest.validityPeriod",
            self.dispense_request.as_ref().and_then(|d| d.validity_period.as_ref()),
            &mut out,
        );
        out
    }
}
