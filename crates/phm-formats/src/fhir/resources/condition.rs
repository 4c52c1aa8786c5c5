//! `Condition`.

use serde::{Deserialize, Serialize};

use crate::fhir::Resource;
use crate::fhir::datatypes::{CodeableConcept, Meta, Period, Quantity, Range, Reference};
use crate::fhir::validation::{Problem, check_concept, check_date, check_id, check_period, check_reference, one_form};

/// `Condition` (UK Core: UKCore-Condition).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[expect(missing_docs, reason = "fields are the FHIR elements of the same name")]
pub struct Condition {
    pub resource_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clinical_status: Option<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification_status: Option<CodeableConcept>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub category: Vec<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encounter: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onset_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onset_period: Option<Period>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onset_age: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onset_range: Option<Range>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onset_string: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abatement_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abatement_age: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abatement_period: Option<Period>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abatement_range: Option<Range>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abatement_string: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asserter: Option<Reference>,
}

impl Resource for Condition {
    const TYPE: &'static str = "Condition";
    fn resource_type(&self) -> &str {
        &self.resource_type
    }
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        check_id("Condition", self.id.as_deref(), &mut out);
        check_reference("Condition.subject", self.subject.as_ref(), "Patient", &mut out);
        check_concept("Condition.code", self.code.as_ref(), false, &mut out);
        check_concept("Condition.clinicalStatus", self.clinical_status.as_ref(), false, &mut out);
        check_date("Condition.onsetDateTime", self.onset_date_time.as_deref(), false, &mut out);
        check_period("Condition.onsetPeriod", self.onset_period.as_ref(), &mut out);
        one_form(
            "Condition.onset[x]",
            &[
                ("onsetDateTime", self.onset_date_time.is_some()),
                ("onsetAge", self.onset_age.is_some()),
                ("onsetPeriod", self.onset_period.is_some()),
                ("onsetRange", self.onset_range.is_some()),
                ("onsetString", self.onset_string.is_some()),
            ],
            &mut out,
        );
        check_date("Condition.abatementDateTime", self.abatement_date_time.as_deref(), false, &mut out);
        check_period("Condition.abatementPeriod", self.abatement_period.as_ref(), &mut out);
        one_form(
            "Condition.abatement[x]",
            &[
                ("abatementDateTime", self.abatement_date_time.is_some()),
                ("abatementAge", self.abatement_age.is_some()),
                ("abatementPeriod", self.abatement_period.is_some()),
                ("abatementRange", self.abatement_range.is_some()),
                ("abatementString", self.abatement_string.is_some()),
            ],
            &mut out,
        );
        check_date("Condition.recordedDate", self.recorded_date.as_deref(), false, &mut out);
        out
    }
}
