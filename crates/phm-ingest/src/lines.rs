//! Reading a text file as numbered lines in blocks, processed in parallel, merged in order.
//!
//! A line longer than [`MAX_LINE`] is not held in memory: it is passed on as `oversized` with
//! its length so that it can be rejected with a reason, and reading goes on after it. Every
//! line of the file reaches the caller exactly once, so counts reconcile.

use std::io::{BufRead, Read};

use rayon::prelude::*;

/// The longest line kept: longer ones are reported, not parsed.
pub const MAX_LINE: usize = 16 * 1024 * 1024;

/// Target bytes per block handed to a worker.
const BLOCK_BYTES: usize = 4 * 1024 * 1024;

/// One line of a block.
#[derive(Clone, Copy, Debug)]
pub struct Line {
    /// 1-based line number in the file.
    pub number: u64,
    start: usize,
    end: usize,
    /// For an oversized line, its full length in bytes (its text is not kept).
    pub oversized: Option<u64>,
}

/// A run of consecutive lines.
#[derive(Debug, Default)]
pub struct Block {
    data: Vec<u8>,
    lines: Vec<Line>,
}

impl Block {
    /// Bytes in the block (for progress).
    pub fn bytes(&self) -> u64 {
        self.data.len() as u64 + self.lines.len() as u64
    }

    /// The lines with their bytes (without the line ending).
    pub fn lines(&self) -> impl Iterator<Item = (Line, &[u8])> {
        self.lines.iter().map(|l| (*l, &self.data[l.start..l.end]))
    }
}

/// Reads lines from `input` into blocks.
pub struct BlockReader<R> {
    input: R,
    line_no: u64,
    done: bool,
}

impl<R: BufRead> BlockReader<R> {
    /// A reader over `input`.
    pub fn new(input: R) -> Self {
        Self { input, line_no: 0, done: false }
    }

    /// The next block, or `None` at the end of the input.
    pub fn next_block(&mut self) -> std::io::Result<Option<Block>> {
        if self.done {
            return Ok(None);
        }
        let mut block = Block { data: Vec::with_capacity(BLOCK_BYTES + 64 * 1024), lines: Vec::new() };
        while block.data.len() < BLOCK_BYTES {
            let start = block.data.len();
            let (len, ended) = self.read_line(&mut block.data)?;
            if len == 0 && !ended {
                self.done = true;
                break;
            }
            self.line_no += 1;
            // A UTF-8 byte-order mark at the start of the file is not part of its first line.
            if self.line_no == 1 && block.data[start..].starts_with(b"\xEF\xBB\xBF") {
                block.data.drain(start..start + 3);
            }
            let mut end = block.data.len();
            if block.data[start..end].ends_with(b"\r") {
                end -= 1;
            }
            let oversized = (len > MAX_LINE as u64).then_some(len);
            block.lines.push(Line {
                number: self.line_no,
                start,
                end: if oversized.is_some() { start } else { end },
                oversized,
            });
            if oversized.is_some() {
                block.data.truncate(start);
            }
            if !ended {
                self.done = true;
                break;
            }
        }
        Ok((!block.lines.is_empty()).then_some(block))
    }

    /// Appends one line (without `\n`) to `out`, keeping at most `MAX_LINE + 1` bytes of it.
    /// Returns the line's full length and whether a `\n` ended it.
    fn read_line(&mut self, out: &mut Vec<u8>) -> std::io::Result<(u64, bool)> {
        let start = out.len();
        let mut len = 0u64;
        loop {
            let buf = match self.input.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                return Ok((len, false));
            }
            let (chunk, found) = match buf.iter().position(|b| *b == b'\n') {
                Some(i) => (&buf[..i], true),
                None => (buf, false),
            };
            let room = (MAX_LINE + 1).saturating_sub(out.len() - start);
            out.extend_from_slice(&chunk[..chunk.len().min(room)]);
            len += chunk.len() as u64;
            let used = chunk.len() + usize::from(found);
            self.input.consume(used);
            if found {
                return Ok((len, true));
            }
        }
    }
}

/// Runs `work` over every block of `input` on the rayon pool, `batch` blocks at a time, and
/// hands each result to `merge` in file order.
pub fn for_each_block<R, T, W, M, E>(
    input: R,
    on_io: impl Fn(std::io::Error) -> E,
    work: W,
    mut merge: M,
) -> Result<(), E>
where
    R: Read,
    T: Send,
    W: Fn(&Block) -> T + Sync,
    M: FnMut(T) -> Result<(), E>,
{
    let mut reader = BlockReader::new(std::io::BufReader::with_capacity(1 << 20, input));
    let batch = rayon::current_num_threads().max(1) * 2;
    loop {
        let mut blocks = Vec::with_capacity(batch);
        while blocks.len() < batch {
            match reader.next_block().map_err(&on_io)? {
                Some(b) => blocks.push(b),
                None => break,
            }
        }
        if blocks.is_empty() {
            return Ok(());
        }
        let outputs: Vec<T> = blocks.par_iter().map(&work).collect();
        for out in outputs {
            merge(out)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_lines(text: &[u8]) -> Vec<(u64, Vec<u8>, Option<u64>)> {
        let mut r = BlockReader::new(std::io::Cursor::new(text.to_vec()));
        let mut out = Vec::new();
        while let Some(b) = r.next_block().expect("read") {
            out.extend(b.lines().map(|(l, bytes)| (l.number, bytes.to_vec(), l.oversized)));
        }
        out
    }

    #[test]
    fn every_line_is_numbered_including_empty_ones_and_a_last_line_without_newline() {
        let lines = all_lines(b"a\n\nb\r\nc");
        let texts: Vec<_> = lines.iter().map(|(n, t, _)| (*n, String::from_utf8_lossy(t).into_owned())).collect();
        assert_eq!(texts, vec![(1, "a".into()), (2, String::new()), (3, "b".into()), (4, "c".into())]);
        assert!(all_lines(b"").is_empty());
        assert_eq!(all_lines(b"\n").len(), 1);
    }

    #[test]
    fn a_byte_order_mark_at_the_start_of_the_file_is_not_part_of_the_first_line() {
        let lines = all_lines(b"\xEF\xBB\xBFa\n\xEF\xBB\xBFb\n");
        assert_eq!(lines[0].1, b"a");
        // Only at the start of the file: elsewhere it is content, for the reader to name.
        assert_eq!(lines[1].1, b"\xEF\xBB\xBFb");
    }

    #[test]
    fn an_oversized_line_is_reported_with_its_length_and_reading_goes_on() {
        let mut text = vec![b'x'; MAX_LINE + 10];
        text.extend_from_slice(b"\nnext\n");
        let lines = all_lines(&text);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].2, Some((MAX_LINE + 10) as u64));
        assert!(lines[0].1.is_empty());
        assert_eq!(lines[1].1, b"next");
    }
}
