//! `Procedure`.

use serde::{Deserialize, Serialize};

use crate::fhir::Resource;
use crate::fhir::datatypes::{CodeableConcept, Meta, Period, Quantity, Range, Reference};
use crate::fhir::validation::{
    Problem, check_code, check_concept, check_date, check_id, check_period, check_reference, one_form,
};

/// `Procedure` (UK Core: UKCore-Procedure).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[expect(missing_docs, reason = "fields are the FHIR elements of the same name")]
pub struct Procedure {
    pub resource_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encounter: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub performed_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub performed_period: Option<Period>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub performed_string: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub performed_age: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub performed_range: Option<Range>,
}

impl Resource for Procedure {
    const TYPE: &'static str = "Procedure";
    fn resource_type(&self) -> &str {
        &self.resource_type
    }
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        check_id("Procedure", self.id.as_deref(), &mut out);
        check_code(
            "Procedure.status",
            self.status.as_deref(),
            &[
                "preparation",
                "in-progress",
                "not-done",
                "on-hold",
                "stopped",
                "completed",
                "entered-in-error",
                "unknown",
            ],
            &mut out,
        );
        check_concept("Procedure.code", self.code.as_ref(), false, &mut out);
        check_reference("Procedure.subject", self.subject.as_ref(), "Patient", &mut out);
        check_date("Procedure.performedDateTime", self.performed_date_time.as_deref(), false, &mut out);
        check_period("Procedure.performedPeriod", self.performed_period.as_ref(), &mut out);
        one_form(
            "Procedure.performed[x]",
            &[
                ("performedDateTime", self.performed_date_time.is_some()),
                ("performedPeriod", self.performed_period.is_some()),
                ("performedString", self.performed_string.is_some()),
                ("performedAge", self.performed_age.is_some()),
                ("performedRange", self.performed_range.is_some()),
            ],
            &mut out,
        );
        out
    }
}
