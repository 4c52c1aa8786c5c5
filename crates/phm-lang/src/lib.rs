//! The definition language: parse, bind and check definition files into the query model.
//!
//! A definition file holds items, one per line or more:
//!
//! ```text
//! import "library/common.phm"
//! codelist hypertension = "codelists/hypertension.csv"
//! let has_hypertension = exists(condition where code in hypertension and date <= index_date)
//! indicator hypertension_prevalence "Recorded hypertension prevalence" {
//!   denominator = registered and alive and not opted_out
//!   numerator = has_hypertension
//!   method = proportion
//!   breakdowns = (place, imd_quintile)
//! }
//! ```
//!
//! Loading never panics and never stops at the first problem: [`load`] returns the model
//! (when there are no errors) and every diagnostic, each with file, line, column and help.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use phm_model::*;

pub mod ast;
mod bind;
pub mod diag;
mod syntax;

pub use bind::{BUILTINS, FUNCTIONS, METHODS};
use diag::Diags;
pub use diag::{Diagnostic, MAX_KEPT, MAX_RENDERED, Severity, Sources};

use ast::*;
use bind::{Binder, Bound, Let};

/// The result of loading definitions.
#[derive(Debug)]
pub struct Loaded {
    /// The model, when there were no errors.
    pub definitions: Option<Definitions>,
    /// The problems found, the first [`diag::MAX_KEPT`] of them.
    pub diagnostics: Vec<Diagnostic>,
    /// Errors found beyond those kept in `diagnostics`, counted.
    pub more_errors: usize,
    /// Warnings found beyond those kept, counted.
    pub more_warnings: usize,
    /// The files read, for rendering diagnostics.
    pub sources: Sources,
}

impl Loaded {
    /// Errors (not warnings).
    pub fn has_errors(&self) -> bool {
        self.more_errors > 0 || self.diagnostics.iter().any(|d| d.severity == Severity::Error)
    }

    /// How many errors were found, kept or not.
    pub fn error_count(&self) -> usize {
        self.more_errors + self.diagnostics.iter().filter(|d| d.severity == Severity::Error).count()
    }

    /// The diagnostics rendered as text: the first [`diag::MAX_RENDERED`], then how many more.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = self.render_to(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// [`Loaded::render`], written to `out` one diagnostic at a time.
    ///
    /// # Errors
    /// Only those of `out`.
    pub fn render_to(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        self.sources.render_to(&self.diagnostics, (self.more_errors, self.more_warnings), out)
    }
}

/// Closest candidate within a small edit distance, for "did you mean".
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let len = name.chars().count();
    let limit = (len / 3).clamp(1, 3);
    // Names whose lengths differ by more than the limit are further apart than it: skipped
    // without computing the distance, which keeps a file of thousands of misspellings fast.
    candidates
        .into_iter()
        .filter(|c| c.chars().count().abs_diff(len) <= limit)
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, c.len()))
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Everything in scope while binding.
#[derive(Default)]
struct Scope {
    lets: BTreeMap<String, Let>,
    codelists: BTreeMap<String, CodelistRef>,
    defined_at: BTreeMap<String, (FileId, Span)>,
    indicators: BTreeMap<String, Indicator>,
    index_date: Option<chrono::NaiveDate>,
}

struct Loader {
    sources: Sources,
    diags: Diags,
    scope: Scope,
    loaded: HashSet<PathBuf>,
    stack: Vec<PathBuf>,
    hash_parts: Vec<Vec<u8>>,
    /// Model nodes copied from `let`s and codelists so far (see [`bind::MAX_COPIED_NODES`]).
    copied: usize,
    /// The folder imports and codelists are read from inside, canonical (see [`root_of`]).
    root: PathBuf,
}

/// The largest definition file read: 1 MiB. Definitions are written by hand (the largest
/// shipped file is under 40 KiB); the bound keeps a device, a log or a generated file from
/// being read whole, while leaving room for generated catalogues a hundred times larger than
/// any written so far.
pub const MAX_DEFINITION_BYTES: u64 = 1 << 20;

/// The folder that the imports and codelists of a definition in `dir` must be inside: the
/// nearest folder, from `dir` upwards, that holds a `definitions` or a `codelists` folder (a
/// checkout of this repository, or a project laid out like it), else `dir` itself. Paths in
/// definitions are relative; one that is absolute, or that leads outside this folder (by `..`
/// or through a symbolic link), is refused.
pub fn root_of(dir: &Path) -> PathBuf {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    dir.ancestors()
        .find(|d| d.join("definitions").is_dir() || d.join("codelists").is_dir())
        .map_or_else(|| dir.clone(), Path::to_path_buf)
}

impl Loader {
    fn new(root: PathBuf) -> Self {
        Loader {
            sources: Sources::default(),
            diags: Diags::default(),
            scope: Scope::default(),
            loaded: HashSet::new(),
            stack: Vec::new(),
            hash_parts: Vec::new(),
            copied: 0,
            root,
        }
    }
}

/// Load a definition file and what it imports. Blocks (cohorts, indicators, measures) of the
/// named file are returned; imported files contribute their `let`s, codelists and indicators
/// (for measures to refer to).
pub fn load(path: &Path) -> Loaded {
    load_many(&[path.to_path_buf()])
}

/// Load several files as one set (each file's blocks are returned).
///
/// Each file's imports and codelists are read from inside its [`root_of`] folder.
pub fn load_many(paths: &[PathBuf]) -> Loaded {
    let mut l = Loader::new(PathBuf::new());
    let mut defs = Definitions {
        source: paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
        ..Default::default()
    };
    for p in paths {
        l.root = root_of(p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")));
        l.file(p, None, Some(&mut defs));
    }
    finish(l, defs)
}

/// Load definitions from text (for tests, the API and spec files); imports and codelist
/// paths resolve from `base`, inside its [`root_of`] folder.
pub fn load_str(name: &str, text: &str, base: &Path) -> Loaded {
    let mut l = Loader::new(root_of(base));
    let mut defs = Definitions { source: name.into(), ..Default::default() };
    l.text(&base.join(name), text.to_owned(), Some(&mut defs));
    finish(l, defs)
}

/// Bind one person-level expression against inline codelists (spec files use this).
pub fn bind_expression(
    text: &str,
    codelists: &BTreeMap<String, CodelistRef>,
    lets: &[(String, String)],
) -> Result<(PExpr, Type), String> {
    let mut sources = Sources::default();
    let mut diags = Diags::default();
    let mut scope_lets = BTreeMap::new();
    let mut copied = 0;
    for (name, src) in lets.iter().map(|(n, s)| (n, s.as_str())).chain(std::iter::once((&"value".to_owned(), text))) {
        let file = sources.add(PathBuf::from(format!("<{name}>")), src.to_owned());
        let parsed = syntax::parse_expr(src, file, &mut diags);
        let Some(expr) = parsed.filter(|_| diags.is_empty()) else {
            return Err(sources.render(&diags.list));
        };
        let mut b = Binder { file, diags: &mut diags, lets: &scope_lets, codelists, copied: &mut copied };
        match b.bind_item(&expr, "this expression") {
            Ok(bound) if name.as_str() == "value" => {
                return match bound.bound {
                    Bound::P(p, t) => Ok((p, t)),
                    Bound::Null => Ok((PExpr::Value { value: Value::Null, ty: Type::Text }, Type::Text)),
                    other => {
                        let mut diags = vec![Diagnostic::error(file, Span::new(0, src.len()), format!("this is {}, not a value per person", other.describe())).help("turn rows into a value with `exists(...)`, `count(...)`, `first(...).date` or `last(...).value`")];
                        Err(sources.render(&std::mem::take(&mut diags)))
                    }
                };
            }
            Ok(bound) => {
                scope_lets.insert(name.clone(), bound);
            }
            Err(()) => return Err(sources.render(&diags.list)),
        }
    }
    Err("no expression".into())
}

fn finish(l: Loader, mut defs: Definitions) -> Loaded {
    defs.index_date = l.scope.index_date;
    for (name, cl) in &l.scope.codelists {
        defs.codelists.insert(name.clone(), cl.sha256.clone());
    }
    defs.content_hash = sha256_hex(l.hash_parts.iter().map(Vec::as_slice));
    let has_errors = l.diags.has_errors();
    Loaded {
        definitions: (!has_errors).then_some(defs),
        diagnostics: l.diags.list,
        more_errors: l.diags.more_errors,
        more_warnings: l.diags.more_warnings,
        sources: l.sources,
    }
}

/// Why a path in a definition was not followed.
enum Unresolved {
    Absolute,
    NotFound,
    Outside,
}

/// Find `rel` relative to `dir` or a folder above it, up to `root`; the file found, with
/// symbolic links resolved, must be inside `root` (`dir` and `root` are canonical).
fn resolve(dir: &Path, rel: &str, root: &Path) -> Result<PathBuf, Unresolved> {
    let rel = Path::new(rel);
    if rel.has_root() || rel.is_absolute() || rel.components().any(|c| matches!(c, std::path::Component::Prefix(_))) {
        return Err(Unresolved::Absolute);
    }
    for d in dir.ancestors().take_while(|d| d.starts_with(root)) {
        let p = d.join(rel);
        // A dangling link is followed no further than this.
        if std::fs::symlink_metadata(&p).is_ok() {
            return match p.canonicalize() {
                Ok(c) if c.starts_with(root) => Ok(c),
                Ok(_) => Err(Unresolved::Outside),
                Err(_) => Err(Unresolved::NotFound),
            };
        }
    }
    Err(Unresolved::NotFound)
}

/// The diagnostic for a path that was not followed.
fn unresolved(file: FileId, span: Span, what: &str, rel: &str, why: Unresolved, dir: &Path, root: &Path) -> Diagnostic {
    match why {
        Unresolved::NotFound => Diagnostic::error(file, span, format!("cannot find {what} `{rel}`")).help(format!(
            "the path is read from `{}` or a folder above it, up to `{}`",
            dir.display(),
            root.display()
        )),
        Unresolved::Absolute => Diagnostic::error(file, span, format!("{what} `{rel}` is an absolute path")).help(
            format!("write the path relative to the definition; files are read from inside `{}`", root.display()),
        ),
        Unresolved::Outside => Diagnostic::error(file, span, format!("{what} `{rel}` is outside `{}`", root.display()))
            .help("definitions read files only from inside the folder that holds `definitions/` and `codelists/`"),
    }
}

impl Loader {
    fn file(&mut self, path: &Path, from: Option<(FileId, Span)>, out: Option<&mut Definitions>) {
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if self.stack.contains(&canonical) {
            if let Some((f, s)) = from {
                let chain: Vec<String> = self.stack.iter().map(|p| p.display().to_string()).collect();
                self.diags.push(
                    Diagnostic::error(f, s, "this import makes a cycle")
                        .help(format!("the files import each other: {}", chain.join(" → "))),
                );
            }
            return;
        }
        if !self.loaded.insert(canonical.clone()) {
            return;
        }
        let text = match phm_codelists::read_regular_file(path, MAX_DEFINITION_BYTES) {
            Ok(bytes) => String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_owned()),
            Err(e) => Err(e.to_string()),
        };
        let text = match text {
            Ok(t) => t,
            Err(e) => {
                match from {
                    Some((f, s)) => {
                        self.diags.push(Diagnostic::error(f, s, format!("cannot read `{}`: {e}", path.display())))
                    }
                    None => {
                        let file = self.sources.add(path.to_path_buf(), String::new());
                        self.diags.push(
                            Diagnostic::error(file, Span::default(), format!("cannot read `{}`: {e}", path.display()))
                                .help("give the path of a `.phm` definition file or a folder of them"),
                        );
                    }
                }
                return;
            }
        };
        self.stack.push(canonical);
        self.text(path, text, out);
        self.stack.pop();
    }

    fn text(&mut self, path: &Path, text: String, mut out: Option<&mut Definitions>) {
        let file = self.sources.files.len();
        self.hash_parts.push(text.as_bytes().to_vec());
        let items = syntax::parse_file(&text, file, &mut self.diags);
        self.sources.add(path.to_path_buf(), text);
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        let root = self.root.clone();
        let mut names_in_file: BTreeMap<String, Span> = BTreeMap::new();
        for item in items {
            match item {
                Item::Import { path: rel, span } => match resolve(&dir, &rel, &root) {
                    Ok(p) if p.extension().is_some_and(|x| x == "phm") => self.file(&p, Some((file, span)), None),
                    Ok(_) => self.diags.push(
                        Diagnostic::error(file, span, format!("`{rel}` is not a `.phm` definition file"))
                            .help("import only definition files, whose names end in `.phm`"),
                    ),
                    Err(why) => self.diags.push(unresolved(file, span, "the import", &rel, why, &dir, &root)),
                },
                Item::IndexDate { date, .. } => {
                    if out.is_some() || self.scope.index_date.is_none() {
                        self.scope.index_date = Some(date);
                    }
                }
                Item::Codelist { name, system, path: rel, path_span, column } => {
                    if !self.declare(file, &name) {
                        continue;
                    }
                    let p = match resolve(&dir, &rel, &root) {
                        Ok(p) if p.extension().is_some_and(|x| x.eq_ignore_ascii_case("csv")) => p,
                        Ok(_) => {
                            self.diags.push(Diagnostic::error(file, path_span, format!("the codelist file `{rel}` is not a `.csv` file")).help("a codelist is a CSV file, as OpenCodelists downloads them, e.g. \"codelists/asthma.csv\""));
                            continue;
                        }
                        Err(why) => {
                            self.diags.push(unresolved(file, path_span, "the codelist file", &rel, why, &dir, &root));
                            continue;
                        }
                    };
                    let system = match &system {
                        Some(s) => match phm_core::codes::CodeSystem::from_name(&s.text) {
                            Some(sys) => sys,
                            None => {
                                let mut d =
                                    Diagnostic::error(file, s.span, format!("unknown code system `{}`", s.text));
                                d = match suggest(&s.text, ["snomed", "icd10", "dmd", "opcs4"]) {
                                    Some(x) => d.help(format!("did you mean `{x}`?")),
                                    None => d.help("use snomed, icd10, dmd or opcs4"),
                                };
                                self.diags.push(d);
                                continue;
                            }
                        },
                        None => {
                            phm_codelists::system_for_file_stem(p.file_stem().and_then(|s| s.to_str()).unwrap_or(""))
                        }
                    };
                    match phm_codelists::Codelist::load(&p, system, column.as_deref()) {
                        Ok(cl) => {
                            for problem in cl.problems() {
                                let sev = match problem.severity() {
                                    phm_codelists::Severity::Error => Severity::Error,
                                    phm_codelists::Severity::Warning => Severity::Warning,
                                };
                                let mut d =
                                    Diagnostic::error(file, path_span, format!("codelist `{}`: {problem}", name.text));
                                d.severity = sev;
                                self.diags.push(d);
                            }
                            self.hash_parts.push(cl.sha256().as_bytes().to_vec());
                            self.scope.codelists.insert(
                                name.text.clone(),
                                CodelistRef {
                                    name: name.text.clone(),
                                    system: system.name().into(),
                                    sha256: cl.sha256().into(),
                                    codes: cl.codes().to_vec(),
                                },
                            );
                        }
                        Err(e) => self.diags.push(Diagnostic::error(
                            file,
                            path_span,
                            format!("codelist `{}`: {e}", name.text),
                        )),
                    }
                }
                Item::Let { name, expr } => {
                    if !self.declare(file, &name) {
                        continue;
                    }
                    let mut b = Binder {
                        file,
                        diags: &mut self.diags,
                        lets: &self.scope.lets,
                        codelists: &self.scope.codelists,
                        copied: &mut self.copied,
                    };
                    if let Ok(bound) = b.bind_item(&expr, &format!("`{}`", name.text)) {
                        self.scope.lets.insert(name.text.clone(), bound);
                    }
                }
                Item::Block(block) => {
                    if let Some(prev) = names_in_file.insert(block.name.text.clone(), block.name.span) {
                        let (line, _) = self.sources.line_col(file, prev.start);
                        self.diags.push(
                            Diagnostic::error(
                                file,
                                block.name.span,
                                format!("`{}` is already defined on line {line}", block.name.text),
                            )
                            .help("give each cohort, indicator and measure its own name"),
                        );
                        continue;
                    }
                    self.block(file, &block, out.as_deref_mut());
                }
            }
        }
    }

    fn declare(&mut self, file: FileId, name: &Name) -> bool {
        if let Some((f, s)) = self.scope.defined_at.get(&name.text).copied() {
            let (line, _) = self.sources.line_col(f, s.start);
            let where_ = self.sources.files.get(f).map(|x| x.0.display().to_string()).unwrap_or_default();
            self.diags.push(
                Diagnostic::error(
                    file,
                    name.span,
                    format!("`{}` is already defined ({where_}, line {line})", name.text),
                )
                .help("choose another name; names are shared by a file and everything it imports"),
            );
            return false;
        }
        if BUILTINS.iter().any(|b| b.0 == name.text) || EventTable::from_name(&name.text).is_some() {
            self.diags.push(
                Diagnostic::error(file, name.span, format!("`{}` is a built-in name", name.text))
                    .help("choose another name"),
            );
            return false;
        }
        self.scope.defined_at.insert(name.text.clone(), (file, name.span));
        true
    }

    fn block(&mut self, file: FileId, block: &Block, out: Option<&mut Definitions>) {
        let title = block.title.clone().unwrap_or_else(|| block.name.text.replace('_', " "));
        let allowed: &[&str] = match block.kind {
            BlockKind::Cohort => &["population", "column", "events", "event_columns"],
            BlockKind::Indicator => &[
                "numerator",
                "denominator",
                "method",
                "multiplier",
                "breakdowns",
                "rationale",
                "polarity",
                "caveats",
                "fingertips",
                "years",
                "life_table",
            ],
            BlockKind::Measure => &["indicator", "intervals"],
        };
        let mut fields: BTreeMap<&str, &Field> = BTreeMap::new();
        let mut columns = Vec::new();
        let mut ok = true;
        for f in &block.fields {
            if !allowed.contains(&f.name.text.as_str()) {
                let mut d = Diagnostic::error(
                    file,
                    f.name.span,
                    format!("a {} has no field `{}`", kind_name(block.kind), f.name.text),
                );
                d = match suggest(&f.name.text, allowed.iter().copied()) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(format!("the fields are {}", allowed.join(", "))),
                };
                self.diags.push(d);
                ok = false;
                continue;
            }
            if let FieldValue::Column { name, expr } = &f.value {
                columns.push((name, expr));
                continue;
            }
            if fields.insert(f.name.text.as_str(), f).is_some() {
                self.diags.push(Diagnostic::error(file, f.name.span, format!("`{}` is given twice", f.name.text)));
                ok = false;
            }
        }
        let mut b = Binder {
            file,
            diags: &mut self.diags,
            lets: &self.scope.lets,
            codelists: &self.scope.codelists,
            copied: &mut self.copied,
        };
        let required = |name: &str, b: &mut Binder, want: &[Type]| -> Option<PExpr> {
            match fields.get(name).map(|f| &f.value) {
                Some(FieldValue::Expr(e)) => b.person(e, &format!("`{name}`"), want).ok().map(|x| x.0),
                Some(_) => {
                    b.diags.push(Diagnostic::error(
                        file,
                        fields[name].name.span,
                        format!("`{name}` needs an expression"),
                    ));
                    None
                }
                None => {
                    b.diags.push(
                        Diagnostic::error(
                            file,
                            block.name.span,
                            format!("{} `{}` has no `{name}`", kind_name(block.kind), block.name.text),
                        )
                        .help(format!("add `{name} = ...` inside the braces")),
                    );
                    None
                }
            }
        };
        match block.kind {
            BlockKind::Cohort => {
                let population = required("population", &mut b, &[Type::Bool]);
                let mut cols = Vec::new();
                let mut seen = HashSet::new();
                for (name, expr) in columns {
                    if !seen.insert(name.text.clone()) || name.text == "person_id" {
                        b.diags.push(Diagnostic::error(
                            file,
                            name.span,
                            format!("the column `{}` is given twice", name.text),
                        ));
                        ok = false;
                        continue;
                    }
                    match b.person(expr, &format!("column `{}`", name.text), &[]) {
                        Ok((e, t)) => cols.push(Column { name: name.text.clone(), expr: e, ty: t }),
                        Err(()) => ok = false,
                    }
                }
                let events = match fields.get("events").map(|f| &f.value) {
                    Some(FieldValue::Expr(e)) => match b.bind_item(e, "`events`").map(|l| l.bound) {
                        Ok(Bound::Frame(frame)) => {
                            let names: Vec<String> = match fields.get("event_columns").map(|f| &f.value) {
                                Some(FieldValue::Names { names, .. }) => {
                                    let mut v = Vec::new();
                                    for n in names {
                                        if frame.table.column(&n.text).is_some() {
                                            v.push(n.text.clone());
                                        } else {
                                            let cols: Vec<&str> =
                                                frame.table.columns().iter().map(|c| c.name).collect();
                                            b.diags.push(
                                                Diagnostic::error(
                                                    file,
                                                    n.span,
                                                    format!("`{}` has no column `{}`", frame.table.name(), n.text),
                                                )
                                                .help(format!("the columns are {}", cols.join(", "))),
                                            );
                                            ok = false;
                                        }
                                    }
                                    v
                                }
                                _ => frame.table.columns().iter().map(|c| c.name.to_owned()).collect(),
                            };
                            Some(EventExtract { frame, columns: names })
                        }
                        Ok(_) => {
                            b.diags.push(Diagnostic::error(file, e.span, "`events` must be rows of a table, e.g. `encounter where setting = \"emergency_admission\"`"));
                            ok = false;
                            None
                        }
                        Err(()) => {
                            ok = false;
                            None
                        }
                    },
                    _ => None,
                };
                if let (Some(population), true, Some(out)) = (population, ok, out) {
                    out.cohorts.push(Cohort {
                        name: block.name.text.clone(),
                        title,
                        population,
                        columns: cols,
                        events,
                    });
                }
            }
            BlockKind::Indicator => {
                // Indicators and measures are secondary uses (planning, research): the national
                // data opt-out is honoured whatever the definition says, by the model itself, so
                // every engine applies it.
                let denominator = required("denominator", &mut b, &[Type::Bool]).map(|d| PExpr::Binary {
                    op: BinOp::And,
                    left: Box::new(d),
                    right: Box::new(PExpr::Not { arg: Box::new(PExpr::Attr { attr: PersonAttr::OptedOut }) }),
                });
                let (numerator, numerator_ty) = match fields.get("numerator").map(|f| &f.value) {
                    Some(FieldValue::Expr(e)) => match b.person(e, "`numerator`", &[Type::Bool, Type::Int]) {
                        Ok((p, t)) => (Some(p), Some(t)),
                        Err(()) => (None, None),
                    },
                    _ => (required("numerator", &mut b, &[Type::Bool, Type::Int]), None),
                };
                let method = match fields.get("method").map(|f| &f.value) {
                    Some(FieldValue::Expr(Expr { kind: ExprKind::Name(m), span, .. })) => {
                        if let Some(method) = Method::from_name(m) {
                            Some(method)
                        } else {
                            let mut d = Diagnostic::error(file, *span, format!("unknown method `{m}`"));
                            d = match suggest(m, Method::ALL.map(Method::as_str)) {
                                Some(s) => d.help(format!("did you mean `{s}`?")),
                                None => {
                                    d.help(format!("the methods are {}", Method::ALL.map(Method::as_str).join(", ")))
                                }
                            };
                            b.diags.push(d);
                            None
                        }
                    }
                    Some(_) => {
                        b.diags.push(Diagnostic::error(
                            file,
                            fields["method"].name.span,
                            "`method` is a name, e.g. `method = proportion`",
                        ));
                        None
                    }
                    None => Some(Method::Proportion),
                };
                let multiplier = match fields.get("multiplier").map(|f| &f.value) {
                    Some(FieldValue::Expr(Expr { kind: ExprKind::Int(n), .. })) => Some(*n as f64),
                    Some(FieldValue::Expr(Expr { kind: ExprKind::Float(x), .. })) => Some(*x),
                    Some(_) => {
                        b.diags.push(Diagnostic::error(
                            file,
                            fields["multiplier"].name.span,
                            "`multiplier` is a number, e.g. 100 or 100000",
                        ));
                        None
                    }
                    None => Some(method.map_or(100_000.0, Method::default_multiplier)),
                };
                let mut breakdowns = Vec::new();
                if let Some(f) = fields.get("breakdowns") {
                    match &f.value {
                        FieldValue::Names { names, .. } => {
                            for n in names {
                                let e = Expr::new(ExprKind::Name(n.text.clone()), n.span);
                                match b.person(&e, &format!("the breakdown `{}`", n.text), &[Type::Text, Type::Int]) {
                                    Ok((e, t)) => breakdowns.push(Column { name: n.text.clone(), expr: e, ty: t }),
                                    Err(()) => ok = false,
                                }
                            }
                        }
                        _ => {
                            b.diags.push(Diagnostic::error(file, f.name.span, "`breakdowns` is a list of names in brackets, e.g. `breakdowns = (place, sex, age_band)`"));
                            ok = false;
                        }
                    }
                }
                let about = about(file, &fields, method, &self.scope.indicators, b.diags);
                // Life expectancy counts deaths outside the (mid-period) denominator, so the
                // national data opt-out is applied to its numerator too.
                let numerator = match (method, numerator) {
                    (Some(m), Some(n)) if !m.numerator_within_denominator() => Some(PExpr::Binary {
                        op: BinOp::And,
                        left: Box::new(n),
                        right: Box::new(PExpr::Not { arg: Box::new(PExpr::Attr { attr: PersonAttr::OptedOut }) }),
                    }),
                    (_, n) => n,
                };
                if method == Some(Method::LifeExpectancy) && numerator_ty.is_some_and(|t| t != Type::Bool) {
                    b.diags.push(Diagnostic::error(
                        file,
                        fields["numerator"].name.span,
                        "a life expectancy's numerator is true/false: whether the person died in the period",
                    ));
                    ok = false;
                }
                if let (Some(denominator), Some(numerator), Some(method), Some(multiplier), Some(about), true) =
                    (denominator, numerator, method, multiplier, about, ok)
                {
                    let ind = Indicator {
                        name: block.name.text.clone(),
                        title,
                        denominator,
                        numerator,
                        numerator_ty: numerator_ty.unwrap_or(Type::Bool),
                        method,
                        multiplier,
                        breakdowns,
                        about,
                    };
                    self.scope.indicators.insert(ind.name.clone(), ind.clone());
                    if let Some(out) = out {
                        out.indicators.push(ind);
                    }
                }
            }
            BlockKind::Measure => {
                let indicator = match fields.get("indicator").map(|f| &f.value) {
                    Some(FieldValue::Expr(Expr { kind: ExprKind::Name(n), span, .. })) => {
                        match self.scope.indicators.get(n) {
                            Some(i) => Some(i.clone()),
                            None => {
                                let mut d = Diagnostic::error(file, *span, format!("unknown indicator `{n}`"));
                                let suggestion = if self.diags.full() {
                                    None
                                } else {
                                    suggest(n, self.scope.indicators.keys().map(String::as_str))
                                };
                                d = match suggestion {
                                    Some(s) => d.help(format!("did you mean `{s}`?")),
                                    None => d.help(
                                        "define the indicator above the measure, or import the file that defines it",
                                    ),
                                };
                                self.diags.push(d);
                                None
                            }
                        }
                    }
                    _ => {
                        self.diags.push(Diagnostic::error(
                            file,
                            block.name.span,
                            format!("measure `{}` needs `indicator = NAME`", block.name.text),
                        ));
                        None
                    }
                };
                let intervals = match fields.get("intervals").map(|f| &f.value) {
                    Some(FieldValue::Intervals { every, from, to }) => {
                        let e = match every.text.as_str() {
                            "monthly" => Some(Every::Monthly),
                            "quarterly" => Some(Every::Quarterly),
                            "annual" | "annually" | "yearly" => Some(Every::Annual),
                            _ => {
                                self.diags.push(
                                    Diagnostic::error(file, every.span, format!("unknown interval `{}`", every.text))
                                        .help("use monthly, quarterly or annual"),
                                );
                                None
                            }
                        };
                        if from.0 > to.0 {
                            self.diags.push(
                                Diagnostic::error(file, to.1, "the last period starts before the first")
                                    .help("swap the dates"),
                            );
                            None
                        } else {
                            e.map(|every| Intervals { every, from: from.0, to: to.0 })
                        }
                    }
                    _ => {
                        self.diags.push(Diagnostic::error(
                            file,
                            block.name.span,
                            format!(
                                "measure `{}` needs `intervals = monthly from YYYY-MM-DD to YYYY-MM-DD`",
                                block.name.text
                            ),
                        ));
                        None
                    }
                };
                if let (Some(indicator), Some(intervals), true, Some(out)) = (indicator, intervals, ok, out) {
                    out.measures.push(Measure { name: block.name.text.clone(), title, indicator, intervals });
                }
            }
        }
    }
}

fn kind_name(k: BlockKind) -> &'static str {
    match k {
        BlockKind::Cohort => "cohort",
        BlockKind::Indicator => "indicator",
        BlockKind::Measure => "measure",
    }
}

/// An indicator's descriptive fields (`rationale`, `polarity`, `caveats`, `fingertips`) and
/// the method-specific `years` and `life_table`, checked; `None` after a diagnostic.
fn about(
    file: FileId,
    fields: &BTreeMap<&str, &Field>,
    method: Option<Method>,
    indicators: &BTreeMap<String, Indicator>,
    diags: &mut Diags,
) -> Option<About> {
    let before = diags.len();
    let mut about = About::default();
    let fail = |diags: &mut Diags, name: &str, msg: String, help: &str| {
        diags.push(Diagnostic::error(file, fields[name].name.span, msg).help(help.to_owned()));
    };
    let value = |name: &str| match fields.get(name).map(|f| &f.value) {
        Some(FieldValue::Expr(e)) => Some(&e.kind),
        _ => None,
    };
    for name in ["rationale", "caveats"] {
        match (fields.contains_key(name), value(name)) {
            (false, _) => {}
            (true, Some(ExprKind::Str(text))) => {
                let text = Some(text.clone());
                if name == "rationale" { about.rationale = text } else { about.caveats = text }
            }
            (true, _) => fail(
                diags,
                name,
                format!("`{name}` is text in double quotes"),
                "e.g. `rationale = \"Why this matters, in a sentence or two.\"`",
            ),
        }
    }
    if fields.contains_key("polarity") {
        match value("polarity") {
            Some(ExprKind::Name(n)) => match Polarity::ALL.iter().find(|(_, name)| name == n) {
                Some((p, _)) => about.polarity = *p,
                None => {
                    let names = Polarity::ALL.map(|(_, n)| n);
                    let help = match suggest(n, names) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("the polarities are {}", names.join(", ")),
                    };
                    fail(diags, "polarity", format!("unknown polarity `{n}`"), &help)
                }
            },
            _ => fail(
                diags,
                "polarity",
                "`polarity` is a name".into(),
                "write `polarity = higher_is_better`, `lower_is_better` or `no_judgement`",
            ),
        }
    }
    if fields.contains_key("fingertips") {
        match value("fingertips") {
            Some(ExprKind::Int(id)) if *id > 0 => about.fingertips = Some(*id),
            _ => fail(
                diags,
                "fingertips",
                "`fingertips` is the id of an OHID Fingertips indicator, a whole number".into(),
                "e.g. `fingertips = 90366` (life expectancy at birth)",
            ),
        }
    }
    match (method, fields.contains_key("years"), value("years")) {
        (Some(Method::LifeExpectancy), true, Some(ExprKind::Int(n))) if *n > 0 => about.years = Some(*n as f64),
        (Some(Method::LifeExpectancy), true, Some(ExprKind::Float(x))) if *x > 0.0 => about.years = Some(*x),
        (Some(Method::LifeExpectancy), true, _) => fail(
            diags,
            "years",
            "`years` is the period's length in years, a number above 0".into(),
            "e.g. `years = 3` for deaths in three years",
        ),
        (Some(Method::LifeExpectancy), false, _) => {
            diags.push(
                Diagnostic::error(
                    file,
                    fields.get("method").map(|f| f.name.span).unwrap_or_default(),
                    "a life expectancy needs `years`: the length of the period in which deaths are counted",
                )
                .help("add e.g. `years = 3`"),
            );
        }
        (_, true, _) => fail(
            diags,
            "years",
            "`years` belongs to `method = life_expectancy`".into(),
            "remove it, or change the method",
        ),
        _ => {}
    }
    match (method, fields.contains_key("life_table"), value("life_table")) {
        (Some(Method::HealthyLifeExpectancy), true, Some(ExprKind::Name(n))) => match indicators.get(n) {
            Some(le) if le.method == Method::LifeExpectancy => about.life_table = Some(n.clone()),
            Some(_) => fail(
                diags,
                "life_table",
                format!("`{n}` is not a life expectancy"),
                "name an indicator with `method = life_expectancy`",
            ),
            None => {
                let les = indicators.values().filter(|i| i.method == Method::LifeExpectancy).map(|i| i.name.as_str());
                let help = match suggest(n, les) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "define the life expectancy indicator above this one (or in an imported file)".to_owned(),
                };
                fail(diags, "life_table", format!("unknown indicator `{n}`"), &help)
            }
        },
        (Some(Method::HealthyLifeExpectancy), true, _) => fail(
            diags,
            "life_table",
            "`life_table` is the name of a life-expectancy indicator".into(),
            "e.g. `life_table = life_expectancy_male`",
        ),
        (Some(Method::HealthyLifeExpectancy), false, _) => {
            diags.push(Diagnostic::error(file, fields.get("method").map(|f| f.name.span).unwrap_or_default(), "a healthy life expectancy needs `life_table`: the life-expectancy indicator that gives its deaths and population").help("add e.g. `life_table = life_expectancy_male`"));
        }
        (_, true, _) => fail(
            diags,
            "life_table",
            "`life_table` belongs to `method = healthy_life_expectancy`".into(),
            "remove it, or change the method",
        ),
        _ => {}
    }
    (diags.len() == before).then_some(about)
}
