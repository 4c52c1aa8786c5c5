//! The router in-process on the hand-written fixture (no server, no network): every page type
//! answers with the NHS.UK layout under the Content-Security-Policy; malformed requests get a
//! 400 that names the parameter, unknown things a 404, never a 500; static files come from the
//! binary with their content type and caching; the OpenAPI document lists every area and
//! indicator. Snapshots (insta, `tests/snapshots/`) hold every API answer kind and the main
//! content of representative pages, byte for byte as served.

mod common;

use axum::http::StatusCode;
use common::{ICS, INDICATORS, PLACE, app, fixture, send};

/// The `<main>` element of a page (the header and footer are the same on every page).
fn main_of(html: &str) -> &str {
    let start = html.find("<main").unwrap_or_else(|| panic!("no <main> in {html}"));
    let end = html.find("</main>").map_or(html.len(), |e| e + "</main>".len());
    &html[start..end]
}

#[tokio::test]
async fn every_page_type_answers_with_the_nhs_layout_under_the_csp() {
    let f = fixture();
    let app = app(&f, false);
    for path in [
        "/".to_owned(),
        format!("/areas/{PLACE}"),
        format!("/areas/{ICS}"),
        "/indicators".to_owned(),
        format!("/indicators/{}", INDICATORS[0]),
        format!("/indicators/{}?area={PLACE}", INDICATORS[1]),
        format!("/inequalities?indicator={}&area={PLACE}", INDICATORS[0]),
        "/data-quality".to_owned(),
        "/about".to_owned(),
        "/sign-in".to_owned(),
    ] {
        let r = send(&app, "GET", &path, None, None).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
        let html = r.text();
        assert!(html.contains("nhsuk-header"), "{path} has the NHS.UK header");
        assert_eq!(html.matches("<h1").count(), 1, "{path} has one h1");
        assert!(
            !html.contains("https://assets.nhs.uk") && !html.contains("cdn"),
            "{path} loads nothing from elsewhere"
        );
        let csp = r.header("content-security-policy").expect("a CSP");
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe"), "{path}: {csp}");
    }
}

#[tokio::test]
async fn malformed_requests_get_a_400_that_names_the_parameter() {
    let f = fixture();
    let app = app(&f, false);
    for (path, names) in [
        ("/api/profiles?indicator=smokin", "`indicator`"),
        ("/api/profiles?limit=ten", "`limit`"),
        ("/api/profiles?limit=99999999", "`limit`"),
        ("/api/profiles?breakdown=postcode", "`breakdown`"),
        ("/api/profiles?area_type=county", "`area_type`"),
        ("/api/profiles?colour=red", "`colour`"),
        ("/api/areas?type=county", "`type`"),
        ("/api/trends", "`indicator`"),
        ("/api/trends?indicator=smoking&area=E99", "`area`"),
        ("/api/population?area=E99", "`area`"),
        ("/indicators/smoking?area=NOPE", "`area`"),
        ("/inequalities?indicator=nothing", "`indicator`"),
        ("/download/profiles.docx", "docx"),
        ("/download/profiles.csv?area=NOPE", "`area`"),
    ] {
        let r = send(&app, "GET", path, None, None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.text());
        assert!(r.text().contains(names), "{path}: {}", r.text());
    }
    let typo = send(&app, "GET", "/api/profiles?indicator=smokin", None, None).await.text();
    assert!(typo.contains("did you mean `smoking`"), "{typo}");
    // The fixture's rows are all `all` rows: with no indicator named, the inequalities page has
    // none with breakdowns to show, and says so.
    let bare = send(&app, "GET", "/inequalities", None, None).await;
    assert_eq!(bare.status, StatusCode::NOT_FOUND);
    assert!(bare.text().contains("No indicator has breakdowns."), "{}", bare.text());
    for path in ["/no/such/page", "/api/areas/NOPE", "/api/indicators/nope", "/static/nope.js"] {
        assert_eq!(send(&app, "GET", path, None, None).await.status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn static_files_come_from_the_binary_with_their_type_and_pages_link_them_by_content() {
    let f = fixture();
    let app = app(&f, false);
    let page = send(&app, "GET", "/", None, None).await.text();
    for (file, content_type) in [
        ("nhsuk/nhsuk-frontend.min.css", "text/css; charset=utf-8"),
        ("app.css", "text/css; charset=utf-8"),
        ("vega/vega.min.js", "text/javascript; charset=utf-8"),
        ("vega/vega-lite.min.js", "text/javascript; charset=utf-8"),
        ("vega/vega-embed.min.js", "text/javascript; charset=utf-8"),
        ("charts.js", "text/javascript; charset=utf-8"),
        ("nhsuk/assets/images/favicon.svg", "image/svg+xml"),
    ] {
        let linked = page
            .split(&format!("\"/static/{file}?v="))
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or_else(|| panic!("the page links {file} with its version"));
        let versioned = send(&app, "GET", &format!("/static/{file}?v={linked}"), None, None).await;
        assert_eq!(versioned.status, StatusCode::OK, "{file}");
        assert_eq!(versioned.header("content-type"), Some(content_type), "{file}");
        assert_eq!(versioned.header("cache-control"), Some("public, max-age=31536000, immutable"), "{file}");
        assert!(!versioned.body.is_empty(), "{file}");
        let etag = versioned.header("etag").expect("an ETag").to_owned();
        assert_eq!(etag, format!("\"{linked}\""), "{file}: the version is the content's hash");
        // Without the version (a module's relative import) or with an old one: an hour.
        for query in ["", "?v=0000000000000000"] {
            let plain = send(&app, "GET", &format!("/static/{file}{query}"), None, None).await;
            assert_eq!(plain.body, versioned.body, "{file}{query}");
            assert_eq!(plain.header("cache-control"), Some("public, max-age=3600"), "{file}{query}");
        }
    }
    let module = send(&app, "GET", "/static/vega/vega-interpreter.js", None, None).await;
    assert!(module.text().contains("from '../vega-util-shim.js'"), "vega-interpreter imports the shim");
    let css = send(&app, "GET", "/static/nhsuk/nhsuk-frontend.min.css", None, None).await.text();
    assert!(!css.contains("https://"), "the stylesheet's remote fonts are removed");
}

#[tokio::test]
async fn the_openapi_document_lists_every_area_and_indicator() {
    let f = fixture();
    let app = app(&f, false);
    let r = send(&app, "GET", "/api/openapi.json", None, None).await;
    assert_eq!(r.header("content-type"), Some("application/json"));
    let doc: serde_json::Value = serde_json::from_slice(&r.body).expect("JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    let areas: Vec<&str> = vec![ICS, PLACE];
    let params = |path: &str, name: &str| -> Vec<String> {
        let op = &doc["paths"][path]["get"];
        let p = op["parameters"].as_array().into_iter().flatten().find(|p| p["name"] == name);
        let values = p.map(|p| p["schema"]["enum"].clone()).unwrap_or_default();
        serde_json::from_value(values).unwrap_or_else(|e| panic!("{path} {name}: {e}"))
    };
    for (path, name) in [
        ("/api/areas/{code}", "code"),
        ("/api/profiles", "area"),
        ("/api/trends", "area"),
        ("/api/population", "area"),
        ("/download/{file}", "area"),
    ] {
        assert_eq!(params(path, name), areas, "{path} {name}");
    }
    for (path, name) in [
        ("/api/indicators/{name}", "name"),
        ("/api/profiles", "indicator"),
        ("/api/trends", "indicator"),
        ("/download/{file}", "indicator"),
    ] {
        assert_eq!(params(path, name), INDICATORS, "{path} {name}");
    }
    insta::assert_snapshot!("openapi", r.text());
}

/// Every kind of API answer, as served to the public.
#[tokio::test]
async fn api_answers() {
    let f = fixture();
    let app = app(&f, false);
    let smoking = INDICATORS[0];
    for (name, path, status) in [
        ("area_types", "/api/area-types".to_owned(), 200),
        ("areas", "/api/areas".to_owned(), 200),
        ("areas_of_a_type", "/api/areas?type=place".to_owned(), 200),
        ("area", format!("/api/areas/{PLACE}"), 200),
        ("indicators", "/api/indicators".to_owned(), 200),
        ("indicator", format!("/api/indicators/{smoking}"), 200),
        ("profiles", format!("/api/profiles?indicator={smoking}&area={PLACE}"), 200),
        ("profiles_page", "/api/profiles?area_type=ics&breakdown=all&limit=2&offset=1".to_owned(), 200),
        ("trends", format!("/api/trends?indicator={smoking}&area={PLACE}"), 200),
        ("population", "/api/population".to_owned(), 200),
        ("bad_request", "/api/profiles?limit=ten".to_owned(), 400),
        ("not_found", "/api/areas/NOPE".to_owned(), 404),
    ] {
        let r = send(&app, "GET", &path, None, None).await;
        assert_eq!(r.status.as_u16(), status, "{path}: {}", r.text());
        assert_eq!(r.header("content-type"), Some("application/json"), "{path}");
        insta::assert_snapshot!(format!("api_{name}"), r.text(), &path);
    }
}

/// The main content of representative pages, as served to the public.
#[tokio::test]
async fn pages() {
    let f = fixture();
    let app = app(&f, false);
    for (name, path) in [
        ("overview", "/".to_owned()),
        ("area", format!("/areas/{PLACE}")),
        ("indicators", "/indicators".to_owned()),
        ("indicator", format!("/indicators/{}?area={PLACE}", INDICATORS[0])),
        ("not_found", "/no/such/page".to_owned()),
    ] {
        let r = send(&app, "GET", &path, None, None).await;
        insta::assert_snapshot!(format!("page_{name}"), main_of(&r.text()), &path);
    }
}
