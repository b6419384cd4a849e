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
    components(schemas(Problem, FieldProblem, SettingsDocument)),
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

/// The tenant settings object, as its schema: what
/// [`TenantConfig::parse`](crate::settings::TenantConfig::parse) reads (the CLI's
/// `tenant settings --set-json` reads the same). Built from
/// [`TenantConfig::keys`](crate::settings::TenantConfig::keys), so that a key
/// added there cannot be missing here (a test checks it).
#[derive(Debug)]
pub struct SettingsDocument;

impl utoipa::PartialSchema for SettingsDocument {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{
            AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, Type,
        };
        let text = |description: &str| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(description))
        };
        let whole = |description: &str, minimum: u32, maximum: Option<u32>| {
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(minimum))
                .maximum(maximum)
                .description(Some(description))
        };
        let free_object = |description: &str| {
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some(description))
        };
        let property = |key: &str| -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
            match key {
                "policy" => free_object(
                    "How identity providers' deviations are met (the server's policy when absent)",
                )
                .into(),
                "teams" => OneOfBuilder::new()
                    .description(Some("How teams are derived"))
                    .item(
                        ObjectBuilder::new()
                            .property("mode", text("groups: the groups pushed").enum_values(Some(["groups"])))
                            .required("mode"),
                    )
                    .item(
                        ObjectBuilder::new()
                            .property(
                                "mode",
                                text("department: from each user's Enterprise department")
                                    .enum_values(Some(["department"])),
                            )
                            .property(
                                "separator",
                                text("Between organization and department (default \" / \")"),
                            )
                            .required("mode"),
                    )
                    .into(),
                "deletion" => text("What a DELETE does")
                    .enum_values(Some(["delete", "archive"]))
                    .into(),
                "schemaOverrides" => ArrayBuilder::new()
                    .items(free_object("A schema document, merged over the built-in one of its id"))
                    .description(Some(
                        "Schema documents changing attributes (see /presets for the hire date)",
                    ))
                    .into(),
                "createRetryWindowSeconds" => whole(
                    "A repeated create by the same token within this window gets the first result",
                    0,
                    Some(scimitar_store::settings::MAX_CREATE_RETRY_WINDOW),
                )
                .into(),
                "webhooks" => ArrayBuilder::new()
                    .items(
                        ObjectBuilder::new()
                            .property("id", text("The tenant's name for it"))
                            .property("url", text("Where events are POSTed (http or https)"))
                            .property(
                                "secret",
                                text("The signing key; write-only: read back as <hidden>")
                                    .write_only(Some(true)),
                            )
                            .property(
                                "enabled",
                                ObjectBuilder::new().schema_type(Type::Boolean),
                            )
                            .property("since", text("RFC 3339: events of earlier writes are skipped"))
                            .required("id")
                            .required("url"),
                    )
                    .into(),
                "rateLimit" => ObjectBuilder::new()
                    .description(Some("The tenant's own rate limit"))
                    .property("perSecond", whole("Sustained requests per second", 1, None))
                    .property("burst", whole("Requests at once after a quiet spell", 1, None))
                    .required("perSecond")
                    .required("burst")
                    .into(),
                "jwt" => free_object(
                    "JWT bearer tokens on the tenant URL: algorithm, key or secret (write-only), issuer, audience",
                )
                .into(),
                other => free_object(&format!("`{other}`")).into(),
            }
        };
        let mut document = ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "A tenant's settings; unknown keys are refused, secrets are write-only",
            ))
            .additional_properties(Some(
                AdditionalProperties::<utoipa::openapi::schema::Schema>::FreeForm(false),
            ));
        for key in crate::settings::TenantConfig::keys() {
            document = document.property(key, property(key));
        }
        document.into()
    }
}

impl utoipa::ToSchema for SettingsDocument {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_describes_every_setting() {
        let document = document();
        assert_eq!(document["openapi"], "3.1.0");
        let schema = &document["components"]["schemas"]["SettingsDocument"];
        for key in crate::settings::TenantConfig::keys() {
            assert!(
                schema["properties"][key].is_object(),
                "{key} is not in {schema}"
            );
        }
        assert_eq!(schema["additionalProperties"], false);
    }
}
