//! A tenant's settings as a form: team mode, deletion mode, the hire-date
//! preset, the rate limit and the create-retry window. Saved through the same
//! strict reading as the admin API and the CLI.

use actix_web::http::StatusCode;
use actix_web::web::{self, Form, Path};
use actix_web::{HttpRequest, HttpResponse};
use maud::html;
use scimitar_store::{DeletionMode, TeamMode};
use serde::Deserialize;
use serde_json::{json, Value};

use super::layout::{csrf_field, notice, page, respond, tenant_nav, ConsoleError, Section};
use super::session::Session;
use super::{signed_in, writer};
use crate::admin::{AdminParts, Problem, State};
use crate::settings::{hire_date_override, TenantConfig};

pub(super) fn routes<P: AdminParts>(
    scope: actix_web::Scope<impl scimitar_actix::ScopeFactory>,
) -> actix_web::Scope<impl scimitar_actix::ScopeFactory> {
    scope
        .route("/tenants/{tenant}/settings", web::get().to(show::<P>))
        .route("/tenants/{tenant}/settings", web::post().to(save::<P>))
}

fn has_hire_date(config: &TenantConfig) -> bool {
    config
        .directory
        .schema_overrides
        .contains(&hire_date_override())
}

fn settings_page(
    session: &Session,
    tenant: &str,
    config: &TenantConfig,
    message: Option<(&str, String)>,
    status: StatusCode,
) -> HttpResponse {
    let write = session.principal.scope.can_write();
    let (department, separator) = match &config.directory.teams {
        TeamMode::Department { separator } => (true, separator.clone()),
        _ => (false, " / ".to_owned()),
    };
    let archive = config.directory.deletion == DeletionMode::Archive;
    let rate = config
        .rate_limit
        .map(|limit| limit.per_second.to_string())
        .unwrap_or_default();
    let body = html! {
        (tenant_nav(tenant, Section::Settings))
        h1 { "Settings" }
        @if let Some((kind, text)) = &message { (notice(kind, text)) }
        form.settings method="post" action={ "/admin/tenants/" (tenant) "/settings" } {
            (csrf_field(session))
            fieldset {
                legend { "Teams" }
                label.choice {
                    input type="radio" name="teams" value="groups" checked[!department] disabled[!write];
                    " From the groups the identity provider pushes"
                }
                label.choice {
                    input type="radio" name="teams" value="department" checked[department] disabled[!write];
                    " From each user's department (Enterprise extension), prefixed by the organization"
                }
                label for="separator" { "Between organization and department" }
                input #separator name="separator" value=(separator) disabled[!write];
            }
            fieldset {
                legend { "When the identity provider deletes a user" }
                label.choice {
                    input type="radio" name="deletion" value="delete" checked[!archive] disabled[!write];
                    " Delete it"
                }
                label.choice {
                    input type="radio" name="deletion" value="archive" checked[archive] disabled[!write];
                    " Archive it (kept, no longer served)"
                }
            }
            fieldset {
                legend { "Attributes" }
                label.choice {
                    input type="checkbox" name="hire_date" value="on" checked[has_hire_date(config)] disabled[!write];
                    " costCenter carries the hire date (a dateTime, e.g. from Entra ID's employeeHireDate)"
                }
            }
            fieldset {
                legend { "Limits" }
                label for="rate" { "Requests per second (empty: the server's limit)" }
                input #rate type="number" name="rate" min="1" max="100000" value=(rate) disabled[!write];
                label for="retry" { "Create-retry window, seconds (0: off)" }
                input #retry type="number" name="retry_window" min="0" max="3600"
                    value=(config.directory.create_retry_window_seconds) disabled[!write];
            }
            @if write { button type="submit" { "Save settings" } }
        }
    };
    respond(status, page("Settings", Some(session), body))
}

async fn show<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    tenant: Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let session = signed_in::<P>(&state, &req).await?;
    let config = state.service.tenant_config(&tenant).await?;
    Ok(settings_page(
        &session,
        &tenant,
        &config,
        None,
        StatusCode::OK,
    ))
}

#[derive(Deserialize)]
struct SettingsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    teams: String,
    #[serde(default)]
    separator: String,
    #[serde(default)]
    deletion: String,
    #[serde(default)]
    hire_date: Option<String>,
    #[serde(default)]
    rate: String,
    #[serde(default)]
    retry_window: String,
}

/// The settings object the form asks for: the stored one (secrets hidden, so
/// they are kept) with the form's fields set.
fn requested(current: &TenantConfig, form: &SettingsForm) -> Result<Value, Problem> {
    let mut value = current.redacted();
    let object = value
        .as_object_mut()
        .ok_or_else(|| Problem::invalid_field("settings", "must be an object"))?;
    let teams = match form.teams.as_str() {
        "department" => json!({"mode": "department", "separator": form.separator}),
        _ => json!({"mode": "groups"}),
    };
    object.insert("teams".into(), teams);
    let deletion = if form.deletion == "archive" {
        "archive"
    } else {
        "delete"
    };
    object.insert("deletion".into(), json!(deletion));
    let preset = hire_date_override();
    let mut overrides: Vec<Value> = current
        .directory
        .schema_overrides
        .iter()
        .filter(|existing| **existing != preset)
        .cloned()
        .collect();
    if form.hire_date.is_some() {
        overrides.push(preset);
    }
    object.insert("schemaOverrides".into(), Value::Array(overrides));
    match form.rate.trim() {
        "" => {
            object.remove("rateLimit");
        }
        rate => {
            let per_second: u32 = rate.parse().map_err(|_| {
                Problem::invalid_field("rateLimit.perSecond", "must be a whole number")
            })?;
            object.insert(
                "rateLimit".into(),
                json!({"perSecond": per_second, "burst": per_second.saturating_mul(2)}),
            );
        }
    }
    let window: u32 = match form.retry_window.trim() {
        "" => 0,
        text => text.parse().map_err(|_| {
            Problem::invalid_field("createRetryWindowSeconds", "must be a whole number")
        })?,
    };
    object.insert("createRetryWindowSeconds".into(), json!(window));
    Ok(value)
}

async fn save<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    tenant: Path<String>,
    form: Form<SettingsForm>,
) -> Result<HttpResponse, ConsoleError> {
    let session = writer::<P>(&state, &req, &form.csrf).await?;
    let current = state.service.tenant_config(&tenant).await?;
    let saved = match requested(&current, &form) {
        Ok(value) => {
            state
                .replace_settings(&session.principal, &tenant, &value)
                .await
        }
        Err(problem) => Err(problem),
    };
    Ok(match saved {
        Ok(config) => settings_page(
            &session,
            &tenant,
            &config,
            Some(("ok", "Settings saved.".to_owned())),
            StatusCode::OK,
        ),
        Err(problem) if problem.status == 400 => settings_page(
            &session,
            &tenant,
            &current,
            Some(("error", problem.detail)),
            StatusCode::BAD_REQUEST,
        ),
        Err(problem) => return Err(problem.into()),
    })
}
