//! `phm stats`: PHEindicatormethods' methods over aggregate CSVs, as an analyst runs them.
//!
//! Inputs are in `tests/fixtures/stats/`; where they come from PHEindicatormethods' own test
//! data, the outputs are also checked against the values that data expects (read in place from
//! `../shared/reference/pheindicatormethods-testdata/`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stats")
}

fn pheim(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/pheindicatormethods-testdata").join(file)
}

/// Runs `phm stats ARGS` in the fixtures folder (so that messages name files as an analyst
/// typed them): whether it succeeded, stdout, stderr.
fn stats(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_phm")).current_dir(fixtures()).arg("stats").args(args).output().expect("run phm");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The output of a run that must succeed.
fn csv_of(args: &[&str]) -> String {
    let (ok, out, err) = stats(args);
    assert!(ok, "phm stats {} failed: {err}", args.join(" "));
    assert!(err.is_empty(), "{err}");
    out
}

/// The message of a run that must fail (with nothing on stdout).
fn error_of(args: &[&str]) -> String {
    let (ok, out, err) = stats(args);
    assert!(!ok, "phm stats {} should fail; wrote {out}", args.join(" "));
    assert!(out.is_empty(), "{out}");
    err
}

/// A CSV output with every decimal number rounded to 9 significant figures, so that snapshots
/// show the results without the last bits of floating-point arithmetic.
fn rounded(csv: &str) -> String {
    let cell = |c: &str| match c.parse::<f64>() {
        Ok(x) if c.contains('.') && x != 0.0 => {
            let decimals = (8 - x.abs().log10().floor() as i32).max(0) as usize;
            let text = format!("{x:.decimals$}");
            if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_owned() } else { text }
        }
        _ => c.to_owned(),
    };
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(csv.as_bytes());
    let mut writer = csv::Writer::from_writer(Vec::new());
    for record in reader.records() {
        let record = record.expect("the output is CSV");
        writer.write_record(record.iter().map(cell)).expect("write");
    }
    String::from_utf8(writer.into_inner().expect("flush")).expect("utf-8")
}

/// Rows of a CSV output as maps from column name to cell.
fn records(csv: &str) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().expect("header").clone();
    reader.records().map(|r| header.iter().map(str::to_owned).zip(r.expect("the output is CSV").iter().map(str::to_owned)).collect()).collect()
}

fn number(row: &HashMap<String, String>, column: &str) -> f64 {
    row[column].parse().unwrap_or_else(|_| panic!("{column} = {:?} in {row:?}", row[column]))
}

fn assert_close(actual: f64, expected: f64, relative: f64, what: &str) {
    assert!((actual - expected).abs() <= relative * expected.abs().max(1e-12), "{what}: {actual} vs expected {expected}");
}

// ---------------------------------------------------------------------------------------------
// life expectancy

#[test]
fn life_expectancy_per_area_with_reasons_for_a_small_area_and_a_missing_count() {
    let out = csv_of(&["life-expectancy", "--input", "life_expectancy.csv", "--group-by", "area", "--ages", "0,65,90"]);
    insta::assert_snapshot!(rounded(&out));
}

#[test]
fn life_expectancy_matches_pheindicatormethods_at_every_age() {
    let text = std::fs::read_to_string(pheim("life_expectancy_df1.json")).expect("PHEindicatormethods' df1 fixture");
    let fixture: serde_json::Value = serde_json::from_str(&text).expect("json");
    let expected = |column: &str, i: usize| fixture["expected"][column][i].as_f64().expect("a number");
    let out = csv_of(&["life-expectancy", "--input", "life_expectancy.csv", "--group-by", "area", "--confidence", "95"]);
    let rows: Vec<_> = records(&out).into_iter().filter(|r| r["area"] == "E06000001").collect();
    assert_eq!(rows.len(), 20);
    for (i, row) in rows.iter().enumerate() {
        let age = &row["age_band"];
        // The fixture was made with z = 1.96 exactly (PHE's calculator); R and phm use
        // Φ⁻¹(0.975) = 1.959964, so the limits agree to the 4 decimal places R's own test uses,
        // and value ± 1.96 SE reproduces the fixture to its 10 significant figures.
        let (value, se) = (number(row, "value"), number(row, "standard_error"));
        assert_close(value, expected("value", i), 1e-9, &format!("value at {age}"));
        assert_close(value - 1.96 * se, expected("lowercl_95", i), 1e-9, &format!("value - 1.96 SE at {age}"));
        assert_close(value + 1.96 * se, expected("uppercl_95", i), 1e-9, &format!("value + 1.96 SE at {age}"));
        assert!((number(row, "lower_95") - expected("lowercl_95", i)).abs() < 5e-5, "lower at {age}");
        assert!((number(row, "upper_95") - expected("uppercl_95", i)).abs() < 5e-5, "upper at {age}");
        assert_eq!(row["reason"], "");
    }
}

#[test]
fn life_expectancy_writes_to_a_file_when_asked() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("le.csv");
    let out = csv_of(&["life-expectancy", "--input", "life_expectancy.csv", "--group-by", "area", "--output", &path.to_string_lossy()]);
    assert!(out.is_empty(), "{out}");
    let written = std::fs::read_to_string(&path).expect("output file");
    assert_eq!(written, csv_of(&["life-expectancy", "--input", "life_expectancy.csv", "--group-by", "area"]));
}

// ---------------------------------------------------------------------------------------------
// errors

#[test]
fn a_missing_column_is_named_with_the_columns_there_are() {
    insta::assert_snapshot!(error_of(&["life-expectancy", "--input", "life_expectancy.csv", "--group-by", "region"]), @r#"error: life_expectancy.csv: no column "region"; the columns are "area", "age_band", "deaths", "population""#);
}
