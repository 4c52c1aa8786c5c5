//! The same plans run on a Ballista cluster (an in-process scheduler and executor, as in
//! Ballista's standalone mode) and give the same results as local DataFusion.

use std::time::Duration;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use chrono::NaiveDate;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::prelude::{SessionConfig, SessionContext};
use phm_engine::{Engine, Periods};
use phm_model::Definitions;

/// Rows as text, sorted: Ballista and local DataFusion may return rows in other orders and
/// strings as `Utf8` or `Utf8View`; the values must be the same.
fn rows(batches: &[RecordBatch]) -> Vec<String> {
    let options = FormatOptions::default().with_null("∅");
    let mut out = Vec::new();
    for b in batches {
        let fmts: Vec<_> =
            b.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), &options).expect("formatter")).collect();
        for r in 0..b.num_rows() {
            out.push(fmts.iter().map(|f| f.value(r).to_string()).collect::<Vec<_>>().join(" | "));
        }
    }
    out.sort();
    out
}

fn small_store(dir: &std::path::Path) -> phm_store::Store {
    let drop = dir.join("drop");
    let config = phm_synth::SynthConfig {
        population: 1500,
        seed: 7,
        out_dir: drop.clone(),
        extract_date: phm_synth::default_extract_date(),
    };
    phm_synth::generate(&config, &|_, _| {}).expect("synthetic drop");
    let key = phm_identity::PseudonymKey::from_bytes([7; 32]);
    let store = phm_store::Store::open_or_create(&dir.join("store"), &key.fingerprint()).expect("store");
    let sources = phm_ingest::sources_from_manifest(&drop.join("manifest.json")).expect("manifest");
    let options = phm_ingest::Options {
        today: NaiveDate::from_ymd_opt(2026, 11, 24).expect("date"),
        allow_older: false,
        note: "test".into(),
    };
    phm_ingest::ingest(&store, &key, &sources, &options, &phm_ingest::Quiet).expect("ingest");
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn definitions_give_the_same_results_on_ballista_as_locally() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = small_store(dir.path());
    let snapshot = store.latest().expect("read").expect("snapshot");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../definitions");
    let cohorts = phm_lang::load(&root.join("cohorts/hypertension_case_finding.phm"));
    let catalogue = phm_lang::load(&root.join("indicators/catalogue.phm"));
    let trends = phm_lang::load(&root.join("measures/trends.phm"));
    let (cohorts, catalogue, trends) = (
        cohorts.definitions.expect("cohorts"),
        catalogue.definitions.expect("catalogue"),
        trends.definitions.expect("trends"),
    );
    let index = NaiveDate::from_ymd_opt(2026, 3, 31).expect("date");

    let local = Engine::local(&snapshot).await.expect("local engine");
    let config = phm_engine::configure(SessionConfig::new_with_ballista().with_ballista_standalone_parallelism(2));
    let state = phm_engine::session_state(config);
    let ctx = tokio::time::timeout(Duration::from_secs(60), SessionContext::standalone_with_state(state))
        .await
        .expect("Ballista started in time")
        .expect("standalone cluster");
    let cluster = Engine::over_snapshot(ctx, &snapshot).await.expect("ballista engine");

    let defs = (&cohorts, &catalogue, &trends);
    let expected = run(&local, defs, index).await;
    let got = tokio::time::timeout(Duration::from_secs(600), run(&cluster, defs, index))
        .await
        .expect("Ballista finished in time");
    assert_eq!(expected.len(), got.len());
    for (i, (e, g)) in expected.iter().zip(&got).enumerate() {
        assert!(!e.is_empty(), "result {i} is empty");
        let only_local: Vec<_> = e.iter().filter(|r| !g.contains(r)).take(5).collect();
        let only_cluster: Vec<_> = g.iter().filter(|r| !e.contains(r)).take(5).collect();
        assert_eq!(
            e.len(),
            g.len(),
            "result {i}: row count; only local: {only_local:#?}; only on Ballista: {only_cluster:#?}"
        );
        assert_eq!(e, g, "result {i}");
    }
}

/// Every cohort, its event rows, the whole catalogue and a measure, as sorted text rows.
async fn run(
    engine: &Engine,
    (cohorts, catalogue, trends): (&Definitions, &Definitions, &Definitions),
    index: NaiveDate,
) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for c in &cohorts.cohorts {
        out.push(rows(&engine.cohort(c, index).await.expect("plan").collect().await.expect("cohort")));
        if let Some(df) = engine.cohort_events(c, index).await.expect("plan") {
            out.push(rows(&df.collect().await.expect("events")));
        }
    }
    let inds: Vec<_> = catalogue.indicators.iter().collect();
    let (df, _) = engine.indicators_plan(&inds, Periods::One(index)).await.expect("plan");
    out.push(rows(&df.collect().await.expect("indicators")));
    let m = &trends.measures[0];
    let (df, _) =
        engine.indicators_plan(&[&m.indicator], Periods::Many(m.intervals.index_dates())).await.expect("plan");
    out.push(rows(&df.collect().await.expect("measure")));
    out
}
