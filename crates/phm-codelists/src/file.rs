//! Reading a file that a definition names, with its kind and size checked before a byte is
//! read: a device (`/dev/zero`), a pipe or a folder is refused rather than read forever, and a
//! file larger than the caller's bound is refused rather than read into memory.

use std::fmt;
use std::io::Read as _;
use std::path::Path;

/// The largest codelist file read: 16 MiB. The largest OpenCodelists lists (whole dm+d
/// chapters, tens of thousands of codes with their terms) are a few MiB; the ones in this
/// repository are under 20 KiB.
pub const MAX_CODELIST_BYTES: u64 = 16 << 20;

/// Why a file was not read.
#[derive(Debug)]
pub enum ReadError {
    /// Opening or reading failed (missing, no permission, …).
    Io(std::io::Error),
    /// Not a regular file: a folder, a device, a pipe or a socket.
    NotAFile {
        /// What it is.
        kind: &'static str,
    },
    /// Larger than the bound.
    TooLarge {
        /// The bound, in bytes.
        limit: u64,
    },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "{e}"),
            Self::NotAFile { kind } => write!(f, "it is {kind}, not a regular file"),
            Self::TooLarge { limit } => write!(f, "it is larger than {}, the most that is read", size(*limit)),
        }
    }
}

impl std::error::Error for ReadError {}

/// `bytes` for a person: `16 MiB`, `1 MiB`, `512 KiB`.
pub fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

/// Reads the regular file at `path` (symbolic links followed), at most `limit` bytes.
///
/// The file is opened without blocking (a pipe with no writer would otherwise hang the open) and
/// its kind is checked on the open handle, so it cannot be swapped for a device in between.
///
/// # Errors
/// [`ReadError::NotAFile`] for anything but a regular file, [`ReadError::TooLarge`] past
/// `limit` (checked on the size and again while reading, for a file that grows), and
/// [`ReadError::Io`] otherwise.
pub fn read_regular_file(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    // Checked before opening too: opening some devices has effects of its own.
    let meta = std::fs::metadata(path).map_err(ReadError::Io)?;
    check_kind(&meta)?;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        // O_NONBLOCK: a FIFO swapped in after the check above does not block the open.
        options.custom_flags(0o4000);
    }
    let file = options.open(path).map_err(ReadError::Io)?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    check_kind(&meta)?;
    if meta.len() > limit {
        return Err(ReadError::TooLarge { limit });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(bytes)
}

fn check_kind(meta: &std::fs::Metadata) -> Result<(), ReadError> {
    let t = meta.file_type();
    if t.is_file() {
        return Ok(());
    }
    let kind = if t.is_dir() {
        "a folder"
    } else {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt as _;
            if t.is_char_device() || t.is_block_device() {
                "a device"
            } else if t.is_fifo() {
                "a pipe"
            } else if t.is_socket() {
                "a socket"
            } else {
                "not a file"
            }
        }
        #[cfg(not(unix))]
        {
            "not a file"
        }
    };
    Err(ReadError::NotAFile { kind })
}
