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

/// The files read while loading a definition.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    /// (path as shown, text).
    pub files: Vec<(PathBuf, String)>,
}

impl Sources {
    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, file: FileId, offset: usize) -> (usize, usize) {
        let text = &self.files[file].1;
        let offset = offset.min(text.len());
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
        (line, col)
    }

    /// Render diagnostics as plain text: `error: message`, `--> file:line:col`, the source
    /// line with a caret under the span, and the help.
    pub fn render(&self, diags: &[Diagnostic]) -> String {
        let mut out = String::new();
        for d in diags {
            out.push_str(&self.render_one(d));
            out.push('\n');
        }
        out
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
        let line_text = text.lines().nth(line - 1).unwrap_or("");
        let width = line.to_string().len();
        let pad = " ".repeat(width);
        let caret_len = {
            let (end_line, end_col) = self.line_col(d.file, d.span.end.max(d.span.start));
            if end_line == line { (end_col.saturating_sub(col)).max(1) } else { line_text.chars().count().saturating_sub(col - 1).max(1) }
        };
        let mut s = format!("{kind}: {}\n{pad}--> {}:{line}:{col}\n{pad} |\n{line} | {line_text}\n{pad} | {}{}", d.message, path.display(), " ".repeat(col - 1), "^".repeat(caret_len));
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
