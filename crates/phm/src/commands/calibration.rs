//! `phm calibration`.

use anyhow::Context;

use crate::cli::CalibrationArgs;

pub fn run(args: &CalibrationArgs) -> anyhow::Result<()> {
    let (rows, bad) = phm_synth::check::check(&args.drop)
        .with_context(|| format!("Failed to measure the drop in `{}`", args.drop.display()))?;
    let manifest = phm_formats_manifest(&args.drop)?;
    let note = format!(
        "Drop measured: `{}` — generator {}, parameters {}, extract date {}; {} records, {} failed to parse or validate.",
        args.drop.display(),
        manifest.generator,
        serde_json_compact(&manifest.parameters),
        manifest.extract_date,
        manifest.total_records(),
        bad
    );
    let text = phm_synth::check::markdown(&rows, &note);
    if let Some(path) = &args.markdown {
        std::fs::write(path, &text).with_context(|| format!("Failed to write `{}`", path.display()))?;
    }
    super::print(&text);
    let failed = rows.iter().filter(|r| !r.ok()).count();
    if failed > 0 || bad > 0 {
        anyhow::bail!("{failed} figures are outside their tolerance and {bad} records failed validation");
    }
    Ok(())
}

fn phm_formats_manifest(drop: &std::path::Path) -> anyhow::Result<phm_synth::ManifestAlias> {
    Ok(phm_synth::ManifestAlias::read(&drop.join("manifest.json"))?)
}

fn serde_json_compact(map: &phm_synth::JsonMap) -> String {
    map.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
}
