//! wrk (the Debian package) against the same local receiver, as the yardstick for the
//! delivery rate: what a plain HTTP load generator reaches on this machine.

use std::process::Command;

/// wrk's rate and how it was driven.
pub struct WrkFigures {
    pub per_second: f64,
    pub threads: u32,
    pub connections: u32,
    pub seconds: u32,
}

/// Runs wrk for `seconds` with `connections` connections; an error says why there is no rate.
pub fn run(url: &str, seconds: u32, connections: u32) -> Result<WrkFigures, String> {
    let threads = 1;
    let output = Command::new("wrk")
        .arg(format!("-t{threads}"))
        .arg(format!("-c{connections}"))
        .arg(format!("-d{seconds}s"))
        .arg(url)
        .output()
        .map_err(|e| format!("wrk not available ({e}); apt-get install -y wrk"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let per_second = text
        .lines()
        .find_map(|line| line.strip_prefix("Requests/sec:"))
        .and_then(|rest| rest.trim().parse::<f64>().ok())
        .ok_or_else(|| format!("wrk printed no rate: {}", text.trim()))?;
    Ok(WrkFigures {
        per_second,
        threads,
        connections,
        seconds,
    })
}
