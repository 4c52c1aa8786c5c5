//! Downloads, in-process: built once per release, table, filters and format, off the request
//! threads and a few at a time, so that a crowd of spreadsheet downloads does not hold up a
//! page or an API call; no cell a spreadsheet would run as a formula; staff's data access
//! (downloads and the API) audited, the public's downloads of the public release not.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use common::{HOSTILE_AREA, HOSTILE_TITLES, NEGATIVE_SII, app, fixture, send, session};
use phm_web::export::Exports;

/// A gate that holds every build at its start until opened, counting the builds that reached it.
#[derive(Default)]
struct Gate {
    state: Mutex<(usize, bool)>,
    changed: Condvar,
}

impl Gate {
    fn enter(&self) {
        let mut s = self.state.lock().expect("lock");
        s.0 += 1;
        self.changed.notify_all();
        while !s.1 {
            s = self.changed.wait(s).expect("wait");
        }
    }
    fn wait_for(&self, builds: usize) {
        let mut s = self.state.lock().expect("lock");
        while s.0 < builds {
            let (next, timeout) = self.changed.wait_timeout(s, Duration::from_secs(60)).expect("wait");
            assert!(!timeout.timed_out(), "only {} builds started", next.0);
            s = next;
        }
    }
    fn open(&self) {
        self.state.lock().expect("lock").1 = true;
        self.changed.notify_all();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_spreadsheet_downloads_at_once_do_not_hold_up_an_api_call() {
    let f = fixture();
    let app = app(&f, false);
    let gate = Arc::new(Gate::default());
    let g = gate.clone();
    app.exports.set_build_hook(Arc::new(move |_| g.enter()));
    // Twenty different files (so none waits for another's build), as many as the test.
    let filters = [
        "",
        "?area=E54000024",
        "?area=E06000055",
        "?area_type=ics",
        "?area_type=place",
        "?breakdown=all",
        "?indicator=smoking",
        "?indicator=obesity",
        "?indicator=flu",
        "?indicator=mmr",
    ];
    let downloads: Vec<_> = ["xlsx", "csv"]
        .iter()
        .flat_map(|format| filters.iter().map(move |f| format!("/download/profiles.{format}{f}")))
        .map(|uri| {
            let app = app.clone();
            tokio::spawn(async move { send(&app, "GET", &uri, None, None).await })
        })
        .collect();
    assert_eq!(downloads.len(), 20);
    // While the builds are held open, every build slot and queue place taken, the API still
    // answers.
    let g = gate.clone();
    tokio::task::spawn_blocking(move || g.wait_for(Exports::MAX_BUILDS)).await.expect("builds start");
    while app.exports.queued() < Exports::MAX_WAITING {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let api =
        tokio::time::timeout(Duration::from_secs(30), send(&app, "GET", "/api/profiles?indicator=smoking", None, None))
            .await
            .expect("the API call is not held up by the downloads");
    assert_eq!(api.status, StatusCode::OK);
    let page = tokio::time::timeout(Duration::from_secs(30), send(&app, "GET", "/about", None, None))
        .await
        .expect("nor is a page");
    assert_eq!(page.status, StatusCode::OK);
    gate.open();
    let mut statuses = Vec::new();
    for d in downloads {
        let reply = d.await.expect("the download task");
        if reply.status == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(reply.header("retry-after"), Some("5"), "a 503 says when to come back");
        }
        statuses.push(reply.status);
    }
    // Two build at once, sixteen wait their turn, the rest are asked to come back.
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let busy = statuses.iter().filter(|s| **s == StatusCode::SERVICE_UNAVAILABLE).count();
    assert_eq!(
        (ok, busy),
        (Exports::MAX_BUILDS + Exports::MAX_WAITING, 20 - Exports::MAX_BUILDS - Exports::MAX_WAITING),
        "{statuses:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_file_is_built_once_however_many_ask_for_it() {
    let f = fixture();
    let app = app(&f, false);
    let builds = Arc::new(AtomicUsize::new(0));
    let b = builds.clone();
    app.exports.set_build_hook(Arc::new(move |_| {
        b.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(200));
    }));
    let together: Vec<_> = (0..8)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { send(&app, "GET", "/download/trends.xlsx?indicator=flu", None, None).await })
        })
        .collect();
    let mut bodies = Vec::new();
    for t in together {
        let reply = t.await.expect("task");
        assert_eq!(reply.status, StatusCode::OK);
        bodies.push(reply.body);
    }
    let later = send(&app, "GET", "/download/trends.xlsx?indicator=flu", None, None).await;
    bodies.push(later.body);
    assert_eq!(builds.load(Ordering::SeqCst), 1, "one build for nine downloads");
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "every download the same bytes");
    // Another format, filter or release is another file.
    send(&app, "GET", "/download/trends.csv?indicator=flu", None, None).await;
    send(&app, "GET", "/download/trends.xlsx?indicator=mmr", None, None).await;
    let cookie = session(&app).await;
    send(&app, "GET", "/download/trends.xlsx?indicator=flu", Some(&cookie), None).await;
    assert_eq!(builds.load(Ordering::SeqCst), 4);
    // A malformed request is refused before any build.
    let bad = send(&app, "GET", "/download/trends.xlsx?indicator=nope", None, None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(builds.load(Ordering::SeqCst), 4);
}

/// Whether a spreadsheet would take a CSV cell for a formula (OWASP's list).
fn formula_like(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r', '\n'])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_downloads_escape_formula_text_and_keep_negative_numbers() {
    let f = fixture();
    let app = app(&f, false);
    for uri in ["/download/profiles.csv", "/download/trends.csv"] {
        let reply = send(&app, "GET", uri, None, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}");
        let mut reader = csv::Reader::from_reader(reply.body.as_slice());
        let header: Vec<String> = reader.headers().expect("header").iter().map(str::to_owned).collect();
        let mut escaped = Vec::new();
        let mut negatives = 0;
        for record in reader.records() {
            let record = record.expect("a CSV record");
            for (column, cell) in header.iter().zip(record.iter()) {
                if formula_like(cell) {
                    // Only numbers may start like a formula: a negative number is a number.
                    assert!(cell.parse::<f64>().is_ok(), "{uri}: {column} = {cell:?} would run as a formula");
                    negatives += 1;
                }
                if let Some(text) = cell.strip_prefix('\'') {
                    escaped.push(text.to_owned());
                }
            }
        }
        assert!(escaped.iter().any(|t| t == HOSTILE_AREA), "{uri}: the area's name is kept, as text: {escaped:?}");
        for title in HOSTILE_TITLES {
            assert!(escaped.iter().any(|t| t == title), "{uri}: {title:?} is kept, as text");
        }
        if uri.contains("profiles") {
            assert!(
                negatives > 0 && reply.text().contains(&format!(",{NEGATIVE_SII},")),
                "the SII stays a negative number"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn excel_downloads_hold_text_as_text_and_no_formulas() {
    use calamine::{Data, Reader as _, Xlsx};
    let f = fixture();
    let app = app(&f, false);
    let reply = send(&app, "GET", "/download/profiles.xlsx", None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(reply.body)).expect("an xlsx file");
    let formulas = book.worksheet_formula("profiles").expect("the sheet's formulas");
    assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()), "no cell holds a formula");
    let sheet = book.worksheet_range("profiles").expect("the sheet");
    let cells: Vec<&Data> = sheet.used_cells().map(|(_, _, c)| c).collect();
    assert!(cells.contains(&&Data::String(HOSTILE_AREA.to_owned())), "the area's name, exactly, as text");
    for title in HOSTILE_TITLES {
        assert!(cells.contains(&&Data::String(title.to_owned())), "{title:?}, exactly, as text");
    }
    assert!(cells.contains(&&Data::Float(NEGATIVE_SII)), "the SII as a number");
}

/// The trail's export lines as `user format policy table rows`.
fn exports_audited(f: &common::Fixture) -> Vec<String> {
    phm_accounts::audit::read_verified(&f.accounts().join("audit.jsonl"))
        .expect("the trail verifies")
        .into_iter()
        .filter(|l| l.event == "export")
        .map(|l| {
            let d = &l.detail;
            format!(
                "{} {} {} {} {}",
                l.user.unwrap_or_else(|| "-".into()),
                d["format"].as_str().unwrap_or("?"),
                d["policy"].as_str().unwrap_or("?"),
                d["table"].as_str().unwrap_or("?"),
                d["rows"]
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staffs_api_and_download_access_is_audited_and_the_publics_downloads_are_not() {
    let f = fixture();
    let app = app(&f, false);
    for uri in [
        "/download/profiles.csv",
        "/download/profiles.xlsx?indicator=flu",
        "/api/profiles?indicator=flu",
        "/api/trends?indicator=flu&area=E06000055",
    ] {
        assert_eq!(send(&app, "GET", uri, None, None).await.status, StatusCode::OK, "{uri}");
    }
    assert_eq!(exports_audited(&f), Vec::<String>::new(), "the public release, to the public: not audited");
    let cookie = session(&app).await;
    for uri in [
        "/api/profiles?indicator=flu&area=E06000055",
        "/api/trends?indicator=flu&area=E06000055",
        "/api/population?area=E06000055",
        "/download/profiles.csv?indicator=flu",
        "/api/areas",
        "/api/indicators",
    ] {
        assert_eq!(send(&app, "GET", uri, Some(&cookie), None).await.status, StatusCode::OK, "{uri}");
    }
    assert_eq!(
        exports_audited(&f),
        [
            "alice json analyst api/profiles?area=E06000055&indicator=flu 1",
            "alice json analyst api/trends?area=E06000055&indicator=flu 4",
            "alice json analyst api/population?area=E06000055 0",
            "alice csv analyst profiles?indicator=flu 2",
        ],
        "each data answer to staff, with its filters and policy; lists of areas and indicators are not data"
    );
}
