//! The report: one Markdown section (machine, query, delivery, ingest, memory, disk, targets),
//! printed and written into BENCHMARKS.md between its markers, leaving the rest of the file
//! (the hand-written analysis) as it is.

use std::{fmt::Write as _, path::Path};

use crate::machine::Machine;
use crate::pipeline::PipelineFigures;
use crate::scale::{Plan, QueryScale, Scale};
use crate::stats::{count, ms};

pub const BEGIN: &str = "<!-- livenotify-bench:begin (generated; edits here are overwritten) -->";
pub const END: &str = "<!-- livenotify-bench:end -->";

pub fn render(
    machine: &Machine,
    scale: Scale,
    plan: Plan,
    scales: &[QueryScale],
    pipeline: Option<&PipelineFigures>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Run `--scale {}` on {}: {} cores, {} MiB, Linux {}, {}, commit {}.\n",
        scale.name(),
        machine.cpu,
        machine.cores,
        machine.memory_mib,
        machine.kernel,
        machine.date,
        machine.commit
    );
    query_table(&mut out, plan, scales);
    if let Some(pipeline) = pipeline {
        pipeline_tables(&mut out, plan, pipeline);
    }
    disk_table(&mut out, scales);
    targets(&mut out, scales, pipeline);
    out
}

fn query_table(out: &mut String, plan: Plan, scales: &[QueryScale]) {
    let _ = writeln!(
        out,
        "### Query: DescribeLiveStreamsNotifyRecords over HTTP, V3-signed\n\n\
         Hot domain (10% of the records), 7-day range, PageSize 20; {} requests per case from \
         {} concurrent clients in the benchmark process.\n",
        plan.query.requests, plan.query.concurrency
    );
    out.push_str("| records | hot domain | case | TotalNum | p50 ms | p99 ms | req/s | errors |\n");
    out.push_str("|---:|---:|---|---:|---:|---:|---:|---:|\n");
    for s in scales {
        for row in &s.rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {:.0} | {} |",
                count(s.records),
                count(s.hot_records),
                row.case,
                count(row.total_num),
                ms(row.summary.p50),
                ms(row.summary.p99),
                row.summary.per_second,
                row.errors
            );
        }
    }
    out.push('\n');
}

fn pipeline_tables(out: &mut String, plan: Plan, p: &PipelineFigures) {
    let d = &p.delivery;
    let _ = writeln!(
        out,
        "### Delivery, ingest and memory (a separate `livenotify serve`)\n\n\
         | measure | value |\n|---|---:|"
    );
    let mut row = |name: &str, value: String| {
        let _ = writeln!(out, "| {name} | {value} |");
    };
    row(
        &format!(
            "delivery: callbacks/s, hook to receiver, {} events, every attempt recorded",
            plan.pipeline.events
        ),
        format!(
            "{:.0} ({} delivered, {} recorded, {} hooks refused)",
            d.per_second, d.delivered, d.recorded, d.hooks_refused
        ),
    );
    row(
        "delivery: serve CPU per callback (hook, claim, send, record), µs",
        format!("{:.0}", d.serve_cpu_us),
    );
    row(
        "delivery: hook accepted to callback received, p50 / p99 ms",
        format!("{} / {}", ms(d.latency.p50), ms(d.latency.p99)),
    );
    let r = &p.drain;
    row(
        &format!(
            "delivery alone: callbacks/s draining {} deliveries queued on disk, {}",
            r.queued, "every attempt recorded"
        ),
        format!(
            "{:.0} ({} delivered, {} recorded)",
            r.per_second, r.delivered, r.recorded
        ),
    );
    row(
        "delivery alone: serve CPU per callback (claim, send, record), µs",
        format!("{:.0}", r.serve_cpu_us),
    );
    match &p.wrk {
        Ok(w) => {
            row(
                &format!(
                    "wrk -t{} -c{} -d{}s, same receiver: requests/s",
                    w.threads, w.connections, w.seconds
                ),
                format!("{:.0}", w.per_second),
            );
            row(
                "delivery / wrk",
                format!("{:.3}", d.per_second / w.per_second),
            );
            row(
                "delivery alone / wrk",
                format!("{:.3}", r.per_second / w.per_second),
            );
        }
        Err(why) => row("wrk, same receiver", format!("not measured: {why}")),
    }
    let f = &p.client_floor;
    row(
        &format!(
            "livenotify's HTTP client alone, {} GETs from {} tasks, nothing stored: requests/s",
            f.sent, f.concurrency
        ),
        format!("{:.0} ({} answered 200)", f.per_second, f.succeeded),
    );
    let s = &p.storage_floor;
    row(
        &format!(
            "store alone, {} deliveries in-process (enqueue, claim, record; no HTTP): per s",
            s.deliveries
        ),
        format!("{:.0}", s.per_second),
    );
    row(
        "store alone: CPU per delivery, µs; bytes written per delivery",
        format!("{:.0}; {:.0}", s.cpu_us, s.written_per_delivery),
    );
    if let Ok(w) = &p.wrk {
        row(
            "HTTP client alone / wrk",
            format!("{:.3}", f.per_second / w.per_second),
        );
    }
    row(
        &format!(
            "ingest: hooks/s accepted durably ({} concurrent hooks)",
            plan.pipeline.hook_concurrency
        ),
        format!(
            "{:.0} ({} accepted, {} refused)",
            p.ingest.per_second, p.ingest.count, p.ingest_refused
        ),
    );
    row(
        "ingest: p50 / p99 ms",
        format!("{} / {}", ms(p.ingest.p50), ms(p.ingest.p99)),
    );
    memory_rows(out, p);
    out.push('\n');
}

fn memory_rows(out: &mut String, p: &PipelineFigures) {
    let mut row = |name: &str, value: String| {
        let _ = writeln!(out, "| {name} | {value} |");
    };
    row(
        "memory idle: VmRSS / VmHWM MiB",
        mib2(p.idle.rss_kib, p.idle.hwm_kib),
    );
    row(
        "memory after delivery: VmRSS / VmHWM MiB",
        mib2(p.after_delivery.rss_kib, p.after_delivery.hwm_kib),
    );
    let b = &p.backlog;
    row(
        &format!(
            "memory with {} undelivered events on disk: VmRSS at 1 s / at {:.0} s MiB",
            count(b.queued),
            b.watched.as_secs_f64() + 1.0
        ),
        mib2(b.at_start.rss_kib, b.at_end.rss_kib),
    );
    row("memory with the backlog: peak (VmHWM) MiB", mib(b.peak_kib));
    row(
        "serve CPU with the backlog (its domain at its in-flight cap), % of one core",
        format!("{:.1}", b.cpu_share * 100.0),
    );
}

fn disk_table(out: &mut String, scales: &[QueryScale]) {
    out.push_str("### Disk\n\n| records | store bytes | bytes per million records | load s |\n");
    out.push_str("|---:|---:|---:|---:|\n");
    for s in scales {
        let per_million = s.disk_bytes as f64 * 1e6 / s.records.max(1) as f64;
        let load = s
            .load_seconds
            .map_or("reused".into(), |t| format!("{t:.1}"));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {load} |",
            count(s.records),
            count(s.disk_bytes),
            count(per_million as u64)
        );
    }
    out.push('\n');
}

fn targets(out: &mut String, scales: &[QueryScale], p: Option<&PipelineFigures>) {
    out.push_str("### Targets\n\n");
    let page1 = |s: &QueryScale| s.rows.first().map(|r| r.summary.p99.as_secs_f64() * 1000.0);
    if let (Some(small), Some(big)) = (scales.first(), scales.last()) {
        if let (Some(a), Some(b)) = (page1(small), page1(big)) {
            let _ = writeln!(
                out,
                "- page 1 p99 at {} records ≤ 10 ms: {:.2} ms, {}",
                count(big.records),
                b,
                verdict(b <= 10.0)
            );
            let _ = writeln!(
                out,
                "- page 1 p99 at {} within 1.5× of {}: {:.2}×, {}",
                count(big.records),
                count(small.records),
                b / a,
                verdict(b / a <= 1.5)
            );
        }
    }
    let Some(p) = p else { return };
    if let Ok(w) = &p.wrk {
        let ratio = p.delivery.per_second / w.per_second;
        let alone = p.drain.per_second / w.per_second;
        let _ = writeln!(
            out,
            "- delivery ≥ 0.5 of wrk: {ratio:.3} from hook to receiver, {}; \
             {alone:.3} for delivery alone, {}",
            verdict(ratio >= 0.5),
            verdict(alone >= 0.5)
        );
    }
    let idle = p.idle.hwm_kib as f64 / 1024.0;
    let _ = writeln!(
        out,
        "- idle RSS ≤ 64 MiB: {idle:.1} MiB peak, {}",
        verdict(idle <= 64.0)
    );
    let growth = p.backlog.at_end.rss_kib as f64 / p.backlog.at_start.rss_kib.max(1) as f64;
    let _ = writeln!(
        out,
        "- RSS flat under the backlog: {:.2}× from 1 s to the end, peak {} MiB",
        growth,
        mib(p.backlog.peak_kib)
    );
}

fn verdict(holds: bool) -> &'static str {
    if holds {
        "holds"
    } else {
        "does not hold"
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

fn mib2(a: u64, b: u64) -> String {
    format!("{} / {}", mib(a), mib(b))
}

/// Replaces the text between the markers of `path` (creating the file, or appending the
/// markers, when they are missing).
pub fn write_section(path: &Path, table: &str) -> std::io::Result<()> {
    let current = std::fs::read_to_string(path).unwrap_or_default();
    let section = format!("{BEGIN}\n{table}\n{END}");
    let updated = match (current.find(BEGIN), current.find(END)) {
        (Some(start), Some(end)) if end > start => {
            format!(
                "{}{section}{}",
                &current[..start],
                &current[end + END.len()..]
            )
        }
        _ => format!("{current}\n{section}\n"),
    };
    std::fs::write(path, updated)
}
