//! `phm synth`.

use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use phm_synth::{SynthConfig, default_extract_date, generate};

use crate::cli::SynthArgs;

pub fn run(args: &SynthArgs) -> anyhow::Result<()> {
    if let Some(threads) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .context("Failed to start the worker threads")?;
    }
    let config = SynthConfig {
        population: args.population,
        seed: args.seed,
        out_dir: args.out.clone(),
        extract_date: args.extract_date.unwrap_or_else(default_extract_date),
    };
    let started = Instant::now();
    let bar = if args.quiet { ProgressBar::hidden() } else { ProgressBar::new(0) };
    bar.set_style(
        ProgressStyle::with_template("{spinner} Generating people {bar:30} {pos}/{len} ({per_sec}, {eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let summary = generate(&config, &|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .with_context(|| format!("Failed to generate the synthetic population in `{}`", args.out.display()))?;
    bar.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();
    let bytes: u64 = summary.manifest.files.iter().map(|f| f.bytes).sum();
    let mut text = format!("Synthetic BLMK population written to {}\n", args.out.display());
    text += &format!(
        "  people simulated     {:>12}  (alive at {} ≈ {})\n",
        summary.people, summary.manifest.extract_date, args.population
    );
    text += &format!("  files                {:>12}\n", summary.manifest.files.len());
    text += &format!("  records              {:>12}\n", summary.manifest.total_records());
    text += &format!("  size                 {:>9.1} MiB\n", bytes as f64 / 1_048_576.0);
    text += &format!("  time                 {elapsed:>11.1} s\n");
    if let Some(peak) = super::peak_memory_mib() {
        text += &format!("  peak memory          {peak:>9.1} MiB\n");
    }
    text += &format!("  manifest             {}\n", args.out.join("manifest.json").display());
    super::print(&text);
    Ok(())
}
