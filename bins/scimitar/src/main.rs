//! `scimitar`: the Scimitar SCIM 2.0 server and its administration commands.
//!
//! ```text
//! scimitar serve                      # serve SCIM on 127.0.0.1:8080 over ./scimitar.db
//! scimitar tenant add acme            # another tenant
//! scimitar token issue acme --label entra-prod
//! scimitar token issue acme --label app --user 2819c223   # bound: /Me is that user
//! scimitar tenant settings acme --deletion archive --rate-limit 20
//! scimitar webhook add acme https://hooks.example.com/scim   # prints the signing secret
//! scimitar log acme --errors          # why did the IdP's requests fail?
//! scimitar import acme users.csv      # a first sync from a file (CSV or JSON lines)
//! scimitar admin-token issue --label ops   # a token for the admin API (/admin/v1)
//! scimitar filter 'userName eq "bjensen" and active eq true'
//! ```
//!
//! Settings come from, in order of precedence: command-line options, `SCIMITAR_*`
//! environment variables, the TOML file named by `--config`, then defaults.

mod admin;
mod cli;
mod config;
mod import;
mod serve;

use std::process::ExitCode;

use clap::Parser;

use cli::{AdminTokenCommand, Cli, Command, ScopeArg, TenantCommand, TokenCommand};
use config::Settings;
use scimitar_diesel::{DieselStore, OpenOptions};
use scimitar_schema::Policy;
use scimitar_store::provisioning_log::{LogOutcome, LogQuery};
use scimitar_store::{StoreError, TenantStore};

/// glibc `malloc` took 20–45% of the server's CPU under load (docs/benchmarks.md);
/// mimalloc, with its per-thread free lists, costs much less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Why a command failed; printed as `scimitar: <message>`.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("{0}")]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Token(#[from] scimitar_server::TokenError),
    #[error(transparent)]
    Settings(#[from] admin::SettingsFailure),
    #[error(transparent)]
    AdminHash(#[from] scimitar_server::AdminHashError),
    #[error(
        "tenant {tenant} has no User with id {user}: --user takes the SCIM id of an existing user"
    )]
    NoUser { tenant: String, user: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Import(#[from] import::ImportFailure),
    #[error("cannot write the first-start token to {path}: {source} (choose another file with --first-token-file)")]
    TokenFile {
        path: String,
        source: std::io::Error,
    },
    #[error("--expires-in-days is for provisioning tokens, not tokens bound with --user")]
    BoundExpiry,
    #[error("tenant {0} was not removed: confirm at a terminal, or pass --yes")]
    NotConfirmed(String),
    /// Already reported to the user (e.g. a filter error with its caret).
    #[error("")]
    Reported,
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Reported) => ExitCode::FAILURE,
        Err(error) => {
            // The causes too: "storage temporarily unavailable" alone does not
            // tell an admin that the file was locked.
            eprintln!("scimitar: {}", scimitar_protocol::error_chain(&error));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    if let Command::Filter { expression } = &cli.command {
        return print_filter(expression);
    }
    let settings = Settings::load(&cli)?;
    actix_web::rt::System::new().block_on(async move {
        // One connection is plenty for an admin command, and it keeps the pool from
        // opening connections in the background while the process exits: libpq
        // crashes when exit handlers run during a connection handshake.
        // And it works on a database that exists: a mistyped path is an error, not
        // a new empty database (only `serve` and `migrate` create one).
        let admin_options = OpenOptions {
            max_connections: 1,
            create: false,
            ..OpenOptions::default()
        };
        let open = || DieselStore::open_with(&settings.database_url, &admin_options);
        match cli.command {
            Command::Serve { .. } => serve::serve(settings).await,
            Command::Migrate => {
                let options = OpenOptions {
                    create: true,
                    ..admin_options
                };
                let store = DieselStore::open_with(&settings.database_url, &options)?;
                println!("database {} is up to date", store.backend());
                Ok(())
            }
            Command::Tenant {
                command: TenantCommand::Settings(args),
            } => admin::settings(&open()?, args, &settings.policy).await,
            Command::Tenant { command } => tenant(&open()?, command).await,
            Command::Token { command } => token(&open()?, command, &settings.policy).await,
            Command::Webhook { command } => admin::webhook(&open()?, command).await,
            Command::Log {
                tenant,
                limit,
                errors,
                operation,
                subject,
                client,
            } => {
                let query = LogQuery {
                    limit,
                    outcome: errors.then_some(LogOutcome::Failure),
                    operation,
                    subject,
                    client,
                    ..LogQuery::default()
                };
                admin::log(&open()?, &tenant, query).await
            }
            Command::AdminToken { command } => admin_token(&open()?, command).await,
            Command::Import {
                tenant,
                file,
                format,
                batch,
                parallel,
            } => {
                // Batches in parallel need a connection each.
                let options = OpenOptions {
                    max_connections: u32::from(parallel),
                    ..admin_options
                };
                let store = DieselStore::open_with(&settings.database_url, &options)?;
                import::import(
                    &store,
                    &tenant,
                    &file.display().to_string(),
                    format,
                    usize::from(batch),
                    usize::from(parallel),
                    &settings.policy,
                )
                .await
            }
            Command::Filter { .. } => Ok(()),
        }
    })
}

fn print_filter(expression: &str) -> Result<(), Failure> {
    match scimitar_filter::parse_filter(expression) {
        Ok(filter) => {
            println!("{}", filter.to_parenthesized_string());
            Ok(())
        }
        Err(error) => {
            eprintln!("{error}\n{}", error.caret(expression));
            Err(Failure::Reported)
        }
    }
}

async fn tenant(store: &DieselStore, command: TenantCommand) -> Result<(), Failure> {
    match command {
        TenantCommand::Add { id, name } => {
            let tenant = store
                .create_tenant(&id, name.as_deref().unwrap_or(&id), serde_json::json!({}))
                .await?;
            println!("created tenant {}", tenant.id);
        }
        TenantCommand::List => {
            for tenant in store.list_tenants().await? {
                let state = if tenant.enabled {
                    "enabled"
                } else {
                    "disabled"
                };
                println!("{}\t{state}\t{}", tenant.id, tenant.name);
            }
        }
        TenantCommand::Enable { id } => {
            store.set_tenant_enabled(&id, true).await?;
            println!("tenant {id} enabled");
        }
        TenantCommand::Disable { id } => {
            store.set_tenant_enabled(&id, false).await?;
            println!("tenant {id} disabled (running servers notice within a second)");
        }
        TenantCommand::Remove { id, yes } => {
            store.get_tenant(&id).await?;
            if !yes && !confirmed(&id)? {
                return Err(Failure::NotConfirmed(id));
            }
            store.delete_tenant(&id).await?;
            println!(
                "tenant {id} removed, with its users, groups, events, tokens, log and settings"
            );
        }
        TenantCommand::Settings(_) => {}
    }
    Ok(())
}

/// Whether the person at the terminal types `id` again; never without one.
fn confirmed(id: &str) -> Result<bool, Failure> {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        return Ok(false);
    }
    print!("This erases tenant {id} and everything of it. Type its id to confirm: ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim() == id)
}

async fn admin_token(store: &DieselStore, command: AdminTokenCommand) -> Result<(), Failure> {
    use scimitar_server::admin::AdminScope;
    match command {
        AdminTokenCommand::Issue { label, scope } => {
            let scope = match scope {
                ScopeArg::Admin => AdminScope::Admin,
                ScopeArg::ReadOnly => AdminScope::ReadOnly,
            };
            let issued = scimitar_server::issue_admin_token(store, &label, scope).await?;
            // The token alone on stdout, so that scripts can capture it.
            println!("{}", issued.token);
        }
        AdminTokenCommand::List => {
            for token in store.list_admin_tokens().await? {
                let state = match token.revoked_at {
                    Some(at) => format!("revoked {at}"),
                    None => "active".to_owned(),
                };
                let last_used = token
                    .last_used
                    .map_or_else(|| "never used".to_owned(), |at| format!("last used {at}"));
                println!(
                    "{}\t{}\t{}\t{state}\t{last_used}",
                    token.id, token.scope, token.label
                );
            }
        }
        AdminTokenCommand::Revoke { id } => {
            store.revoke_admin_token(&id).await?;
            println!("admin token {id} revoked");
        }
    }
    Ok(())
}

async fn token(store: &DieselStore, command: TokenCommand, policy: &Policy) -> Result<(), Failure> {
    match command {
        TokenCommand::Issue {
            tenant,
            label,
            user,
            expires_in_days,
        } => {
            let expires_at = expires_in_days
                .map(|days| scimitar_store::meta::now() + time::Duration::days(i64::from(days)));
            let issued = match (user, expires_at) {
                (Some(_), Some(_)) => return Err(Failure::BoundExpiry),
                (Some(user), None) => {
                    admin::check_user(store, &tenant, &user, policy).await?;
                    scimitar_server::issue_user_token(store, &tenant, &label, &user).await?
                }
                (None, Some(at)) => {
                    scimitar_server::issue_expiring_token(store, &tenant, &label, at).await?
                }
                (None, None) => scimitar_server::issue_token(store, &tenant, &label).await?,
            };
            // The token alone on stdout, so that scripts can capture it.
            println!("{}", issued.token);
        }
        TokenCommand::List { tenant } => {
            for token in store.list_tokens(&tenant).await? {
                let state = match token.revoked_at {
                    Some(at) => format!("revoked {at}"),
                    None => "active".to_owned(),
                };
                let last_used = token
                    .last_used
                    .map_or_else(|| "never used".to_owned(), |at| format!("last used {at}"));
                // Extra columns only for bound or expiring tokens: other lines
                // read as before.
                let user = token
                    .user
                    .map_or_else(String::new, |user| format!("\tuser {user}"));
                let expires = token
                    .expires_at
                    .map_or_else(String::new, |at| format!("\texpires {at}"));
                println!(
                    "{}\t{}\t{state}\t{last_used}{user}{expires}",
                    token.id, token.label
                );
            }
        }
        TokenCommand::Revoke { id } => {
            store.revoke_token(&id).await?;
            println!("token {id} revoked (running servers notice within a second)");
        }
    }
    Ok(())
}
