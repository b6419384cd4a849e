//! The Markdown report: one table row per scenario, ours beside the peer.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::ceiling::{self, Bound, Ceiling};
use crate::load::{Outcome, Scenario, SeedTimes};

/// Everything measured against one server.
#[derive(Debug)]
pub struct ServerRun {
    /// What was measured, such as "scimitar (SQLite)".
    pub name: String,
    /// How long seeding took (`None` when only the trivial scenario ran).
    pub seed: Option<SeedTimes>,
    /// The outcome of each scenario, in run order.
    pub outcomes: Vec<(Scenario, Outcome)>,
    /// The server's peak resident set size, in KiB.
    pub peak_rss_kib: Option<u64>,
    /// The machine's 1-minute load average before seeding (other work on the
    /// machine skews the figures).
    pub load_before: Option<f64>,
}

impl ServerRun {
    fn outcome(&self, scenario: Scenario) -> Option<&Outcome> {
        self.outcomes
            .iter()
            .find(|(candidate, _)| *candidate == scenario)
            .map(|(_, outcome)| outcome)
    }
}

/// The settings printed above the table.
#[derive(Debug)]
pub struct Setup {
    /// The title, such as "Scimitar on SQLite".
    pub title: String,
    /// Tenants the data and connections are spread over.
    pub tenants: usize,
    /// Instances of our server the connections are spread over.
    pub instances: usize,
    /// Users seeded.
    pub users: usize,
    /// Groups seeded.
    pub groups: usize,
    /// Members per group.
    pub group_size: usize,
    /// Concurrent connections.
    pub connections: usize,
    /// Measured time per scenario.
    pub duration: Duration,
    /// Unrecorded warm-up per scenario.
    pub warmup: Duration,
    /// Runs per scenario and server (the table shows the median one).
    pub repeat: u16,
}

/// The 1-minute load average, from `/proc/loadavg`.
pub fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Renders the report: a table for each of `ours` (our server on each database),
/// beside the `peer` and the `ceiling` when measured; the peer's alone when `ours`
/// is empty.
pub fn render(
    setup: &Setup,
    ours: &[ServerRun],
    peer: Option<&ServerRun>,
    ceiling: Option<&Ceiling>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### {}, {}\n", setup.title, today());
    let _ = writeln!(
        out,
        "Machine: {}. Data: {} Entra-shaped users (~1 KB), {} groups of {} members{}. \
         Load: {} keep-alive connections over loopback, {} s per scenario after a {} s warm-up{}; \
         the servers take turns, scenario by scenario.\n",
        machine(),
        count(setup.users),
        setup.groups,
        setup.group_size,
        match (setup.tenants, setup.instances) {
            (1, 1) => String::new(),
            (tenants, instances) => format!(
                ", spread evenly over {tenants} tenant(s) and {instances} server instance(s) \
                 on one database (connection c in tenant c mod {tenants})"
            ),
        },
        setup.connections,
        setup.duration.as_secs_f64(),
        setup.warmup.as_secs_f64(),
        if setup.repeat > 1 {
            format!(", median of {} runs", setup.repeat)
        } else {
            String::new()
        },
    );
    if let Some(ceiling) = ceiling {
        let _ = writeln!(
            out,
            "The ceiling, in the same run: `pgbench` (scale {}, {} clients, on the same \
             PostgreSQL server, run before each scenario; the median) `-S` {} point \
             selects/s, `-N` {} write transactions/s. \
             Reads of one resource are given as a share of `-S` (target {:.0}%), writes \
             of `-N` (target {:.0}%).\n",
            ceiling::SCALE,
            setup.connections,
            thousands(ceiling.selects),
            thousands(ceiling.writes),
            Bound::Select.target() * 100.0,
            Bound::Write.target() * 100.0,
        );
    }
    if ours.is_empty() {
        table(&mut out, None, peer, ceiling);
    }
    for run in ours {
        if ours.len() > 1 {
            let _ = writeln!(out, "#### {}\n", run.name);
        }
        table(&mut out, Some(run), peer, ceiling);
    }

    for run in ours.iter().chain(peer) {
        let seeding = run.seed.map_or_else(
            || "not seeded".to_owned(),
            |seed| {
                format!(
                    "seeded {} users in {:.1} s ({} users/s) and {} groups in {:.1} s",
                    count(setup.users),
                    seed.users.as_secs_f64(),
                    thousands(rate(setup.users, seed.users)),
                    setup.groups,
                    seed.groups.as_secs_f64(),
                )
            },
        );
        let _ = writeln!(
            out,
            "- {}: {seeding}; peak RSS {}; load average {} before.",
            run.name,
            run.peak_rss_kib.map_or_else(
                || "unknown".to_owned(),
                |kib| format!("{:.0} MiB", kib as f64 / 1024.0)
            ),
            run.load_before
                .map_or_else(|| "unknown".to_owned(), |load| format!("{load:.2}")),
        );
    }
    // Against a slow server the client idles between responses, and its CPU per
    // request says little: report the fastest trivial run only.
    let fastest = ours.iter().chain(peer).max_by(|a, b| {
        let rate = |run: &ServerRun| {
            run.outcome(Scenario::Trivial)
                .map_or(0.0, |o| o.summary.per_second)
        };
        rate(a).total_cmp(&rate(b))
    });
    if let Some(line) = fastest.and_then(client_ceiling) {
        let _ = writeln!(out, "- {line}");
    }
    for run in ours.iter().chain(peer) {
        if let Some(line) = cross_check_line(run) {
            let _ = writeln!(out, "- {line}");
        }
    }
    let failures: Vec<String> = ours
        .iter()
        .chain(peer)
        .flat_map(|run| {
            run.outcomes.iter().filter_map(move |(scenario, outcome)| {
                let error = outcome.first_error.as_ref()?;
                Some(format!(
                    "- {} / {}: first error: {error}",
                    run.name,
                    scenario.label()
                ))
            })
        })
        .collect();
    if !failures.is_empty() {
        out.push('\n');
        for failure in failures {
            let _ = writeln!(out, "{failure}");
        }
    }
    out
}

/// How the cost of each scenario grew from `setup.users` to `total` users, for
/// each of our servers: the throughput at both sizes and their ratio (the cost
/// per request at the same concurrency), the median latency and the server's CPU
/// per request.
pub fn render_growth(
    setup: &Setup,
    total: usize,
    small: &[ServerRun],
    large: &[ServerRun],
) -> String {
    let mut out = String::new();
    let (from, to) = (count(setup.users), count(total));
    let _ = writeln!(out, "### From {from} to {to} users\n");
    for (before, after) in small.iter().zip(large) {
        let _ = writeln!(out, "#### {}\n", after.name);
        let _ = writeln!(
            out,
            "| scenario | req/s at {from} | req/s at {to} | cost ratio | p50 at {from} | p50 at {to} | CPU/req at {from} | CPU/req at {to} |"
        );
        let _ = writeln!(out, "|---|--:|--:|--:|--:|--:|--:|--:|");
        for (scenario, grown) in &after.outcomes {
            let Some(first) = before.outcome(*scenario) else {
                continue;
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                scenario.label(),
                thousands(first.summary.per_second),
                thousands(grown.summary.per_second),
                ratio(first.summary.per_second, grown.summary.per_second),
                millis(first.summary.p50),
                millis(grown.summary.p50),
                cpu_per_request(first),
                cpu_per_request(grown),
            );
        }
        out.push('\n');
        if let Some(seed) = after.seed {
            let _ = writeln!(
                out,
                "- {}: grew by {} users in {:.1} s ({} users/s).\n",
                after.name,
                count(total.saturating_sub(setup.users)),
                seed.users.as_secs_f64(),
                thousands(rate(total.saturating_sub(setup.users), seed.users)),
            );
        }
    }
    out
}

/// One table: a row per scenario of `ours` (else of `peer`), with the peer's
/// figures and the ratio when there is a peer, and the share of the ceiling.
fn table(
    out: &mut String,
    ours: Option<&ServerRun>,
    peer: Option<&ServerRun>,
    ceiling: Option<&Ceiling>,
) {
    let mut header = vec!["scenario"];
    if ours.is_some() {
        header.extend(["req/s", "p50", "p99", "errors", "CPU/req"]);
    }
    if peer.is_some() {
        header.extend(["peer req/s", "peer p99", "peer errors", "peer CPU/req"]);
    }
    if ours.is_some() && peer.is_some() {
        header.push("ratio");
    }
    let ceiling = ceiling.filter(|_| ours.is_some());
    if ceiling.is_some() {
        header.push("of pgbench");
    }
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let align: Vec<&str> = header
        .iter()
        .enumerate()
        .map(|(at, _)| if at == 0 { "---" } else { "--:" })
        .collect();
    let _ = writeln!(out, "|{}|", align.join("|"));

    let scenarios = ours
        .or(peer)
        .map(|run| run.outcomes.iter().map(|(scenario, _)| *scenario));
    let dashes = |n: usize| vec!["-".to_owned(); n];
    for scenario in scenarios.into_iter().flatten() {
        let mut cells = vec![scenario.label().to_owned()];
        let our_outcome = ours.and_then(|run| run.outcome(scenario));
        let peer_outcome = peer.and_then(|run| run.outcome(scenario));
        if ours.is_some() {
            cells.extend(our_outcome.map_or_else(
                || dashes(5),
                |outcome| {
                    vec![
                        thousands(outcome.summary.per_second),
                        millis(outcome.summary.p50),
                        millis(outcome.summary.p99),
                        outcome.summary.errors.to_string(),
                        cpu_per_request(outcome),
                    ]
                },
            ));
        }
        if peer.is_some() {
            cells.extend(peer_outcome.map_or_else(
                || dashes(4),
                |outcome| {
                    vec![
                        thousands(outcome.summary.per_second),
                        millis(outcome.summary.p99),
                        outcome.summary.errors.to_string(),
                        cpu_per_request(outcome),
                    ]
                },
            ));
        }
        if ours.is_some() && peer.is_some() {
            cells.push(match (our_outcome, peer_outcome) {
                (Some(ours), Some(peer)) => ratio(ours.summary.per_second, peer.summary.per_second),
                _ => "-".into(),
            });
        }
        if let Some(ceiling) = ceiling {
            cells.push(match (our_outcome, Bound::of(scenario)) {
                (Some(outcome), Some(bound)) => {
                    share(outcome.summary.per_second, bound.tps(ceiling), bound)
                }
                _ => "-".into(),
            });
        }
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push('\n');
}

/// `ours` as a percentage of `pgbench`'s figure, such as "41% of -N".
fn share(ours: f64, ceiling: f64, bound: Bound) -> String {
    if ceiling > 0.0 {
        format!("{:.0}% of {}", ours / ceiling * 100.0, bound.switch())
    } else {
        "-".into()
    }
}

/// How `wrk` and our generator agree on GET by id against `run`'s server.
fn cross_check_line(run: &ServerRun) -> Option<String> {
    let outcome = run.outcome(Scenario::GetById)?;
    let wrk = outcome.wrk_per_second?;
    let ours = outcome.summary.per_second;
    Some(format!(
        "cross-check against {}: GET /Users/{{id}} at {} req/s with `wrk`, {} with this \
         generator ({:+.0}%).",
        run.name,
        thousands(wrk),
        thousands(ours),
        (ours / wrk - 1.0) * 100.0,
    ))
}

/// What the trivial scenario says about the load generator's own ceiling: the CPU
/// it spends per request, which stays true however busy the server or the machine.
fn client_ceiling(run: &ServerRun) -> Option<String> {
    let outcome = run.outcome(Scenario::Trivial)?;
    let cpu = outcome.client_cpu?;
    let requests = outcome.summary.requests;
    if requests == 0 {
        return None;
    }
    let per_request = cpu.as_secs_f64() / requests as f64;
    Some(format!(
        "load generator against {}: {} req/s, {:.1} µs of client CPU per request, \
         so one client core sustains about {} req/s.",
        run.name,
        thousands(outcome.summary.per_second),
        per_request * 1e6,
        thousands(1.0 / per_request),
    ))
}

/// The server's CPU time per request, as "123 µs" ("-" when unknown).
fn cpu_per_request(outcome: &Outcome) -> String {
    outcome
        .server_cpu_per_request()
        .map_or_else(|| "-".to_owned(), |micros| format!("{micros:.0} µs"))
}

fn rate(count: usize, took: Duration) -> f64 {
    let seconds = took.as_secs_f64();
    if seconds > 0.0 {
        count as f64 / seconds
    } else {
        0.0
    }
}

/// `ours / peer`, as "12.3x".
fn ratio(ours: f64, peer: f64) -> String {
    if peer > 0.0 {
        let value = ours / peer;
        if value >= 10.0 {
            format!("{value:.0}x")
        } else {
            format!("{value:.1}x")
        }
    } else {
        "-".into()
    }
}

/// A rate with thousands separators; one decimal below 100.
fn thousands(value: f64) -> String {
    if value < 100.0 {
        return format!("{value:.1}");
    }
    group_digits(&format!("{value:.0}"))
}

/// A count with thousands separators.
fn count(value: usize) -> String {
    group_digits(&value.to_string())
}

fn group_digits(digits: &str) -> String {
    let mut out = String::new();
    for (at, digit) in digits.chars().enumerate() {
        if at > 0 && (digits.len() - at) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A latency in milliseconds with a precision that suits its size.
fn millis(latency: Duration) -> String {
    let ms = latency.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 100.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// The CPU model, core count and memory of this machine.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            let line = info
                .lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))?;
            let kib: f64 = line.trim().trim_end_matches("kB").trim().parse().ok()?;
            Some(format!(", {:.0} GiB", kib / 1024.0 / 1024.0))
        })
        .unwrap_or_default();
    format!("{cpu}, {cores} cores{memory}, {}", std::env::consts::OS)
}

/// Today's date in UTC, as YYYY-MM-DD.
fn today() -> String {
    let days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() / 86_400);
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Samples;

    #[test]
    fn dates_from_day_counts() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
    }

    #[test]
    fn number_formats() {
        assert_eq!(thousands(1_234_567.4), "1,234,567");
        assert_eq!(thousands(999.6), "1,000");
        assert_eq!(thousands(8.25), "8.2");
        assert_eq!(count(10_000), "10,000");
        assert_eq!(count(7), "7");
        assert_eq!(millis(Duration::from_micros(1_234)), "1.23 ms");
        assert_eq!(millis(Duration::from_micros(45_600)), "45.6 ms");
        assert_eq!(ratio(35_000.0, 1_750.0), "20x");
        assert_eq!(ratio(1.0, 0.0), "-");
    }

    #[test]
    fn the_client_ceiling_comes_from_its_cpu_per_request() {
        let mut samples = Samples::default();
        for _ in 0..1000 {
            samples.record(Duration::from_micros(100), false);
        }
        let run = ServerRun {
            name: "ours".into(),
            seed: None,
            outcomes: vec![(
                Scenario::Trivial,
                Outcome {
                    summary: samples.summarise(Duration::from_millis(20)),
                    first_error: None,
                    client_cpu: Some(Duration::from_millis(10)),
                    server_cpu: None,
                    wrk_per_second: None,
                },
            )],
            peak_rss_kib: None,
            load_before: None,
        };
        let line = client_ceiling(&run).unwrap();
        assert!(
            line.contains("50,000 req/s, 10.0 µs of client CPU per request"),
            "{line}"
        );
        assert!(line.ends_with("about 100,000 req/s."), "{line}");
    }

    #[test]
    fn a_table_row_per_scenario_with_the_ratio() {
        let run = |name: &str, latency: u64| {
            let mut samples = Samples::default();
            for _ in 0..10 {
                samples.record(Duration::from_micros(latency), false);
            }
            ServerRun {
                name: name.into(),
                seed: Some(SeedTimes {
                    users: Duration::from_secs(1),
                    groups: Duration::from_secs(1),
                }),
                outcomes: vec![(
                    Scenario::GetById,
                    Outcome {
                        summary: samples.summarise(Duration::from_secs(latency)),
                        first_error: None,
                        client_cpu: Some(Duration::from_millis(latency)),
                        server_cpu: Some(Duration::from_millis(latency)),
                        wrk_per_second: None,
                    },
                )],
                peak_rss_kib: Some(2048),
                load_before: Some(0.5),
            }
        };
        let setup = Setup {
            title: "Scimitar on SQLite".into(),
            tenants: 1,
            instances: 1,
            users: 10,
            groups: 1,
            group_size: 10,
            connections: 16,
            duration: Duration::from_secs(10),
            warmup: Duration::from_secs(1),
            repeat: 3,
        };
        let report = render(&setup, &[run("ours", 1)], Some(&run("peer", 20)), None);
        assert!(
            report.contains(
                "| GET /Users/{id} | 10.0 | 0.00 ms | 0.00 ms | 0 | 100 µs \
                 | 0.5 | 0.02 ms | 0 | 2000 µs | 20x |"
            ),
            "{report}"
        );
        assert!(report.contains(
            "seeded 10 users in 1.0 s (10.0 users/s) and 1 groups in 1.0 s; peak RSS 2 MiB"
        ));
        assert!(report.contains("load average 0.50 before"));
        assert!(
            report.contains("1 s warm-up, median of 3 runs;"),
            "{report}"
        );
        assert!(
            !report.contains("load generator against"),
            "no trivial scenario ran"
        );
        let ceiling = Ceiling {
            selects: 40.0,
            writes: 5.0,
        };
        let report = render(
            &setup,
            &[run("sqlite", 1), run("postgres", 2)],
            None,
            Some(&ceiling),
        );
        assert!(report.contains("#### sqlite\n"), "{report}");
        assert!(report.contains("#### postgres\n"), "{report}");
        assert!(
            report
                .contains("| GET /Users/{id} | 5.0 | 0.00 ms | 0.00 ms | 0 | 200 µs | 12% of -S |"),
            "{report}"
        );
        assert!(report.contains("`-S` 40.0 point selects/s"), "{report}");
        let spread = Setup {
            tenants: 16,
            ..setup
        };
        let report = render(&spread, &[run("ours", 1)], None, None);
        assert!(
            report.contains("spread evenly over 16 tenant(s)"),
            "{report}"
        );
    }
}
