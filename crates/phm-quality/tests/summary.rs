//! The one-screen summary never leaves a source's worst failing check to the JSON: each source
//! is listed with its quarantine rate and its worst failing check, however many checks fail
//! more widely in its kind of source.

use phm_quality::checks::{Category, Level};
use phm_quality::{CheckResult, QualityReport, SourceSummary, Status, Unit};

fn result(check: &str, source: &str, table: &str, violating: u64, denominator: u64, threshold: f64) -> CheckResult {
    let value = 100.0 * violating as f64 / denominator as f64;
    CheckResult {
        check: check.into(),
        category: Category::Conformance,
        subcategory: "Value".into(),
        level: if table.is_empty() { Level::Source } else { Level::Table },
        source: source.into(),
        source_type: "gp_practice".into(),
        table: table.into(),
        field: String::new(),
        violating,
        denominator,
        value,
        unit: Unit::Percent,
        threshold,
        status: if value > threshold { Status::Fail } else { Status::Pass },
        description: String::new(),
    }
}

fn source(name: &str, read: u64, rejected: u64) -> SourceSummary {
    SourceSummary {
        source: name.into(),
        source_type: "gp_practice".into(),
        read: Some(read),
        accepted: Some(read - rejected),
        rejected: Some(rejected),
        rejected_percent: Some(100.0 * rejected as f64 / read as f64),
        ..SourceSummary::default()
    }
}

/// Six GP practices. Five share six failing checks (so the list by kind, cut at five a kind, is
/// full); practice Q fails only its quarantine rate, 48.6%, which the list by kind cuts off.
fn report() -> QualityReport {
    let mut checks = Vec::new();
    let mut sources = Vec::new();
    for (i, name) in ["gp-A", "gp-B", "gp-C", "gp-D", "gp-E"].into_iter().enumerate() {
        sources.push(source(name, 1000, 5));
        for (k, table) in
            ["condition", "observation", "medication", "procedure", "encounter", "immunisation"].into_iter().enumerate()
        {
            checks.push(result("isValidCode", name, table, 1 + (i + k) as u64, 100, 0.0));
        }
        checks.push(result("quarantineRate", name, "", 5, 1000, 1.0));
    }
    sources.push(source("gp-Q", 1000, 486));
    checks.push(result("isValidCode", "gp-Q", "condition", 0, 100, 0.0));
    checks.push(result("quarantineRate", "gp-Q", "", 486, 1000, 1.0));
    QualityReport { snapshot: 7, generated_at: "2026-10-01T00:00:00Z".into(), checks, sources }
}

#[test]
fn each_source_is_shown_with_its_quarantine_rate_and_worst_failing_check() {
    let text = report().summary();
    let q = text
        .lines()
        .find(|l| l.trim_start().starts_with("gp-Q"))
        .unwrap_or_else(|| panic!("gp-Q is not on the screen:\n{text}"));
    assert!(q.contains("48.6% (486 of 1000)") && q.contains("quarantineRate: 486 of 1000 (48.6% > 1%)"), "{q}");
    // The list by kind still cuts at five, so without the per-source lines gp-Q's failure
    // would be missing from the screen.
    assert!(text.contains("… (the CSV or JSON report lists them all)"));
    insta::assert_snapshot!(text);
}
