//! Settings: command line over environment over the TOML file over defaults.

use std::path::{Path, PathBuf};

use std::time::Duration;

use ipnet::IpNet;
use scimitar_diesel::{OpenOptions, MAX_SQLITE_MMAP_SIZE};
use scimitar_protocol::{Limits, PatchAnswer, PublicUrl, PublicUrlError};
use scimitar_schema::Policy;
use scimitar_server::webhook::WebhookOptions;
use scimitar_server::AuthLimits;
use scimitar_store::hooks::Backoff;
use serde::Deserialize;

use crate::cli::{Cli, Command};

/// The default database: a SQLite file in the working directory.
pub(crate) const DEFAULT_DATABASE_URL: &str = "sqlite://scimitar.db";
/// The default listen address: loopback only, until the operator opens it.
pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Why the settings could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a valid settings file: {source}")]
    Parse {
        path: String,
        source: Box<toml::de::Error>,
    },
    #[error(transparent)]
    PublicUrl(#[from] PublicUrlError),
    #[error("trusted_proxies: `{0}` is not an IP address or network such as 10.0.0.0/8")]
    TrustedProxy(String),
    #[error("[database] {0} must be at least 1")]
    Database(&'static str),
}

/// The settings file: every key optional.
///
/// ```toml
/// listen = "0.0.0.0:8080"
/// database_url = "postgres://scimitar@db/scimitar"
/// public_url = "https://scim.example.com"   # what clients reach; else the Host header
/// trusted_proxies = ["10.0.0.0/8"]  # whose X-Forwarded-* / Forwarded headers count
/// patch_answer = "resource"         # 200 and the group to group PATCHes too
///                                   # (default "no-content-for-groups": 204)
///
/// [limits]
/// max_results = 500
/// rate_limit_per_second = 20
///
/// [policy]
/// unknown_attributes = "reject"
///
/// [database]                        # every key optional; these are the defaults
/// max_connections = 8               # per instance (docs/postgres.md)
/// connection_timeout_ms = 30000     # wait for a free connection, then 503
/// prepared_statements = true        # false behind PgBouncer < 1.21 in transaction mode
/// sqlite_mmap_mib = 0               # SQLite: read the file through a memory map (docs/benchmarks.md)
///
/// [metrics]
/// enabled = false                   # GET /metrics, behind an admin token
///
/// [webhooks]                        # every key optional; these are the defaults
/// poll_interval_ms = 1000
/// retry_initial_ms = 1000
/// retry_max_ms = 300000
/// timeout_ms = 10000
/// lease_ms = 60000
/// refresh_ms = 10000
/// prune_interval_ms = 3600000       # delete handled events; 0 never
/// max_attempts = 300                # then the event is a dead letter; 0 never
/// ```
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    listen: Option<String>,
    database_url: Option<String>,
    admin_token_hash: Option<String>,
    public_url: Option<String>,
    #[serde(default)]
    trusted_proxies: Vec<String>,
    patch_answer: Option<PatchAnswer>,
    #[serde(default)]
    limits: Option<LimitsTable>,
    #[serde(default)]
    policy: Option<Policy>,
    #[serde(default)]
    database: DatabaseSettings,
    #[serde(default)]
    metrics: MetricsSettings,
    #[serde(default)]
    webhooks: WebhookSettings,
}

/// The `[metrics]` table.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetricsSettings {
    #[serde(default)]
    enabled: bool,
}

/// The `[database]` table: the connection pool.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct DatabaseSettings {
    max_connections: Option<u32>,
    connection_timeout_ms: Option<u64>,
    prepared_statements: Option<bool>,
    sqlite_mmap_mib: Option<u64>,
}

/// The `[limits]` table: the protocol's [`Limits`] and the authenticator's
/// [`AuthLimits`] in one table, each read strictly.
#[derive(Debug, Default, Clone)]
struct LimitsTable {
    protocol: Limits,
    auth: AuthLimits,
}

impl<'de> Deserialize<'de> for LimitsTable {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let table = toml::Table::deserialize(deserializer)?;
        let (auth, protocol): (toml::Table, toml::Table) = table
            .into_iter()
            .partition(|(key, _)| AuthLimits::KEYS.contains(&key.as_str()));
        Ok(LimitsTable {
            protocol: protocol.try_into().map_err(serde::de::Error::custom)?,
            auth: auth.try_into().map_err(serde::de::Error::custom)?,
        })
    }
}

/// The `[webhooks]` table: delivery pacing, in milliseconds.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookSettings {
    poll_interval_ms: Option<u64>,
    retry_initial_ms: Option<u64>,
    retry_max_ms: Option<u64>,
    timeout_ms: Option<u64>,
    lease_ms: Option<u64>,
    refresh_ms: Option<u64>,
    prune_interval_ms: Option<u64>,
    max_attempts: Option<u32>,
}

impl WebhookSettings {
    fn options(&self) -> WebhookOptions {
        let mut options = WebhookOptions::default();
        let ms = Duration::from_millis;
        let dispatch = &mut options.dispatch;
        dispatch.poll_interval = self.poll_interval_ms.map_or(dispatch.poll_interval, ms);
        dispatch.backoff = Backoff {
            initial: self.retry_initial_ms.map_or(dispatch.backoff.initial, ms),
            max: self.retry_max_ms.map_or(dispatch.backoff.max, ms),
        };
        dispatch.lease_ttl = self.lease_ms.map_or(dispatch.lease_ttl, ms);
        options.timeout = self.timeout_ms.map_or(options.timeout, ms);
        options.refresh = self.refresh_ms.map_or(options.refresh, ms);
        if let Some(every) = self.prune_interval_ms {
            options.prune_interval = (every > 0).then(|| ms(every));
        }
        options.max_attempts = self.max_attempts.unwrap_or(options.max_attempts);
        options
    }
}

/// The settings in force.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) listen: String,
    pub(crate) database_url: String,
    /// The pool of `serve` (commands open their own, smaller).
    pub(crate) database: OpenOptions,
    /// Whether `serve` answers `GET /metrics`.
    pub(crate) metrics: bool,
    pub(crate) limits: Limits,
    pub(crate) auth_limits: AuthLimits,
    pub(crate) policy: Policy,
    /// What a PATCH without a projection answers.
    pub(crate) patch_answer: PatchAnswer,
    /// The digest of the admin token; the admin API is off without it.
    pub(crate) admin_token_hash: Option<String>,
    /// Where clients reach the server, if configured.
    pub(crate) public_url: Option<PublicUrl>,
    /// Proxies whose forwarded headers are believed.
    pub(crate) trusted_proxies: Vec<IpNet>,
    /// Where `serve` writes the first-start token when stdout is not a terminal.
    pub(crate) first_token_file: PathBuf,
    pub(crate) webhooks: WebhookOptions,
}

impl Settings {
    pub(crate) fn load(cli: &Cli) -> Result<Settings, ConfigError> {
        let file = match &cli.config {
            Some(path) => read_file(path)?,
            None => FileSettings::default(),
        };
        let (listen, admin_token_hash, public_url, first_token_file, max_connections, metrics) =
            match &cli.command {
                Command::Serve {
                    listen,
                    admin_token_hash,
                    public_url,
                    first_token_file,
                    max_connections,
                    metrics,
                } => (
                    listen.clone(),
                    admin_token_hash.clone(),
                    public_url.clone(),
                    first_token_file.clone(),
                    *max_connections,
                    *metrics,
                ),
                _ => (None, None, None, PathBuf::new(), None, false),
            };
        let defaults = OpenOptions::default();
        let database = OpenOptions {
            max_connections: max_connections
                .or(file.database.max_connections)
                .unwrap_or(defaults.max_connections),
            connection_timeout: file
                .database
                .connection_timeout_ms
                .map_or(defaults.connection_timeout, Duration::from_millis),
            prepared_statements: file
                .database
                .prepared_statements
                .unwrap_or(defaults.prepared_statements),
            sqlite_mmap_size: file
                .database
                .sqlite_mmap_mib
                .map_or(defaults.sqlite_mmap_size, |mib| {
                    mib.saturating_mul(1 << 20).min(MAX_SQLITE_MMAP_SIZE)
                }),
            ..defaults
        };
        if database.max_connections == 0 {
            return Err(ConfigError::Database("max_connections"));
        }
        if database.connection_timeout.is_zero() {
            return Err(ConfigError::Database("connection_timeout_ms"));
        }
        let public_url = public_url
            .or(file.public_url)
            .map(|url| url.parse::<PublicUrl>())
            .transpose()?;
        let trusted_proxies = file
            .trusted_proxies
            .iter()
            .map(|text| {
                text.parse::<IpNet>()
                    .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
                    .map_err(|_| ConfigError::TrustedProxy(text.clone()))
            })
            .collect::<Result<_, _>>()?;
        let limits = file.limits.unwrap_or_default();
        Ok(Settings {
            listen: listen
                .or(file.listen)
                .unwrap_or_else(|| DEFAULT_LISTEN.to_owned()),
            database_url: cli
                .database_url
                .clone()
                .or(file.database_url)
                .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            database,
            metrics: metrics || file.metrics.enabled,
            limits: limits.protocol,
            auth_limits: limits.auth,
            policy: file.policy.unwrap_or_default(),
            patch_answer: file.patch_answer.unwrap_or_default(),
            admin_token_hash: admin_token_hash.or(file.admin_token_hash),
            public_url,
            trusted_proxies,
            first_token_file,
            webhooks: file.webhooks.options(),
        })
    }
}

fn read_file(path: &Path) -> Result<FileSettings, ConfigError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: shown.clone(),
        source,
    })?;
    toml::from_str(&text).map_err(|source| ConfigError::Parse {
        path: shown,
        source: Box::new(source),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn command_line_beats_file_beats_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scimitar.toml");
        std::fs::write(
            &path,
            "listen = \"0.0.0.0:9000\"\ndatabase_url = \"sqlite://file.db\"\npatch_answer = \"resource\"\n[limits]\nmax_results = 5\n[policy]\nunknown_attributes = \"reject\"\n",
        )
        .unwrap();
        let config = path.to_str().unwrap();
        let cli = Cli::parse_from(["scimitar", "--config", config, "serve"]);
        let settings = Settings::load(&cli).unwrap();
        assert_eq!(settings.listen, "0.0.0.0:9000");
        assert_eq!(settings.database_url, "sqlite://file.db");
        assert_eq!(settings.patch_answer, PatchAnswer::Resource);
        assert_eq!(settings.limits.max_results, 5);
        assert_eq!(settings.limits.default_page_size, 100);
        assert_eq!(
            settings.policy.unknown_attributes,
            scimitar_schema::UnknownAttributes::Reject
        );
        let cli = Cli::parse_from([
            "scimitar",
            "--config",
            config,
            "--database-url",
            "sqlite://cli.db",
            "serve",
            "--listen",
            "127.0.0.1:1",
        ]);
        let settings = Settings::load(&cli).unwrap();
        assert_eq!(settings.listen, "127.0.0.1:1");
        assert_eq!(settings.database_url, "sqlite://cli.db");
    }

    #[test]
    fn one_limits_table_holds_the_protocol_and_the_authenticator() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scimitar.toml");
        let load = |text: &str| {
            std::fs::write(&path, text).unwrap();
            let cli = Cli::parse_from(["scimitar", "--config", path.to_str().unwrap(), "serve"]);
            Settings::load(&cli)
        };
        let settings =
            load("[limits]\nmax_results = 5\nrate_limit_per_second = 7\ntoken_cache_seconds = 0\n")
                .unwrap();
        assert_eq!(settings.limits.max_results, 5);
        assert_eq!(settings.auth_limits.rate_limit_per_second, 7);
        assert_eq!(settings.auth_limits.token_cache_seconds, 0);
        assert_eq!(settings.auth_limits.rate_limit_burst, 100);
        let typo = load("[limits]\nmax_resultz = 5\n").unwrap_err().to_string();
        assert!(typo.contains("max_resultz"), "{typo}");
    }

    #[test]
    fn the_pool_is_sized_by_the_command_line_or_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scimitar.toml");
        let config = path.to_str().unwrap();
        let load = |text: &str, extra: &[&str]| {
            std::fs::write(&path, text).unwrap();
            let mut args = vec!["scimitar", "--config", config, "serve"];
            args.extend_from_slice(extra);
            Settings::load(&Cli::parse_from(args))
        };
        let defaults = load("", &[]).unwrap().database;
        assert_eq!(defaults.max_connections, 8);
        assert_eq!(defaults.connection_timeout, Duration::from_secs(30));
        assert!(defaults.prepared_statements);
        assert_eq!(defaults.sqlite_mmap_size, 0);
        let file = "[database]\nmax_connections = 20\nconnection_timeout_ms = 1500\n\
                    prepared_statements = false\nsqlite_mmap_mib = 256\n";
        let from_file = load(file, &[]).unwrap().database;
        assert_eq!(from_file.sqlite_mmap_size, 256 << 20);
        let huge = load("[database]\nsqlite_mmap_mib = 100000\n", &[])
            .unwrap()
            .database;
        assert_eq!(huge.sqlite_mmap_size, MAX_SQLITE_MMAP_SIZE);
        assert_eq!(from_file.max_connections, 20);
        assert!(!from_file.prepared_statements);
        assert_eq!(from_file.connection_timeout, Duration::from_millis(1500));
        let from_cli = load(file, &["--max-connections", "4"]).unwrap().database;
        assert_eq!(from_cli.max_connections, 4);
        let zero = load("[database]\nmax_connections = 0\n", &[]).unwrap_err();
        assert!(
            zero.to_string()
                .contains("max_connections must be at least 1"),
            "{zero}"
        );
        let typo = load("[database]\nmax_conections = 2\n", &[]).unwrap_err();
        assert!(typo.to_string().contains("max_conections"), "{typo}");
        let cli = Cli::try_parse_from(["scimitar", "serve", "--max-connections", "0"]);
        assert!(cli.is_err(), "0 connections is refused on the command line");
    }

    #[test]
    fn webhook_pacing_and_admin_hash_come_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scimitar.toml");
        std::fs::write(
            &path,
            "admin_token_hash = \"sha256:ab\"\n[webhooks]\nretry_initial_ms = 5\nlease_ms = 900\n",
        )
        .unwrap();
        let cli = Cli::parse_from(["scimitar", "--config", path.to_str().unwrap(), "serve"]);
        let settings = Settings::load(&cli).unwrap();
        assert_eq!(settings.admin_token_hash.as_deref(), Some("sha256:ab"));
        let dispatch = &settings.webhooks.dispatch;
        assert_eq!(dispatch.backoff.initial, Duration::from_millis(5));
        assert_eq!(dispatch.backoff.max, Duration::from_secs(300));
        assert_eq!(dispatch.lease_ttl, Duration::from_millis(900));
        assert_eq!(
            settings.webhooks.prune_interval,
            Some(Duration::from_secs(3600))
        );
    }

    #[test]
    fn event_pruning_is_set_by_the_file_and_zero_turns_it_off() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scimitar.toml");
        let load = |interval: &str| {
            std::fs::write(
                &path,
                format!("[webhooks]\nprune_interval_ms = {interval}\n"),
            )
            .unwrap();
            let cli = Cli::parse_from(["scimitar", "--config", path.to_str().unwrap(), "serve"]);
            Settings::load(&cli).unwrap().webhooks.prune_interval
        };
        assert_eq!(load("60000"), Some(Duration::from_secs(60)));
        assert_eq!(load("0"), None);
    }

    /// The ```toml blocks of `text` that are settings files (not Cargo manifests),
    /// from Markdown or from `///` doc comments.
    fn settings_examples(text: &str) -> Vec<String> {
        let mut blocks = Vec::new();
        let mut current: Option<String> = None;
        for line in text.lines() {
            let line = line.trim_start();
            let line = line.strip_prefix("/// ").unwrap_or(line);
            let line = if line == "///" { "" } else { line };
            match (&mut current, line.trim_end()) {
                (None, "```toml") => current = Some(String::new()),
                (Some(block), "```") => {
                    if !block.contains("dependencies]") && !block.contains("[package]") {
                        blocks.push(block.clone());
                    }
                    current = None;
                }
                (Some(block), _) => {
                    block.push_str(line);
                    block.push('\n');
                }
                (None, _) => {}
            }
        }
        blocks
    }

    #[test]
    fn every_settings_example_in_the_docs_loads() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut sources = vec![
            root.join("README.md"),
            root.join("bins/scimitar/README.md"),
            root.join("bins/scimitar/src/config.rs"),
        ];
        for dir in ["docs", "crates"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                let readme = path.join("README.md");
                if path.extension().is_some_and(|ext| ext == "md") {
                    sources.push(path);
                } else if readme.exists() {
                    sources.push(readme);
                }
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("example.toml");
        let mut loaded = 0;
        for source in &sources {
            let text = std::fs::read_to_string(source).unwrap();
            for block in settings_examples(&text) {
                std::fs::write(&file, &block).unwrap();
                let cli =
                    Cli::parse_from(["scimitar", "--config", file.to_str().unwrap(), "serve"]);
                if let Err(error) = Settings::load(&cli) {
                    panic!(
                        "{}: an example does not load: {error}\n{block}",
                        source.display()
                    );
                }
                loaded += 1;
            }
        }
        // The binary's README and the settings doc comment have one each.
        assert!(loaded >= 2, "only {loaded} examples found in {sources:?}");
        // The settings file compose.yaml mounts.
        let deployed = root.join("deploy/scimitar.toml");
        let cli = Cli::parse_from(["scimitar", "--config", deployed.to_str().unwrap(), "serve"]);
        if let Err(error) = Settings::load(&cli) {
            panic!("deploy/scimitar.toml does not load: {error}");
        }
    }

    #[test]
    fn public_url_and_proxies_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scimitar.toml");
        let load = |text: &str| {
            std::fs::write(&path, text).unwrap();
            let cli = Cli::parse_from(["scimitar", "--config", path.to_str().unwrap(), "serve"]);
            Settings::load(&cli)
        };
        let settings = load("public_url = \"https://scim.example.com/\"\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n").unwrap();
        assert_eq!(
            settings.public_url.unwrap().as_str(),
            "https://scim.example.com"
        );
        assert_eq!(settings.trusted_proxies.len(), 2);
        let error = load("public_url = \"gopher://evil.example\"\n").unwrap_err();
        assert!(
            error.to_string().contains("gopher://evil.example"),
            "{error}"
        );
        let error = load("trusted_proxies = [\"10.0.0.0/33\"]\n").unwrap_err();
        assert!(error.to_string().contains("10.0.0.0/33"), "{error}");
    }

    #[test]
    fn typos_in_the_file_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "listne = \"x\"\n").unwrap();
        let cli = Cli::parse_from(["scimitar", "--config", path.to_str().unwrap(), "migrate"]);
        let error = Settings::load(&cli).unwrap_err();
        assert!(error.to_string().contains("listne"), "{error}");
    }
}
