//! Code systems and the URIs UK Core uses for them.

/// A clinical or administrative code system OpenPHM understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CodeSystem {
    /// SNOMED CT (primary care diagnoses, observations, procedures, immunisations).
    Snomed,
    /// ICD-10 (hospital diagnoses), codes stored without the dot as in HES (`E119`).
    Icd10,
    /// NHS Dictionary of Medicines and Devices.
    Dmd,
    /// OPCS-4 (hospital procedures), stored without the dot (`W371`).
    Opcs4,
}

impl CodeSystem {
    /// Every system, for lookups.
    pub const ALL: [Self; 4] = [Self::Snomed, Self::Icd10, Self::Dmd, Self::Opcs4];

    /// The FHIR `Coding.system` URI used by UK Core.
    pub fn uri(self) -> &'static str {
        match self {
            Self::Snomed => "http://snomed.info/sct",
            Self::Icd10 => "http://hl7.org/fhir/sid/icd-10",
            Self::Dmd => "https://dmd.nhs.uk",
            Self::Opcs4 => "https://fhir.hl7.org.uk/Id/opcs-4",
        }
    }

    /// The short name stored in the canonical `code_system` columns.
    pub fn name(self) -> &'static str {
        match self {
            Self::Snomed => "snomed",
            Self::Icd10 => "icd10",
            Self::Dmd => "dmd",
            Self::Opcs4 => "opcs4",
        }
    }

    /// Looks a system up by its short name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Looks a system up by its FHIR URI.
    pub fn from_uri(uri: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.uri() == uri)
    }
}

/// Well-known identifier systems and UK Core code systems.
pub mod uri {
    /// The NHS number identifier system.
    pub const NHS_NUMBER: &str = "https://fhir.nhs.uk/Id/nhs-number";
    /// ODS organisation codes.
    pub const ODS_ORGANISATION: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
    /// UK Core ethnic category extension.
    pub const ETHNIC_CATEGORY_EXTENSION: &str =
        "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory";
    /// UK Core ethnic category code system (England).
    pub const ETHNIC_CATEGORY_SYSTEM: &str =
        "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland";
    /// UK Core admission method extension (on `Encounter.hospitalization`).
    pub const ADMISSION_METHOD_EXTENSION: &str =
        "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AdmissionMethod";
    /// UK Core admission method code system (England).
    pub const ADMISSION_METHOD_SYSTEM: &str =
        "https://fhir.hl7.org.uk/CodeSystem/UKCore-AdmissionMethodEngland";
    /// UK Core vaccination procedure extension (on `Immunization`).
    pub const VACCINATION_PROCEDURE_EXTENSION: &str =
        "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-VaccinationProcedure";
    /// HL7 v3 ActCode (Encounter.class).
    pub const V3_ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
    /// UCUM units.
    pub const UCUM: &str = "http://unitsofmeasure.org";
    /// FHIR observation category.
    pub const OBSERVATION_CATEGORY: &str =
        "http://terminology.hl7.org/CodeSystem/observation-category";
    /// FHIR condition category.
    pub const CONDITION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/condition-category";
    /// FHIR condition clinical status.
    pub const CONDITION_CLINICAL: &str = "http://terminology.hl7.org/CodeSystem/condition-clinical";
    /// FHIR condition verification status.
    pub const CONDITION_VERIFICATION: &str =
        "http://terminology.hl7.org/CodeSystem/condition-ver-status";
    /// Source-local patient identifiers in the synthetic extracts (RFC 4122 UUIDs).
    pub const UUID: &str = "https://tools.ietf.org/html/rfc4122";
}
