//! `concept`: the source's vocabulary, read first and not stored.

use phm_core::codes::CodeSystem;

use super::reader::{Cols, TableReader};
use super::{Concept, Io, State};
use crate::check::problem;
use crate::report::FileReport;
use crate::{InputFile, Result};

/// The code system of an OMOP vocabulary, if OpenPHM takes it in.
pub(super) fn system_of(vocabulary_id: &str) -> Option<CodeSystem> {
    Some(match vocabulary_id.to_ascii_lowercase().as_str() {
        "snomed" => CodeSystem::Snomed,
        "loinc" => CodeSystem::Loinc,
        "rxnorm" | "rxnorm extension" => CodeSystem::Rxnorm,
        "cvx" => CodeSystem::Cvx,
        "icd10" => CodeSystem::Icd10,
        "opcs4" => CodeSystem::Opcs4,
        "dm+d" => CodeSystem::Dmd,
        _ => return None,
    })
}

/// Reads the vocabulary: concept id → vocabulary, domain, code. Not stored.
pub(super) fn concepts(
    io: &mut Io<'_, '_>,
    st: &mut State,
    f: &InputFile,
    reader: TableReader,
    report: &mut FileReport,
) -> Result<()> {
    let cols = Cols { headers: &reader.headers, path: &f.path, table: "concept" };
    let id = Some(cols.need(&["concept_id"])?);
    let vocabulary = Some(cols.need(&["vocabulary_id"])?);
    let code = Some(cols.need(&["concept_code"])?);
    let domain = cols.find(&["domain_id"]);
    io.each_row(st, f, "concept", reader, id, report, |st, _, row| {
        let concept_id = row.required_int(id, "concept_id")?;
        if st.concepts.by_id.contains_key(&concept_id) {
            return Err(problem(
                row.name(id, "concept_id"),
                "duplicate record",
                format!("concept_id {concept_id} is given twice; the first was kept"),
            ));
        }
        let vocabulary_id = row.get(vocabulary);
        let keep_code = system_of(vocabulary_id).is_some() || vocabulary_id.eq_ignore_ascii_case("ucum");
        let concept = Concept {
            vocabulary: st.concepts.intern(vocabulary_id),
            domain: st.concepts.intern(row.get(domain)),
            code: if keep_code { row.get(code).into() } else { "".into() },
        };
        st.concepts.by_id.insert(concept_id, concept);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_map_to_code_systems() {
        assert_eq!(system_of("SNOMED"), Some(CodeSystem::Snomed));
        assert_eq!(system_of("RxNorm Extension"), Some(CodeSystem::Rxnorm));
        assert_eq!(system_of("ICD10CM"), None);
    }
}
