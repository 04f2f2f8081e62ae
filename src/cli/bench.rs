//! `reckon bench`.

use std::process::ExitCode;

use anyhow::Result;

/// Arguments of `reckon bench`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args) -> Result<ExitCode> {
    anyhow::bail!("reckon bench is not built yet")
}
