//! Located findings about single rows of a codelist.

use std::fmt;
use std::path::PathBuf;

use phm_core::codes::{CodeError, CodeSystem};

/// How bad a [`Problem`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The code was taken, after normalisation; the list is usable but its file should be fixed.
    Warning,
    /// The row gave no usable code. Loading goes on; a definition should refuse the list.
    Error,
}

/// What is wrong with a row. [`ProblemKind::severity`] says whether the code was still taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    /// The code cell is empty but the row is not.
    EmptyCode,
    /// Every cell of the row is empty (spreadsheets often leave such rows at the end).
    BlankRow,
    /// The code fails its system's form check ([`phm_core::codes::check_code`]).
    Invalid(CodeError),
    /// A spreadsheet turned the code into a number in scientific notation (`3.83E+13`); the
    /// digits it dropped are gone.
    ScientificNotation,
    /// An id of more than 15 digits ends in zeros and fails its check: a spreadsheet kept only
    /// 15 significant digits, and the rest cannot be recovered.
    PrecisionLost,
    /// An all-digit code written as a decimal (`38341003.0`); taken without the `.0`.
    DecimalSuffix,
    /// Spaces, tabs or non-breaking spaces around the code; taken trimmed.
    Whitespace,
    /// A SNOMED CT or dm+d id padded with leading zeros, which valid ids never have; taken
    /// without them because the rest passes the check digit.
    LeadingZeros,
    /// An ICD-10 or OPCS-4 code in lowercase, with a dot or with an `X` filler; taken in the
    /// form the store holds (`E11.9` → `E119`, `i10x` → `I10`).
    Normalised,
    /// The code has the form of another system's codes, not the declared one.
    WrongSystem {
        /// The system the code looks like it belongs to.
        looks_like: CodeSystem,
    },
    /// The code looks like a Read v2 or CTV3 code (five characters such as `G20..` or
    /// `XaIQD`), which OpenPHM does not read.
    ReadCode,
    /// The code (after normalisation) appeared on an earlier line; it is kept once.
    Duplicate {
        /// The line where it first appeared.
        first_line: u64,
    },
    /// The file has no rows with a code (only the header, or blank rows), so a definition using
    /// it would match nobody. (When every row has an error, those errors say so instead.)
    NoCodes,
}

impl ProblemKind {
    /// Whether the row's code was still taken ([`Severity::Warning`]) or not.
    pub fn severity(self) -> Severity {
        match self {
            Self::BlankRow
            | Self::DecimalSuffix
            | Self::Whitespace
            | Self::LeadingZeros
            | Self::Normalised
            | Self::Duplicate { .. } => Severity::Warning,
            Self::EmptyCode
            | Self::Invalid(_)
            | Self::ScientificNotation
            | Self::PrecisionLost
            | Self::WrongSystem { .. }
            | Self::ReadCode
            | Self::NoCodes => Severity::Error,
        }
    }
}

/// One finding about one row of a codelist file, located for a person to fix.
///
/// Displays as `path:line: column `value`: message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The codelist file.
    pub path: PathBuf,
    /// The 1-based line where the CSV record starts (the header is line 1).
    pub line: u64,
    /// The name of the code column.
    pub column: String,
    /// The cell exactly as written in the file.
    pub value: String,
    /// What is wrong.
    pub kind: ProblemKind,
    /// What is wrong and what to do about it, in a sentence or two.
    pub message: String,
}

impl Problem {
    /// Whether the row's code was still taken.
    pub fn severity(&self) -> Severity {
        self.kind.severity()
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Escaped, so that non-breaking spaces and tabs are visible, and cut to a readable length.
        let shown: String = self.value.chars().take(40).collect::<String>().escape_debug().to_string();
        let more = if self.value.chars().count() > 40 { "..." } else { "" };
        write!(f, "{}:{}: {} `{shown}{more}`: {}", self.path.display(), self.line, self.column, self.message)
    }
}
