//! The discovery endpoints (RFC 7644 §4): `/ServiceProviderConfig`,
//! `/ResourceTypes` and `/Schemas`.
//!
//! Like every other endpoint they need authentication: `/Schemas` and
//! `/ResourceTypes` describe the tenant's own registry (its schema overrides). A
//! `filter` is refused with 403, as RFC 7644 §4 asks, so that no client believes
//! its filter was applied.

use actix_web::http::StatusCode;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use scimitar_schema::{
    AuthenticationScheme, BulkConfig, FilterConfig, ListResponse, PaginationConfig,
    ServiceProviderConfig, Supported,
};
use serde_json::{json, Value};

use scimitar_schema::Registry;
use scimitar_store::{Store, TenantStore};

use crate::error::ScimError;
use crate::request::{base_url, query_pairs};
use crate::response::scim_json;
use crate::service::Shared;
use crate::Limits;

fn refuse_filter(req: &HttpRequest) -> Result<(), ScimError> {
    let has_filter = query_pairs(req)?
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("filter"));
    if has_filter {
        return Err(ScimError::Forbidden(
            "discovery endpoints do not support filtering".into(),
        ));
    }
    Ok(())
}

/// The `/ServiceProviderConfig` document for `limits`.
pub(crate) fn service_provider_config_document(limits: &Limits, base_url: &str) -> Value {
    let config = ServiceProviderConfig {
        documentation_uri: Some("https://github.com/scimitar-rs/scimitar".into()),
        patch: Supported { supported: true },
        bulk: BulkConfig {
            supported: true,
            max_operations: limits.max_bulk_operations as u64,
            max_payload_size: limits.max_payload_size as u64,
        },
        filter: FilterConfig {
            supported: true,
            max_results: limits.max_results as u64,
        },
        change_password: Supported { supported: false },
        sort: Supported { supported: true },
        etag: Supported { supported: true },
        pagination: Some(PaginationConfig {
            cursor: true,
            index: true,
            default_pagination_method: Some("index".into()),
            default_page_size: Some(limits.default_page_size.min(limits.max_results) as u64),
            max_page_size: Some(limits.max_results as u64),
            cursor_timeout: Some(limits.cursor_timeout_seconds),
        }),
        authentication_schemes: vec![AuthenticationScheme::oauth_bearer_token()],
        ..ServiceProviderConfig::default()
    };
    let mut value = serde_json::to_value(config).unwrap_or_else(|_| json!({}));
    if let Value::Object(fields) = &mut value {
        fields.insert(
            "meta".into(),
            json!({
                "resourceType": "ServiceProviderConfig",
                "location": format!("{base_url}/ServiceProviderConfig"),
            }),
        );
    }
    value
}

/// `GET /ServiceProviderConfig`.
pub(crate) async fn service_provider_config<S: 'static, T: 'static>(
    req: HttpRequest,
    shared: Data<Shared<S, T>>,
) -> Result<HttpResponse, ScimError> {
    refuse_filter(&req)?;
    Ok(scim_json(
        StatusCode::OK,
        &service_provider_config_document(&shared.limits, &base_url(&req)),
    ))
}

/// `GET /ResourceTypes`.
pub(crate) async fn resource_types<S: Store + 'static, T: TenantStore + 'static>(
    req: HttpRequest,
    shared: Data<Shared<S, T>>,
) -> Result<HttpResponse, ScimError> {
    listing(&req, &shared, |registry, base| {
        registry
            .resource_types()
            .iter()
            .map(|resource_type| resource_type.to_resource(base))
            .collect()
    })
    .await
}

/// `GET /ResourceTypes/{name}`.
pub(crate) async fn resource_type<S: Store + 'static, T: TenantStore + 'static>(
    req: HttpRequest,
    shared: Data<Shared<S, T>>,
) -> Result<HttpResponse, ScimError> {
    item(
        &req,
        &shared,
        "name",
        "resource type",
        |registry, name, base| {
            registry
                .resource_types()
                .iter()
                .find(|resource_type| {
                    resource_type
                        .id
                        .as_deref()
                        .unwrap_or(&resource_type.name)
                        .eq_ignore_ascii_case(name)
                })
                .map(|resource_type| resource_type.to_resource(base))
        },
    )
    .await
}

/// `GET /Schemas`.
pub(crate) async fn schemas<S: Store + 'static, T: TenantStore + 'static>(
    req: HttpRequest,
    shared: Data<Shared<S, T>>,
) -> Result<HttpResponse, ScimError> {
    listing(&req, &shared, |registry, base| {
        registry
            .schemas()
            .iter()
            .map(|schema| schema.to_resource(base))
            .collect()
    })
    .await
}

/// `GET /Schemas/{id}`.
pub(crate) async fn schema<S: Store + 'static, T: TenantStore + 'static>(
    req: HttpRequest,
    shared: Data<Shared<S, T>>,
) -> Result<HttpResponse, ScimError> {
    item(&req, &shared, "id", "schema", |registry, id, base| {
        registry.schema(id).map(|schema| schema.to_resource(base))
    })
    .await
}

/// A `ListResponse` of the `resources` the request's registry describes under the
/// base URL.
async fn listing<S: Store, T: TenantStore>(
    req: &HttpRequest,
    shared: &Shared<S, T>,
    resources: impl FnOnce(&Registry, &str) -> Vec<Value>,
) -> Result<HttpResponse, ScimError> {
    refuse_filter(req)?;
    let base = base_url(req);
    let registry = registry_for(req, shared)?;
    Ok(list(resources(&registry, &base)))
}

/// The one resource `find` finds in the request's registry by the URL segment
/// `segment`; 404 naming it a `what` when there is none.
async fn item<S: Store, T: TenantStore>(
    req: &HttpRequest,
    shared: &Shared<S, T>,
    segment: &str,
    what: &str,
    find: impl FnOnce(&Registry, &str, &str) -> Option<Value>,
) -> Result<HttpResponse, ScimError> {
    refuse_filter(req)?;
    let key = req.match_info().get(segment).unwrap_or_default();
    let registry = registry_for(req, shared)?;
    let resource = find(&registry, key, &base_url(req))
        .ok_or_else(|| ScimError::NotFound(format!("no {what} {key}")))?;
    Ok(scim_json(StatusCode::OK, &resource))
}

/// The registry a discovery request describes: the tenant's, with its schema
/// overrides.
fn registry_for<S: Store, T: TenantStore>(
    req: &HttpRequest,
    shared: &Shared<S, T>,
) -> Result<Registry, ScimError> {
    Ok(shared.call(req)?.context().registry.clone())
}

fn list(resources: Vec<Value>) -> HttpResponse {
    let total = resources.len() as u64;
    scim_json(StatusCode::OK, &ListResponse::new(resources, total, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_advertised_in_rfc_fields_only() {
        let limits = Limits {
            max_payload_size: 1234,
            max_results: 77,
            max_bulk_operations: 9,
            max_filter_length: 99,
            ..Limits::default()
        };
        let config = service_provider_config_document(&limits, "http://h/scim/v2");
        assert_eq!(config["bulk"]["maxOperations"], 9);
        assert_eq!(config["bulk"]["maxPayloadSize"], 1234);
        assert_eq!(config["filter"]["maxResults"], 77);
        assert_eq!(config["pagination"]["maxPageSize"], 77);
        assert_eq!(config["etag"]["supported"], true);
        // Strict clients refuse what RFC 7643 §5 (and RFC 9865 `pagination`) do
        // not define.
        let known = [
            "schemas",
            "documentationUri",
            "patch",
            "bulk",
            "filter",
            "changePassword",
            "sort",
            "etag",
            "pagination",
            "authenticationSchemes",
            "meta",
        ];
        let fields = config.as_object().unwrap();
        assert!(
            fields.keys().all(|key| known.contains(&key.as_str())),
            "{:?}",
            fields.keys()
        );
        assert_eq!(
            config["schemas"],
            json!([scimitar_schema::urn::SERVICE_PROVIDER_CONFIG])
        );
        assert_eq!(
            config["meta"]["location"],
            "http://h/scim/v2/ServiceProviderConfig"
        );
    }
}
