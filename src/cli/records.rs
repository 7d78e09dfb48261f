//! `livenotify records`: list records through the API (as a customer would), or import and
//! export files in the API's JSON shape directly on the store.

use std::{io::BufWriter, path::PathBuf};

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use serde_json::Value;
use time::OffsetDateTime;

use super::follow::Follower;
use crate::client::ApiClient;
use crate::domain::{format_utc_seconds, parse_utc_seconds, DomainName};
use crate::ops::progress::{CountingWriter, Progress, Unit};
use crate::records::{export, import};
use crate::storage::{IdentityStore, RecordFilter, Store, StoreLocation};

/// The writer's page cache during an import: enough to keep the indexes of a few million
/// records in memory, so the load does not spill and re-read pages.
const IMPORT_CACHE_MIB: u32 = 512;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct RecordsArgs {
    #[command(subcommand)]
    command: Option<RecordsCommand>,
    #[command(flatten)]
    query: QueryArgs,
}

#[derive(Debug, Subcommand)]
enum RecordsCommand {
    /// Load records from a file (one JSON record or response per line, or one response).
    Import { file: PathBuf },
    /// Write records, one JSON object per line, to stdout or a file.
    Export {
        #[arg(long)]
        domain: Option<String>,
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
struct QueryArgs {
    /// The API endpoint.
    #[arg(
        long,
        env = "LIVENOTIFY_ENDPOINT",
        default_value = "http://127.0.0.1:8080"
    )]
    endpoint: String,
    #[arg(long, env = "ALIBABA_CLOUD_ACCESS_KEY_ID", hide_env_values = true)]
    access_key_id: Option<String>,
    #[arg(long, env = "ALIBABA_CLOUD_ACCESS_KEY_SECRET", hide_env_values = true)]
    access_key_secret: Option<String>,
    /// Ingest domain (required).
    #[arg(long)]
    domain: Option<String>,
    #[arg(long)]
    app: Option<String>,
    #[arg(long)]
    stream: Option<String>,
    /// success or failed.
    #[arg(long)]
    status: Option<String>,
    /// How far back to look, such as 90s, 30m, 1h, 2d (default 1h); ignored with --start.
    #[arg(long, value_name = "AGE")]
    since: Option<String>,
    /// Start of the range, yyyy-MM-ddTHH:mm:ssZ.
    #[arg(long)]
    start: Option<String>,
    /// End of the range, yyyy-MM-ddTHH:mm:ssZ (default now).
    #[arg(long)]
    end: Option<String>,
    /// Print the records as JSON, one per line.
    #[arg(long)]
    json: bool,
    /// Keep printing new records as they arrive, until interrupted (Ctrl-C).
    #[arg(long, conflicts_with_all = ["since", "start", "end"])]
    follow: bool,
    /// With --follow: how many seconds back each poll looks; a record stored later than this
    /// after its NotifyTime is not shown.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 60,
        requires = "follow"
    )]
    follow_window: u32,
}

pub async fn run(args: RecordsArgs, location: StoreLocation) -> anyhow::Result<()> {
    match args.command {
        Some(RecordsCommand::Import { file }) => {
            let store = super::open_store(&location, Some(IMPORT_CACHE_MIB)).await?;
            let size = std::fs::metadata(&file).map(|m| m.len()).ok();
            let progress = Progress::start("import", size, Unit::Bytes);
            let count = import::import_file_counting(store, &file, progress.counter()).await;
            progress.finish();
            let count = count?;
            println!("{}", serde_json::json!({ "Imported": count, "File": file }));
            Ok(())
        }
        Some(RecordsCommand::Export { domain, output }) => {
            let store = super::open_store(&location, None).await?;
            run_export(store.as_ref(), domain, output).await
        }
        None => run_query(args.query).await,
    }
}

async fn run_export(
    store: &dyn Store,
    domain: Option<String>,
    output: Option<PathBuf>,
) -> anyhow::Result<()> {
    let domain = match domain {
        Some(name) => {
            let name = DomainName::parse(&name)
                .with_context(|| format!("{name:?} is not a domain name"))?;
            Some(
                IdentityStore::domain_by_name(store, &name)
                    .await?
                    .with_context(|| format!("domain {name} does not exist"))?,
            )
        }
        None => None,
    };
    let filter = RecordFilter {
        domain,
        app_name: None,
        stream_name: None,
        result: None,
    };
    let progress = Progress::start("export", None, Unit::Records);
    let lines = progress.counter();
    let count = match output {
        Some(path) => {
            let file = std::fs::File::create(&path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            let mut out = BufWriter::new(CountingWriter::new(file, lines));
            export::export(store, &filter, &mut out).await
        }
        None => {
            let mut out = BufWriter::new(CountingWriter::new(std::io::stdout().lock(), lines));
            export::export(store, &filter, &mut out).await
        }
    };
    progress.finish();
    let count = count?;
    eprintln!("exported {count} records");
    Ok(())
}

async fn run_query(args: QueryArgs) -> anyhow::Result<()> {
    let (Some(key_id), Some(secret)) = (&args.access_key_id, &args.access_key_secret) else {
        bail!("set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET");
    };
    let Some(domain) = &args.domain else {
        bail!("--domain is required");
    };
    let client = ApiClient::new(&args.endpoint, key_id, secret)?;
    if args.follow {
        let filters = filters(domain, &args);
        let follower = Follower::new(client, filters, args.follow_window, args.json);
        return follower.run().await;
    }
    let (start, end) = time_range(&args, OffsetDateTime::now_utc())?;

    let mut base = filters(domain, &args);
    base.push(("StartTime".to_string(), start));
    base.push(("EndTime".to_string(), end));
    base.push(("PageSize".to_string(), "500".to_string()));

    let mut printer = Printer::new(args.json);
    for page in 1u32.. {
        let mut params = base.clone();
        params.push(("PageNumber".to_string(), page.to_string()));
        let body = client
            .call("DescribeLiveStreamsNotifyRecords", &params)
            .await?;
        let records = body["NotifyRecordsInfo"]["LiveStreamNotifyRecordsInfo"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        records.iter().for_each(|r| printer.add(r));
        let total_pages = body["TotalPage"].as_u64().unwrap_or(0);
        if records.is_empty() || u64::from(page) >= total_pages {
            break;
        }
    }
    printer.finish();
    Ok(())
}

/// The query's domain and optional app, stream and status filters.
fn filters(domain: &str, args: &QueryArgs) -> Vec<(String, String)> {
    let mut params = vec![("DomainName".to_string(), domain.to_string())];
    for (name, value) in [
        ("AppName", &args.app),
        ("StreamName", &args.stream),
        ("Status", &args.status),
    ] {
        if let Some(value) = value {
            params.push((name.to_string(), value.clone()));
        }
    }
    params
}

fn time_range(args: &QueryArgs, now: OffsetDateTime) -> anyhow::Result<(String, String)> {
    let end = match &args.end {
        Some(text) => parse_utc_seconds(text)
            .with_context(|| format!("--end {text:?} is not yyyy-MM-ddTHH:mm:ssZ"))?,
        None => now,
    };
    let start = match (&args.start, &args.since) {
        (Some(text), _) => parse_utc_seconds(text)
            .with_context(|| format!("--start {text:?} is not yyyy-MM-ddTHH:mm:ssZ"))?,
        (None, Some(age)) => end - parse_age(age)?,
        (None, None) => end - time::Duration::hours(1),
    };
    Ok((format_utc_seconds(start), format_utc_seconds(end)))
}

/// Parses an age such as `90s`, `30m`, `1h` or `2d`.
fn parse_age(text: &str) -> anyhow::Result<time::Duration> {
    let split = text.len().saturating_sub(1);
    let (number, unit) = text.split_at(split);
    let n: i64 = number
        .parse()
        .with_context(|| format!("--since {text:?} is not an age such as 1h"))?;
    let seconds = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => bail!("--since {text:?}: the unit must be s, m, h or d"),
    };
    Ok(time::Duration::seconds(seconds))
}

/// Prints records as a table (collected, to size the columns) or as JSON lines (at once).
struct Printer {
    json: bool,
    rows: Vec<[String; 7]>,
}

impl Printer {
    fn new(json: bool) -> Self {
        Self {
            json,
            rows: Vec::new(),
        }
    }

    fn add(&mut self, record: &Value) {
        if self.json {
            println!("{record}");
            return;
        }
        let field = |name: &str| {
            record
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        self.rows.push([
            field("NotifyTime"),
            field("NotifyType"),
            field("NotifyResult"),
            field("AppName"),
            field("StreamName"),
            field("NotifyUrl"),
            field("Description"),
        ]);
    }

    fn finish(self) {
        if self.json {
            return;
        }
        let header = [
            "TIME",
            "TYPE",
            "RESULT",
            "APP",
            "STREAM",
            "URL",
            "DESCRIPTION",
        ]
        .map(String::from);
        let mut widths = header.clone().map(|h| h.chars().count());
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        for row in std::iter::once(&header).chain(&self.rows) {
            let cells: Vec<String> = row
                .iter()
                .zip(widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect();
            println!("{}", cells.join("  ").trim_end());
        }
        eprintln!("{} record(s)", self.rows.len());
    }
}

#[cfg(test)]
mod tests {
    use super::parse_age;

    #[test]
    fn ages_take_seconds_minutes_hours_and_days() {
        assert_eq!(parse_age("90s").ok(), Some(time::Duration::seconds(90)));
        assert_eq!(parse_age("2d").ok(), Some(time::Duration::days(2)));
        assert!(parse_age("1w").is_err());
        assert!(parse_age("h").is_err());
        assert!(parse_age("").is_err());
    }
}
