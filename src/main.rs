//! The `reckon` command.

mod cli;

use std::process::ExitCode;

/// The fold allocates and frees small objects on every report, and an instance holds millions
/// of small incident parts for hours: jemalloc does both with less time and less resident
/// memory than the system allocator (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    cli::main()
}
