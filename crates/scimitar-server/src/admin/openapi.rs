//! The admin API's OpenAPI 3.1 document, generated from the handlers and bodies
//! (utoipa) and served at `/admin/v1/openapi.json`.

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::ServerBuilder;
use utoipa::{Modify, OpenApi};

use super::*;

/// The admin API's description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Scimitar admin API",
        description = "Tenants, SCIM tokens, settings, webhooks, the provisioning log and the \
            directory of a Scimitar server. Every route but this document needs \
            `Authorization: Bearer <admin token>` (`scimitar admin-token issue`); read-only \
            tokens may only GET. Errors are RFC 9457 problem documents."
    ),
    paths(
        whoami,
        tenants::list_tenants, tenants::create_tenant, tenants::get_tenant,
        tenants::change_tenant, tenants::delete_tenant,
        tenants::list_tokens, tenants::issue_token, tenants::revoke_token,
        tenants::list_admin_tokens, tenants::revoke_admin_token,
        settings_routes::presets, settings_routes::get_settings, settings_routes::put_settings,
        webhook_routes::list_webhooks, webhook_routes::add_webhook,
        webhook_routes::change_webhook, webhook_routes::remove_webhook,
        webhook_routes::rotate_secret, webhook_routes::webhook_health,
        webhook_routes::test_webhook, webhook_routes::list_dead_letters,
        webhook_routes::retry_dead_letter, webhook_routes::discard_dead_letter,
        log_routes::read_log, log_routes::stream_log,
        directory::list_users, directory::get_user, directory::list_groups, directory::get_group,
    ),
    components(schemas(Problem, FieldProblem)),
    modifiers(&AdminSecurity),
    security(("adminToken" = []))
)]
pub struct AdminApiDoc;

struct AdminSecurity;

impl Modify for AdminSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "adminToken",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An admin token, scimadm_..."))
                    .build(),
            ),
        );
        openapi.servers = Some(vec![ServerBuilder::new().url("/admin/v1").build()]);
    }
}

/// The document as JSON.
pub fn document() -> serde_json::Value {
    serde_json::to_value(AdminApiDoc::openapi()).unwrap_or_default()
}

/// `GET /openapi.json`: public, as it holds no data.
pub(super) async fn serve() -> HttpResponse {
    HttpResponse::Ok().json(document())
}
