//! One module per command.

pub mod accounts;
mod calibration;
mod cluster;
mod definitions;
mod ingest;
mod profiles;
mod quality;
mod snapshots;
mod stats;
mod synth;
pub mod web;

use crate::cli::{Cli, Command};

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Synth(args) => synth::run(&args),
        Command::Calibration(args) => calibration::run(&args),
        Command::Ingest(args) => ingest::run(&args),
        Command::Quality(args) => quality::run(&args),
        Command::Snapshots(args) => snapshots::run(&args),
        Command::Run(args) => definitions::run(&args),
        Command::Explain(args) => definitions::explain(&args),
        Command::Check(args) => definitions::check(&args),
        Command::Scheduler(args) => cluster::scheduler(&args),
        Command::Executor(args) => cluster::executor(&args),
        Command::Profiles(args) => profiles::run(&args),
        Command::Stats(args) => stats::run(&args),
        Command::Users(args) => accounts::users(&args),
        Command::Audit(args) => accounts::audit(&args),
        Command::Serve(args) => web::serve(&args),
        Command::Demo(args) => web::demo(&args),
    }
}

/// The async runtime commands that run DataFusion or Ballista block on.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

/// Peak resident memory of this process in MiB (Linux), for run summaries.
pub fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Prints to stdout; a closed pipe (`phm … | head`) is not an error worth a panic.
pub fn print(text: &str) {
    use std::io::Write as _;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}
