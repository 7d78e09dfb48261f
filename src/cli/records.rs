//! `livenotify records`: list records through the API (as a customer would), or import and
//! export files in the API's JSON shape directly on the store.

use std::{io::BufWriter, path::PathBuf};

use anyhow::{anyhow, bail, Context};
use clap::{Args, Subcommand};
use serde_json::Value;
use time::OffsetDateTime;

use super::follow::Follower;
use crate::api::actions::QUERY_WINDOW;
use crate::client::ApiClient;
use crate::domain::{format_utc_seconds, parse_utc_seconds, DomainName};
use crate::ops::progress::{CountingWriter, Progress, Unit};
use crate::records::{export, import};
use crate::storage::{IdentityStore, RecordFilter, Store, StoreLocation};

/// The writer's page cache during an import: enough to keep the indexes of a few million
/// records in memory, so the load does not spill and re-read pages.
const IMPORT_CACHE_MIB: u32 = 512;

/// How far inside the API's query window a `--since` start is kept. The server checks
/// StartTime against its own clock when the request arrives, later than ours by the
/// request's travel time and any skew between the machines; the margin also covers the
/// fraction of a second lost when the start is printed to the second.
const WINDOW_MARGIN: time::Duration = time::Duration::minutes(1);

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
    /// How far back to look, such as 90s, 30m, 1h, 2d (default 1h), at most 7d; ignored
    /// with --start. A start older than the API accepts is moved to a minute inside its 7 days.
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
    // The progress line's last report ("export: done, N records") is the summary.
    progress.finish();
    count?;
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
            .call_patiently("DescribeLiveStreamsNotifyRecords", &params)
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
        (None, since) => {
            let age = match since {
                Some(age) => parse_age(age)?,
                None => time::Duration::hours(1),
            };
            since_start(end, age, now)?
        }
    };
    Ok((format_utc_seconds(start), format_utc_seconds(end)))
}

/// `end - age`; when that is older than the API accepts, the earliest start it still
/// accepts (kept [`WINDOW_MARGIN`] inside its window), so that `--since 7d` asks for all of
/// it. A range that would then be empty is left for the server to refuse.
fn since_start(
    end: OffsetDateTime,
    age: time::Duration,
    now: OffsetDateTime,
) -> anyhow::Result<OffsetDateTime> {
    let start = end
        .checked_sub(age)
        .ok_or_else(|| anyhow!("--since reaches before the earliest date there is"))?;
    let earliest = now - QUERY_WINDOW + WINDOW_MARGIN;
    Ok(if start < earliest && earliest < end {
        earliest
    } else {
        start
    })
}

/// Parses an age such as `90s`, `30m`, `1h` or `2d`, from one second to the API's window.
fn parse_age(text: &str) -> anyhow::Result<time::Duration> {
    let usage = || format!("--since {text:?} is not an age such as 90s, 30m, 1h or 2d");
    let Some((unit_at, unit)) = text.char_indices().last() else {
        bail!(usage());
    };
    let unit_seconds: i64 = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        _ => bail!("--since {text:?}: the unit must be s, m, h or d"),
    };
    let number: i64 = text[..unit_at].parse().with_context(usage)?;
    let age = number
        .checked_mul(unit_seconds)
        .map(time::Duration::seconds)
        .filter(|age| age.is_positive() && *age <= QUERY_WINDOW);
    age.ok_or_else(|| {
        anyhow!("--since {text:?}: the age must be from 1s to 7d, as far back as the API looks")
    })
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
    use clap::Parser;
    use time::macros::datetime;

    use super::*;

    #[derive(Parser)]
    struct Query {
        #[command(flatten)]
        args: QueryArgs,
    }

    /// The StartTime and EndTime `records` sends for these flags at `now`.
    fn range(flags: &[&str], now: OffsetDateTime) -> anyhow::Result<(String, String)> {
        let query = Query::try_parse_from(std::iter::once("records").chain(flags.iter().copied()))
            .expect("flags parse");
        time_range(&query.args, now)
    }

    #[test]
    fn ages_take_seconds_minutes_hours_and_days() {
        assert_eq!(parse_age("90s").ok(), Some(time::Duration::seconds(90)));
        assert_eq!(parse_age("30m").ok(), Some(time::Duration::minutes(30)));
        assert_eq!(parse_age("1h").ok(), Some(time::Duration::hours(1)));
        assert_eq!(parse_age("2d").ok(), Some(time::Duration::days(2)));
        assert_eq!(parse_age("7d").ok(), Some(QUERY_WINDOW));
        assert_eq!(parse_age("604800s").ok(), Some(QUERY_WINDOW));
    }

    #[test]
    fn malformed_ages_are_errors() {
        for text in ["", "h", "1w", "1.5h", "1 h", "x1h", "5µ", "µ", "1hµ", "٣h"] {
            assert!(parse_age(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn ages_outside_one_second_to_seven_days_are_errors() {
        let too_far = [
            "0s",
            "-5h",
            "8d",
            "604801s",
            "99999999999999h",
            "9223372036854775807d",
            "99999999999999999999999s",
        ];
        for text in too_far {
            let error = parse_age(text).expect_err(text).to_string();
            assert!(error.contains("--since"), "{text:?}: {error}");
        }
    }

    #[test]
    fn since_counts_back_from_the_end() {
        let now = datetime!(2024-05-08 12:00:00.75 UTC);
        let (start, end) = range(&["--since", "90m"], now).expect("valid");
        assert_eq!(start, "2024-05-08T10:30:00Z");
        assert_eq!(end, "2024-05-08T12:00:00Z");

        let (start, _) = range(&[], now).expect("valid");
        assert_eq!(start, "2024-05-08T11:00:00Z");
    }

    #[test]
    fn since_seven_days_starts_inside_the_api_window() {
        let now = datetime!(2024-05-08 12:00:00.75 UTC);
        let (start, _) = range(&["--since", "7d"], now).expect("valid");

        // The server refuses a StartTime before its own now minus the window; its now is
        // later than ours, and it reads the start to the second.
        let start = parse_utc_seconds(&start).expect("a UTC instant");
        assert!(start > now - QUERY_WINDOW, "{start}");
        assert!(start <= now - QUERY_WINDOW + WINDOW_MARGIN, "{start}");
    }

    #[test]
    fn since_with_an_end_in_the_past_is_clamped_to_the_window_too() {
        let now = datetime!(2024-05-08 12:00:00 UTC);
        let flags = ["--since", "7d", "--end", "2024-05-05T00:00:00Z"];
        let (start, end) = range(&flags, now).expect("valid");

        assert_eq!(start, "2024-05-01T12:01:00Z");
        assert_eq!(end, "2024-05-05T00:00:00Z");
    }
}
