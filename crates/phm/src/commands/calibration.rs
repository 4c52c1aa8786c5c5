pub fn run(_args: &crate::cli::CalibrationArgs) -> anyhow::Result<()> { anyhow::bail!("not yet") }
