//! `reckon run`.

use std::process::ExitCode;

use anyhow::Result;

/// Arguments of `reckon run`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args) -> Result<ExitCode> {
    anyhow::bail!("reckon run is not built yet")
}
