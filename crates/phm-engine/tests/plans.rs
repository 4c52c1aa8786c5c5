//! Shared work: a whole catalogue of indicators, with all their breakdowns, reads each event
//! table once, and so does a measure over many periods.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use phm_engine::{Engine, Periods};

fn scans(plan: &str, table: &str) -> usize {
    plan.lines().filter(|l| l.trim_start().starts_with(&format!("TableScan: {table} "))).count()
        + plan.lines().filter(|l| l.trim() == format!("TableScan: {table}")).count()
}

fn engine() -> Engine {
    Engine::from_batches(BTreeMap::new(), phm_engine::lookups_for(None).expect("lookups")).expect("engine")
}

fn load(rel: &str) -> phm_model::Definitions {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../definitions").join(rel);
    let loaded = phm_lang::load(&path);
    let rendered = loaded.render();
    loaded.definitions.unwrap_or_else(|| panic!("{rendered}"))
}

#[tokio::test]
async fn the_catalogue_scans_each_event_table_once() {
    let defs = load("indicators/catalogue.phm");
    assert!(defs.indicators.len() >= 12);
    let engine = engine();
    let inds: Vec<_> = defs.indicators.iter().collect();
    let (df, breakdowns) = engine
        .indicators_plan(&inds, Periods::One(NaiveDate::from_ymd_opt(2026, 3, 31).expect("date")))
        .await
        .expect("plan");
    assert!(breakdowns.len() >= 8, "{breakdowns:?}");
    let plan = engine.explain(&df, false).await.expect("explain");
    for table in ["person", "condition", "observation", "immunisation", "encounter", "registration"] {
        assert_eq!(scans(&plan, table), 1, "{table} is scanned {} times in\n{plan}", scans(&plan, table));
    }
    assert_eq!(scans(&plan, "medication"), 0, "no indicator reads medication");
}

#[tokio::test]
async fn a_measure_scans_each_event_table_once_for_all_its_periods() {
    let defs = load("measures/trends.phm");
    let engine = engine();
    for m in &defs.measures {
        let dates = m.intervals.index_dates();
        assert!(dates.len() >= 12);
        let (df, _) = engine.indicators_plan(&[&m.indicator], Periods::Many(dates)).await.expect("plan");
        let plan = engine.explain(&df, false).await.expect("explain");
        for table in ["person", "registration"] {
            assert_eq!(scans(&plan, table), 1, "{}: {table} scanned {} times in\n{plan}", m.name, scans(&plan, table));
        }
    }
}
