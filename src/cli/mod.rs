//! Command-line interface: one module per subcommand.

mod reconcile;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// reckon: reconciles news reports of violent incidents into incident updates.
#[derive(Debug, Parser)]
#[command(name = "reckon", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Folds JSON-lines reports offline and prints the updates as JSON lines.
    Reconcile(reconcile::Args),
}

/// Parses the command line and runs the command. Errors are printed with their context.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Reconcile(args) => reconcile::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("reckon: {e:#}");
            ExitCode::from(1)
        }
    }
}
