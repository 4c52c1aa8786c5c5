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
    /// LOINC (laboratory and clinical observations in international data such as OMOP extracts).
    Loinc,
    /// RxNorm (US medicines, in international data such as OMOP extracts).
    Rxnorm,
    /// CVX (US vaccine codes, in international data such as OMOP extracts).
    Cvx,
}

impl CodeSystem {
    /// Every system, for lookups.
    pub const ALL: [Self; 7] =
        [Self::Snomed, Self::Icd10, Self::Dmd, Self::Opcs4, Self::Loinc, Self::Rxnorm, Self::Cvx];

    /// The FHIR `Coding.system` URI used by UK Core.
    pub fn uri(self) -> &'static str {
        match self {
            Self::Snomed => "http://snomed.info/sct",
            Self::Icd10 => "http://hl7.org/fhir/sid/icd-10",
            Self::Dmd => "https://dmd.nhs.uk",
            Self::Opcs4 => "https://fhir.hl7.org.uk/Id/opcs-4",
            Self::Loinc => "http://loinc.org",
            Self::Rxnorm => "http://www.nlm.nih.gov/research/umls/rxnorm",
            Self::Cvx => "http://hl7.org/fhir/sid/cvx",
        }
    }

    /// The short name stored in the canonical `code_system` columns.
    pub fn name(self) -> &'static str {
        match self {
            Self::Snomed => "snomed",
            Self::Icd10 => "icd10",
            Self::Dmd => "dmd",
            Self::Opcs4 => "opcs4",
            Self::Loinc => "loinc",
            Self::Rxnorm => "rxnorm",
            Self::Cvx => "cvx",
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

    /// Whether `code` has the form this system's codes take (see [`check_code`]).
    ///
    /// This checks shape only (and the SNOMED CT check digit); it cannot tell whether the code
    /// exists in a release of the system.
    pub fn is_valid_code(self, code: &str) -> bool {
        check_code(self, code).is_ok()
    }
}

/// Why a code does not have the form its code system requires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeError {
    /// A SNOMED CT identifier must have 6 to 18 digits.
    Length,
    /// Something other than the characters the system allows.
    Characters,
    /// A SNOMED CT identifier never starts with `0`.
    LeadingZero,
    /// The last digit is not the Verhoeff check digit of the others.
    CheckDigit,
    /// The partition identifier (second- and third-last digits) is not `00` or `10`, so the id
    /// names a description, relationship or other component rather than a concept.
    NotConcept,
    /// Not `letter, two digits, optional digit or X` (ICD-10) or `letter, three digits` (OPCS-4).
    Pattern,
}

impl CodeError {
    /// A sentence saying what is wrong, for error messages.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Length => "a SNOMED CT identifier has 6 to 18 digits",
            Self::Characters => "contains characters the code system does not use",
            Self::LeadingZero => "a SNOMED CT identifier does not start with 0",
            Self::CheckDigit => "the Verhoeff check digit does not match",
            Self::NotConcept => {
                "the partition identifier (digits 2 and 3 from the right) is not 00 or 10, so this is not a concept id"
            }
            Self::Pattern => "does not match the code pattern of its system",
        }
    }
}

/// Checks that `code` has the form of a code in `system`:
///
/// * SNOMED CT and dm+d: a concept identifier (see [`check_sctid`]); dm+d VTM, VMP, AMP, VMPP and
///   AMPP ids are SNOMED CT concept ids in the UK extension's namespace.
/// * ICD-10: a capital letter, two digits and optionally a fourth character that is a digit or
///   `X`, written without the dot as in HES (`I10`, `E119`, `F03X`).
/// * OPCS-4: a capital letter and three digits, without the dot (`W371`).
pub fn check_code(system: CodeSystem, code: &str) -> Result<(), CodeError> {
    match system {
        CodeSystem::Snomed | CodeSystem::Dmd => check_sctid(code),
        CodeSystem::Icd10 => {
            let b = code.as_bytes();
            let fourth_ok = match b.get(3) {
                None => true,
                Some(c) => c.is_ascii_digit() || *c == b'X',
            };
            let ok = (3..=4).contains(&b.len())
                && b[0].is_ascii_uppercase()
                && b[1..3].iter().all(u8::is_ascii_digit)
                && fourth_ok;
            if ok { Ok(()) } else { Err(CodeError::Pattern) }
        }
        CodeSystem::Opcs4 => {
            let b = code.as_bytes();
            let ok = b.len() == 4 && b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_digit);
            if ok { Ok(()) } else { Err(CodeError::Pattern) }
        }
        CodeSystem::Loinc => {
            let (body, check) = code.split_once('-').ok_or(CodeError::Pattern)?;
            let ok = (1..=7).contains(&body.len())
                && check.len() == 1
                && body.bytes().chain(check.bytes()).all(|b| b.is_ascii_digit());
            if !ok {
                return Err(CodeError::Pattern);
            }
            if luhn_check_digit(body) == check.as_bytes()[0] - b'0' { Ok(()) } else { Err(CodeError::CheckDigit) }
        }
        CodeSystem::Rxnorm => digits(code, 1, 8),
        CodeSystem::Cvx => digits(code, 1, 3),
    }
}

fn digits(code: &str, min: usize, max: usize) -> Result<(), CodeError> {
    if !code.bytes().all(|b| b.is_ascii_digit()) {
        Err(CodeError::Characters)
    } else if (min..=max).contains(&code.len()) {
        Ok(())
    } else {
        Err(CodeError::Pattern)
    }
}

/// The mod-10 (Luhn) check digit LOINC puts after the hyphen, of an all-digit body.
fn luhn_check_digit(body: &str) -> u8 {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                x / 10 + x % 10
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// Checks a SNOMED CT concept identifier (SCTID).
///
/// An SCTID is 6 to 18 decimal digits with no leading zero. Read from the right: the last digit
/// is a Verhoeff check digit over all the others; the next two form the partition identifier,
/// whose second-last digit gives the component (`0` concept, `1` description, `2`
/// relationship) and third-last digit the format (`0` short, international; `1` long, with a
/// seven-digit namespace, as in the UK extension and dm+d). So a concept id ends in `00x` or
/// `10x` (SNOMED International, *SNOMED CT Technical Implementation Guide*, "SCTID").
pub fn check_sctid(id: &str) -> Result<(), CodeError> {
    if !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CodeError::Characters);
    }
    if !(6..=18).contains(&id.len()) {
        return Err(CodeError::Length);
    }
    if id.starts_with('0') {
        return Err(CodeError::LeadingZero);
    }
    if !verhoeff_is_valid(id) {
        return Err(CodeError::CheckDigit);
    }
    let b = id.as_bytes();
    let partition = &b[b.len() - 3..b.len() - 1];
    if partition == b"00" || partition == b"10" { Ok(()) } else { Err(CodeError::NotConcept) }
}

/// Whether `id` is a SNOMED CT (or dm+d) concept identifier; see [`check_sctid`].
pub fn is_sctid(id: &str) -> bool {
    check_sctid(id).is_ok()
}

/// Multiplication table of the dihedral group D5, as used by the Verhoeff scheme.
const VERHOEFF_D: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];

/// Verhoeff's position-dependent permutation: row `i % 8` applies to the digit `i` places from
/// the right (the check digit being place 0).
const VERHOEFF_P: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/// Inverses in D5.
const VERHOEFF_INV: [u8; 10] = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9];

/// Runs the Verhoeff recurrence over `digits` (right to left), the rightmost taking place
/// `first_place`; `None` if a character is not an ASCII digit.
fn verhoeff_fold(digits: &str, first_place: usize) -> Option<u8> {
    let mut c = 0u8;
    for (i, b) in digits.bytes().rev().enumerate() {
        if !b.is_ascii_digit() {
            return None;
        }
        let permuted = VERHOEFF_P[(i + first_place) % 8][usize::from(b - b'0')];
        c = VERHOEFF_D[usize::from(c)][usize::from(permuted)];
    }
    Some(c)
}

/// Whether the last digit of `digits` is the Verhoeff check digit of the digits before it.
/// False for an empty string or one with a non-digit.
pub fn verhoeff_is_valid(digits: &str) -> bool {
    !digits.is_empty() && verhoeff_fold(digits, 0) == Some(0)
}

/// The Verhoeff check digit to append to `payload`, or `None` if it is empty or has a non-digit.
pub fn verhoeff_check_digit(payload: &str) -> Option<u8> {
    if payload.is_empty() {
        return None;
    }
    verhoeff_fold(payload, 1).map(|c| VERHOEFF_INV[usize::from(c)])
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
    pub const ETHNIC_CATEGORY_SYSTEM: &str = "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland";
    /// UK Core admission method extension (on `Encounter.hospitalization`).
    pub const ADMISSION_METHOD_EXTENSION: &str =
        "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AdmissionMethod";
    /// UK Core admission method code system (England).
    pub const ADMISSION_METHOD_SYSTEM: &str = "https://fhir.hl7.org.uk/CodeSystem/UKCore-AdmissionMethodEngland";
    /// UK Core vaccination procedure extension (on `Immunization`).
    pub const VACCINATION_PROCEDURE_EXTENSION: &str =
        "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-VaccinationProcedure";
    /// HL7 v3 ActCode (Encounter.class).
    pub const V3_ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
    /// UCUM units.
    pub const UCUM: &str = "http://unitsofmeasure.org";
    /// FHIR observation category.
    pub const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
    /// FHIR condition category.
    pub const CONDITION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/condition-category";
    /// FHIR condition clinical status.
    pub const CONDITION_CLINICAL: &str = "http://terminology.hl7.org/CodeSystem/condition-clinical";
    /// FHIR condition verification status.
    pub const CONDITION_VERIFICATION: &str = "http://terminology.hl7.org/CodeSystem/condition-ver-status";
    /// Source-local patient identifiers in the synthetic extracts (RFC 4122 UUIDs).
    pub const UUID: &str = "https://tools.ietf.org/html/rfc4122";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loinc_codes_carry_a_mod_10_check_digit() {
        // Glucose [Mass/volume] in Serum or Plasma; Hemoglobin A1c/Hemoglobin.total in Blood.
        assert_eq!(check_code(CodeSystem::Loinc, "2345-7"), Ok(()));
        assert_eq!(check_code(CodeSystem::Loinc, "4548-4"), Ok(()));
        assert_eq!(check_code(CodeSystem::Loinc, "2345-6"), Err(CodeError::CheckDigit));
        assert_eq!(check_code(CodeSystem::Loinc, "23456"), Err(CodeError::Pattern));
        assert_eq!(check_code(CodeSystem::Rxnorm, "197361"), Ok(()));
        assert_eq!(check_code(CodeSystem::Cvx, "140"), Ok(()));
        assert_eq!(check_code(CodeSystem::Cvx, "14a"), Err(CodeError::Characters));
    }

    #[test]
    fn verhoeff_matches_the_published_example() {
        // Verhoeff's worked example: 236 takes check digit 3.
        assert_eq!(verhoeff_check_digit("236"), Some(3));
        assert!(verhoeff_is_valid("2363"));
        assert!(!verhoeff_is_valid("2364"));
        assert!(!verhoeff_is_valid(""));
        assert!(!verhoeff_is_valid("23a3"));
        assert_eq!(verhoeff_check_digit(""), None);
    }

    #[test]
    fn check_digit_round_trips_and_catches_single_errors_and_swaps() {
        for payload in ["3834100", "92579100000010", "3973201100000110", "1"] {
            let d = verhoeff_check_digit(payload).expect("digits");
            let id = format!("{payload}{d}");
            assert!(verhoeff_is_valid(&id), "{id}");
            let bytes = id.as_bytes();
            for i in 0..bytes.len() {
                for other in b'0'..=b'9' {
                    if other == bytes[i] {
                        continue;
                    }
                    let mut changed = bytes.to_vec();
                    changed[i] = other;
                    let changed = String::from_utf8(changed).expect("ascii");
                    assert!(!verhoeff_is_valid(&changed), "single-digit error {changed} passed");
                }
                if i + 1 < bytes.len() && bytes[i] != bytes[i + 1] {
                    let mut swapped = bytes.to_vec();
                    swapped.swap(i, i + 1);
                    let swapped = String::from_utf8(swapped).expect("ascii");
                    assert!(!verhoeff_is_valid(&swapped), "transposition {swapped} passed");
                }
            }
        }
    }

    #[test]
    fn accepts_known_concept_ids() {
        for id in [
            "38341003",          // Hypertensive disorder, systemic arterial (international)
            "44054006",          // Diabetes mellitus type 2
            "138875005",         // SNOMED CT Concept (root)
            "925791000000100",   // Mild frailty (UK extension, long format)
            "999791000000106",   // Haemoglobin A1c level - IFCC standardised
            "319283006",         // Amlodipine 5mg tablets (earlier dm+d VMP id)
            "39732011000001102", // Amlodipine 5mg tablets (dm+d VMP)
            "20517811000001104", // Nimenrix ... pre-filled syringes (dm+d AMP)
        ] {
            assert_eq!(check_sctid(id), Ok(()), "{id}");
            assert!(CodeSystem::Snomed.is_valid_code(id));
            assert!(CodeSystem::Dmd.is_valid_code(id));
        }
    }

    #[test]
    fn rejects_bad_ids_with_the_reason() {
        assert_eq!(check_sctid("38341004"), Err(CodeError::CheckDigit));
        assert_eq!(check_sctid("38314003"), Err(CodeError::CheckDigit), "adjacent digits swapped");
        assert_eq!(check_sctid("12345"), Err(CodeError::Length));
        assert_eq!(check_sctid("1234567890123456789"), Err(CodeError::Length));
        assert_eq!(check_sctid(""), Err(CodeError::Length));
        assert_eq!(check_sctid("038341003"), Err(CodeError::LeadingZero));
        assert_eq!(check_sctid("3834 1003"), Err(CodeError::Characters));
        assert_eq!(check_sctid("E119"), Err(CodeError::Characters));
        // Right check digit, so only the partition decides: 00 and 10 are concepts; 01/11 are
        // descriptions and 02/12 relationships.
        for (partition, expected) in [
            ("00", Ok(())),
            ("10", Ok(())),
            ("01", Err(CodeError::NotConcept)),
            ("11", Err(CodeError::NotConcept)),
            ("02", Err(CodeError::NotConcept)),
            ("12", Err(CodeError::NotConcept)),
        ] {
            let payload = format!("4242{partition}");
            let id = format!("{payload}{}", verhoeff_check_digit(&payload).expect("digits"));
            assert!(verhoeff_is_valid(&id));
            assert_eq!(check_sctid(&id), expected, "{id}");
        }
    }

    #[test]
    fn icd10_and_opcs4_patterns() {
        for code in ["I10", "E119", "F03", "F03X", "R55", "J441", "C509"] {
            assert!(CodeSystem::Icd10.is_valid_code(code), "{code}");
        }
        for code in ["I1", "E11.9", "e119", "E1190", "11I0", "E11Y", "E1X", ""] {
            assert_eq!(check_code(CodeSystem::Icd10, code), Err(CodeError::Pattern), "{code}");
        }
        for code in ["W371", "W401", "C751", "H229"] {
            assert!(CodeSystem::Opcs4.is_valid_code(code), "{code}");
        }
        for code in ["W37.1", "W37", "W3711", "w371", "WW71", "W37X"] {
            assert_eq!(check_code(CodeSystem::Opcs4, code), Err(CodeError::Pattern), "{code}");
        }
        assert!(!CodeSystem::Dmd.is_valid_code("0206020A0AAAAAA"), "a BNF code is not a dm+d id");
    }
}
