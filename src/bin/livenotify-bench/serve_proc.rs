//! A separate `livenotify serve` process on 127.0.0.1, started from the binary built next to
//! this one, with its memory read from /proc/<pid>/status.

use std::{
    fs::File,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::BenchError;

/// Resident memory of a process, in KiB: now (`VmRSS`) and its peak so far (`VmHWM`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Memory {
    pub rss_kib: u64,
    pub hwm_kib: u64,
}

/// A running `livenotify serve`.
pub struct ServeProcess {
    child: Child,
    pub endpoint: String,
}

/// The `livenotify` binary built beside this benchmark.
pub fn livenotify_binary() -> Result<PathBuf, BenchError> {
    let path = std::env::current_exe()?.with_file_name("livenotify");
    if !path.exists() {
        return Err(BenchError::Setup(format!(
            "{} is missing: build it first (cargo build --release --bins)",
            path.display()
        )));
    }
    Ok(path)
}

impl ServeProcess {
    /// Starts `serve` on `data_dir` with callbacks to loopback allowed and `extra` flags, and
    /// waits until it accepts connections. Its log goes to `serve.log` in `data_dir`.
    pub fn start(data_dir: &Path, extra: &[&str]) -> Result<Self, BenchError> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let listen = format!("127.0.0.1:{port}");
        let log = File::options()
            .create(true)
            .append(true)
            .open(data_dir.join("serve.log"))?;
        let child = Command::new(livenotify_binary()?)
            .arg("--data")
            .arg(data_dir)
            .args(["--log-format", "json", "serve", "--listen", &listen])
            .arg("--allow-private-targets")
            .args(extra)
            .env("LIVENOTIFY_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        let mut serve = Self {
            child,
            endpoint: format!("http://{listen}"),
        };
        serve.wait_ready(&listen)?;
        Ok(serve)
    }

    /// Waits for the listener; a store from an older build may first need a migration.
    fn wait_ready(&mut self, listen: &str) -> Result<(), BenchError> {
        let deadline = Instant::now() + Duration::from_secs(600);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(listen).is_ok() {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                return Err(BenchError::Setup(format!("serve exited early: {status}")));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(BenchError::Setup("serve did not start listening".into()))
    }

    pub fn memory(&self) -> Memory {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let kib = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
                .unwrap_or(0)
        };
        Memory {
            rss_kib: kib("VmRSS:"),
            hwm_kib: kib("VmHWM:"),
        }
    }

    /// CPU time the process has used so far (user and system), from /proc/<pid>/stat in
    /// clock ticks of 10 ms (the Linux default).
    pub fn cpu_seconds(&self) -> f64 {
        cpu_seconds_of(&self.child.id().to_string())
    }

    /// Sends SIGTERM and waits for the graceful stop (SIGKILL after 30 s).
    pub fn stop(mut self) -> Result<(), BenchError> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// User plus system CPU seconds of process `pid` (`self` for this one), from `/proc`.
pub fn cpu_seconds_of(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at the state, field 3.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (ticks(11) + ticks(12)) as f64 / 100.0
}
