//! Runs the real `scimitar` binary: administration commands, and servers on random
//! loopback ports over SQLite files or the test PostgreSQL database.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

pub use idp::*;

#[path = "../../../../crates/scimitar-server/tests/idp/mod.rs"]
mod idp;
pub mod receiver;

/// A database for one test: a fresh SQLite file, or the shared PostgreSQL database.
pub struct Database {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl Database {
    /// A new SQLite file, migrated (administration commands refuse a database
    /// that does not exist) and without tenants.
    pub fn sqlite() -> Database {
        let database = Database::sqlite_path();
        database.cli(&["migrate"]);
        database
    }

    /// The URL of a SQLite file that does not exist yet.
    pub fn sqlite_path() -> Database {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("scimitar.db").display());
        Database {
            url,
            _dir: Some(dir),
        }
    }

    /// The shared PostgreSQL database, or `None` (the test skips) when
    /// `SCIMITAR_TEST_POSTGRES_URL` is unset.
    pub fn postgres() -> Option<Database> {
        Some(Database {
            url: scimitar_store::testkit::postgres_url("a server on PostgreSQL")?,
            _dir: None,
        })
    }

    /// Runs `scimitar --database-url URL args...`; panics unless it succeeds, and
    /// returns its stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        let output = Command::new(env!("CARGO_BIN_EXE_scimitar"))
            .arg("--database-url")
            .arg(&self.url)
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run scimitar");
        assert!(
            output.status.success(),
            "scimitar {args:?} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr),
            String::from_utf8_lossy(&output.stdout)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Runs `scimitar --database-url URL args...`, which must fail; returns its
    /// stderr.
    pub fn cli_error(&self, args: &[&str]) -> String {
        let output = Command::new(env!("CARGO_BIN_EXE_scimitar"))
            .arg("--database-url")
            .arg(&self.url)
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .output()
            .expect("run scimitar");
        assert!(
            !output.status.success(),
            "scimitar {args:?} should fail: {}",
            String::from_utf8_lossy(&output.stdout)
        );
        String::from_utf8_lossy(&output.stderr).into_owned()
    }

    /// The first column of the first row `sql` (with one `?`, bound to `arg`)
    /// selects from this SQLite database, as text: read with Python's sqlite3,
    /// not with the code under test.
    pub fn sqlite_value(&self, sql: &str, arg: &str) -> String {
        let output = Command::new("python3")
            .args([
                "-c",
                "import sqlite3,sys; row = sqlite3.connect(sys.argv[1]).execute(sys.argv[2], (sys.argv[3],)).fetchone(); print(row[0] if row else '')",
                self.url.trim_start_matches("sqlite://"),
                sql,
                arg,
            ])
            .output()
            .expect("run python3");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// A new admin token of `scope` (`admin` or `read-only`), as `scimitar
    /// admin-token issue` prints it.
    pub fn admin_token(&self, scope: &str) -> String {
        let token = self.cli(&["admin-token", "issue", "--label", "test", "--scope", scope]);
        let token = token.trim().to_owned();
        assert!(token.starts_with("scimadm_"), "{token}");
        token
    }

    /// A new random tenant and a token for it.
    pub fn tenant(&self) -> (String, String) {
        let tenant = format!("t-{}", uuid::Uuid::new_v4().simple());
        self.cli(&["tenant", "add", &tenant]);
        let token = self.cli(&["token", "issue", &tenant, "--label", "test"]);
        (tenant, token.trim().to_owned())
    }

    pub fn serve(&self) -> Server {
        Server::start(&self.url)
    }

    /// A server with more command-line arguments (`--config FILE`...).
    pub fn serve_with(&self, args: &[&str]) -> Server {
        Server::start_with(&self.url, args)
    }
}

/// A running `scimitar serve`; killed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:<port>/scim/v2`.
    pub base: String,
    /// The first-start token, if this start created tenant `default`.
    pub first_token: Option<String>,
}

impl Server {
    pub fn start(database_url: &str) -> Server {
        Server::start_with(database_url, &[])
    }

    pub fn start_with(database_url: &str, args: &[&str]) -> Server {
        // Standard output is a pipe here, so a first-start token goes to this file.
        let token_dir = tempfile::tempdir().expect("a directory for the token file");
        let token_file = token_dir.path().join("first-token");
        let mut child = Command::new(env!("CARGO_BIN_EXE_scimitar"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--database-url",
                database_url,
            ])
            .arg("--first-token-file")
            .arg(&token_file)
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn scimitar serve");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, receiver) = mpsc::channel();
        thread::spawn(move || {
            let mut stdout_lines = Vec::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(base) = line.trim().strip_prefix("scimitar listening on ") {
                    let _ = sender.send((base.to_owned(), stdout_lines.join("\n")));
                }
                stdout_lines.push(line);
            }
        });
        let (base, printed) = receiver
            .recv_timeout(Duration::from_secs(60))
            .expect("the server did not start within 60 s");
        assert!(
            !printed.contains("scim_"),
            "a token on standard output: {printed}"
        );
        let first_token = std::fs::read_to_string(&token_file)
            .ok()
            .map(|text| text.trim().to_owned())
            .filter(|token| !token.is_empty());
        if first_token.is_some() {
            assert!(
                printed.contains(token_file.to_str().expect("a path")),
                "{printed}"
            );
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&token_file)
                    .expect("metadata")
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600, "the token file is private");
            }
        }
        Server {
            child,
            base,
            first_token,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn origin(&self) -> String {
        self.base.trim_end_matches("/scim/v2").to_owned()
    }

    /// A client of this server with `token`.
    pub fn client(&self, token: &str) -> Client {
        Client {
            base: self.base.clone(),
            token: token.to_owned(),
        }
    }

    /// Kills the server with SIGKILL, as a crash would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
