//! Diagnostics: a message, a span with a label, and a suggestion a non-programmer can act on.

use std::path::PathBuf;

use crate::ast::{FileId, Span};

/// How bad.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The definition cannot run.
    Error,
    /// It runs, but look.
    Warning,
}

/// One problem in a definition.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// How bad.
    pub severity: Severity,
    /// File index into [`Sources`].
    pub file: FileId,
    /// Where.
    pub span: Span,
    /// What is wrong.
    pub message: String,
    /// Text under the caret.
    pub label: Option<String>,
    /// What to do.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error.
    pub fn error(file: FileId, span: Span, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Error, file, span, message: message.into(), label: None, help: None }
    }

    /// A warning.
    pub fn warning(file: FileId, span: Span, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Warning, ..Self::error(file, span, message) }
    }

    /// Add a suggestion.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Add a label under the caret.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }
}

/// At most this many diagnostics are kept; the rest are counted by severity. A file is at
/// most 1 MiB, but could hold half a million one-character mistakes.
pub const MAX_KEPT: usize = MAX_RENDERED;

/// Where loading puts diagnostics: the first [`MAX_KEPT`], and a count of the rest.
#[derive(Debug, Default)]
pub(crate) struct Diags {
    pub list: Vec<Diagnostic>,
    pub more_errors: usize,
    pub more_warnings: usize,
}

impl Diags {
    pub fn push(&mut self, d: Diagnostic) {
        if self.list.len() < MAX_KEPT {
            self.list.push(d);
        } else if d.severity == Severity::Error {
            self.more_errors += 1;
        } else {
            self.more_warnings += 1;
        }
    }

    /// How many have been pushed, kept or not.
    pub fn len(&self) -> usize {
        self.list.len() + self.more_errors + self.more_warnings
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a further diagnostic would not be kept (so not worth a costly suggestion).
    pub fn full(&self) -> bool {
        self.list.len() >= MAX_KEPT
    }

    pub fn has_errors(&self) -> bool {
        self.more_errors > 0 || self.list.iter().any(|d| d.severity == Severity::Error)
    }
}

/// The files read while loading a definition.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    /// (path as shown, text).
    pub files: Vec<(PathBuf, String)>,
    /// For each file added with [`Sources::add`], the byte offset where each line starts:
    /// built once, so locating a diagnostic is a binary search, not a scan from the start.
    line_starts: Vec<Vec<usize>>,
}

/// At most this many diagnostics are rendered; the rest are counted ("and N more").
pub const MAX_RENDERED: usize = 100;

/// A source line longer than this many characters is shown as a window around the caret.
const MAX_LINE_SHOWN: usize = 120;

impl Sources {
    /// Add a file; its id.
    pub fn add(&mut self, path: PathBuf, text: String) -> FileId {
        let starts = std::iter::once(0)
            .chain(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1))
            .collect();
        // Files pushed straight onto `files` have no index; give them an empty one.
        self.line_starts.resize(self.files.len(), Vec::new());
        self.line_starts.push(starts);
        self.files.push((path, text));
        self.files.len() - 1
    }

    /// The 1-based line of a byte offset, and the offset where that line starts.
    fn line_start(&self, file: FileId, offset: usize) -> (usize, usize) {
        let text = &self.files[file].1;
        let offset = offset.min(text.len());
        match self.line_starts.get(file).filter(|s| !s.is_empty()) {
            Some(starts) => {
                let line = starts.partition_point(|&s| s <= offset);
                (line, starts[line - 1])
            }
            None => {
                let before = &text.as_bytes()[..offset];
                let line = before.iter().filter(|b| **b == b'\n').count() + 1;
                (line, before.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1))
            }
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, file: FileId, offset: usize) -> (usize, usize) {
        let text = &self.files[file].1;
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let (line, start) = self.line_start(file, offset);
        (line, text[start..offset].chars().count() + 1)
    }

    /// Render diagnostics as plain text: `error: message`, `--> file:line:col`, the source
    /// line with a caret under the span, and the help. At most [`MAX_RENDERED`] are shown, then
    /// how many more there are.
    pub fn render(&self, diags: &[Diagnostic]) -> String {
        let mut out = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = self.render_to(diags, (0, 0), &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// [`Sources::render`], written to `out` one diagnostic at a time; `more` counts errors and
    /// warnings found but not kept, to be added to the "and N more".
    ///
    /// # Errors
    /// Only those of `out`.
    pub fn render_to(
        &self,
        diags: &[Diagnostic],
        more: (usize, usize),
        out: &mut dyn std::io::Write,
    ) -> std::io::Result<()> {
        for d in diags.iter().take(MAX_RENDERED) {
            writeln!(out, "{}", self.render_one(d))?;
        }
        let rest = diags.get(MAX_RENDERED..).unwrap_or_default();
        let errors = rest.iter().filter(|d| d.severity == Severity::Error).count() + more.0;
        let warnings = rest.len() - (errors - more.0) + more.1;
        if errors + warnings > 0 {
            let count = |n: usize, what: &str| format!("{n} more {what}{}", if n == 1 { "" } else { "s" });
            let more = match (errors, warnings) {
                (e, 0) => count(e, "error"),
                (0, w) => count(w, "warning"),
                (e, w) => format!("{} and {}", count(e, "error"), count(w, "warning")),
            };
            writeln!(out, "... and {more} not shown (the first {MAX_RENDERED} are above; fix them and check again)\n")?;
        }
        Ok(())
    }

    /// One diagnostic.
    pub fn render_one(&self, d: &Diagnostic) -> String {
        let kind = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let Some((path, text)) = self.files.get(d.file) else {
            return format!("{kind}: {}\n", d.message);
        };
        let (line, col) = self.line_col(d.file, d.span.start);
        let (_, start) = self.line_start(d.file, d.span.start);
        let line_text = text[start..].split('\n').next().unwrap_or("").trim_end_matches('\r');
        let width = line.to_string().len();
        let pad = " ".repeat(width);
        let caret_len = {
            let (end_line, end_col) = self.line_col(d.file, d.span.end.max(d.span.start));
            if end_line == line {
                (end_col.saturating_sub(col)).max(1)
            } else {
                line_text.chars().count().saturating_sub(col - 1).max(1)
            }
        };
        // A long line (a generated file, or everything on one line) is shown around the caret.
        let (shown, caret_at, caret_len) = window(line_text, col - 1, caret_len);
        let mut s = format!(
            "{kind}: {}\n{pad}--> {}:{line}:{col}\n{pad} |\n{line} | {shown}\n{pad} | {}{}",
            d.message,
            path.display(),
            " ".repeat(caret_at),
            "^".repeat(caret_len)
        );
        if let Some(label) = &d.label {
            s.push(' ');
            s.push_str(label);
        }
        s.push('\n');
        if let Some(help) = &d.help {
            s.push_str(&format!("{pad} = help: {help}\n"));
        }
        s
    }

    /// Diagnostics as JSON values (for the API): file, line, column, message, help.
    pub fn to_json(&self, diags: &[Diagnostic]) -> serde_json::Value {
        serde_json::Value::Array(
            diags
                .iter()
                .map(|d| {
                    let (line, column) = self.line_col(d.file, d.span.start);
                    serde_json::json!({
                        "severity": d.severity,
                        "file": self.files.get(d.file).map(|f| f.0.display().to_string()),
                        "line": line,
                        "column": column,
                        "message": d.message,
                        "label": d.label,
                        "help": d.help,
                    })
                })
                .collect(),
        )
    }
}

/// The largest char boundary at or before `i`.
fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The part of `line` to show with a caret at character `at` of `len` characters: the whole
/// line if it is short, else [`MAX_LINE_SHOWN`] characters around the caret with `…` where
/// it was cut. Returns the text, the caret's position in it and its length.
fn window(line: &str, at: usize, len: usize) -> (String, usize, usize) {
    let total = line.chars().count();
    if total <= MAX_LINE_SHOWN {
        return (line.to_owned(), at, len);
    }
    let from = at.saturating_sub(MAX_LINE_SHOWN / 3).min(total.saturating_sub(MAX_LINE_SHOWN));
    let to = (from + MAX_LINE_SHOWN).min(total);
    let mut shown: String = line.chars().skip(from).take(to - from).collect();
    let mut caret_at = at - from;
    if from > 0 {
        shown.insert(0, '…');
        caret_at += 1;
    }
    if to < total {
        shown.push('…');
    }
    (shown, caret_at, len.min(to.saturating_sub(at)).max(1))
}
