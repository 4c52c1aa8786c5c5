//! `phm profiles`: the outcome framework's indicators for the ICS, each place and each
//! neighbourhood, their trends with SPC, and the registered population's pyramid, computed once
//! and released under each disclosure policy asked for (`phm_pipeline::profiles`).

use std::time::Instant;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use phm_pipeline::profiles::{Progress, Request};
use phm_store::Store;

use crate::cli::ProfilesArgs;

/// The disclosure policies asked for, each once, with names that can be folder names.
fn policies(specs: &[String]) -> anyhow::Result<Vec<phm_disclosure::Policy>> {
    let specs: Vec<&str> = if specs.is_empty() { vec!["public"] } else { specs.iter().map(String::as_str).collect() };
    let mut out: Vec<phm_disclosure::Policy> = Vec::new();
    for spec in specs {
        let policy = phm_pipeline::disclosure::policy(spec)?;
        if out.iter().any(|p| p.name() == policy.name()) {
            bail!("--policy names the policy `{}` twice: give each policy once", policy.name());
        }
        let name = policy.name();
        if name.is_empty()
            || name.starts_with('.')
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            bail!("the policy name `{name}` cannot be a folder name: use letters, digits, `-`, `_` and `.`");
        }
        out.push(policy);
    }
    Ok(out)
}

pub fn run(args: &ProfilesArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let policies = policies(&args.policy)?;
    let store =
        Store::open(&args.store).with_context(|| format!("Failed to open the store `{}`", args.store.display()))?;
    let snapshot = match args.as_at {
        Some(id) => store.snapshot(id).with_context(|| {
            format!("No snapshot {id} in `{}`; list them with `phm snapshots`", args.store.display())
        })?,
        None => store.latest()?.with_context(|| {
            format!("The store `{}` has no snapshot yet: load one with `phm ingest`", args.store.display())
        })?,
    };
    let bar = if args.quiet { ProgressBar::hidden() } else { ProgressBar::new(1) };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message("counting the framework's indicators");
    let request = Request {
        framework: &args.framework,
        england: &args.england,
        store: &args.store,
        snapshot: &snapshot,
        policies: &policies,
        trend_points: args.trend_points,
        trend_every_months: args.trend_every_months,
        out: &args.out,
    };
    let progress = |p: Progress<'_>| match p {
        Progress::Pass { done, total } => {
            bar.set_length((total + policies.len()) as u64);
            bar.set_position(done as u64);
            bar.set_message(format!("counting the framework's indicators: engine pass {done} of {total}"));
        }
        Progress::Releasing { policy } => {
            bar.set_message(format!("releasing under the `{policy}` policy"));
            bar.inc(1);
        }
    };
    let rt = super::runtime()?;
    let outcome = rt
        .block_on(phm_pipeline::profiles::run(&request, &mut std::io::stderr().lock(), progress))
        .with_context(|| "Failed to compute the profiles")?;
    bar.finish_and_clear();

    let mut text = String::new();
    for w in &outcome.written {
        text += &format!(
            "{}: {} rows for {} indicators, the ICS, {} places and {} neighbourhoods; {} rows with a suppressed numerator; {} trend rows; {} population rows.\n",
            w.dir.display(),
            w.rows,
            outcome.indicators,
            w.places,
            w.neighbourhoods,
            w.suppressed,
            w.trend_rows,
            w.population_rows,
        );
        text += &format!("Policy `{}`: {}\n", w.policy, w.summary);
    }
    let trends = if args.trend_points == 0 {
        "no trends".to_owned()
    } else {
        format!("trends of {} points {} month(s) apart", args.trend_points, args.trend_every_months)
    };
    text += &format!(
        "Snapshot {} of `{}`, {} engine passes ({trends}), {} cells, in {:.1} s.",
        snapshot.id(),
        args.store.display(),
        outcome.passes,
        outcome.cells,
        started.elapsed().as_secs_f64()
    );
    if let Some(peak) = super::peak_memory_mib() {
        text += &format!(" Peak memory {peak:.0} MiB.");
    }
    text += "\n";
    super::print(&text);
    Ok(())
}
