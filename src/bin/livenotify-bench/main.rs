//! `livenotify-bench`: measures DescribeLiveStreamsNotifyRecords over record stores of growing
//! size, delivery from hook to a local receiver beside wrk, durable ingest, the serve
//! process's memory and the disk a record takes; prints one table and writes it into
//! BENCHMARKS.md between its markers. Nothing here fails on timing: a benchmark is not a test.
//!
//! ```text
//! cargo build --release --bins && target/release/livenotify-bench --scale full
//! ```

// The same allocator as the livenotify binary, so the in-process phases (HTTP client alone,
// store alone) measure what serve would spend.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod backlog;
mod client_floor;
mod fixture;
mod hooks;
mod machine;
mod pipeline;
mod query;
mod receiver;
mod report;
mod scale;
mod serve_proc;
mod stats;
mod storage_floor;
mod wrk;

use std::{path::PathBuf, process::ExitCode};

use clap::Parser;

use livenotify::storage::StorageError;
use scale::Scale;

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("i/o failed")]
    Io(#[from] std::io::Error),
    #[error("the store failed")]
    Storage(#[from] StorageError),
    #[error("sqlite failed")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Setup(String),
}

#[derive(Debug, Parser)]
#[command(
    name = "livenotify-bench",
    about = "Benchmarks livenotify on this machine"
)]
struct Args {
    /// tiny (seconds, for CI), small (100 thousand and 1 million records) or full (up to
    /// 10 million).
    #[arg(long, value_enum, default_value = "full")]
    scale: Scale,
    /// Print the table only; leave BENCHMARKS.md alone.
    #[arg(long)]
    no_write: bool,
    /// The file whose generated section is rewritten.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/BENCHMARKS.md"))]
    out: PathBuf,
    /// Where the stores are made (several GB at full scale); removed at the end.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/target/bench"))]
    work: PathBuf,
    /// Keep the record stores and reuse them on the next run of the same scale.
    #[arg(long)]
    keep_stores: bool,
    /// Run only the query part, only the pipeline part, or only the store-alone phase (for
    /// profiling one of them; `store` prints its figures and writes nothing).
    #[arg(long, value_enum)]
    only: Option<Part>,
    /// Events for the delivery phases, instead of the scale's number (for profiling).
    #[arg(long)]
    events: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Part {
    Query,
    Pipeline,
    Store,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", chain(&error));
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), BenchError> {
    let mut plan = args.scale.plan();
    if let Some(events) = args.events {
        plan.pipeline.events = events;
    }
    let machine = machine::Machine::describe();
    serve_proc::livenotify_binary()?;
    std::fs::create_dir_all(&args.work)?;
    if args.only == Some(Part::Store) {
        let pipeline = plan.pipeline;
        let store = storage_floor::run(
            &args.work,
            pipeline.events,
            pipeline.hook_concurrency,
            pipeline::IN_FLIGHT,
        )
        .await?;
        println!(
            concat!(
                "store alone: {} deliveries, {:.0}/s, ",
                "{:.0} µs CPU and {:.0} bytes written per delivery"
            ),
            store.deliveries, store.per_second, store.cpu_us, store.written_per_delivery
        );
        return Ok(());
    }

    let mut scales = Vec::new();
    let counts = if args.only == Some(Part::Pipeline) {
        &[]
    } else {
        plan.record_counts
    };
    for &records in counts {
        eprintln!("query: {records} records");
        scales.push(scale::query_scale(&args.work, records, plan, args.keep_stores).await?);
    }
    eprintln!("pipeline: delivery, ingest, memory");
    let work = args.work.join("pipeline");
    let _ = std::fs::remove_dir_all(&work);
    let pipeline = match args.only {
        Some(Part::Query) => None,
        _ => Some(pipeline::run(&work, plan.pipeline).await?),
    };
    let _ = std::fs::remove_dir_all(&work);

    let table = report::render(&machine, args.scale, plan, &scales, pipeline.as_ref());
    println!("{table}");
    if !args.no_write {
        report::write_section(&args.out, &table)?;
        eprintln!("wrote {}", args.out.display());
    }
    Ok(())
}

fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
