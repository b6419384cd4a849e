//! The database's own ceiling, measured in the same run: `pgbench` against a
//! database of its own on the same PostgreSQL server, with as many clients as the
//! load has connections.
//!
//! `pgbench -S` (one indexed point select per transaction) is what a read of one
//! resource can at best approach; `pgbench -N` (three updates and an insert, one
//! durable commit per transaction) is the ceiling for a write. The report gives each
//! scenario as a share of the one that bounds it.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::load::Scenario;
use crate::server::PostgresDatabase;
use crate::LoadError;

/// `pgbench`'s scale: 1,000,000 `pgbench_accounts` rows, about the size of the
/// seeded users' table.
pub const SCALE: u32 = 10;

/// Transactions per second `pgbench` reached, by kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ceiling {
    /// `pgbench -S`: point selects.
    pub selects: f64,
    /// `pgbench -N`: durable write transactions.
    pub writes: f64,
}

/// Which `pgbench` figure bounds a scenario, and the share of it the issue asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    /// A read of one resource: `-S`, target 60%.
    Select,
    /// A write: `-N`, target 50%.
    Write,
}

impl Bound {
    /// The bound of `scenario` (none for pages and the client's ceiling).
    pub fn of(scenario: Scenario) -> Option<Bound> {
        match scenario {
            Scenario::GetById | Scenario::UserNameEq | Scenario::ExternalIdEq => {
                Some(Bound::Select)
            }
            Scenario::PatchGivenName
            | Scenario::Replace
            | Scenario::GroupMember
            | Scenario::Create => Some(Bound::Write),
            Scenario::Trivial | Scenario::Page | Scenario::FamilyNameSw => None,
        }
    }

    /// The share of the ceiling aimed at.
    pub fn target(self) -> f64 {
        match self {
            Bound::Select => 0.6,
            Bound::Write => 0.5,
        }
    }

    /// Its `pgbench` figure in `ceiling`.
    pub fn tps(self, ceiling: &Ceiling) -> f64 {
        match self {
            Bound::Select => ceiling.selects,
            Bound::Write => ceiling.writes,
        }
    }

    /// The `pgbench` switch, for the report.
    pub fn switch(self) -> &'static str {
        match self {
            Bound::Select => "-S",
            Bound::Write => "-N",
        }
    }
}

/// A `pgbench` database, initialised once and measured as often as asked.
#[derive(Debug)]
pub struct Pgbench {
    database: PostgresDatabase,
    clients: usize,
}

impl Pgbench {
    /// Creates and initialises a `pgbench` database (scale [`SCALE`]) on the
    /// PostgreSQL server of `base_url`.
    pub fn prepare(base_url: &str, clients: usize) -> Result<Self, LoadError> {
        let database = PostgresDatabase::create(base_url, "pgbench")?;
        eprintln!("pgbench: initialising scale {SCALE}...");
        pgbench(&["-i", "-q", "-s", &SCALE.to_string(), database.url()])?;
        Ok(Self { database, clients })
    }

    /// Runs `pgbench -S`, then `pgbench -N`, each for `duration`.
    pub fn measure(&self, duration: Duration) -> Result<Ceiling, LoadError> {
        let selects = self.run("-S", duration)?;
        let writes = self.run("-N", duration)?;
        eprintln!("pgbench: -S {selects:.0} tps, -N {writes:.0} tps");
        Ok(Ceiling { selects, writes })
    }

    fn run(&self, mode: &str, duration: Duration) -> Result<f64, LoadError> {
        let clients = self.clients.to_string();
        let threads = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(self.clients)
            .to_string();
        let seconds = duration.as_secs().max(1).to_string();
        let output = pgbench(&[
            "-n",
            mode,
            "-c",
            &clients,
            "-j",
            &threads,
            "-T",
            &seconds,
            self.database.url(),
        ])?;
        parse_tps(&output).ok_or_else(|| {
            LoadError::Command(
                format!("pgbench {mode}"),
                format!("no tps in its output: {output}"),
            )
        })
    }
}

/// The median of each figure over `runs` (the lower middle of an even count).
pub fn median(runs: Vec<Ceiling>) -> Option<Ceiling> {
    let middle = |mut values: Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values.get(values.len().checked_sub(1)? / 2).copied()
    };
    Some(Ceiling {
        selects: middle(runs.iter().map(|run| run.selects).collect())?,
        writes: middle(runs.iter().map(|run| run.writes).collect())?,
    })
}

/// Runs `pgbench` with `args` and returns its standard output.
fn pgbench(args: &[&str]) -> Result<String, LoadError> {
    let output = Command::new("pgbench")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| LoadError::Spawn("pgbench".into(), source))?;
    if !output.status.success() {
        return Err(LoadError::Command(
            format!("pgbench {}", args.first().unwrap_or(&"")),
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The rate of `tps = 1234.5 (without initial connection time)` (`pgbench` 14+).
fn parse_tps(output: &str) -> Option<f64> {
    output.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("tps = ")?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_rate_pgbench_prints() {
        let output = "transaction type: <builtin: select only>\n\
                      latency average = 0.447 ms\n\
                      initial connection time = 14.122 ms\n\
                      tps = 35825.123456 (without initial connection time)\n";
        assert_eq!(parse_tps(output), Some(35_825.123_456));
        assert_eq!(parse_tps("no rate here"), None);
    }

    #[test]
    fn reads_are_bounded_by_selects_and_writes_by_commits() {
        let ceiling = Ceiling {
            selects: 30_000.0,
            writes: 4_000.0,
        };
        assert_eq!(
            Bound::of(Scenario::GetById).map(|b| b.tps(&ceiling)),
            Some(30_000.0)
        );
        assert_eq!(
            Bound::of(Scenario::Create).map(|b| b.tps(&ceiling)),
            Some(4_000.0)
        );
        assert_eq!(Bound::of(Scenario::Page), None);
        assert_eq!(Bound::Select.target(), 0.6);
    }
}
