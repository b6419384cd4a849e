//! Starting the servers under test (ours on SQLite or PostgreSQL, the Python peer)
//! as child processes on loopback, and stopping them again.

use std::fs::File;
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::load::{Endpoint, Scenario};
use crate::LoadError;

/// How long a server may take to answer its first request.
const STARTUP_LIMIT: Duration = Duration::from_secs(60);

/// The Python peer's ASGI application: `scim2-server` over its in-memory storage,
/// with no authentication (checking a static token would cost it next to nothing).
const PEER_APP: &str = "\
from scim2_server.applications.asgi import ASGIApplication
from scim2_server.memory import AsyncInMemoryStorage
from scim2_server.utils import load_default_provider

app = ASGIApplication(AsyncInMemoryStorage(), load_default_provider())
";

/// The database behind our server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Db {
    /// A fresh SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database on the PostgreSQL server of `SCIMITAR_TEST_POSTGRES_URL`.
    Postgres,
}

impl Db {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Db::Sqlite => "SQLite",
            Db::Postgres => "PostgreSQL",
        }
    }
}

/// A server running as our child process; stopped when dropped.
#[derive(Debug)]
pub struct Server {
    /// How to reach it.
    pub endpoint: Endpoint,
    paths: Paths,
    child: Child,
    /// More instances on the same database (`--instances`), at
    /// `endpoint.more_addrs`.
    more: Vec<Child>,
    /// Whatever must outlive the process (a temporary directory, a database).
    resources: Resources,
}

impl Server {
    /// Every process of the server: the first instance, then the others.
    fn processes(&self) -> impl Iterator<Item = &Child> {
        std::iter::once(&self.child).chain(&self.more)
    }

    /// The peak resident set size in KiB (`VmHWM`), while it runs: the sum over
    /// its instances.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        self.processes()
            .map(|child| {
                let status =
                    std::fs::read_to_string(format!("/proc/{}/status", child.id())).ok()?;
                status
                    .lines()
                    .find_map(|line| line.strip_prefix("VmHWM:"))
                    .and_then(|rest| {
                        rest.trim()
                            .trim_end_matches("kB")
                            .trim()
                            .parse::<u64>()
                            .ok()
                    })
            })
            .sum()
    }

    /// CPU time the server has used so far (all threads of all its instances).
    pub fn cpu_time(&self) -> Option<Duration> {
        self.processes()
            .map(|child| crate::load::cpu_time(&child.id().to_string()))
            .sum()
    }

    /// Starts `perf record` on the server for `duration`, into
    /// `target/load-perf/<run>-<scenario>.data`.
    pub fn profile(
        &self,
        run: &str,
        scenario: Scenario,
        duration: Duration,
    ) -> Result<Profiler, LoadError> {
        let dir = self.paths.target.join("load-perf");
        std::fs::create_dir_all(&dir).map_err(|source| LoadError::io(&dir, source))?;
        let slug: String = format!("{run}-{scenario:?}")
            .chars()
            .filter_map(|c| match c {
                c if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
                ' ' | '-' | '_' => Some('-'),
                _ => None,
            })
            .collect();
        let output = dir.join(format!("{slug}.data"));
        let child = Command::new("perf")
            .args([
                "record",
                "-F",
                "999",
                "-g",
                "-p",
                &self.child.id().to_string(),
                "-o",
            ])
            .arg(&output)
            .args(["--", "sleep", &format!("{:.3}", duration.as_secs_f64())])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| LoadError::Spawn("perf".into(), source))?;
        Ok(Profiler { child, output })
    }

    /// Settles the database after seeding as PostgreSQL's autovacuum would soon
    /// after a bulk load in production (where it is on): planner statistics and
    /// the visibility map. Nothing to do for SQLite: the server owns its
    /// statistics there.
    pub fn settle_after_seeding(&self) -> Result<(), LoadError> {
        match &self.resources.database {
            // What autovacuum does after a bulk of inserts: statistics for the
            // planner, and the visibility map that lets a filtered page count
            // its matches from an index alone.
            Some(database) => database.psql_on_own("VACUUM ANALYZE"),
            None => Ok(()),
        }
    }
}

/// A `perf record` of a server during one scenario.
#[derive(Debug)]
pub struct Profiler {
    child: Child,
    output: PathBuf,
}

impl Profiler {
    /// Waits for the recording to end and says where it is.
    pub fn finish(mut self) {
        match self.child.wait() {
            Ok(status) if status.success() => eprintln!("  profile: {}", self.output.display()),
            Ok(status) => eprintln!("  perf record failed ({status})"),
            Err(error) => eprintln!("  perf record failed: {error}"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Kills only the children we started, by their handles.
        for child in std::iter::once(&mut self.child).chain(&mut self.more) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// What a server needs to keep until it stops; dropped after the process is killed
/// (fields drop after `Drop::drop` ran), which deletes the SQLite directory or the
/// PostgreSQL database.
#[derive(Debug, Default)]
struct Resources {
    _temp_dir: Option<tempfile::TempDir>,
    database: Option<PostgresDatabase>,
}

/// Where to put the servers' logs, the peer's venv and the report.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The workspace root.
    pub workspace: PathBuf,
    /// The cargo target directory.
    pub target: PathBuf,
}

impl Paths {
    /// The workspace this crate belongs to, and its target directory.
    pub fn discover() -> Self {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace.join("target"));
        Self { workspace, target }
    }

    fn log_file(&self, name: &str) -> Result<(PathBuf, File), LoadError> {
        let dir = self.target.join("load-logs");
        std::fs::create_dir_all(&dir).map_err(|source| LoadError::io(&dir, source))?;
        let path = dir.join(format!("{name}.log"));
        let file = File::create(&path).map_err(|source| LoadError::io(&path, source))?;
        Ok((path, file))
    }
}

/// Builds the release server binary with cargo and returns its path.
pub fn build_scimitar(paths: &Paths) -> Result<PathBuf, LoadError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("building the release server (cargo build --release -p scimitar-bin)...");
    let status = Command::new(cargo)
        .args(["build", "--release", "-p", "scimitar-bin"])
        .current_dir(&paths.workspace)
        .status()
        .map_err(|source| LoadError::Spawn("cargo".into(), source))?;
    if !status.success() {
        return Err(LoadError::Build(status.to_string()));
    }
    Ok(paths.target.join("release").join("scimitar"))
}

/// Starts our server on a fresh database, `instances` processes of it sharing the
/// database, and fetches a token for each of `tenants` tenants (`default`, `t2`,
/// ...).
pub fn start_scimitar(
    bin: &Path,
    db: Db,
    postgres_url: &str,
    paths: &Paths,
    tenants: usize,
    instances: usize,
) -> Result<Server, LoadError> {
    let (database_url, resources) = match db {
        Db::Sqlite => {
            let dir = tempfile::Builder::new()
                .prefix("scimitar-load-")
                .tempdir()
                .map_err(|source| LoadError::io(Path::new("temporary directory"), source))?;
            let url = format!("sqlite://{}", dir.path().join("scimitar.db").display());
            (
                url,
                Resources {
                    _temp_dir: Some(dir),
                    ..Resources::default()
                },
            )
        }
        Db::Postgres => {
            let database = PostgresDatabase::create(postgres_url, "server")?;
            (
                database.url.clone(),
                Resources {
                    database: Some(database),
                    ..Resources::default()
                },
            )
        }
    };
    let log_name = format!("scimitar-{}", db.name().to_lowercase());
    let start = |instance: usize| -> Result<(Child, SocketAddr), LoadError> {
        let addr = free_loopback_addr()?;
        let mut command = Command::new(bin);
        command
            .args(["serve", "--listen", &addr.to_string()])
            .args(["--database-url", &database_url])
            .env("RUST_LOG", "warn");
        let log_name = match instance {
            0 => log_name.clone(),
            n => format!("{log_name}-{}", n + 1),
        };
        // Its stdout is a log file, so a first-start token would go to a file:
        // keep it beside the log, not in the working directory.
        command
            .arg("--first-token-file")
            .arg(paths.target.join(format!("{log_name}-first-token")));
        let (mut child, log_path) = spawn_logged(&mut command, paths, &log_name)?;
        wait_until_ready(&mut child, addr, "/healthz", &log_path)?;
        Ok((child, addr))
    };
    let (child, addr) = start(0)?;
    let mut server = Server {
        endpoint: Endpoint {
            addr,
            more_addrs: Vec::new(),
            base_path: "/scim/v2".into(),
            tokens: Vec::new(),
            trivial_path: "/healthz".into(),
        },
        paths: paths.clone(),
        child,
        more: Vec::new(),
        resources,
    };
    for instance in 1..instances {
        let (child, addr) = start(instance)?;
        server.more.push(child);
        server.endpoint.more_addrs.push(addr);
    }
    server.endpoint.tokens = tenant_tokens(bin, &database_url, tenants)?;
    Ok(server)
}

/// A token of tenant `default`, then, for more than one tenant, of tenants
/// `t2` ... `tN` (created here).
fn tenant_tokens(bin: &Path, database_url: &str, tenants: usize) -> Result<Vec<String>, LoadError> {
    let mut tokens = vec![issue_token(bin, database_url, "default")?];
    for n in 2..=tenants {
        let tenant = format!("t{n}");
        let output = Command::new(bin)
            .args(["tenant", "add", &tenant, "--database-url", database_url])
            .stdin(Stdio::null())
            .output()
            .map_err(|source| LoadError::Spawn(bin.display().to_string(), source))?;
        if !output.status.success() {
            return Err(LoadError::Token(
                String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            ));
        }
        tokens.push(issue_token(bin, database_url, &tenant)?);
    }
    Ok(tokens)
}

/// Runs `scimitar token issue TENANT` against the server's database.
fn issue_token(bin: &Path, database_url: &str, tenant: &str) -> Result<String, LoadError> {
    let output = Command::new(bin)
        .args(["token", "issue", tenant, "--database-url", database_url])
        .stdin(Stdio::null())
        .output()
        .map_err(|source| LoadError::Spawn(bin.display().to_string(), source))?;
    let token = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if !output.status.success() || token.is_empty() || token.contains(char::is_whitespace) {
        return Err(LoadError::Token(
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ));
    }
    Ok(token)
}

/// Installs the peer in a venv under the target directory (once) and starts it under
/// uvicorn.
pub fn start_peer(paths: &Paths) -> Result<Server, LoadError> {
    let venv = paths.target.join("load-peer-venv");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        eprintln!(
            "installing the peer: pip install scim2-server uvicorn (into {})",
            venv.display()
        );
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    }
    let has_peer = Command::new(&python)
        .args(["-c", "import scim2_server, uvicorn"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !has_peer {
        run(Command::new(&python).args(["-m", "pip", "install", "-q", "scim2-server", "uvicorn"]))?;
    }
    let app_dir = venv.join("app");
    std::fs::create_dir_all(&app_dir).map_err(|source| LoadError::io(&app_dir, source))?;
    let app_file = app_dir.join("peer_app.py");
    std::fs::write(&app_file, PEER_APP).map_err(|source| LoadError::io(&app_file, source))?;
    let addr = free_loopback_addr()?;
    let mut command = Command::new(&python);
    command
        .args(["-m", "uvicorn", "peer_app:app", "--app-dir"])
        .arg(&app_dir)
        .args(["--host", "127.0.0.1", "--port", &addr.port().to_string()])
        .args(["--log-level", "warning", "--no-access-log"]);
    let (child, log_path) = spawn_logged(&mut command, paths, "peer")?;
    let trivial_path = "/v2/ServiceProviderConfig";
    let mut server = Server {
        endpoint: Endpoint {
            addr,
            more_addrs: Vec::new(),
            base_path: "/v2".into(),
            tokens: vec!["peer-accepts-any-token".into()],
            trivial_path: trivial_path.into(),
        },
        paths: paths.clone(),
        child,
        more: Vec::new(),
        resources: Resources::default(),
    };
    wait_until_ready(&mut server.child, addr, trivial_path, &log_path)?;
    Ok(server)
}

/// Starts `command` with its output in `target/load-logs/<name>.log`.
fn spawn_logged(
    command: &mut Command,
    paths: &Paths,
    name: &str,
) -> Result<(Child, PathBuf), LoadError> {
    let (log_path, log) = paths.log_file(name)?;
    let log_err = log
        .try_clone()
        .map_err(|source| LoadError::io(&log_path, source))?;
    let program = command.get_program().to_string_lossy().into_owned();
    let child = command
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .map_err(|source| LoadError::Spawn(program, source))?;
    Ok((child, log_path))
}

fn run(command: &mut Command) -> Result<(), LoadError> {
    let name = format!("{command:?}");
    let status = command
        .status()
        .map_err(|source| LoadError::Spawn(name.clone(), source))?;
    if status.success() {
        Ok(())
    } else {
        Err(LoadError::Command(name, status.to_string()))
    }
}

/// A loopback address with a port that was free a moment ago.
fn free_loopback_addr() -> Result<SocketAddr, LoadError> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|source| LoadError::io(Path::new("127.0.0.1:0"), source))?;
    listener
        .local_addr()
        .map_err(|source| LoadError::io(Path::new("127.0.0.1:0"), source))
}

/// Polls `path` until it answers 200, the process exits, or the time limit passes.
fn wait_until_ready(
    child: &mut Child,
    addr: SocketAddr,
    path: &str,
    log: &Path,
) -> Result<(), LoadError> {
    let started = Instant::now();
    while started.elapsed() < STARTUP_LIMIT {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(LoadError::Exited {
                status: status.to_string(),
                log: log.to_path_buf(),
            });
        }
        if probe(addr, path) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(LoadError::NotReady(log.to_path_buf()))
}

/// Whether `GET path` answers 200 (a blocking, one-shot request).
fn probe(addr: SocketAddr, path: &str) -> bool {
    use std::io::Write;
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

/// A database created for one run on a PostgreSQL server, dropped at the end.
#[derive(Debug)]
pub struct PostgresDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PostgresDatabase {
    /// Creates (or recreates) the database `scimitar_load_{purpose}_{pid}` on the
    /// server of `base_url`.
    pub fn create(base_url: &str, purpose: &str) -> Result<Self, LoadError> {
        let name = format!("scimitar_load_{purpose}_{}", std::process::id());
        let database = Self {
            admin_url: with_database(base_url, "postgres"),
            url: with_database(base_url, &name),
            name,
        };
        database.psql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            database.name
        ))?;
        database.psql(&format!("CREATE DATABASE {}", database.name))?;
        Ok(database)
    }

    /// Runs `sql` on the maintenance database `postgres`.
    fn psql(&self, sql: &str) -> Result<(), LoadError> {
        psql(&self.admin_url, sql)
    }

    /// Its URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs `sql` on this database.
    fn psql_on_own(&self, sql: &str) -> Result<(), LoadError> {
        psql(&self.url, sql)
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        if let Err(error) = self.psql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )) {
            eprintln!("could not drop database {}: {error}", self.name);
        }
    }
}

fn psql(url: &str, sql: &str) -> Result<(), LoadError> {
    run(Command::new("psql")
        .args(["-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql])
        // Quiet the NOTICE of `DROP DATABASE IF EXISTS` on a fresh name.
        .env("PGOPTIONS", "--client-min-messages=warning")
        .stdout(Stdio::null()))
}

/// `url` with its database name (the path) replaced by `database`, query kept.
fn with_database(url: &str, database: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (url, None),
    };
    let authority_start = head.find("://").map_or(0, |at| at + 3);
    let path_start = head
        .get(authority_start..)
        .and_then(|rest| rest.find('/'))
        .map_or(head.len(), |at| authority_start + at);
    let base = head.get(..path_start).unwrap_or(head);
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_database_of_a_url() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/test?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h:5432", "x"),
            "postgres://h:5432/x"
        );
    }
}
