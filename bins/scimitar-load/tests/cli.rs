//! The binary end to end, in well under a second: option checks, and a short
//! `trivial` run against a stub HTTP server on loopback.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{Command, Output};
use std::thread;
use std::time::{Duration, Instant};

fn scimitar_load(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scimitar-load"))
        .args(args)
        .output()
        .expect("scimitar-load runs")
}

#[test]
fn refuses_targets_off_loopback() {
    let output = scimitar_load(&["--url", "http://192.0.2.1:8080/scim/v2", "--token", "t"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("only loopback addresses"), "{stderr}");
}

#[test]
fn refuses_more_members_than_users() {
    let output = scimitar_load(&["--users", "10", "--groups", "2", "--group-size", "6"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--users must be at least"), "{stderr}");
}

#[test]
fn tenants_split_the_data_evenly_and_only_our_server_has_them() {
    let output = scimitar_load(&[
        "--tenants",
        "3",
        "--users",
        "100",
        "--groups",
        "1",
        "--group-size",
        "10",
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("multiples of --tenants"), "{stderr}");
    let output = scimitar_load(&["--tenants", "2", "--peer"]);
    assert!(!output.status.success(), "the peer has no tenants");
    let output = scimitar_load(&["--instances", "2", "--db", "sqlite"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--instances needs --db postgres"),
        "{stderr}"
    );
}

/// Answers `200 ok` to every request on every connection until `until`.
fn stub_server(until: Instant) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    listener.set_nonblocking(true).expect("nonblocking");
    thread::spawn(move || {
        while Instant::now() < until {
            match listener.accept() {
                Ok((mut socket, _)) => {
                    thread::spawn(move || {
                        socket.set_nonblocking(false).ok();
                        socket
                            .set_read_timeout(Some(Duration::from_millis(100)))
                            .ok();
                        let mut buf = [0u8; 4096];
                        while Instant::now() < until {
                            match socket.read(&mut buf) {
                                Ok(0) => return,
                                Ok(_) => {
                                    let reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
                                    if socket.write_all(reply).is_err() {
                                        return;
                                    }
                                }
                                Err(_) => continue,
                            }
                        }
                    });
                }
                Err(_) => thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    addr
}

#[test]
fn measures_a_server_given_by_url_and_writes_the_report() {
    let addr = stub_server(Instant::now() + Duration::from_secs(20));
    let dir = tempfile::tempdir().expect("temporary directory");
    let report = dir.path().join("report.md");
    let url = format!("http://{addr}/scim/v2");
    let output = scimitar_load(&[
        "--url",
        &url,
        "--token",
        "t",
        "--scenarios",
        "trivial",
        "--duration",
        "0.3",
        "--warmup",
        "0",
        "--connections",
        "2",
        "--report",
        report.to_str().expect("UTF-8 path"),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let markdown = std::fs::read_to_string(&report).expect("report written");
    let row = markdown
        .lines()
        .find(|line| line.starts_with("| trivial endpoint"))
        .unwrap_or_else(|| panic!("no trivial row in {markdown}"));
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    assert_eq!(cells.get(5), Some(&"0"), "errors cell of {row}");
    assert_ne!(cells.get(2), Some(&"0.0"), "requests per second of {row}");
    assert!(markdown.contains("not seeded"), "{markdown}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        markdown.trim()
    );
}
