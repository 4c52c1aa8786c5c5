//! Staff sign-in for the web app, on `phm-accounts`: the sign-in form (signed CSRF token in a
//! cookie and a hidden field), login throttling, session cookies, sign-out, and the audit
//! trail of sign-ins, views of staff-only pages, and staff's data access (downloads and the
//! data endpoints of the API). After sign-in the browser goes to `next` only if it is a path
//! on this site ([`safe_next`]).
//!
//! Cookies are `HttpOnly; SameSite=Strict; Path=/` and `Secure` unless the app was started
//! for plain HTTP on loopback (`phm demo`, or `phm serve --insecure-cookies`).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use axum::Form;
use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use phm_accounts::{Accounts, Actor, AuthError, Event, Session};
use serde_json::{Value, json};

use crate::{App, Error, Result};

const SESSION_COOKIE: &str = "phm_session";
const FORM_COOKIE: &str = "phm_sign_in";

/// Accounts, sessions, throttling and the audit trail.
pub struct Auth {
    accounts: Accounts,
    secure: bool,
}

impl Auth {
    /// Opens the accounts folder (`users.json`, `audit.jsonl`; created if missing).
    ///
    /// # Errors
    /// The folder cannot be made, or the audit trail fails verification.
    pub fn open(folder: &Path, secure_cookies: bool) -> Result<Self> {
        let accounts =
            Accounts::open(folder).map_err(|e| Error::Load(format!("accounts `{}`: {e}", folder.display())))?;
        Ok(Auth { accounts, secure: secure_cookies })
    }

    /// Whether cookies are marked `Secure` (the app is served over HTTPS).
    pub fn secure(&self) -> bool {
        self.secure
    }

    fn cookie(&self, name: &str, value: &str, path: &str) -> String {
        format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict{}", if self.secure { "; Secure" } else { "" })
    }

    fn record(&self, visitor: &Visitor, event: Event) {
        let actor = match &visitor.session {
            Some(s) => Actor::user(&s.user, visitor.ip),
            None => Actor::anonymous(visitor.ip),
        };
        if let Err(e) = self.accounts.audit.record(&actor, event) {
            eprintln!("error: the audit trail could not be written: {e}");
        }
    }

    /// Records a view of a staff-only page.
    pub fn record_view(&self, visitor: &Visitor, page: &str) {
        self.record(visitor, Event::View { page: page.to_owned() });
    }

    /// Records an export or an API data request: the table with its filters, the format
    /// (`csv`, `xlsx`, `parquet`, or `json` for the API), the rows and the policy.
    ///
    /// # Errors
    /// The trail cannot be written: the data is then refused (fail closed).
    pub fn record_export(
        &self,
        visitor: &Visitor,
        table: &str,
        format: &str,
        rows: usize,
        policy: &str,
        filters: &str,
    ) -> Result<()> {
        let table = if filters.is_empty() { table.to_owned() } else { format!("{table}?{filters}") };
        let actor = match &visitor.session {
            Some(s) => Actor::user(&s.user, visitor.ip),
            None => Actor::anonymous(visitor.ip),
        };
        self.accounts
            .audit
            .record(
                &actor,
                Event::Export { table, format: format.to_owned(), rows: rows as u64, policy: policy.to_owned() },
            )
            .map(|_| ())
            .map_err(|e| {
                Error::Internal(format!("the data was refused because the audit trail could not be written: {e}"))
            })
    }
}

/// Who is asking: a signed-in member of staff, or the public.
#[derive(Clone, Debug, Default)]
pub struct Visitor {
    /// The session, when signed in.
    pub session: Option<Session>,
    /// The client's address.
    pub ip: Option<IpAddr>,
}

impl Visitor {
    /// Whether a member of staff is signed in.
    pub fn signed_in(&self) -> bool {
        self.session.is_some()
    }

    /// Whether they may see the `analyst` release and data-quality detail (analysts and
    /// admins; a clinician's scope is their practice, which the aggregate pages do not cover).
    pub fn analyst(&self) -> bool {
        self.session
            .as_ref()
            .is_some_and(|s| matches!(s.user.role, phm_accounts::Role::Analyst | phm_accounts::Role::Admin))
    }

    /// What the layout shows about them.
    pub fn template_value(&self) -> Value {
        match &self.session {
            Some(s) => json!({"username": s.user.username, "role": s.user.role.as_str(), "csrf": s.csrf_token()}),
            None => json!(null),
        }
    }
}

/// Whether the request carries a session cookie (valid or not).
pub fn has_session_cookie(headers: &HeaderMap) -> bool {
    cookie_value(headers, SESSION_COOKIE).is_some_and(|v| !v.is_empty())
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<Arc<App>> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> std::result::Result<Self, Self::Rejection> {
        let ip = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let session =
            cookie_value(&parts.headers, SESSION_COOKIE).and_then(|t| app.auth.accounts.session(t).ok().flatten());
        Ok(Visitor { session, ip })
    }
}

/// Where to go after signing in: a path on this site, never another site; anything else is
/// `/`. `next` (already percent-decoded once, as a query or form value) must start with one
/// `/` and not `//` or `/\\`, and must hold only visible ASCII with no backslash: no control
/// characters (browsers drop tab, CR and LF from a URL, so `/\t/evil.test` would become
/// `//evil.test`), no spaces, no scheme. The same is required of it percent-decoded again, so
/// that an encoded `//` or control character cannot pass either.
pub fn safe_next(next: Option<&str>) -> String {
    fn plain_path(p: &str) -> bool {
        p.starts_with('/')
            && !p.starts_with("//")
            && !p.starts_with("/\\")
            && p.len() <= 2048
            && p.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
            && !p.contains("://")
    }
    match next {
        Some(n) if plain_path(n) && percent_decoded(n).is_some_and(|d| plain_path(&d) || d == n) => n.to_owned(),
        _ => "/".to_owned(),
    }
}

/// `text` with `%XX` escapes decoded (as bytes, then read as UTF-8, lossily); `None` if an
/// escape is malformed.
fn percent_decoded(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// A 303 redirect to a path [`safe_next`] let through (or `/` if it cannot be a header).
fn redirect(to: &str) -> Response {
    let location = HeaderValue::from_str(to).unwrap_or_else(|_| HeaderValue::from_static("/"));
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

fn sign_in_form(
    app: &App,
    visitor: &Visitor,
    status: StatusCode,
    next: &str,
    username: &str,
    error: Option<String>,
) -> Response {
    let token = match app.auth.accounts.forms.issue() {
        Ok(t) => t,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    let ctx = json!({"csrf": token.field, "next": next, "username": username, "error": error});
    match crate::pages::render(app, visitor, "sign_in.html", "Staff sign in", "", ctx) {
        Ok(Html(html)) => {
            let mut response = (status, Html(html)).into_response();
            if let Ok(v) = HeaderValue::from_str(&app.auth.cookie(FORM_COOKIE, &token.cookie, "/sign-in")) {
                response.headers_mut().append(header::SET_COOKIE, v);
            }
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// `GET /sign-in?next=`.
pub async fn sign_in_page(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if visitor.signed_in() {
        return redirect(&safe_next(query.get("next").map(String::as_str)));
    }
    sign_in_form(&app, &visitor, StatusCode::OK, &safe_next(query.get("next").map(String::as_str)), "", None)
}

/// The sign-in form's fields.
#[derive(Debug, serde::Deserialize)]
pub struct SignInForm {
    csrf: String,
    #[serde(default)]
    next: Option<String>,
    username: String,
    password: String,
}

/// `POST /sign-in`.
pub async fn sign_in(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let username = form.username.trim().to_owned();
    if let Err(e) = app.auth.accounts.forms.verify(cookie_value(&headers, FORM_COOKIE).unwrap_or(""), &form.csrf) {
        eprintln!("sign-in form rejected: {e}");
        return sign_in_form(&app, &visitor, StatusCode::BAD_REQUEST, &next, &username, Some(format!("{e}.")));
    }
    // Hashing is slow on purpose: keep it off the request threads.
    let app2 = app.clone();
    let (u, p, ip) = (username.clone(), form.password, visitor.ip);
    let outcome = tokio::task::spawn_blocking(move || app2.auth.accounts.sign_in(&u, &p, ip)).await;
    match outcome {
        Ok(Ok(session)) => {
            let mut response = redirect(&next);
            if let Ok(v) = HeaderValue::from_str(&app.auth.cookie(SESSION_COOKIE, session.token(), "/")) {
                response.headers_mut().append(header::SET_COOKIE, v);
            }
            response
        }
        Ok(Err(AuthError::InvalidCredentials)) => sign_in_form(
            &app,
            &visitor,
            StatusCode::UNAUTHORIZED,
            &next,
            &username,
            Some("Enter a username and password that are right.".into()),
        ),
        Ok(Err(e @ AuthError::Throttled { retry_after, .. })) => {
            let message = e.to_string();
            let message = format!("{}{}.", message[..1].to_uppercase(), &message[1..]);
            let mut response =
                sign_in_form(&app, &visitor, StatusCode::TOO_MANY_REQUESTS, &next, &username, Some(message));
            let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
            response
        }
        Ok(Err(e)) => {
            eprintln!("error: sign-in failed: {e}");
            sign_in_form(
                &app,
                &visitor,
                StatusCode::SERVICE_UNAVAILABLE,
                &next,
                &username,
                Some("Sign-in is not working at the moment. Try again later.".into()),
            )
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// The sign-out form.
#[derive(Debug, serde::Deserialize)]
pub struct SignOutForm {
    csrf: String,
}

/// `POST /sign-out`.
pub async fn sign_out(State(app): State<Arc<App>>, visitor: Visitor, Form(form): Form<SignOutForm>) -> Response {
    let Some(session) = &visitor.session else {
        return redirect("/");
    };
    if !session.csrf_matches(&form.csrf) {
        return (
            StatusCode::BAD_REQUEST,
            Html("The form's security token does not match: reload the page and try again."),
        )
            .into_response();
    }
    if let Err(e) = app.auth.accounts.sign_out(session.token(), visitor.ip) {
        eprintln!("error: the audit trail could not be written: {e}");
    }
    let mut response = redirect("/");
    if let Ok(v) = HeaderValue::from_str(&format!("{}; Max-Age=0", app.auth.cookie(SESSION_COOKIE, "", "/"))) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/data-quality")), "/data-quality");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil")), "/");
        assert_eq!(safe_next(None), "/");
        // Browsers drop tab, CR and LF from URLs: `/\t/evil.test` would be `//evil.test`.
        assert_eq!(safe_next(Some("/\t/evil.test")), "/");
        assert_eq!(safe_next(Some("/\n")), "/");
        assert_eq!(safe_next(Some("/a\rb")), "/");
        assert_eq!(safe_next(Some("/%2F/evil.test")), "/");
        assert_eq!(safe_next(Some("/%09/evil.test")), "/");
        assert_eq!(safe_next(Some("/%5Cevil.test")), "/");
        assert_eq!(safe_next(Some("/caf\u{e9}")), "/");
        assert_eq!(
            safe_next(Some("/areas/E54000024?indicator=mmr&breakdown=sex")),
            "/areas/E54000024?indicator=mmr&breakdown=sex"
        );
        assert_eq!(safe_next(Some("/search?q=50%25")), "/search?q=50%25");
    }

    #[test]
    fn cookies_are_read_by_name() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; phm_session=abc; b=2"));
        assert_eq!(cookie_value(&h, "phm_session"), Some("abc"));
        assert_eq!(cookie_value(&h, "c"), None);
    }
}
