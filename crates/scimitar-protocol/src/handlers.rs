//! The resource endpoints (RFC 7644 §3.2–§3.6): thin adapters from a request to
//! the operations of [`Call`], which `/Bulk` reuses.

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::request::Parts;
use http::{Method, StatusCode};
use scimitar_filter::ast::AttrPath;
use scimitar_schema::{ListResponse, PatchRequest, ResourceType, SearchRequest};
use scimitar_store::write::GROUP_TYPE;
use scimitar_store::{Page, Paging, Projection, Query, Store, StoreError};
use serde_json::Value;

use crate::engine::Call;
use crate::error::ScimError;
use crate::observe::{create_subject, patch_summary, Notes};
use crate::password;
use crate::request::{
    if_match, if_none_match, json_body, message, none_match_hits, query_pairs, query_projection,
    ListRequest,
};
use crate::response::{
    empty, no_content_with_version, resource_response, scim_json, set_location, set_references,
    version_of, PatchAnswer, Response,
};

/// `GET /{endpoint}`: list and filter.
pub(crate) async fn list<S: Store, A>(
    call: &Call<'_, S, A>,
    head: &Parts,
    endpoint: &str,
) -> Result<Response, ScimError> {
    let request = ListRequest::from_query(&query_pairs(head)?)?;
    list_of(call, endpoint, request).await
}

/// `POST /{endpoint}/.search`.
pub(crate) async fn search<S: Store, A>(
    call: &Call<'_, S, A>,
    head: &Parts,
    body: &Bytes,
    endpoint: &str,
) -> Result<Response, ScimError> {
    let search: SearchRequest = message(json_body(head, body)?, "SearchRequest")?;
    list_of(call, endpoint, ListRequest::from_search(search)).await
}

async fn list_of<S: Store, A>(
    call: &Call<'_, S, A>,
    endpoint: &str,
    request: ListRequest,
) -> Result<Response, ScimError> {
    let resource_type = call.resource_type(endpoint)?;
    let mut query = request.to_query(call.limits())?;
    // The client holds sealed cursors; the store sees its own.
    let cursors = &call.shared.cursors;
    let binding = crate::cursor::binding(&call.principal.tenant, &resource_type.name, &query);
    if let Paging::Cursor {
        cursor: Some(cursor),
        ..
    } = &mut query.paging
    {
        *cursor = cursors.open(cursor, &binding)?;
    }
    let mut page = call.query(resource_type, &query).await?;
    let timeout = std::time::Duration::from_secs(call.limits().cursor_timeout_seconds);
    page.next_cursor = page
        .next_cursor
        .map(|cursor| cursors.seal(&cursor, &binding, timeout));
    Ok(list_response(page))
}

/// `POST /.search`: every resource type at once (RFC 7644 §3.4.3), index paging
/// only. A filter naming an attribute one resource type lacks matches nothing of
/// that type; it is an error only if no resource type can evaluate it.
pub(crate) async fn search_all<S: Store, A>(
    call: &Call<'_, S, A>,
    head: &Parts,
    body: &Bytes,
) -> Result<Response, ScimError> {
    let search: SearchRequest = message(json_body(head, body)?, "SearchRequest")?;
    let request = ListRequest::from_search(search);
    if request.is_cursor() {
        return Err(ScimError::invalid_value(
            "cursor paging is not offered for a search across resource types; search one resource type",
        ));
    }
    let query = request.to_query(call.limits())?;
    let (start_index, count) = match query.paging {
        Paging::Index { start_index, count } => (start_index.max(1), count),
        Paging::Cursor { count, .. } => (1, count),
    };
    // First the totals per type, then the window [start_index, start_index + count)
    // across the types in registry order.
    let mut totals = Vec::new();
    let mut last_error = None;
    for resource_type in call.context.registry.resource_types() {
        let counting = with_paging(&query, 1, 0);
        match call.query(resource_type, &counting).await {
            Ok(page) => totals.push((resource_type, page.total_results)),
            Err(error @ ScimError::Store(StoreError::InvalidFilter(_))) => last_error = Some(error),
            Err(error) => return Err(error),
        }
    }
    if totals.is_empty() {
        if let Some(error) = last_error {
            return Err(error);
        }
    }
    let total: usize = totals.iter().map(|(_, n)| n).sum();
    let mut resources = Vec::new();
    let mut skip = start_index - 1;
    for (resource_type, type_total) in totals {
        if resources.len() >= count {
            break;
        }
        if skip >= type_total {
            skip -= type_total;
            continue;
        }
        let window = with_paging(&query, skip + 1, count - resources.len());
        resources.extend(call.query(resource_type, &window).await?.resources);
        skip = 0;
    }
    Ok(list_response(Page::index(resources, total, start_index)))
}

fn with_paging(query: &Query, start_index: usize, count: usize) -> Query {
    let mut query = query.clone();
    query.paging = Paging::Index { start_index, count };
    query
}

/// `POST /{endpoint}`: create (201 with `Location` and `ETag`).
pub(crate) async fn create<S: Store, A>(
    call: &Call<'_, S, A>,
    head: &Parts,
    body: &Bytes,
    endpoint: &str,
    notes: &mut Notes,
) -> Result<Response, ScimError> {
    let resource_type = call.resource_type(endpoint)?;
    let projection = query_projection(head, call.limits())?;
    let body = json_body(head, body)?;
    notes.create_subject = create_subject(&body);
    let resource = call.create(resource_type, body, &projection).await?;
    Ok(resource_response(StatusCode::CREATED, &resource))
}

/// A `GET` of one resource, for `/{endpoint}/{id}` and `/Me`, with
/// `If-None-Match` (304).
pub(crate) async fn get_one<S: Store, A>(
    call: &Call<'_, S, A>,
    head: &Parts,
    resource_type: &ResourceType,
    id: &str,
) -> Result<Response, ScimError> {
    let projection = query_projection(head, call.limits())?;
    let resource = call.get(resource_type, id, &projection).await?;
    if let (Some(wanted), Some(version)) = (if_none_match(head), version_of(&resource)) {
        if none_match_hits(&wanted, version) {
            let mut response = empty(StatusCode::NOT_MODIFIED);
            if let Ok(version) = HeaderValue::from_str(version) {
                response.headers_mut().insert(header::ETAG, version);
            }
            return Ok(response);
        }
    }
    Ok(resource_response(StatusCode::OK, &resource))
}

/// The writes to an existing resource.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Write {
    Replace,
    Patch,
}

/// A replace (`PUT`) or patch of one resource, for `/{endpoint}/{id}` and `/Me`,
/// with `If-Match` (412): 200 with the resource, projected by `attributes`.
pub(crate) async fn write_one<S: Store, A>(
    call: &Call<'_, S, A>,
    head: &Parts,
    body: &Bytes,
    resource_type: &ResourceType,
    id: &str,
    write: Write,
    notes: &mut Notes,
) -> Result<Response, ScimError> {
    let projection = query_projection(head, call.limits())?;
    let body = json_body(head, body)?;
    let if_match = if_match(head);
    let resource = match write {
        Write::Replace => {
            call.replace(resource_type, id, body, if_match.as_deref(), &projection)
                .await?
        }
        Write::Patch => {
            notes.patch_summary = patch_summary(&body);
            let no_content = call.answers_patch_without_content(resource_type, &projection);
            // An answer without content shows no members: the store builds none.
            let projection = if no_content {
                without_members()
            } else {
                projection
            };
            let written = call
                .patch(resource_type, id, body, if_match.as_deref(), &projection)
                .await?;
            if no_content {
                return Ok(no_content_with_version(&written));
            }
            written
        }
    };
    Ok(resource_response(StatusCode::OK, &resource))
}

/// A `DELETE` of one resource, for `/{endpoint}/{id}` and `/Me`: 204.
pub(crate) async fn delete_one<S: Store, A>(
    call: &Call<'_, S, A>,
    head: &Parts,
    resource_type: &ResourceType,
    id: &str,
) -> Result<Response, ScimError> {
    call.delete(resource_type, id, if_match(head).as_deref())
        .await?;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// `/Me` (RFC 7644 §3.11), with `below` the path after `/Me`. A principal bound
/// to a user ([`Principal::user`](crate::Principal::user)) reaches that user:
/// `GET`, `PUT`, `PATCH` and `DELETE` are those of `/Users/{id}`, through the same
/// code, and every answer carries the user's permanent `Location` (the body's
/// `meta.location` is that URL too). `POST /Me` is 501. Unbound principals
/// (provisioning clients) get 501; a bound user that no longer exists is 404.
pub(crate) async fn me<S: Store, A>(
    call: &Call<'_, S, A>,
    head: &Parts,
    body: &Bytes,
    below: &str,
    notes: &mut Notes,
) -> Result<Response, ScimError> {
    let Some(user) = call.principal.user.as_deref() else {
        return Err(ScimError::NotImplemented(
            "/Me is not available: this credential is not bound to a user".into(),
        ));
    };
    let Some(resource_type) = call.context.registry.resource_type("User") else {
        return Err(ScimError::NotImplemented(
            "/Me is not available: this service has no User resource type".into(),
        ));
    };
    // Every answer, errors included, names the user's permanent URL.
    notes.location = Some(format!(
        "{}/{}/{user}",
        call.base_url,
        resource_type.endpoint.trim_matches('/')
    ));
    match me_operation(call, head, body, below, resource_type, user, notes).await {
        Err(ScimError::Store(StoreError::NotFound { id, .. })) if id == user => {
            Err(ScimError::NotFound(format!(
                "the user {user} this credential is bound to does not exist in tenant {}",
                call.principal.tenant
            )))
        }
        other => other,
    }
}

/// `/Me` as the operation on the bound `user`'s `/Users/{id}`.
async fn me_operation<S: Store, A>(
    call: &Call<'_, S, A>,
    head: &Parts,
    body: &Bytes,
    below: &str,
    resource_type: &ResourceType,
    user: &str,
    notes: &mut Notes,
) -> Result<Response, ScimError> {
    if !below.trim_start_matches('/').is_empty() {
        return Err(ScimError::NotFound(format!(
            "no endpoint {}",
            head.uri.path()
        )));
    }
    let method = &head.method;
    if [Method::GET, Method::PUT, Method::PATCH, Method::DELETE].contains(method) {
        // Observers name the user's resource, not `/Me`.
        notes.aliased = Some((
            resource_type.endpoint.trim_matches('/').to_owned(),
            user.to_owned(),
        ));
    }
    match *method {
        Method::GET => get_one(call, head, resource_type, user).await,
        Method::PUT => {
            write_one(call, head, body, resource_type, user, Write::Replace, notes).await
        }
        Method::PATCH => {
            write_one(call, head, body, resource_type, user, Write::Patch, notes).await
        }
        Method::DELETE => delete_one(call, head, resource_type, user).await,
        Method::POST => Err(ScimError::NotImplemented(
            "POST /Me is not supported: this credential's user exists already \
             (PUT or PATCH /Me changes it; POST /Users creates users)"
                .into(),
        )),
        _ => Err(ScimError::MethodNotAllowed(method.to_string())),
    }
}

/// A `ListResponse` of a store page.
pub(crate) fn list_response(page: Page) -> Response {
    let mut body = ListResponse::new(page.resources, page.total_results as u64, 1);
    body.start_index = page.start_index.map(|index| index as u64);
    body.next_cursor = page.next_cursor;
    scim_json(StatusCode::OK, &body)
}

/// Whether resources of `resource_type` hold a member list (the store's groups,
/// whose members it keeps apart: store rule 16).
pub(crate) fn has_members(resource_type: &ResourceType) -> bool {
    resource_type.name == GROUP_TYPE
}

/// The projection of a write whose answer shows no members (a 204, a `/Bulk`
/// result): the store then builds no member list.
pub(crate) fn without_members() -> Projection {
    Projection {
        attributes: Vec::new(),
        excluded_attributes: vec![AttrPath::new("members")],
    }
}

/// The SCIM operations, shared by the endpoints and `/Bulk`. Each returns resources
/// with `meta.location` set.
impl<S: Store, A> Call<'_, S, A> {
    fn locate(&self, resource_type: &ResourceType, mut resource: Value) -> Value {
        set_location(&mut resource, self.base_url, &resource_type.endpoint);
        set_references(&mut resource, self.base_url, &self.context.registry);
        resource
    }

    /// Whether a PATCH of `resource_type` asking for `projection` answers 204
    /// ([`PatchAnswer`]).
    fn answers_patch_without_content(
        &self,
        resource_type: &ResourceType,
        projection: &Projection,
    ) -> bool {
        self.shared.patch_answer == PatchAnswer::NoContentForGroups
            && has_members(resource_type)
            && projection.is_default()
    }

    /// Re-reads a written resource when the client asked for a projection.
    async fn projected(
        &self,
        resource_type: &ResourceType,
        written: Value,
        projection: &Projection,
    ) -> Result<Value, ScimError> {
        let unprojected =
            projection.attributes.is_empty() && projection.excluded_attributes.is_empty();
        let resource = match written.get("id").and_then(Value::as_str) {
            Some(id) if !unprojected => self.get(resource_type, id, projection).await?,
            _ => written,
        };
        Ok(self.locate(resource_type, resource))
    }

    pub(crate) async fn query(
        &self,
        resource_type: &ResourceType,
        query: &Query,
    ) -> Result<Page, ScimError> {
        let mut page = self
            .shared
            .store
            .query(&self.scope(), &resource_type.name, query)
            .await?;
        for resource in &mut page.resources {
            set_location(resource, self.base_url, &resource_type.endpoint);
            set_references(resource, self.base_url, &self.context.registry);
        }
        Ok(page)
    }

    pub(crate) async fn get(
        &self,
        resource_type: &ResourceType,
        id: &str,
        projection: &Projection,
    ) -> Result<Value, ScimError> {
        let resource = self
            .shared
            .store
            .get(&self.scope(), &resource_type.name, id, projection)
            .await?;
        Ok(self.locate(resource_type, resource))
    }

    pub(crate) async fn create(
        &self,
        resource_type: &ResourceType,
        body: Value,
        projection: &Projection,
    ) -> Result<Value, ScimError> {
        let body = password::hash_user_body(resource_type, body).await?;
        // A create an identity provider retries after a timeout returns the
        // resource the first one made (rule 10), answered as the first was: 201.
        let created = self
            .shared
            .store
            .create_or_existing(&self.scope(), &resource_type.name, body)
            .await?;
        if !created.is_new() {
            log::info!(
                "tenant {}: a repeated create of {} returned the existing resource",
                self.principal.tenant,
                resource_type.name
            );
        }
        self.projected(resource_type, created.into_resource(), projection)
            .await
    }

    /// Creates resources of one type in one store call ([`Store::create_many`]),
    /// each with its own outcome, as [`Call::create`] would give it.
    pub(crate) async fn create_many(
        &self,
        resource_type: &ResourceType,
        bodies: Vec<Value>,
        projection: &Projection,
    ) -> Vec<Result<Value, ScimError>> {
        let mut outcomes: Vec<Option<Result<Value, ScimError>>> = Vec::with_capacity(bodies.len());
        let mut hashed = Vec::with_capacity(bodies.len());
        for body in bodies {
            match password::hash_user_body(resource_type, body).await {
                Ok(body) => {
                    hashed.push(body);
                    outcomes.push(None);
                }
                Err(error) => outcomes.push(Some(Err(error))),
            }
        }
        let created = self
            .shared
            .store
            .create_many(&self.scope(), &resource_type.name, hashed)
            .await;
        let mut created = created.into_iter();
        let mut results = Vec::with_capacity(outcomes.len());
        for outcome in outcomes {
            let result = match outcome {
                Some(refused) => refused,
                None => match created.next() {
                    Some(Ok(resource)) => {
                        self.projected(resource_type, resource.into_resource(), projection)
                            .await
                    }
                    Some(Err(error)) => Err(error.into()),
                    None => Err(ScimError::Store(StoreError::Backend(
                        "the store returned fewer outcomes than creates".into(),
                    ))),
                },
            };
            results.push(result);
        }
        results
    }

    pub(crate) async fn replace(
        &self,
        resource_type: &ResourceType,
        id: &str,
        body: Value,
        if_match: Option<&str>,
        projection: &Projection,
    ) -> Result<Value, ScimError> {
        let body = password::hash_user_body(resource_type, body).await?;
        let replaced = self
            .shared
            .store
            .replace(&self.scope(), &resource_type.name, id, body, if_match)
            .await?;
        self.projected(resource_type, replaced, projection).await
    }

    pub(crate) async fn patch(
        &self,
        resource_type: &ResourceType,
        id: &str,
        body: Value,
        if_match: Option<&str>,
        projection: &Projection,
    ) -> Result<Value, ScimError> {
        let request: PatchRequest = message(body, "PatchOp request")?;
        if request.operations.is_empty() {
            return Err(ScimError::invalid_value(
                "a PATCH request needs at least one operation",
            ));
        }
        let request = password::hash_user_patch(resource_type, request).await?;
        let resource = self
            .shared
            .store
            .patch(
                &self.scope(),
                &resource_type.name,
                id,
                &request,
                if_match,
                projection,
            )
            .await?;
        Ok(self.locate(resource_type, resource))
    }

    pub(crate) async fn delete(
        &self,
        resource_type: &ResourceType,
        id: &str,
        if_match: Option<&str>,
    ) -> Result<(), ScimError> {
        self.shared
            .store
            .delete(&self.scope(), &resource_type.name, id, if_match)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use scimitar_store::MemoryStore;
    use serde_json::{json, Value};

    use crate::{
        Authenticator, Credentials, Mount, PatchAnswer, Principal, Response, ScimEngine, ScimError,
    };

    struct AnyKey;

    impl Authenticator for AnyKey {
        async fn authenticate(&self, _: &Credentials<'_>) -> Result<Principal, ScimError> {
            Ok(Principal::new("acme", "test"))
        }
    }

    fn send(
        engine: &ScimEngine<MemoryStore, AnyKey>,
        method: &str,
        rest: &str,
        body: Value,
    ) -> Response {
        let request = http::Request::builder()
            .method(method)
            .uri(format!("http://app.example/scim/v2{rest}"))
            .header("authorization", "Bearer key")
            .header("content-type", "application/scim+json")
            .body(Bytes::from(if body.is_null() {
                String::new()
            } else {
                body.to_string()
            }))
            .unwrap();
        let path = rest.split('?').next().unwrap_or_default().to_owned();
        let mount = Mount {
            base_path: "/scim/v2".into(),
            rest: path,
            tenant: None,
        };
        futures_executor::block_on(engine.handle(request, mount))
    }

    fn body(response: &Response) -> Value {
        serde_json::from_slice(response.body()).unwrap()
    }

    /// A group with one member, and the PATCH that adds a second.
    fn group_and_member_add(engine: &ScimEngine<MemoryStore, AnyKey>) -> (String, Value) {
        let user = |name: &str| {
            let created = send(
                engine,
                "POST",
                "/Users",
                json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name}),
            );
            body(&created)["id"].as_str().unwrap().to_owned()
        };
        let (first, second) = (user("first"), user("second"));
        let group = send(
            engine,
            "POST",
            "/Groups",
            json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Sales", "members": [{"value": first}]}),
        );
        let group = body(&group)["id"].as_str().unwrap().to_owned();
        let add = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": second}]}]});
        (group, add)
    }

    #[test]
    fn group_patches_answer_204_with_the_new_version() {
        let engine = ScimEngine::new(MemoryStore::new(), AnyKey);
        let (group, add) = group_and_member_add(&engine);
        let patched = send(&engine, "PATCH", &format!("/Groups/{group}"), add);
        assert_eq!(patched.status(), 204);
        assert!(patched.body().is_empty());
        let read = send(&engine, "GET", &format!("/Groups/{group}"), Value::Null);
        assert_eq!(body(&read)["members"].as_array().unwrap().len(), 2);
        assert_eq!(patched.headers()["etag"], read.headers()["etag"]);
        assert_eq!(
            Some(patched.headers()["etag"].to_str().unwrap()),
            body(&read)["meta"]["version"].as_str()
        );
    }

    #[test]
    fn a_projection_or_the_resource_answer_gives_the_group_back() {
        let engine = ScimEngine::new(MemoryStore::new(), AnyKey);
        let (group, add) = group_and_member_add(&engine);
        let projected = send(
            &engine,
            "PATCH",
            &format!("/Groups/{group}?attributes=members"),
            add,
        );
        assert_eq!(projected.status(), 200);
        assert_eq!(body(&projected)["members"].as_array().unwrap().len(), 2);
        assert!(body(&projected).get("displayName").is_none());

        let engine =
            ScimEngine::new(MemoryStore::new(), AnyKey).patch_answer(PatchAnswer::Resource);
        let (group, add) = group_and_member_add(&engine);
        let whole = send(&engine, "PATCH", &format!("/Groups/{group}"), add);
        assert_eq!(whole.status(), 200);
        assert_eq!(body(&whole)["displayName"], "Sales");
        assert_eq!(body(&whole)["members"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn bulk_group_patches_give_the_new_version_and_location() {
        let engine = ScimEngine::new(MemoryStore::new(), AnyKey);
        let (group, add) = group_and_member_add(&engine);
        let bulk = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "Operations": [{"method": "PATCH", "path": format!("/Groups/{group}"), "data": add}]});
        let reply = send(&engine, "POST", "/Bulk", bulk);
        assert_eq!(reply.status(), 200);
        let result = &body(&reply)["Operations"][0];
        assert_eq!(result["status"], "200", "{result}");
        let read = send(&engine, "GET", &format!("/Groups/{group}"), Value::Null);
        assert_eq!(body(&read)["members"].as_array().unwrap().len(), 2);
        assert_eq!(result["version"], body(&read)["meta"]["version"]);
        assert_eq!(result["location"], body(&read)["meta"]["location"]);
    }

    #[test]
    fn user_patches_answer_the_user() {
        let engine = ScimEngine::new(MemoryStore::new(), AnyKey);
        let created = send(
            &engine,
            "POST",
            "/Users",
            json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bjensen"}),
        );
        let id = body(&created)["id"].as_str().unwrap().to_owned();
        let patched = send(
            &engine,
            "PATCH",
            &format!("/Users/{id}"),
            json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "displayName", "value": "Babs"}]}),
        );
        assert_eq!(patched.status(), 200);
        assert_eq!(body(&patched)["displayName"], "Babs");
    }
}
