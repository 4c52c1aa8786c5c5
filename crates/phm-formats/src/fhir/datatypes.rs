//! The FHIR R4 data types the resources use (Coding, CodeableConcept, Reference, Period, ...).

use serde::{Deserialize, Serialize};

/// A code from a code system.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Coding {
    /// Code system URI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Human-readable text of the code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

impl Coding {
    /// A coding with system, code and display.
    pub fn new(system: &str, code: &str, display: &str) -> Self {
        Self { system: Some(system.to_owned()), code: Some(code.to_owned()), display: Some(display.to_owned()) }
    }
}

/// A concept as one or more codings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CodeableConcept {
    /// Codings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coding: Vec<Coding>,
    /// Plain text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl CodeableConcept {
    /// A concept with one coding.
    pub fn one(system: &str, code: &str, display: &str) -> Self {
        Self { coding: vec![Coding::new(system, code, display)], text: None }
    }

    /// The first coding in the given system.
    pub fn coding_in(&self, system: &str) -> Option<&Coding> {
        self.coding.iter().find(|c| c.system.as_deref() == Some(system))
    }
}

/// An extension (only the value types OpenPHM uses).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Extension {
    /// What the extension is.
    pub url: String,
    /// Nested extensions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    /// A coded value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_codeable_concept: Option<CodeableConcept>,
    /// A string value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_string: Option<String>,
}

/// A business identifier.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Identifier {
    /// Extensions (e.g. NHS number verification status).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    /// Identifier system URI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// A reference to another resource, by literal reference or by identifier.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    /// Literal reference, e.g. `Patient/123`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Logical reference by identifier, e.g. an ODS code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifier: Option<Identifier>,
    /// Text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

impl Reference {
    /// `ResourceType/id`.
    pub fn to(resource_type: &str, id: &str) -> Self {
        Self { reference: Some(format!("{resource_type}/{id}")), ..Self::default() }
    }

    /// A logical reference to an organisation by ODS code.
    pub fn ods(code: &str, name: &str) -> Self {
        Self {
            identifier: Some(Identifier {
                system: Some(phm_core::codes::uri::ODS_ORGANISATION.to_owned()),
                value: Some(code.to_owned()),
                ..Identifier::default()
            }),
            display: Some(name.to_owned()),
            ..Self::default()
        }
    }

    /// The id part of a literal reference to `resource_type`.
    pub fn id_of(&self, resource_type: &str) -> Option<&str> {
        self.reference.as_deref()?.strip_prefix(resource_type)?.strip_prefix('/')
    }

    /// The value of a logical reference by ODS code.
    pub fn ods_code(&self) -> Option<&str> {
        let id = self.identifier.as_ref()?;
        (id.system.as_deref() == Some(phm_core::codes::uri::ODS_ORGANISATION)).then_some(id.value.as_deref()?)
    }
}

/// A time period.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Period {
    /// Start (date or dateTime).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// End (date or dateTime).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

/// A measured amount.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Quantity {
    /// Numeric value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// Unit as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Unit system (UCUM).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Unit code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl Quantity {
    /// A UCUM quantity.
    pub fn ucum(value: f64, unit: &str, code: &str) -> Self {
        Self {
            value: Some(value),
            unit: Some(unit.to_owned()),
            system: Some(phm_core::codes::uri::UCUM.to_owned()),
            code: Some(code.to_owned()),
        }
    }
}

/// A range of quantities (`onsetRange`, `valueRange`, ...).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Range {
    /// Low limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub low: Option<Quantity>,
    /// High limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub high: Option<Quantity>,
}

/// When something happens or happened, as events or a repeat (`effectiveTiming`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// When the event occurs (dateTimes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub event: Vec<String>,
    /// The repeat rule, kept as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeat: Option<serde_json::Value>,
}

/// A person's name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HumanName {
    /// `official`, `usual`, ...
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// Family name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// Given names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub given: Vec<String>,
    /// Prefixes (Mr, Ms, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefix: Vec<String>,
}

/// A postal address.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// `home`, `work`, ...
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// Street lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub line: Vec<String>,
    /// Town or city.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// County or district.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    /// Postcode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
}

/// Resource metadata.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    /// Profiles the resource claims to conform to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profile: Vec<String>,
    /// When the resource last changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
}

impl Meta {
    /// Meta claiming a UK Core profile, e.g. `UKCore-Patient`.
    pub fn uk_core(profile: &str) -> Option<Self> {
        Some(Self {
            profile: vec![format!("https://fhir.hl7.org.uk/StructureDefinition/{profile}")],
            last_updated: None,
        })
    }
}
