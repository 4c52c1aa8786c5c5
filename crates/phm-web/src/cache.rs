//! A cache of rendered responses for visitors who are not signed in. The released tables do
//! not change while the app runs, so a public page or API answer for one URL is the same for
//! every anonymous visitor: it is rendered once and then served from memory. Signed-in staff
//! (who see another release, and whose pages carry their name and CSRF token), downloads
//! (each one audited), sign-in and static files bypass it. The cache stops growing at its byte
//! limit; only 200 responses are kept.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Cached bodies by URL.
#[derive(Debug)]
pub struct Cache {
    entries: RwLock<HashMap<String, (HeaderValue, Bytes)>>,
    bytes: AtomicUsize,
    limit: usize,
}

impl Cache {
    /// An empty cache holding at most `limit` bytes of bodies.
    pub fn new(limit: usize) -> Self {
        Cache { entries: RwLock::new(HashMap::new()), bytes: AtomicUsize::new(0), limit }
    }

    fn get(&self, key: &str) -> Option<(HeaderValue, Bytes)> {
        self.entries.read().ok()?.get(key).cloned()
    }

    fn put(&self, key: String, content_type: HeaderValue, body: Bytes) {
        if self.bytes.load(Ordering::Relaxed) + body.len() > self.limit {
            return;
        }
        if let Ok(mut map) = self.entries.write() {
            self.bytes.fetch_add(body.len(), Ordering::Relaxed);
            map.insert(key, (content_type, body));
        }
    }
}

fn cacheable(request: &Request) -> bool {
    let path = request.uri().path();
    request.method() == Method::GET
        && !request
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .any(|c| c.to_str().is_ok_and(|c| c.contains("phm_session=")))
        && !["/static/", "/download/", "/sign-in", "/sign-out", "/health"].iter().any(|p| path.starts_with(p))
}

/// The middleware.
pub async fn layer(State(app): State<std::sync::Arc<crate::App>>, request: Request, next: Next) -> Response {
    if !cacheable(&request) {
        return next.run(request).await;
    }
    let key = request.uri().to_string();
    if let Some((content_type, body)) = app.cache.get(&key) {
        return ([(header::CONTENT_TYPE, content_type)], body).into_response();
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (parts, body) = response.into_parts();
    match axum::body::to_bytes(body, 64 * 1024 * 1024).await {
        Ok(bytes) => {
            if let Some(ct) = parts.headers.get(header::CONTENT_TYPE) {
                app.cache.put(key, ct.clone(), bytes.clone());
            }
            Response::from_parts(parts, Body::from(bytes))
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("internal error: {e}")).into_response(),
    }
}
