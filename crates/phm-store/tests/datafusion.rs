//! A snapshot is queryable by DataFusion as it stands: each table folder is a Parquet listing
//! table with the canonical schema.

use chrono::NaiveDate;
use datafusion::prelude::{ParquetReadOptions, SessionContext, col, lit};
use phm_core::schema::REGISTRATION;
use phm_store::{BatchBuilder, SourceEntry, Store, Tree};

fn load(store: &Store, source: &str, practices: &[&str]) {
    let mut tx = store.begin().expect("begin");
    tx.replace_source(
        source,
        SourceEntry {
            loaded_in: 0,
            loaded_at: String::new(),
            extract_date: None,
            fingerprint: source.into(),
            details: serde_json::Value::Null,
            files: Vec::new(),
        },
    );
    let mut w = tx.create_parquet(Tree::Analytical, &REGISTRATION, source).expect("file");
    let mut b = BatchBuilder::new(&REGISTRATION);
    for (i, p) in practices.iter().enumerate() {
        b.push_text(Some(&format!("{source}-{i}")))
            .push_text(Some(p))
            .push_date(NaiveDate::from_ymd_opt(2020, 1, 1))
            .push_date(None)
            .push_text(Some(source))
            .end_row();
    }
    w.write(&b.finish().expect("batch")).expect("write");
    let e = w.finish().expect("finish");
    tx.add_file(Some(source), e);
    tx.commit("test", serde_json::Value::Null).expect("commit");
}

#[tokio::test]
async fn datafusion_reads_each_snapshot_as_it_was() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open_or_create(&dir.path().join("s"), "k").expect("store");
    load(&store, "gp-a", &["A", "A", "B"]);
    load(&store, "gp-b", &["B", "B"]);
    load(&store, "gp-a", &["A"]);
    for (id, all, at_b) in [(1u64, 3usize, 1usize), (2, 5, 3), (3, 3, 2)] {
        let snap = store.snapshot(id).expect("snapshot");
        let ctx = SessionContext::new();
        let folder = format!("{}/registration/", snap.dir().display());
        ctx.register_parquet("registration", &folder, ParquetReadOptions::default()).await.expect("register");
        let df = ctx.table("registration").await.expect("table");
        let schema = df.schema().as_arrow().clone();
        assert_eq!(schema.fields().len(), REGISTRATION.columns.len());
        assert_eq!(df.clone().count().await.expect("count"), all, "snapshot {id}");
        let b = df.filter(col("practice_code").eq(lit("B"))).expect("filter").count().await.expect("count");
        assert_eq!(b, at_b, "snapshot {id}");
    }
}
