//! `phm users` and `phm audit` (being written: see phm-accounts).

/// Arguments of `phm users`.
#[derive(Debug, clap::Args)]
pub struct UsersArgs {}

/// Arguments of `phm audit`.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {}

pub fn users(_args: &UsersArgs) -> anyhow::Result<()> {
    anyhow::bail!("`phm users` is not built yet")
}

pub fn audit(_args: &AuditArgs) -> anyhow::Result<()> {
    anyhow::bail!("`phm audit` is not built yet")
}
