//! The `livenotify` command line: `serve`, the admin commands that work on the store
//! directly, `records` (query through the API, import, export) and `migrate`.

mod admin;
mod follow;
mod records;

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};

use crate::config::{FileConfig, Overrides, ServeConfig, DEFAULT_DATA_DIR};
use crate::storage::{postgres::PostgresStore, sqlite::SqliteStore, DatabaseUrl, StoreLocation};

/// Self-hosted stream callbacks, wire compatible with ApsaraVideo Live.
#[derive(Debug, Parser)]
#[command(name = "livenotify", version, about)]
pub struct Cli {
    /// Data directory of the embedded store.
    #[arg(
        long = "data",
        global = true,
        env = "LIVENOTIFY_DATA_DIR",
        value_name = "DIR"
    )]
    data_dir: Option<PathBuf>,

    /// PostgreSQL database shared by several processes (postgres://user@host/db); without
    /// it, the SQLite file in the data directory. Also `database_url` in the config file.
    #[arg(
        long = "database",
        global = true,
        env = "LIVENOTIFY_DATABASE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    database: Option<DatabaseUrl>,

    /// Log format.
    #[arg(
        long,
        global = true,
        env = "LIVENOTIFY_LOG_FORMAT",
        default_value = "pretty"
    )]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the API, the ingest hooks and the delivery worker.
    Serve(Box<ServeArgs>),
    /// Manage accounts, access keys and ingest domains, directly on the store.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Query notify records through the API, or import and export them.
    Records(Box<records::RecordsArgs>),
    /// Bring the store's schema up to date and exit.
    Migrate,
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address of the API listener.
    #[arg(long, env = "LIVENOTIFY_LISTEN", value_name = "ADDR")]
    listen: Option<String>,
    /// TOML configuration file.
    #[arg(long, env = "LIVENOTIFY_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Days notify records are kept.
    #[arg(long, env = "LIVENOTIFY_RETENTION_DAYS", value_name = "DAYS")]
    retention_days: Option<u32>,
    /// Time a client has to send a request head (also how long an idle keep-alive connection
    /// stays open), in milliseconds [default: 10000].
    #[arg(long, env = "LIVENOTIFY_HEADER_READ_TIMEOUT_MS", value_name = "MS")]
    header_read_timeout_ms: Option<u64>,
    /// Connections held open at once; more wait in the listen backlog [default: 4096].
    #[arg(long, env = "LIVENOTIFY_MAX_CONNECTIONS", value_name = "N")]
    max_connections: Option<u32>,
    #[command(flatten)]
    hooks: crate::ingest::HookOverrides,
    #[command(flatten)]
    delivery: crate::delivery::DeliveryOverrides,
    #[command(flatten)]
    limits: crate::auth::limits::LimitsOverrides,
}

/// Parses the command line and runs it; errors go to stderr with their causes.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
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
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            let args = *args;
            let file = match &args.config {
                Some(path) => FileConfig::load(path)?,
                None => FileConfig::default(),
            };
            let overrides = Overrides {
                data_dir: cli.data_dir,
                database_url: cli.database,
                listen: args.listen,
                retention_days: args.retention_days,
                header_read_timeout_ms: args.header_read_timeout_ms,
                max_connections: args.max_connections,
                hooks: args.hooks,
                delivery: args.delivery,
                limits: args.limits,
            };
            crate::server::run(ServeConfig::resolve(file, overrides)?).await
        }
        Command::Admin(command) => match location(cli.data_dir, cli.database) {
            StoreLocation::Sqlite(dir) => {
                warn_if_new(&dir);
                admin::run(command, &SqliteStore::open(&dir)?).await
            }
            StoreLocation::Postgres(url) => {
                let store = PostgresStore::open(url.expose(), &url.redacted()).await?;
                admin::run(command, &store).await
            }
        },
        Command::Records(args) => records::run(*args, location(cli.data_dir, cli.database)).await,
        Command::Migrate => {
            let location = location(cli.data_dir, cli.database);
            crate::storage::open(&location).await?;
            println!(
                "{}",
                serde_json::json!({
                    "Database": location.describe(),
                    "SchemaVersion": location.schema_version(),
                })
            );
            Ok(())
        }
    }
}

/// The store the command line works on: `--database` when given, else the data directory.
fn location(data_dir: Option<PathBuf>, database: Option<DatabaseUrl>) -> StoreLocation {
    let dir = data_dir.unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
    StoreLocation::new(database, dir)
}

/// Says so when a command is about to create a store instead of opening one: most likely
/// `--data` was forgotten (only `serve` reads the config file's `data_dir`).
fn warn_if_new(dir: &std::path::Path) {
    if !SqliteStore::exists_in(dir) {
        eprintln!(
            "warning: {} holds no livenotify store; creating an empty one \
             (pass --data or LIVENOTIFY_DATA_DIR to use an existing store)",
            dir.display()
        );
    }
}

/// The store for `records import` and `export`; a SQLite writer gets a page cache of
/// `writer_cache_mib` for bulk loads.
async fn open_store(
    location: &StoreLocation,
    writer_cache_mib: Option<u32>,
) -> anyhow::Result<std::sync::Arc<dyn crate::storage::Store>> {
    match location {
        StoreLocation::Sqlite(dir) => {
            warn_if_new(dir);
            let store = SqliteStore::open(dir)?;
            if let Some(mib) = writer_cache_mib {
                store.set_writer_cache(mib)?;
            }
            Ok(std::sync::Arc::new(store))
        }
        StoreLocation::Postgres(_) => Ok(crate::storage::open(location).await?),
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LIVENOTIFY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour only on a terminal: a log redirected to a file stays plain text.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Pretty => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
