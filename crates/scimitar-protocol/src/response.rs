//! Building SCIM responses: the media type, `ETag`, `Location` and `meta.location`.

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::StatusCode;
use scimitar_schema::urn::ENTERPRISE_USER;
use scimitar_schema::Registry;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The media type of every response body: `application/scim+json; charset=utf-8`.
pub const SCIM_JSON: &str = "application/scim+json; charset=utf-8";

/// What the engine answers: an `http` response with the whole body in memory.
pub type Response = http::Response<Bytes>;

/// A response of `status` with an empty body and no headers.
pub(crate) fn empty(status: StatusCode) -> Response {
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = status;
    response
}

/// What a successful PATCH answers when the request names no `attributes` or
/// `excludedAttributes` (RFC 7644 §3.5.2 allows either answer; with a projection
/// the answer is always 200 and the projected resource).
///
/// In a settings file: `"resource"` or `"no-content-for-groups"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PatchAnswer {
    /// 200 and the whole resource, a group's members included.
    Resource,
    /// 204 and the new `ETag` for a `Group`, 200 and the resource for the rest
    /// (the default). A group's answer would carry its whole member list, so a
    /// member change of a 50,000-member group would answer megabytes. Entra ID's
    /// SCIM guide shows 204 for group PATCHes.
    #[default]
    NoContentForGroups,
}

/// A response with `status` and `body` as SCIM JSON.
pub fn scim_json<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Response {
    // Our bodies are JSON values and derived structs: serializing cannot fail.
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = Response::new(Bytes::from(bytes));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    response
}

/// `meta.version` of a resource, if it has one.
pub(crate) fn version_of(resource: &Value) -> Option<&str> {
    resource.get("meta")?.get("version")?.as_str()
}

/// `meta.location` of a resource, if it has one.
pub(crate) fn location_of(resource: &Value) -> Option<&str> {
    resource.get("meta")?.get("location")?.as_str()
}

/// A resource response: the body, its `ETag` (= `meta.version`) and, for a create,
/// its `Location`.
pub(crate) fn resource_response(status: StatusCode, resource: &Value) -> Response {
    let mut response = scim_json(status, resource);
    let headers = response.headers_mut();
    set_etag(headers, resource);
    if status == StatusCode::CREATED {
        if let Some(location) = location_of(resource).and_then(|l| HeaderValue::from_str(l).ok()) {
            headers.insert(header::LOCATION, location);
        }
    }
    response
}

/// 204 No Content with the written resource's version as `ETag`.
pub(crate) fn no_content_with_version(resource: &Value) -> Response {
    let mut response = empty(StatusCode::NO_CONTENT);
    set_etag(response.headers_mut(), resource);
    response
}

/// `ETag`: the resource's `meta.version`, when it has one.
fn set_etag(headers: &mut http::HeaderMap, resource: &Value) {
    if let Some(version) = version_of(resource).and_then(|v| HeaderValue::from_str(v).ok()) {
        headers.insert(header::ETAG, version);
    }
}

/// Sets `meta.location` to `{base_url}{endpoint}/{id}` when the resource has an `id`
/// and a `meta` (a projection may have left `meta` out).
pub(crate) fn set_location(resource: &mut Value, base_url: &str, endpoint: &str) {
    let Some(id) = resource.get("id").and_then(Value::as_str) else {
        return;
    };
    let location = format!("{base_url}/{}/{id}", endpoint.trim_matches('/'));
    if let Some(Value::Object(meta)) = resource.get_mut("meta") {
        meta.insert("location".into(), Value::String(location));
    }
}

/// Adds the `$ref` URIs the store leaves to the HTTP layer: the Enterprise
/// `manager` (`{base_url}/Users/{id}`) and each group member (by its `type`).
pub(crate) fn set_references(resource: &mut Value, base_url: &str, registry: &Registry) {
    // `{base_url}/{endpoint}/` of the member types met so far: a group's members
    // are mostly of one type, and each `$ref` is then one allocation.
    let mut prefixes: Vec<(String, String)> = Vec::new();
    let mut uri = |resource_type: &str, id: &str| {
        let at = match prefixes.iter().position(|(name, _)| name == resource_type) {
            Some(at) => at,
            None => {
                let endpoint = registry
                    .resource_type(resource_type)
                    .map_or(resource_type, |found| found.endpoint.trim_matches('/'));
                prefixes.push((resource_type.to_owned(), format!("{base_url}/{endpoint}/")));
                prefixes.len() - 1
            }
        };
        let prefix = &prefixes[at].1;
        let mut reference = String::with_capacity(prefix.len() + id.len());
        reference.push_str(prefix);
        reference.push_str(id);
        Value::String(reference)
    };
    let manager = resource
        .get_mut(ENTERPRISE_USER)
        .and_then(|extension| extension.get_mut("manager"));
    if let Some(Value::Object(manager)) = manager {
        if let Some(id) = manager.get("value").and_then(Value::as_str) {
            let reference = uri("User", id);
            manager.insert("$ref".into(), reference);
        }
    }
    if let Some(Value::Array(members)) = resource.get_mut("members") {
        for member in members {
            let Value::Object(member) = member else {
                continue;
            };
            let target = member
                .get("value")
                .and_then(Value::as_str)
                .zip(member.get("type").and_then(Value::as_str));
            if let Some((id, resource_type)) = target {
                let reference = uri(resource_type, id);
                member.insert("$ref".into(), reference);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn created_response_has_etag_and_location() {
        let mut user = json!({"id": "42", "meta": {"version": "W/\"1\""}});
        set_location(&mut user, "http://h/scim/v2", "/Users");
        assert_eq!(location_of(&user), Some("http://h/scim/v2/Users/42"));
        let response = resource_response(StatusCode::CREATED, &user);
        assert_eq!(response.headers().get(header::ETAG).unwrap(), "W/\"1\"");
        assert_eq!(
            response.headers().get(header::LOCATION).unwrap(),
            "http://h/scim/v2/Users/42"
        );
        let ok = resource_response(StatusCode::OK, &user);
        assert!(ok.headers().get(header::LOCATION).is_none());
    }

    #[test]
    fn managers_and_members_get_references() {
        let registry = Registry::builtin();
        let mut user =
            json!({"id": "1", ENTERPRISE_USER: {"manager": {"value": "2", "displayName": "Boss"}}});
        set_references(&mut user, "http://h/scim/v2", &registry);
        assert_eq!(
            user[ENTERPRISE_USER]["manager"],
            json!({"value": "2", "displayName": "Boss", "$ref": "http://h/scim/v2/Users/2"})
        );
        let mut group = json!({"members": [{"value": "1", "type": "User"}, {"value": "3", "type": "Group"},
                               {"value": "4", "type": "User"}]});
        set_references(&mut group, "http://h/scim/v2", &registry);
        assert_eq!(group["members"][0]["$ref"], "http://h/scim/v2/Users/1");
        assert_eq!(group["members"][1]["$ref"], "http://h/scim/v2/Groups/3");
        assert_eq!(group["members"][2]["$ref"], "http://h/scim/v2/Users/4");
    }

    #[test]
    fn location_needs_meta() {
        let mut user = json!({"id": "42"});
        set_location(&mut user, "http://h", "/Users");
        assert_eq!(user, json!({"id": "42"}));
    }
}
