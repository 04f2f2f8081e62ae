//! `reckon feed`.

use std::process::ExitCode;

use anyhow::Result;

/// Arguments of `reckon feed`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args) -> Result<ExitCode> {
    anyhow::bail!("reckon feed is not built yet")
}
