//! Codes that apply to one sex only (from `codelists/`). Plausible measurement ranges are
//! `phm_core::reference::PlausibleRanges`, the ones ingest checks against.

/// Sex of a person, as the checks compare it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sex {
    Unknown,
    Female,
    Male,
    Other,
}

impl Sex {
    pub(crate) fn from_name(name: &str) -> Self {
        match name {
            "female" => Self::Female,
            "male" => Self::Male,
            "other" => Self::Other,
            _ => Self::Unknown,
        }
    }
}

/// A SNOMED CT code that applies to people of one sex.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SexSpecific {
    pub code: String,
    pub term: String,
    pub codelist: &'static str,
    pub sex: Sex,
}

/// Codelists whose codes apply to one sex: the cervical and breast screening programmes
/// invite women (and people registered female).
const SEX_SPECIFIC_LISTS: [(&str, Sex, &str); 2] = [
    ("cervical_screening", Sex::Female, include_str!("../../../codelists/cervical_screening.csv")),
    ("breast_screening", Sex::Female, include_str!("../../../codelists/breast_screening.csv")),
];

/// Every sex-specific SNOMED CT code, with its term and codelist.
pub(crate) fn sex_specific_codes() -> Vec<SexSpecific> {
    let mut out = Vec::new();
    for (codelist, sex, text) in SEX_SPECIFIC_LISTS {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        for record in reader.records().flatten() {
            if let (Some(code), Some(term)) = (record.get(0), record.get(1)) {
                out.push(SexSpecific { code: code.to_owned(), term: term.to_owned(), codelist, sex });
            }
        }
    }
    out
}

/// The sentence naming the sex-specific codes, for descriptions.
pub(crate) fn describe_sex_specific(codes: &[SexSpecific]) -> String {
    let list: Vec<String> = codes
        .iter()
        .map(|c| {
            format!(
                "{} {} (codelists/{}.csv, {} only)",
                c.code,
                c.term,
                c.codelist,
                if c.sex == Sex::Female { "female" } else { "male" }
            )
        })
        .collect();
    format!("Codes: {}.", list.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_codelists_give_sex_specific_codes() {
        let codes = sex_specific_codes();
        assert!(codes.iter().any(|c| c.code == "171149006" && c.sex == Sex::Female), "{codes:?}");
        for c in &codes {
            assert!(phm_core::codes::is_sctid(&c.code), "{}", c.code);
        }
    }
}
