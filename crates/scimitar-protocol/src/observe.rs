//! Watching finished requests: the seam a provisioning log, metrics or an audit
//! trail hang on.

use http::{HeaderMap, Method};

use crate::auth::Principal;
use crate::error::ScimError;
use crate::response::Response;

/// Called once per authenticated request, after its response is made and before
/// it is sent. Requests whose credential is refused are not observed, so that
/// strangers cannot fill a tenant's log. Keep it quick: queue the work.
pub trait Observer: Send + Sync + 'static {
    /// One finished request.
    fn observe(&self, exchange: &Exchange<'_>);
}

/// A finished request, as an [`Observer`] sees it.
#[derive(Debug)]
#[non_exhaustive]
pub struct Exchange<'a> {
    /// The request's method.
    pub method: &'a Method,
    /// The path below the SCIM base, e.g. `/Users/42`, as sent.
    pub path: &'a str,
    /// The request's headers (the `User-Agent`, say; never log `Authorization`).
    pub headers: &'a HeaderMap,
    /// Who made it.
    pub principal: &'a Principal,
    /// What the handler noted about it.
    pub notes: &'a Notes,
    /// The response about to be sent.
    pub response: &'a Response,
    /// The error the response reports, if it is one.
    pub error: Option<&'a ScimError>,
    /// How long the engine took, from taking the request (before
    /// authentication) to the response (before it is sent).
    pub elapsed: std::time::Duration,
}

/// What a handler notes about a request for observers, never a value of the
/// resource beyond its identifying attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Notes {
    /// What a create named its resource by (`userName "bjensen", externalId
    /// "e1"`), so that a failed create says which resource did not arrive.
    pub create_subject: Option<String>,
    /// A PATCH request's operations and paths (`replace:active add:members`):
    /// never their values.
    pub patch_summary: Option<String>,
    /// The resource an alias (`/Me`) stood for: its endpoint without slashes
    /// (`Users`) and id.
    pub aliased: Option<(String, String)>,
    /// The `Location` every response carries (`/Me`'s user).
    pub(crate) location: Option<String>,
}

/// The longest PATCH summary kept.
const SUMMARY_CHARS: usize = 500;
/// The longest create subject kept.
const SUBJECT_CHARS: usize = 300;

/// The value of `object`'s field `name`, ignoring case.
fn field<'v>(value: &'v serde_json::Value, name: &str) -> Option<&'v serde_json::Value> {
    value
        .as_object()?
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

/// The operations of a PATCH body: `op:path`, or `op:(key,key)` for a path-less
/// operation's value keys; `None` when the body has no operations.
pub(crate) fn patch_summary(body: &serde_json::Value) -> Option<String> {
    let operations = field(body, "Operations")?.as_array()?;
    let parts: Vec<String> = operations
        .iter()
        .map(|operation| {
            let op = field(operation, "op")
                .and_then(|op| op.as_str().map(str::to_lowercase))
                .unwrap_or_else(|| "?".into());
            match field(operation, "path").and_then(serde_json::Value::as_str) {
                Some(path) => format!("{op}:{path}"),
                None => {
                    let keys = field(operation, "value")
                        .and_then(serde_json::Value::as_object)
                        .map(|fields| fields.keys().cloned().collect::<Vec<_>>().join(","))
                        .unwrap_or_default();
                    format!("{op}:({keys})")
                }
            }
        })
        .collect();
    Some(parts.join(" ").chars().take(SUMMARY_CHARS).collect())
}

/// The identifying attributes of a create's body (`userName` or `displayName`,
/// and `externalId`), if it has any.
pub(crate) fn create_subject(body: &serde_json::Value) -> Option<String> {
    body.as_object()?;
    let named = |name: &str| field(body, name).map(|value| format!("{name} {value}"));
    let parts: Vec<String> = named("userName")
        .or_else(|| named("displayName"))
        .into_iter()
        .chain(named("externalId"))
        .collect();
    (!parts.is_empty()).then(|| parts.join(", ").chars().take(SUBJECT_CHARS).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use std::sync::{Arc, Mutex};

    use bytes::Bytes;
    use scimitar_store::MemoryStore;

    use crate::{Authenticator, Credentials, Mount, Principal, Refusal, ScimEngine};

    struct OneKey;

    impl Authenticator for OneKey {
        async fn authenticate(&self, request: &Credentials<'_>) -> Result<Principal, ScimError> {
            match request.bearer_token()? {
                "key" => Ok(Principal::new("acme", "idp")),
                _ => Err(ScimError::Unauthorized(Refusal::Unknown)),
            }
        }
    }

    /// Records what it sees, under its name, into a shared list.
    struct Recorder(&'static str, Arc<Mutex<Vec<(&'static str, u16)>>>);

    impl Observer for Recorder {
        fn observe(&self, exchange: &Exchange<'_>) {
            assert!(exchange.elapsed > std::time::Duration::ZERO);
            let status = exchange.response.status().as_u16();
            self.1.lock().unwrap().push((self.0, status));
        }
    }

    #[test]
    fn observers_see_each_admitted_request_in_the_order_added() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let engine = ScimEngine::new(MemoryStore::new(), OneKey)
            .observer(Arc::new(Recorder("log", Arc::clone(&seen))))
            .observer(Arc::new(Recorder("metrics", Arc::clone(&seen))));
        let request = |key: &str| {
            let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                              "userName": "bjensen"});
            http::Request::post("/scim/v2/Users")
                .header("authorization", format!("Bearer {key}"))
                .header("content-type", "application/scim+json")
                .body(Bytes::from(user.to_string()))
                .unwrap()
        };
        let mount = || Mount {
            base_path: "/scim/v2".into(),
            rest: "/Users".into(),
            tenant: None,
        };
        futures_executor::block_on(async {
            assert_eq!(engine.handle(request("key"), mount()).await.status(), 201);
            assert_eq!(engine.handle(request("wrong"), mount()).await.status(), 401);
        });
        // The refused request is seen by neither.
        assert_eq!(*seen.lock().unwrap(), [("log", 201), ("metrics", 201)]);
    }

    #[test]
    fn patch_summaries_name_paths_never_values() {
        let body = json!({"Operations": [
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "replace", "value": {"password": "hunter2", "name.givenName": "B"}},
        ]});
        assert_eq!(
            patch_summary(&body).as_deref(),
            Some("replace:active replace:(password,name.givenName)")
        );
        assert!(patch_summary(&json!({})).is_none());
    }

    #[test]
    fn create_subjects_name_the_resource() {
        assert_eq!(
            create_subject(&json!({"username": "bjensen", "externalId": "e1", "password": "x"}))
                .as_deref(),
            Some(r#"userName "bjensen", externalId "e1""#)
        );
        assert_eq!(
            create_subject(&json!({"displayName": "Sales"})).as_deref(),
            Some(r#"displayName "Sales""#)
        );
        assert_eq!(create_subject(&json!({"title": "x"})), None);
        assert_eq!(create_subject(&json!([1])), None);
    }
}
