//! The canonical tables: what the store holds after ingest, declared once.
//!
//! Each [`Table`] lists its [`Column`]s with a type, whether it may be null, a description and
//! constraints. The same declarations give the Arrow schema ([`Table::arrow_schema`]), the
//! generated reference page `docs/data-model.md` ([`markdown`]) and, in later crates, ingest
//! validation. Analytical tables carry only a pseudonymous `person_id`; identifying fields live
//! only in [`IDENTITY`], which is released solely for direct care.

use std::fmt::Write as _;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema};

/// The logical type of a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    /// UTF-8 text.
    Text,
    /// Calendar date.
    Date,
    /// 16-bit integer.
    SmallInt,
    /// 64-bit integer.
    Int,
    /// 64-bit float.
    Float,
    /// Boolean.
    Bool,
}

impl ColumnType {
    /// The Arrow type used for this column.
    pub fn arrow(self) -> DataType {
        match self {
            Self::Text => DataType::Utf8,
            Self::Date => DataType::Date32,
            Self::SmallInt => DataType::Int16,
            Self::Int => DataType::Int64,
            Self::Float => DataType::Float64,
            Self::Bool => DataType::Boolean,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Date => "date",
            Self::SmallInt => "int16",
            Self::Int => "int64",
            Self::Float => "float64",
            Self::Bool => "bool",
        }
    }
}

/// A constraint on a column's values, checked at ingest.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Constraint {
    /// One of these values.
    OneOf(&'static [&'static str]),
    /// Within this inclusive range.
    Range(f64, f64),
    /// A code that belongs to the code system named in the same row's `code_system` column.
    CodeInSystem,
    /// Refers to a row of a reference table (`reference/<file>`).
    References(&'static str),
}

/// One column of a canonical table.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    /// Column name.
    pub name: &'static str,
    /// Logical type.
    pub ty: ColumnType,
    /// Whether nulls are allowed.
    pub nullable: bool,
    /// What the column means.
    pub description: &'static str,
    /// Constraints on its values.
    pub constraints: &'static [Constraint],
}

/// A canonical table.
#[derive(Clone, Copy, Debug)]
pub struct Table {
    /// Table name.
    pub name: &'static str,
    /// What one row is, and what the table is for.
    pub description: &'static str,
    /// Columns in order.
    pub columns: &'static [Column],
}

impl Table {
    /// The Arrow schema of this table.
    pub fn arrow_schema(&self) -> Arc<Schema> {
        Arc::new(Schema::new(
            self.columns.iter().map(|c| Field::new(c.name, c.ty.arrow(), c.nullable)).collect::<Vec<_>>(),
        ))
    }

    /// The column with this name.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

const fn col(name: &'static str, ty: ColumnType, nullable: bool, description: &'static str) -> Column {
    Column { name, ty, nullable, description, constraints: &[] }
}

const fn col_c(
    name: &'static str,
    ty: ColumnType,
    nullable: bool,
    description: &'static str,
    constraints: &'static [Constraint],
) -> Column {
    Column { name, ty, nullable, description, constraints }
}

use ColumnType::{Bool, Date, Float, Int, SmallInt, Text};

const PERSON_ID: Column = col(
    "person_id",
    Text,
    false,
    "Pseudonymous person identifier: a keyed HMAC of the NHS number, the same across sources.",
);
const SOURCE: Column = col("source", Text, false, "Name of the extract the row came from.");
const SOURCE_ORG: Column = col("source_org", Text, false, "ODS code of the organisation that recorded the row.");
const CODE_SYSTEM: Column = col_c(
    "code_system",
    Text,
    false,
    "Code system of `code`.",
    &[Constraint::OneOf(&["snomed", "icd10", "dmd", "opcs4", "loinc", "rxnorm", "cvx"])],
);
const ENCOUNTER_ID: Column =
    col("encounter_id", Text, true, "The encounter the row was recorded in, when the source says.");

/// One row per person known to any source.
pub const PERSON: Table = Table {
    name: "person",
    description: "One row per person known to any source, with the demographics resolved across sources.",
    columns: &[
        PERSON_ID,
        col_c(
            "year_of_birth",
            SmallInt,
            true,
            "Year of birth; null when no source gives one (such people are in no age-based figure, and the data-quality report counts them).",
            &[Constraint::Range(1900.0, 2100.0)],
        ),
        col_c(
            "month_of_birth",
            SmallInt,
            true,
            "Month of birth, 1-12 (day is not kept in analytical tables); null when only the year is known.",
            &[Constraint::Range(1.0, 12.0)],
        ),
        col_c(
            "sex",
            Text,
            false,
            "Administrative gender as recorded: `female`, `male`, `other`, `unknown`.",
            &[Constraint::OneOf(&["female", "male", "other", "unknown"])],
        ),
        col_c(
            "ethnic_category",
            Text,
            true,
            "NHS ethnic category code `A`-`S` (16 groups); null when not stated.",
            &[Constraint::OneOf(&["A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "R", "S"])],
        ),
        col_c(
            "ethnic_group_5",
            Text,
            true,
            "ONS 5-group: `asian`, `black`, `mixed`, `white`, `other`.",
            &[Constraint::OneOf(&["asian", "black", "mixed", "white", "other"])],
        ),
        col_c("area_code", Text, true, "LSOA-level area of residence.", &[Constraint::References("areas.csv")]),
        col_c(
            "practice_code",
            Text,
            true,
            "Practice of the latest GP registration (current if `registration.end_date` is null).",
            &[Constraint::References("practices.csv")],
        ),
        col("date_of_death", Date, true, "Date of death, if dead."),
        col(
            "national_data_opt_out",
            Bool,
            false,
            "National data opt-out registered: exclude from every secondary-use output; still available for direct care.",
        ),
        col(
            "type_1_opt_out",
            Bool,
            false,
            "Type 1 opt-out registered at the GP practice: GP data not to leave the practice for secondary use.",
        ),
    ],
};

/// One row per period of registration with a GP practice.
pub const REGISTRATION: Table = Table {
    name: "registration",
    description: "One row per period of registration with a GP practice.",
    columns: &[
        PERSON_ID,
        col_c("practice_code", Text, false, "Practice registered with.", &[Constraint::References("practices.csv")]),
        col("start_date", Date, false, "First day of registration."),
        col("end_date", Date, true, "Last day of registration; null while still registered."),
        SOURCE,
    ],
};

/// Identifying details, held apart from the analytical tables.
pub const IDENTITY: Table = Table {
    name: "identity",
    description: "Identifying details as each source sent them. Held apart from the analytical tables and released only for direct care.",
    columns: &[
        PERSON_ID,
        col("nhs_number", Text, false, "NHS number, 10 digits, Modulus 11 valid."),
        col("given_name", Text, true, "Given name."),
        col("family_name", Text, true, "Family name."),
        col("date_of_birth", Date, true, "Full date of birth."),
        col("address_line", Text, true, "First line of the address."),
        col("town", Text, true, "Town or city."),
        col("postcode", Text, true, "Postcode."),
        SOURCE,
    ],
};

/// Diagnoses.
pub const CONDITION: Table = Table {
    name: "condition",
    description: "One row per recorded diagnosis: SNOMED CT in primary care, ICD-10 in hospital.",
    columns: &[
        PERSON_ID,
        col_c("code", Text, false, "Diagnosis code.", &[Constraint::CodeInSystem]),
        CODE_SYSTEM,
        col("date", Date, false, "Onset date, or the date recorded where onset is not given."),
        col_c(
            "diagnosis_rank",
            SmallInt,
            true,
            "Position in a hospital spell's diagnoses: 1 = primary.",
            &[Constraint::Range(1.0, 20.0)],
        ),
        ENCOUNTER_ID,
        SOURCE_ORG,
        SOURCE,
    ],
};

/// Observations and measurements.
pub const OBSERVATION: Table = Table {
    name: "observation",
    description: "One row per observation: measurements with a value and unit (BMI, blood pressure, HbA1c) and coded findings (smoking status).",
    columns: &[
        PERSON_ID,
        col_c("code", Text, false, "What was observed (SNOMED CT).", &[Constraint::CodeInSystem]),
        CODE_SYSTEM,
        col("date", Date, false, "Date of the observation."),
        col("value", Float, true, "Numeric value, if any."),
        col("unit", Text, true, "UCUM unit of `value`."),
        col(
            "value_code",
            Text,
            true,
            "Coded value, if any (FHIR `valueCodeableConcept`): e.g. the SNOMED CT finding `266919005` (never smoked) of a smoking status observation coded LOINC `72166-2`.",
        ),
        col_c(
            "value_code_system",
            Text,
            true,
            "Code system of `value_code`.",
            &[Constraint::OneOf(&["snomed", "icd10", "dmd", "opcs4", "loinc", "rxnorm", "cvx"])],
        ),
        ENCOUNTER_ID,
        SOURCE_ORG,
        SOURCE,
    ],
};

/// Medicines.
pub const MEDICATION: Table = Table {
    name: "medication",
    description: "One row per medicine course (dm+d).",
    columns: &[
        PERSON_ID,
        col_c("code", Text, false, "dm+d product code.", &[Constraint::CodeInSystem]),
        CODE_SYSTEM,
        col("date", Date, false, "Start of the course."),
        col("end_date", Date, true, "End of the course; null while current."),
        SOURCE_ORG,
        SOURCE,
    ],
};

/// Immunisations.
pub const IMMUNISATION: Table = Table {
    name: "immunisation",
    description: "One row per vaccination given.",
    columns: &[
        PERSON_ID,
        col_c("code", Text, false, "Vaccination procedure (SNOMED CT).", &[Constraint::CodeInSystem]),
        CODE_SYSTEM,
        col("date", Date, false, "Date given."),
        col_c("dose_number", SmallInt, true, "Dose number in the schedule.", &[Constraint::Range(1.0, 10.0)]),
        SOURCE_ORG,
        SOURCE,
    ],
};

/// Encounters.
pub const ENCOUNTER: Table = Table {
    name: "encounter",
    description: "One row per contact with a service: GP appointment, A&E attendance, admission, outpatient, community, mental health or social care.",
    columns: &[
        col("encounter_id", Text, false, "Identifier of the encounter, unique within the store."),
        PERSON_ID,
        col_c(
            "setting",
            Text,
            false,
            "Care setting.",
            &[Constraint::OneOf(&[
                "gp",
                "ae",
                "emergency_admission",
                "elective_admission",
                "other_admission",
                "outpatient",
                "community",
                "mental_health",
                "social_care",
            ])],
        ),
        col("start_date", Date, false, "Start (attendance or admission) date."),
        col("end_date", Date, true, "End (discharge) date, for spells."),
        col("code", Text, true, "Type of encounter (SNOMED CT), if given."),
        SOURCE_ORG,
        SOURCE,
    ],
};

/// Procedures.
pub const PROCEDURE: Table = Table {
    name: "procedure",
    description: "One row per procedure: screening in primary care (SNOMED CT), operations in hospital (OPCS-4).",
    columns: &[
        PERSON_ID,
        col_c("code", Text, false, "Procedure code.", &[Constraint::CodeInSystem]),
        CODE_SYSTEM,
        col("date", Date, false, "Date performed."),
        ENCOUNTER_ID,
        SOURCE_ORG,
        SOURCE,
    ],
};

/// What each source says about a person, before linkage resolves them into [`PERSON`].
pub const PERSON_SOURCE: Table = Table {
    name: "person_source",
    description: "One row per person per source: the demographics as that source recorded them, pseudonymised. `person` is resolved from these rows by the linkage rule (ARCHITECTURE.md, \"Linkage\").",
    columns: &[
        PERSON_ID,
        SOURCE,
        col_c(
            "source_type",
            Text,
            false,
            "Kind of partner: `gp_practice`, `acute_trust`, `community_trust`, `mental_health_trust`, `local_authority`, `other`.",
            &[Constraint::OneOf(&[
                "gp_practice",
                "acute_trust",
                "community_trust",
                "mental_health_trust",
                "local_authority",
                "other",
            ])],
        ),
        SOURCE_ORG,
        col(
            "linked",
            Bool,
            false,
            "Whether the pseudonym comes from an NHS number (and so links across sources); false for a source-local identifier.",
        ),
        col_c("year_of_birth", SmallInt, true, "Year of birth.", &[Constraint::Range(1900.0, 2100.0)]),
        col_c("month_of_birth", SmallInt, true, "Month of birth.", &[Constraint::Range(1.0, 12.0)]),
        col_c(
            "sex",
            Text,
            true,
            "Administrative gender as recorded.",
            &[Constraint::OneOf(&["female", "male", "other", "unknown"])],
        ),
        col("ethnic_category", Text, true, "NHS ethnic category code, null when not stated."),
        col("area_code", Text, true, "LSOA of the recorded postcode, through the postcode lookup in the store."),
        col("practice_code", Text, true, "GP practice the source names (e.g. `Patient.generalPractitioner`)."),
        col("date_of_death", Date, true, "Date of death, if the source records one."),
        col("extract_date", Date, true, "Date of the extract the row came from."),
    ],
};

/// The national data opt-out list, pseudonymised.
pub const OPT_OUT: Table = Table {
    name: "opt_out",
    description: "One row per person on the national data opt-out list (pseudonymised). `person.national_data_opt_out` is derived from it.",
    columns: &[PERSON_ID, SOURCE],
};

/// Postcode to area lookup (ONS Postcode Directory layout).
pub const POSTCODE_AREA: Table = Table {
    name: "postcode_area",
    description: "Reference: postcode to LSOA and local authority, loaded from an ONS Postcode Directory (or National Statistics Postcode Lookup) extract.",
    columns: &[
        col("postcode", Text, false, "Postcode in the ONS `pcds` form (`MK40 1AA`)."),
        col("area_code", Text, false, "LSOA code."),
        col("la_code", Text, true, "Local authority district code."),
        SOURCE,
    ],
};

/// Deprivation by area (English Indices of Deprivation layout).
pub const AREA_DEPRIVATION: Table = Table {
    name: "area_deprivation",
    description: "Reference: Index of Multiple Deprivation rank and decile by LSOA, loaded from the English Indices of Deprivation File 1 layout.",
    columns: &[
        col("area_code", Text, false, "LSOA code."),
        col("area_name", Text, true, "LSOA name."),
        col("la_code", Text, true, "Local authority district code."),
        col_c("imd_rank", Int, false, "IMD rank, 1 = most deprived.", &[Constraint::Range(1.0, 100_000.0)]),
        col_c("imd_decile", SmallInt, false, "IMD decile, 1 = most deprived 10%.", &[Constraint::Range(1.0, 10.0)]),
        SOURCE,
    ],
};

/// Practices and their primary care networks (NHS England ePCN layout).
pub const PRACTICE_PCN: Table = Table {
    name: "practice_pcn",
    description: "Reference: GP practice to primary care network, loaded from NHS England's ePCN list (\"PCN Core Partner Details\").",
    columns: &[
        col("practice_code", Text, false, "Practice ODS code."),
        col("practice_name", Text, true, "Practice name."),
        col("pcn_code", Text, false, "PCN ODS code."),
        col("pcn_name", Text, true, "PCN name."),
        col("sub_icb_code", Text, true, "Sub-ICB location code."),
        col("start_date", Date, true, "Date the practice joined the PCN."),
        col("end_date", Date, true, "Date it left, if it has."),
        SOURCE,
    ],
};

/// Every canonical table, in documentation order.
pub const TABLES: [&Table; 14] = [
    &PERSON,
    &REGISTRATION,
    &IDENTITY,
    &CONDITION,
    &OBSERVATION,
    &MEDICATION,
    &IMMUNISATION,
    &ENCOUNTER,
    &PROCEDURE,
    &PERSON_SOURCE,
    &OPT_OUT,
    &POSTCODE_AREA,
    &AREA_DEPRIVATION,
    &PRACTICE_PCN,
];

/// The reference tables, which hold no person-level data.
pub const REFERENCE_TABLES: [&Table; 3] = [&POSTCODE_AREA, &AREA_DEPRIVATION, &PRACTICE_PCN];

/// A table by name.
pub fn table(name: &str) -> Option<&'static Table> {
    TABLES.into_iter().find(|t| t.name == name)
}

/// Renders the reference page `docs/data-model.md` from the declarations.
pub fn markdown() -> String {
    let mut out = String::new();
    out.push_str("# Canonical data model\n\n");
    out.push_str("<!-- Generated from `crates/phm-core/src/schema.rs` by `PHM_UPDATE_DOCS=1 cargo test -p phm-core`; do not edit by hand. -->\n\n");
    out.push_str("What the store holds after ingest. Analytical tables carry only the pseudonymous `person_id`; ");
    out.push_str("identifying fields are only in `identity`, which is released solely for direct care. ");
    out.push_str("Types are Arrow types: text = Utf8, date = Date32.\n");
    for table in TABLES {
        let _ = write!(out, "\n## `{}`\n\n{}\n\n", table.name, table.description);
        out.push_str("| column | type | null | meaning | constraints |\n|---|---|---|---|---|\n");
        for c in table.columns {
            let constraints: Vec<String> = c
                .constraints
                .iter()
                .map(|k| match k {
                    Constraint::OneOf(values) => {
                        format!("one of {}", values.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", "))
                    }
                    Constraint::Range(lo, hi) => format!("{lo} to {hi}"),
                    Constraint::CodeInSystem => "valid in `code_system`".to_owned(),
                    Constraint::References(file) => format!("in `reference/{file}`"),
                })
                .collect();
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                c.name,
                c.ty.label(),
                if c.nullable { "yes" } else { "no" },
                c.description,
                constraints.join("; ")
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analytical_tables_hold_no_identifying_columns() {
        let identifying = ["nhs_number", "given_name", "family_name", "date_of_birth", "address_line", "postcode"];
        // Reference tables hold no people: a postcode there is a place, not a person's address.
        for table in
            TABLES.iter().filter(|t| t.name != "identity" && !REFERENCE_TABLES.iter().any(|r| r.name == t.name))
        {
            for c in table.columns {
                assert!(!identifying.contains(&c.name), "{}.{} is identifying", table.name, c.name);
            }
        }
    }

    #[test]
    fn every_table_has_a_person_id_and_arrow_schema() {
        for table in TABLES.iter().filter(|t| !REFERENCE_TABLES.iter().any(|r| r.name == t.name)) {
            let schema = table.arrow_schema();
            assert!(schema.field_with_name("person_id").is_ok(), "{}", table.name);
            assert_eq!(schema.fields().len(), table.columns.len());
        }
    }

    #[test]
    fn generated_data_model_doc_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/data-model.md");
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        if committed != markdown() {
            if std::env::var_os("PHM_UPDATE_DOCS").is_some() {
                std::fs::write(path, markdown()).expect("write docs/data-model.md");
            } else {
                panic!("docs/data-model.md is stale: run `PHM_UPDATE_DOCS=1 cargo test -p phm-core`");
            }
        }
    }
}
