//! Building SCIM responses: the media type, `ETag`, `Location` and `meta.location`.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde::Serialize;
use serde_json::Value;

/// The media type of every response body: `application/scim+json; charset=utf-8`.
pub const SCIM_JSON: &str = "application/scim+json; charset=utf-8";

/// A response with `status` and `body` as SCIM JSON.
pub(crate) fn scim_json<T: Serialize>(status: StatusCode, body: &T) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, SCIM_JSON))
        .json(body)
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
pub(crate) fn resource_response(status: StatusCode, resource: &Value) -> HttpResponse {
    let mut response = scim_json(status, resource);
    let headers = response.headers_mut();
    if let Some(version) = version_of(resource).and_then(|v| HeaderValue::from_str(v).ok()) {
        headers.insert(header::ETAG, version);
    }
    if status == StatusCode::CREATED {
        if let Some(location) = location_of(resource).and_then(|l| HeaderValue::from_str(l).ok()) {
            headers.insert(header::LOCATION, location);
        }
    }
    response
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
    fn location_needs_meta() {
        let mut user = json!({"id": "42"});
        set_location(&mut user, "http://h", "/Users");
        assert_eq!(user, json!({"id": "42"}));
    }
}
