//! Disclosure policies: the threshold below which counts are suppressed, the complement rule and
//! the rounding, read from TOML (`reference/disclosure.toml`, or any file of the same form).
//!
//! ```toml
//! [policies.public]
//! threshold = 7          # counts 1..=7 suppressed; 0 turns primary suppression off
//! complement = true      # optional, default true
//! rounding = "nearest"   # "none", "nearest" or "midpoint"
//! base = 5               # required with "nearest"/"midpoint", not allowed with "none"
//! ```

use std::fmt;
use std::ops::Range;
use std::path::Path;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::error::{Error, Result};

/// The shipped policy file, compiled in.
const BUILTIN: &str = include_str!("../../../reference/disclosure.toml");
/// How the shipped file is named in errors.
const BUILTIN_ORIGIN: &str = "reference/disclosure.toml";

/// How published counts are rounded, after suppression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rounding {
    /// Published counts are shown as they are.
    None,
    /// To the nearest multiple of `base`, halves up: `r(x) = ⌊(x + ⌊base/2⌋) / base⌋ · base`.
    /// NHS England rounds published hospital statistics to the nearest 5 (NHS Digital,
    /// *Disclosure control methodology for HES and ECDS*, 2018).
    Nearest {
        /// The base, at least 2.
        base: u64,
    },
    /// OpenSAFELY's "midpoint 6" rounding, for any bucket width `base`: zero stays zero, and a
    /// non-zero count goes to the midpoint of its `base`-wide bucket,
    /// `r(x) = ⌈x / base⌉ · base − ⌊base/2⌋` (for base 6: 1–6 → 3, 7–12 → 9, …). It keeps
    /// zeros apart from small non-zero counts and is unbiased over each bucket (OpenSAFELY
    /// documentation, *Statistical disclosure control*, "Midpoint 6 rounding").
    Midpoint {
        /// The bucket width, at least 2.
        base: u64,
    },
}

impl Rounding {
    /// The published value of a count that is not suppressed.
    ///
    /// ```
    /// use phm_disclosure::Rounding;
    /// assert_eq!(Rounding::Nearest { base: 5 }.apply(12), 10);
    /// assert_eq!(Rounding::Nearest { base: 5 }.apply(13), 15);
    /// assert_eq!(Rounding::Midpoint { base: 6 }.apply(1), 3);
    /// assert_eq!(Rounding::Midpoint { base: 6 }.apply(7), 9);
    /// assert_eq!(Rounding::Midpoint { base: 6 }.apply(0), 0);
    /// ```
    pub fn apply(self, count: u64) -> u64 {
        // u128 so that counts near u64::MAX cannot overflow; the result is saturated back.
        let x = u128::from(count);
        let rounded = match self {
            Rounding::None => x,
            Rounding::Nearest { base } => {
                let b = u128::from(base);
                (x + b / 2) / b * b
            }
            Rounding::Midpoint { base } => {
                let b = u128::from(base);
                if x == 0 { 0 } else { x.div_ceil(b) * b - b / 2 }
            }
        };
        u64::try_from(rounded).unwrap_or(u64::MAX)
    }

    /// Whether `value` is a value this rounding can produce (a multiple of the base, or zero or
    /// a bucket midpoint). Every value is on the grid of [`Rounding::None`].
    pub fn is_on_grid(self, value: u64) -> bool {
        match self {
            Rounding::None => true,
            Rounding::Nearest { base } => value.is_multiple_of(base),
            Rounding::Midpoint { base } => {
                value == 0 || (u128::from(value) + u128::from(base / 2)).is_multiple_of(u128::from(base))
            }
        }
    }

    fn check(self) -> std::result::Result<(), String> {
        match self {
            Rounding::Nearest { base } | Rounding::Midpoint { base } if base < 2 => {
                Err(format!("the rounding base must be a whole number ≥ 2, not {base}"))
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Rounding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rounding::None => f.write_str("no rounding"),
            Rounding::Nearest { base } => write!(f, "nearest {base}"),
            Rounding::Midpoint { base } => write!(f, "midpoint {base}"),
        }
    }
}

/// How many consecutive counts can round to the same value (the base, or 1 without rounding).
fn rounding_span(rounding: Rounding) -> usize {
    match rounding {
        Rounding::None => 1,
        Rounding::Nearest { base } | Rounding::Midpoint { base } => usize::try_from(base).unwrap_or(usize::MAX),
    }
}

/// A disclosure policy: what [`release`](fn@crate::release) suppresses and how it rounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    name: String,
    threshold: u64,
    complement: bool,
    rounding: Rounding,
}

impl Policy {
    /// A policy built in code. `threshold` suppresses counts from 1 to `threshold` (0: none);
    /// `complement` also suppresses a proportion's numerator when denominator − numerator is
    /// from 1 to `threshold`. Fails if the rounding base is below 2.
    ///
    /// Also fails if rounding could show a count above the threshold as a value from 1 to the
    /// threshold (e.g. threshold 10 with rounding to the nearest 10 shows 11 as 10): readers
    /// could not tell such a figure from a small count, and neither could [`audit`](fn@crate::audit).
    pub fn new(name: &str, threshold: u64, complement: bool, rounding: Rounding) -> Result<Self> {
        let invalid = |message: String| Error::InvalidPolicy { name: name.to_owned(), message };
        rounding.check().map_err(invalid)?;
        // Rounding is monotone, so the smallest non-zero value shown for a count above the
        // threshold comes from the first count above it that does not round to zero.
        if let Some(first) =
            (threshold.saturating_add(1)..).take(1 + rounding_span(rounding)).find(|&x| rounding.apply(x) > 0)
        {
            let shown = rounding.apply(first);
            if shown <= threshold {
                return Err(invalid(format!(
                    "rounding to {rounding} shows a count of {first} as {shown}, inside the suppressed range 1–{threshold}; \
                     lower the threshold or change the rounding"
                )));
            }
        }
        Ok(Policy { name: name.to_owned(), threshold, complement, rounding })
    }

    /// A policy from the shipped `reference/disclosure.toml` (`"public"`, `"analyst"`).
    pub fn builtin(name: &str) -> Result<Self> {
        PolicySet::builtin()?.get(name).cloned()
    }

    /// The policy's name, e.g. `public`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Counts from 1 to this are suppressed (0: no primary suppression).
    pub fn threshold(&self) -> u64 {
        self.threshold
    }

    /// Whether a proportion's numerator is suppressed when its complement is from 1 to the
    /// threshold.
    pub fn complement(&self) -> bool {
        self.complement
    }

    /// How published counts are rounded.
    pub fn rounding(&self) -> Rounding {
        self.rounding
    }

    /// Whether a count, on its own, must be suppressed: `1 ≤ count ≤ threshold`.
    pub fn is_small(&self, count: u64) -> bool {
        (1..=self.threshold).contains(&count)
    }

    /// A sentence for a footnote beside released figures, built from the parameters.
    ///
    /// ```
    /// let public = phm_disclosure::Policy::builtin("public").unwrap();
    /// assert_eq!(
    ///     public.summary(),
    ///     "Counts from 1 to 7 are suppressed, as are numerators within 7 of their denominator, \
    ///      and figures that would reveal them; other counts are rounded to the nearest 5."
    /// );
    /// ```
    pub fn summary(&self) -> String {
        let t = self.threshold;
        let suppression = match (t, self.complement) {
            (0, _) => "No counts are suppressed".to_owned(),
            (_, false) => format!("Counts from 1 to {t} are suppressed, as are figures that would reveal them"),
            (_, true) => format!(
                "Counts from 1 to {t} are suppressed, as are numerators within {t} of their denominator, and figures that would reveal them"
            ),
        };
        let counts = if t == 0 { "counts" } else { "other counts" };
        let rounding = match self.rounding {
            Rounding::None => "counts are not rounded".to_owned(),
            Rounding::Nearest { base } => format!("{counts} are rounded to the nearest {base}"),
            Rounding::Midpoint { base } => format!("{counts} are rounded to the midpoint of their {base}-wide band"),
        };
        format!("{suppression}; {rounding}.")
    }
}

/// The named policies of one policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySet {
    origin: String,
    /// Sorted by name, names unique.
    policies: Vec<Policy>,
}

impl PolicySet {
    /// The policies of the shipped `reference/disclosure.toml`, compiled into the binary. Fails
    /// only if the committed file is malformed, which this crate's tests catch.
    pub fn builtin() -> Result<Self> {
        Self::parse(BUILTIN_ORIGIN, BUILTIN)
    }

    /// Reads a policy file of the same form as `reference/disclosure.toml`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read { path: path.to_owned(), source })?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// Parses policy TOML; `origin` names the text in errors (usually its path).
    pub fn parse(origin: &str, text: &str) -> Result<Self> {
        let doc = DeTable::parse(text).map_err(|e| {
            let (line, column) = line_column(text, e.span().map_or(0, |s| s.start));
            Error::Syntax { origin: origin.to_owned(), line, column, message: e.message().trim().to_owned() }
        })?;
        let p = Parser { origin, text };
        let root = doc.get_ref();
        p.only_keys(root, "", &["policies"])?;
        let Some(policies) = root.get("policies") else {
            return Err(p.err(0..0, "policies", "expected a `[policies.<name>]` table; found none".to_owned()));
        };
        let table = p.table(policies, "policies")?;
        if table.is_empty() {
            return Err(p.err(
                policies.span(),
                "policies",
                "expected at least one `[policies.<name>]` table".to_owned(),
            ));
        }
        let mut out = Vec::new();
        for (name, value) in table.iter() {
            let key = format!("policies.{}", name.get_ref());
            if name.get_ref().is_empty()
                || !name.get_ref().chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
            {
                return Err(p.err(
                    name.span(),
                    &key,
                    "expected a policy name of lowercase letters, digits, `_` and `-`".to_owned(),
                ));
            }
            out.push(p.policy(name.get_ref(), value, &key)?);
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(PolicySet { origin: origin.to_owned(), policies: out })
    }

    /// The policy called `name`.
    pub fn get(&self, name: &str) -> Result<&Policy> {
        self.policies.iter().find(|p| p.name == name).ok_or_else(|| Error::UnknownPolicy {
            name: name.to_owned(),
            origin: self.origin.clone(),
            known: self.names().map(str::to_owned).collect(),
        })
    }

    /// The policies' names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.policies.iter().map(|p| p.name.as_str())
    }

    /// The policies, sorted by name.
    pub fn policies(&self) -> &[Policy] {
        &self.policies
    }
}

/// Walks a parsed policy file, turning each problem into an [`Error::Policy`] with its place.
struct Parser<'a> {
    origin: &'a str,
    text: &'a str,
}

impl Parser<'_> {
    fn err(&self, span: Range<usize>, key: &str, message: String) -> Error {
        let (line, column) = line_column(self.text, span.start);
        Error::Policy { origin: self.origin.to_owned(), line, column, key: key.to_owned(), message }
    }

    fn table<'v, 'i>(&self, value: &'v Spanned<DeValue<'i>>, key: &str) -> Result<&'v DeTable<'i>> {
        value.get_ref().as_table().ok_or_else(|| {
            self.err(value.span(), key, format!("expected a table; found {}", describe(value.get_ref())))
        })
    }

    fn only_keys(&self, table: &DeTable<'_>, prefix: &str, allowed: &[&str]) -> Result<()> {
        for (k, _) in table.iter() {
            if !allowed.contains(&k.get_ref().as_ref()) {
                let key = if prefix.is_empty() { k.get_ref().to_string() } else { format!("{prefix}.{}", k.get_ref()) };
                let list = allowed.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ");
                return Err(self.err(k.span(), &key, format!("unknown key; expected one of {list}")));
            }
        }
        Ok(())
    }

    fn policy(&self, name: &str, value: &Spanned<DeValue<'_>>, key: &str) -> Result<Policy> {
        let t = self.table(value, key)?;
        self.only_keys(t, key, &["threshold", "complement", "rounding", "base"])?;
        let missing =
            |k: &str, what: &str| self.err(value.span(), &format!("{key}.{k}"), format!("missing; expected {what}"));

        let threshold_key = format!("{key}.threshold");
        let threshold = match t.get("threshold") {
            None => return Err(missing("threshold", "a whole number ≥ 0 (counts from 1 to it are suppressed)")),
            Some(v) => self.whole(v, &threshold_key, 0)?,
        };
        let complement = match t.get("complement") {
            None => true,
            Some(v) => v.get_ref().as_bool().ok_or_else(|| {
                self.err(
                    v.span(),
                    &format!("{key}.complement"),
                    format!("expected true or false; found {}", describe(v.get_ref())),
                )
            })?,
        };
        let rounding_key = format!("{key}.rounding");
        let Some(mode) = t.get("rounding") else {
            return Err(missing("rounding", "\"none\", \"nearest\" or \"midpoint\""));
        };
        let base_key = format!("{key}.base");
        let base = t.get("base");
        let rounding = match mode.get_ref().as_str() {
            Some("none") => {
                if let Some(b) = base {
                    return Err(self.err(
                        b.span(),
                        &base_key,
                        "not allowed with `rounding = \"none\"`; remove it".to_owned(),
                    ));
                }
                Rounding::None
            }
            Some(m @ ("nearest" | "midpoint")) => {
                let Some(b) = base else {
                    return Err(missing("base", &format!("a whole number ≥ 2 to round to (`rounding = \"{m}\"`)")));
                };
                let base = self.whole(b, &base_key, 2)?;
                if m == "nearest" { Rounding::Nearest { base } } else { Rounding::Midpoint { base } }
            }
            _ => {
                return Err(self.err(
                    mode.span(),
                    &rounding_key,
                    format!("expected \"none\", \"nearest\" or \"midpoint\"; found {}", describe(mode.get_ref())),
                ));
            }
        };
        Policy::new(name, threshold, complement, rounding)
    }

    /// A non-negative whole number of at least `min`.
    fn whole(&self, value: &Spanned<DeValue<'_>>, key: &str, min: u64) -> Result<u64> {
        let expected = format!("a whole number ≥ {min}");
        let n = value.get_ref().as_integer().and_then(|i| u64::from_str_radix(i.as_str(), i.radix()).ok()).ok_or_else(
            || self.err(value.span(), key, format!("expected {expected}; found {}", describe(value.get_ref()))),
        )?;
        if n < min {
            return Err(self.err(value.span(), key, format!("expected {expected}; found {n}")));
        }
        Ok(n)
    }
}

/// A TOML value as it would be written, for "found …" in messages.
fn describe(value: &DeValue<'_>) -> String {
    match value {
        DeValue::String(s) => format!("the string {s:?}"),
        DeValue::Integer(i) => format!("the integer {i}"),
        DeValue::Float(f) => format!("the number {}", f.as_str()),
        DeValue::Boolean(b) => format!("{b}"),
        DeValue::Datetime(d) => format!("the date-time {d}"),
        DeValue::Array(_) => "an array".to_owned(),
        DeValue::Table(_) => "a table".to_owned(),
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_from_one() {
        assert_eq!(line_column("ab\ncd", 0), (1, 1));
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_column("é\nx", 3), (2, 1));
    }
}
