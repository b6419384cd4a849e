//! A tenant's settings, and the settings presets.

use actix_web::web::{self, Json, Path};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::Value;

use super::openapi::SettingsDocument;
use super::{AdminParts, Preset, Problem, State};
use crate::settings::TenantConfig;

pub(super) fn routes<P: AdminParts>(
    scope: actix_web::Scope<impl scimitar_actix::ScopeFactory>,
) -> actix_web::Scope<impl scimitar_actix::ScopeFactory> {
    scope
        .route("/presets", web::get().to(presets))
        .route(
            "/tenants/{tenant}/settings",
            web::get().to(get_settings::<P>),
        )
        .route(
            "/tenants/{tenant}/settings",
            web::put().to(put_settings::<P>),
        )
}

/// The named schema overrides (`hire-date-in-cost-center`: costCenter carries
/// the hire date as a dateTime). Add one to `schemaOverrides` to apply it.
#[utoipa::path(get, path = "/presets", tag = "settings",
    responses((status = 200, body = Vec<Preset>)))]
pub(super) async fn presets() -> HttpResponse {
    let presets: Vec<Preset> = crate::settings::presets()
        .into_iter()
        .map(|(name, description, schema_override)| Preset {
            name: name.into(),
            description: description.into(),
            schema_override,
        })
        .collect();
    HttpResponse::Ok().json(presets)
}

/// The settings to show: secrets as `<hidden>`.
fn shown(config: &TenantConfig) -> Value {
    config.redacted()
}

/// Read a tenant's settings (secrets shown as `<hidden>`).
#[utoipa::path(get, path = "/tenants/{tenant}/settings", tag = "settings",
    params(("tenant" = String, Path, description = "The tenant id")),
    responses((status = 200, body = SettingsDocument),
        (status = 404, body = Problem)))]
pub(super) async fn get_settings<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    tenant: Path<String>,
) -> Result<HttpResponse, Problem> {
    state.reader(&req).await?;
    let config = state.service.tenant_config(&tenant).await?;
    Ok(HttpResponse::Ok().json(shown(&config)))
}

/// Replace a tenant's settings, read strictly: unknown keys and bad values are
/// 400 naming the field. Secrets sent as `<hidden>` keep their stored values.
/// A change of team mode rebuilds the tenant's teams.
#[utoipa::path(put, path = "/tenants/{tenant}/settings", tag = "settings",
    request_body(content = SettingsDocument, description = "The whole settings object, as GET shows it"),
    params(("tenant" = String, Path, description = "The tenant id")),
    responses((status = 200, body = SettingsDocument), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(super) async fn put_settings<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    tenant: Path<String>,
    body: Json<Value>,
) -> Result<HttpResponse, Problem> {
    let principal = state.writer(&req).await?;
    let config = state.replace_settings(&principal, &tenant, &body).await?;
    Ok(HttpResponse::Ok().json(shown(&config)))
}
