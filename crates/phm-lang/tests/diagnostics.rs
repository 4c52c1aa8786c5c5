//! Diagnostics a non-programmer can act on: file, line, column, a caret under the problem,
//! what was expected and, for misspelt names, a suggestion. Each case is a snapshot of the
//! rendered text, so a change in wording is reviewed like any other change.

use std::fs;

/// Load `text` as `definitions/example.phm` in a temporary project with one codelist, and
/// render every diagnostic.
fn diagnose(text: &str) -> String {
    let dir = tempfile::tempdir().expect("tmp");
    fs::create_dir_all(dir.path().join("codelists")).expect("dir");
    fs::create_dir_all(dir.path().join("definitions")).expect("dir");
    fs::write(dir.path().join("codelists/asthma.csv"), "code,term\n195967001,Asthma\n").expect("codelist");
    fs::write(dir.path().join("codelists/mangled.csv"), "code,term\n195967001,Asthma\n1.95967E+08,Asthma (from a spreadsheet)\n").expect("codelist");
    let path = dir.path().join("definitions/example.phm");
    fs::write(&path, text).expect("definition");
    let loaded = phm_lang::load(&path);
    assert!(loaded.has_errors(), "expected an error for:\n{text}");
    loaded.render().replace(&dir.path().display().to_string(), "<project>")
}

#[test]
fn an_unknown_name_suggests_the_nearest_one() {
    insta::assert_snapshot!(diagnose("codelist asthma = \"codelists/asthma.csv\"\nlet has_asthma = exists(condition where code in asthma)\nlet adults = age >= 18 and has_asthmaa\n"));
}

#[test]
fn a_date_compared_with_a_number_says_how_to_write_a_date() {
    insta::assert_snapshot!(diagnose("let recent = exists(condition where date > 2020)\n"));
}

#[test]
fn an_unknown_codelist_is_named_with_a_suggestion() {
    insta::assert_snapshot!(diagnose("codelist asthma = \"codelists/asthma.csv\"\nlet x = exists(condition where code in asthmaa)\n"));
}

#[test]
fn an_unknown_column_lists_the_table_columns() {
    insta::assert_snapshot!(diagnose("let x = last(observation).valeu\n"));
}

#[test]
fn a_codelist_mangled_by_a_spreadsheet_is_reported_with_its_line() {
    insta::assert_snapshot!(diagnose("codelist asthma = \"codelists/mangled.csv\"\n"));
}

#[test]
fn a_missing_codelist_file_and_a_misspelt_keyword_are_both_reported() {
    insta::assert_snapshot!(diagnose("codelist copd = \"codelists/copd.csv\"\ncohrt x { population = registered }\nlet y = age > 1\n"));
}

#[test]
fn rows_used_as_a_value_say_how_to_aggregate_them() {
    insta::assert_snapshot!(diagnose("cohort c {\n  population = condition where code = \"1\"\n}\n"));
}

#[test]
fn an_indicator_without_a_numerator_and_a_wrong_method() {
    insta::assert_snapshot!(diagnose("indicator i {\n  denominator = registered\n  method = proprtion\n}\n"));
}
