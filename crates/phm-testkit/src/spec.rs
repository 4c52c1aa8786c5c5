//! Spec files: the language's test suite, which is also its reference manual.
//!
//! Each file under `spec/<chapter>/<feature>.phmt` documents one feature: a title, prose,
//! small input tables and a list of cases, each an expression with the result expected for
//! every person. [`run_file`] runs every case on the DataFusion engine (`phm-engine`) **and**
//! on the naive [`reference`](crate::reference) evaluator and checks both give the expected
//! table; [`markdown`] renders the same files as `docs/language.md`. The chapters and their
//! order are listed in `spec/toc.txt`.
//!
//! # The format
//!
//! ```text
//! title: Picking the first or last matching event
//! index_date: 2024-03-31
//!
//! Prose introducing the feature (Markdown; becomes the section text).
//!
//! codelist diabetes = 44054006, 73211009
//! codelist ckd: icd10 = N18.3, N18.4
//!
//! table person
//!   person | sex    | year_of_birth | month_of_birth
//!   1      | female | 1950          | 6
//!   2      | male   | 1980          |
//!
//! table condition
//!   person | code     | date
//!   1      | 44054006 | 2019-03-01
//!
//! let diabetes_rows = condition where code in diabetes
//! population = year_of_birth < 1990
//!
//! ## The earliest event wins
//! People with no matching event get a missing value.
//! define
//!   first(diabetes_rows).date
//! ----
//! person | value
//! 1      | 2019-03-01
//! 2      | missing
//!
//! ## A misspelt name is reported
//! define
//!   agee
//! ----
//! error: unknown name `agee`
//! help: did you mean `age`?
//! ```
//!
//! - `title:` and `index_date:` come first. Prose is any other line that starts in the first
//!   column; a blank line ends a paragraph.
//! - `codelist NAME[: SYSTEM] = code, code, …` declares a codelist inline (system `snomed`
//!   unless given). `table NAME` is followed by indented rows in the notation of
//!   [`crate::tables`] (`person` is `person_id`, an empty cell is missing, unlisted columns
//!   take defaults). `let NAME = …` and `population = …` are as in a definition file, with
//!   indented continuation lines. Without a `population` everyone in `person` is included.
//! - `## Title` starts a case. A case may add its own prose, `index_date:`, codelists, tables
//!   (a case's table replaces the file's table of the same name), `let`s and `population`.
//!   `define` (a column `value`) or `define NAME` is followed by the indented expression; a
//!   case may define several columns.
//! - `----` is followed by the expected table, headed `person` and the defined columns, one
//!   row per person in the population (none for an empty population). Cells are `missing`,
//!   `true`/`false`, numbers, dates `YYYY-MM-DD` or text (optionally in double quotes);
//!   decimals match within a relative 1e-9. Or it is followed by lines each of which must
//!   appear in the rendered diagnostics, the first starting `error:`: the definition must be
//!   rejected.
//! - Instead of `define`s, a case may give one block, `indicator`, `measure` or `cohort`,
//!   followed by its fields on indented lines as in a definition file (`NAME = …`, deeper
//!   indented lines continuing a field). The case is bound by `phm_lang::load_str` on a
//!   synthesised definition file (the `let`s, the codelists written to a temporary folder
//!   as CSV files, and the block), so the checks and rewrites of a real file apply (such as
//!   the national data opt-out in every denominator).
//!   - `indicator` (`denominator`, `numerator`, `method`, `multiplier`, `breakdowns`): the
//!     expected table has the columns `breakdown` and `category`, and any of `numerator`,
//!     `denominator`, `value` (`missing` for a zero denominator) and `index_date`, one row
//!     per breakdown and category (in any order; `all` / `all` for everyone). The case may not
//!     have a `population`.
//!   - `measure`: the indicator's fields and `intervals = monthly from … to …`; as an
//!     indicator, at the index date of every period, so `index_date` is a required column.
//!   - `cohort`: a cohort with `events = …` and optionally `event_columns = (…)` (and
//!     `population`, else the case's or file's, else everyone). The expected table is headed
//!     `person` and the event columns, one row per extracted event, in the output's order
//!     (person, then the table's sort order).
//!
//! ```text
//! ## Breakdowns count the denominator in every category
//! indicator
//!   denominator = age >= 18
//!   numerator = exists(condition where code in asthma)
//!   breakdowns = (sex)
//! ----
//! breakdown | category | numerator | denominator
//! all       | all      | 1         | 3
//! sex       | female   | 1         | 2
//! sex       | male     | 0         | 1
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use chrono::NaiveDate;
use datafusion::arrow::array::RecordBatch;
use phm_engine::{IndicatorRow, Periods};
use phm_model::{CodelistRef, Cohort, Column, EventTable, Indicator, Lookups, Measure, PExpr, Type, Value};

use crate::reference;
use crate::tables::table_from_text;

/// The file listing chapters and their spec files, in order, under the spec root.
pub const TOC: &str = "toc.txt";

/// One spec file.
#[derive(Clone, Debug)]
pub struct SpecFile {
    /// Path as shown in messages (e.g. `spec/events/first_and_last.phmt`).
    pub path: String,
    /// Section title.
    pub title: String,
    /// Index date of every case that does not set its own.
    pub index_date: NaiveDate,
    /// Prose paragraphs.
    pub prose: Vec<String>,
    /// Codelists, tables, `let`s and population shared by the cases.
    pub setup: Setup,
    /// The cases, in file order.
    pub cases: Vec<Case>,
}

/// Inputs declared by a file or a case.
#[derive(Clone, Debug, Default)]
pub struct Setup {
    /// Inline codelists.
    pub codelists: Vec<CodelistDecl>,
    /// Input tables.
    pub tables: Vec<TableDecl>,
    /// `let` lines.
    pub lets: Vec<Snippet>,
    /// `population = …`.
    pub population: Option<Snippet>,
}

impl Setup {
    fn is_empty(&self) -> bool {
        self.codelists.is_empty() && self.tables.is_empty() && self.lets.is_empty() && self.population.is_none()
    }
}

/// `codelist NAME[: SYSTEM] = code, …`.
#[derive(Clone, Debug)]
pub struct CodelistDecl {
    /// Name.
    pub name: String,
    /// Code system.
    pub system: String,
    /// Codes, as written.
    pub codes: Vec<String>,
    /// Line (1-based).
    pub line: usize,
}

/// `table NAME` and its rows.
#[derive(Clone, Debug)]
pub struct TableDecl {
    /// Table name.
    pub name: String,
    /// The indented lines, unindented.
    pub rows: Vec<String>,
    /// Line of `table NAME` (1-based).
    pub line: usize,
}

/// A named expression (`let`, `population`, `define`).
#[derive(Clone, Debug)]
pub struct Snippet {
    /// Name (`population` for the population, the column name for a `define`).
    pub name: String,
    /// Expression text (continuation lines joined with newlines).
    pub expr: String,
    /// Line (1-based).
    pub line: usize,
}

/// One case of a spec file.
#[derive(Clone, Debug)]
pub struct Case {
    /// Title (after `##`).
    pub title: String,
    /// Line of the title.
    pub line: usize,
    /// Prose paragraphs.
    pub prose: Vec<String>,
    /// Index date, if it differs from the file's.
    pub index_date: Option<NaiveDate>,
    /// Inputs added by the case.
    pub setup: Setup,
    /// The columns defined.
    pub defines: Vec<Snippet>,
    /// An `indicator`, `measure` or `cohort` block, instead of `define`s.
    pub block: Option<Block>,
    /// What should happen.
    pub expected: Expected,
}

/// The kind of a case's block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    /// `indicator`: the expected table has a row per breakdown and category.
    Indicator,
    /// `measure`: as an indicator, at the index date of every period of `intervals`.
    Measure,
    /// `cohort` with `events`: the expected table has a row per extracted event.
    Cohort,
}

impl BlockKind {
    fn keyword(self) -> &'static str {
        match self {
            BlockKind::Indicator => "indicator",
            BlockKind::Measure => "measure",
            BlockKind::Cohort => "cohort",
        }
    }
}

/// An `indicator`, `measure` or `cohort` block of a case: its fields as written in a
/// definition file (`NAME = …`, or `column NAME = …`), one field per line at the block's
/// indentation, deeper-indented lines continuing it.
#[derive(Clone, Debug)]
pub struct Block {
    /// Which block.
    pub kind: BlockKind,
    /// Fields: name (`column NAME` for a cohort column) and the text after `=`.
    pub fields: Vec<Snippet>,
    /// Line of the keyword.
    pub line: usize,
}

impl Block {
    fn field(&self, name: &str) -> Option<&Snippet> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// The columns an indicator or measure's expected table may have.
pub const INDICATOR_COLUMNS: [&str; 6] = ["index_date", "breakdown", "category", "numerator", "denominator", "value"];

/// The expected outcome of a case.
#[derive(Clone, Debug)]
pub enum Expected {
    /// The cohort: one row per person.
    Rows {
        /// Header cells (`person`, then the defined columns).
        header: Vec<String>,
        /// (line, cells) per row.
        rows: Vec<(usize, Vec<String>)>,
        /// Line of `----`.
        line: usize,
    },
    /// The definition is rejected; each line must appear in the rendered diagnostics.
    Error {
        /// Lines to find.
        lines: Vec<String>,
        /// Line of `----`.
        line: usize,
    },
}

/// A chapter: a folder of spec files.
#[derive(Clone, Debug)]
pub struct Chapter {
    /// Folder name.
    pub folder: String,
    /// Title.
    pub title: String,
    /// Prose under the chapter heading.
    pub prose: String,
    /// Files, in table-of-contents order.
    pub files: Vec<SpecFile>,
}

// ---------------------------------------------------------------------------------------
// Parsing.

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_indented(line: &str) -> bool {
    line.starts_with(' ') || line.starts_with('\t')
}

/// The cells of a table line. A table whose header starts with `|` has borders (`| a | b |`);
/// otherwise every `|` separates cells, so a row ending in `|` has an empty last cell.
fn split_cells(line: &str, bordered: bool) -> Vec<String> {
    let mut t = line.trim();
    if bordered {
        t = t.strip_prefix('|').unwrap_or(t);
        t = t.strip_suffix('|').unwrap_or(t);
    }
    t.split('|').map(|c| c.trim().to_owned()).collect()
}

fn is_separator(line: &str) -> bool {
    line.chars().all(|c| matches!(c, '-' | '|' | ':' | '+' | ' '))
}

/// Table lines as (header, rows), skipping separator lines under the header.
fn table_cells<'a>(lines: impl IntoIterator<Item = &'a str>) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = lines.into_iter().filter(|l| !l.trim().is_empty() && !is_separator(l.trim()));
    let Some(first) = lines.next() else { return (Vec::new(), Vec::new()) };
    let bordered = first.trim().starts_with('|');
    (split_cells(first, true), lines.map(|l| split_cells(l, bordered)).collect())
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok().filter(|_| s.trim().len() == 10)
}

struct Lines<'a> {
    lines: Vec<&'a str>,
    pos: usize,
    path: &'a str,
}

impl<'a> Lines<'a> {
    fn err(&self, line: usize, msg: impl std::fmt::Display) -> String {
        format!("{}:{line}: {msg}", self.path)
    }

    /// The indented lines that follow (continuation or block lines), without their common
    /// indentation (so nested indentation is kept) or trailing spaces.
    fn indented(&mut self) -> Vec<(usize, &'a str)> {
        let mut out = Vec::new();
        while let Some(&l) = self.lines.get(self.pos) {
            if l.trim().is_empty() || !is_indented(l) {
                break;
            }
            out.push((self.pos + 1, l.trim_end()));
            self.pos += 1;
        }
        let common = out.iter().map(|(_, l)| l.len() - l.trim_start().len()).min().unwrap_or(0);
        out.into_iter().map(|(n, l)| (n, &l[common..])).collect()
    }
}

/// `NAME = expr` after a keyword (`let`) or `population = expr`, with continuation lines.
fn snippet(lines: &mut Lines<'_>, line: usize, name: &str, rest: &str) -> Result<Snippet, String> {
    let mut expr = rest.trim().to_owned();
    for (_, l) in lines.indented() {
        expr.push('\n');
        expr.push_str(l);
    }
    if expr.trim().is_empty() {
        return Err(lines.err(line, format!("`{name}` has no expression after `=`")));
    }
    Ok(Snippet { name: name.to_owned(), expr: expr.trim().to_owned(), line })
}

/// Try a setup line (`codelist`, `table`, `let`, `population`); `Ok(false)` if the line has
/// none of their shapes (it is then prose, so prose may start with these words).
fn setup_line(lines: &mut Lines<'_>, line: usize, text: &str, setup: &mut Setup) -> Result<bool, String> {
    if let Some((lhs, codes)) = text.strip_prefix("codelist ").and_then(|r| r.split_once('=')) {
        let (name, system) = match lhs.split_once(':') {
            Some((n, s)) => (n.trim(), s.trim()),
            None => (lhs.trim(), "snomed"),
        };
        if !is_ident(name) || !is_ident(system) {
            return Ok(false);
        }
        let codes: Vec<String> = codes.split(',').map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect();
        if codes.is_empty() {
            return Err(lines.err(line, format!("codelist `{name}` lists no codes")));
        }
        if setup.codelists.iter().any(|c| c.name == name) {
            return Err(lines.err(line, format!("codelist `{name}` is declared twice")));
        }
        setup.codelists.push(CodelistDecl { name: name.to_owned(), system: system.to_owned(), codes, line });
        return Ok(true);
    }
    if let Some(name) = text.strip_prefix("table ").map(str::trim).filter(|n| is_ident(n)) {
        if name != "person" && EventTable::from_name(name).is_none() {
            let all: Vec<&str> = std::iter::once("person").chain(EventTable::ALL.iter().map(|t| t.name())).collect();
            return Err(lines.err(line, format!("no table `{name}` (the tables are {})", all.join(", "))));
        }
        if setup.tables.iter().any(|t| t.name == name) {
            return Err(lines.err(line, format!("table `{name}` is given twice")));
        }
        let rows: Vec<String> = lines.indented().into_iter().map(|(_, l)| l.to_owned()).collect();
        if rows.is_empty() {
            return Err(lines.err(
                line,
                format!("table `{name}` needs indented lines: a header naming the columns, then one line per row"),
            ));
        }
        setup.tables.push(TableDecl { name: name.to_owned(), rows, line });
        return Ok(true);
    }
    if let Some((name, expr)) =
        text.strip_prefix("let ").and_then(|r| r.split_once('=')).filter(|(n, _)| is_ident(n.trim()))
    {
        let s = snippet(lines, line, name.trim(), expr)?;
        setup.lets.push(s);
        return Ok(true);
    }
    if let Some(expr) = text.strip_prefix("population").and_then(|r| r.trim_start().strip_prefix('=')) {
        if setup.population.is_some() {
            return Err(lines.err(line, "`population` is given twice"));
        }
        setup.population = Some(snippet(lines, line, "population", expr)?);
        return Ok(true);
    }
    Ok(false)
}

fn push_prose(paragraphs: &mut Vec<String>, current: &mut Vec<String>) {
    if !current.is_empty() {
        paragraphs.push(current.join("\n"));
        current.clear();
    }
}

/// Parse a spec file. Errors name the file and line.
pub fn parse(path: &str, text: &str) -> Result<SpecFile, String> {
    let mut lines = Lines { lines: text.lines().collect(), pos: 0, path };
    let mut title = None;
    let mut index_date = None;
    let mut prose = Vec::new();
    let mut paragraph = Vec::new();
    let mut setup = Setup::default();
    // File header, up to the first case.
    while let Some(&l) = lines.lines.get(lines.pos) {
        let line = lines.pos + 1;
        if l.starts_with("## ") {
            break;
        }
        lines.pos += 1;
        if l.trim().is_empty() {
            push_prose(&mut prose, &mut paragraph);
            continue;
        }
        if is_indented(l) {
            return Err(lines.err(line, "an indented line must follow `table`, `let`, `population` or `define`"));
        }
        if let Some(t) = l.strip_prefix("title:") {
            if title.is_some() {
                return Err(lines.err(line, "`title:` is given twice"));
            }
            title = Some(t.trim().to_owned());
            continue;
        }
        if let Some(d) = l.strip_prefix("index_date:") {
            index_date = Some(
                parse_date(d).ok_or_else(|| lines.err(line, format!("`{}` is not a date (YYYY-MM-DD)", d.trim())))?,
            );
            continue;
        }
        if setup_line(&mut lines, line, l, &mut setup)? {
            push_prose(&mut prose, &mut paragraph);
            continue;
        }
        if l.trim() == "----" || l.trim() == "define" {
            return Err(lines.err(line, "start a case with `## Title` before `define` and `----`"));
        }
        paragraph.push(l.trim_end().to_owned());
    }
    push_prose(&mut prose, &mut paragraph);
    let title = title.ok_or_else(|| lines.err(1, "the file must start with `title: …`"))?;
    let index_date = index_date.ok_or_else(|| lines.err(1, "the file must give `index_date: YYYY-MM-DD`"))?;
    let mut cases = Vec::new();
    while lines.pos < lines.lines.len() {
        cases.push(parse_case(&mut lines)?);
    }
    if cases.is_empty() {
        return Err(lines.err(lines.lines.len().max(1), "no cases: add `## Title`, `define` and `----`"));
    }
    Ok(SpecFile { path: path.to_owned(), title, index_date, prose, setup, cases })
}

fn parse_case(lines: &mut Lines<'_>) -> Result<Case, String> {
    let line = lines.pos + 1;
    let title = lines.lines[lines.pos].trim_start_matches('#').trim().to_owned();
    if title.is_empty() {
        return Err(lines.err(line, "a case needs a title after `##`"));
    }
    lines.pos += 1;
    let mut prose = Vec::new();
    let mut paragraph = Vec::new();
    let mut setup = Setup::default();
    let mut index_date = None;
    let mut defines: Vec<Snippet> = Vec::new();
    let mut block: Option<Block> = None;
    let mut expected = None;
    while let Some(&l) = lines.lines.get(lines.pos) {
        let at = lines.pos + 1;
        if l.starts_with("## ") {
            break;
        }
        lines.pos += 1;
        if l.trim().is_empty() {
            push_prose(&mut prose, &mut paragraph);
            continue;
        }
        if expected.is_some() {
            return Err(lines.err(at, "nothing may follow a case's expected result: start the next case with `## Title`, or end the table without a blank line"));
        }
        if is_indented(l) {
            return Err(lines.err(at, "an indented line must follow `table`, `let`, `population` or `define`"));
        }
        if l.trim() == "----" {
            if defines.is_empty() && block.is_none() {
                return Err(
                    lines.err(at, "`----` must follow a `define` (or an `indicator`, `measure` or `cohort` block)")
                );
            }
            expected = Some(parse_expected(lines, at)?);
            continue;
        }
        if block.is_some() {
            return Err(lines.err(at, "after an `indicator`, `measure` or `cohort` block only `----` may follow"));
        }
        if let Some(kind) = [BlockKind::Indicator, BlockKind::Measure, BlockKind::Cohort]
            .into_iter()
            .find(|k| l.trim_end() == k.keyword())
        {
            if !defines.is_empty() {
                return Err(
                    lines.err(at, format!("a case has either `define`s or an `{}` block, not both", kind.keyword()))
                );
            }
            block = Some(parse_block(lines, at, kind)?);
            continue;
        }
        if let Some(rest) =
            l.strip_prefix("define").filter(|r| r.trim().is_empty() || (r.starts_with(' ') && is_ident(r.trim())))
        {
            let name = rest.trim();
            let name = if name.is_empty() { "value" } else { name };
            if name == "person" {
                return Err(lines.err(at, "`person` cannot name a column: it is the first column of every result"));
            }
            if defines.iter().any(|d| d.name == name) {
                return Err(lines.err(at, format!("the column `{name}` is defined twice")));
            }
            let body = lines.indented();
            if body.is_empty() {
                return Err(lines.err(at, "`define` needs the expression on the indented lines below it"));
            }
            let expr = body.iter().map(|(_, t)| *t).collect::<Vec<_>>().join("\n");
            defines.push(Snippet { name: name.to_owned(), expr, line: at });
            continue;
        }
        if !defines.is_empty() {
            return Err(lines.err(at, "after `define` only another `define` or `----` may follow"));
        }
        if let Some(d) = l.strip_prefix("index_date:") {
            index_date =
                Some(parse_date(d).ok_or_else(|| lines.err(at, format!("`{}` is not a date (YYYY-MM-DD)", d.trim())))?);
            continue;
        }
        if setup_line(lines, at, l, &mut setup)? {
            push_prose(&mut prose, &mut paragraph);
            continue;
        }
        if l.starts_with("title:") {
            return Err(lines.err(at, "`title:` belongs at the top of the file"));
        }
        paragraph.push(l.trim_end().to_owned());
    }
    push_prose(&mut prose, &mut paragraph);
    let Some(expected) = expected else {
        return Err(lines.err(line, format!("case \"{title}\" has no `----` and expected result")));
    };
    if let (Some(b), Expected::Rows { header, line: at, .. }) = (&block, &expected) {
        match b.kind {
            BlockKind::Indicator | BlockKind::Measure => {
                if let Some(bad) = header.iter().find(|h| !INDICATOR_COLUMNS.contains(&h.as_str())) {
                    return Err(lines.err(
                        *at + 1,
                        format!(
                            "`{bad}` is not a column of an indicator's result (they are {})",
                            INDICATOR_COLUMNS.join(", ")
                        ),
                    ));
                }
                let need: &[&str] = if b.kind == BlockKind::Measure {
                    &["index_date", "breakdown", "category"]
                } else {
                    &["breakdown", "category"]
                };
                if let Some(n) = need.iter().find(|n| !header.iter().any(|h| h == *n)) {
                    return Err(lines.err(*at + 1, format!("the expected table needs the column `{n}`")));
                }
            }
            BlockKind::Cohort => {
                if header.first().map(String::as_str) != Some("person") {
                    return Err(lines.err(*at + 1, "the expected table's first column must be `person`"));
                }
            }
        }
    } else if let Expected::Rows { header, line: at, .. } = &expected {
        let want: Vec<&str> = std::iter::once("person").chain(defines.iter().map(|d| d.name.as_str())).collect();
        if header.iter().map(String::as_str).collect::<Vec<_>>() != want {
            return Err(lines.err(*at + 1, format!("the expected table's header must be `{}`", want.join(" | "))));
        }
    }
    Ok(Case { title, line, prose, index_date, setup, defines, block, expected })
}

/// The indented fields of an `indicator`, `measure` or `cohort` block.
fn parse_block(lines: &mut Lines<'_>, line: usize, kind: BlockKind) -> Result<Block, String> {
    let body = lines.indented();
    if body.is_empty() {
        return Err(lines.err(
            line,
            format!(
                "`{}` needs its fields on the indented lines below it, e.g. `denominator = age >= 18`",
                kind.keyword()
            ),
        ));
    }
    let mut fields: Vec<Snippet> = Vec::new();
    for (at, l) in body {
        if is_indented(l) {
            let Some(f) = fields.last_mut() else {
                return Err(lines.err(at, "a continuation line must follow a field"));
            };
            f.expr.push('\n');
            f.expr.push_str(l.trim());
            continue;
        }
        let Some((name, value)) = l.split_once('=') else {
            return Err(lines.err(at, "write each field as `NAME = …`"));
        };
        let name = name.trim();
        let ok = is_ident(name) || name.strip_prefix("column ").is_some_and(|n| is_ident(n.trim()));
        if !ok {
            return Err(lines.err(at, format!("`{name}` is not a field name")));
        }
        if fields.iter().any(|f| f.name == name) {
            return Err(lines.err(at, format!("the field `{name}` is given twice")));
        }
        fields.push(Snippet { name: name.to_owned(), expr: value.trim().to_owned(), line: at });
    }
    if kind == BlockKind::Cohort && !fields.iter().any(|f| f.name == "events") {
        return Err(lines.err(
            line,
            "a `cohort` block in a spec file extracts events: give `events = …` (use `define` for person columns)",
        ));
    }
    if kind == BlockKind::Measure && !fields.iter().any(|f| f.name == "intervals") {
        return Err(lines.err(line, "a `measure` needs `intervals = monthly from YYYY-MM-DD to YYYY-MM-DD`"));
    }
    Ok(Block { kind, fields, line })
}

fn parse_expected(lines: &mut Lines<'_>, line: usize) -> Result<Expected, String> {
    let mut body = Vec::new();
    while let Some(&l) = lines.lines.get(lines.pos) {
        if l.trim().is_empty() || l.starts_with("## ") {
            break;
        }
        body.push((lines.pos + 1, l.trim()));
        lines.pos += 1;
    }
    let Some(&(first_line, first)) = body.first() else {
        return Err(lines.err(line, "`----` must be followed by the expected table (or `error: …`)"));
    };
    if first.starts_with("error:") {
        return Ok(Expected::Error { lines: body.iter().map(|(_, l)| (*l).to_owned()).collect(), line });
    }
    let bordered = first.starts_with('|');
    let header = split_cells(first, true);
    let mut rows = Vec::new();
    for &(at, l) in &body[1..] {
        if is_separator(l) {
            continue;
        }
        let cells = split_cells(l, bordered);
        if cells.len() != header.len() {
            return Err(lines
                .err(at, format!("{} cells, but the header on line {first_line} has {}", cells.len(), header.len())));
        }
        rows.push((at, cells));
    }
    Ok(Expected::Rows { header, rows, line })
}

/// Read `spec/toc.txt` and every file it lists.
///
/// The table of contents has one `chapter FOLDER: Title` line per chapter, optional prose
/// lines after it, and one indented file name (without `.phmt`) per spec file. Every
/// `.phmt` file under the root must be listed, and every listed file must exist.
pub fn load_dir(root: &Path) -> Result<Vec<Chapter>, Vec<String>> {
    let shown = |p: &Path| p.strip_prefix(root.parent().unwrap_or(root)).unwrap_or(p).display().to_string();
    let toc_path = root.join(TOC);
    let toc = std::fs::read_to_string(&toc_path).map_err(|e| vec![format!("{}: {e}", shown(&toc_path))])?;
    let mut errors = Vec::new();
    let mut chapters: Vec<Chapter> = Vec::new();
    let mut listed = Vec::new();
    for (i, l) in toc.lines().enumerate() {
        let at = i + 1;
        if l.trim().is_empty() || l.starts_with('#') {
            continue;
        }
        if let Some(rest) = l.strip_prefix("chapter ") {
            match rest.split_once(':') {
                Some((folder, title)) if is_ident(folder.trim()) => chapters.push(Chapter {
                    folder: folder.trim().to_owned(),
                    title: title.trim().to_owned(),
                    prose: String::new(),
                    files: Vec::new(),
                }),
                _ => errors.push(format!("{}:{at}: write `chapter FOLDER: Title`", shown(&toc_path))),
            }
            continue;
        }
        let Some(chapter) = chapters.last_mut() else {
            errors.push(format!("{}:{at}: a chapter line (`chapter FOLDER: Title`) must come first", shown(&toc_path)));
            continue;
        };
        if is_indented(l) {
            let path = root.join(&chapter.folder).join(format!("{}.phmt", l.trim()));
            listed.push(path.clone());
            match std::fs::read_to_string(&path) {
                Ok(text) => match parse(&shown(&path), &text) {
                    Ok(f) => chapter.files.push(f),
                    Err(e) => errors.push(e),
                },
                Err(e) => errors.push(format!("{}:{at}: cannot read {}: {e}", shown(&toc_path), shown(&path))),
            }
        } else {
            if !chapter.prose.is_empty() {
                chapter.prose.push('\n');
            }
            chapter.prose.push_str(l.trim_end());
        }
    }
    // Every spec file is listed.
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "phmt") && !listed.contains(&p) {
                errors.push(format!("{}: not listed in {}", shown(&p), shown(&toc_path)));
            }
        }
    }
    if errors.is_empty() { Ok(chapters) } else { Err(errors) }
}

// ---------------------------------------------------------------------------------------
// Running.

/// A codelist as the binder takes it.
fn codelist_ref(c: &CodelistDecl) -> CodelistRef {
    let mut codes = c.codes.clone();
    codes.sort();
    codes.dedup();
    let sha256 = phm_model::sha256_hex(codes.iter().map(|c| c.as_bytes()));
    CodelistRef { name: c.name.clone(), system: c.system.clone(), sha256, codes }
}

/// Everything a case runs with: the file's setup with the case's added.
struct Inputs<'a> {
    codelists: BTreeMap<String, CodelistRef>,
    lets: Vec<(String, String)>,
    population: Option<&'a Snippet>,
    tables: BTreeMap<&'a str, &'a TableDecl>,
    index_date: NaiveDate,
}

fn inputs<'a>(file: &'a SpecFile, case: &'a Case) -> Inputs<'a> {
    let mut tables = BTreeMap::new();
    for t in file.setup.tables.iter().chain(&case.setup.tables) {
        tables.insert(t.name.as_str(), t);
    }
    Inputs {
        codelists: file
            .setup
            .codelists
            .iter()
            .chain(&case.setup.codelists)
            .map(|c| (c.name.clone(), codelist_ref(c)))
            .collect(),
        lets: file.setup.lets.iter().chain(&case.setup.lets).map(|l| (l.name.clone(), l.expr.clone())).collect(),
        population: case.setup.population.as_ref().or(file.setup.population.as_ref()),
        tables,
        index_date: case.index_date.unwrap_or(file.index_date),
    }
}

/// Bind the population and columns of a case: the cohort, or the rendered diagnostics.
fn bind_case(inputs: &Inputs<'_>, case: &Case) -> Result<Cohort, String> {
    let mut errors = String::new();
    let population = match inputs.population {
        None => Some(PExpr::Value { value: Value::Bool(true), ty: Type::Bool }),
        Some(p) => match phm_lang::bind_expression(&p.expr, &inputs.codelists, &inputs.lets) {
            Ok((e, Type::Bool)) => Some(e),
            Ok((PExpr::Value { value: Value::Null, .. }, _)) => {
                Some(PExpr::Value { value: Value::Null, ty: Type::Bool })
            }
            Ok((_, t)) => {
                let _ = writeln!(errors, "error: the population must be true/false, but this is a {}", t.name());
                None
            }
            Err(e) => {
                errors.push_str(&e);
                None
            }
        },
    };
    let mut columns = Vec::new();
    for d in &case.defines {
        match phm_lang::bind_expression(&d.expr, &inputs.codelists, &inputs.lets) {
            Ok((expr, ty)) => columns.push(Column { name: d.name.clone(), expr, ty }),
            Err(e) => errors.push_str(&e),
        }
    }
    match population {
        Some(population) if errors.is_empty() => {
            Ok(Cohort { name: "spec".into(), title: case.title.clone(), population, columns, events: None })
        }
        _ => Err(errors),
    }
}

/// What a case's block binds to.
enum BoundBlock {
    Indicator(Indicator),
    Measure(Measure),
    Cohort(Cohort),
}

/// The text of a definition file holding a case's `let`s and its block, with each inline
/// codelist written to `dir` as a `code,term` CSV file.
fn block_source(inputs: &Inputs<'_>, block: &Block, dir: &Path) -> Result<String, String> {
    let mut text = String::new();
    for c in inputs.codelists.values() {
        let mut csv = String::from("code,term\n");
        for code in &c.codes {
            let _ = writeln!(csv, "{code},{code}");
        }
        let file = format!("{}.csv", c.name);
        std::fs::write(dir.join(&file), csv).map_err(|e| format!("cannot write the codelist `{}`: {e}", c.name))?;
        let _ = writeln!(text, "codelist {}: {} = \"{file}\"", c.name, c.system);
    }
    for (name, expr) in &inputs.lets {
        let _ = writeln!(text, "let {name} = {}", indent_continuation(expr));
    }
    let field = |out: &mut String, f: &Snippet| {
        let _ = writeln!(out, "  {} = {}", f.name, f.expr.replace('\n', "\n    "));
    };
    match block.kind {
        BlockKind::Indicator => {
            text.push_str("indicator spec \"spec\" {\n");
            block.fields.iter().for_each(|f| field(&mut text, f));
            text.push_str("}\n");
        }
        BlockKind::Measure => {
            text.push_str("indicator spec_indicator \"spec\" {\n");
            block.fields.iter().filter(|f| f.name != "intervals").for_each(|f| field(&mut text, f));
            text.push_str("}\nmeasure spec \"spec\" {\n  indicator = spec_indicator\n");
            block.fields.iter().filter(|f| f.name == "intervals").for_each(|f| field(&mut text, f));
            text.push_str("}\n");
        }
        BlockKind::Cohort => {
            text.push_str("cohort spec \"spec\" {\n");
            if block.field("population").is_none() {
                let population = inputs.population.map_or("true", |p| p.expr.as_str());
                let _ = writeln!(text, "  population = {}", population.replace('\n', "\n    "));
            }
            block.fields.iter().for_each(|f| field(&mut text, f));
            text.push_str("}\n");
        }
    }
    Ok(text)
}

/// Bind a case's block with `phm_lang::load_str`: the model, or the rendered diagnostics.
fn bind_block(inputs: &Inputs<'_>, block: &Block) -> Result<BoundBlock, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temporary folder: {e}"))?;
    let text = block_source(inputs, block, dir.path())?;
    let loaded = phm_lang::load_str("spec.phm", &text, dir.path());
    // Diagnostics name the file as `spec.phm`, not its temporary folder, so the rendered
    // reference does not change from run to run.
    let render = |l: &phm_lang::Loaded| {
        l.render().replace(&format!("{}{}", dir.path().display(), std::path::MAIN_SEPARATOR), "")
    };
    if loaded.has_errors() {
        return Err(render(&loaded));
    }
    let Some(mut defs) = loaded.definitions else { return Err(render(&loaded)) };
    let bound = match block.kind {
        BlockKind::Indicator => defs.indicators.pop().map(BoundBlock::Indicator),
        BlockKind::Measure => defs.measures.pop().map(BoundBlock::Measure),
        BlockKind::Cohort => defs.cohorts.pop().map(BoundBlock::Cohort),
    };
    bound.ok_or_else(|| format!("the {} block defines nothing:\n{text}", block.kind.keyword()))
}

/// Bind a case (its `define`s or its block) only to see whether it is rejected.
fn binds(inputs: &Inputs<'_>, case: &Case) -> Result<(), String> {
    match &case.block {
        Some(b) => bind_block(inputs, b).map(|_| ()),
        None => bind_case(inputs, case).map(|_| ()),
    }
}

/// The values of a table's cells (by column type), each `Err` naming the line and column.
fn expected_cells(rows: &[(usize, Vec<String>)], header: &[String], types: &[Type]) -> Result<Vec<Vec<Value>>, String> {
    rows.iter()
        .map(|(line, cells)| {
            cells
                .iter()
                .zip(header)
                .zip(types)
                .map(|((cell, h), ty)| expected_value(cell, *ty).map_err(|e| format!("line {line}: column `{h}`: {e}")))
                .collect()
        })
        .collect()
}

fn show_table(header: &[String], rows: &[Vec<Value>]) -> String {
    let rows: Vec<(String, Vec<Value>)> =
        rows.iter().map(|r| (r.first().map(show).unwrap_or_default(), r[1..].to_vec())).collect();
    show_rows(header, &rows)
}

fn tables_equal(a: &[Vec<Value>], b: &[Vec<Value>]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.len() == y.len() && x.iter().zip(y).all(|(u, v)| reference::values_match(u, v)))
}

/// Compare the engine's and the reference's tables with the expected one.
fn verdict(
    header: &[String],
    from_engine: &[Vec<Value>],
    from_reference: &[Vec<Value>],
    expected: &[Vec<Value>],
) -> Result<(), String> {
    let engine_ok = tables_equal(from_engine, expected);
    let reference_ok = tables_equal(from_reference, expected);
    if engine_ok && reference_ok {
        return Ok(());
    }
    let who = match (engine_ok, reference_ok) {
        (false, false) if tables_equal(from_engine, from_reference) => "the engine and the reference both give",
        (false, true) => "the engine gives",
        (true, false) => "the reference gives",
        _ => "the engine and the reference differ",
    };
    let mut msg = format!("{who}:\n");
    if !engine_ok {
        let _ = write!(msg, "  engine:\n{}", show_table(header, from_engine));
    }
    if !reference_ok && !who.contains("both") {
        let _ = write!(msg, "  reference:\n{}", show_table(header, from_reference));
    }
    let _ = write!(msg, "  expected:\n{}", show_table(header, expected));
    Err(msg)
}

/// Indicator rows as the expected table's columns, in (index date, breakdown, category)
/// order, with `all` first.
fn indicator_table(header: &[String], rows: &[IndicatorRow]) -> Vec<Vec<Value>> {
    let mut rows: Vec<&IndicatorRow> = rows.iter().collect();
    rows.sort_by(|a, b| {
        (a.index_date, a.breakdown != "all", &a.breakdown, &a.category).cmp(&(
            b.index_date,
            b.breakdown != "all",
            &b.breakdown,
            &b.category,
        ))
    });
    rows.iter()
        .map(|r| {
            header
                .iter()
                .map(|h| match h.as_str() {
                    "index_date" => Value::Date(r.index_date),
                    "breakdown" => Value::Text(r.breakdown.clone()),
                    "category" => Value::Text(r.category.clone()),
                    "numerator" => Value::Int(r.numerator),
                    "denominator" => Value::Int(r.denominator),
                    _ => r.value.map_or(Value::Null, Value::Float),
                })
                .collect()
        })
        .collect()
}

/// Run a case with an `indicator`, `measure` or `cohort` block.
fn run_block_case(
    file: &SpecFile,
    case: &Case,
    block: &Block,
    lookups: &Lookups,
    runtime: &tokio::runtime::Runtime,
) -> Result<(), String> {
    let inputs = inputs(file, case);
    if block.kind != BlockKind::Cohort && inputs.population.is_some() {
        return Err("an indicator or measure has no `population`: put who is counted in its `denominator`".into());
    }
    let (header, rows, bound) = match (&case.expected, bind_block(&inputs, block)) {
        (Expected::Error { lines, .. }, Err(rendered)) => {
            let missing: Vec<&String> = lines.iter().filter(|l| !rendered.contains(l.as_str())).collect();
            return if missing.is_empty() {
                Ok(())
            } else {
                Err(format!("the diagnostics do not contain {missing:?}; they are:\n{rendered}"))
            };
        }
        (Expected::Error { .. }, Ok(_)) => return Err("expected the definition to be rejected, but it binds".into()),
        (Expected::Rows { .. }, Err(rendered)) => return Err(format!("the definition does not bind:\n{rendered}")),
        (Expected::Rows { header, rows, .. }, Ok(bound)) => (header, rows, bound),
    };
    let tables = batches(file, &inputs)?;
    let engine =
        phm_engine::Engine::from_batches(tables.clone(), lookups.clone()).map_err(|e| format!("engine: {e}"))?;
    match bound {
        BoundBlock::Indicator(_) | BoundBlock::Measure(_) => {
            let (indicator, dates) = match bound {
                BoundBlock::Indicator(i) => (i, vec![inputs.index_date]),
                BoundBlock::Measure(m) => {
                    let dates = m.intervals.index_dates();
                    (m.indicator, dates)
                }
                BoundBlock::Cohort(_) => unreachable!(),
            };
            let types: Vec<Type> = header
                .iter()
                .map(|h| match h.as_str() {
                    "index_date" => Type::Date,
                    "numerator" | "denominator" => Type::Int,
                    "value" => Type::Float,
                    _ => Type::Text,
                })
                .collect();
            let mut expected = expected_cells(rows, header, &types)?;
            // The same order as the results: by index date, `all` first, breakdown, category.
            let key = |r: &Vec<Value>| {
                let get = |name: &str| header.iter().position(|h| h == name).map(|i| r[i].clone());
                let text = |v: Option<Value>| if let Some(Value::Text(s)) = v { s } else { String::new() };
                let date = match get("index_date") {
                    Some(Value::Date(d)) => d,
                    _ => inputs.index_date,
                };
                let breakdown = text(get("breakdown"));
                (date, breakdown != "all", breakdown, text(get("category")))
            };
            expected.sort_by_key(key);
            let periods = if dates.len() == 1 { Periods::One(dates[0]) } else { Periods::Many(dates.clone()) };
            let from_engine = runtime
                .block_on(engine.indicators(&[&indicator], periods))
                .map_err(|e| format!("the engine fails: {e}"))?;
            let from_reference = reference::indicators(&tables, lookups, &[&indicator], &dates);
            verdict(
                header,
                &indicator_table(header, &from_engine),
                &indicator_table(header, &from_reference),
                &expected,
            )
        }
        BoundBlock::Cohort(cohort) => {
            let Some(extract) = &cohort.events else { return Err("the cohort has no `events`".into()) };
            let want: Vec<&str> = std::iter::once("person").chain(extract.columns.iter().map(String::as_str)).collect();
            if header.iter().map(String::as_str).collect::<Vec<_>>() != want {
                return Err(format!("the expected table's header must be `{}`", want.join(" | ")));
            }
            let types: Vec<Type> = std::iter::once(Type::Text)
                .chain(extract.columns.iter().map(|c| extract.frame.table.column(c).map_or(Type::Text, |col| col.ty)))
                .collect();
            let expected = expected_cells(rows, header, &types)?;
            let from_engine = runtime
                .block_on(reference::engine_cohort_events(&engine, &cohort, inputs.index_date))
                .map_err(|e| format!("the engine fails: {e}"))?;
            let from_reference = reference::cohort_events(&tables, lookups, &cohort, inputs.index_date);
            let flat = |rows: Vec<(String, Vec<Value>)>| -> Vec<Vec<Value>> {
                rows.into_iter().map(|(id, vs)| std::iter::once(Value::Text(id)).chain(vs).collect()).collect()
            };
            verdict(header, &flat(from_engine), &flat(from_reference), &expected)
        }
    }
}

/// The input tables as record batches; a table's errors name the spec file's lines.
fn batches(file: &SpecFile, inputs: &Inputs<'_>) -> Result<BTreeMap<String, Vec<RecordBatch>>, String> {
    let mut out = BTreeMap::new();
    for (name, t) in &inputs.tables {
        // Blank lines in front keep `table_from_text`'s line numbers the file's; rows are
        // given borders so that an empty last cell is read as a cell.
        let bordered = t.rows.first().is_some_and(|h| h.trim().starts_with('|'));
        let rows: Vec<String> = t
            .rows
            .iter()
            .map(|r| {
                if is_separator(r.trim()) {
                    String::new()
                } else {
                    format!("| {} |", split_cells(r, bordered).join(" | "))
                }
            })
            .collect();
        let text = format!("{}{}", "\n".repeat(t.line), rows.join("\n"));
        let batch = table_from_text(name, &text).map_err(|e| format!("{}: {e}", file.path))?;
        out.insert((*name).to_owned(), vec![batch]);
    }
    Ok(out)
}

/// An expected cell as a value of the column's type.
fn expected_value(cell: &str, ty: Type) -> Result<Value, String> {
    if cell == "missing" {
        return Ok(Value::Null);
    }
    let bad = || format!("cannot read `{cell}` as {} (write `missing` for a missing value)", ty.name());
    Ok(match ty {
        Type::Bool => match cell {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(bad()),
        },
        Type::Int => Value::Int(cell.parse().map_err(|_| bad())?),
        Type::Float => Value::Float(cell.parse().map_err(|_| bad())?),
        Type::Date => Value::Date(parse_date(cell).ok_or_else(bad)?),
        Type::Text => {
            if cell.is_empty() {
                return Err(bad());
            }
            Value::Text(cell.strip_prefix('"').and_then(|c| c.strip_suffix('"')).unwrap_or(cell).to_owned())
        }
    })
}

/// A value as written in a spec file.
fn show(v: &Value) -> String {
    match v {
        Value::Text(s) => s.clone(),
        Value::Float(x) => format!("{x}"),
        v => v.to_string(),
    }
}

fn show_rows(columns: &[String], rows: &[(String, Vec<Value>)]) -> String {
    let mut table: Vec<Vec<String>> = vec![columns.to_vec()];
    table.extend(rows.iter().map(|(id, vs)| std::iter::once(id.clone()).chain(vs.iter().map(show)).collect()));
    let widths: Vec<usize> = (0..columns.len())
        .map(|j| table.iter().map(|r| r.get(j).map_or(0, |c| c.chars().count())).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &table {
        let cells: Vec<String> = r.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        let _ = writeln!(out, "    {}", cells.join(" | ").trim_end());
    }
    if rows.is_empty() {
        out.push_str("    (no rows)\n");
    }
    out
}

fn rows_equal(a: &[(String, Vec<Value>)], b: &[(String, Vec<Value>)]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.0 == y.0 && x.1.len() == y.1.len() && x.1.iter().zip(&y.1).all(|(u, v)| reference::values_match(u, v))
        })
}

/// Run one case: `Ok` when it passes, else what went wrong (without the location).
pub fn run_case(
    file: &SpecFile,
    case: &Case,
    lookups: &Lookups,
    runtime: &tokio::runtime::Runtime,
) -> Result<(), String> {
    if let Some(block) = &case.block {
        return run_block_case(file, case, block, lookups, runtime);
    }
    let inputs = inputs(file, case);
    let bound = bind_case(&inputs, case);
    let (header, rows, cohort) = match (&case.expected, bound) {
        (Expected::Error { lines, .. }, Err(rendered)) => {
            let missing: Vec<&String> = lines.iter().filter(|l| !rendered.contains(l.as_str())).collect();
            return if missing.is_empty() {
                Ok(())
            } else {
                Err(format!("the diagnostics do not contain {missing:?}; they are:\n{rendered}"))
            };
        }
        (Expected::Error { .. }, Ok(_)) => return Err("expected the definition to be rejected, but it binds".into()),
        (Expected::Rows { .. }, Err(rendered)) => return Err(format!("the definition does not bind:\n{rendered}")),
        (Expected::Rows { header, rows, .. }, Ok(cohort)) => (header, rows, cohort),
    };
    let mut expected = Vec::new();
    for (line, cells) in rows {
        let mut values = Vec::new();
        for (cell, col) in cells[1..].iter().zip(&cohort.columns) {
            values.push(expected_value(cell, col.ty).map_err(|e| format!("line {line}: column `{}`: {e}", col.name))?);
        }
        expected.push((cells[0].clone(), values));
    }
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    let tables = batches(file, &inputs)?;
    let engine =
        phm_engine::Engine::from_batches(tables.clone(), lookups.clone()).map_err(|e| format!("engine: {e}"))?;
    let mut from_engine = runtime
        .block_on(reference::engine_cohort(&engine, &cohort, inputs.index_date))
        .map_err(|e| format!("the engine fails: {e}"))?;
    from_engine.sort_by(|a, b| a.0.cmp(&b.0));
    let mut from_reference = reference::cohort(&tables, lookups, &cohort, inputs.index_date);
    from_reference.sort_by(|a, b| a.0.cmp(&b.0));
    let engine_ok = rows_equal(&from_engine, &expected);
    let reference_ok = rows_equal(&from_reference, &expected);
    if engine_ok && reference_ok {
        return Ok(());
    }
    let who = match (engine_ok, reference_ok) {
        (false, false) if rows_equal(&from_engine, &from_reference) => "the engine and the reference both give",
        (false, true) => "the engine gives",
        (true, false) => "the reference gives",
        _ => "the engine and the reference differ",
    };
    let mut msg = format!("{who}:\n");
    if !engine_ok {
        let _ = write!(msg, "  engine:\n{}", show_rows(header, &from_engine));
    }
    if !reference_ok && !(who.contains("both")) {
        let _ = write!(msg, "  reference:\n{}", show_rows(header, &from_reference));
    }
    let _ = write!(msg, "  expected:\n{}", show_rows(header, &expected));
    Err(msg)
}

/// Run every case of a file: one message per failing case, `path:line: "title": …`.
pub fn run_file(file: &SpecFile, lookups: &Lookups, runtime: &tokio::runtime::Runtime) -> Vec<String> {
    file.cases
        .iter()
        .filter_map(|case| {
            run_case(file, case, lookups, runtime)
                .err()
                .map(|e| format!("{}:{}: \"{}\": {e}", file.path, case.line, case.title))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Rendering.

const INTRO: &str = r#"This is the reference for the language of OpenPHM definition files (`.phm`): what you can
write, and what each construct gives for each person. Every example below is a test: the
spec files under `spec/` are run against both the DataFusion engine and a deliberately
simple reference evaluator, and this page is generated from them.

## Overview

A definition file holds **items**. Names defined by `let` and `codelist` can be used by
every later item, and by files that `import` this one.

```phm
import "library/common.phm"
codelist hypertension = "codelists/hypertension.csv"
let has_hypertension = exists(condition where code in hypertension and date <= index_date)
index_date = 2024-03-31

indicator hypertension_prevalence "Recorded hypertension prevalence" {
  denominator = registered and alive and not opted_out
  numerator = has_hypertension
  method = proportion
  breakdowns = (place, imd_quintile)
}
```

Everything is evaluated **per person at an index date**. A value per person (a *person
series*) is a constant, a person attribute such as `age`, or an aggregate of that person's
rows of an event table, such as `exists(condition where code in asthma)`. Inside `where`,
names refer to the columns of one row of the table.

### Items

| Item | Form | Meaning |
|---|---|---|
| import | `import "library/common.phm"` | Use the `let`s, codelists and indicators of another file. The path is read from the file's folder or any folder above it. |
| codelist | `codelist asthma = "codelists/asthma.csv"`<br>`codelist bp_drugs: dmd = "codelists/bp.csv" column "dmd_id"` | A codelist from an OpenCodelists CSV file. The code system is taken from the file name unless given after `:` (`snomed`, `icd10`, `dmd`, `opcs4`); `column` names the code column. |
| let | `let has_asthma = exists(condition where code in asthma)` | Name a value, a set of rows, or anything else an expression can be. |
| index_date | `index_date = 2024-03-31` | The default index date of the file's cohorts and indicators. |
| cohort | `cohort NAME "Title" { … }` | A list of people with columns. |
| indicator | `indicator NAME "Title" { … }` | A numerator over a denominator, with breakdowns. |
| measure | `measure NAME "Title" { … }` | An indicator at every period of an interval. |

Text after `#` on a line is a comment.

### Fields of blocks

| Block | Field | Meaning |
|---|---|---|
| cohort | `population = …` | Required. Who is in the cohort: a true/false value; people for whom it is missing are left out. |
| cohort | `column NAME = …` | Any number. A column of the output (`person_id` comes first). |
| cohort | `events = …` | Optional. Rows of a table to extract, one output row per matching event of each person in the population. |
| cohort | `event_columns = (date, code)` | Optional. The columns of `events` to output (default: all). |
| indicator | `denominator = …` | Required. Who is counted: true/false. People with a national data opt-out are always left out of indicators and measures (planning is a secondary use), whether or not the denominator says `not opted_out`. |
| indicator | `numerator = …` | Required. Within the denominator: a true/false value counts the people for whom it is true; a whole number (such as a count of admissions) is summed, missing counting as 0. |
| indicator | `method = NAME` | Optional, default `proportion`. One of the methods below. |
| indicator | `multiplier = 100` | Optional. Default 100 for `proportion`, 1 for `isr` and `count`, 100,000 otherwise. |
| indicator | `breakdowns = (place, sex, age_band)` | Optional. Person values (text or whole numbers) to break the indicator down by; a missing value is reported as `not recorded`. |
| measure | `indicator = NAME` | Required. An indicator defined above or imported. |
| measure | `intervals = monthly from 2023-04-01 to 2024-03-01` | Required. `monthly`, `quarterly` or `annual` periods; the index date of each period is its last day. |

### Operators, loosest first

| Operator | Meaning |
|---|---|
| `rows where condition` | The rows for which the condition is true. |
| `a otherwise b` | `a`, or `b` where `a` is missing. |
| `a or b` | Either is true (missing values: see below). |
| `a and b` | Both are true. |
| `not a` | The opposite; missing stays missing. |
| `=` `!=` `<` `<=` `>` `>=` | Comparisons (`==` is the same as `=`). Whole numbers and decimals compare as numbers; other types only with their own type. |
| `x is missing`, `x is not missing` | Whether a value is missing: always true or false. |
| `x in (a, b)`, `x not in (a, b)`, `code in codelist` | Membership of a list of constants or a codelist. |
| `x between a and b`, `x not between a and b` | `a <= x and x <= b`. |
| `date within 12 months before d`, `date within 30 days after d` | Date windows: after `d - 12 months` and on or before `d`; on or after `d` and before `d + 30 days`. |
| `+` `-` | Addition and subtraction of numbers; a date plus or minus a length of time (`12 months`, `7 days`, `1 year`). |
| `*` `/` | Multiplication; division, which always gives a decimal. |
| `-x` | Negation. |
| `f(…)`, `first(rows).column`, `rows.column` | Function calls and columns. |

Brackets group as usual. `case when c1 then v1 when c2 then v2 else v3 end` gives the value
of the first branch whose condition is true, else the `else` value (missing without one).

### Missing values

Any value can be missing: a cell not recorded, an aggregate of no rows, a lookup that finds
nothing. The rules are SQL's:

- Arithmetic and comparisons with a missing operand are missing; division by zero is
  missing.
- `and` and `or` use three-valued (Kleene) logic: `false and missing` is `false`, `true or
  missing` is `true`, anything else involving missing is missing. `not missing` is missing.
- `where`, `population`, `denominator` and a `case` branch keep a row or person only where
  the condition is `true` — not where it is false *or missing*.
- `is missing` and `is not missing` are never missing; `x otherwise y` replaces a missing `x`.
- `exists` and `count` are never missing; `min`, `max`, `sum`, `mean` and `first`/`last` are
  missing when there are no rows (or no non-missing values).

### How to read the examples

Each section below starts with input tables: `person` and the event tables, one row per
line; `person` is the person's identifier, an empty cell is a missing value, and columns that
are not shown take defaults (`sex` is `unknown`, opt-outs are `false`, `code_system` is
`snomed`; other columns are missing). An example may replace one of these tables with its
own. Each example gives a definition — `column value = …`, as it would appear in a cohort —
and the result for each person in the population. Unless an example has a `population`,
everyone in `person` is included. Examples of indicators and measures give an `indicator`
block (and a `measure` over it) and the rows of the result, one per index date, breakdown
and category; examples of event-level extracts give a `cohort` block and one row per
extracted event. Some sections set up codelists (`codelist NAME = code,
…` stands for a codelist file holding those codes) and `let`s that all their examples use.
"#;

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
}

fn md_table(header: &[String], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "| {} |", header.iter().map(|h| md_escape(h)).collect::<Vec<_>>().join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    for r in rows {
        let _ = writeln!(out, "| {} |", r.iter().map(|c| md_escape(c)).collect::<Vec<_>>().join(" | "));
    }
    out
}

fn reference_tables(out: &mut String) {
    out.push_str("### Types\n\n| Type | Written as |\n|---|---|\n");
    let examples = [
        (Type::Bool, "`true`, `false`"),
        (Type::Int, "`42`, `-7`, `1_000`"),
        (Type::Float, "`2.5`, `0.001`"),
        (Type::Date, "`2024-02-29`"),
        (Type::Text, "`\"female\"` (double quotes)"),
    ];
    for (t, ex) in examples {
        let name = if t == Type::Float { "number (decimal)" } else { t.name() };
        let _ = writeln!(out, "| {name} | {ex} |");
    }
    out.push_str("\n`missing` is a missing value of any type. Lengths of time, used with dates, are written `7 days`, `3 months`, `1 year` (singular or plural).\n\n");
    out.push_str("### Person values\n\nThese names give one value per person on the index date.\n\n");
    let rows: Vec<Vec<String>> =
        phm_lang::BUILTINS.iter().map(|(n, t, d)| vec![format!("`{n}`"), (*t).to_owned(), (*d).to_owned()]).collect();
    out.push_str(&md_table(&["Name".into(), "Type".into(), "Meaning".into()], &rows));
    out.push_str("\n### Functions\n\n");
    let rows: Vec<Vec<String>> =
        phm_lang::FUNCTIONS.iter().map(|(_, sig, d)| vec![format!("`{sig}`"), (*d).to_owned()]).collect();
    out.push_str(&md_table(&["Function".into(), "Meaning".into()], &rows));
    out.push_str("\n### Event tables\n\nEach event table has many rows per person. Naming a table gives all its rows; `where` filters them. Every table has a `date`, which orders its rows for `first` and `last`.\n\n");
    for t in EventTable::ALL {
        let _ = writeln!(out, "#### `{}`\n\n{}\n", t.name(), t.doc());
        let rows: Vec<Vec<String>> = t
            .columns()
            .iter()
            .map(|c| vec![format!("`{}`", c.name), c.ty.name().to_owned(), c.doc.to_owned()])
            .collect();
        out.push_str(&md_table(&["Column".into(), "Type".into(), "Meaning".into()], &rows));
        out.push('\n');
    }
    out.push_str("### Indicator methods\n\n");
    let rows: Vec<Vec<String>> =
        phm_lang::METHODS.iter().map(|(n, d)| vec![format!("`{n}`"), (*d).to_owned()]).collect();
    out.push_str(&md_table(&["Method".into(), "Meaning".into()], &rows));
    out.push('\n');
}

fn input_table(t: &TableDecl) -> String {
    let (header, rows) = table_cells(t.rows.iter().map(String::as_str));
    let mut out = format!("*{}*\n\n", t.name);
    out.push_str(&md_table(&header, &rows));
    out
}

fn render_setup(out: &mut String, setup: &Setup, shadowed: &Setup) {
    for c in &setup.codelists {
        let system = if c.system == "snomed" { String::new() } else { format!(" ({})", c.system) };
        let _ = writeln!(
            out,
            "Codelist `{}`{system}: {}.\n",
            c.name,
            c.codes.iter().map(|x| format!("`{x}`")).collect::<Vec<_>>().join(", ")
        );
    }
    for t in &setup.tables {
        let mut table = input_table(t);
        if shadowed.tables.iter().any(|x| x.name == t.name) {
            table = table.replacen("*\n", "* (instead of the section's)\n", 1);
        }
        out.push_str(&table);
        out.push('\n');
    }
    if !setup.lets.is_empty() || setup.population.is_some() {
        out.push_str("```phm\n");
        for l in &setup.lets {
            let _ = writeln!(out, "let {} = {}", l.name, indent_continuation(&l.expr));
        }
        if let Some(p) = &setup.population {
            let _ = writeln!(out, "population = {}", indent_continuation(&p.expr));
        }
        out.push_str("```\n\n");
    }
}

fn indent_continuation(expr: &str) -> String {
    expr.replace('\n', "\n  ")
}

fn render_case(out: &mut String, number: &str, file: &SpecFile, case: &Case) {
    let _ = writeln!(out, "#### {number} {}\n", case.title);
    for p in &case.prose {
        let _ = writeln!(out, "{p}\n");
    }
    if let Some(d) = case.index_date {
        let _ = writeln!(out, "Index date: {d}.\n");
    }
    if !case.setup.is_empty() {
        render_setup(out, &case.setup, &file.setup);
    }
    out.push_str("```phm\n");
    for d in &case.defines {
        let _ = writeln!(out, "column {} = {}", d.name, indent_continuation(&d.expr));
    }
    if let Some(b) = &case.block {
        out.push_str(&render_block(b));
    }
    out.push_str("```\n\n");
    match &case.expected {
        Expected::Rows { header, rows, .. } => {
            if rows.is_empty() {
                out.push_str("gives no rows: nobody is in the population.\n\n");
            } else {
                out.push_str("gives\n\n");
                let rows: Vec<Vec<String>> = rows.iter().map(|(_, r)| r.clone()).collect();
                out.push_str(&md_table(header, &rows));
                out.push('\n');
            }
        }
        Expected::Error { .. } => {
            let inputs = inputs(file, case);
            let rendered = match binds(&inputs, case) {
                Err(r) => r,
                Ok(_) => "(no error: the spec test fails)".into(),
            };
            out.push_str("is rejected:\n\n```text\n");
            out.push_str(rendered.trim_end());
            out.push_str("\n```\n\n");
        }
    }
}

/// A case's block as it would appear in a definition file.
fn render_block(b: &Block) -> String {
    let mut out = String::new();
    let field = |out: &mut String, f: &Snippet| {
        let _ = writeln!(out, "  {} = {}", f.name, f.expr.replace('\n', "\n    "));
    };
    match b.kind {
        BlockKind::Indicator | BlockKind::Cohort => {
            let _ = writeln!(out, "{} example {{", b.kind.keyword());
            b.fields.iter().for_each(|f| field(&mut out, f));
            out.push_str("}\n");
        }
        BlockKind::Measure => {
            out.push_str("indicator example {\n");
            b.fields.iter().filter(|f| f.name != "intervals").for_each(|f| field(&mut out, f));
            out.push_str("}\nmeasure example_over_time {\n  indicator = example\n");
            b.fields.iter().filter(|f| f.name == "intervals").for_each(|f| field(&mut out, f));
            out.push_str("}\n");
        }
    }
    out
}

/// Render the chapters as the language reference (`docs/language.md`).
pub fn markdown(chapters: &[Chapter]) -> String {
    let mut out = String::new();
    out.push_str("<!-- Generated from `spec/` and `crates/phm-testkit/src/spec.rs` by `PHM_UPDATE_DOCS=1 cargo test -p phm-testkit --test spec`; do not edit by hand. -->\n\n");
    out.push_str("# The definition language\n\n");
    out.push_str(INTRO);
    out.push('\n');
    reference_tables(&mut out);
    out.push_str("## Contents of the examples\n\n");
    for (i, ch) in chapters.iter().enumerate() {
        let _ = writeln!(out, "- {} {}", i + 1, ch.title);
        for (j, f) in ch.files.iter().enumerate() {
            let _ = writeln!(out, "  - {}.{} {}", i + 1, j + 1, f.title);
        }
    }
    out.push('\n');
    for (i, ch) in chapters.iter().enumerate() {
        let _ = writeln!(out, "## {} {}\n", i + 1, ch.title);
        if !ch.prose.is_empty() {
            let _ = writeln!(out, "{}\n", ch.prose);
        }
        for (j, f) in ch.files.iter().enumerate() {
            let _ = writeln!(out, "### {}.{} {}\n", i + 1, j + 1, f.title);
            for p in &f.prose {
                let _ = writeln!(out, "{p}\n");
            }
            let _ = writeln!(out, "Index date: {}.\n", f.index_date);
            render_setup(&mut out, &f.setup, &Setup::default());
            for (k, case) in f.cases.iter().enumerate() {
                render_case(&mut out, &format!("{}.{}.{}", i + 1, j + 1, k + 1), f, case);
            }
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_file_and_names_lines_in_errors() {
        let text = "title: T\nindex_date: 2024-03-31\n\nSome prose.\n\ncodelist d = A1, B2\ntable person\n  person | year_of_birth\n  1 | 1950\n\n## Case\nWhy.\ndefine\n  age\ndefine band\n  age_band\n----\nperson | value | band\n1 | 73 | 70-74\n\n## Bad\ndefine\n  agee\n----\nerror: unknown name\n";
        let f = parse("t.phmt", text).expect("parses");
        assert_eq!(f.cases.len(), 2);
        assert_eq!(f.setup.codelists[0].codes, ["A1", "B2"]);
        assert_eq!(f.cases[0].defines.len(), 2);
        assert!(matches!(&f.cases[1].expected, Expected::Error { lines, .. } if lines == &["error: unknown name"]));
        let err = parse("t.phmt", "title: T\nindex_date: 2024-03-31\n## C\ndefine\n  age\n----\nperson | x\n")
            .expect_err("bad header");
        assert!(err.starts_with("t.phmt:7:"), "{err}");
        let err = parse("t.phmt", "title: T\nindex_date: 2024-13-31\n").expect_err("bad date");
        assert!(err.starts_with("t.phmt:2:"), "{err}");
    }

    #[test]
    fn parses_blocks_and_checks_their_tables() {
        let text = "title: T\nindex_date: 2024-03-31\n\n## I\nindicator\n  denominator = age >= 18\n  numerator = count(condition)\n    + 1\n  breakdowns = (sex)\n----\nbreakdown | category | numerator | denominator\nall | all | 1 | 2\n";
        let f = parse("t.phmt", text).expect("parses");
        let b = f.cases[0].block.as_ref().expect("a block");
        assert_eq!(b.kind, BlockKind::Indicator);
        assert_eq!(
            b.fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
            ["denominator", "numerator", "breakdowns"]
        );
        assert_eq!(b.fields[1].expr, "count(condition)\n+ 1");
        let err = parse(
            "t.phmt",
            "title: T\nindex_date: 2024-03-31\n## I\nindicator\n  denominator = true\n----\nperson | value\n",
        )
        .expect_err("bad header");
        assert!(err.starts_with("t.phmt:7:"), "{err}");
        let err = parse(
            "t.phmt",
            "title: T\nindex_date: 2024-03-31\n## M\nmeasure\n  denominator = true\n----\nbreakdown | category\n",
        )
        .expect_err("no intervals");
        assert!(err.contains("intervals"), "{err}");
        let err =
            parse("t.phmt", "title: T\nindex_date: 2024-03-31\n## C\ncohort\n  population = true\n----\nperson\n")
                .expect_err("no events");
        assert!(err.contains("events"), "{err}");
    }
}
