//! Lexer and parser: text → [`ast`](crate::ast) with byte spans. Errors are collected, not
//! thrown: after a bad item the parser skips to the next item keyword and carries on.

use crate::ast::*;
use crate::diag::{Diagnostic, Diags};

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    Str(String),
    Int(i64),
    Float(f64),
    Date(chrono::NaiveDate),
    Sym(&'static str),
    Eof,
}

#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub tok: Tok,
    pub span: Span,
}

const SYMBOLS: [&str; 18] =
    ["<=", ">=", "!=", "==", "=", "<", ">", "+", "-", "*", "/", "(", ")", "{", "}", ",", ".", ":"];

pub(crate) fn lex(src: &str, file: FileId, diags: &mut Diags) -> Vec<Token> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'#' {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c == b'"' {
            i += 1;
            let mut s = String::new();
            let mut closed = false;
            while i < bytes.len() {
                let ch = src[i..].chars().next().unwrap_or('\0');
                if ch == '"' {
                    closed = true;
                    i += 1;
                    break;
                }
                if ch == '\n' {
                    break;
                }
                s.push(ch);
                i += ch.len_utf8();
            }
            if !closed {
                diags.push(
                    Diagnostic::error(file, Span::new(start, i), "this text has no closing quote")
                        .help("end the text with `\"` on the same line"),
                );
            }
            out.push(Token { tok: Tok::Str(s), span: Span::new(start, i) });
            continue;
        }
        if c.is_ascii_digit() {
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'_') {
                i += 1;
            }
            // A date: 2024-03-31.
            if i - start == 4 && bytes.get(i) == Some(&b'-') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
                let mut j = i + 1;
                while j < bytes.len() && (bytes[j].is_ascii_digit() || bytes[j] == b'-') {
                    j += 1;
                }
                let text = &src[start..j];
                match chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                    Ok(d) if text.len() == 10 => out.push(Token { tok: Tok::Date(d), span: Span::new(start, j) }),
                    _ => {
                        diags.push(
                            Diagnostic::error(file, Span::new(start, j), format!("`{text}` is not a calendar date"))
                                .help("write dates as YYYY-MM-DD, e.g. 2024-02-29"),
                        );
                        out.push(Token { tok: Tok::Date(chrono::NaiveDate::MIN), span: Span::new(start, j) });
                    }
                }
                i = j;
                continue;
            }
            let mut is_float = false;
            if bytes.get(i) == Some(&b'.') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
                is_float = true;
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
            }
            let text: String = src[start..i].chars().filter(|c| *c != '_').collect();
            let tok = if is_float {
                Tok::Float(text.parse().unwrap_or(0.0))
            } else {
                match text.parse() {
                    Ok(n) => Tok::Int(n),
                    Err(_) => {
                        diags.push(Diagnostic::error(file, Span::new(start, i), "this number is too large"));
                        Tok::Int(0)
                    }
                }
            };
            out.push(Token { tok, span: Span::new(start, i) });
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            out.push(Token { tok: Tok::Ident(src[start..i].to_owned()), span: Span::new(start, i) });
            continue;
        }
        if let Some(sym) = SYMBOLS.iter().find(|s| src[i..].starts_with(**s)) {
            i += sym.len();
            let sym = if *sym == "==" { "=" } else { sym };
            out.push(Token { tok: Tok::Sym(sym), span: Span::new(start, i) });
            continue;
        }
        let ch = src[i..].chars().next().unwrap_or('?');
        let hint = match ch {
            '[' | ']' => "lists are written in round brackets: (\"a\", \"b\")",
            '\'' | '\u{2018}' | '\u{2019}' | '\u{201c}' | '\u{201d}' => {
                "text goes in straight double quotes: \"like this\""
            }
            '&' | '|' => "write `and`, `or`",
            '!' => "write `not`",
            _ => "remove it",
        };
        diags.push(
            Diagnostic::error(file, Span::new(i, i + ch.len_utf8()), format!("unexpected character `{ch}`")).help(hint),
        );
        i += ch.len_utf8();
    }
    out.push(Token { tok: Tok::Eof, span: Span::new(src.len(), src.len()) });
    out
}

/// Words that cannot name a variable.
pub const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "where",
    "in",
    "is",
    "missing",
    "between",
    "within",
    "before",
    "after",
    "otherwise",
    "case",
    "when",
    "then",
    "else",
    "end",
    "true",
    "false",
    "let",
    "codelist",
    "import",
    "cohort",
    "indicator",
    "measure",
    "index_date_default",
];

const ITEM_KEYWORDS: &[&str] = &["let", "codelist", "import", "cohort", "indicator", "measure", "index_date"];

pub(crate) struct Parser<'a> {
    toks: Vec<Token>,
    pos: usize,
    file: FileId,
    /// Whether a line break precedes each token (items and fields start lines).
    breaks: Vec<bool>,
    /// How many expressions are open around the current token (each `(`, `not`, unary `-`,
    /// argument list and `case` opens one): the parser's own recursion, bounded by
    /// [`MAX_NESTING`].
    nesting: usize,
    pub diags: &'a mut Diags,
}

type PResult<T> = Result<T, ()>;

impl<'a> Parser<'a> {
    pub fn new(toks: Vec<Token>, file: FileId, diags: &'a mut Diags) -> Self {
        Parser { toks, pos: 0, file, breaks: Vec::new(), nesting: 0, diags }
    }

    fn peek(&self) -> &Tok {
        &self.toks[self.pos].tok
    }

    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)].tok
    }

    fn span(&self) -> Span {
        self.toks[self.pos].span
    }

    fn prev_span(&self) -> Span {
        self.toks[self.pos.saturating_sub(1)].span
    }

    fn bump(&mut self) -> Token {
        let t = self.toks[self.pos].clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == w)
    }

    fn is_sym(&self, s: &str) -> bool {
        matches!(self.peek(), Tok::Sym(x) if *x == s)
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if self.is_word(w) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn eat_sym(&mut self, s: &str) -> bool {
        if self.is_sym(s) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn describe(tok: &Tok) -> String {
        match tok {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Str(s) => format!("the text \"{s}\""),
            Tok::Int(n) => format!("the number {n}"),
            Tok::Float(n) => format!("the number {n}"),
            Tok::Date(d) => format!("the date {d}"),
            Tok::Sym(s) => format!("`{s}`"),
            Tok::Eof => "the end of the file".into(),
        }
    }

    fn expected(&mut self, what: &str) {
        let found = Self::describe(self.peek());
        let d = Diagnostic::error(self.file, self.span(), format!("expected {what}, found {found}"));
        self.diags.push(d);
    }

    fn expect_sym(&mut self, s: &str) -> PResult<Span> {
        if self.is_sym(s) {
            Ok(self.bump().span)
        } else {
            self.expected(&format!("`{s}`"));
            Err(())
        }
    }

    fn expect_word(&mut self, w: &str) -> PResult<Span> {
        if self.is_word(w) {
            Ok(self.bump().span)
        } else {
            self.expected(&format!("`{w}`"));
            Err(())
        }
    }

    fn ident(&mut self, what: &str) -> PResult<Name> {
        match self.peek().clone() {
            Tok::Ident(s) if !KEYWORDS.contains(&s.as_str()) => {
                let span = self.bump().span;
                Ok(Name { text: s, span })
            }
            _ => {
                self.expected(what);
                Err(())
            }
        }
    }

    fn string(&mut self, what: &str) -> PResult<(String, Span)> {
        match self.peek().clone() {
            Tok::Str(s) => Ok((s, self.bump().span)),
            _ => {
                self.expected(what);
                Err(())
            }
        }
    }

    fn recover_to_item(&mut self) {
        loop {
            match self.peek() {
                Tok::Eof => return,
                Tok::Ident(s) if ITEM_KEYWORDS.contains(&s.as_str()) && self.at_line_start() => return,
                _ => {
                    self.bump();
                }
            }
        }
    }

    fn recover_to_field(&mut self) {
        // Always move on by at least one token, so a field that fails at its first token
        // cannot be retried forever.
        if !matches!(self.peek(), Tok::Eof | Tok::Sym("}")) {
            self.bump();
        }
        loop {
            match self.peek() {
                Tok::Eof | Tok::Sym("}") => return,
                Tok::Ident(_) if self.at_line_start() && matches!(self.peek_at(1), Tok::Sym("=") | Tok::Ident(_)) => {
                    return;
                }
                _ => {
                    self.bump();
                }
            }
        }
    }

    fn at_line_start(&self) -> bool {
        self.breaks.get(self.pos).copied().unwrap_or(true)
    }
}

pub(crate) fn parse_file(src: &str, file: FileId, diags: &mut Diags) -> Vec<Item> {
    let toks = lex(src, file, diags);
    let breaks: Vec<bool> = toks
        .iter()
        .enumerate()
        .map(|(i, t)| if i == 0 { true } else { src[toks[i - 1].span.end..t.span.start].contains('\n') })
        .collect();
    let mut p = Parser::new(toks, file, diags);
    p.breaks = breaks;
    let mut items = Vec::new();
    while !matches!(p.peek(), Tok::Eof) {
        match p.item() {
            Ok(item) => items.push(item),
            Err(()) => p.recover_to_item(),
        }
    }
    items
}

/// Parse one expression (spec files and the API use this).
pub(crate) fn parse_expr(src: &str, file: FileId, diags: &mut Diags) -> Option<Expr> {
    let toks = lex(src, file, diags);
    let mut p = Parser::new(toks, file, diags);
    let e = p.expr().ok()?;
    if !matches!(p.peek(), Tok::Eof) {
        p.expected("the end of the expression");
        return None;
    }
    Some(e)
}

impl Parser<'_> {
    fn item(&mut self) -> PResult<Item> {
        let start = self.span();
        let Tok::Ident(word) = self.peek().clone() else {
            self.expected("`let`, `codelist`, `import`, `index_date`, `cohort`, `indicator` or `measure`");
            return Err(());
        };
        match word.as_str() {
            "import" => {
                self.bump();
                let (path, span) = self.string("the path of a definition file in quotes")?;
                Ok(Item::Import { path, span })
            }
            "index_date" => {
                self.bump();
                self.expect_sym("=")?;
                match self.peek().clone() {
                    Tok::Date(d) => {
                        let span = self.bump().span;
                        Ok(Item::IndexDate { date: d, span })
                    }
                    _ => {
                        self.expected("a date (YYYY-MM-DD)");
                        Err(())
                    }
                }
            }
            "codelist" => {
                self.bump();
                let name = self.ident("a name for the codelist")?;
                let system = if self.eat_sym_colon() {
                    Some(self.ident("a code system: snomed, icd10, dmd or opcs4")?)
                } else {
                    None
                };
                self.expect_sym("=")?;
                let (path, path_span) =
                    self.string("the codelist's CSV file in quotes, e.g. \"codelists/asthma.csv\"")?;
                let column =
                    if self.eat_word("column") { Some(self.string("a column name in quotes")?.0) } else { None };
                Ok(Item::Codelist { name, system, path, path_span, column })
            }
            "let" => {
                self.bump();
                let name = self.ident("a name for the variable")?;
                self.expect_sym("=")?;
                let expr = self.expr()?;
                Ok(Item::Let { name, expr })
            }
            "cohort" | "indicator" | "measure" => {
                self.bump();
                let name = self.ident(&format!("a name for the {word}"))?;
                let title = match self.peek().clone() {
                    Tok::Str(s) => {
                        self.bump();
                        Some(s)
                    }
                    _ => None,
                };
                self.expect_sym("{")?;
                let mut fields = Vec::new();
                while !self.is_sym("}") && !matches!(self.peek(), Tok::Eof) {
                    match self.field() {
                        Ok(f) => fields.push(f),
                        Err(()) => self.recover_to_field(),
                    }
                }
                self.expect_sym("}")?;
                let kind = match word.as_str() {
                    "cohort" => BlockKind::Cohort,
                    "indicator" => BlockKind::Indicator,
                    _ => BlockKind::Measure,
                };
                Ok(Item::Block(Block { kind, name, title, fields, span: start.to(self.prev_span()) }))
            }
            _ => {
                let found = word.clone();
                let span = self.span();
                let mut d = Diagnostic::error(self.file, span, format!("`{found}` cannot start a definition"));
                d = d.help(match crate::suggest(&found, ITEM_KEYWORDS.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`? A file holds `let`, `codelist`, `import`, `index_date`, `cohort`, `indicator` and `measure` items"),
                    None => "a file holds `let`, `codelist`, `import`, `index_date`, `cohort`, `indicator` and `measure` items".into(),
                });
                self.diags.push(d);
                self.bump();
                Err(())
            }
        }
    }

    fn eat_sym_colon(&mut self) -> bool {
        self.eat_sym(":")
    }

    fn field(&mut self) -> PResult<Field> {
        // `column NAME = expr` inside cohorts; `NAME = value` otherwise.
        let first = match self.peek().clone() {
            Tok::Ident(s) => Name { text: s, span: self.bump().span },
            _ => {
                self.expected("a field name such as `population`, `numerator` or `column`");
                return Err(());
            }
        };
        if first.text == "column" && matches!(self.peek(), Tok::Ident(_)) {
            let name = self.ident("a column name")?;
            self.expect_sym("=")?;
            let expr = self.expr()?;
            return Ok(Field { name: first, value: FieldValue::Column { name, expr } });
        }
        self.expect_sym("=")?;
        if self.is_sym("(")
            && first.text != "population"
            && first.text != "numerator"
            && first.text != "denominator"
            && first.text != "events"
        {
            // A list of names: breakdowns = (place, sex)
            let start = self.bump().span;
            let mut names = Vec::new();
            if !self.is_sym(")") {
                loop {
                    names.push(self.ident("a name")?);
                    if !self.eat_sym(",") {
                        break;
                    }
                }
            }
            let end = self.expect_sym(")")?;
            return Ok(Field { name: first, value: FieldValue::Names { names, span: start.to(end) } });
        }
        if first.text == "intervals" {
            let every = self.ident("`monthly`, `quarterly` or `annual`")?;
            self.expect_word("from")?;
            let from = self.date()?;
            self.expect_word("to")?;
            let to = self.date()?;
            return Ok(Field { name: first, value: FieldValue::Intervals { every, from, to } });
        }
        let expr = self.expr()?;
        Ok(Field { name: first, value: FieldValue::Expr(expr) })
    }

    fn date(&mut self) -> PResult<(chrono::NaiveDate, Span)> {
        match self.peek().clone() {
            Tok::Date(d) => Ok((d, self.bump().span)),
            _ => {
                self.expected("a date (YYYY-MM-DD)");
                Err(())
            }
        }
    }

    pub fn expr(&mut self) -> PResult<Expr> {
        self.nested(Self::where_expr)
    }

    /// Runs `parse` one level of nesting deeper, refusing to go past [`MAX_NESTING`].
    fn nested(&mut self, parse: impl FnOnce(&mut Self) -> PResult<Expr>) -> PResult<Expr> {
        if self.nesting >= MAX_NESTING {
            self.too_deep(self.span());
            return Err(());
        }
        self.nesting += 1;
        let e = parse(self);
        self.nesting -= 1;
        match e {
            // Operators add depth without recursing: a chain of `+` in a `not` in a `-`.
            Ok(e) if e.depth > MAX_NESTING => {
                self.too_deep(e.span);
                Err(())
            }
            e => e,
        }
    }

    /// The diagnostic for an expression nested deeper than [`MAX_NESTING`], at `span`.
    fn too_deep(&mut self, span: Span) {
        let d = Diagnostic::error(self.file, span, format!("nesting deeper than {MAX_NESTING} levels")).help(
            "split the expression into named parts with `let`, e.g. `let recent = ...` and then `recent and ...`",
        );
        self.diags.push(d);
    }

    /// `left` after an operator at `op`: refused when the chain has made it too deep.
    fn checked(&mut self, left: Expr, op: Span) -> PResult<Expr> {
        if left.depth > MAX_NESTING {
            self.too_deep(op);
            return Err(());
        }
        Ok(left)
    }

    // Precedence, loosest first: where, otherwise, or, and, not, comparison, + -, * /, unary -, postfix `.`.
    fn where_expr(&mut self) -> PResult<Expr> {
        let mut left = self.otherwise()?;
        while self.is_word("where") {
            let kw = self.bump().span;
            let cond = self.otherwise()?;
            let span = left.span.to(cond.span);
            left =
                self.checked(Expr::new(ExprKind::Where { frame: Box::new(left), cond: Box::new(cond), kw }, span), kw)?;
        }
        Ok(left)
    }

    fn otherwise(&mut self) -> PResult<Expr> {
        let mut left = self.or()?;
        while self.is_word("otherwise") {
            let op = self.bump().span;
            let right = self.or()?;
            left = self.checked(bin(BinOpSyn::Otherwise, op, left, right), op)?;
        }
        Ok(left)
    }

    fn or(&mut self) -> PResult<Expr> {
        self.chain("or", BinOpSyn::Or, Self::and)
    }

    fn and(&mut self) -> PResult<Expr> {
        self.chain("and", BinOpSyn::And, Self::not)
    }

    /// `a OP b OP c …` for an associative `op` (`and`, `or`): the terms are collected in a list
    /// and joined as a balanced tree, so a chain of n terms is log₂ n deep, not n.
    fn chain(&mut self, word: &str, op: BinOpSyn, term: fn(&mut Self) -> PResult<Expr>) -> PResult<Expr> {
        let first = term(self)?;
        if !self.is_word(word) {
            return Ok(first);
        }
        let mut terms = vec![Some(first)];
        let mut ops = Vec::new();
        while self.is_word(word) {
            ops.push(self.bump().span);
            terms.push(Some(term(self)?));
        }
        let e = balanced(op, &mut terms, &ops);
        let at = ops[0];
        self.checked(e, at)
    }

    fn not(&mut self) -> PResult<Expr> {
        if self.is_word("not") {
            return self.nested(|p| {
                let kw = p.bump().span;
                let arg = p.not()?;
                let span = kw.to(arg.span);
                Ok(Expr::new(ExprKind::Not(Box::new(arg)), span))
            });
        }
        self.comparison()
    }

    fn comparison(&mut self) -> PResult<Expr> {
        let left = self.additive()?;
        let op = match self.peek() {
            Tok::Sym("=") => Some(BinOpSyn::Eq),
            Tok::Sym("!=") => Some(BinOpSyn::Ne),
            Tok::Sym("<") => Some(BinOpSyn::Lt),
            Tok::Sym("<=") => Some(BinOpSyn::Le),
            Tok::Sym(">") => Some(BinOpSyn::Gt),
            Tok::Sym(">=") => Some(BinOpSyn::Ge),
            _ => None,
        };
        if let Some(op) = op {
            let op_span = self.bump().span;
            let right = self.additive()?;
            return Ok(bin(op, op_span, left, right));
        }
        if self.is_word("is") {
            let kw = self.bump().span;
            let negated = self.eat_word("not");
            let end = self.expect_word("missing")?;
            let span = left.span.to(end);
            let e = Expr::new(ExprKind::IsMissing(Box::new(left)), span);
            let _ = kw;
            return Ok(if negated { Expr::new(ExprKind::Not(Box::new(e)), span) } else { e });
        }
        let negated = self.is_word("not") && matches!(self.peek_at(1), Tok::Ident(s) if s == "in" || s == "between");
        if negated {
            self.bump();
        }
        if self.is_word("in") {
            let kw = self.bump().span;
            let set = if self.is_sym("(") {
                let start = self.bump().span;
                let mut items = Vec::new();
                loop {
                    items.push(self.additive()?);
                    if !self.eat_sym(",") {
                        break;
                    }
                }
                let end = self.expect_sym(")")?;
                InSet::List(items, start.to(end))
            } else {
                InSet::Name(self.ident("a codelist name or a list in brackets, e.g. (\"a\", \"b\")")?)
            };
            let span = left.span.to(self.prev_span());
            let e = Expr::new(ExprKind::In { arg: Box::new(left), set, kw }, span);
            return Ok(if negated { Expr::new(ExprKind::Not(Box::new(e)), span) } else { e });
        }
        if self.is_word("between") {
            self.bump();
            let lo = self.additive()?;
            self.expect_word("and")?;
            let hi = self.additive()?;
            let span = left.span.to(hi.span);
            let e = Expr::new(ExprKind::Between { arg: Box::new(left), lo: Box::new(lo), hi: Box::new(hi) }, span);
            return Ok(if negated { Expr::new(ExprKind::Not(Box::new(e)), span) } else { e });
        }
        if self.is_word("within") {
            let kw = self.bump().span;
            let amount = self.additive()?;
            let after = if self.eat_word("before") {
                false
            } else if self.eat_word("after") {
                true
            } else {
                self.expected("`before` or `after`");
                return Err(());
            };
            let anchor = self.additive()?;
            let span = left.span.to(anchor.span);
            return Ok(Expr::new(
                ExprKind::Within { arg: Box::new(left), amount: Box::new(amount), after, anchor: Box::new(anchor), kw },
                span,
            ));
        }
        Ok(left)
    }

    fn additive(&mut self) -> PResult<Expr> {
        let mut left = self.multiplicative()?;
        loop {
            let op = match self.peek() {
                Tok::Sym("+") => BinOpSyn::Add,
                Tok::Sym("-") => BinOpSyn::Sub,
                _ => return Ok(left),
            };
            let op_span = self.bump().span;
            let right = self.multiplicative()?;
            left = self.checked(bin(op, op_span, left, right), op_span)?;
        }
    }

    fn multiplicative(&mut self) -> PResult<Expr> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Sym("*") => BinOpSyn::Mul,
                Tok::Sym("/") => BinOpSyn::Div,
                _ => return Ok(left),
            };
            let op_span = self.bump().span;
            let right = self.unary()?;
            left = self.checked(bin(op, op_span, left, right), op_span)?;
        }
    }

    fn unary(&mut self) -> PResult<Expr> {
        if self.is_sym("-") {
            return self.nested(|p| {
                let start = p.bump().span;
                let arg = p.unary()?;
                let span = start.to(arg.span);
                Ok(Expr::new(ExprKind::Neg(Box::new(arg)), span))
            });
        }
        self.postfix()
    }

    fn postfix(&mut self) -> PResult<Expr> {
        let mut e = self.primary()?;
        while self.is_sym(".") {
            self.bump();
            let field = self.ident("a column name after `.`")?;
            let span = e.span.to(field.span);
            let at = field.span;
            e = self.checked(Expr::new(ExprKind::Dot(Box::new(e), field), span), at)?;
        }
        Ok(e)
    }

    fn primary(&mut self) -> PResult<Expr> {
        let t = self.peek().clone();
        let span = self.span();
        let lit = |kind| Ok(Expr::new(kind, span));
        match t {
            Tok::Int(n) => {
                self.bump();
                if let Tok::Ident(u) = self.peek().clone()
                    && let Some(unit) = unit_of(&u)
                {
                    let end = self.bump().span;
                    return Ok(Expr::new(ExprKind::Duration(n, unit), span.to(end)));
                }
                lit(ExprKind::Int(n))
            }
            Tok::Float(x) => {
                self.bump();
                lit(ExprKind::Float(x))
            }
            Tok::Str(s) => {
                self.bump();
                lit(ExprKind::Str(s))
            }
            Tok::Date(d) => {
                self.bump();
                lit(ExprKind::Date(d))
            }
            Tok::Sym("(") => {
                self.bump();
                let e = self.expr()?;
                if self.is_sym(",") {
                    self.diags.push(
                        Diagnostic::error(self.file, self.span(), "a list in brackets can only follow `in`")
                            .help("write `x in (\"a\", \"b\")`"),
                    );
                    return Err(());
                }
                let end = self.expect_sym(")")?;
                Ok(Expr { span: span.to(end), ..e })
            }
            Tok::Ident(w) if w == "true" || w == "false" => {
                self.bump();
                lit(ExprKind::Bool(w == "true"))
            }
            Tok::Ident(w) if w == "missing" => {
                self.bump();
                lit(ExprKind::Missing)
            }
            Tok::Ident(w) if w == "case" => self.case(),
            Tok::Ident(w) if !KEYWORDS.contains(&w.as_str()) => {
                let name = self.ident("a name")?;
                if self.is_sym("(") {
                    self.bump();
                    let mut args = Vec::new();
                    if !self.is_sym(")") {
                        loop {
                            args.push(self.expr()?);
                            if !self.eat_sym(",") {
                                break;
                            }
                        }
                    }
                    let end = self.expect_sym(")")?;
                    return Ok(Expr::new(ExprKind::Call(name, args), span.to(end)));
                }
                Ok(Expr::new(ExprKind::Name(name.text), span))
            }
            _ => {
                self.expected("a value, a name or `(`");
                Err(())
            }
        }
    }

    fn case(&mut self) -> PResult<Expr> {
        let start = self.bump().span;
        let mut branches = Vec::new();
        while self.eat_word("when") {
            let c = self.expr()?;
            self.expect_word("then")?;
            let v = self.expr()?;
            branches.push((c, v));
        }
        if branches.is_empty() {
            self.expected("`when`");
            return Err(());
        }
        let otherwise = if self.eat_word("else") { Some(Box::new(self.expr()?)) } else { None };
        let end = self.expect_word("end")?;
        Ok(Expr::new(ExprKind::Case(branches, otherwise), start.to(end)))
    }
}

fn unit_of(word: &str) -> Option<phm_model::Unit> {
    use phm_model::Unit;
    Some(match word {
        "day" | "days" => Unit::Days,
        "month" | "months" => Unit::Months,
        "year" | "years" => Unit::Years,
        _ => return None,
    })
}

/// `terms` joined by `op` as a balanced tree; `ops[i]` is the operator between terms `i` and
/// `i + 1`. Recurses log₂ n deep.
fn balanced(op: BinOpSyn, terms: &mut [Option<Expr>], ops: &[Span]) -> Expr {
    if terms.len() == 1 {
        // Each term is taken once: the halves never overlap.
        return terms[0].take().unwrap_or_else(|| Expr::new(ExprKind::Missing, Span::default()));
    }
    let mid = terms.len() / 2;
    let (left, right) = terms.split_at_mut(mid);
    let l = balanced(op, left, &ops[..mid - 1]);
    let r = balanced(op, right, &ops[mid..]);
    bin(op, ops[mid - 1], l, r)
}

fn bin(op: BinOpSyn, op_span: Span, left: Expr, right: Expr) -> Expr {
    let span = left.span.to(right.span);
    Expr::new(ExprKind::Binary(op, op_span, Box::new(left), Box::new(right)), span)
}
