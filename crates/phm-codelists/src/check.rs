//! The checks of one code cell: what a person or a spreadsheet may have done to a code, and
//! whether the code can still be used.

use phm_core::codes::{CodeError, CodeSystem, check_code, check_sctid};

use crate::problem::ProblemKind;

/// What [`check_cell`] found: the code to take, if any, and every finding with its message.
#[derive(Debug, Default)]
pub(crate) struct Checked {
    /// The normalised code, if it is usable.
    pub(crate) code: Option<String>,
    /// Findings, in the order they were made.
    pub(crate) findings: Vec<(ProblemKind, String)>,
}

impl Checked {
    fn push(&mut self, kind: ProblemKind, message: String) {
        self.findings.push((kind, message));
    }
}

/// Space a spreadsheet or a copy from a web page leaves around a value: Unicode white space
/// (which includes the non-breaking space U+00A0), zero-width spaces and byte-order marks.
pub(crate) fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{200b}' || c == '\u{feff}'
}

/// The human name of a code system, for messages.
pub(crate) fn label(system: CodeSystem) -> &'static str {
    match system {
        CodeSystem::Snomed => "SNOMED CT",
        CodeSystem::Icd10 => "ICD-10",
        CodeSystem::Dmd => "dm+d",
        CodeSystem::Opcs4 => "OPCS-4",
        CodeSystem::Loinc => "LOINC",
        CodeSystem::Rxnorm => "RxNorm",
        CodeSystem::Cvx => "CVX",
    }
}

const AS_TEXT: &str =
    "re-export the list with the code column formatted as text, or download it again from OpenCodelists";

/// Checks the raw content of one code cell of a list declared to be in `system`.
pub(crate) fn check_cell(system: CodeSystem, raw: &str) -> Checked {
    let mut out = Checked::default();
    let trimmed = raw.trim_matches(is_space);
    if trimmed.is_empty() {
        out.push(ProblemKind::EmptyCode, "the row has no code: fill it in or delete the row".to_owned());
        return out;
    }
    if trimmed.len() != raw.len() {
        out.push(
            ProblemKind::Whitespace,
            format!("space around the code (possibly a non-breaking space, which is invisible); read as `{trimmed}`"),
        );
    }
    if is_scientific(trimmed) {
        out.push(
            ProblemKind::ScientificNotation,
            format!("a spreadsheet turned the code into a number in scientific notation and dropped digits, so the original code cannot be recovered: {AS_TEXT}"),
        );
        return out;
    }
    let mut code = trimmed.to_owned();
    match system {
        CodeSystem::Snomed | CodeSystem::Dmd => {
            if let Some(int) = strip_decimal_zeros(&code) {
                out.push(
                    ProblemKind::DecimalSuffix,
                    format!("written as a decimal number, as spreadsheets and pandas write numbers; read as `{int}`, but {AS_TEXT}"),
                );
                code = int.to_owned();
            }
            let unpadded = code.trim_start_matches('0');
            if unpadded.len() < code.len() && check_sctid(unpadded).is_ok() {
                out.push(
                    ProblemKind::LeadingZeros,
                    format!(
                        "{} ids never start with 0; without the zero padding the id `{unpadded}` passes the check digit and is taken, but check how the list was exported",
                        label(system)
                    ),
                );
                code = unpadded.to_owned();
            }
        }
        CodeSystem::Icd10 | CodeSystem::Opcs4 => {
            let normal = normalise_classification(system, &code);
            if normal != code && check_code(system, &normal).is_ok() {
                let filler = if system == CodeSystem::Icd10 { " or an X filler" } else { "" };
                out.push(
                    ProblemKind::Normalised,
                    format!("{} codes are held in capitals, without a dot{filler}; taken as `{normal}`", label(system)),
                );
                code = normal;
            }
        }
        CodeSystem::Loinc | CodeSystem::Rxnorm | CodeSystem::Cvx => {}
    }
    match check_code(system, &code) {
        Ok(()) => out.code = Some(code),
        Err(e) => {
            let (kind, message) = diagnose(system, trimmed, &code, e);
            out.push(kind, message);
        }
    }
    out
}

/// Names why a code that failed its system's check is unusable, most specific reason first.
fn diagnose(system: CodeSystem, trimmed: &str, code: &str, error: CodeError) -> (ProblemKind, String) {
    if let Some((other, what)) = looks_like(system, trimmed) {
        let message = format!(
            "looks like {what}; this codelist is declared {}: move the code to a {} list, or load the file as {} (by the repository convention a file's name prefix gives its system)",
            system.name(),
            label(other),
            other.name()
        );
        return (ProblemKind::WrongSystem { looks_like: other }, message);
    }
    if is_read_code(trimmed) && !(system == CodeSystem::Icd10 && is_icd10_with_fifth(trimmed)) {
        let message = format!(
            "looks like a Read v2 or CTV3 code, which OpenPHM does not read; this codelist is declared {}: use the {} version of the list (OpenCodelists can convert CTV3 lists)",
            system.name(),
            label(system)
        );
        return (ProblemKind::ReadCode, message);
    }
    if matches!(system, CodeSystem::Snomed | CodeSystem::Dmd) && precision_lost(code) {
        let message = format!(
            "a spreadsheet kept only the first 15 significant digits of this id and replaced the rest with zeros, so the original cannot be recovered: {AS_TEXT}"
        );
        return (ProblemKind::PrecisionLost, message);
    }
    let hint = match error {
        CodeError::CheckDigit => "a digit is wrong or two digits are swapped: copy the code again from its source",
        _ if system == CodeSystem::Icd10 && is_icd10_with_fifth(trimmed) => {
            "OpenPHM holds ICD-10 at three or four characters, as HES does; use the four-character code"
        }
        _ => "correct it from the published list or delete the row",
    };
    (ProblemKind::Invalid(error), format!("not a valid {} code: {}; {hint}", label(system), error.reason()))
}

/// The other system (and how to say it) whose codes `code` looks like, if it clearly fits one.
fn looks_like(system: CodeSystem, code: &str) -> Option<(CodeSystem, &'static str)> {
    let icd = check_code(CodeSystem::Icd10, &normalise_classification(CodeSystem::Icd10, code)).is_ok();
    let opcs = check_code(CodeSystem::Opcs4, &normalise_classification(CodeSystem::Opcs4, code)).is_ok();
    match system {
        CodeSystem::Icd10 | CodeSystem::Opcs4 if check_sctid(code).is_ok() => {
            Some((CodeSystem::Snomed, "a SNOMED CT code"))
        }
        CodeSystem::Opcs4 if icd => Some((CodeSystem::Icd10, "an ICD-10 code")),
        CodeSystem::Snomed | CodeSystem::Dmd if icd && opcs => Some((CodeSystem::Icd10, "an ICD-10 or OPCS-4 code")),
        CodeSystem::Snomed | CodeSystem::Dmd if icd => Some((CodeSystem::Icd10, "an ICD-10 code")),
        _ => None,
    }
}

/// ICD-10 and OPCS-4 as the store holds them: capitals, no dot after the third character, and
/// (ICD-10) no `X` filler after a three-character code (`i10.x` → `I10`, `E11.9` → `E119`).
pub(crate) fn normalise_classification(system: CodeSystem, code: &str) -> String {
    let mut c = code.to_ascii_uppercase();
    if c.as_bytes().get(3) == Some(&b'.') {
        c.remove(3);
    }
    if system == CodeSystem::Icd10 && c.len() == 4 && c.ends_with('X') {
        c.pop();
    }
    c
}

/// A number in scientific notation, as a spreadsheet writes a long id (`3.8341E+07`, `3,83E+13`).
fn is_scientific(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let Some((mantissa, exponent)) = s.split_once(['e', 'E']) else { return false };
    let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    let (int, frac) = mantissa.split_once(['.', ',']).unwrap_or((mantissa, ""));
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && !exponent.is_empty()
        && exponent.bytes().all(|b| b.is_ascii_digit())
}

/// `38341003` from `38341003.0`: the integer part of an all-digit decimal whose fraction is zero.
fn strip_decimal_zeros(s: &str) -> Option<&str> {
    let (int, frac) = s.split_once('.')?;
    let ok = !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && !frac.is_empty()
        && frac.bytes().all(|b| b == b'0');
    ok.then_some(int)
}

/// An id longer than a spreadsheet's 15 significant digits whose digits beyond the 15th are all zero.
fn precision_lost(code: &str) -> bool {
    code.len() > 15 && code.bytes().all(|b| b.is_ascii_digit()) && code.bytes().skip(15).all(|b| b == b'0')
}

/// A letter and four digits, possibly with a dot after the third character: ICD-10 with a fifth
/// character (ICD-10-CM, or a national extension), which HES does not hold.
fn is_icd10_with_fifth(s: &str) -> bool {
    let c = normalise_classification(CodeSystem::Icd10, s);
    let b = c.as_bytes();
    b.len() == 5 && b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_digit)
}

/// Five characters of letters, digits and dots, not all digits: the shape of a Read v2 code
/// (`G20..`, `C10F.`) or a CTV3 code (`XaIQD`, `X40J4`).
fn is_read_code(s: &str) -> bool {
    s.len() == 5 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.') && !s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert!(is_scientific("3.8341E+07"));
        assert!(is_scientific("3,83E+13"));
        assert!(is_scientific("4E16"));
        assert!(!is_scientific("E119"));
        assert!(!is_scientific("38341003"));
        assert_eq!(strip_decimal_zeros("38341003.00"), Some("38341003"));
        assert_eq!(strip_decimal_zeros("38341003.5"), None);
        assert!(precision_lost("42206511000001100"));
        assert!(!precision_lost("846931000000101"));
        assert_eq!(normalise_classification(CodeSystem::Icd10, "i10.x"), "I10");
        assert_eq!(normalise_classification(CodeSystem::Icd10, "E11.9"), "E119");
        assert_eq!(normalise_classification(CodeSystem::Opcs4, "w37.1"), "W371");
        assert!(is_read_code("G20.."));
        assert!(is_read_code("XaIQD"));
        assert!(!is_read_code("12345"));
    }
}
