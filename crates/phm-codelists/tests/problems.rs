//! What loading a codelist reports, one kind of problem at a time: each test writes a tiny CSV
//! and names the exact line and kind it expects.

use std::path::PathBuf;

use phm_codelists::{Codelist, LoadError, ProblemKind, Severity, system_for_file_stem};
use phm_core::codes::{CodeError, CodeSystem};

/// Writes `text` as `name` in a fresh temporary folder (kept alive by the returned guard).
fn write(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write codelist");
    (dir, path)
}

fn load(system: CodeSystem, text: &str) -> Codelist {
    let (_dir, path) = write("list.csv", text);
    Codelist::load(&path, system, None).expect("loads")
}

/// (line, kind) of every problem, in file order.
fn found(list: &Codelist) -> Vec<(u64, ProblemKind)> {
    list.problems().iter().map(|p| (p.line, p.kind)).collect()
}

fn message_of(list: &Codelist, kind: ProblemKind) -> String {
    list.problems().iter().find(|p| p.kind == kind).map(|p| p.message.clone()).unwrap_or_default()
}

#[test]
fn a_clean_list_has_sorted_codes_terms_a_hash_and_no_problems() {
    let (_dir, path) = write(
        "hypertension.csv",
        "code,term\n59621000,Essential hypertension\n38341003,\"Hypertensive disorder, systemic arterial\"\n1201005,Benign essential hypertension\n",
    );
    let list = Codelist::load(&path, CodeSystem::Snomed, None).expect("loads");
    assert_eq!(found(&list), []);
    assert!(!list.has_errors());
    assert_eq!(list.name(), "hypertension");
    assert_eq!(list.path(), path);
    assert_eq!(list.system(), CodeSystem::Snomed);
    assert_eq!(list.code_column(), "code");
    assert_eq!(list.codes(), ["1201005", "38341003", "59621000"]);
    assert_eq!(list.len(), 3);
    assert!(list.contains("38341003"));
    assert!(!list.contains("44054006"));
    assert_eq!(list.term("38341003"), Some("Hypertensive disorder, systemic arterial"));
    assert_eq!(list.term("44054006"), None);
    // printf '1201005\n38341003\n59621000\n' | sha256sum
    assert_eq!(list.sha256(), "9120e51e132ba92fec7129c11acdc8261cb9cc47f5c2dfca179286b6ef960a67");
}

#[test]
fn the_hash_depends_on_the_codes_only() {
    let a = load(CodeSystem::Snomed, "code,term\n38341003,A\n59621000,B\n");
    let b = load(CodeSystem::Snomed, "term,code,notes\nother words,59621000,x\n,38341003,y\nagain,59621000,z\n");
    let c = load(CodeSystem::Snomed, "code,term\n38341003,A\n");
    assert_eq!(a.sha256(), b.sha256());
    assert_ne!(a.sha256(), c.sha256());
}

#[test]
fn an_empty_code_is_an_error_and_loading_goes_on() {
    let list = load(
        CodeSystem::Snomed,
        "code,term\n38341003,Hypertension\n,Essential hypertension\n59621000,Essential hypertension\n",
    );
    assert_eq!(found(&list), [(3, ProblemKind::EmptyCode)]);
    assert_eq!(list.problems()[0].severity(), Severity::Error);
    assert!(list.has_errors());
    assert_eq!(list.codes(), ["38341003", "59621000"]);
}

#[test]
fn a_blank_row_is_a_warning() {
    let list = load(CodeSystem::Snomed, "code,term\n38341003,Hypertension\n,\n , \n");
    assert_eq!(found(&list), [(3, ProblemKind::BlankRow), (4, ProblemKind::BlankRow)]);
    assert!(!list.has_errors());
}

#[test]
fn a_code_that_fails_its_check_names_the_reason() {
    let list = load(
        CodeSystem::Snomed,
        "code,term\n38341004,Check digit wrong\n3834100A,Letter\n0123456,Leading zero\n38341003,Fine\n",
    );
    assert_eq!(
        found(&list),
        [
            (2, ProblemKind::Invalid(CodeError::CheckDigit)),
            (3, ProblemKind::Invalid(CodeError::Characters)),
            (4, ProblemKind::Invalid(CodeError::LeadingZero)),
        ]
    );
    assert!(list.problems()[0].message.contains(CodeError::CheckDigit.reason()), "{}", list.problems()[0]);
    assert!(list.problems().iter().all(|p| p.severity() == Severity::Error));
    assert_eq!(list.codes(), ["38341003"]);
}

#[test]
fn scientific_notation_is_unrecoverable() {
    let list = load(
        CodeSystem::Snomed,
        "code,term\n3.8341E+07,Hypertension\n3.83E+13,Something long\n38341003,Hypertension\n",
    );
    assert_eq!(found(&list), [(2, ProblemKind::ScientificNotation), (3, ProblemKind::ScientificNotation)]);
    let message = message_of(&list, ProblemKind::ScientificNotation);
    assert!(message.contains("cannot be recovered") && message.contains("as text"), "{message}");
    assert_eq!(list.codes(), ["38341003"]);
}

#[test]
fn a_long_id_cut_to_15_digits_is_unrecoverable() {
    // Apixaban 5mg tablets, 42206511000001102, after a spreadsheet kept 15 significant digits.
    let list = load(
        CodeSystem::Dmd,
        "code,term\n42206511000001100,Apixaban 5mg tablets\n42206511000001102,Apixaban 5mg tablets\n",
    );
    assert_eq!(found(&list), [(2, ProblemKind::PrecisionLost)]);
    assert!(message_of(&list, ProblemKind::PrecisionLost).contains("15 significant digits"));
}

#[test]
fn a_code_written_as_a_decimal_is_taken_with_a_warning() {
    let list = load(CodeSystem::Snomed, "code,term\n38341003.0,Hypertension\n");
    assert_eq!(found(&list), [(2, ProblemKind::DecimalSuffix)]);
    assert_eq!(list.problems()[0].severity(), Severity::Warning);
    assert_eq!(list.codes(), ["38341003"]);
}

#[test]
fn spaces_and_non_breaking_spaces_are_trimmed_with_a_warning() {
    let list = load(CodeSystem::Snomed, "code,term\n 38341003,A\n59621000\u{a0},B\n\t1201005 ,C\n78975002,D\n");
    assert_eq!(
        found(&list),
        [(2, ProblemKind::Whitespace), (3, ProblemKind::Whitespace), (4, ProblemKind::Whitespace)]
    );
    assert!(!list.has_errors());
    assert_eq!(list.codes(), ["1201005", "38341003", "59621000", "78975002"]);
    assert_eq!(list.problems()[1].value, "59621000\u{a0}");
}

#[test]
fn zero_padding_is_removed_when_the_rest_is_a_valid_id() {
    let list = load(CodeSystem::Snomed, "code,term\n038341003,Hypertension\n00059621000,Essential hypertension\n");
    assert_eq!(found(&list), [(2, ProblemKind::LeadingZeros), (3, ProblemKind::LeadingZeros)]);
    assert_eq!(list.problems()[0].severity(), Severity::Warning);
    assert_eq!(list.codes(), ["38341003", "59621000"]);
}

#[test]
fn icd10_in_lowercase_or_with_a_dot_or_x_filler_is_normalised() {
    let list = load(
        CodeSystem::Icd10,
        "code,term\ne11.9,Type 2 diabetes\nF03X,Unspecified dementia\nI10.,Hypertension\nI10.X,Hypertension\nJ45.0,Asthma\n",
    );
    assert_eq!(
        found(&list),
        [
            (2, ProblemKind::Normalised),
            (3, ProblemKind::Normalised),
            (4, ProblemKind::Normalised),
            (5, ProblemKind::Normalised),
            (5, ProblemKind::Duplicate { first_line: 4 }),
            (6, ProblemKind::Normalised),
        ]
    );
    assert!(!list.has_errors());
    assert_eq!(list.codes(), ["E119", "F03", "I10", "J450"]);
}

#[test]
fn opcs4_with_a_dot_is_normalised() {
    let list = load(CodeSystem::Opcs4, "code,term\nw37.1,Hip replacement\nW381,Hip replacement\n");
    assert_eq!(found(&list), [(2, ProblemKind::Normalised)]);
    assert_eq!(list.codes(), ["W371", "W381"]);
}

#[test]
fn icd10_with_a_fifth_character_is_invalid_not_a_read_code() {
    let list = load(CodeSystem::Icd10, "code,term\nE1190,Type 2 diabetes (ICD-10-CM)\n");
    assert_eq!(found(&list), [(2, ProblemKind::Invalid(CodeError::Pattern))]);
    assert!(message_of(&list, ProblemKind::Invalid(CodeError::Pattern)).contains("four-character"));
}

#[test]
fn a_snomed_id_in_an_icd10_list_is_from_the_wrong_system() {
    let list = load(CodeSystem::Icd10, "code,term\nI10,Hypertension\n38341003,Hypertension\n");
    let kind = ProblemKind::WrongSystem { looks_like: CodeSystem::Snomed };
    assert_eq!(found(&list), [(3, kind)]);
    assert!(message_of(&list, kind).contains("looks like a SNOMED CT code; this codelist is declared icd10"));
}

#[test]
fn an_icd10_code_in_a_snomed_or_opcs4_list_is_from_the_wrong_system() {
    let kind = ProblemKind::WrongSystem { looks_like: CodeSystem::Icd10 };
    let list = load(CodeSystem::Snomed, "code,term\n38341003,Hypertension\nI10,Hypertension\nW371,Hip replacement\n");
    assert_eq!(found(&list), [(3, kind), (4, kind)]);
    assert!(list.problems()[0].message.contains("looks like an ICD-10 code; this codelist is declared snomed"));
    assert!(list.problems()[1].message.contains("ICD-10 or OPCS-4"));
    let list = load(CodeSystem::Opcs4, "code,term\nI10,Hypertension\n");
    assert_eq!(found(&list), [(2, kind)]);
}

#[test]
fn read_and_ctv3_codes_are_named() {
    let list = load(CodeSystem::Snomed, "code,term\nG20..,Essential hypertension\nXaIQD,Something\n");
    assert_eq!(found(&list), [(2, ProblemKind::ReadCode), (3, ProblemKind::ReadCode)]);
    // A CTV3 download (no `code` column) falls back to `ctv3_id` and says what it holds.
    let list = load(CodeSystem::Snomed, "ctv3_id,ctv3_name\nXE0Uc,Essential hypertension\n");
    assert_eq!(list.code_column(), "ctv3_id");
    assert_eq!(found(&list), [(2, ProblemKind::ReadCode)]);
}

#[test]
fn a_duplicate_is_kept_once_with_a_warning() {
    let list = load(CodeSystem::Snomed, "code,term\n38341003,First\n59621000,Other\n 38341003,Second\n");
    assert_eq!(found(&list), [(4, ProblemKind::Whitespace), (4, ProblemKind::Duplicate { first_line: 2 })]);
    assert!(!list.has_errors());
    assert_eq!(list.codes(), ["38341003", "59621000"]);
    assert_eq!(list.term("38341003"), Some("First"));
}

#[test]
fn a_list_with_no_usable_code_is_an_error() {
    let list = load(CodeSystem::Snomed, "code,term\n");
    assert_eq!(found(&list), [(1, ProblemKind::NoCodes)]);
    assert!(list.has_errors());
    assert!(list.is_empty());
}

#[test]
fn line_numbers_count_lines_not_records() {
    // A quoted term over two lines, CRLF endings and a byte-order mark, as spreadsheets write.
    let list = load(
        CodeSystem::Snomed,
        "\u{feff}Code,Term\r\n38341003,\"Hypertensive disorder,\r\nsystemic arterial\"\r\n38341004,Wrong\r\n",
    );
    assert_eq!(list.code_column(), "Code");
    assert_eq!(found(&list), [(4, ProblemKind::Invalid(CodeError::CheckDigit))]);
    let list = load(CodeSystem::Snomed, "code,term\r\n\r\n38341004,Wrong\r\n38341003,\"A,\nB\"\n38341004,Wrong\n");
    assert_eq!(
        found(&list),
        [(3, ProblemKind::Invalid(CodeError::CheckDigit)), (6, ProblemKind::Invalid(CodeError::CheckDigit))]
    );
    let list = load(CodeSystem::Snomed, "code,term\n\n\n38341004,Wrong\n\n38341005,Wrong\n");
    assert_eq!(
        found(&list),
        [(4, ProblemKind::Invalid(CodeError::CheckDigit)), (6, ProblemKind::Invalid(CodeError::CheckDigit))]
    );
}

#[test]
fn a_problem_displays_as_path_line_column_value_message() {
    let (_dir, path) = write("list.csv", "code,term\n3.83E+13,x\n38341003\u{a0},y\n");
    let list = Codelist::load(&path, CodeSystem::Snomed, None).expect("loads");
    let lines: Vec<String> = list.problems().iter().map(ToString::to_string).collect();
    let prefix = path.display().to_string();
    assert!(lines[0].starts_with(&format!("{prefix}:2: code `3.83E+13`: a spreadsheet")), "{}", lines[0]);
    assert!(lines[1].starts_with(&format!("{prefix}:3: code `38341003\\u{{a0}}`: space")), "{}", lines[1]);
}

#[test]
fn code_columns_are_found_or_chosen() {
    // An OpenCodelists dm+d download.
    let dmd = "dmd_type,dmd_id,dmd_name,bnf_code\nVMP,42206511000001102,Apixaban 5mg tablets,0208020Z0AAABAB\n";
    let list = load(CodeSystem::Dmd, dmd);
    assert_eq!(list.code_column(), "dmd_id");
    assert_eq!(list.term("42206511000001102"), Some("Apixaban 5mg tablets"));
    assert_eq!(found(&list), []);
    // A column named by the caller wins over `code`; `description` serves as the term.
    let list = load(CodeSystem::Snomed, "code,snomed_concept,description\nX1,38341003,Hypertension\n");
    assert_eq!(found(&list), [(2, ProblemKind::Invalid(CodeError::Characters))]);
    let (_dir, path) = write("l.csv", "code,snomed_concept,description\nX1,38341003,Hypertension\n");
    let list = Codelist::load(&path, CodeSystem::Snomed, Some("snomed_concept")).expect("loads");
    assert_eq!(list.codes(), ["38341003"]);
    assert_eq!(list.term("38341003"), Some("Hypertension"));
}

#[test]
fn a_file_that_cannot_be_used_is_a_load_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing.csv");
    let e = Codelist::load(&missing, CodeSystem::Snomed, None).expect_err("missing");
    assert!(matches!(e, LoadError::Io { .. }));
    assert!(e.to_string().contains("missing.csv"), "{e}");

    let (_d1, empty) = write("empty.csv", "");
    let e = Codelist::load(&empty, CodeSystem::Snomed, None).expect_err("empty");
    assert!(matches!(e, LoadError::NoHeader { .. }));
    assert!(e.to_string().contains("empty.csv"), "{e}");

    let (_d2, no_code) = write("no_code.csv", "concept,label\n38341003,Hypertension\n");
    let e = Codelist::load(&no_code, CodeSystem::Snomed, None).expect_err("no code column");
    assert!(matches!(e, LoadError::NoCodeColumn { wanted: None, .. }));
    let text = e.to_string();
    assert!(text.contains("no_code.csv") && text.contains("`concept`, `label`") && text.contains("`code`"), "{text}");

    let e = Codelist::load(&no_code, CodeSystem::Snomed, Some("snomedcode")).expect_err("named column missing");
    assert!(e.to_string().contains("there is no column `snomedcode`; its columns are: `concept`, `label`"), "{e}");
}

#[test]
fn the_repository_names_a_file_s_system_by_its_prefix() {
    assert_eq!(system_for_file_stem("icd10_asthma"), CodeSystem::Icd10);
    assert_eq!(system_for_file_stem("dmd_statins"), CodeSystem::Dmd);
    assert_eq!(system_for_file_stem("opcs4_cataract"), CodeSystem::Opcs4);
    assert_eq!(system_for_file_stem("asthma"), CodeSystem::Snomed);
    assert_eq!(system_for_file_stem("icd10asthma"), CodeSystem::Snomed);
}

#[test]
fn only_a_regular_file_of_bounded_size_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let refused = |path: &std::path::Path| match Codelist::load(path, CodeSystem::Snomed, None) {
        Err(LoadError::Refused { source, .. }) => source.to_string(),
        other => panic!("{} was not refused: {other:?}", path.display()),
    };
    // A pipe with no writer: opening it for reading would wait forever.
    let pipe = dir.path().join("pipe.csv");
    assert!(std::process::Command::new("mkfifo").arg(&pipe).status().expect("mkfifo").success());
    assert_eq!(refused(&pipe), "it is a pipe, not a regular file");
    assert_eq!(refused(std::path::Path::new("/dev/zero")), "it is a device, not a regular file");
    assert_eq!(refused(dir.path()), "it is a folder, not a regular file");
    let huge = dir.path().join("huge.csv");
    std::fs::File::create(&huge).expect("create").set_len(phm_codelists::MAX_CODELIST_BYTES + 1).expect("sparse");
    assert_eq!(refused(&huge), "it is larger than 16 MiB, the most that is read");
    // At the bound exactly, the file is read (and found to be no codelist).
    std::fs::File::create(&huge).expect("create").set_len(phm_codelists::MAX_CODELIST_BYTES).expect("sparse");
    assert!(!matches!(Codelist::load(&huge, CodeSystem::Snomed, None), Err(LoadError::Refused { .. })));
}

#[test]
fn the_first_line_of_a_file_that_is_not_a_codelist_is_not_shown() {
    let (_dir, path) = write("shadow.csv", "root:$6$SALT$HASH:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n");
    let e = Codelist::load(&path, CodeSystem::Snomed, None).expect_err("no code column");
    let text = e.to_string();
    assert!(!text.contains("SALT") && !text.contains("root"), "{text}");
    assert!(
        text.ends_with(
            "its columns are: 1 field that does not look like a column name (the first line is not a CSV header)"
        ),
        "{text}"
    );
}
