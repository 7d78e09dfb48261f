//! Progress of long terminal work (`records import`, `records export`): a progress bar when
//! stderr is a terminal, plain periodic lines otherwise (logs, CI, pipes).
//!
//! The work only bumps an atomic counter, through [`CountingReader`] or [`CountingWriter`];
//! a separate thread reads it and draws, so the hot loop pays one relaxed add per buffer.

use std::{
    io::{IsTerminal, Read, Write},
    sync::{
        atomic::{AtomicU64, Ordering},
        mpsc, Arc,
    },
    thread::JoinHandle,
    time::Duration,
};

use indicatif::{ProgressBar, ProgressStyle};

/// How often the bar is redrawn on a terminal.
const BAR_TICK: Duration = Duration::from_millis(100);
/// How often a plain line is written when stderr is not a terminal.
const PLAIN_TICK: Duration = Duration::from_secs(2);

/// What the counter counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    Records,
}

/// A running progress report; [`Progress::finish`] stops it and prints the last state.
pub struct Progress {
    done: Arc<AtomicU64>,
    stop: mpsc::Sender<()>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts reporting `label` against `total` (unknown: `None`) on stderr.
    pub fn start(label: &'static str, total: Option<u64>, unit: Unit) -> Self {
        let done = Arc::new(AtomicU64::new(0));
        let (stop, stopped) = mpsc::channel();
        let report = Report {
            label,
            total,
            unit,
            done: Arc::clone(&done),
        };
        let thread = if std::io::stderr().is_terminal() {
            std::thread::spawn(move || report.bar(stopped))
        } else {
            std::thread::spawn(move || report.plain(stopped))
        };
        Self {
            done,
            stop,
            thread: Some(thread),
        }
    }

    /// The counter the work bumps.
    pub fn counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.done)
    }

    /// Stops the report after a last update.
    pub fn finish(mut self) {
        self.stop_thread();
    }

    fn stop_thread(&mut self) {
        let _ = self.stop.send(());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop_thread();
    }
}

struct Report {
    label: &'static str,
    total: Option<u64>,
    unit: Unit,
    done: Arc<AtomicU64>,
}

impl Report {
    fn bar(self, stopped: mpsc::Receiver<()>) {
        let bar = match self.total {
            Some(total) => ProgressBar::new(total),
            None => ProgressBar::new_spinner(),
        };
        let template = match (self.total.is_some(), self.unit) {
            (true, Unit::Bytes) => "{msg} [{bar:40}] {bytes}/{total_bytes} ({eta} left)",
            (true, Unit::Records) => "{msg} [{bar:40}] {pos}/{len} records ({eta} left)",
            (false, Unit::Bytes) => "{spinner} {msg} {bytes} ({bytes_per_sec})",
            (false, Unit::Records) => "{spinner} {msg} {pos} records ({per_sec})",
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(self.label);
        while stopped.recv_timeout(BAR_TICK).is_err_and(is_timeout) {
            bar.set_position(self.done.load(Ordering::Relaxed));
        }
        bar.finish_and_clear();
        eprintln!("{}", self.line(true));
    }

    fn plain(self, stopped: mpsc::Receiver<()>) {
        while stopped.recv_timeout(PLAIN_TICK).is_err_and(is_timeout) {
            eprintln!("{}", self.line(false));
        }
        eprintln!("{}", self.line(true));
    }

    /// `import: 12.0 MiB of 48.0 MiB (25%)`, or `export: 5000 records` when the total is unknown.
    fn line(&self, finished: bool) -> String {
        let done = self.done.load(Ordering::Relaxed);
        let amount = self.amount(done);
        let state = if finished { "done, " } else { "" };
        match self.total {
            Some(total) if total > 0 => {
                let percent = done.saturating_mul(100) / total;
                let total = self.amount(total);
                format!("{}: {state}{amount} of {total} ({percent}%)", self.label)
            }
            _ => format!("{}: {state}{amount}", self.label),
        }
    }

    fn amount(&self, n: u64) -> String {
        match self.unit {
            Unit::Bytes => format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0)),
            Unit::Records => format!("{n} records"),
        }
    }
}

fn is_timeout(error: mpsc::RecvTimeoutError) -> bool {
    error == mpsc::RecvTimeoutError::Timeout
}

/// A reader that adds the bytes it reads to a progress counter.
pub struct CountingReader<R> {
    inner: R,
    counter: Arc<AtomicU64>,
}

impl<R: Read> CountingReader<R> {
    pub fn new(inner: R, counter: Arc<AtomicU64>) -> Self {
        Self { inner, counter }
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A writer that adds the lines (records, in JSON-lines output) it writes to a counter.
pub struct CountingWriter<W> {
    inner: W,
    counter: Arc<AtomicU64>,
}

impl<W: Write> CountingWriter<W> {
    pub fn new(inner: W, counter: Arc<AtomicU64>) -> Self {
        Self { inner, counter }
    }
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        let lines = buf[..n].iter().filter(|&&b| b == b'\n').count();
        self.counter.fetch_add(lines as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_say_how_far_the_work_is() {
        let report = Report {
            label: "import",
            total: Some(4 * 1024 * 1024),
            unit: Unit::Bytes,
            done: Arc::new(AtomicU64::new(1024 * 1024)),
        };
        assert_eq!(report.line(false), "import: 1.0 MiB of 4.0 MiB (25%)");
    }

    #[test]
    fn counting_writer_counts_lines() {
        let counter = Arc::new(AtomicU64::new(0));
        let mut out = CountingWriter::new(Vec::new(), Arc::clone(&counter));
        out.write_all(b"{}\n{}\n{").expect("write");
        assert_eq!(counter.load(Ordering::Relaxed), 2);
    }
}
