//! What the admin API and the console do, apart from HTTP: each operation
//! checks its input, makes the change, logs who made it and returns the view to
//! show. The JSON routes and the console's pages both call these, so that a
//! rule holds whichever way an admin goes.

use std::time::Duration;

use actix_web::HttpRequest;
use scimitar_schema::Registry;
use scimitar_store::hooks::OutboxStore;
use scimitar_store::provisioning_log::{LogOutcome, LogQuery, ProvisioningLog};
use scimitar_store::query::Paging;
use scimitar_store::state::StateStore;
use scimitar_store::{DirectoryStore, Projection, Scope, SortOrder, StoreError, TenantStore};
use serde_json::{json, Value};

use super::views::parse_time;
use super::{
    AdminPrincipal, AdminState, DeadLetterView, DirectoryPage, DirectoryParams, IssuedScimToken,
    LogEntryView, LogPage, LogParams, NewTenant, NewWebhook, Problem, ScimTokenView, TenantChange,
    TenantView, WebhookChange, WebhookHealthView, WebhookSecret, WebhookTestResult, WebhookView,
};
use crate::settings::{TenantConfig, Webhook};
use crate::webhook::{forget_webhook, health, webhook_consumer, DeliveryFailure, WebhookHandler};

/// The longest a SCIM token can be issued for, in days (ten years).
pub(crate) const MAX_TOKEN_DAYS: u32 = 3650;
/// How long an admin-initiated delivery (a test, a retry) may take.
const ADMIN_DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// The most pending events counted.
const PENDING_CAP: usize = 1000;
/// The most log entries one page holds.
pub(crate) const MAX_LOG_PAGE: usize = 1000;
const DEFAULT_LOG_PAGE: usize = 50;
/// The most resources one directory page holds.
const MAX_DIRECTORY_COUNT: usize = 200;
const DEFAULT_DIRECTORY_COUNT: usize = 50;

/// A webhook as shown.
pub(crate) fn webhook_view(webhook: &Webhook) -> WebhookView {
    WebhookView {
        id: webhook.id.clone(),
        url: webhook.url.clone(),
        enabled: webhook.enabled,
        since: webhook.since.map(scimitar_store::meta::format_timestamp),
    }
}

/// Webhook `id` of `tenant`'s settings `config`, or 404.
fn webhook_in(config: TenantConfig, tenant: &str, id: &str) -> Result<Webhook, Problem> {
    config
        .webhooks
        .into_iter()
        .find(|hook| hook.id == id)
        .ok_or_else(|| no_webhook(tenant, id))
}

pub(crate) fn no_webhook(tenant: &str, id: &str) -> Problem {
    Problem::not_found(format!("tenant `{tenant}` has no webhook `{id}`"))
}

fn delivery_result(outcome: Result<u16, DeliveryFailure>) -> WebhookTestResult {
    match outcome {
        Ok(status) => WebhookTestResult {
            delivered: true,
            status: Some(status),
            detail: None,
        },
        Err(failure) => WebhookTestResult {
            delivered: false,
            status: failure.status,
            detail: Some(failure.detail),
        },
    }
}

/// The log query of `params`, the cursor and limit aside.
pub(crate) fn log_query(params: &LogParams) -> Result<LogQuery, Problem> {
    let outcome = match params.outcome.as_deref() {
        None | Some("") => None,
        Some("success") => Some(LogOutcome::Success),
        Some("failure") => Some(LogOutcome::Failure),
        Some(other) => {
            return Err(Problem::invalid_field(
                "outcome",
                format!("{other:?} is neither success nor failure"),
            ))
        }
    };
    let present = |text: &Option<String>| text.clone().filter(|text| !text.trim().is_empty());
    let time = |field: &str, text: &Option<String>| {
        present(text)
            .map(|text| parse_time(field, &text))
            .transpose()
    };
    Ok(LogQuery {
        outcome,
        since: time("since", &params.since)?,
        until: time("until", &params.until)?,
        operation: present(&params.operation),
        subject: present(&params.subject),
        client: present(&params.client),
        ..LogQuery::default()
    })
}

impl<S, T, L> AdminState<S, T, L>
where
    S: DirectoryStore + OutboxStore + 'static,
    T: TenantStore + StateStore + 'static,
    L: ProvisioningLog + 'static,
{
    /// Every tenant, by id.
    pub(crate) async fn tenant_views(&self, req: &HttpRequest) -> Result<Vec<TenantView>, Problem> {
        let tenants = self.service.tenants().list_tenants().await?;
        Ok(tenants
            .into_iter()
            .map(|tenant| {
                let url = self.scim_url(req, &tenant.id);
                TenantView::new(tenant, url)
            })
            .collect())
    }

    /// One tenant.
    pub(crate) async fn tenant_view(
        &self,
        req: &HttpRequest,
        tenant: &str,
    ) -> Result<TenantView, Problem> {
        let tenant = self.service.tenants().get_tenant(tenant).await?;
        let url = self.scim_url(req, &tenant.id);
        Ok(TenantView::new(tenant, url))
    }

    /// Creates a tenant.
    pub(crate) async fn create_tenant(
        &self,
        req: &HttpRequest,
        by: &AdminPrincipal,
        new: NewTenant,
    ) -> Result<TenantView, Problem> {
        let NewTenant { id, display_name } = new;
        let name = display_name
            .filter(|name| !name.trim().is_empty())
            .unwrap_or_else(|| id.clone());
        let tenant = self
            .service
            .tenants()
            .create_tenant(&id, &name, json!({}))
            .await
            .map_err(|error| match error {
                StoreError::InvalidValue(message) => Problem::invalid_field("id", message),
                other => other.into(),
            })?;
        log::info!("admin {}: tenant {id} created", by.token_id);
        let url = self.scim_url(req, &tenant.id);
        Ok(TenantView::new(tenant, url))
    }

    /// Renames, enables or disables a tenant.
    pub(crate) async fn change_tenant(
        &self,
        req: &HttpRequest,
        by: &AdminPrincipal,
        tenant: &str,
        change: TenantChange,
    ) -> Result<TenantView, Problem> {
        if change
            .display_name
            .as_deref()
            .is_some_and(|name| name.trim().is_empty())
        {
            return Err(Problem::invalid_field(
                "displayName",
                "a name cannot be empty",
            ));
        }
        // Unknown tenants are 404 before anything is written.
        let mut current = self.service.tenants().get_tenant(tenant).await?;
        if let Some(name) = change.display_name {
            current = self.service.tenants().rename_tenant(tenant, &name).await?;
        }
        if let Some(enabled) = change.enabled {
            self.service.set_tenant_enabled(tenant, enabled).await?;
            current.enabled = enabled;
            let state = if enabled { "enabled" } else { "disabled" };
            log::info!("admin {}: tenant {tenant} {state}", by.token_id);
        }
        let url = self.scim_url(req, &current.id);
        Ok(TenantView::new(current, url))
    }

    /// Erases a tenant and everything of it.
    pub(crate) async fn delete_tenant(
        &self,
        by: &AdminPrincipal,
        tenant: &str,
    ) -> Result<(), Problem> {
        self.service.delete_tenant(tenant).await?;
        log::info!("admin {}: tenant {tenant} deleted", by.token_id);
        Ok(())
    }

    /// A tenant's SCIM tokens, oldest first.
    pub(crate) async fn scim_tokens(&self, tenant: &str) -> Result<Vec<ScimTokenView>, Problem> {
        let tenants = self.service.tenants();
        tenants.get_tenant(tenant).await?;
        Ok(tenants
            .list_tokens(tenant)
            .await?
            .into_iter()
            .map(ScimTokenView::from)
            .collect())
    }

    /// Issues a SCIM token for `tenant`, expiring after `expires_in_days` if
    /// given.
    pub(crate) async fn issue_scim_token(
        &self,
        req: &HttpRequest,
        by: &AdminPrincipal,
        tenant: &str,
        label: &str,
        expires_in_days: Option<u32>,
    ) -> Result<IssuedScimToken, Problem> {
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 100 {
            return Err(Problem::invalid_field(
                "label",
                "a label is 1 to 100 characters, such as entra-prod",
            ));
        }
        let tenants = &**self.service.tenants();
        let issued = match expires_in_days {
            None => crate::issue_token(tenants, tenant, label).await,
            Some(days @ 1..=MAX_TOKEN_DAYS) => {
                let expires_at =
                    scimitar_store::meta::now() + time::Duration::days(i64::from(days));
                crate::issue_expiring_token(tenants, tenant, label, expires_at).await
            }
            Some(_) => {
                return Err(Problem::invalid_field(
                    "expiresInDays",
                    format!("a token expires after 1 to {MAX_TOKEN_DAYS} days, or never"),
                ))
            }
        }
        .map_err(|crate::TokenError::Store(error)| Problem::from(error))?;
        log::info!(
            "admin {}: SCIM token {} issued for tenant {tenant}",
            by.token_id,
            issued.record.id
        );
        Ok(IssuedScimToken {
            token: issued.token,
            scim_url: self.scim_url(req, tenant),
            record: issued.record.into(),
        })
    }

    /// Revokes `tenant`'s SCIM token `token`; a token of another tenant is 404.
    pub(crate) async fn revoke_scim_token(
        &self,
        by: &AdminPrincipal,
        tenant: &str,
        token: &str,
    ) -> Result<(), Problem> {
        let found = self.service.tenants().find_token(token).await?;
        if found.is_none_or(|found| found.tenant != tenant) {
            return Err(Problem::not_found(format!(
                "tenant `{tenant}` has no token `{token}`"
            )));
        }
        self.service.revoke_token(token).await?;
        log::info!(
            "admin {}: SCIM token {token} of tenant {tenant} revoked",
            by.token_id
        );
        Ok(())
    }

    /// Replaces a tenant's settings with `body`, read strictly; secrets sent as
    /// `<hidden>` keep their values. Returns the settings stored.
    pub(crate) async fn replace_settings(
        &self,
        by: &AdminPrincipal,
        tenant: &str,
        body: &Value,
    ) -> Result<TenantConfig, Problem> {
        let previous = self.service.tenant_config(tenant).await?;
        let config = TenantConfig::parse(body, &previous)?;
        self.store_config(tenant, &config, &previous).await?;
        log::info!(
            "admin {}: settings of tenant {tenant} replaced",
            by.token_id
        );
        Ok(config)
    }

    /// Stores `config`, after checking that its schema overrides build; rebuilds
    /// the teams when the team mode changed.
    async fn store_config(
        &self,
        tenant: &str,
        config: &TenantConfig,
        previous: &TenantConfig,
    ) -> Result<(), Problem> {
        let registry = config
            .directory
            .registry(&Registry::builtin())
            .map_err(|error| Problem::invalid_field("schemaOverrides", error.to_string()))?;
        self.service.write_tenant_config(tenant, config).await?;
        if config.directory.teams != previous.directory.teams {
            let stored = config.stored();
            let default_policy = &self.service.engine().default_context().policy;
            let policy = stored
                .policy
                .clone()
                .unwrap_or_else(|| default_policy.clone());
            let scope = Scope::new(tenant, &registry, &policy).with_settings(&stored);
            let rebuilt = self.service.store().rebuild_teams(&scope).await?;
            log::info!(
                "tenant {tenant}: teams rebuilt: {} teams ({} created, {} removed)",
                rebuilt.teams,
                rebuilt.created,
                rebuilt.removed
            );
        }
        Ok(())
    }

    /// The tenant's webhook `id`, or 404.
    pub(crate) async fn find_webhook(&self, tenant: &str, id: &str) -> Result<Webhook, Problem> {
        webhook_in(self.service.tenant_config(tenant).await?, tenant, id)
    }

    /// Adds a webhook; the secret is in the result.
    pub(crate) async fn add_webhook(
        &self,
        by: &AdminPrincipal,
        tenant: &str,
        new: NewWebhook,
    ) -> Result<WebhookSecret, Problem> {
        let NewWebhook {
            id,
            url,
            secret,
            replay,
        } = new;
        let mut config = self.service.tenant_config(tenant).await?;
        let webhook = config.add_webhook(id, &url, secret, replay)?;
        self.service.write_tenant_config(tenant, &config).await?;
        log::info!(
            "admin {}: webhook {} of tenant {tenant} added",
            by.token_id,
            webhook.id
        );
        Ok(WebhookSecret {
            webhook: webhook_view(&webhook),
            secret: webhook.secret,
        })
    }

    /// Changes a webhook's URL, or pauses or resumes it.
    pub(crate) async fn change_webhook(
        &self,
        by: &AdminPrincipal,
        tenant: &str,
        id: &str,
        change: WebhookChange,
    ) -> Result<WebhookView, Problem> {
        let shown = self
            .edit_webhook(tenant, id, |webhook| {
                if let Some(url) = change.url {
                    webhook.url = url;
                }
                if let Some(enabled) = change.enabled {
                    webhook.enabled = enabled;
                }
                webhook_view(webhook)
            })
            .await?;
        log::info!(
            "admin {}: webhook {id} of tenant {tenant} changed",
            by.token_id
        );
        Ok(shown)
    }

    /// Gives a webhook a new random signing secret; the secret is in the result.
    pub(crate) async fn rotate_webhook_secret(
        &self,
        by: &AdminPrincipal,
        tenant: &str,
        id: &str,
    ) -> Result<WebhookSecret, Problem> {
        let rotated = self
            .edit_webhook(tenant, id, |webhook| {
                webhook.secret = crate::webhook::generate_secret();
                WebhookSecret {
                    webhook: webhook_view(webhook),
                    secret: webhook.secret.clone(),
                }
            })
            .await?;
        log::info!(
            "admin {}: secret of webhook {id} of tenant {tenant} rotated",
            by.token_id
        );
        Ok(rotated)
    }

    /// Changes the tenant's webhook `id` with `edit` and stores the settings once
    /// they validate; 404 for an unknown webhook. Returns what `edit` returned.
    async fn edit_webhook<R>(
        &self,
        tenant: &str,
        id: &str,
        edit: impl FnOnce(&mut Webhook) -> R,
    ) -> Result<R, Problem> {
        let mut config = self.service.tenant_config(tenant).await?;
        let webhook = config
            .webhook_mut(id)
            .ok_or_else(|| no_webhook(tenant, id))?;
        let edited = edit(webhook);
        config.validate()?;
        self.service.write_tenant_config(tenant, &config).await?;
        Ok(edited)
    }

    /// Removes a webhook, its delivery position and what was recorded of it.
    pub(crate) async fn remove_webhook(
        &self,
        by: &AdminPrincipal,
        tenant: &str,
        id: &str,
    ) -> Result<(), Problem> {
        let mut config = self.service.tenant_config(tenant).await?;
        if !config.remove_webhook(id) {
            return Err(no_webhook(tenant, id));
        }
        self.service.write_tenant_config(tenant, &config).await?;
        forget_webhook(
            &**self.service.store(),
            &**self.service.tenants(),
            tenant,
            id,
        )
        .await?;
        log::info!(
            "admin {}: webhook {id} of tenant {tenant} removed",
            by.token_id
        );
        Ok(())
    }

    /// A webhook's delivery health.
    pub(crate) async fn webhook_health(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<WebhookHealthView, Problem> {
        let tenants = &**self.service.tenants();
        // One read of the tenant: its webhook, and the scope to read events in.
        let stored = tenants.get_tenant(tenant).await?;
        let config = TenantConfig::from_value(&stored.settings).unwrap_or_default();
        let webhook = webhook_in(config, tenant, id)?;
        let recorded = health::health(tenants, tenant, id)
            .await?
            .unwrap_or_default();
        let dead_letters = health::dead_letters(tenants, tenant, id).await?.len();
        let store = self.service.store();
        let checkpoint = store.checkpoint(tenant, &webhook_consumer(id)).await?;
        let context = self.service.tenant_context(&stored);
        let scope =
            Scope::new(tenant, &context.registry, &context.policy).with_settings(&context.settings);
        let waiting: Vec<_> = store
            .events(&scope, checkpoint, PENDING_CAP + 1)
            .await?
            .into_iter()
            .filter(|event| webhook.since.is_none_or(|since| event.at >= since))
            .collect();
        let now = scimitar_store::meta::now();
        let oldest = waiting.first().map(|event| event.at);
        let format = scimitar_store::meta::format_timestamp;
        Ok(WebhookHealthView {
            webhook: webhook_view(&webhook),
            last_success: recorded.last_success.map(format),
            last_error_at: recorded.last_error.as_ref().map(|error| format(error.at)),
            last_error_status: recorded
                .last_error
                .as_ref()
                .and_then(|error| error.failure.status),
            last_error_detail: recorded.last_error.map(|error| error.failure.detail),
            consecutive_failures: recorded.consecutive_failures,
            pending: waiting.len().min(PENDING_CAP),
            pending_capped: waiting.len() > PENDING_CAP,
            oldest_pending: oldest.map(format),
            oldest_pending_age_seconds: oldest
                .map(|at| u64::try_from((now - at).whole_seconds()).unwrap_or_default()),
            dead_letters,
        })
    }

    /// Sends the webhook a signed `webhook.test` event now.
    pub(crate) async fn test_webhook(
        &self,
        by: &AdminPrincipal,
        tenant: &str,
        id: &str,
    ) -> Result<WebhookTestResult, Problem> {
        let webhook = self.find_webhook(tenant, id).await?;
        let handler = WebhookHandler::new(webhook, ADMIN_DELIVERY_TIMEOUT);
        let message = format!("evt_{tenant}_test_{}", uuid::Uuid::new_v4().simple());
        let body = json!({
            "id": 0,
            "tenant": tenant,
            "type": "webhook.test",
            "occurredAt": scimitar_store::meta::format_timestamp(scimitar_store::meta::now()),
            "data": {},
        });
        let outcome = handler.post(&message, body.to_string()).await;
        let tenants = &**self.service.tenants();
        health::record(tenants, tenant, id, outcome.as_ref().map(drop)).await?;
        log::info!(
            "admin {}: test event sent to webhook {id} of tenant {tenant}",
            by.token_id
        );
        Ok(delivery_result(outcome))
    }

    /// The webhook's dead letters, oldest first.
    pub(crate) async fn dead_letters(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Vec<DeadLetterView>, Problem> {
        self.find_webhook(tenant, id).await?;
        Ok(health::dead_letters(&**self.service.tenants(), tenant, id)
            .await?
            .into_iter()
            .map(DeadLetterView::from)
            .collect())
    }

    async fn find_dead_letter(
        &self,
        tenant: &str,
        id: &str,
        seq: u64,
    ) -> Result<health::DeadLetter, Problem> {
        health::dead_letter(&**self.service.tenants(), tenant, id, seq)
            .await?
            .ok_or_else(|| {
                Problem::not_found(format!("webhook `{id}` has no dead letter of event {seq}"))
            })
    }

    /// Delivers a dead letter now; delivered, it leaves the list.
    pub(crate) async fn retry_dead_letter(
        &self,
        by: &AdminPrincipal,
        tenant: &str,
        id: &str,
        seq: u64,
    ) -> Result<WebhookTestResult, Problem> {
        let webhook = self.find_webhook(tenant, id).await?;
        let letter = self.find_dead_letter(tenant, id, seq).await?;
        let handler = WebhookHandler::new(webhook, ADMIN_DELIVERY_TIMEOUT);
        let outcome = handler
            .post(&format!("evt_{tenant}_{seq}"), letter.event.to_string())
            .await;
        let tenants = &**self.service.tenants();
        health::record(tenants, tenant, id, outcome.as_ref().map(drop)).await?;
        if outcome.is_ok() {
            health::discard_dead_letter(tenants, tenant, id, seq).await?;
            log::info!(
                "admin {}: dead letter {seq} of webhook {id} of tenant {tenant} delivered",
                by.token_id
            );
        }
        Ok(delivery_result(outcome))
    }

    /// Discards a dead letter.
    pub(crate) async fn discard_dead_letter(
        &self,
        by: &AdminPrincipal,
        tenant: &str,
        id: &str,
        seq: u64,
    ) -> Result<(), Problem> {
        self.find_webhook(tenant, id).await?;
        self.find_dead_letter(tenant, id, seq).await?;
        health::discard_dead_letter(&**self.service.tenants(), tenant, id, seq).await?;
        log::info!(
            "admin {}: dead letter {seq} of webhook {id} of tenant {tenant} discarded",
            by.token_id
        );
        Ok(())
    }

    /// A page of the tenant's log, newest first.
    pub(crate) async fn read_log(
        &self,
        tenant: &str,
        params: &LogParams,
    ) -> Result<LogPage, Problem> {
        let mut query = log_query(params)?;
        query.limit = params
            .limit
            .unwrap_or(DEFAULT_LOG_PAGE)
            .clamp(1, MAX_LOG_PAGE);
        query.before =
            match params.cursor.as_deref() {
                None | Some("") => None,
                Some(cursor) => Some(cursor.parse().map_err(|_| {
                    Problem::invalid_field("cursor", "not a cursor this API returned")
                })?),
            };
        self.service.tenants().get_tenant(tenant).await?;
        let entries = self.log.recent(tenant, &query).await?;
        let next_cursor = (entries.len() == query.limit)
            .then(|| entries.last().map(|entry| entry.seq.to_string()))
            .flatten();
        Ok(LogPage {
            entries: entries.into_iter().map(LogEntryView::from).collect(),
            next_cursor,
        })
    }

    /// Where a live stream of `tenant`'s log entries matching `params` starts:
    /// its query, and the entry it follows (`resume`, a reconnecting client's
    /// last one, else the newest now).
    pub(crate) async fn log_stream_start(
        &self,
        tenant: &str,
        params: &LogParams,
        resume: Option<u64>,
    ) -> Result<(LogQuery, u64), Problem> {
        let query = log_query(params)?;
        self.service.tenants().get_tenant(tenant).await?;
        let after = match resume {
            Some(seq) => seq,
            None => {
                let newest = LogQuery {
                    limit: 1,
                    ..LogQuery::default()
                };
                let newest = self.log.recent(tenant, &newest).await?;
                newest.first().map_or(0, |entry| entry.seq)
            }
        };
        Ok((query, after))
    }

    /// What `tenant`'s SCIM requests run under (registry, policy, settings).
    async fn tenant_context(
        &self,
        tenant: &str,
    ) -> Result<std::sync::Arc<scimitar_protocol::TenantContext>, Problem> {
        let tenant = self.service.tenants().get_tenant(tenant).await?;
        Ok(self.service.tenant_context(&tenant))
    }

    /// Searches the tenant's users or groups with SCIM's parameters.
    pub(crate) async fn search(
        &self,
        tenant: &str,
        resource_type: &str,
        params: &DirectoryParams,
    ) -> Result<DirectoryPage, Problem> {
        let parser = self.service.engine().limits_enforced().parser();
        let mut query = scimitar_store::Query::with_paging(Paging::Index {
            start_index: params.start_index.unwrap_or(1).max(1),
            count: params
                .count
                .unwrap_or(DEFAULT_DIRECTORY_COUNT)
                .min(MAX_DIRECTORY_COUNT),
        });
        if let Some(filter) = params
            .filter
            .as_deref()
            .filter(|text| !text.trim().is_empty())
        {
            let filter = parser
                .filter(filter)
                .map_err(|error| Problem::invalid_field("filter", error.to_string()))?;
            query = query.filter(filter);
        }
        if let Some(sort_by) = params.sort_by.as_deref().filter(|text| !text.is_empty()) {
            let path = parser
                .attr_path(sort_by)
                .map_err(|error| Problem::invalid_field("sortBy", error.to_string()))?;
            let order = match params.sort_order.as_deref() {
                None | Some("ascending") => SortOrder::Ascending,
                Some("descending") => SortOrder::Descending,
                Some(other) => {
                    return Err(Problem::invalid_field(
                        "sortOrder",
                        format!("{other:?} is neither ascending nor descending"),
                    ))
                }
            };
            query = query.sort(path, order);
        }
        let context = self.tenant_context(tenant).await?;
        let scope =
            Scope::new(tenant, &context.registry, &context.policy).with_settings(&context.settings);
        let page = self
            .service
            .store()
            .query(&scope, resource_type, &query)
            .await?;
        Ok(DirectoryPage {
            total_results: page.total_results,
            start_index: page.start_index.unwrap_or(1),
            resources: page.resources,
        })
    }

    /// One of the tenant's users or groups.
    pub(crate) async fn resource(
        &self,
        tenant: &str,
        resource_type: &str,
        id: &str,
    ) -> Result<Value, Problem> {
        let context = self.tenant_context(tenant).await?;
        let scope =
            Scope::new(tenant, &context.registry, &context.policy).with_settings(&context.settings);
        Ok(self
            .service
            .store()
            .get(&scope, resource_type, id, &Projection::default())
            .await?)
    }
}

/// The entries of `tenant`'s log after `query.after`, oldest first (a live
/// stream's next ones): the log reads newest first, so a burst larger than a
/// page is read page by page back to `after`.
pub(crate) async fn entries_after<L: ProvisioningLog>(
    log: &L,
    tenant: &str,
    query: &mut LogQuery,
) -> Result<Vec<scimitar_store::provisioning_log::LogEntry>, StoreError> {
    let mut entries = Vec::new();
    query.before = None;
    loop {
        let page = log.recent(tenant, query).await?;
        let full = page.len() == query.limit;
        query.before = page.last().map(|entry| entry.seq);
        entries.extend(page);
        if !full || entries.len() >= MAX_LOG_PAGE * 10 {
            break;
        }
    }
    entries.reverse();
    Ok(entries)
}
