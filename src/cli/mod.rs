//! Command-line interface: one module per subcommand.

mod bench;
mod demo;
mod feed;
mod reconcile;
mod replay;
mod run;
mod subscribe;

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
    /// Runs the processor: consumes reports, publishes reconciled updates.
    Run(run::Args),
    /// Sends reports (JSON lines or protobuf) to the reports topic.
    Feed(feed::Args),
    /// Tails the updates topic.
    Subscribe(subscribe::Args),
    /// Rebuilds state from the reports topic; `--verify` compares it with the updates topic.
    Replay(replay::Args),
    /// Runs everything on an in-process mock cluster with the seed article's reports.
    Demo(demo::Args),
    /// Folds JSON-lines reports offline and prints the updates as JSON lines.
    Reconcile(reconcile::Args),
    /// Measures throughput, latency, replay speed and memory on a broker, side by side with a
    /// bare consume-and-produce pipe.
    Bench(bench::Args),
}

/// Parses the command line and runs the command. Errors are printed with their context.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Feed(args) => feed::run(args),
        Command::Subscribe(args) => subscribe::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Reconcile(args) => reconcile::run(args),
        Command::Bench(args) => bench::run(args),
    };
    match result {
        Ok(code) => code,
        // The reader of the output went away (`reckon reconcile ... | head`): it has all it
        // wanted, as with any filter, so the command ends quietly.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("reckon: {}", describe(&e));
            ExitCode::from(1)
        }
    }
}

/// Whether an error comes from writing to a pipe whose reader closed it.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// An error with its causes, outermost first, joined by `": "`. A cause whose text its outer
/// error already ends with is said once: the library's errors put their cause's text in their
/// own (logs print an error without its causes), and also give it as their source.
fn describe(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.ends_with(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

#[cfg(test)]
mod tests {
    use anyhow::Context;

    use super::describe;
    use reckon::core::registry::SourceRegistry;

    #[test]
    fn an_error_says_each_cause_once() {
        let e = SourceRegistry::from_json("[{\"id\": \"x\", \"kind\": \"nope\"}]")
            .context("parsing source registry sources.json")
            .unwrap_err();
        let text = describe(&e);
        assert!(
            text.starts_with(
                "parsing source registry sources.json: source registry: not a list of valid \
                 entries: unknown variant `nope`"
            ),
            "{text}"
        );
        assert_eq!(text.matches("unknown variant").count(), 1, "{text}");
    }
}
