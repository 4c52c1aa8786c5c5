//! The codes the generator writes, from `reference/synth/codes.csv`.
//!
//! Each concept names the codelist in `codelists/` it must belong to, so what the generator
//! writes is exactly what the product's definitions count (checked by a test).

use std::collections::HashMap;

use phm_core::codes::CodeSystem;
use serde::Deserialize;

use crate::{Error, Result};

/// One code the generator can write.
#[derive(Clone, Debug, Deserialize)]
pub struct Code {
    /// Concept key, e.g. `hypertension`.
    pub concept: String,
    /// `snomed`, `icd10`, `dmd`, `opcs4`.
    pub system: String,
    /// The code.
    pub code: String,
    /// Its term.
    pub display: String,
    /// The codelist (file stem in `codelists/`) it belongs to; empty if none.
    pub codelist: String,
}

impl Code {
    /// FHIR system URI.
    pub fn system_uri(&self) -> &'static str {
        CodeSystem::from_name(&self.system).map_or("urn:unknown", CodeSystem::uri)
    }
}

/// All codes by concept.
pub struct Codes {
    by_concept: HashMap<String, Code>,
    unknown: Code,
}

/// Every concept the generator uses; checked present at start-up.
pub const REQUIRED: &[&str] = &[
    "hypertension",
    "diabetes_type_2",
    "diabetes_type_1",
    "copd",
    "asthma",
    "chd",
    "stroke_tia",
    "heart_failure",
    "atrial_fibrillation",
    "ckd",
    "cancer",
    "cancer_lung",
    "cancer_prostate",
    "cancer_colorectal",
    "dementia",
    "depression",
    "smi",
    "smi_bipolar",
    "learning_disability",
    "obesity",
    "epilepsy",
    "osteoporosis",
    "rheumatoid_arthritis",
    "frailty_mild",
    "frailty_moderate",
    "frailty_severe",
    "bmi",
    "systolic_bp",
    "diastolic_bp",
    "blood_pressure",
    "hba1c",
    "smoking_current",
    "smoking_ex",
    "smoking_never",
    "mmr_vaccination",
    "hpv_vaccination",
    "menacwy_vaccination",
    "flu_vaccination",
    "vaccine_mmr",
    "vaccine_hpv",
    "vaccine_menacwy",
    "vaccine_flu",
    "cervical_screening",
    "breast_screening",
    "bowel_screening",
    "gp_consultation",
    "gp_telephone_consultation",
    "ae_attendance",
    "emergency_admission",
    "elective_admission",
    "outpatient_attendance",
    "community_contact",
    "mental_health_contact",
    "icd10_hypertension",
    "icd10_diabetes",
    "icd10_copd",
    "icd10_asthma",
    "icd10_chd",
    "icd10_stroke",
    "icd10_heart_failure",
    "icd10_atrial_fibrillation",
    "icd10_ckd",
    "icd10_dementia",
    "icd10_pneumonia",
    "icd10_uti",
    "icd10_hip_fracture",
    "icd10_chest_pain",
    "icd10_abdominal_pain",
    "icd10_cellulitis",
    "icd10_syncope",
    "icd10_cancer",
    "icd10_cataract",
    "icd10_hip_oa",
    "icd10_knee_oa",
    "icd10_bowel_screening",
    "opcs4_hip_replacement",
    "opcs4_knee_replacement",
    "opcs4_cataract",
    "opcs4_colonoscopy",
    "med_amlodipine",
    "med_ramipril",
    "med_atorvastatin",
    "med_metformin",
    "med_gliclazide",
    "med_salbutamol",
    "med_beclometasone",
    "med_tiotropium",
    "med_apixaban",
    "med_bisoprolol",
    "med_furosemide",
    "med_sertraline",
    "med_citalopram",
    "med_donepezil",
    "med_olanzapine",
];

impl Codes {
    /// The codes compiled into this build.
    pub fn builtin() -> Result<Self> {
        let rows: Vec<Code> =
            phm_core::reference::parse_csv("synth/codes.csv", include_str!("../../../reference/synth/codes.csv"))?;
        let by_concept: HashMap<String, Code> = rows.into_iter().map(|c| (c.concept.clone(), c)).collect();
        for concept in REQUIRED {
            if !by_concept.contains_key(*concept) {
                return Err(Error::Calibration(format!(
                    "reference/synth/codes.csv has no row for concept `{concept}`"
                )));
            }
        }
        let unknown = Code {
            concept: "unknown".into(),
            system: "snomed".into(),
            code: "261665006".into(),
            display: "Unknown".into(),
            codelist: String::new(),
        };
        Ok(Self { by_concept, unknown })
    }

    /// The code for a concept (every concept in [`REQUIRED`] is present).
    pub fn get(&self, concept: &str) -> &Code {
        self.by_concept.get(concept).unwrap_or(&self.unknown)
    }

    /// All codes.
    pub fn all(&self) -> impl Iterator<Item = &Code> {
        self.by_concept.values()
    }
}
