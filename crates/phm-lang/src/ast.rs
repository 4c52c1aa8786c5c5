//! Syntax tree with byte spans into the source file.

use chrono::NaiveDate;
use phm_model::Unit;

/// Index of a loaded source file.
pub type FileId = usize;

/// Byte range in a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// From the start of `self` to the end of `other`.
    pub fn to(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

/// A name with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Name {
    /// The name.
    pub text: String,
    /// Where.
    pub span: Span,
}

/// Top-level items.
#[derive(Clone, Debug)]
pub enum Item {
    /// `import "path"`.
    Import { path: String, span: Span },
    /// `index_date = 2024-03-31`.
    IndexDate { date: NaiveDate, span: Span },
    /// `codelist name[: system] = "path" [column "c"]`.
    Codelist { name: Name, system: Option<Name>, path: String, path_span: Span, column: Option<String> },
    /// `let name = expr`.
    Let { name: Name, expr: Expr },
    /// `cohort|indicator|measure name "title" { fields }`.
    Block(Block),
}

/// What a block defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    /// A cohort.
    Cohort,
    /// An indicator.
    Indicator,
    /// A measure.
    Measure,
}

/// A `cohort`, `indicator` or `measure` block.
#[derive(Clone, Debug)]
pub struct Block {
    /// Kind.
    pub kind: BlockKind,
    /// Name.
    pub name: Name,
    /// Title.
    pub title: Option<String>,
    /// Fields in order.
    pub fields: Vec<Field>,
    /// Whole block.
    pub span: Span,
}

/// `name = value` inside a block.
#[derive(Clone, Debug)]
pub struct Field {
    /// Field name.
    pub name: Name,
    /// Value.
    pub value: FieldValue,
}

/// Field values.
#[derive(Clone, Debug)]
pub enum FieldValue {
    /// An expression.
    Expr(Expr),
    /// `column name = expr`.
    Column { name: Name, expr: Expr },
    /// `(a, b, c)`.
    Names { names: Vec<Name>, span: Span },
    /// `monthly from 2024-04-01 to 2025-03-31`.
    Intervals { every: Name, from: (NaiveDate, Span), to: (NaiveDate, Span) },
}

/// Binary operators as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOpSyn {
    And,
    Or,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Otherwise,
}

/// Right-hand side of `in`.
#[derive(Clone, Debug)]
pub enum InSet {
    /// A codelist name.
    Name(Name),
    /// `(a, b)`.
    List(Vec<Expr>, Span),
}

/// An expression.
#[derive(Clone, Debug)]
pub struct Expr {
    /// What.
    pub kind: ExprKind,
    /// Where.
    pub span: Span,
    /// Levels of nesting, 1 for a name or a constant: the parser refuses an expression deeper
    /// than [`MAX_NESTING`], so nothing that walks the tree recursively can overflow its stack.
    pub depth: usize,
}

/// The deepest an expression may nest (brackets, `not`, operators, calls, `case`, `where`),
/// counted on the tree the parser builds; `and` and `or` chains of any length are built as
/// balanced trees, so they count the logarithm of their length. Hand-written definitions
/// nest a few levels; this bound keeps hostile ones from exhausting a thread's stack.
pub const MAX_NESTING: usize = 64;

impl Expr {
    /// A node, its depth one more than its deepest child's.
    pub fn new(kind: ExprKind, span: Span) -> Self {
        let d = |e: &Expr| e.depth;
        let below = match &kind {
            ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Date(_)
            | ExprKind::Bool(_)
            | ExprKind::Missing
            | ExprKind::Duration(..)
            | ExprKind::Name(_) => 0,
            ExprKind::Call(_, args) => args.iter().map(d).max().unwrap_or(0),
            ExprKind::Dot(e, _) | ExprKind::Not(e) | ExprKind::Neg(e) | ExprKind::IsMissing(e) => e.depth,
            ExprKind::Where { frame, cond, .. } => frame.depth.max(cond.depth),
            ExprKind::Binary(_, _, l, r) => l.depth.max(r.depth),
            ExprKind::In { arg, set, .. } => match set {
                InSet::Name(_) => arg.depth,
                InSet::List(items, _) => items.iter().map(d).max().unwrap_or(0).max(arg.depth),
            },
            ExprKind::Between { arg, lo, hi } => arg.depth.max(lo.depth).max(hi.depth),
            ExprKind::Within { arg, amount, anchor, .. } => arg.depth.max(amount.depth).max(anchor.depth),
            ExprKind::Case(branches, otherwise) => branches
                .iter()
                .map(|(c, v)| c.depth.max(v.depth))
                .max()
                .unwrap_or(0)
                .max(otherwise.as_deref().map_or(0, d)),
        };
        Expr { kind, span, depth: below + 1 }
    }
}

/// Expression forms.
#[derive(Clone, Debug)]
pub enum ExprKind {
    Int(i64),
    Float(f64),
    Str(String),
    Date(NaiveDate),
    Bool(bool),
    Missing,
    Duration(i64, Unit),
    Name(String),
    Call(Name, Vec<Expr>),
    Dot(Box<Expr>, Name),
    Where { frame: Box<Expr>, cond: Box<Expr>, kw: Span },
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Binary(BinOpSyn, Span, Box<Expr>, Box<Expr>),
    IsMissing(Box<Expr>),
    In { arg: Box<Expr>, set: InSet, kw: Span },
    Between { arg: Box<Expr>, lo: Box<Expr>, hi: Box<Expr> },
    Within { arg: Box<Expr>, amount: Box<Expr>, after: bool, anchor: Box<Expr>, kw: Span },
    Case(Vec<(Expr, Expr)>, Option<Box<Expr>>),
}
