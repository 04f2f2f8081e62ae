//! `reckon demo`.

use std::process::ExitCode;

use anyhow::Result;

/// Arguments of `reckon demo`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args) -> Result<ExitCode> {
    anyhow::bail!("reckon demo is not built yet")
}
