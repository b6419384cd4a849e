//! Protocol messages of RFC 7644 (and RFC 9865 cursors): list responses, errors,
//! PATCH, search and bulk requests, and resource `meta`.
//!
//! Deserialisation is lenient where identity providers are known to differ from
//! the RFC (PATCH `op` in any case, as Entra ID sends `"Add"`), and serialisation
//! always produces the RFC form.

use std::fmt;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::model::string_enum;
use crate::urn;

fn schemas_of(urn: &str) -> Vec<String> {
    vec![urn.to_string()]
}

/// A query result (RFC 7644 §3.4.2), with RFC 9865 cursors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListResponse<T> {
    /// `["urn:ietf:params:scim:api:messages:2.0:ListResponse"]`.
    #[serde(default = "list_response_schemas")]
    pub schemas: Vec<String>,
    /// The number of results the query matched, across all pages.
    pub total_results: u64,
    /// The number of resources on this page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items_per_page: Option<u64>,
    /// The 1-based index of the first resource on this page (index paging).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_index: Option<u64>,
    /// The cursor of the next page (RFC 9865), absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// The cursor of the previous page (RFC 9865), if the server offers one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_cursor: Option<String>,
    /// The resources of this page.
    #[serde(rename = "Resources", alias = "resources", default = "Vec::new")]
    pub resources: Vec<T>,
}

fn list_response_schemas() -> Vec<String> {
    schemas_of(urn::LIST_RESPONSE)
}

impl<T> ListResponse<T> {
    /// An index-paged response: `resources` is the page starting at `start_index`
    /// (1-based) of `total_results` matches; `itemsPerPage` is the page's length.
    pub fn new(resources: Vec<T>, total_results: u64, start_index: u64) -> Self {
        ListResponse {
            schemas: list_response_schemas(),
            total_results,
            items_per_page: Some(resources.len() as u64),
            start_index: Some(start_index),
            next_cursor: None,
            previous_cursor: None,
            resources,
        }
    }
}

string_enum! {
    /// The `scimType` of an error (RFC 7644 §3.12, RFC 9865 §6).
    ScimType {
        /// The filter syntax is invalid or names an unsupported operator.
        InvalidFilter => "invalidFilter",
        /// The filter yields too many results.
        TooMany => "tooMany",
        /// A value is not unique.
        Uniqueness => "uniqueness",
        /// The request modifies a read-only or immutable attribute.
        Mutability => "mutability",
        /// The request body is not valid SCIM.
        InvalidSyntax => "invalidSyntax",
        /// The PATCH path is invalid.
        InvalidPath => "invalidPath",
        /// The PATCH path matched nothing.
        NoTarget => "noTarget",
        /// A value is missing or of the wrong type.
        InvalidValue => "invalidValue",
        /// The protocol version is not supported.
        InvalidVers => "invalidVers",
        /// The request carries sensitive data in the URL.
        Sensitive => "sensitive",
        /// The cursor is invalid (RFC 9865).
        InvalidCursor => "invalidCursor",
        /// The cursor has expired (RFC 9865).
        ExpiredCursor => "expiredCursor",
    }
}

impl ScimType {
    /// The HTTP status RFC 7644 pairs with this type (409 for `uniqueness`, 403 for
    /// `sensitive`, 400 otherwise).
    pub fn status(self) -> u16 {
        match self {
            ScimType::Uniqueness => 409,
            ScimType::Sensitive => 403,
            _ => 400,
        }
    }
}

/// An error response (RFC 7644 §3.12).
///
/// `status` is serialised as a string (`"404"`), as the RFC shows and Okta's tests
/// require; either a string or a number is accepted when reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorResponse {
    /// `["urn:ietf:params:scim:api:messages:2.0:Error"]`.
    #[serde(default = "error_schemas")]
    pub schemas: Vec<String>,
    /// The HTTP status code.
    #[serde(with = "status_as_string")]
    pub status: u16,
    /// The SCIM error type, for 400/409/403 errors that have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scim_type: Option<ScimType>,
    /// A human-readable explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

fn error_schemas() -> Vec<String> {
    schemas_of(urn::ERROR)
}

impl ErrorResponse {
    /// An error with `status` and `detail` and no `scimType`.
    pub fn new(status: u16, detail: impl Into<String>) -> Self {
        ErrorResponse {
            schemas: error_schemas(),
            status,
            scim_type: None,
            detail: Some(detail.into()),
        }
    }

    /// An error of `scim_type`, with the status RFC 7644 pairs with it.
    pub fn typed(scim_type: ScimType, detail: impl Into<String>) -> Self {
        ErrorResponse {
            scim_type: Some(scim_type),
            ..ErrorResponse::new(scim_type.status(), detail)
        }
    }
}

impl fmt::Display for ErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.status)?;
        if let Some(scim_type) = self.scim_type {
            write!(f, " {scim_type}")?;
        }
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ErrorResponse {}

mod status_as_string {
    use super::*;

    pub fn serialize<S: Serializer>(status: &u16, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(status)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u16, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(text) => text
                .trim()
                .parse()
                .map_err(|_| de::Error::custom(format!("status `{text}` is not a number"))),
            Value::Number(number) => number
                .as_u64()
                .and_then(|n| u16::try_from(n).ok())
                .ok_or_else(|| de::Error::custom(format!("status {number} is out of range"))),
            other => Err(de::Error::custom(format!("status {other} is not a number"))),
        }
    }
}

/// A PATCH request (RFC 7644 §3.5.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatchRequest {
    /// `["urn:ietf:params:scim:api:messages:2.0:PatchOp"]`.
    #[serde(default = "patch_schemas")]
    pub schemas: Vec<String>,
    /// The operations, applied in order.
    #[serde(rename = "Operations", alias = "operations")]
    pub operations: Vec<PatchOperation>,
}

fn patch_schemas() -> Vec<String> {
    schemas_of(urn::PATCH_OP)
}

impl PatchRequest {
    /// A request of `operations`.
    pub fn new(operations: Vec<PatchOperation>) -> Self {
        PatchRequest {
            schemas: patch_schemas(),
            operations,
        }
    }
}

/// One PATCH operation.
///
/// `value` tells absent (`None`) from JSON `null` (`Some(Value::Null)`): Entra ID
/// sends `null` to clear, which is not the same as sending nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatchOperation {
    /// `add`, `replace` or `remove`.
    pub op: PatchOpKind,
    /// The target path (`None` for a path-less add or replace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The value, exactly as sent.
    #[serde(
        default,
        deserialize_with = "present_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub value: Option<Value>,
}

/// Keeps `null` as `Some(Value::Null)`; a missing key stays `None` via `default`.
fn present_value<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// A PATCH operation kind, read ignoring case (`"Add"`, `"REPLACE"`), written in
/// lower case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatchOpKind {
    /// `add`.
    Add,
    /// `replace`.
    Replace,
    /// `remove`.
    Remove,
}

impl PatchOpKind {
    /// `add`, `replace` or `remove`.
    pub fn as_str(self) -> &'static str {
        match self {
            PatchOpKind::Add => "add",
            PatchOpKind::Replace => "replace",
            PatchOpKind::Remove => "remove",
        }
    }
}

impl fmt::Display for PatchOpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for PatchOpKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for PatchOpKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        [PatchOpKind::Add, PatchOpKind::Replace, PatchOpKind::Remove]
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| {
                de::Error::invalid_value(de::Unexpected::Str(&text), &"add, replace or remove")
            })
    }
}

/// A sort direction (RFC 7644 §3.4.2.3), read ignoring case.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SortOrder {
    /// `ascending` (the default).
    #[default]
    Ascending,
    /// `descending`.
    Descending,
}

impl SortOrder {
    /// `ascending` or `descending`.
    pub fn as_str(self) -> &'static str {
        match self {
            SortOrder::Ascending => "ascending",
            SortOrder::Descending => "descending",
        }
    }
}

impl Serialize for SortOrder {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SortOrder {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        [SortOrder::Ascending, SortOrder::Descending]
            .into_iter()
            .find(|order| order.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| {
                de::Error::invalid_value(de::Unexpected::Str(&text), &"ascending or descending")
            })
    }
}

/// A query by POST to `.search` (RFC 7644 §3.4.3), with RFC 9865 `cursor`.
///
/// `startIndex` and `count` are signed because RFC 7644 says how to treat values
/// below 1 and 0 instead of rejecting them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchRequest {
    /// `["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]`.
    #[serde(default = "search_schemas")]
    pub schemas: Vec<String>,
    /// Attributes to return.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Vec<String>>,
    /// Attributes not to return.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excluded_attributes: Option<Vec<String>>,
    /// The filter expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// The attribute to sort by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_by: Option<String>,
    /// The sort direction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_order: Option<SortOrder>,
    /// 1-based index of the first result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_index: Option<i64>,
    /// Maximum results per page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
    /// RFC 9865 cursor (empty string asks for the first page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

fn search_schemas() -> Vec<String> {
    schemas_of(urn::SEARCH_REQUEST)
}

/// An HTTP method of a bulk operation, read ignoring case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BulkMethod {
    /// `POST`: create.
    Post,
    /// `PUT`: replace.
    Put,
    /// `PATCH`: modify.
    Patch,
    /// `DELETE`: delete.
    Delete,
}

impl BulkMethod {
    /// `POST`, `PUT`, `PATCH` or `DELETE`.
    pub fn as_str(self) -> &'static str {
        match self {
            BulkMethod::Post => "POST",
            BulkMethod::Put => "PUT",
            BulkMethod::Patch => "PATCH",
            BulkMethod::Delete => "DELETE",
        }
    }
}

impl Serialize for BulkMethod {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for BulkMethod {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        [
            BulkMethod::Post,
            BulkMethod::Put,
            BulkMethod::Patch,
            BulkMethod::Delete,
        ]
        .into_iter()
        .find(|method| method.as_str().eq_ignore_ascii_case(text.trim()))
        .ok_or_else(|| {
            de::Error::invalid_value(de::Unexpected::Str(&text), &"POST, PUT, PATCH or DELETE")
        })
    }
}

/// A bulk request (RFC 7644 §3.7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkRequest {
    /// `["urn:ietf:params:scim:api:messages:2.0:BulkRequest"]`.
    #[serde(default = "bulk_request_schemas")]
    pub schemas: Vec<String>,
    /// Stop after this many errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_on_errors: Option<u32>,
    /// The operations.
    #[serde(rename = "Operations", alias = "operations")]
    pub operations: Vec<BulkOperation>,
}

fn bulk_request_schemas() -> Vec<String> {
    schemas_of(urn::BULK_REQUEST)
}

/// A bulk response (RFC 7644 §3.7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkResponse {
    /// `["urn:ietf:params:scim:api:messages:2.0:BulkResponse"]`.
    #[serde(default = "bulk_response_schemas")]
    pub schemas: Vec<String>,
    /// One result per operation processed.
    #[serde(rename = "Operations", alias = "operations")]
    pub operations: Vec<BulkOperation>,
}

fn bulk_response_schemas() -> Vec<String> {
    schemas_of(urn::BULK_RESPONSE)
}

impl BulkResponse {
    /// A response of `operations`.
    pub fn new(operations: Vec<BulkOperation>) -> Self {
        BulkResponse {
            schemas: bulk_response_schemas(),
            operations,
        }
    }
}

/// One operation of a bulk request, or its result in a bulk response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkOperation {
    /// The HTTP method.
    pub method: BulkMethod,
    /// The client's id for a POST, referenced elsewhere as `bulkId:<id>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bulk_id: Option<String>,
    /// The ETag the resource must have (`If-Match`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The resource path relative to the base URL, e.g. `/Users/2819c223`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The request body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// In a response: the resource's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// In a response: the error body, when the operation failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Value>,
    /// In a response: the HTTP status, as a string (`"201"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// Resource metadata (RFC 7643 §3.1 `meta`). Timestamps are kept as the
/// `xsd:dateTime` strings they travel as.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    /// The resource type name, e.g. `User`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// When the resource was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// When the resource last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// The resource's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The resource's ETag, e.g. `W/"3694e05e9dff590"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patch_op_reads_any_case_and_writes_lower_case() {
        for (text, kind) in [
            ("add", PatchOpKind::Add),
            ("Add", PatchOpKind::Add),
            ("REPLACE", PatchOpKind::Replace),
            ("Remove", PatchOpKind::Remove),
        ] {
            let op: PatchOperation =
                serde_json::from_value(json!({"op": text, "path": "x"})).unwrap();
            assert_eq!(op.op, kind);
            assert_eq!(serde_json::to_value(&op).unwrap()["op"], kind.as_str());
        }
        assert!(serde_json::from_value::<PatchOperation>(json!({"op": "move"})).is_err());
    }

    #[test]
    fn patch_value_tells_absent_from_null() {
        let absent: PatchOperation =
            serde_json::from_value(json!({"op": "remove", "path": "x"})).unwrap();
        assert_eq!(absent.value, None);
        let null: PatchOperation =
            serde_json::from_value(json!({"op": "replace", "path": "x", "value": null})).unwrap();
        assert_eq!(null.value, Some(Value::Null));
        assert_eq!(
            serde_json::to_value(&null).unwrap(),
            json!({"op": "replace", "path": "x", "value": null})
        );
        assert_eq!(
            serde_json::to_value(&absent).unwrap(),
            json!({"op": "remove", "path": "x"})
        );
    }

    #[test]
    fn patch_request_reads_entra_body() {
        let request: PatchRequest = serde_json::from_value(json!({
            "schemas": [urn::PATCH_OP],
            "Operations": [
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "Add", "path": "members", "value": [{"$ref": null, "value": "f648f8d5"}]}
            ]
        }))
        .unwrap();
        assert_eq!(request.operations.len(), 2);
        assert_eq!(
            request.operations[1].value.as_ref().unwrap()[0]["$ref"],
            Value::Null
        );
    }

    #[test]
    fn error_status_is_a_string_and_reads_both_forms() {
        let error = ErrorResponse::typed(ScimType::Uniqueness, "userName taken");
        assert_eq!(
            serde_json::to_value(&error).unwrap(),
            json!({"schemas": [urn::ERROR], "status": "409", "scimType": "uniqueness", "detail": "userName taken"})
        );
        let read: ErrorResponse =
            serde_json::from_value(json!({"status": 404, "detail": "x"})).unwrap();
        assert_eq!(read.status, 404);
        assert_eq!(read.schemas, [urn::ERROR]);
        assert!(serde_json::from_value::<ErrorResponse>(json!({"status": "abc"})).is_err());
        assert_eq!(error.to_string(), "409 uniqueness: userName taken");
    }

    #[test]
    fn every_scim_type_round_trips() {
        for text in [
            "invalidFilter",
            "tooMany",
            "uniqueness",
            "mutability",
            "invalidSyntax",
            "invalidPath",
            "noTarget",
            "invalidValue",
            "invalidVers",
            "sensitive",
            "invalidCursor",
            "expiredCursor",
        ] {
            let scim_type: ScimType = serde_json::from_value(json!(text)).unwrap();
            assert_eq!(serde_json::to_value(scim_type).unwrap(), text);
        }
        assert_eq!(ScimType::Sensitive.status(), 403);
        assert_eq!(ScimType::InvalidCursor.status(), 400);
    }

    #[test]
    fn list_response_shape() {
        let list = ListResponse::new(vec![json!({"id": "1"})], 7, 1);
        assert_eq!(
            serde_json::to_value(&list).unwrap(),
            json!({"schemas": [urn::LIST_RESPONSE], "totalResults": 7, "itemsPerPage": 1, "startIndex": 1, "Resources": [{"id": "1"}]})
        );
        let empty: ListResponse<Value> = ListResponse::new(vec![], 0, 1);
        assert_eq!(
            serde_json::to_value(&empty).unwrap()["Resources"],
            json!([])
        );
        let cursor: ListResponse<Value> = serde_json::from_value(json!({
            "totalResults": 2, "nextCursor": "abc", "Resources": []
        }))
        .unwrap();
        assert_eq!(cursor.next_cursor.as_deref(), Some("abc"));
    }

    #[test]
    fn search_and_bulk_read_rfc_examples() {
        let search: SearchRequest = serde_json::from_value(json!({
            "schemas": [urn::SEARCH_REQUEST],
            "attributes": ["displayName", "userName"],
            "filter": "displayName sw \"smith\"",
            "startIndex": 1, "count": 10, "sortOrder": "Descending"
        }))
        .unwrap();
        assert_eq!(search.sort_order, Some(SortOrder::Descending));
        assert_eq!(search.count, Some(10));
        let bulk: BulkRequest = serde_json::from_value(json!({
            "schemas": [urn::BULK_REQUEST], "failOnErrors": 1,
            "Operations": [
                {"method": "post", "path": "/Users", "bulkId": "qwerty", "data": {"userName": "Alice"}},
                {"method": "DELETE", "path": "/Users/b7c14771", "version": "W/\"0ee8add0a938e1a\""}
            ]
        }))
        .unwrap();
        assert_eq!(bulk.operations[0].method, BulkMethod::Post);
        assert_eq!(bulk.operations[1].method, BulkMethod::Delete);
        let response = BulkResponse::new(vec![BulkOperation {
            method: BulkMethod::Post,
            bulk_id: Some("qwerty".into()),
            version: None,
            path: None,
            data: None,
            location: Some("https://example.com/v2/Users/92b725cd".into()),
            response: None,
            status: Some("201".into()),
        }]);
        let value = serde_json::to_value(&response).unwrap();
        assert_eq!(value["Operations"][0]["method"], "POST");
        assert_eq!(value["Operations"][0]["status"], "201");
    }

    #[test]
    fn meta_round_trips() {
        let value = json!({
            "resourceType": "User", "created": "2010-01-23T04:56:22Z",
            "lastModified": "2011-05-13T04:42:34Z", "version": "W/\"3694e05e9dff590\"",
            "location": "https://example.com/v2/Users/2819c223"
        });
        let meta: Meta = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(serde_json::to_value(&meta).unwrap(), value);
    }
}
