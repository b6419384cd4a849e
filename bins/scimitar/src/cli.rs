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
    },
    /// List a tenant's tokens (ids and labels, never secrets).
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
