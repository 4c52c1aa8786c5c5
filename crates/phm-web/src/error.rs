//! Errors, and how each becomes a response: a page for a browser, JSON for the API.

use std::path::Path;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file of the profiles folder is missing or unreadable.
    #[error("{0}")]
    Load(String),
    /// A released table breaks its policy.
    #[error("{0}")]
    Disclosure(String),
    /// A request parameter is malformed or unknown (400).
    #[error("{0}")]
    BadRequest(String),
    /// No such area, indicator or page (404).
    #[error("{0}")]
    NotFound(String),
    /// The visitor must sign in (or lacks the role).
    #[error("{0}")]
    Forbidden(String),
    /// The server is busy with this kind of request: try again shortly (503).
    #[error("{0}")]
    Unavailable(String),
    /// A bug.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub(crate) fn io(path: &Path, e: std::io::Error) -> Self {
        Error::Load(format!("cannot read `{}`: {e}", path.display()))
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Load(_) | Error::Disclosure(_) | Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error from an API handler: JSON `{"error": status, "message": …}`.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let body = crate::api::ErrorBody { error: status.as_u16(), message: self.0.to_string() };
        (status, axum::Json(body)).into_response()
    }
}

/// Adds the security headers to every response: a Content-Security-Policy that allows only
/// the app's own scripts, styles, images and fonts (so nothing can come from a CDN), and the
/// usual hardening headers; `Strict-Transport-Security` when the app runs with secure cookies
/// (that is, it is served over HTTPS, itself or behind a proxy; browsers ignore the header on
/// plain HTTP); and `Cache-Control: no-store` on every response to a request that carries a
/// session cookie, that sets a cookie, or for the sign-in and sign-out pages, so that no
/// browser or proxy cache keeps a page made for a member of staff. Static files (the same for
/// everyone) keep their own caching.
pub async fn security_headers(
    axum::extract::State(app): axum::extract::State<std::sync::Arc<crate::App>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = request.uri().path();
    let private = path.starts_with("/sign-in")
        || path.starts_with("/sign-out")
        || (!path.starts_with("/static/") && crate::auth::has_session_cookie(request.headers()));
    let mut response = next.run(request).await;
    let private = private || response.headers().contains_key(header::SET_COOKIE);
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if app.auth.secure() {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
    if private {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
