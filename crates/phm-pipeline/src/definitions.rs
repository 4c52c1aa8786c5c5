//! Definition files: finding them, loading them with their diagnostics, and what the manifest
//! says of each indicator they define.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use phm_lang::Loaded;
use phm_model::Indicator;
use phm_release::IndicatorEntry;

use crate::{Error, Result};

/// Loads definition files, writing their diagnostics (rendered, the first hundred and then a
/// count) to `diagnostics`.
///
/// # Errors
/// [`Error::Definitions`] when any file has errors.
pub fn load_all(files: &[PathBuf], diagnostics: &mut dyn Write) -> Result<Vec<(PathBuf, Loaded)>> {
    let mut out = Vec::new();
    let mut errors = 0;
    for f in files {
        let loaded = phm_lang::load(f);
        loaded
            .render_to(diagnostics)
            .map_err(|source| Error::Io { message: "Failed to write the diagnostics".into(), source })?;
        errors += loaded.error_count();
        out.push((f.clone(), loaded));
    }
    if errors > 0 {
        return Err(Error::Definitions { count: errors });
    }
    Ok(out)
}

/// Definition files under `paths`: files as given, folders searched for `.phm` files (sorted;
/// links to folders are not followed). Files under a `library` folder are shared variables,
/// not run on their own.
///
/// # Errors
/// A path that does not exist, a folder that cannot be read, or no files at all.
pub fn definition_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.path());
        for e in entries {
            let p = e.path();
            // Links to folders are not followed: a link to a folder above would never end.
            if e.file_type()?.is_dir() {
                if p.file_name().is_some_and(|n| n != "library") {
                    walk(&p, out)?;
                }
            } else if p.extension().is_some_and(|x| x == "phm") {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out).map_err(|source| Error::Io {
                message: format!("Failed to read the folder `{}`", p.display()),
                source,
            })?;
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(Error::Invalid(format!(
                "`{}` does not exist: give a `.phm` definition file or a folder of them",
                p.display()
            )));
        }
    }
    if out.is_empty() {
        return Err(Error::Invalid(format!(
            "no `.phm` definition files found in {}",
            paths.iter().map(|p| format!("`{}`", p.display())).collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(out)
}

/// An indicator's entry in the manifest: its metadata and its definition's text (its block of
/// `text`, the file it came from), so a reader of the release never reads definition files.
pub(crate) fn indicator_entry(
    ind: &Indicator,
    definition: &str,
    sha256: &str,
    text: Option<&str>,
    index_date: NaiveDate,
    trend_dates: &[NaiveDate],
) -> IndicatorEntry {
    IndicatorEntry {
        name: ind.name.clone(),
        title: ind.title.clone(),
        method: ind.method.to_string(),
        multiplier: ind.multiplier,
        polarity: ind.about.polarity.name().to_owned(),
        rationale: ind.about.rationale.clone(),
        caveats: ind.about.caveats.clone(),
        fingertips: ind.about.fingertips,
        breakdowns: ind.breakdowns.iter().map(|b| b.name.clone()).collect(),
        definition: definition.to_owned(),
        definition_sha256: sha256.to_owned(),
        source: text.and_then(|t| phm_release::indicator_block(t, &ind.name)),
        index_date,
        trend_dates: trend_dates.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definition_files_are_found_in_sorted_order_leaving_library_folders_out() {
        let dir = tempfile::tempdir().expect("tmp");
        let root = dir.path();
        for f in ["b.phm", "a.phm", "notes.txt", "sub/c.phm", "library/shared.phm"] {
            let path = root.join(f);
            std::fs::create_dir_all(path.parent().expect("a folder")).expect("folder");
            std::fs::write(&path, "").expect("file");
        }
        let found = definition_files(&[root.to_path_buf()]).expect("found");
        let names: Vec<_> = found.iter().map(|p| p.strip_prefix(root).expect("inside").to_path_buf()).collect();
        assert_eq!(names, [PathBuf::from("a.phm"), PathBuf::from("b.phm"), PathBuf::from("sub/c.phm")]);
    }

    #[test]
    fn a_missing_path_or_an_empty_folder_is_an_error_that_names_it() {
        let dir = tempfile::tempdir().expect("tmp");
        let missing = dir.path().join("nope.phm");
        let e = definition_files(std::slice::from_ref(&missing)).expect_err("missing");
        assert!(e.to_string().contains("nope.phm") && e.to_string().contains("does not exist"), "{e}");
        let e = definition_files(&[dir.path().to_path_buf()]).expect_err("empty");
        assert!(e.to_string().contains("no `.phm` definition files found"), "{e}");
    }

    #[test]
    fn definitions_with_errors_are_rendered_and_counted_and_nothing_runs() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("bad.phm");
        std::fs::write(&path, "indicator x {\n  method = nonsense\n}\n").expect("file");
        let mut diagnostics = Vec::new();
        let e = load_all(std::slice::from_ref(&path), &mut diagnostics).expect_err("errors");
        let Error::Definitions { count } = e else { panic!("not a definitions error: {e}") };
        assert!(count >= 1);
        let text = String::from_utf8(diagnostics).expect("text");
        assert!(text.contains("bad.phm"), "diagnostics name the file: {text}");
        assert!(e.to_string().ends_with("nothing was run"), "{e}");
    }
}
