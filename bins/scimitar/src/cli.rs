//! The command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Scimitar: a SCIM 2.0 server for Microsoft Entra ID, Okta and any RFC 7644 client.
#[derive(Debug, Parser)]
#[command(name = "scimitar", version, about)]
pub(crate) struct Cli {
    /// The database: sqlite://PATH or postgres://USER@HOST/DB [default: sqlite://scimitar.db]
    #[arg(long, global = true, env = "SCIMITAR_DATABASE_URL", value_name = "URL")]
    pub(crate) database_url: Option<String>,

    /// A TOML file of settings (listen, database_url, [limits], [policy]).
    #[arg(long, global = true, env = "SCIMITAR_CONFIG", value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Serve SCIM; on first start, create tenant `default` and print its token.
    Serve {
        /// The address to listen on [default: 127.0.0.1:8080]
        #[arg(long, env = "SCIMITAR_LISTEN", value_name = "ADDR")]
        listen: Option<String>,
        /// Also accept the admin token with this SHA-256 digest on the admin API
        /// (a server set up before `scimitar admin-token issue`).
        #[arg(long, env = "SCIMITAR_ADMIN_TOKEN_HASH", value_name = "HASH")]
        admin_token_hash: Option<String>,
        /// The URL clients reach the server at (e.g. https://scim.example.com):
        /// Location, meta.location and $ref start with it. Without it they use
        /// the request's Host header.
        #[arg(long, env = "SCIMITAR_PUBLIC_URL", value_name = "URL")]
        public_url: Option<String>,
        /// Most database connections this instance opens [default: 8]. Size it
        /// with PostgreSQL's max_connections: see docs/postgres.md.
        #[arg(
            long,
            env = "SCIMITAR_MAX_CONNECTIONS",
            value_name = "N",
            value_parser = clap::value_parser!(u32).range(1..=1000)
        )]
        max_connections: Option<u32>,
        /// Serve Prometheus metrics at /metrics (behind the admin token when one
        /// is configured).
        #[arg(long, env = "SCIMITAR_METRICS")]
        metrics: bool,
        /// Where the first-start token goes when standard output is not a terminal
        /// (a service manager, a container): a file only this user can read.
        #[arg(
            long,
            env = "SCIMITAR_FIRST_TOKEN_FILE",
            value_name = "PATH",
            default_value = "scimitar-first-token"
        )]
        first_token_file: PathBuf,
    },
    /// Bring the database schema up to date, and exit.
    Migrate,
    /// Manage tenants.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Manage bearer tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Manage a tenant's webhooks (its change events, POSTed and signed).
    Webhook {
        #[command(subcommand)]
        command: WebhookCommand,
    },
    /// Show a tenant's provisioning log, newest first.
    Log {
        /// The tenant id.
        tenant: String,
        /// How many entries.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Only failed requests.
        #[arg(long)]
        errors: bool,
        /// Only this operation (create, patch, delete, list...).
        #[arg(long)]
        operation: Option<String>,
        /// Only entries about this resource: its id, or a userName a create named.
        #[arg(long)]
        subject: Option<String>,
        /// Only requests of this client: a token id or label.
        #[arg(long)]
        client: Option<String>,
    },
    /// Load users from a file into a tenant: SCIM Users as JSON lines, or a CSV
    /// whose header names the attributes (userName, givenName, familyName, email,
    /// active, department, manager...). Every create rule applies; a user that
    /// fails is reported with its line and the rest go on.
    Import {
        /// The tenant id.
        tenant: String,
        /// The file: `.csv` is CSV, anything else JSON lines (or say --format).
        file: PathBuf,
        /// The file's format.
        #[arg(long, value_enum)]
        format: Option<crate::import::Format>,
        /// Users per transaction.
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u16).range(1..=10_000))]
        batch: u16,
        /// Batches written at once (PostgreSQL; SQLite has one writer).
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u8).range(1..=64))]
        parallel: u8,
    },
    /// Admin API tokens: issue, list, revoke.
    AdminToken {
        #[command(subcommand)]
        command: AdminTokenCommand,
    },
    /// Parse a SCIM filter and print it fully parenthesised (exit code 1 if invalid).
    Filter {
        /// The filter, e.g. 'userName eq "bjensen" and active eq true'.
        expression: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum TenantCommand {
    /// Create a tenant.
    Add {
        /// Its id, as used in URLs (/tenants/ID/scim/v2).
        id: String,
        /// A human-readable name [default: the id]
        #[arg(long)]
        name: Option<String>,
    },
    /// List tenants.
    List,
    /// Let a tenant's tokens provision again.
    Enable {
        /// The tenant id.
        id: String,
    },
    /// Refuse a tenant's requests (403) without revoking its tokens.
    Disable {
        /// The tenant id.
        id: String,
    },
    /// Show a tenant's settings, after applying the changes given (running servers
    /// notice within a second).
    Settings(SettingsArgs),
    /// Erase a tenant for good: its users, groups, events, tokens, provisioning log
    /// and settings. Asks to type the id again unless --yes.
    Remove {
        /// The tenant id.
        id: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

/// `scimitar tenant settings`.
#[derive(Debug, clap::Args)]
pub(crate) struct SettingsArgs {
    /// The tenant id.
    pub(crate) id: String,
    /// Replace the whole settings object with this JSON.
    #[arg(long, value_name = "JSON", conflicts_with_all = ["teams", "deletion", "rate_limit", "create_retry_window", "schema_override"])]
    pub(crate) set_json: Option<String>,
    /// Where teams (Groups) come from: pushed by the IdP, or derived from users'
    /// Enterprise department (read-only over SCIM). Switching rebuilds them.
    #[arg(long, value_enum)]
    pub(crate) teams: Option<TeamsArg>,
    /// What joins organization and department in a derived team's name.
    #[arg(long, requires = "teams", value_name = "S")]
    pub(crate) separator: Option<String>,
    /// What DELETE /Users/{id} does.
    #[arg(long, value_enum)]
    pub(crate) deletion: Option<DeletionArg>,
    /// Requests per second the tenant may make (bursts of twice that); 0 returns to
    /// the server's limit.
    #[arg(long, value_name = "N")]
    pub(crate) rate_limit: Option<u32>,
    /// Seconds after a create during which the same token may repeat it and get
    /// the user it made (201) instead of 409; 0 (the default) turns replays off.
    /// For Entra ID, which retries a create after a 60 s timeout: see
    /// docs/entra-id.md for the trade-off.
    #[arg(long, value_name = "SECONDS")]
    pub(crate) create_retry_window: Option<u32>,
    /// Add (or replace, by id) an RFC 7643 schema document from FILE.
    #[arg(long, value_name = "FILE")]
    pub(crate) schema_override: Option<PathBuf>,
}

/// `--teams`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum TeamsArg {
    /// Groups as the identity provider pushes them.
    Groups,
    /// Teams from the users' department.
    Department,
}

/// `--deletion`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum DeletionArg {
    /// Remove the user for good.
    Delete,
    /// Keep the user for audit, invisible over SCIM.
    Archive,
}

#[derive(Debug, Subcommand)]
pub(crate) enum WebhookCommand {
    /// Add a webhook; prints its secret once when it is generated.
    Add {
        /// The tenant id.
        tenant: String,
        /// Where events are POSTed.
        url: String,
        /// The signing secret [default: whsec_ and 32 random bytes in base64,
        /// printed once]
        #[arg(long)]
        secret: Option<String>,
        /// Its name among the tenant's webhooks [default: hook-N]
        #[arg(long)]
        id: Option<String>,
        /// Also deliver the events from before the webhook was added that the
        /// outbox still holds [default: only events after it was added]
        #[arg(long)]
        replay: bool,
    },
    /// List a tenant's webhooks (never their secrets).
    List {
        /// The tenant id.
        tenant: String,
    },
    /// Remove a webhook.
    Remove {
        /// The tenant id.
        tenant: String,
        /// The webhook id.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum AdminTokenCommand {
    /// Issue an admin token and print it alone on stdout (it is shown only once).
    Issue {
        /// What, or whom, the token is for, e.g. ops-console.
        #[arg(long, default_value = "")]
        label: String,
        /// What it may do: admin (everything) or read-only (GET only).
        #[arg(long, value_enum, default_value_t = ScopeArg::Admin)]
        scope: ScopeArg,
    },
    /// List admin tokens: id, scope, label, created, last used, revoked.
    List,
    /// Revoke an admin token (refused at once by every server).
    Revoke {
        /// The token id (the part after `scimadm_`).
        id: String,
    },
}

/// An admin token's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ScopeArg {
    /// Everything.
    Admin,
    /// GET routes only.
    ReadOnly,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Issue a token and print it alone on stdout (it is shown only once).
    Issue {
        /// The tenant the token authenticates as.
        tenant: String,
        /// What the token is for, e.g. entra-prod.
        #[arg(long, default_value = "")]
        label: String,
        /// Bind the token to this User of the tenant (its SCIM id): requests made
        /// with it reach that user at /Me. The user must exist.
        #[arg(long, value_name = "USER_ID")]
        user: Option<String>,
        /// The token stops authenticating after this many days (it never does
        /// without).
        #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u16).range(1..=3650))]
        expires_in_days: Option<u16>,
    },
    /// List a tenant's tokens (ids, labels, state, bound user; never secrets).
    List {
        /// The tenant id.
        tenant: String,
    },
    /// Revoke a token by id (the part after `scim_`).
    Revoke {
        /// The token id.
        id: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_options_go_anywhere() {
        let cli = Cli::parse_from([
            "scimitar",
            "token",
            "issue",
            "acme",
            "--database-url",
            "sqlite::memory:",
        ]);
        assert_eq!(cli.database_url.as_deref(), Some("sqlite::memory:"));
        assert!(matches!(
            cli.command,
            Command::Token { command: TokenCommand::Issue { ref tenant, .. } } if tenant == "acme"
        ));
    }
}
