//! Care settings of an encounter.

/// Where an encounter happened, as the canonical `encounter.setting` column stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Setting {
    /// General practice appointment (any mode).
    Gp,
    /// Attendance at an emergency department (A&E, type 1-4).
    AE,
    /// Emergency (non-elective) hospital admission.
    EmergencyAdmission,
    /// Elective (planned) admission, ordinary or day case.
    ElectiveAdmission,
    /// Any other admission: maternity, transfers from another provider, or method not given.
    OtherAdmission,
    /// Outpatient attendance.
    Outpatient,
    /// Community health services contact.
    Community,
    /// Secondary mental health services contact.
    MentalHealth,
    /// Adult social care service episode or assessment.
    SocialCare,
}

impl Setting {
    /// Every setting.
    pub const ALL: [Self; 9] = [
        Self::Gp,
        Self::AE,
        Self::EmergencyAdmission,
        Self::ElectiveAdmission,
        Self::OtherAdmission,
        Self::Outpatient,
        Self::Community,
        Self::MentalHealth,
        Self::SocialCare,
    ];

    /// The value stored in `encounter.setting`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Gp => "gp",
            Self::AE => "ae",
            Self::EmergencyAdmission => "emergency_admission",
            Self::ElectiveAdmission => "elective_admission",
            Self::OtherAdmission => "other_admission",
            Self::Outpatient => "outpatient",
            Self::Community => "community",
            Self::MentalHealth => "mental_health",
            Self::SocialCare => "social_care",
        }
    }

    /// Looks a setting up by its stored name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }
}
