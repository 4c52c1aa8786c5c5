//! Static files, all compiled into the binary: the NHS.UK frontend and Vega files the app
//! serves, vendored from the npm packages pinned in `web/package-lock.json` into `web/vendor/`
//! (by `node web/vendor.mjs`, which checks each tarball against the lock's integrity and records
//! every file's SHA-256 in `web/vendor/manifest.json`; the tests below check versions,
//! integrities and hashes against the lock and the files), and the app's own CSS and JavaScript.
//! So `phm serve` and `phm demo` need no npm step and work from any folder. They are served
//! from `/static/`; pages link each with `?v=` and a hash of its content, and such a request is
//! cached for a year (`immutable`), any other for an hour.
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

use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// One file.
#[derive(Debug)]
struct Asset {
    bytes: Vec<u8>,
    content_type: &'static str,
    /// The first 16 hex digits of the SHA-256 of `bytes`: the ETag, and the `?v=` of its URL.
    hash: String,
}

/// Every static file, by its path under `/static/`.
#[derive(Debug)]
pub struct Assets {
    files: HashMap<String, Asset>,
    /// Package versions served, for the About page.
    pub versions: Vec<(String, String)>,
}

/// A file taken from a pinned npm package into `web/vendor/PACKAGE/PATH`.
#[derive(Debug)]
pub struct Vendored {
    /// The npm package.
    pub package: &'static str,
    /// Its path inside the package.
    pub path: &'static str,
    /// Where the app serves it, under `/static/`.
    pub served: &'static str,
    /// The file as vendored (before the adaptations in the module documentation).
    pub bytes: &'static [u8],
}

macro_rules! vendored {
    ($package:literal, $path:expr => $served:expr) => {
        Vendored {
            package: $package,
            path: $path,
            served: $served,
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/vendor/", $package, "/", $path)),
        }
    };
}

macro_rules! image {
    ($name:literal) => {
        vendored!("nhsuk-frontend", concat!("dist/nhsuk/assets/images/", $name) => concat!("nhsuk/assets/images/", $name))
    };
}

/// Every vendored file the app serves.
pub const VENDORED: [Vendored; 32] = [
    vendored!("nhsuk-frontend", "dist/nhsuk/nhsuk-frontend.min.css" => "nhsuk/nhsuk-frontend.min.css"),
    vendored!("nhsuk-frontend", "dist/nhsuk/nhsuk-frontend.min.js" => "nhsuk/nhsuk-frontend.min.js"),
    image!("favicon.ico"),
    image!("favicon.svg"),
    image!("nhsuk-icon-180.png"),
    image!("nhsuk-icon-192.png"),
    image!("nhsuk-icon-512.png"),
    image!("nhsuk-icon-arrow-down-circle.svg"),
    image!("nhsuk-icon-arrow-down.svg"),
    image!("nhsuk-icon-arrow-left-circle.svg"),
    image!("nhsuk-icon-arrow-left.svg"),
    image!("nhsuk-icon-arrow-right-circle.svg"),
    image!("nhsuk-icon-arrow-right.svg"),
    image!("nhsuk-icon-arrow-up-circle.svg"),
    image!("nhsuk-icon-arrow-up-down.svg"),
    image!("nhsuk-icon-arrow-up.svg"),
    image!("nhsuk-icon-chevron-down-circle.svg"),
    image!("nhsuk-icon-chevron-left-circle.svg"),
    image!("nhsuk-icon-chevron-right-circle.svg"),
    image!("nhsuk-icon-chevron-up-circle.svg"),
    image!("nhsuk-icon-cross.svg"),
    image!("nhsuk-icon-mask.svg"),
    image!("nhsuk-icon-minus.svg"),
    image!("nhsuk-icon-plus.svg"),
    image!("nhsuk-icon-search.svg"),
    image!("nhsuk-icon-tick.svg"),
    image!("nhsuk-icon-user.svg"),
    image!("nhsuk-opengraph-image.png"),
    vendored!("vega", "build/vega.min.js" => "vega/vega.min.js"),
    vendored!("vega-lite", "build/vega-lite.min.js" => "vega/vega-lite.min.js"),
    vendored!("vega-embed", "build/vega-embed.min.js" => "vega/vega-embed.min.js"),
    vendored!("vega-interpreter", "build/vega-interpreter.js" => "vega/vega-interpreter.js"),
];

/// `web/vendor/manifest.json`: each package's name, version, integrity, licence and files.
pub const MANIFEST: &str = include_str!("../../../web/vendor/manifest.json");

const OWN: [(&str, &str); 4] = [
    ("app.css", include_str!("../static/app.css")),
    ("app.js", include_str!("../static/app.js")),
    ("charts.js", include_str!("../static/charts.js")),
    ("vega-util-shim.js", include_str!("../static/vega-util-shim.js")),
];

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

/// A vendored file's bytes as served: the two adaptations of the module documentation.
fn adapt(file: &Vendored) -> Result<Vec<u8>> {
    let text = || {
        std::str::from_utf8(file.bytes)
            .map_err(|_| Error::Internal(format!("vendored `{}/{}` is not UTF-8", file.package, file.path)))
    };
    match file.served {
        "nhsuk/nhsuk-frontend.min.css" => {
            Ok(without_remote_fonts(text()?).replace("url(/assets/", "url(/static/nhsuk/assets/").into_bytes())
        }
        "vega/vega-interpreter.js" => {
            let interpreter = text()?;
            let patched = interpreter.replace("from 'vega-util'", "from '../vega-util-shim.js'");
            if patched == interpreter {
                return Err(Error::Internal(
                    "vega-interpreter no longer imports `vega-util` as expected: check the version in web/vendor/manifest.json"
                        .into(),
                ));
            }
            Ok(patched.into_bytes())
        }
        _ => Ok(file.bytes.to_vec()),
    }
}

impl Assets {
    /// Every file the app serves, from the binary.
    ///
    /// # Errors
    /// A vendored file that cannot be adapted, or a manifest that does not parse (bugs: the
    /// tests below load them).
    pub fn embedded() -> Result<Self> {
        let mut files = HashMap::new();
        let mut add = |name: &str, bytes: Vec<u8>| {
            let hash = hex::encode(Sha256::digest(&bytes))[..16].to_owned();
            files.insert(name.to_owned(), Asset { content_type: content_type(name), bytes, hash });
        };
        for file in &VENDORED {
            add(file.served, adapt(file)?);
        }
        for (name, body) in OWN {
            add(name, body.as_bytes().to_vec());
        }
        let manifest: serde_json::Value =
            serde_json::from_str(MANIFEST).map_err(|e| Error::Internal(format!("web/vendor/manifest.json: {e}")))?;
        let versions = manifest["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| Some((p["name"].as_str()?.to_owned(), p["version"].as_str()?.to_owned())))
            .collect();
        Ok(Assets { files, versions })
    }

    /// Whether `path` (under `/static/`) is served.
    pub fn contains(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    /// The URL of each file, `/static/PATH?v=HASH`, by its path under `/static/` (what pages
    /// link to: a new version of a file has a new URL, so browsers may keep each for a year).
    pub fn urls(&self) -> HashMap<String, String> {
        self.files.iter().map(|(name, a)| (name.clone(), format!("/static/{name}?v={}", a.hash))).collect()
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

/// `GET /static/{*path}`: with the `?v=` of the file's current content, cached for a year;
/// without it (a module's relative import) or with an older one, for an hour.
pub async fn serve(
    State(app): State<std::sync::Arc<crate::App>>,
    UrlPath(path): UrlPath<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some(asset) = app.assets.files.get(&path) else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let etag = format!("\"{}\"", asset.hash);
    let cache = if query.as_deref().and_then(|q| q.strip_prefix("v=")) == Some(asset.hash.as_str()) {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=3600"
    };
    let mut response = if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = asset.bytes.clone().into_response();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
        r
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
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

    fn repo_file(rel: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn json(bytes: &[u8], what: &str) -> serde_json::Value {
        serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("{what}: {e}"))
    }

    /// The vendored packages are the versions `web/package-lock.json` pins, with its
    /// integrities (what `web/vendor.mjs` checked each tarball against); every vendored file,
    /// on disk and compiled in, has the SHA-256 the manifest records; and the binary serves
    /// exactly the manifest's files (licences aside).
    #[test]
    fn vendored_assets_are_the_pinned_packages_files() {
        let lock = json(&repo_file("web/package-lock.json"), "web/package-lock.json");
        let manifest = json(MANIFEST.as_bytes(), "web/vendor/manifest.json");
        let packages = manifest["packages"].as_array().expect("packages");
        let mut listed = std::collections::BTreeSet::new();
        for p in packages {
            let name = p["name"].as_str().expect("a name");
            let locked = &lock["packages"][format!("node_modules/{name}")];
            assert_eq!(p["version"], locked["version"], "{name}: vendored version against package-lock.json");
            assert_eq!(p["integrity"], locked["integrity"], "{name}: vendored integrity against package-lock.json");
            for f in p["files"].as_array().expect("files") {
                let path = f["path"].as_str().expect("a path");
                let on_disk = repo_file(&format!("web/vendor/{name}/{path}"));
                assert_eq!(f["sha256"].as_str(), Some(hex::encode(Sha256::digest(&on_disk)).as_str()), "{name}/{path}");
                if path != "LICENSE" {
                    listed.insert((name.to_owned(), path.to_owned(), f["sha256"].as_str().unwrap_or("").to_owned()));
                }
            }
        }
        let embedded: std::collections::BTreeSet<_> = VENDORED
            .iter()
            .map(|v| (v.package.to_owned(), v.path.to_owned(), hex::encode(Sha256::digest(v.bytes))))
            .collect();
        assert_eq!(embedded, listed, "the binary's vendored files are the manifest's");
        // web/package.json asks for exactly these versions of what the app uses directly.
        let wanted = json(&repo_file("web/package.json"), "web/package.json");
        for p in packages {
            let name = p["name"].as_str().expect("a name");
            if let Some(v) = wanted["dependencies"].get(name) {
                assert_eq!(v, &p["version"], "{name}: web/package.json");
            }
        }
    }

    #[test]
    fn every_served_file_has_a_type_and_the_adapted_files_are_adapted() {
        let assets = Assets::embedded().expect("the embedded assets load");
        for file in VENDORED.iter().map(|v| v.served).chain(OWN.iter().map(|(n, _)| *n)) {
            assert!(assets.contains(file), "{file}");
            assert_ne!(content_type(file), "application/octet-stream", "{file}");
        }
        let css = String::from_utf8_lossy(&assets.files["nhsuk/nhsuk-frontend.min.css"].bytes).into_owned();
        assert!(!css.contains("https://") && css.contains("url(/static/nhsuk/assets/images/"), "the stylesheet");
        let interpreter = String::from_utf8_lossy(&assets.files["vega/vega-interpreter.js"].bytes).into_owned();
        assert!(interpreter.contains("from '../vega-util-shim.js'") && !interpreter.contains("from 'vega-util'"));
        let names: Vec<&str> = assets.versions.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["nhsuk-frontend", "vega", "vega-lite", "vega-embed", "vega-interpreter"]);
    }
}
