//! Properties over generated SNOMED CT ids: a valid id survives being written to a codelist and
//! read back, and the same id after a spreadsheet wrote it in scientific notation is reported.

use phm_codelists::{Codelist, ProblemKind, Severity};
use phm_core::codes::{CodeSystem, check_sctid, verhoeff_check_digit};
use proptest::prelude::*;

/// A valid concept id of 6 to 18 digits: no leading zero, partition `00` (international) or
/// `10` (namespaced, as in the UK extension and dm+d), Verhoeff check digit.
fn sctid() -> impl Strategy<Value = String> {
    ("[1-9][0-9]{2,14}", prop_oneof![Just("00"), Just("10")]).prop_map(|(body, partition)| {
        let payload = format!("{body}{partition}");
        let check = verhoeff_check_digit(&payload).expect("digits");
        format!("{payload}{check}")
    })
}

/// How a spreadsheet or a program may write a number in scientific notation.
fn scientific(id: &str, style: u8, precision: usize) -> String {
    let x: f64 = id.parse().expect("digits");
    match style {
        0 => format!("{x:e}"),
        1 => format!("{x:E}"),
        _ => {
            // Excel: `3.83E+13`, with a comma as the decimal separator in some locales.
            let shown = format!("{x:.precision$E}");
            let (mantissa, exponent) = shown.split_once('E').expect("exponent");
            let mantissa = if style == 3 { mantissa.replace('.', ",") } else { mantissa.to_owned() };
            format!("{mantissa}E+{:02}", exponent.parse::<i32>().expect("exponent"))
        }
    }
}

fn load(text: &str, system: CodeSystem) -> Codelist {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("generated.csv");
    std::fs::write(&path, text).expect("write");
    Codelist::load(&path, system, None).expect("loads")
}

proptest! {
    #[test]
    fn a_valid_id_survives_a_round_trip(id in sctid(), dmd in any::<bool>()) {
        prop_assert!(check_sctid(&id).is_ok());
        let system = if dmd { CodeSystem::Dmd } else { CodeSystem::Snomed };
        let list = load(&format!("code,term\n{id},\"A term, quoted\"\n"), system);
        prop_assert!(list.problems().is_empty(), "{:?}", list.problems());
        prop_assert_eq!(list.codes(), [id.clone()]);
        prop_assert_eq!(list.term(&id), Some("A term, quoted"));
    }

    #[test]
    fn an_id_in_scientific_notation_is_always_reported(id in sctid(), style in 0u8..4, precision in 0usize..6) {
        let written = scientific(&id, style, precision);
        // Quoted, as a comma decimal separator must be in a comma-separated file.
        let list = load(&format!("code,term\n\"{written}\",A term\n"), CodeSystem::Snomed);
        prop_assert_eq!(list.problems().iter().find(|p| p.line == 2).map(|p| p.kind), Some(ProblemKind::ScientificNotation), "{}", written);
        prop_assert!(list.problems().iter().all(|p| p.severity() == Severity::Error));
        prop_assert!(list.codes().is_empty());
    }
}
