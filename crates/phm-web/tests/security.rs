//! The web app's defences, in-process: after sign-in the browser goes only to a path on this
//! site, whatever `next` says, and no `next` gives a 5xx; signed-in pages and the sign-in page
//! are never stored by a cache; HSTS is sent when cookies are secure; throttled sign-ins say
//! when to retry.

mod common;

use axum::http::StatusCode;
use common::{app, fixture, post_sign_in, send, session};
use proptest::prelude::*;

/// Whether a `Location` value can only lead to this site, read as a browser reads it: tab, CR
/// and LF are dropped anywhere, leading spaces and control characters are trimmed, and `\` is
/// a `/` (WHATWG URL parsing for http and https).
fn same_site(location: &str) -> bool {
    let seen: String = location.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect();
    let seen = seen.trim_start_matches(|c: char| c <= ' ').replace('\\', "/");
    seen.starts_with('/') && !seen.starts_with("//") && location.bytes().all(|b| b.is_ascii_graphic())
}

const HOSTILE: [&str; 16] = [
    "/\t/evil.test",
    "/\n/evil.test",
    "/\r/evil.test",
    "\n",
    "\r\nSet-Cookie: x=1",
    "/%0A",
    "//evil.test",
    "/\\evil.test",
    "\\\\evil.test",
    "https://evil.test",
    "javascript:alert(1)",
    " /evil",
    "/%2F/evil.test",
    "/%5C/evil.test",
    "/\u{0}/evil.test",
    "/\u{7f}/evil.test",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_issues_next_values_lead_home_and_never_to_a_5xx() {
    let f = fixture();
    let app = app(&f, false);
    let cookie = session(&app).await;
    // The issue's request, exactly as sent: `%2F%09%2Fevil.test` is `/<tab>/evil.test`.
    for query in ["next=%2F%09%2Fevil.test", "next=%0A", "next=%0D", "next=%2F%0D%0ALocation:%20https://evil.test"] {
        let reply = send(&app, "GET", &format!("/sign-in?{query}"), Some(&cookie), None).await;
        assert_eq!((reply.status, reply.header("location")), (StatusCode::SEE_OTHER, Some("/")), "{query}");
    }
    for next in HOSTILE {
        let reply = send(&app, "GET", &format!("/sign-in?next={}", common::encode(next)), Some(&cookie), None).await;
        assert_eq!((reply.status, reply.header("location")), (StatusCode::SEE_OTHER, Some("/")), "{next:?}");
        // Not signed in: the form carries `/` as its next, and the page is a 200.
        let form = send(&app, "GET", &format!("/sign-in?next={}", common::encode(next)), None, None).await;
        assert_eq!(form.status, StatusCode::OK, "{next:?}");
        let value = form
            .text()
            .split("name=\"next\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .map(|v| v.replace("&#x2f;", "/"));
        assert_eq!(value.as_deref(), Some("/"), "{next:?}");
    }
    // Signing in with a hostile next goes home; a good one is kept.
    for next in ["/\t/evil.test", "\r\n", "//evil.test"] {
        let reply = post_sign_in(&app, common::client(), common::USER, common::PASSWORD, next).await;
        assert_eq!((reply.status, reply.header("location")), (StatusCode::SEE_OTHER, Some("/")), "{next:?}");
    }
    let reply = post_sign_in(&app, common::client(), common::USER, common::PASSWORD, "/indicators?x=1").await;
    assert_eq!(reply.header("location"), Some("/indicators?x=1"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any `next` at all (any bytes, percent-encoded into the query) redirects a signed-in
    /// browser to a path on this site, and never gets a 5xx.
    #[test]
    fn any_next_value_redirects_to_a_path_on_this_site(
        next in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..40),
            "(/|//|\\\\|/\\\\|https?:|%2F|%5C|%09|%0A|%0D|%00|\t|\r|\n| |[a-z.]{1,6}){0,8}".prop_map(String::into_bytes),
        ],
    ) {
        let (app, cookie) = SIGNED_IN.with(|s| s.clone());
        let encoded: String = next.iter().map(|b| format!("%{b:02X}")).collect();
        let raw: String = next.iter().map(|&b| b as char).filter(|c| c.is_ascii_graphic() && !matches!(c, '#' | '&' | '+')).collect();
        for query in [format!("next={encoded}"), format!("next={raw}")] {
            if format!("/sign-in?{query}").parse::<axum::http::Uri>().is_err() {
                continue; // not a request a client could send
            }
            let reply = RUNTIME.block_on(send(&app, "GET", &format!("/sign-in?{query}"), Some(&cookie), None));
            prop_assert!(!reply.status.is_server_error(), "{query}: {}", reply.status);
            if reply.status == StatusCode::SEE_OTHER {
                let location = reply.header("location").unwrap_or_default();
                prop_assert!(same_site(location), "{query} led to {location:?}");
            } else {
                prop_assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", query);
            }
        }
    }
}

static RUNTIME: std::sync::LazyLock<tokio::runtime::Runtime> = std::sync::LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime")
});

thread_local! {
    /// One app and one signed-in session for every case (signing in hashes a password).
    static SIGNED_IN: (std::sync::Arc<phm_web::App>, String) = {
        let f = Box::leak(Box::new(fixture()));
        let app = app(f, false);
        let cookie = RUNTIME.block_on(session(&app));
        (app, cookie)
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_pages_and_the_sign_in_page_are_never_stored_and_hsts_comes_with_secure_cookies() {
    let f = fixture();
    let secure = app(&f, true);
    let cookie = session(&secure).await;
    for uri in [
        "/about",
        "/indicators",
        "/api/profiles?indicator=smoking",
        "/download/profiles.csv",
        "/api/areas",
        "/no-such-page",
    ] {
        let reply = send(&secure, "GET", uri, Some(&cookie), None).await;
        assert_eq!(reply.header("cache-control"), Some("no-store"), "{uri} ({})", reply.status);
        assert_eq!(reply.header("strict-transport-security"), Some("max-age=31536000; includeSubDomains"), "{uri}");
    }
    let sign_in = send(&secure, "GET", "/sign-in", None, None).await;
    assert_eq!(sign_in.header("cache-control"), Some("no-store"));
    let signed_in = post_sign_in(&secure, common::client(), common::USER, common::PASSWORD, "/").await;
    assert_eq!(signed_in.header("cache-control"), Some("no-store"), "the redirect that sets the session cookie");
    let sign_out = send(&secure, "POST", "/sign-out", Some(&cookie), Some("csrf=wrong")).await;
    assert_eq!(sign_out.header("cache-control"), Some("no-store"));
    // The public's pages may be cached; HSTS is on every response when cookies are secure.
    let public = send(&secure, "GET", "/about", None, None).await;
    assert_eq!(public.status, StatusCode::OK);
    assert_ne!(public.header("cache-control"), Some("no-store"));
    assert!(public.header("strict-transport-security").is_some());
    // Plain HTTP on loopback (`--insecure-cookies`): no HSTS, which would pin a local address
    // to HTTPS; signed-in pages are still not stored.
    let insecure = app(&f, false);
    let cookie = session(&insecure).await;
    let reply = send(&insecure, "GET", "/about", Some(&cookie), None).await;
    assert_eq!(reply.header("strict-transport-security"), None);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_sign_in_is_a_429_that_says_when_to_retry_and_does_not_stop_the_owner() {
    let f = fixture();
    let app = app(&f, false);
    let attacker: std::net::SocketAddr = "203.0.113.9:40000".parse().expect("address");
    for _ in 0..3 {
        let reply = post_sign_in(&app, attacker, common::USER, "a wrong password", "/").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let reply = post_sign_in(&app, attacker, common::USER, "a wrong password", "/").await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.header("retry-after"), Some("5"));
    assert!(reply.text().contains("Too many failed sign-ins: try again in 5 seconds."), "{}", reply.text());
    // The owner, from her own address, is not held up.
    let owner = post_sign_in(&app, common::client(), common::USER, common::PASSWORD, "/").await;
    assert_eq!(owner.status, StatusCode::SEE_OTHER);
}
