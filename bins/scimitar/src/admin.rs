//! The administration commands over tenant settings, webhooks and the
//! provisioning log.

use std::fmt::Write as _;

use scimitar_diesel::DieselStore;
use scimitar_schema::{Policy, Registry};
use scimitar_server::settings::{ConfigError, RateLimit, TenantConfig};
use scimitar_store::provisioning_log::{LogQuery, ProvisioningLog};
use scimitar_store::{
    DeletionMode, Projection, Scope, Store, StoreError, TeamMode, TenantSettings, TenantStore,
};
use serde_json::Value;

use crate::cli::{DeletionArg, SettingsArgs, TeamsArg, WebhookCommand};
use crate::Failure;

/// Why a settings change was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SettingsFailure {
    #[error("--set-json is not JSON: {0}")]
    Json(#[source] serde_json::Error),
    #[error(transparent)]
    Settings(#[from] scimitar_store::SettingsError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a schema document: {source}")]
    Schema {
        path: String,
        source: serde_json::Error,
    },
    #[error("the schema overrides do not apply: {0}")]
    Registry(#[from] scimitar_schema::RegistryError),
    #[error("tenant {tenant} has no webhook {id}")]
    NoWebhook { tenant: String, id: String },
}

async fn load(store: &DieselStore, tenant: &str) -> Result<TenantConfig, Failure> {
    let tenant = store.get_tenant(tenant).await?;
    Ok(TenantConfig::from_value(&tenant.settings).map_err(SettingsFailure::from)?)
}

/// What `tenant`'s requests run under: its registry (schema overrides applied),
/// its policy (`policy` when it names none) and its directory settings.
pub(crate) async fn tenant_parts(
    store: &DieselStore,
    tenant: &str,
    policy: &Policy,
) -> Result<(Registry, Policy, TenantSettings), Failure> {
    let settings = load(store, tenant).await?.directory;
    let registry = settings
        .registry(&Registry::builtin())
        .map_err(SettingsFailure::from)?;
    let policy = settings.policy.clone().unwrap_or_else(|| policy.clone());
    Ok((registry, policy, settings))
}

/// Checks that `user` is the id of a User of `tenant` (read in the tenant's scope:
/// its schema overrides, policy and settings), before a token is bound to it.
pub(crate) async fn check_user(
    store: &DieselStore,
    tenant: &str,
    user: &str,
    policy: &Policy,
) -> Result<(), Failure> {
    let (registry, policy, settings) = tenant_parts(store, tenant, policy).await?;
    let scope = Scope::new(tenant, &registry, &policy).with_settings(&settings);
    match store
        .get(&scope, "User", user, &Projection::default())
        .await
    {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound { .. }) => Err(Failure::NoUser {
            tenant: tenant.to_owned(),
            user: user.to_owned(),
        }),
        Err(error) => Err(error.into()),
    }
}

/// `scimitar tenant settings`.
pub(crate) async fn settings(
    store: &DieselStore,
    args: SettingsArgs,
    policy: &Policy,
) -> Result<(), Failure> {
    let before = load(store, &args.id).await?;
    let mut settings = match &args.set_json {
        Some(json) => {
            let value: Value = serde_json::from_str(json).map_err(SettingsFailure::Json)?;
            // What `tenant settings` printed, sent back, keeps the stored secrets.
            TenantConfig::parse(&value, &before).map_err(SettingsFailure::from)?
        }
        None => before.clone(),
    };
    if let Some(teams) = args.teams {
        settings.directory.teams = match teams {
            TeamsArg::Groups => TeamMode::Groups,
            TeamsArg::Department => TeamMode::Department {
                separator: args.separator.clone().unwrap_or_else(|| " / ".into()),
            },
        };
    }
    if let Some(deletion) = args.deletion {
        settings.directory.deletion = match deletion {
            DeletionArg::Delete => DeletionMode::Delete,
            DeletionArg::Archive => DeletionMode::Archive,
        };
    }
    if let Some(per_second) = args.rate_limit {
        settings.rate_limit = (per_second > 0).then(|| RateLimit {
            per_second,
            burst: per_second.saturating_mul(2),
        });
    }
    if let Some(seconds) = args.create_retry_window {
        settings.directory.create_retry_window_seconds = seconds;
    }
    if let Some(path) = &args.schema_override {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SettingsFailure::Read {
            path: shown.clone(),
            source,
        })?;
        let document: Value =
            serde_json::from_str(&text).map_err(|source| SettingsFailure::Schema {
                path: shown,
                source,
            })?;
        let id = document.get("id").cloned();
        settings
            .directory
            .schema_overrides
            .retain(|existing| id.is_none() || existing.get("id") != id.as_ref());
        settings.directory.schema_overrides.push(document);
    }
    settings.validate().map_err(SettingsFailure::from)?;
    // Refuse overrides that would not build, rather than have servers ignore them.
    let registry = settings
        .directory
        .registry(&Registry::builtin())
        .map_err(SettingsFailure::from)?;
    if settings.directory.teams != before.directory.teams {
        // The settings and the teams they derive, in one transaction.
        let stored = settings.stored();
        let scope = Scope::new(&args.id, &registry, policy).with_settings(&stored);
        let rebuilt = store.set_settings_and_rebuild_teams(&scope).await?;
        println!(
            "teams rebuilt: {} teams ({} created, {} changed, {} removed)",
            rebuilt.teams, rebuilt.created, rebuilt.changed, rebuilt.removed
        );
    } else if settings != before {
        store
            .set_tenant_settings(&args.id, settings.to_value())
            .await?;
    }
    println!("{}", shown_settings(&settings));
    Ok(())
}

/// The settings as JSON, secrets hidden.
fn shown_settings(settings: &TenantConfig) -> String {
    serde_json::to_string_pretty(&settings.redacted()).unwrap_or_default()
}

/// `scimitar webhook ...`.
pub(crate) async fn webhook(store: &DieselStore, command: WebhookCommand) -> Result<(), Failure> {
    match command {
        WebhookCommand::Add {
            tenant,
            url,
            secret,
            id,
            replay,
        } => {
            let mut settings = load(store, &tenant).await?;
            let generated = secret.is_none();
            let webhook = settings
                .add_webhook(id, &url, secret, replay)
                .map_err(SettingsFailure::from)?;
            store
                .set_tenant_settings(&tenant, settings.to_value())
                .await?;
            let (id, secret) = (webhook.id, webhook.secret);
            println!("webhook {id} of tenant {tenant} posts to {url}");
            if generated {
                println!("signing secret (shown only this once): {secret}");
            }
        }
        WebhookCommand::List { tenant } => {
            for hook in load(store, &tenant).await?.webhooks {
                let state = if hook.enabled { "enabled" } else { "disabled" };
                println!("{}\t{state}\t{}", hook.id, hook.url);
            }
        }
        WebhookCommand::Remove { tenant, id } => {
            let mut settings = load(store, &tenant).await?;
            if !settings.remove_webhook(&id) {
                return Err(SettingsFailure::NoWebhook { tenant, id }.into());
            }
            store
                .set_tenant_settings(&tenant, settings.to_value())
                .await?;
            // A server delivering to it stops within a second and forgets it too.
            scimitar_server::webhook::forget_webhook(store, store, &tenant, &id).await?;
            println!("webhook {id} of tenant {tenant} removed");
        }
    }
    Ok(())
}

/// `scimitar log TENANT`: a table, newest first.
pub(crate) async fn log(store: &DieselStore, tenant: &str, query: LogQuery) -> Result<(), Failure> {
    store.get_tenant(tenant).await?;
    let entries = store.recent(tenant, &query).await?;
    let mut table = String::from("TIME\tSTATUS\tOPERATION\tRESOURCE\tCLIENT\tDETAIL\n");
    for entry in entries {
        let resource = match (&entry.resource_type, &entry.resource_id) {
            (Some(kind), Some(id)) => format!("{kind}/{id}"),
            (Some(kind), None) => kind.clone(),
            _ => "-".into(),
        };
        let client = match (&entry.token_label, &entry.token_id) {
            (Some(label), _) => label.clone(),
            (None, Some(id)) => id.clone(),
            (None, None) => "-".into(),
        };
        let client = match &entry.user_agent {
            Some(agent) => format!("{client} ({agent})"),
            None => client,
        };
        let status = match &entry.scim_type {
            Some(scim_type) => format!("{} {scim_type}", entry.status),
            None => entry.status.to_string(),
        };
        let _ = writeln!(
            table,
            "{}\t{status}\t{} {}\t{resource}\t{client}\t{}",
            scimitar_store::meta::format_timestamp(entry.at),
            entry.method,
            entry.operation,
            entry.detail.as_deref().unwrap_or("")
        );
    }
    print!("{table}");
    Ok(())
}
