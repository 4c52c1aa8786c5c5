//! Bulk Data NDJSON: a writer, and a reader that locates every bad line.

use std::io::{BufRead, Write};

use crate::fhir::{Resource, validate};
use crate::{Error, Result};

/// Writes resources of one type as NDJSON, counting them.
pub struct NdjsonWriter<W: Write> {
    out: W,
    count: u64,
}

impl<W: Write> NdjsonWriter<W> {
    /// Wraps a writer (give it a buffered one).
    pub fn new(out: W) -> Self {
        Self { out, count: 0 }
    }

    /// Appends one resource as one line.
    pub fn write<R: Resource>(&mut self, resource: &R) -> Result<()> {
        serde_json::to_writer(&mut self.out, resource).map_err(|source| Error::Serialise { what: R::TYPE, source })?;
        self.out
            .write_all(b"\n")
            .map_err(|source| Error::Serialise { what: R::TYPE, source: serde_json::Error::io(source) })?;
        self.count += 1;
        Ok(())
    }

    /// Resources written so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// One line of an NDJSON file that could not be used, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based line number.
    pub line: u64,
    /// The element at fault, where known (`resourceType`, `Observation.status`, ...).
    pub element: Option<String>,
    /// What was wrong.
    pub reason: String,
}

/// The outcome of reading one NDJSON file: every line is either a resource or a [`BadLine`].
#[derive(Debug)]
pub struct NdjsonRead<R> {
    /// Resources that parsed and validated, with their line numbers.
    pub resources: Vec<(u64, R)>,
    /// Lines that did not, with reasons.
    pub bad: Vec<BadLine>,
    /// Non-empty lines read (resources + bad).
    pub lines: u64,
}

/// Reads an NDJSON stream of one resource type into memory. Never fails on bad content: each
/// unusable line (invalid UTF-8, not JSON, wrong `resourceType`, structural problems) becomes a
/// [`BadLine`]. Blank lines are skipped and not counted. For large files use [`NdjsonLines`].
pub fn read_ndjson<R: Resource, B: BufRead>(input: B) -> std::io::Result<NdjsonRead<R>> {
    let mut out = NdjsonRead { resources: Vec::new(), bad: Vec::new(), lines: 0 };
    for item in NdjsonLines::<R, B>::new(input) {
        out.lines += 1;
        match item? {
            Ok(pair) => out.resources.push(pair),
            Err(bad) => out.bad.push(bad),
        }
    }
    Ok(out)
}

/// The UTF-8 byte-order mark, which some tools write at the start of a file.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Streams an NDJSON file line by line: each item is a resource with its line number, or a
/// [`BadLine`]; only an IO failure is an error. Blank lines are skipped.
pub struct NdjsonLines<R, B> {
    input: B,
    buf: Vec<u8>,
    line_no: u64,
    marker: std::marker::PhantomData<R>,
}

impl<R: Resource, B: BufRead> NdjsonLines<R, B> {
    /// Starts reading.
    pub fn new(input: B) -> Self {
        Self { input, buf: Vec::new(), line_no: 0, marker: std::marker::PhantomData }
    }
}

impl<R: Resource, B: BufRead> Iterator for NdjsonLines<R, B> {
    type Item = std::io::Result<Result<(u64, R), BadLine>>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.buf.clear();
            match self.input.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err(e)),
            }
            self.line_no += 1;
            let bytes = self.buf.strip_suffix(b"\n").unwrap_or(&self.buf);
            let bytes = if self.line_no == 1 { bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes) } else { bytes };
            let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
            if bytes.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Some(Ok(parse_line(self.line_no, bytes)));
        }
    }
}

fn parse_line<R: Resource>(line: u64, bytes: &[u8]) -> Result<(u64, R), BadLine> {
    let bad = |element: Option<String>, reason: String| BadLine { line, element, reason };
    let text =
        std::str::from_utf8(bytes).map_err(|e| bad(None, format!("not valid UTF-8 at byte {}", e.valid_up_to())))?;
    let resource =
        serde_json::from_str::<R>(text).map_err(|e| bad(None, format!("not a valid {} resource: {e}", R::TYPE)))?;
    let problems = validate(&resource);
    if let Some(first) = problems.first() {
        let more = if problems.len() > 1 { format!(" (and {} more)", problems.len() - 1) } else { String::new() };
        return Err(bad(Some(first.element.clone()), format!("{}{more}", first.message)));
    }
    Ok((line, resource))
}
