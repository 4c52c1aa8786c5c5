//! `Patient`.

use serde::{Deserialize, Serialize};

use crate::fhir::Resource;
use crate::fhir::datatypes::{Address, Extension, HumanName, Identifier, Meta, Reference};
use crate::fhir::validation::{Problem, check_code, check_date, check_id, problem};

/// `Patient` (UK Core: UKCore-Patient).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[expect(missing_docs, reason = "fields are the FHIR elements of the same name")]
pub struct Patient {
    pub resource_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifier: Vec<Identifier>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub name: Vec<HumanName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deceased_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deceased_boolean: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub address: Vec<Address>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub general_practitioner: Vec<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managing_organization: Option<Reference>,
}

impl Patient {
    /// The NHS number identifier's value, if present.
    pub fn nhs_number(&self) -> Option<&str> {
        self.identifier.iter().find(|i| i.system.as_deref() == Some(phm_core::codes::uri::NHS_NUMBER))?.value.as_deref()
    }

    /// The UK Core ethnic category code, if present.
    pub fn ethnic_category(&self) -> Option<&str> {
        self.extension
            .iter()
            .find(|e| e.url == phm_core::codes::uri::ETHNIC_CATEGORY_EXTENSION)?
            .value_codeable_concept
            .as_ref()?
            .coding_in(phm_core::codes::uri::ETHNIC_CATEGORY_SYSTEM)?
            .code
            .as_deref()
    }
}

impl Resource for Patient {
    const TYPE: &'static str = "Patient";
    fn resource_type(&self) -> &str {
        &self.resource_type
    }
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        check_id("Patient", self.id.as_deref(), &mut out);
        if let Some(g) = &self.gender {
            check_code("Patient.gender", Some(g), &["male", "female", "other", "unknown"], &mut out);
        }
        check_date("Patient.birthDate", self.birth_date.as_deref(), false, &mut out);
        check_date("Patient.deceasedDateTime", self.deceased_date_time.as_deref(), false, &mut out);
        if self.deceased_date_time.is_some() && self.deceased_boolean.is_some() {
            out.push(problem("Patient.deceased[x]", "only one of deceasedBoolean and deceasedDateTime may be present"));
        }
        out
    }
}
