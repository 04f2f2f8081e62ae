//! `reckon reconcile`: the core as a command. Reads JSON-lines reports from a file or stdin,
//! folds them in order and prints the updates (or, with `--final`, the latest update of each
//! incident) as JSON lines.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use reckon::core::actors::ActorNames;
use reckon::core::gazetteer::Gazetteer;
use reckon::core::latest::Latest;
use reckon::core::registry::SourceRegistry;
use reckon::core::Engine;
use reckon::wire::framing::{Frame, FrameError, Framer};
use reckon::wire::{json, ContentType};

/// Arguments of `reckon reconcile`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// JSON-lines file of reports; `-` or nothing reads stdin.
    #[arg(default_value = "-")]
    input: String,
    /// Print only the latest update of each standing incident, sorted by incident id.
    #[arg(long = "final")]
    final_only: bool,
    /// JSON file of registered sources (id, kind, affiliated_with, credibility).
    #[arg(long, env = "RECKON_SOURCES")]
    sources: Option<PathBuf>,
    /// JSON file of standard place names and their aliases (a gazetteer).
    #[arg(long, env = "RECKON_PLACES")]
    places: Option<PathBuf>,
    /// JSON file of actors' ids and their aliases (an actor table).
    #[arg(long, env = "RECKON_ACTORS")]
    actors: Option<PathBuf>,
}

/// Loads the source registry named on the command line, or an empty one.
pub fn load_registry(path: Option<&PathBuf>) -> Result<SourceRegistry> {
    match path {
        None => Ok(SourceRegistry::default()),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading source registry {}", p.display()))?;
            SourceRegistry::from_json(&text)
                .with_context(|| format!("parsing source registry {}", p.display()))
        }
    }
}

/// Loads the gazetteer named on the command line, or an empty one.
pub fn load_places(path: Option<&PathBuf>) -> Result<Arc<Gazetteer>> {
    match path {
        None => Ok(Arc::default()),
        Some(p) => {
            let bytes =
                std::fs::read(p).with_context(|| format!("reading gazetteer {}", p.display()))?;
            Gazetteer::from_json(&bytes)
                .map(Arc::new)
                .with_context(|| format!("parsing gazetteer {}", p.display()))
        }
    }
}

/// Loads the actor table named on the command line, or an empty one.
pub fn load_actors(path: Option<&PathBuf>) -> Result<Arc<ActorNames>> {
    match path {
        None => Ok(Arc::default()),
        Some(p) => {
            let bytes =
                std::fs::read(p).with_context(|| format!("reading actor table {}", p.display()))?;
            ActorNames::from_json(&bytes)
                .map(Arc::new)
                .with_context(|| format!("parsing actor table {}", p.display()))
        }
    }
}

/// Runs the command. Exit code 2 when some lines were rejected (each is reported on stderr).
pub fn run(args: Args) -> Result<ExitCode> {
    let registry = load_registry(args.sources.as_ref())?;
    let places = load_places(args.places.as_ref())?;
    let actors = load_actors(args.actors.as_ref())?;
    let mut input: Box<dyn Read> = if args.input == "-" {
        Box::new(io::stdin().lock())
    } else {
        Box::new(File::open(&args.input).with_context(|| format!("opening {}", args.input))?)
    };
    let mut out = BufWriter::new(io::stdout().lock());
    let mut engine = Engine::new(registry)
        .with_places(places)
        .with_actors(actors);
    // With --final, the latest update of each incident, its view rendered once at the end.
    let mut latest = Latest::default();
    let mut rejected = 0usize;
    // Reports whose id was applied before, and the first of them (line, id).
    let mut seen_again = 0usize;
    let mut skipped = None;
    // Lines are cut by the framer, so a line of any length (a binary file given by mistake)
    // costs no more memory than the size limit: the rest of it is skipped.
    let mut framer = Framer::new(ContentType::Json);
    let mut chunk = vec![0u8; 64 * 1024];
    let mut ended = false;
    while !ended {
        let n = input
            .read(&mut chunk)
            .with_context(|| format!("reading line {}", framer.next_index()))?;
        let frames: Vec<Result<Frame, FrameError>> = if n == 0 {
            ended = true;
            framer.finish().into_iter().collect()
        } else {
            framer.push(&chunk[..n]);
            std::iter::from_fn(|| framer.next_frame()).collect()
        };
        for frame in frames {
            // Lines are never a framing error; a length-delimited input could be.
            let frame = frame?;
            if frame.bytes.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let line = frame.index;
            let report = match json::decode_report(&frame.bytes) {
                Ok(r) => r,
                Err(e) => {
                    rejected += 1;
                    let cut = if frame.truncated {
                        " (the line is longer still; it was cut)"
                    } else {
                        ""
                    };
                    eprintln!("line {line}: rejected: {e}{cut}");
                    continue;
                }
            };
            if engine.has_seen(&report.report_id) {
                // Changes nothing (the first copy is the report), but a file holding one id
                // twice is more often a mistake than a redelivery: said once, at the end.
                if skipped.is_none() {
                    skipped = Some((line, report.report_id.clone()));
                }
                seen_again += 1;
                continue;
            }
            let folded = match engine.fold(&report) {
                Ok(f) => f,
                Err(e) => {
                    rejected += 1;
                    eprintln!("line {line}: refused: {e}");
                    continue;
                }
            };
            if args.final_only {
                latest.keep(folded);
                continue;
            }
            for update in folded.into_updates() {
                out.write_all(&json::encode_update(&update))?;
                out.write_all(b"\n")?;
            }
        }
    }
    let latest = latest.into_rendered(&engine);
    for update in latest.values().filter(|u| u.view.is_some()) {
        out.write_all(&json::encode_update(update))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    if let Some((line, id)) = skipped {
        eprintln!(
            "{seen_again} report(s) skipped: their id was seen before (the first copy counts; \
             first at line {line}: {id})"
        );
    }
    if rejected > 0 {
        eprintln!("{rejected} line(s) rejected");
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}
