//! `reckon replay`.

use std::process::ExitCode;

use anyhow::Result;

/// Arguments of `reckon replay`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args) -> Result<ExitCode> {
    anyhow::bail!("reckon replay is not built yet")
}
