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
