//! The ICS outcome framework: strategic priorities and enablers, each with its indicators in
//! display order. It is configuration (`definitions/framework.toml`, described in
//! `docs/framework.md`); another ICS replaces the file and changes no code.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The framework as a whole.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct About {
    /// Short identifier.
    pub id: String,
    /// The framework's name.
    pub title: String,
    /// Who owns it.
    pub organisation: String,
    /// The area it covers (ONS code of the ICB).
    pub area: String,
    /// Folder of indicator definitions, relative to the framework file.
    pub definitions: String,
    /// Where the priorities come from.
    pub source: String,
}

/// Whether a priority is an outcome or a cross-cutting enabler.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An outcome the system works towards.
    Priority,
    /// A cross-cutting means to all of them.
    Enabler,
}

/// An indicator's place in a priority.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// Indicator name, as defined in a `.phm` file.
    pub name: String,
    /// Shown on the overview page.
    #[serde(default)]
    pub headline: bool,
}

/// One priority or enabler.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Priority {
    /// Identifier, unique in the file.
    pub id: String,
    /// Priority or enabler.
    pub kind: Kind,
    /// As the ICS names it.
    pub title: String,
    /// One paragraph for a board member.
    pub description: String,
    /// Indicators in display order.
    pub indicators: Vec<Member>,
}

/// A framework file.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    /// The framework as a whole.
    pub framework: About,
    /// Priorities and enablers in display order.
    #[serde(rename = "priority")]
    pub priorities: Vec<Priority>,
}

impl Framework {
    /// Reads and checks a framework file.
    ///
    /// # Errors
    /// A file that cannot be read, TOML that does not match the format (with the line and the
    /// key), or a repeated priority id.
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.display().to_string(), source })?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// Parses a framework from TOML text; `origin` names the file in errors.
    ///
    /// # Errors
    /// As [`Framework::load`].
    pub fn parse(origin: &str, text: &str) -> Result<Self> {
        let f: Framework = toml::from_str(text).map_err(|e| Error::Invalid(format!("{origin}: {e}")))?;
        let mut ids = BTreeSet::new();
        for p in &f.priorities {
            if !ids.insert(p.id.as_str()) {
                return Err(Error::Invalid(format!("{origin}: the priority id `{}` is used twice", p.id)));
            }
            if p.indicators.is_empty() {
                return Err(Error::Invalid(format!("{origin}: the priority `{}` has no indicators", p.id)));
            }
        }
        Ok(f)
    }

    /// The definitions folder, relative to the framework file at `path`.
    pub fn definitions_dir(&self, path: &Path) -> PathBuf {
        path.parent().unwrap_or(Path::new(".")).join(&self.framework.definitions)
    }

    /// Every indicator name the framework uses, once each, in first-use order.
    pub fn indicator_names(&self) -> Vec<&str> {
        let mut seen = BTreeSet::new();
        self.priorities
            .iter()
            .flat_map(|p| &p.indicators)
            .map(|m| m.name.as_str())
            .filter(|n| seen.insert(*n))
            .collect()
    }

    /// Names the framework uses that are not among `defined`, so a typo is an error, not a
    /// silently missing indicator.
    pub fn unknown<'a>(&'a self, defined: &BTreeSet<&str>) -> Vec<&'a str> {
        self.indicator_names().into_iter().filter(|n| !defined.contains(n)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_framework_parses_and_names_its_priorities() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../definitions/framework.toml");
        let f = Framework::load(&path).expect("the shipped framework parses");
        let titles: Vec<&str> = f.priorities.iter().map(|p| p.title.as_str()).collect();
        for want in [
            "Start Well",
            "Live Well",
            "Age Well",
            "Growth",
            "Reducing Inequalities",
            "Operational and Clinical Excellence",
        ] {
            assert!(titles.contains(&want), "{want} missing from {titles:?}");
        }
        assert!(f.indicator_names().len() >= 30);
    }

    #[test]
    fn an_unknown_key_is_named_with_its_line() {
        let err = Framework::parse("f.toml", "[framework]\nid='x'\ntitel='y'\n").expect_err("fails");
        assert!(err.to_string().contains("titel") && err.to_string().contains("line 3"), "{err}");
    }
}
