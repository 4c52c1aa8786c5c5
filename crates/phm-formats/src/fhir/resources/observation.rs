//! `Observation` and its components and values.

use serde::{Deserialize, Serialize};

use crate::fhir::Resource;
use crate::fhir::datatypes::{CodeableConcept, Meta, Period, Quantity, Range, Reference, Timing};
use crate::fhir::validation::{
    Problem, check_code, check_concept, check_date, check_id, check_period, check_reference, one_form, problem,
};

/// One component of an observation (e.g. systolic within a blood pressure).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[expect(missing_docs, reason = "fields are the FHIR elements of the same name")]
pub struct ObservationComponent {
    pub code: CodeableConcept,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_quantity: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_codeable_concept: Option<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_string: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_boolean: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_integer: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_range: Option<Range>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_ratio: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_sampled_data: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_period: Option<Period>,
}

/// An observation's (or a component's) `value[x]`, in whichever R4 form it was given.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    /// No value (e.g. a panel, or `dataAbsentReason`).
    None,
    /// `valueQuantity`.
    Quantity(&'a Quantity),
    /// `valueCodeableConcept`.
    CodeableConcept(&'a CodeableConcept),
    /// `valueInteger`.
    Integer(i64),
    /// `valueBoolean`.
    Boolean(bool),
    /// `valueString`.
    String(&'a str),
    /// A form with no numeric or coded reading: `valueRange`, `valueRatio`,
    /// `valueSampledData`, `valueTime`, `valueDateTime` or `valuePeriod` (the element name).
    Other(&'static str),
}

macro_rules! value_of {
    ($x:expr) => {{
        let x = $x;
        let forms: [(&'static str, bool); 11] = [
            ("valueQuantity", x.value_quantity.is_some()),
            ("valueCodeableConcept", x.value_codeable_concept.is_some()),
            ("valueString", x.value_string.is_some()),
            ("valueBoolean", x.value_boolean.is_some()),
            ("valueInteger", x.value_integer.is_some()),
            ("valueRange", x.value_range.is_some()),
            ("valueRatio", x.value_ratio.is_some()),
            ("valueSampledData", x.value_sampled_data.is_some()),
            ("valueTime", x.value_time.is_some()),
            ("valueDateTime", x.value_date_time.is_some()),
            ("valuePeriod", x.value_period.is_some()),
        ];
        let value = if let Some(q) = &x.value_quantity {
            Value::Quantity(q)
        } else if let Some(c) = &x.value_codeable_concept {
            Value::CodeableConcept(c)
        } else if let Some(i) = x.value_integer {
            Value::Integer(i)
        } else if let Some(b) = x.value_boolean {
            Value::Boolean(b)
        } else if let Some(t) = &x.value_string {
            Value::String(t)
        } else {
            forms[5..].iter().find(|(_, present)| *present).map_or(Value::None, |(name, _)| Value::Other(name))
        };
        (value, forms)
    }};
}

impl ObservationComponent {
    /// The component's value, in the form given.
    pub fn value(&self) -> Value<'_> {
        value_of!(self).0
    }
}

impl Observation {
    /// The observation's own value, in the form given.
    pub fn value(&self) -> Value<'_> {
        value_of!(self).0
    }
}

fn check_value(
    element: &str,
    forms: &[(&str, bool)],
    quantity: Option<&Quantity>,
    concept: Option<&CodeableConcept>,
    out: &mut Vec<Problem>,
) {
    one_form(&format!("{element}.value[x]"), forms, out);
    if quantity.is_some_and(|q| q.value.is_none_or(|v| !v.is_finite())) {
        out.push(problem(&format!("{element}.valueQuantity.value"), "must be a finite number"));
    }
    check_concept(&format!("{element}.valueCodeableConcept"), concept, false, out);
}

/// `Observation` (UK Core: UKCore-Observation).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[expect(missing_docs, reason = "fields are the FHIR elements of the same name")]
pub struct Observation {
    pub resource_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub category: Vec<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encounter: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_period: Option<Period>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_instant: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_timing: Option<Timing>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub performer: Vec<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_quantity: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_codeable_concept: Option<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_string: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_boolean: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_integer: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_range: Option<Range>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_ratio: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_sampled_data: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_period: Option<Period>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_absent_reason: Option<CodeableConcept>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub component: Vec<ObservationComponent>,
}

impl Resource for Observation {
    const TYPE: &'static str = "Observation";
    fn resource_type(&self) -> &str {
        &self.resource_type
    }
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        check_id("Observation", self.id.as_deref(), &mut out);
        check_code(
            "Observation.status",
            self.status.as_deref(),
            &["registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"],
            &mut out,
        );
        check_concept("Observation.code", self.code.as_ref(), true, &mut out);
        check_reference("Observation.subject", self.subject.as_ref(), "Patient", &mut out);
        check_date("Observation.effectiveDateTime", self.effective_date_time.as_deref(), false, &mut out);
        check_period("Observation.effectivePeriod", self.effective_period.as_ref(), &mut out);
        check_date("Observation.effectiveInstant", self.effective_instant.as_deref(), false, &mut out);
        one_form(
            "Observation.effective[x]",
            &[
                ("effectiveDateTime", self.effective_date_time.is_some()),
                ("effectivePeriod", self.effective_period.is_some()),
                ("effectiveTiming", self.effective_timing.is_some()),
                ("effectiveInstant", self.effective_instant.is_some()),
            ],
            &mut out,
        );
        check_value(
            "Observation",
            &value_of!(self).1,
            self.value_quantity.as_ref(),
            self.value_codeable_concept.as_ref(),
            &mut out,
        );
        for (i, c) in self.component.iter().enumerate() {
            check_value(
                &format!("Observation.component[{i}]"),
                &value_of!(c).1,
                c.value_quantity.as_ref(),
                c.value_codeable_concept.as_ref(),
                &mut out,
            );
        }
        out
    }
}
