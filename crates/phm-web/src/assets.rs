//! Static files: the NHS.UK frontend and Vega packages from the pinned npm install
//! (`web/node_modules`, from `web/package-lock.json`), and the app's own CSS and JavaScript,
//! which are compiled in. All are read into memory at start-up and served from `/static/`.
//!
//! Two third-party files are adapted as they are loaded, and nothing else is:
//! * the NHS.UK stylesheet's `@font-face` rules point at `assets.nhs.uk` (Frutiger is licensed
//!   to NHS websites, not redistributable); they are removed, so pages use the frontend's own
//!   fallback, Arial, and no request leaves the app. Its image URLs are re-rooted under
//!   `/static/nhsuk/`.
//! * `vega-interpreter` (an ES module importing the bare name `vega-util`) imports the
//!   app's `vega-util-shim.js` instead, which re-exports from the `vega` bundle. The
//!   interpreter lets charts render under a Content-Security-Policy without `unsafe-eval`.

use std::collections::HashMap;
use std::path::Path;

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// One file.
#[derive(Debug)]
struct Asset {
    bytes: Vec<u8>,
    content_type: &'static str,
    etag: String,
}

/// Every static file, by its path under `/static/`.
#[derive(Debug)]
pub struct Assets {
    files: HashMap<String, Asset>,
    /// Package versions served, for the About page.
    pub versions: Vec<(String, String)>,
}

const OWN: [(&str, &str); 4] = [
    ("app.css", include_str!("../static/app.css")),
    ("app.js", include_str!("../static/app.js")),
    ("charts.js", include_str!("../static/charts.js")),
    ("vega-util-shim.js", include_str!("../static/vega-util-shim.js")),
];

const PACKAGES: [&str; 5] = ["nhsuk-frontend", "vega", "vega-lite", "vega-embed", "vega-interpreter"];

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

impl Assets {
    /// Reads the packages from `node_modules` (the folder `npm ci --prefix web` fills).
    ///
    /// # Errors
    /// A package or file missing, with the command that installs it.
    pub fn load(node_modules: &Path) -> Result<Self> {
        let mut files = HashMap::new();
        let read = |rel: &str| -> Result<Vec<u8>> {
            let path = node_modules.join(rel);
            std::fs::read(&path).map_err(|e| {
                Error::Load(format!(
                    "cannot read `{}` ({e}): install the web packages with `npm ci --prefix web`",
                    path.display()
                ))
            })
        };
        let text = |rel: &str| -> Result<String> {
            String::from_utf8(read(rel)?)
                .map_err(|_| Error::Load(format!("`{}` is not UTF-8", node_modules.join(rel).display())))
        };
        let mut add = |name: &str, bytes: Vec<u8>| {
            let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&bytes))[..16]);
            files.insert(name.to_owned(), Asset { content_type: content_type(name), bytes, etag });
        };
        let css = text("nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css")?;
        add(
            "nhsuk/nhsuk-frontend.min.css",
            without_remote_fonts(&css).replace("url(/assets/", "url(/static/nhsuk/assets/").into_bytes(),
        );
        add("nhsuk/nhsuk-frontend.min.js", read("nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.js")?);
        let images = node_modules.join("nhsuk-frontend/dist/nhsuk/assets/images");
        let entries = std::fs::read_dir(&images).map_err(|e| Error::io(&images, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&images, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            add(
                &format!("nhsuk/assets/images/{name}"),
                std::fs::read(entry.path()).map_err(|e| Error::io(&entry.path(), e))?,
            );
        }
        add("vega/vega.min.js", read("vega/build/vega.min.js")?);
        add("vega/vega-lite.min.js", read("vega-lite/build/vega-lite.min.js")?);
        add("vega/vega-embed.min.js", read("vega-embed/build/vega-embed.min.js")?);
        let interpreter = text("vega-interpreter/build/vega-interpreter.js")?;
        let patched = interpreter.replace("from 'vega-util'", "from '../vega-util-shim.js'");
        if patched == interpreter {
            return Err(Error::Load("vega-interpreter no longer imports `vega-util` as expected: check the pinned version in web/package.json".into()));
        }
        add("vega/vega-interpreter.js", patched.into_bytes());
        for (name, body) in OWN {
            add(name, body.as_bytes().to_vec());
        }
        let mut versions = Vec::new();
        for p in PACKAGES {
            let manifest: serde_json::Value = serde_json::from_slice(&read(&format!("{p}/package.json"))?)
                .map_err(|e| Error::Load(format!("`{p}/package.json`: {e}")))?;
            versions.push((p.to_owned(), manifest.get("version").and_then(|v| v.as_str()).unwrap_or("?").to_owned()));
        }
        Ok(Assets { files, versions })
    }

    /// Only the app's own files, compiled in (no npm packages): pages render, but without the
    /// NHS.UK styles or charts. For tests, which need no `npm ci`.
    pub fn own() -> Self {
        let files = OWN
            .iter()
            .map(|(name, body)| {
                let etag = format!("\"{}\"", &hex::encode(Sha256::digest(body.as_bytes()))[..16]);
                ((*name).to_owned(), Asset { bytes: body.as_bytes().to_vec(), content_type: content_type(name), etag })
            })
            .collect();
        Assets { files, versions: Vec::new() }
    }

    /// Whether `path` (under `/static/`) is served.
    pub fn contains(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }
}

/// The stylesheet without `@font-face` rules that load from another host.
pub fn without_remote_fonts(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("@font-face") {
        let Some(len) = rest[start..].find('}') else { break };
        let rule = &rest[start..start + len + 1];
        out.push_str(&rest[..start]);
        if !rule.contains("https://") && !rule.contains("http://") {
            out.push_str(rule);
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}

/// `GET /static/{*path}`.
pub async fn serve(
    State(app): State<std::sync::Arc<crate::App>>,
    UrlPath(path): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    let Some(asset) = app.assets.files.get(&path) else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(asset.etag.as_str()) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mut response = asset.bytes.clone().into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    if let Ok(v) = HeaderValue::from_str(&asset.etag) {
        h.insert(header::ETAG, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_font_faces_are_removed_and_local_ones_kept() {
        let css = "a{x:1}@font-face{font-family:F;src:url(https://assets.nhs.uk/f.woff2)}b{y:2}@font-face{font-family:L;src:url(/f.woff)}";
        assert_eq!(without_remote_fonts(css), "a{x:1}b{y:2}@font-face{font-family:L;src:url(/f.woff)}");
    }
}
