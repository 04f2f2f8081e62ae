//! `reckon subscribe`.

use std::process::ExitCode;

use anyhow::Result;

/// Arguments of `reckon subscribe`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args) -> Result<ExitCode> {
    anyhow::bail!("reckon subscribe is not built yet")
}
