//! `phm ingest`.

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use phm_identity::{PseudonymKey, default_key_path};
use phm_ingest::csv_source::Mapping;
use phm_ingest::{Format, InputFile, Options, SourceSpec, SourceType};
use phm_store::Store;

use crate::cli::IngestArgs;

struct Bar(ProgressBar);

impl phm_ingest::Progress for Bar {
    fn total(&self, bytes: u64) {
        self.0.set_length(bytes);
    }
    fn source(&self, name: &str) {
        self.0.set_message(name.to_owned());
    }
    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }
}

pub fn run(args: &IngestArgs) -> anyhow::Result<()> {
    let key_path = args.key.clone().unwrap_or_else(|| default_key_path(&args.store));
    if key_path.starts_with(&args.store) {
        bail!(
            "the pseudonymisation key must be kept outside the store: `{}` is inside `{}`",
            key_path.display(),
            args.store.display()
        );
    }
    let (key, created) = PseudonymKey::load_or_create(&key_path)?;
    if created {
        eprintln!(
            "Made a new pseudonymisation key at {} (keep it safe and outside the store; without it nobody can link new extracts to this store).",
            key_path.display()
        );
    }
    let store = Store::open_or_create(&args.store, &key.fingerprint())?;
    let sources = match (&args.manifest, &args.source) {
        (Some(manifest), _) => phm_ingest::sources_from_manifest(manifest)?,
        (None, Some(name)) => {
            let format_name = args.format.as_deref().unwrap_or_default();
            let format = match format_name {
                "fhir" | "fhir-ndjson" => Format::Fhir,
                "opt-out" | "opt-out-csv" => Format::OptOut,
                "omop" => Format::Omop,
                "csv" => {
                    let path =
                        args.mapping.as_ref().context("--format csv needs --mapping FILE (see mappings/README.md)")?;
                    Format::Csv(Mapping::read(path)?)
                }
                other => match Mapping::builtin(other) {
                    Some(m) => Format::Csv(m),
                    None => bail!(
                        "--format `{other}` is not one of fhir, omop, csv, opt-out, {}",
                        Mapping::builtin_names().join(", ")
                    ),
                },
            };
            let source_type = SourceType::from_name(&args.source_type).with_context(|| {
                format!(
                    "--source-type `{}` is not one of {}",
                    args.source_type,
                    SourceType::ALL.map(SourceType::name).join(", ")
                )
            })?;
            if args.paths.is_empty() {
                bail!("no files given for source `{name}`");
            }
            let mut files = Vec::new();
            for p in &args.paths {
                if !p.is_file() {
                    bail!("`{}` is not a file", p.display());
                }
                files.push(InputFile {
                    path: p.clone(),
                    display: p.display().to_string(),
                    declared: None,
                    resource_type: None,
                });
            }
            vec![SourceSpec {
                name: name.clone(),
                source_type,
                source_org: args.source_org.clone().unwrap_or_else(|| name.clone()),
                format,
                extract_date: args.extract_date,
                files,
            }]
        }
        (None, None) => bail!("give --manifest FILE, or --source NAME --format F with files"),
    };
    let bar = if args.quiet { ProgressBar::hidden() } else { ProgressBar::new(0) };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} Ingesting {msg:24} {bar:30} {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let options = Options {
        today: chrono::Local::now().date_naive(),
        allow_older: args.allow_older,
        note: format!("phm ingest ({} source{})", sources.len(), if sources.len() == 1 { "" } else { "s" }),
    };
    let report = phm_ingest::ingest(&store, &key, &sources, &options, &Bar(bar.clone()))
        .with_context(|| format!("Ingest into `{}` failed; the store is unchanged", args.store.display()))?;
    bar.finish_and_clear();
    let mut text = report.summary();
    if let Some(id) = report.snapshot {
        text += &format!(
            "Store: {} (snapshot {id}); quarantine: {}\n",
            args.store.display(),
            args.store.join("restricted").join(format!("{id:06}")).join("quarantine").display()
        );
    }
    if let Some(peak) = super::peak_memory_mib() {
        text += &format!("Peak memory {peak:.0} MiB\n");
    }
    super::print(&text);
    if let Some(path) = &args.report {
        let json = serde_json::to_vec_pretty(&report)?;
        std::fs::write(path, json).with_context(|| format!("Failed to write the report to `{}`", path.display()))?;
    }
    if !report.reconciles() {
        bail!(
            "counts do not reconcile (read ≠ accepted + rejected): this is a bug in OpenPHM; the snapshot is committed but please report it"
        );
    }
    Ok(())
}
