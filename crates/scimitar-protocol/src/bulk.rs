//! `/Bulk` (RFC 7644 §3.7): many operations in one request, with `bulkId`
//! references between them.
//!
//! Operations run one after another through the same code as the single-resource
//! endpoints. An operation that references `bulkId:x` (in its path or anywhere in its
//! data) waits until the POST with `bulkId` `x` has run, whatever their order in the
//! request; a reference to a POST that failed, to no POST, or in a cycle fails with
//! 409 `invalidValue`. Results come back in request order; after `failOnErrors`
//! failures the remaining operations are not run and not reported.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use http::request::Parts;
use http::StatusCode;
use scimitar_schema::{BulkMethod, BulkOperation, BulkRequest, BulkResponse, ResourceType};
use scimitar_store::{Projection, Store};
use serde_json::Value;

use crate::engine::Call;
use crate::error::ScimError;
use crate::handlers;
use crate::request::{json_body, message};
use crate::response::{location_of, scim_json, version_of, Response};

const BULK_ID_PREFIX: &str = "bulkId:";

/// `POST /Bulk`.
pub(crate) async fn bulk<S: Store, A>(
    call: &Call<'_, S, A>,
    head: &Parts,
    body: &Bytes,
) -> Result<Response, ScimError> {
    let request: BulkRequest = message(json_body(head, body)?, "BulkRequest")?;
    let max = call.limits().max_bulk_operations;
    if request.operations.len() > max {
        return Err(ScimError::PayloadTooLarge(format!(
            "the request has {} operations; the maximum is {max}",
            request.operations.len()
        )));
    }
    let fail_on_errors = request
        .fail_on_errors
        .filter(|&n| n > 0)
        .map_or(usize::MAX, |n| n as usize);
    let results = run(call, request.operations, fail_on_errors).await;
    Ok(scim_json(StatusCode::OK, &BulkResponse::new(results)))
}

async fn run<S: Store, A>(
    call: &Call<'_, S, A>,
    operations: Vec<BulkOperation>,
    fail_on_errors: usize,
) -> Vec<BulkOperation> {
    let mut results: Vec<Option<BulkOperation>> = vec![None; operations.len()];
    // bulkId → the created resource's id, or None if its POST failed.
    let mut created: HashMap<String, Option<String>> = HashMap::new();
    let mut errors = 0;
    loop {
        let pending_posts: HashSet<&str> = operations
            .iter()
            .zip(&results)
            .filter(|(op, result)| result.is_none() && op.method == BulkMethod::Post)
            .filter_map(|(op, _)| op.bulk_id.as_deref())
            .collect();
        let mut progress = false;
        for (index, operation) in operations.iter().enumerate() {
            if results.get(index).is_some_and(Option::is_some) {
                continue;
            }
            let waits = references(operation).iter().any(|reference| {
                !created.contains_key(reference)
                    && pending_posts.contains(reference.as_str())
                    && operation.bulk_id.as_deref() != Some(reference.as_str())
            });
            if waits {
                continue;
            }
            // A run of creates of one type goes to the store in one call, when
            // no error limit asks to stop between them.
            let batch = if fail_on_errors == usize::MAX {
                post_run(call, &operations, &results, index)
            } else {
                Vec::new()
            };
            if batch.len() > 1 {
                let outcomes = execute_posts(call, &operations, &batch, &created).await;
                for (&at, outcome) in batch.iter().zip(outcomes) {
                    let result = report(&operations[at], outcome, &mut created);
                    if let Some(slot) = results.get_mut(at) {
                        *slot = Some(result);
                    }
                }
                progress = true;
                continue;
            }
            let outcome = execute(call, operation, &created).await;
            let result = report(operation, outcome, &mut created);
            if result.response.is_some() {
                errors += 1;
            }
            if let Some(slot) = results.get_mut(index) {
                *slot = Some(result);
            }
            progress = true;
            if errors >= fail_on_errors {
                return results.into_iter().flatten().collect();
            }
        }
        if !progress {
            break;
        }
    }
    // What is left waits on itself through a cycle of references.
    for (operation, slot) in operations.iter().zip(results.iter_mut()) {
        if slot.is_none() {
            let error = unresolved("the operation is part of a cycle of bulkId references");
            *slot = Some(report(operation, Err(error), &mut created));
        }
    }
    results.into_iter().flatten().collect()
}

/// The most creates sent to the store in one call.
const MAX_POST_RUN: usize = 500;

/// The indexes of the run of operations from `start` that can be created in one
/// store call: POSTs of one endpoint, not yet done, with no `bulkId` reference
/// in them (a reference may name a resource of the same run).
fn post_run<S: Store, A>(
    call: &Call<'_, S, A>,
    operations: &[BulkOperation],
    results: &[Option<BulkOperation>],
    start: usize,
) -> Vec<usize> {
    let Some(first) = operations.get(start).and_then(post_endpoint) else {
        return Vec::new();
    };
    if call.resource_type(first).is_err() {
        return Vec::new();
    }
    (start..operations.len())
        .take_while(|&at| {
            results.get(at).is_some_and(Option::is_none)
                && post_endpoint(&operations[at]) == Some(first)
                && operations[at].data.is_some()
                && references(&operations[at]).is_empty()
        })
        .take(MAX_POST_RUN)
        .collect()
}

/// The endpoint a POST creates in (`Users` of `/Users`); `None` for any other
/// operation.
fn post_endpoint(operation: &BulkOperation) -> Option<&str> {
    let path = operation.path.as_deref()?.trim_matches('/');
    (operation.method == BulkMethod::Post && !path.contains('/')).then_some(path)
}

/// The POSTs at `batch` (a [`post_run`]), created in one store call.
async fn execute_posts<S: Store, A>(
    call: &Call<'_, S, A>,
    operations: &[BulkOperation],
    batch: &[usize],
    created: &HashMap<String, Option<String>>,
) -> Vec<Result<(StatusCode, Option<Value>), ScimError>> {
    let endpoint = post_endpoint(&operations[batch[0]]).unwrap_or_default();
    let Ok(resource_type) = call.resource_type(endpoint) else {
        let missing = || ScimError::NotFound(format!("no endpoint /{endpoint}"));
        return batch.iter().map(|_| Err(missing())).collect();
    };
    let mut bodies = Vec::with_capacity(batch.len());
    for &at in batch {
        let data = operations[at].data.clone().unwrap_or_default();
        bodies.push(resolve_value(data, created).unwrap_or_default());
    }
    call.create_many(resource_type, bodies, &result_projection(resource_type))
        .await
        .into_iter()
        .map(|outcome| outcome.map(|resource| (StatusCode::CREATED, Some(resource))))
        .collect()
}

/// Turns an operation's outcome into its response entry, and remembers what a POST
/// created.
fn report(
    operation: &BulkOperation,
    outcome: Result<(StatusCode, Option<Value>), ScimError>,
    created: &mut HashMap<String, Option<String>>,
) -> BulkOperation {
    let mut result = BulkOperation {
        method: operation.method,
        bulk_id: operation.bulk_id.clone(),
        version: None,
        path: None,
        data: None,
        location: None,
        response: None,
        status: None,
    };
    let created_id = match outcome {
        Ok((status, resource)) => {
            result.status = Some(status.as_u16().to_string());
            if let Some(resource) = &resource {
                result.version = version_of(resource).map(str::to_owned);
                result.location = location_of(resource).map(str::to_owned);
            }
            resource.and_then(|r| r.get("id").and_then(Value::as_str).map(str::to_owned))
        }
        Err(error) => {
            result.status = Some(error.status().as_u16().to_string());
            result.response = serde_json::to_value(error.to_error_response()).ok();
            None
        }
    };
    if let (BulkMethod::Post, Some(bulk_id)) = (operation.method, &operation.bulk_id) {
        created.insert(bulk_id.clone(), created_id);
    }
    result
}

async fn execute<S: Store, A>(
    call: &Call<'_, S, A>,
    operation: &BulkOperation,
    created: &HashMap<String, Option<String>>,
) -> Result<(StatusCode, Option<Value>), ScimError> {
    let path = operation
        .path
        .as_deref()
        .ok_or_else(|| ScimError::invalid_syntax("a bulk operation needs a `path`"))?;
    let path = resolve_text(path, created)?;
    let mut segments = path.trim_matches('/').splitn(2, '/');
    let endpoint = segments.next().unwrap_or_default();
    let id = segments.next();
    let resource_type = call.resource_type(endpoint)?;
    let data = || -> Result<Value, ScimError> {
        let data = operation
            .data
            .clone()
            .ok_or_else(|| ScimError::invalid_syntax("the operation needs `data`"))?;
        resolve_value(data, created)
    };
    let version = operation.version.as_deref();
    let projection = result_projection(resource_type);
    let need_id = || {
        id.ok_or_else(|| {
            ScimError::invalid_syntax(format!(
                "{} needs a resource path such as /{endpoint}/<id>",
                operation.method.as_str()
            ))
        })
    };
    match operation.method {
        BulkMethod::Post => {
            if id.is_some() {
                return Err(ScimError::invalid_syntax(
                    "POST takes a resource type path such as /Users",
                ));
            }
            let resource = call.create(resource_type, data()?, &projection).await?;
            Ok((StatusCode::CREATED, Some(resource)))
        }
        BulkMethod::Put => {
            let resource = call
                .replace(resource_type, need_id()?, data()?, version, &projection)
                .await?;
            Ok((StatusCode::OK, Some(resource)))
        }
        BulkMethod::Patch => {
            let resource = call
                .patch(resource_type, need_id()?, data()?, version, &projection)
                .await?;
            Ok((StatusCode::OK, Some(resource)))
        }
        BulkMethod::Delete => {
            call.delete(resource_type, need_id()?, version).await?;
            Ok((StatusCode::NO_CONTENT, None))
        }
    }
}

/// What a written resource is read with for its result, which holds only its
/// id, version and location: a group's members are left out.
fn result_projection(resource_type: &ResourceType) -> Projection {
    if handlers::has_members(resource_type) {
        handlers::without_members()
    } else {
        Projection::default()
    }
}

/// The bulkIds an operation references, in its path or data.
fn references(operation: &BulkOperation) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(path) = &operation.path {
        found.extend(
            path.split('/')
                .filter_map(bulk_reference)
                .map(str::to_owned),
        );
    }
    if let Some(data) = &operation.data {
        collect_references(data, &mut found);
    }
    found
}

fn collect_references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::String(text) => found.extend(bulk_reference(text).map(str::to_owned)),
        Value::Array(items) => items
            .iter()
            .for_each(|item| collect_references(item, found)),
        Value::Object(fields) => fields
            .values()
            .for_each(|item| collect_references(item, found)),
        _ => {}
    }
}

fn bulk_reference(text: &str) -> Option<&str> {
    text.strip_prefix(BULK_ID_PREFIX)
        .filter(|id| !id.is_empty())
}

fn unresolved(detail: impl Into<String>) -> ScimError {
    ScimError::UnresolvedReference(detail.into())
}

fn resolve_id(
    reference: &str,
    created: &HashMap<String, Option<String>>,
) -> Result<String, ScimError> {
    match created.get(reference) {
        Some(Some(id)) => Ok(id.clone()),
        Some(None) => Err(unresolved(format!(
            "bulkId:{reference} refers to an operation that failed"
        ))),
        None => Err(unresolved(format!(
            "bulkId:{reference} does not name a POST of this request"
        ))),
    }
}

fn resolve_text(
    path: &str,
    created: &HashMap<String, Option<String>>,
) -> Result<String, ScimError> {
    path.split('/')
        .map(|segment| match bulk_reference(segment) {
            Some(reference) => resolve_id(reference, created),
            None => Ok(segment.to_owned()),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(|segments| segments.join("/"))
}

fn resolve_value(
    value: Value,
    created: &HashMap<String, Option<String>>,
) -> Result<Value, ScimError> {
    Ok(match value {
        Value::String(text) => match bulk_reference(&text) {
            Some(reference) => Value::String(resolve_id(reference, created)?),
            None => Value::String(text),
        },
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| resolve_value(item, created))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(name, item)| Ok((name, resolve_value(item, created)?)))
                .collect::<Result<_, ScimError>>()?,
        ),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_are_found_in_paths_and_data() {
        let operation: BulkOperation = serde_json::from_value(json!({
            "method": "PATCH", "path": "/Groups/bulkId:g1",
            "data": {"Operations": [{"op": "add", "path": "members", "value": [{"value": "bulkId:u1"}]}]}
        }))
        .unwrap();
        assert_eq!(references(&operation), ["g1", "u1"]);
    }

    #[test]
    fn references_resolve_to_created_ids() {
        let created = HashMap::from([
            ("u1".to_owned(), Some("42".to_owned())),
            ("bad".to_owned(), None),
        ]);
        assert_eq!(
            resolve_text("/Users/bulkId:u1", &created).unwrap(),
            "/Users/42"
        );
        assert_eq!(
            resolve_value(json!({"members": [{"value": "bulkId:u1"}]}), &created).unwrap(),
            json!({"members": [{"value": "42"}]})
        );
        assert!(resolve_text("/Users/bulkId:bad", &created).is_err());
        assert!(resolve_text("/Users/bulkId:nope", &created).is_err());
    }
}
