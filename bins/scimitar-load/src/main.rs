//! `scimitar-load`: the load benchmark of the `scimitar` server.
//!
//! It builds and starts the real release server on loopback with a fresh database
//! (SQLite, PostgreSQL, or one of each), seeds 10,000 Entra-shaped users and 100
//! groups of 100 members over HTTP, then measures requests per second and p50/p99
//! latency of each scenario at 16 keep-alive connections. With `--peer` it does the
//! same against the Python `scim2-server` package under uvicorn and prints the
//! ratio; with `--ceiling` it runs `pgbench` on the same PostgreSQL server and gives
//! each scenario as a share of it; with `--wrk` it checks its own figures against
//! `wrk`. `--scale-to` grows the data and measures again. The table is printed and
//! written to `target/load-report.md`.
//!
//! ```text
//! cargo run --release -p scimitar-load -- --db sqlite,postgres --peer --ceiling --wrk
//! ```
//!
//! The load generator is a minimal HTTP/1.1 client on a single-threaded tokio
//! runtime, so the server keeps the other core; the `trivial` scenario measures the
//! client's own ceiling. Everything runs on 127.0.0.1, and every loop is bounded by
//! time and count.

mod ceiling;
mod cross_check;
mod data;
mod http;
mod load;
mod report;
mod server;
mod stats;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;

use crate::ceiling::{Ceiling, Pgbench};
use crate::load::{Dataset, Endpoint, Outcome, Runner, Scenario, SeedTimes, SeedWith, Target};
use crate::report::{ServerRun, Setup};
use crate::server::{Db, Paths, Server};

/// Measure the scimitar server under load (and the Python scim2-server peer).
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The databases behind our server, comma-separated: one server per database,
    /// measured in turns in the same run.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "sqlite")]
    db: Vec<Db>,
    /// Also measure the database's own ceiling: `pgbench -S` and `-N` on a database
    /// of their own on the PostgreSQL server of `--postgres-url`, with as many
    /// clients as `--connections`; the report gives each scenario as a share of it.
    #[arg(long)]
    ceiling: bool,
    /// Cross-check the load generator: after each server's GET-by-id scenario,
    /// measure the same request with `wrk` (one thread, `--connections`
    /// connections, `--duration`) and report both figures.
    #[arg(long)]
    wrk: bool,
    /// Also measure the Python scim2-server (installed into target/load-peer-venv).
    #[arg(long)]
    peer: bool,
    /// Measure only the Python peer (to check the harness itself).
    #[arg(long, conflicts_with = "peer")]
    peer_only: bool,
    /// Seconds measured per scenario.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds of unrecorded warm-up before each scenario.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1024))]
    connections: u16,
    /// Tenants of our server to spread the data and the connections over: each
    /// gets `--users` / N users and `--groups` / N groups, and connection `c`
    /// works in tenant `c % N`.
    #[arg(
        long,
        default_value_t = 1,
        conflicts_with_all = ["peer", "peer_only", "url"],
        value_parser = clap::value_parser!(u16).range(1..=1000)
    )]
    tenants: u16,
    /// Instances of our server to start on one PostgreSQL database; connections
    /// are spread over them, as a round-robin balancer would.
    #[arg(
        long,
        default_value_t = 1,
        conflicts_with_all = ["peer", "peer_only", "url"],
        value_parser = clap::value_parser!(u16).range(1..=16)
    )]
    instances: u16,
    /// Users to seed (in all).
    #[arg(long, default_value_t = 10_000)]
    users: usize,
    /// How seeding creates users: `post` (one request each, as an IdP does) or
    /// `bulk` (`POST /Bulk` of 500; for large seeds such as `--scale-to`).
    #[arg(long, value_enum, default_value = "post")]
    seed_with: SeedWith,
    /// After the scenarios ran at `--users`, grow every tenant of our servers to
    /// this many users in all (with `--seed-with`), run them again, and report how
    /// each scenario's cost grew (the million-user bench: `--scale-to 1000000`).
    #[arg(long, conflicts_with_all = ["peer", "peer_only", "url"])]
    scale_to: Option<usize>,
    /// Groups to seed.
    #[arg(long, default_value_t = 100)]
    groups: usize,
    /// Members per group (users are split among groups in index order).
    #[arg(long, default_value_t = 100)]
    group_size: usize,
    /// Scenarios to run (default: all), comma-separated.
    #[arg(long, value_enum, value_delimiter = ',')]
    scenarios: Vec<Scenario>,
    /// Use this server binary instead of building it with `cargo build --release`.
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Measure a server already running on loopback at this base URL (such as
    /// `http://127.0.0.1:8080/scim/v2`) instead of starting ours.
    #[arg(long, conflicts_with_all = ["peer", "peer_only", "server_bin"])]
    url: Option<String>,
    /// The bearer token for `--url`.
    #[arg(
        long,
        env = "SCIMITAR_LOAD_TOKEN",
        default_value = "",
        hide_env_values = true
    )]
    token: String,
    /// The PostgreSQL server; a fresh database is created on it for the run.
    #[arg(
        long,
        env = "SCIMITAR_TEST_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    postgres_url: String,
    /// Leave PostgreSQL's tables as seeding left them (a database before
    /// autovacuum's first pass, or one where it is off) instead of running
    /// `VACUUM ANALYZE` after seeding.
    #[arg(long)]
    no_analyze: bool,
    /// Runs of each scenario per server, taken in turns; the report keeps the
    /// median (by requests per second).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=20))]
    repeat: u16,
    /// Threads of the load generator's runtime.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    client_threads: u16,
    /// Seconds before a request counts as failed.
    #[arg(long, default_value_t = 60.0)]
    request_timeout: f64,
    /// Record where the servers spend CPU during each scenario with `perf record`,
    /// into target/load-perf/ (read with `perf report -i FILE`).
    #[arg(long)]
    perf: bool,
    /// Where to write the Markdown report (default: target/load-report.md).
    #[arg(long)]
    report: Option<PathBuf>,
}

/// Why a run could not complete.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A bad option value.
    #[error("invalid option: {0}")]
    Usage(String),
    /// A file or socket operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or address concerned.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A program could not be started.
    #[error("cannot run {0}: {1}")]
    Spawn(String, std::io::Error),
    /// A program ran and failed.
    #[error("{0} failed: {1}")]
    Command(String, String),
    /// `cargo build` of the server failed.
    #[error("building the server failed: {0}")]
    Build(String),
    /// `scimitar token issue` printed no token.
    #[error("scimitar token issue printed no token: {0}")]
    Token(String),
    /// A server exited during startup.
    #[error("the server exited during startup ({status}); see {}", log.display())]
    Exited {
        /// How it exited.
        status: String,
        /// Its output.
        log: PathBuf,
    },
    /// A server did not answer in time.
    #[error("the server did not become ready; see {}", .0.display())]
    NotReady(PathBuf),
    /// Seeding failed.
    #[error("seeding failed: {0}")]
    Seed(String),
    /// A load task panicked or was cancelled.
    #[error("a load task failed: {0}")]
    Worker(String),
}

impl LoadError {
    fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        LoadError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("scimitar-load: {error}");
            ExitCode::FAILURE
        }
    }
}

fn seconds(value: f64, option: &str) -> Result<Duration, LoadError> {
    Duration::try_from_secs_f64(value).map_err(|_| {
        LoadError::Usage(format!(
            "--{option} must be a non-negative number of seconds"
        ))
    })
}

fn run(args: &Args) -> Result<(), LoadError> {
    let duration = seconds(args.duration, "duration")?;
    let warmup = seconds(args.warmup, "warmup")?;
    let timeout = seconds(args.request_timeout, "request-timeout")?;
    if args.users < args.groups.saturating_mul(args.group_size) {
        return Err(LoadError::Usage(
            "--users must be at least --groups times --group-size".into(),
        ));
    }
    let tenants = usize::from(args.tenants);
    let instances = usize::from(args.instances);
    // Each database once, in the order given.
    let dbs = args.db.iter().fold(Vec::new(), |mut dbs: Vec<Db>, &db| {
        if !dbs.contains(&db) {
            dbs.push(db);
        }
        dbs
    });
    if instances > 1 && dbs != [Db::Postgres] {
        return Err(LoadError::Usage(
            "--instances needs --db postgres (one database shared by the instances)".into(),
        ));
    }
    if args
        .scale_to
        .is_some_and(|total| total <= args.users || total % tenants != 0)
    {
        return Err(LoadError::Usage(
            "--scale-to must be above --users and a multiple of --tenants".into(),
        ));
    }
    if args.users % tenants != 0 || args.groups % tenants != 0 {
        return Err(LoadError::Usage(
            "--users and --groups must be multiples of --tenants".into(),
        ));
    }
    let scenarios = if args.scenarios.is_empty() {
        Scenario::ALL.to_vec()
    } else {
        args.scenarios.clone()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(usize::from(args.client_threads))
        .enable_all()
        .build()
        .map_err(|source| LoadError::io(std::path::Path::new("tokio runtime"), source))?;
    let paths = Paths::discover();
    let measure = Measure {
        args,
        scenarios: &scenarios,
        duration,
        warmup,
        timeout,
    };

    // Every server runs side by side (an idle one costs nothing) so that each
    // scenario measures them back to back, under the same load from the rest of
    // the machine.
    let mut subjects = Vec::new();
    if let Some(url) = &args.url {
        subjects.push(Subject {
            name: format!("server at {url}"),
            endpoint: parse_url(url, &args.token)?,
            process: None,
        });
    } else if !args.peer_only {
        let bin = match &args.server_bin {
            Some(bin) => bin.clone(),
            None => server::build_scimitar(&paths)?,
        };
        for &db in &dbs {
            eprintln!("starting scimitar on {}...", db.name());
            let server =
                server::start_scimitar(&bin, db, &args.postgres_url, &paths, tenants, instances)?;
            subjects.push(Subject::started(
                format!("scimitar ({})", db.name()),
                server,
            ));
        }
    }
    let ours_count = subjects.len();
    if args.peer || args.peer_only {
        eprintln!("starting the peer (scim2-server under uvicorn)...");
        let server = server::start_peer(&paths)?;
        subjects.push(Subject::started(
            "scim2-server (Python, in memory)".into(),
            server,
        ));
    }
    let pgbench = if args.ceiling {
        Some(Pgbench::prepare(
            &args.postgres_url,
            usize::from(args.connections),
        )?)
    } else {
        None
    };
    let Measured {
        mut runs,
        ceiling,
        grown,
    } = runtime.block_on(measure.all(&subjects, pgbench.as_ref()))?;
    let peer = (runs.len() > ours_count).then(|| runs.remove(ours_count));

    let names: Vec<&str> = dbs.iter().map(|db| db.name()).collect();
    let title = if let Some(url) = &args.url {
        format!("Server at {url}")
    } else if args.peer_only {
        "Python scim2-server alone".to_owned()
    } else if args.peer {
        format!("Scimitar on {} vs Python scim2-server", names.join(" and "))
    } else {
        format!("Scimitar on {}", names.join(" and "))
    };
    let title = if args.no_analyze && dbs.contains(&Db::Postgres) {
        format!("{title} (PostgreSQL never analysed)")
    } else {
        title
    };
    let setup = Setup {
        title,
        tenants: usize::from(args.tenants),
        instances: usize::from(args.instances),
        users: args.users,
        groups: args.groups,
        group_size: args.group_size,
        connections: usize::from(args.connections),
        duration,
        warmup,
        repeat: args.repeat,
    };
    let mut markdown = report::render(&setup, &runs, peer.as_ref(), ceiling.as_ref());
    if let Some(total) = args.scale_to {
        markdown.push_str(&report::render_growth(&setup, total, &runs, &grown));
    }
    println!("{markdown}");
    let path = args
        .report
        .clone()
        .unwrap_or_else(|| paths.target.join("load-report.md"));
    std::fs::write(&path, &markdown).map_err(|source| LoadError::io(&path, source))?;
    eprintln!("report written to {}", path.display());
    Ok(())
}

/// A server under test.
struct Subject {
    name: String,
    endpoint: Endpoint,
    /// Its process, when we started it (for its peak RSS and profiles).
    process: Option<Server>,
}

impl Subject {
    fn started(name: String, server: Server) -> Self {
        Subject {
            name,
            endpoint: server.endpoint.clone(),
            process: Some(server),
        }
    }
}

/// A seeded server and what its scenarios measured so far.
struct Prepared<'a> {
    subject: &'a Subject,
    runner: Runner,
    seed: Option<SeedTimes>,
    load_before: Option<f64>,
    /// Every repetition of each scenario, in run order.
    outcomes: Vec<(Scenario, Vec<Outcome>)>,
}

/// The settings shared by every server measured.
struct Measure<'a> {
    args: &'a Args,
    scenarios: &'a [Scenario],
    duration: Duration,
    warmup: Duration,
    timeout: Duration,
}

impl Measure<'_> {
    /// Seeds every subject, then runs each scenario on each subject in turn,
    /// `--repeat` times, and keeps the median repetition by requests per second.
    /// `pgbench`, if given, runs before each scenario (and at least `--repeat`
    /// times): the machine's speed drifts over a run, and the ceiling is the
    /// median of each figure over the whole of it.
    async fn all(
        &self,
        subjects: &[Subject],
        pgbench: Option<&Pgbench>,
    ) -> Result<Measured, LoadError> {
        let mut prepared = Vec::new();
        for subject in subjects {
            prepared.push(self.seed(subject).await?);
        }
        let mut ceilings = Vec::new();
        self.scenarios(&mut prepared, pgbench, &mut ceilings)
            .await?;
        if let Some(pgbench) = pgbench {
            while ceilings.len() < usize::from(self.args.repeat) {
                ceilings.push(pgbench.measure(self.duration)?);
            }
        }
        let ceiling = ceiling::median(ceilings);
        let runs = finish(&mut prepared);
        let grown = match self.args.scale_to {
            Some(total) => {
                for run in &mut prepared {
                    self.grow(run, total).await?;
                }
                self.scenarios(&mut prepared, None, &mut Vec::new()).await?;
                finish(&mut prepared)
            }
            None => Vec::new(),
        };
        Ok(Measured {
            runs,
            ceiling,
            grown,
        })
    }

    /// Runs each scenario on each prepared server in turn, `--repeat` times;
    /// before each scenario, `pgbench` once into `ceilings`, if given.
    async fn scenarios(
        &self,
        prepared: &mut [Prepared<'_>],
        pgbench: Option<&Pgbench>,
        ceilings: &mut Vec<Ceiling>,
    ) -> Result<(), LoadError> {
        for &scenario in self.scenarios {
            if let Some(pgbench) = pgbench {
                ceilings.push(pgbench.measure(self.duration)?);
            }
            for _ in 0..self.args.repeat {
                for run in prepared.iter_mut() {
                    let outcome = self.scenario(run, scenario).await?;
                    match run.outcomes.iter_mut().find(|(done, _)| *done == scenario) {
                        Some((_, outcomes)) => outcomes.push(outcome),
                        None => run.outcomes.push((scenario, vec![outcome])),
                    }
                }
            }
        }
        Ok(())
    }

    /// Adds users to every tenant of `run`'s server until it holds `total` in
    /// all, then settles its statistics as after the first seeding.
    async fn grow(&self, run: &mut Prepared<'_>, total: usize) -> Result<(), LoadError> {
        let tenants = run.runner.datasets.len().max(1);
        let per_tenant = total / tenants;
        eprintln!(
            "{}: growing to {total} users in {tenants} tenant(s)...",
            run.subject.name
        );
        let started = Instant::now();
        for (tenant, dataset) in run.runner.datasets.iter_mut().enumerate() {
            let Some(target) = run.runner.targets.get(tenant).and_then(|t| t.first()) else {
                continue;
            };
            let have = dataset.user_ids.len();
            let added = load::create_users(
                target,
                usize::from(self.args.connections),
                have..per_tenant.max(have),
                self.args.seed_with,
            )
            .await?;
            // No scenario runs now: the runner holds the only reference.
            Arc::make_mut(dataset).user_ids.extend(added);
        }
        run.seed = Some(SeedTimes {
            users: started.elapsed(),
            groups: Duration::ZERO,
        });
        if let Some(server) = run
            .subject
            .process
            .as_ref()
            .filter(|_| !self.args.no_analyze)
        {
            server.settle_after_seeding()?;
        }
        Ok(())
    }

    /// Seeds `subject` (unless only the trivial scenario runs).
    async fn seed<'s>(&self, subject: &'s Subject) -> Result<Prepared<'s>, LoadError> {
        let name = &subject.name;
        let connections = usize::from(self.args.connections);
        let tenants = subject.endpoint.tokens.len().max(1);
        let instances = 1 + subject.endpoint.more_addrs.len();
        let targets: Vec<Vec<Arc<Target>>> = (0..tenants)
            .map(|tenant| {
                (0..instances)
                    .map(|instance| {
                        Arc::new(Target::new(
                            &subject.endpoint,
                            tenant,
                            instance,
                            self.timeout,
                        ))
                    })
                    .collect()
            })
            .collect();
        let load_before = report::load_average();
        let needs_data = self
            .scenarios
            .iter()
            .any(|&scenario| scenario != Scenario::Trivial);
        let mut datasets = Vec::with_capacity(tenants);
        let seed = if needs_data {
            eprintln!(
                "{name}: seeding {} users and {} groups in {tenants} tenant(s)...",
                self.args.users, self.args.groups
            );
            let mut total = SeedTimes {
                users: Duration::ZERO,
                groups: Duration::ZERO,
            };
            // Every tenant gets the same users (a userName is unique per tenant),
            // through the first instance.
            for target in targets.iter().filter_map(|by_instance| by_instance.first()) {
                let (dataset, times) = load::seed(
                    target,
                    self.args.users / tenants,
                    self.args.groups / tenants,
                    self.args.group_size,
                    connections,
                    self.args.seed_with,
                )
                .await?;
                total.users += times.users;
                total.groups += times.groups;
                datasets.push(Arc::new(dataset));
            }
            if let Some(server) = subject.process.as_ref().filter(|_| !self.args.no_analyze) {
                server.settle_after_seeding()?;
            }
            Some(total)
        } else {
            for _ in 0..tenants {
                datasets.push(Arc::new(Dataset {
                    user_ids: Vec::new(),
                    group_ids: Vec::new(),
                    group_size: self.args.group_size,
                }));
            }
            None
        };
        let runner = Runner {
            targets,
            datasets,
            connections,
            // Users created by the POST scenario get indices after the seeded ones
            // (those of `--scale-to` included).
            creations: Arc::new(AtomicU64::new(
                self.args.users.max(self.args.scale_to.unwrap_or(0)) as u64 + 1_000_000,
            )),
        };
        Ok(Prepared {
            subject,
            runner,
            seed,
            load_before,
            outcomes: Vec::new(),
        })
    }

    /// One warm-up and one measurement of `scenario` on `run`'s server.
    async fn scenario(&self, run: &Prepared<'_>, scenario: Scenario) -> Result<Outcome, LoadError> {
        let name = &run.subject.name;
        if !self.warmup.is_zero() {
            run.runner.measure(scenario, self.warmup).await?;
        }
        let profiler = match &run.subject.process {
            Some(server) if self.args.perf => {
                Some(server.profile(name, scenario, self.duration)?)
            }
            _ => None,
        };
        let server_cpu_before = run.subject.process.as_ref().and_then(Server::cpu_time);
        let mut outcome = run.runner.measure(scenario, self.duration).await?;
        let server_cpu_after = run.subject.process.as_ref().and_then(Server::cpu_time);
        outcome.server_cpu = server_cpu_after
            .zip(server_cpu_before)
            .map(|(after, before)| after.saturating_sub(before));
        if let Some(profiler) = profiler {
            profiler.finish();
        }
        let first_user = run
            .runner
            .datasets
            .first()
            .and_then(|dataset| dataset.user_ids.first());
        if let Some(user_id) = first_user.filter(|_| self.args.wrk && scenario == Scenario::GetById)
        {
            let rate = cross_check::wrk_get(
                &run.subject.endpoint,
                user_id,
                usize::from(self.args.connections),
                self.duration,
            )?;
            eprintln!("{name}: wrk on the same request: {rate:.1} req/s");
            outcome.wrk_per_second = Some(rate);
        }
        eprintln!(
            "{name}: {:<40} {:>10.1} req/s  p50 {:>8.2} ms  p99 {:>8.2} ms  errors {}  CPU {} µs/req",
            scenario.label(),
            outcome.summary.per_second,
            outcome.summary.p50.as_secs_f64() * 1000.0,
            outcome.summary.p99.as_secs_f64() * 1000.0,
            outcome.summary.errors,
            outcome
                .server_cpu_per_request()
                .map_or_else(|| "?".to_owned(), |cpu| format!("{cpu:.0}")),
        );
        if let Some(error) = &outcome.first_error {
            eprintln!("{name}:   first error: {error}");
        }
        Ok(outcome)
    }
}

/// What [`Measure::all`] measured.
struct Measured {
    /// Each server at `--users`.
    runs: Vec<ServerRun>,
    /// `pgbench`'s figures (`--ceiling`).
    ceiling: Option<Ceiling>,
    /// Each of our servers again at `--scale-to` users.
    grown: Vec<ServerRun>,
}

/// The report of each prepared server's scenarios so far (their median runs),
/// leaving it ready for more.
fn finish(prepared: &mut [Prepared<'_>]) -> Vec<ServerRun> {
    prepared
        .iter_mut()
        .map(|run| ServerRun {
            name: run.subject.name.clone(),
            seed: run.seed,
            outcomes: std::mem::take(&mut run.outcomes)
                .into_iter()
                .filter_map(|(scenario, outcomes)| Some((scenario, median(outcomes)?)))
                .collect(),
            peak_rss_kib: run.subject.process.as_ref().and_then(Server::peak_rss_kib),
            load_before: run.load_before,
        })
        .collect()
}

/// The repetition with the median requests per second (the lower one of an even
/// count: noise from other work only ever slows a run down, but one lucky run
/// should not stand for the rest).
fn median(mut outcomes: Vec<Outcome>) -> Option<Outcome> {
    outcomes.sort_by(|a, b| a.summary.per_second.total_cmp(&b.summary.per_second));
    let middle = outcomes.len().checked_sub(1)? / 2;
    outcomes.into_iter().nth(middle)
}

/// The endpoint of `--url`: `http://` on a loopback address, with a base path.
fn parse_url(url: &str, token: &str) -> Result<Endpoint, LoadError> {
    let bad = |why: &str| LoadError::Usage(format!("--url {url}: {why}"));
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| bad("only http:// is supported"))?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let addr: std::net::SocketAddr = authority
        .parse()
        .map_err(|_| bad("give an IP address and a port, such as 127.0.0.1:8080"))?;
    if !addr.ip().is_loopback() {
        return Err(bad("only loopback addresses may be load-tested"));
    }
    Ok(Endpoint {
        addr,
        more_addrs: Vec::new(),
        base_path: path.trim_end_matches('/').to_owned(),
        tokens: vec![token.to_owned()],
        trivial_path: "/healthz".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Samples;

    fn outcome(requests: usize) -> Outcome {
        let mut samples = Samples::default();
        for _ in 0..requests {
            samples.record(Duration::from_micros(1), false);
        }
        Outcome {
            summary: samples.summarise(Duration::from_secs(1)),
            first_error: None,
            client_cpu: None,
            server_cpu: None,
            wrk_per_second: None,
        }
    }

    #[test]
    fn median_keeps_the_middle_run_or_the_lower_of_two() {
        let rate = |runs: Vec<usize>| {
            median(runs.into_iter().map(outcome).collect()).map(|o| o.summary.requests)
        };
        assert_eq!(rate(vec![30, 10, 20]), Some(20));
        assert_eq!(rate(vec![40, 10]), Some(10));
        assert_eq!(rate(vec![5]), Some(5));
        assert_eq!(rate(Vec::new()), None);
    }

    #[test]
    fn urls_must_be_loopback_http() {
        let endpoint = parse_url("http://127.0.0.1:8080/scim/v2/", "t").unwrap();
        assert_eq!(endpoint.addr.port(), 8080);
        assert_eq!(endpoint.base_path, "/scim/v2");
        assert_eq!(endpoint.tokens, ["t"]);
        assert!(parse_url("http://10.0.0.1:80/scim/v2", "t").is_err());
        assert!(parse_url("https://127.0.0.1:443", "t").is_err());
        assert!(parse_url("http://localhost:80", "t").is_err());
        assert_eq!(parse_url("http://[::1]:80", "t").unwrap().base_path, "");
    }
}
