//! An independent generator measuring the same request: `wrk` (one thread, as
//! many connections as the load) fetching one user by id right after the
//! scenario ran, so that the report can show the two generators agree.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::load::Endpoint;
use crate::LoadError;

/// Requests per second `wrk` reached on `GET {base}/Users/{user_id}`.
pub fn wrk_get(
    endpoint: &Endpoint,
    user_id: &str,
    connections: usize,
    duration: Duration,
) -> Result<f64, LoadError> {
    let url = format!(
        "http://{}{}/Users/{user_id}",
        endpoint.addr, endpoint.base_path
    );
    let token = endpoint.tokens.first().map_or("", String::as_str);
    let output = Command::new("wrk")
        .args(["-t1", "-c", &connections.to_string()])
        .args(["-d", &format!("{}s", duration.as_secs().max(1))])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .arg(&url)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| LoadError::Spawn("wrk".into(), source))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(LoadError::Command(
            "wrk".into(),
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ));
    }
    if stdout.contains("Non-2xx or 3xx responses") {
        return Err(LoadError::Command(
            "wrk".into(),
            format!("{url} answered errors: {stdout}"),
        ));
    }
    parse_rate(&stdout)
        .ok_or_else(|| LoadError::Command("wrk".into(), format!("no Requests/sec in: {stdout}")))
}

/// The rate of `Requests/sec:   1234.56`.
fn parse_rate(output: &str) -> Option<f64> {
    output.lines().find_map(|line| {
        line.trim()
            .strip_prefix("Requests/sec:")?
            .trim()
            .parse()
            .ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_rate_wrk_prints() {
        let output = "  1 threads and 16 connections\n\
                      Requests/sec:   1750.42\n\
                      Transfer/sec:      2.10MB\n";
        assert_eq!(parse_rate(output), Some(1750.42));
        assert_eq!(parse_rate("Transfer/sec: 1MB"), None);
    }
}
