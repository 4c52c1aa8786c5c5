//! Page templates (MiniJinja, compiled into the binary from `templates/`), with HTML
//! auto-escaping and the number filters the pages use.

use std::collections::HashMap;

use minijinja::{Environment, Value};

use crate::{Error, Result};

const TEMPLATES: [(&str, &str); 11] = [
    ("base.html", include_str!("../templates/base.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("overview.html", include_str!("../templates/overview.html")),
    ("area.html", include_str!("../templates/area.html")),
    ("indicators.html", include_str!("../templates/indicators.html")),
    ("indicator.html", include_str!("../templates/indicator.html")),
    ("inequalities.html", include_str!("../templates/inequalities.html")),
    ("data_quality.html", include_str!("../templates/data_quality.html")),
    ("about.html", include_str!("../templates/about.html")),
    ("sign_in.html", include_str!("../templates/sign_in.html")),
    ("error.html", include_str!("../templates/error.html")),
];

/// The compiled templates.
pub struct Templates {
    env: Environment<'static>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Templates")
    }
}

/// A number with `decimals` places and thousands separators; a dash for none.
pub fn number(value: Option<f64>, decimals: usize) -> String {
    match value {
        None => "–".into(),
        Some(v) if !v.is_finite() => "–".into(),
        Some(v) => {
            let s = format!("{:.*}", decimals, v.abs());
            let (int, frac) = s.split_once('.').map_or((s.as_str(), None), |(i, f)| (i, Some(f)));
            let grouped = crate::data::thousands(int.parse().unwrap_or(0));
            let sign = if v < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') { "-" } else { "" };
            match frac {
                Some(f) => format!("{sign}{grouped}.{f}"),
                None => format!("{sign}{grouped}"),
            }
        }
    }
}

impl Templates {
    /// Compiles every template. `asset_urls` gives, by path under `/static/`, the URL pages
    /// link to (see [`crate::assets::Assets::urls`]); templates name a static file with
    /// `asset('PATH')`, and a path that is not served is an error.
    ///
    /// # Errors
    /// A template that does not parse (a bug, caught by the tests).
    pub fn new(asset_urls: HashMap<String, String>) -> Result<Self> {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for (name, text) in TEMPLATES {
            env.add_template(name, text).map_err(|e| Error::Internal(format!("template `{name}`: {e:#}")))?;
        }
        env.add_filter("num", |v: Value, decimals: Option<usize>| -> String {
            let d = decimals.unwrap_or(1);
            if v.is_none() || v.is_undefined() {
                return "–".into();
            }
            number(f64::try_from(v).ok(), d)
        });
        env.add_filter("count", |v: Value| -> String {
            if v.is_none() || v.is_undefined() {
                return "–".into();
            }
            u64::try_from(v).map_or_else(|_| "–".into(), crate::data::thousands)
        });
        env.add_function("asset", move |path: &str| -> std::result::Result<Value, minijinja::Error> {
            asset_urls.get(path).map(|url| Value::from_safe_string(url.clone())).ok_or_else(|| {
                minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, format!("no static file `{path}`"))
            })
        });
        Ok(Templates { env })
    }

    /// Renders template `name` with `context`.
    ///
    /// # Errors
    /// A template error (a bug: a value the template needs is missing).
    pub fn render(&self, name: &str, context: &serde_json::Value) -> Result<String> {
        let t = self.env.get_template(name).map_err(|e| Error::Internal(format!("{e:#}")))?;
        t.render(context).map_err(|e| Error::Internal(format!("rendering `{name}`: {e:#}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_have_separators_and_fixed_decimals() {
        assert_eq!(number(Some(1234.567), 1), "1,234.6");
        assert_eq!(number(Some(-0.04), 1), "0.0");
        assert_eq!(number(Some(-12.5), 2), "-12.50");
        assert_eq!(number(Some(79.0), 0), "79");
        assert_eq!(number(None, 1), "–");
        assert_eq!(number(Some(f64::NAN), 1), "–");
    }
}

#[cfg(test)]
mod template_tests {
    #[test]
    fn every_template_compiles() {
        let assets = crate::assets::Assets::embedded().expect("the embedded assets");
        if let Err(e) = super::Templates::new(assets.urls()) {
            panic!("{e}");
        }
    }
}
