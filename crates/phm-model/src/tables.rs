//! The tables a definition can read, as the language sees them.
//!
//! Names here are the language's names; [`EventTable::columns`] maps each to the store's
//! column (`phm_core::schema`). Every event table has a `date` column that orders its rows.

use serde::Serialize;

use crate::Type;

/// A column of an event table: language name, store column, type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventColumn {
    /// Name in definitions.
    pub name: &'static str,
    /// Column in the store.
    pub store: &'static str,
    /// Type (16-bit store integers are read as whole numbers).
    pub ty: Type,
    /// What it holds.
    pub doc: &'static str,
}

const fn c(name: &'static str, store: &'static str, ty: Type, doc: &'static str) -> EventColumn {
    EventColumn { name, store, ty, doc }
}

/// Tables with many rows per person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventTable {
    /// Diagnoses and problems (GP SNOMED CT, hospital ICD-10).
    Condition,
    /// Observations and measurements (blood pressure, BMI, smoking status, HbA1c).
    Observation,
    /// Prescribed medicines (dm+d).
    Medication,
    /// Vaccinations given.
    Immunisation,
    /// Contacts: GP consultations, A&E attendances, admissions, community and mental-health contacts.
    Encounter,
    /// Procedures (SNOMED CT, OPCS-4).
    Procedure,
    /// GP registrations, one row per period registered with a practice.
    Registration,
}

impl EventTable {
    /// All, in documentation order.
    pub const ALL: [EventTable; 7] = [
        EventTable::Condition,
        EventTable::Observation,
        EventTable::Medication,
        EventTable::Immunisation,
        EventTable::Encounter,
        EventTable::Procedure,
        EventTable::Registration,
    ];

    /// Name in definitions and in the store.
    pub fn name(self) -> &'static str {
        match self {
            EventTable::Condition => "condition",
            EventTable::Observation => "observation",
            EventTable::Medication => "medication",
            EventTable::Immunisation => "immunisation",
            EventTable::Encounter => "encounter",
            EventTable::Procedure => "procedure",
            EventTable::Registration => "registration",
        }
    }

    /// Look up by name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    /// One-line description.
    pub fn doc(self) -> &'static str {
        match self {
            EventTable::Condition => "Diagnoses and problems: GP records in SNOMED CT, hospital diagnoses in ICD-10.",
            EventTable::Observation => "Observations and measurements, with a numeric `value` where there is one.",
            EventTable::Medication => "Prescribed medicines (dm+d); `date` is the start of the course.",
            EventTable::Immunisation => "Vaccinations given.",
            EventTable::Encounter => "Contacts with services; `date` is the start (attendance or admission) date.",
            EventTable::Procedure => "Procedures (SNOMED CT in primary care, OPCS-4 in hospital).",
            EventTable::Registration => {
                "GP registrations; `date` is the first day registered, `end_date` the last (missing while registered)."
            }
        }
    }

    /// Columns, language name first. The first is always `date`.
    pub fn columns(self) -> &'static [EventColumn] {
        use Type::*;
        const CODE: EventColumn = c("code", "code", Text, "The code recorded.");
        const SYSTEM: EventColumn = c("code_system", "code_system", Text, "`snomed`, `icd10`, `dmd` or `opcs4`.");
        const ORG: EventColumn = c("source_org", "source_org", Text, "ODS code of the recording organisation.");
        const CONDITION_COLUMNS: &[EventColumn] = &[
            c("date", "date", Date, "Onset date, or the date recorded."),
            CODE,
            SYSTEM,
            c("diagnosis_rank", "diagnosis_rank", Int, "Position in a hospital spell's diagnoses: 1 = primary."),
            ORG,
        ];
        const OBSERVATION_COLUMNS: &[EventColumn] = &[
            c("date", "date", Date, "Date of the observation."),
            CODE,
            SYSTEM,
            c("value", "value", Float, "Numeric value, if any."),
            c("unit", "unit", Text, "UCUM unit of the value."),
            ORG,
        ];
        const MEDICATION_COLUMNS: &[EventColumn] = &[
            c("date", "date", Date, "Start of the course."),
            CODE,
            SYSTEM,
            c("end_date", "end_date", Date, "End of the course; missing while current."),
            ORG,
        ];
        const IMMUNISATION_COLUMNS: &[EventColumn] = &[
            c("date", "date", Date, "Date given."),
            CODE,
            SYSTEM,
            c("dose_number", "dose_number", Int, "Dose number in the schedule, if recorded."),
            ORG,
        ];
        const ENCOUNTER_COLUMNS: &[EventColumn] = &[
            c("date", "start_date", Date, "Start (attendance or admission) date."),
            c("code", "code", Text, "Type of encounter (SNOMED CT), if given."),
            c(
                "setting",
                "setting",
                Text,
                "`gp`, `ae`, `emergency_admission`, `elective_admission`, `other_admission`, `community`, `mental_health`, `social_care` or `other`.",
            ),
            c("end_date", "end_date", Date, "End (discharge) date, for spells."),
            ORG,
        ];
        const PROCEDURE_COLUMNS: &[EventColumn] = &[c("date", "date", Date, "Date performed."), CODE, SYSTEM, ORG];
        const REGISTRATION_COLUMNS: &[EventColumn] = &[
            c("date", "start_date", Date, "First day of registration."),
            c("end_date", "end_date", Date, "Last day of registration; missing while registered."),
            c("practice", "practice_code", Text, "Practice ODS code."),
        ];
        match self {
            EventTable::Condition => CONDITION_COLUMNS,
            EventTable::Observation => OBSERVATION_COLUMNS,
            EventTable::Medication => MEDICATION_COLUMNS,
            EventTable::Immunisation => IMMUNISATION_COLUMNS,
            EventTable::Encounter => ENCOUNTER_COLUMNS,
            EventTable::Procedure => PROCEDURE_COLUMNS,
            EventTable::Registration => REGISTRATION_COLUMNS,
        }
    }

    /// A column by language name.
    pub fn column(self, name: &str) -> Option<&'static EventColumn> {
        self.columns().iter().find(|c| c.name == name)
    }

    /// Order used by `first` and `last`: every column, `date` first, then `code` when the
    /// table has one, then the rest in declaration order; ascending, missing values last.
    pub fn sort_columns(self) -> Vec<&'static EventColumn> {
        let cols = self.columns();
        let mut out: Vec<&EventColumn> = cols.iter().filter(|c| c.name == "date").collect();
        out.extend(cols.iter().filter(|c| c.name == "code"));
        out.extend(cols.iter().filter(|c| c.name != "date" && c.name != "code"));
        out
    }
}

/// Attributes held once per person (the `person` table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonAttr {
    /// `female`, `male`, `other`, `unknown`.
    Sex,
    /// NHS ethnic category code `A`–`S`; missing when not stated.
    EthnicCategory,
    /// ONS 5 groups: `asian`, `black`, `mixed`, `white`, `other`; missing when not stated.
    EthnicGroup5,
    /// Year of birth.
    YearOfBirth,
    /// Month of birth, 1–12.
    MonthOfBirth,
    /// Date of death.
    DateOfDeath,
    /// LSOA of residence.
    AreaCode,
    /// National data opt-out registered.
    OptedOut,
    /// Place (local authority) of residence, from the area.
    Place,
    /// IMD 2019 decile of the area of residence (1 = most deprived).
    ImdDecile,
    /// IMD 2019 quintile (1 = most deprived).
    ImdQuintile,
}

impl PersonAttr {
    /// All.
    pub const ALL: [PersonAttr; 11] = [
        PersonAttr::Sex,
        PersonAttr::EthnicCategory,
        PersonAttr::EthnicGroup5,
        PersonAttr::YearOfBirth,
        PersonAttr::MonthOfBirth,
        PersonAttr::DateOfDeath,
        PersonAttr::AreaCode,
        PersonAttr::OptedOut,
        PersonAttr::Place,
        PersonAttr::ImdDecile,
        PersonAttr::ImdQuintile,
    ];

    /// Store column of `person`, or `None` for attributes looked up from the area.
    pub fn store_column(self) -> Option<&'static str> {
        Some(match self {
            PersonAttr::Sex => "sex",
            PersonAttr::EthnicCategory => "ethnic_category",
            PersonAttr::EthnicGroup5 => "ethnic_group_5",
            PersonAttr::YearOfBirth => "year_of_birth",
            PersonAttr::MonthOfBirth => "month_of_birth",
            PersonAttr::DateOfDeath => "date_of_death",
            PersonAttr::AreaCode => "area_code",
            PersonAttr::OptedOut => "national_data_opt_out",
            PersonAttr::Place | PersonAttr::ImdDecile | PersonAttr::ImdQuintile => return None,
        })
    }

    /// Column name in engine plans.
    pub fn key(self) -> &'static str {
        match self {
            PersonAttr::Sex => "sex",
            PersonAttr::EthnicCategory => "ethnicity",
            PersonAttr::EthnicGroup5 => "ethnicity5",
            PersonAttr::YearOfBirth => "year_of_birth",
            PersonAttr::MonthOfBirth => "month_of_birth",
            PersonAttr::DateOfDeath => "date_of_death",
            PersonAttr::AreaCode => "area",
            PersonAttr::OptedOut => "opted_out",
            PersonAttr::Place => "place",
            PersonAttr::ImdDecile => "imd_decile",
            PersonAttr::ImdQuintile => "imd_quintile",
        }
    }

    /// Type.
    pub fn ty(self) -> Type {
        match self {
            PersonAttr::YearOfBirth | PersonAttr::MonthOfBirth | PersonAttr::ImdDecile | PersonAttr::ImdQuintile => {
                Type::Int
            }
            PersonAttr::DateOfDeath => Type::Date,
            PersonAttr::OptedOut => Type::Bool,
            _ => Type::Text,
        }
    }
}

/// Reference lookups both engines use for area- and practice-based attributes, loaded by
/// `phm-engine` from the store (`area_deprivation`, `practice_pcn`) or the built-in reference
/// data.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Lookups {
    /// Area (LSOA) → (place code, IMD decile).
    pub areas: std::collections::BTreeMap<String, (Option<String>, Option<i64>)>,
    /// Practice → (PCN code, place code).
    pub practices: std::collections::BTreeMap<String, (Option<String>, Option<String>)>,
}
