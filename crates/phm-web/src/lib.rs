//! The OpenPHM web app and JSON API.
//!
//! ```text
//! phm profiles ──► profiles folder (released tables, one per policy) ──► Catalogue::load
//!                  (checked against its policy again on load)                │
//!                                                                            ▼
//!   browser ◄── pages (NHS.UK frontend, Vega-Lite charts + tables) ◄── App (axum Router)
//!   client  ◄── /api/… JSON, /download/… CSV · XLSX · Parquet      ◄──┘
//! ```
//!
//! **Invariants.** The app reads only tables that `phm profiles` released under a disclosure
//! policy, re-audits them when it loads them, and serves visitors who are not signed in only
//! from the `public` release; it never reads the store's person-level tables. Every asset it
//! serves is compiled into its binary, the third-party files from the pinned npm packages
//! vendored in `web/vendor/` (no CDN, no npm step; the Content-Security-Policy allows `'self'`
//! only). A malformed request gets a 400 that names
//! the parameter and what was expected, never a 500.

pub mod api;
pub mod assets;
pub mod auth;
pub mod cache;
pub mod charts;
pub mod data;
pub mod error;
pub mod export;
pub mod pages;
mod render;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

pub use data::Catalogue;
pub use error::{Error, Result};

/// How to start the app.
#[derive(Clone, Debug)]
pub struct Config {
    /// The folder `phm profiles` wrote.
    pub profiles: PathBuf,
    /// The data-quality report (`phm quality --json`).
    pub quality: Option<PathBuf>,
    /// A GeoJSON file of neighbourhood boundaries (feature property `code`), instead of the
    /// built-in hex map.
    pub boundaries: Option<PathBuf>,
    /// The accounts folder (`users.json`, `audit.jsonl`).
    pub accounts: PathBuf,
    /// Disclosure policies (default: the built-in ones).
    pub policies: phm_disclosure::PolicySet,
    /// Mark cookies `Secure` (off only for plain HTTP on loopback).
    pub secure_cookies: bool,
}

/// The shared state of every handler.
pub struct App {
    /// What is shown.
    pub catalogue: Catalogue,
    /// Static files.
    pub assets: assets::Assets,
    /// Templates.
    pub templates: render::Templates,
    /// Boundaries, when supplied.
    pub boundaries: Option<serde_json::Value>,
    /// Sign-in, sessions, audit.
    pub auth: auth::Auth,
    /// Rendered responses for anonymous visitors.
    pub cache: cache::Cache,
    /// Downloads, built once each, off the request threads.
    pub exports: export::Exports,
    /// The OpenAPI document served (see [`api::openapi_document`]).
    pub openapi: String,
}

impl App {
    /// Loads everything the app serves.
    ///
    /// # Errors
    /// See [`Catalogue::load`], [`assets::Assets::embedded`] and [`auth::Auth::open`].
    pub fn load(config: &Config) -> Result<Arc<App>> {
        let catalogue = Catalogue::load(&config.profiles, &config.policies, config.quality.as_deref())?;
        let assets = assets::Assets::embedded()?;
        let boundaries = match &config.boundaries {
            Some(path) => Some(charts::read_boundaries(path, &catalogue)?),
            None => None,
        };
        let auth = auth::Auth::open(&config.accounts, config.secure_cookies)?;
        App::new(catalogue, assets, auth, boundaries)
    }

    /// The app from its parts (what [`App::load`] does after reading them).
    ///
    /// # Errors
    /// A template that does not compile, or an OpenAPI document that does not serialise (bugs).
    pub fn new(
        catalogue: Catalogue,
        assets: assets::Assets,
        auth: auth::Auth,
        boundaries: Option<serde_json::Value>,
    ) -> Result<Arc<App>> {
        let templates = render::Templates::new(assets.urls())?;
        let openapi = api::openapi_document(&catalogue)?;
        Ok(Arc::new(App {
            catalogue,
            assets,
            templates,
            boundaries,
            auth,
            cache: cache::Cache::new(256 * 1024 * 1024),
            exports: export::Exports::new(256 * 1024 * 1024),
            openapi,
        }))
    }
}

/// Every route of the app.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(pages::overview))
        .route("/areas/{code}", get(pages::area))
        .route("/indicators", get(pages::indicators))
        .route("/indicators/{name}", get(pages::indicator))
        .route("/inequalities", get(pages::inequalities))
        .route("/data-quality", get(pages::data_quality))
        .route("/about", get(pages::about))
        .route("/sign-in", get(auth::sign_in_page).post(auth::sign_in))
        .route("/sign-out", post(auth::sign_out))
        .route("/download/{file}", get(export::download))
        .route("/api/openapi.json", get(api::openapi))
        .route("/api/area-types", get(api::area_types))
        .route("/api/areas", get(api::areas))
        .route("/api/areas/{code}", get(api::area))
        .route("/api/indicators", get(api::indicators))
        .route("/api/indicators/{name}", get(api::indicator))
        .route("/api/profiles", get(api::profiles))
        .route("/api/trends", get(api::trends))
        .route("/api/population", get(api::population))
        .route("/static/{*path}", get(assets::serve))
        .route("/health", get(|| async { "ok" }))
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(app.clone(), cache::layer))
        .layer(axum::middleware::from_fn_with_state(app.clone(), error::security_headers))
        .with_state(app)
}

/// Serves the app on a bound listener until the process is stopped.
///
/// # Errors
/// The server stops with an IO error.
pub async fn serve_on(app: Arc<App>, listener: tokio::net::TcpListener) -> Result<()> {
    axum::serve(listener, router(app).into_make_service_with_connect_info::<SocketAddr>())
        .await
        .map_err(|e| Error::Internal(format!("server stopped: {e}")))
}
