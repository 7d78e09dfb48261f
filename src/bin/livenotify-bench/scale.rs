//! The sizes of a run (`--scale`), and one query scale: build (or reuse) a records store,
//! measure it, note its size on disk.

use std::{path::Path, time::Duration, time::Instant};

use crate::fixture::{self, RecordsFixture};
use crate::pipeline::PipelineLoad;
use crate::query::{self, QueryLoad, QueryRow};
use crate::BenchError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    Tiny,
    Small,
    Full,
}

/// Everything a scale decides.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub record_counts: &'static [u64],
    pub query: QueryLoad,
    pub pipeline: PipelineLoad,
}

impl Scale {
    pub fn name(self) -> &'static str {
        match self {
            Self::Tiny => "tiny",
            Self::Small => "small",
            Self::Full => "full",
        }
    }

    pub fn plan(self) -> Plan {
        let (record_counts, requests, events, backlog, watch, wrk): (
            &'static [u64],
            _,
            _,
            _,
            _,
            _,
        ) = match self {
            Self::Tiny => (&[2_000], 40, 100, 1_000, 2, 1),
            Self::Small => (&[100_000, 1_000_000], 2_000, 5_000, 100_000, 10, 5),
            Self::Full => (
                &[100_000, 1_000_000, 10_000_000],
                3_000,
                20_000,
                1_000_000,
                20,
                10,
            ),
        };
        Plan {
            record_counts,
            query: QueryLoad {
                requests,
                concurrency: 4,
                max_time: Duration::from_secs(60),
            },
            pipeline: PipelineLoad {
                events,
                ingest_events: events / 2,
                hook_concurrency: 32,
                backlog,
                backlog_watch: Duration::from_secs(watch),
                wrk_seconds: wrk,
                wrk_connections: 64,
                max_phase: Duration::from_secs(600),
            },
        }
    }
}

/// The figures of one store size.
pub struct QueryScale {
    pub records: u64,
    pub hot_records: u64,
    pub load_seconds: Option<f64>,
    pub disk_bytes: u64,
    pub rows: Vec<QueryRow>,
}

pub async fn query_scale(
    work: &Path,
    records: u64,
    plan: Plan,
    keep: bool,
) -> Result<QueryScale, BenchError> {
    let dir = work.join(format!("records-{records}"));
    let (fixture, load_seconds) = match keep.then(|| reuse(&dir)).flatten() {
        Some(fixture) => (fixture, None),
        None => {
            let _ = std::fs::remove_dir_all(&dir);
            let began = Instant::now();
            let fixture = fixture::build(&dir, records).await?;
            remember(&dir, &fixture)?;
            (fixture, Some(began.elapsed().as_secs_f64()))
        }
    };
    let disk_bytes = fixture::disk_bytes(&dir);
    let rows = query::run(&dir, &fixture, plan.query).await?;
    if !keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(QueryScale {
        records,
        hot_records: fixture.hot_records,
        load_seconds,
        disk_bytes,
        rows,
    })
}

const FIXTURE_FILE: &str = "bench-fixture.json";

fn remember(dir: &Path, fixture: &RecordsFixture) -> Result<(), BenchError> {
    let body = serde_json::json!({
        "AccessKeyId": fixture.key_id,
        "AccessKeySecret": fixture.key_secret,
        "HotRecords": fixture.hot_records,
    });
    std::fs::write(dir.join(FIXTURE_FILE), body.to_string())?;
    Ok(())
}

/// A store kept by an earlier run with `--keep-stores`.
fn reuse(dir: &Path) -> Option<RecordsFixture> {
    let text = std::fs::read_to_string(dir.join(FIXTURE_FILE)).ok()?;
    let body: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some(RecordsFixture {
        key_id: body.get("AccessKeyId")?.as_str()?.to_string(),
        key_secret: body.get("AccessKeySecret")?.as_str()?.to_string(),
        hot_domain: fixture::domain_name(0),
        hot_records: body.get("HotRecords")?.as_u64()?,
    })
}
