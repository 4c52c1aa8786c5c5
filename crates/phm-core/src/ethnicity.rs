//! Ethnic category (NHS Data Dictionary, 16 codes for England) and the ONS 5-group summary.

/// The NHS Data Dictionary "Ethnic Category" for England (2001 census categories).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EthnicCategory {
    /// A: White - British.
    WhiteBritish,
    /// B: White - Irish.
    WhiteIrish,
    /// C: White - Any other White background.
    WhiteOther,
    /// D: Mixed - White and Black Caribbean.
    MixedWhiteBlackCaribbean,
    /// E: Mixed - White and Black African.
    MixedWhiteBlackAfrican,
    /// F: Mixed - White and Asian.
    MixedWhiteAsian,
    /// G: Mixed - Any other mixed background.
    MixedOther,
    /// H: Asian or Asian British - Indian.
    Indian,
    /// J: Asian or Asian British - Pakistani.
    Pakistani,
    /// K: Asian or Asian British - Bangladeshi.
    Bangladeshi,
    /// L: Asian or Asian British - Any other Asian background.
    AsianOther,
    /// M: Black or Black British - Caribbean.
    BlackCaribbean,
    /// N: Black or Black British - African.
    BlackAfrican,
    /// P: Black or Black British - Any other Black background.
    BlackOther,
    /// R: Other ethnic groups - Chinese.
    Chinese,
    /// S: Other ethnic groups - Any other ethnic group.
    OtherEthnicGroup,
}

/// The five high-level groups used by ONS (Census 2021 presentation order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EthnicGroup5 {
    /// Asian, Asian British or Asian Welsh (includes Chinese).
    Asian,
    /// Black, Black British, Black Welsh, Caribbean or African.
    Black,
    /// Mixed or Multiple ethnic groups.
    Mixed,
    /// White.
    White,
    /// Other ethnic group.
    Other,
}

impl EthnicCategory {
    /// All 16 categories in code order.
    pub const ALL: [Self; 16] = [
        Self::WhiteBritish,
        Self::WhiteIrish,
        Self::WhiteOther,
        Self::MixedWhiteBlackCaribbean,
        Self::MixedWhiteBlackAfrican,
        Self::MixedWhiteAsian,
        Self::MixedOther,
        Self::Indian,
        Self::Pakistani,
        Self::Bangladeshi,
        Self::AsianOther,
        Self::BlackCaribbean,
        Self::BlackAfrican,
        Self::BlackOther,
        Self::Chinese,
        Self::OtherEthnicGroup,
    ];

    /// The one-letter NHS code (`A`..`S`, no `I`, `O` or `Q`).
    pub fn code(self) -> &'static str {
        const CODES: [&str; 16] = ["A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "R", "S"];
        CODES[self as usize]
    }

    /// Parses a one-letter NHS code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The display text of the UK Core `UKCore-EthnicCategoryEngland` code system.
    pub fn display(self) -> &'static str {
        match self {
            Self::WhiteBritish => "White - British",
            Self::WhiteIrish => "White - Irish",
            Self::WhiteOther => "White - Any other White background",
            Self::MixedWhiteBlackCaribbean => "Mixed - White and Black Caribbean",
            Self::MixedWhiteBlackAfrican => "Mixed - White and Black African",
            Self::MixedWhiteAsian => "Mixed - White and Asian",
            Self::MixedOther => "Mixed - Any other mixed background",
            Self::Indian => "Asian or Asian British - Indian",
            Self::Pakistani => "Asian or Asian British - Pakistani",
            Self::Bangladeshi => "Asian or Asian British - Bangladeshi",
            Self::AsianOther => "Asian or Asian British - Any other Asian background",
            Self::BlackCaribbean => "Black or Black British - Caribbean",
            Self::BlackAfrican => "Black or Black British - African",
            Self::BlackOther => "Black or Black British - Any other Black background",
            Self::Chinese => "Other Ethnic Groups - Chinese",
            Self::OtherEthnicGroup => "Other Ethnic Groups - Any other ethnic group",
        }
    }

    /// The ONS 5-group this category belongs to (Chinese counts as Asian, as in Census 2021).
    pub fn group5(self) -> EthnicGroup5 {
        match self {
            Self::WhiteBritish | Self::WhiteIrish | Self::WhiteOther => EthnicGroup5::White,
            Self::MixedWhiteBlackCaribbean
            | Self::MixedWhiteBlackAfrican
            | Self::MixedWhiteAsian
            | Self::MixedOther => EthnicGroup5::Mixed,
            Self::Indian | Self::Pakistani | Self::Bangladeshi | Self::AsianOther | Self::Chinese => {
                EthnicGroup5::Asian
            }
            Self::BlackCaribbean | Self::BlackAfrican | Self::BlackOther => EthnicGroup5::Black,
            Self::OtherEthnicGroup => EthnicGroup5::Other,
        }
    }

    /// Whether this is one of the South Asian categories (Indian, Pakistani, Bangladeshi).
    pub fn is_south_asian(self) -> bool {
        matches!(self, Self::Indian | Self::Pakistani | Self::Bangladeshi)
    }
}

impl EthnicGroup5 {
    /// Lower-case name as stored in the `ethnic_group_5` column.
    pub fn name(self) -> &'static str {
        match self {
            Self::Asian => "asian",
            Self::Black => "black",
            Self::Mixed => "mixed",
            Self::White => "white",
            Self::Other => "other",
        }
    }
}
