//! `phm demo` and `phm serve` end to end on a small synthetic drop: the app starts from
//! nothing and runs from any folder (its front-end files are in the binary), pages and the API
//! answer with the demo's figures, downloads come in three formats under the public policy (not
//! audited for anonymous visitors), and the app refuses to serve a table whose figures break
//! the policy it claims. Routing and responses are tested in-process in
//! `crates/phm-web/tests/routes.rs`; the browser tests in `web/tests/` drive this app in Chromium.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

fn repo() -> PathBuf {
    PathBuf::from(format!("{}/../..", env!("CARGO_MANIFEST_DIR")))
}

fn phm(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_phm")).args(args).current_dir(repo()).output().expect("phm runs")
}

/// A 3,000-person drop with its profiles, made once for every test here.
fn data() -> &'static Path {
    static DATA: OnceLock<tempfile::TempDir> = OnceLock::new();
    DATA.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = phm(&[
            "demo",
            "--population",
            "3000",
            "--seed",
            "99",
            "--data",
            &dir.path().display().to_string(),
            "--no-serve",
        ]);
        assert!(out.status.success(), "phm demo failed: {}", String::from_utf8_lossy(&out.stderr));
        dir
    })
    .path()
}

/// A running `phm serve`, stopped when dropped (each test has its own).
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(profiles: &Path, accounts: &Path) -> Result<Server, String> {
    start_in(&repo(), profiles, accounts)
}

/// `phm serve` with `folder` as its working directory.
fn start_in(folder: &Path, profiles: &Path, accounts: &Path) -> Result<Server, String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_phm"))
        .args([
            "serve",
            "--profiles",
            &profiles.display().to_string(),
            "--accounts",
            &accounts.display().to_string(),
            "--port",
            "0",
            "--insecure-cookies",
        ])
        .current_dir(folder)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("phm serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("a line");
    if line.is_empty() {
        let mut err = String::new();
        child.stderr.take().expect("stderr").read_to_string(&mut err).expect("stderr");
        let _ = child.wait();
        return Err(err);
    }
    let port = line
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches(|c: char| !c.is_ascii_digit()).parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    Ok(Server { child, port })
}

fn serve() -> Server {
    start(&data().join("profiles"), &data().join("accounts")).expect("phm serve starts")
}

struct Response {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

impl Response {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    fn header(&self, name: &str) -> Option<String> {
        self.headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }
}

fn get(server: &Server, path: &str) -> Response {
    let port = server.port;
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").expect("writes");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("reads");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a header");
    let headers = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = headers.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("a status");
    let mut body = raw[split + 4..].to_vec();
    if headers.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body = unchunk(&body);
    }
    Response { status, headers, body }
}

fn unchunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let end = b.windows(2).position(|w| w == b"\r\n").expect("chunk size");
        let size = usize::from_str_radix(std::str::from_utf8(&b[..end]).expect("hex").trim(), 16).expect("hex size");
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[end + 2..end + 2 + size]);
        b = &b[end + 2 + size + 2..];
    }
}

/// The binary serves everything it needs from itself: started from an empty folder elsewhere,
/// with no npm packages anywhere near, it serves pages, the API and the pinned front-end files.
#[test]
fn the_app_runs_from_any_folder_and_serves_the_demo() {
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let server =
        start_in(elsewhere.path(), &data().join("profiles"), &data().join("accounts")).expect("phm serve starts");
    let places = get(&server, "/api/areas?type=place").json();
    let place = places["areas"][0]["code"].as_str().expect("a place").to_owned();
    for path in ["/".to_owned(), format!("/areas/{place}"), "/indicators/mmr1_by_24_months".to_owned()] {
        let r = get(&server, &path);
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        assert!(r.text().contains("nhsuk-header"), "{path} has the NHS.UK header");
    }
    let vega = get(&server, "/static/vega/vega.min.js");
    assert_eq!(vega.status, 200);
    assert_eq!(vega.header("content-type").as_deref(), Some("text/javascript; charset=utf-8"));
    assert!(vega.body.len() > 100_000, "the Vega bundle, {} bytes", vega.body.len());
    let css = get(&server, "/static/nhsuk/nhsuk-frontend.min.css");
    assert_eq!(css.status, 200);
    assert!(!css.text().contains("https://"), "the stylesheet's remote fonts are removed");

    let doc = get(&server, "/api/openapi.json").json();
    assert_eq!(doc["openapi"], "3.1.0");
    let indicators = get(&server, "/api/indicators").json();
    let list = indicators["indicators"].as_array().expect("a list");
    assert!(list.len() >= 40, "{} indicators", list.len());
    for i in list {
        assert!(i["source"]["definition_sha256"].as_str().is_some_and(|h| h.len() == 64), "{i}");
    }
    let rows = get(&server, "/api/profiles?indicator=smoking_prevalence&breakdown=all").json();
    assert_eq!(rows["policy"], "public");
    assert!(rows["total"].as_u64().is_some_and(|t| t >= 5), "{rows}");
    for r in rows["rows"].as_array().expect("rows") {
        if let Some(n) = r["numerator"].as_u64() {
            assert!(n == 0 || (n > 7 && n % 5 == 0), "public counts are 0 or rounded above 7: {r}");
        }
    }
    let trend = get(&server, "/api/trends?indicator=smoking_prevalence").json();
    assert_eq!(trend["points"].as_array().map(Vec::len), Some(24), "{trend}");
    let pop = get(&server, "/api/population?area=E54000024").json();
    assert!(!pop["rows"].as_array().expect("rows").is_empty());
}

#[test]
fn downloads_come_as_csv_excel_and_parquet_under_the_public_policy() {
    let server = serve();
    let csv = get(&server, "/download/profiles.csv?area=E54000024&indicator=smoking_prevalence");
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").is_some_and(|t| t.starts_with("text/csv")));
    let text = csv.text();
    assert!(text.starts_with("indicator,title,method"), "{text}");
    assert!(text.lines().count() > 5);
    let xlsx = get(&server, "/download/profiles.xlsx?area=E54000024");
    assert_eq!(xlsx.status, 200);
    assert_eq!(&xlsx.body[..2], b"PK", "an xlsx is a zip");
    let parquet = get(&server, "/download/population.parquet?area=E54000024");
    assert_eq!(parquet.status, 200);
    assert_eq!(&parquet.body[..4], b"PAR1");
    // Downloads of the public release by visitors who are not signed in are not audited (it is
    // published data); staff's downloads are (crates/phm-web/tests/exports.rs).
    let data = data().to_path_buf();
    let trail = std::fs::read_to_string(data.join("accounts/audit.jsonl")).expect("an audit trail");
    assert_eq!(trail.lines().filter(|l| l.contains("\"export\"")).count(), 0, "{trail}");
}

#[test]
fn a_table_that_breaks_the_policy_it_claims_is_refused() {
    let data = data().to_path_buf();
    // The analyst release (unrounded) relabelled as public.
    let fake = tempfile::tempdir().expect("tempdir");
    let public = fake.path().join("public");
    std::fs::create_dir_all(&public).expect("mkdir");
    for f in ["profiles.csv", "framework.json"] {
        std::fs::copy(data.join("profiles/analyst").join(f), public.join(f)).expect("copy");
    }
    let provenance = std::fs::read_to_string(data.join("profiles/analyst/provenance.json")).expect("provenance");
    std::fs::write(
        public.join("provenance.json"),
        provenance.replace("\"policy\": \"analyst\"", "\"policy\": \"public\""),
    )
    .expect("write");
    let Err(err) = start(fake.path(), &fake.path().join("accounts")) else { panic!("a mislabelled table was served") };
    assert!(err.contains("breaks the `public` policy") && err.contains("profiles.csv"), "{err}");
}
