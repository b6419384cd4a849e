//! The discovery endpoints (RFC 7644 §4): `/ServiceProviderConfig`,
//! `/ResourceTypes` and `/Schemas`.
//!
//! Like every other endpoint they need authentication: `/Schemas` and
//! `/ResourceTypes` describe the tenant's own registry (its schema overrides). A
//! `filter` is refused with 403, as RFC 7644 §4 asks, so that no client believes
//! its filter was applied.

use http::request::Parts;
use http::StatusCode;
use scimitar_schema::{
    AuthenticationScheme, BulkConfig, FilterConfig, ListResponse, PaginationConfig,
    ServiceProviderConfig, Supported,
};
use serde_json::{json, Value};

use scimitar_schema::Registry;

use crate::engine::Call;
use crate::error::ScimError;
use crate::request::query_pairs;
use crate::response::{scim_json, Response};
use crate::Limits;

fn refuse_filter(req: &Parts) -> Result<(), ScimError> {
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
pub(crate) fn service_provider_config<S, A>(
    call: &Call<'_, S, A>,
    head: &Parts,
) -> Result<Response, ScimError> {
    refuse_filter(head)?;
    Ok(scim_json(
        StatusCode::OK,
        &service_provider_config_document(call.limits(), call.base_url),
    ))
}

/// `GET /ResourceTypes`.
pub(crate) fn resource_types<S, A>(
    call: &Call<'_, S, A>,
    head: &Parts,
) -> Result<Response, ScimError> {
    refuse_filter(head)?;
    let registry = &call.context.registry;
    Ok(list(
        registry
            .resource_types()
            .iter()
            .map(|resource_type| resource_type.to_resource(call.base_url))
            .collect(),
    ))
}

/// `GET /ResourceTypes/{name}`.
pub(crate) fn resource_type<S, A>(
    call: &Call<'_, S, A>,
    head: &Parts,
    name: &str,
) -> Result<Response, ScimError> {
    item(call, head, name, "resource type", |registry, base| {
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
    })
}

/// `GET /Schemas`.
pub(crate) fn schemas<S, A>(call: &Call<'_, S, A>, head: &Parts) -> Result<Response, ScimError> {
    refuse_filter(head)?;
    Ok(list(
        call.context
            .registry
            .schemas()
            .iter()
            .map(|schema| schema.to_resource(call.base_url))
            .collect(),
    ))
}

/// `GET /Schemas/{id}`.
pub(crate) fn schema<S, A>(
    call: &Call<'_, S, A>,
    head: &Parts,
    id: &str,
) -> Result<Response, ScimError> {
    item(call, head, id, "schema", |registry, base| {
        registry.schema(id).map(|schema| schema.to_resource(base))
    })
}

/// The one resource `find` finds in the tenant's registry (with its schema
/// overrides); 404 naming `key` a `what` when there is none.
fn item<S, A>(
    call: &Call<'_, S, A>,
    head: &Parts,
    key: &str,
    what: &str,
    find: impl FnOnce(&Registry, &str) -> Option<Value>,
) -> Result<Response, ScimError> {
    refuse_filter(head)?;
    let resource = find(&call.context.registry, call.base_url)
        .ok_or_else(|| ScimError::NotFound(format!("no {what} {key}")))?;
    Ok(scim_json(StatusCode::OK, &resource))
}

fn list(resources: Vec<Value>) -> Response {
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
