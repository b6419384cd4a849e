//! [`Store`] for [`DieselStore`]: each call is one transaction on a blocking thread.

use scimitar_schema::{Mode, ValidationError};
use scimitar_store::meta::{self, ResourceMeta};
use scimitar_store::{
    ChangeEvent, NewEvent, Page, PatchRequest, Projection, Query, Scope, Store, StoreError,
};
use serde_json::Value;

use crate::connection::{Conn, Pools};
use crate::error::Failure;
use crate::rows::{self, ResourceRow, GROUP};
use crate::schema_ops::{self, Ctx, MemberChange};
use crate::time::{from_nanos, to_nanos};
use crate::DieselStore;

impl Store for DieselStore {
    async fn create(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        resource: Value,
    ) -> Result<Value, StoreError> {
        let (ctx, resource_type) = (Ctx::of(scope), resource_type.to_owned());
        self.blocking(move |pools| create(pools, &ctx, &resource_type, resource))
            .await
    }

    async fn get(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        id: &str,
        projection: &Projection,
    ) -> Result<Value, StoreError> {
        let (ctx, resource_type, id) = (Ctx::of(scope), resource_type.to_owned(), id.to_owned());
        let projection = projection.clone();
        self.blocking(move |pools| {
            let resource_type = ctx.resource_type(&resource_type)?;
            pools.with_conn(|conn| {
                let row = rows::get(conn, &ctx.tenant, &resource_type, &id)?;
                view(conn, &ctx, &row, &projection)
            })
        })
        .await
    }

    async fn replace(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        id: &str,
        resource: Value,
        expected_version: Option<&str>,
    ) -> Result<Value, StoreError> {
        let (ctx, resource_type, id) = (Ctx::of(scope), resource_type.to_owned(), id.to_owned());
        let expected = expected_version.map(str::to_owned);
        self.blocking(move |pools| {
            let resource_type = ctx.resource_type(&resource_type)?;
            pools.write(|conn| {
                rows::lock_tenant(conn, &ctx.tenant)?;
                let row = rows::get(conn, &ctx.tenant, &resource_type, &id)?;
                check_version(&row, expected.as_deref())?;
                let existing = row.resource(None)?;
                let mode = Mode::Replace {
                    existing: &existing,
                };
                let (body, member_ids) = prepare(&ctx, &resource_type, &resource, mode)?;
                let members = if resource_type == GROUP {
                    MemberChange::Set(member_ids)
                } else {
                    MemberChange::Keep
                };
                write(conn, &ctx, &row, body, members)?;
                let row = rows::get(conn, &ctx.tenant, &resource_type, &id)?;
                view(conn, &ctx, &row, &Projection::default())
            })
        })
        .await
    }

    async fn patch(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        id: &str,
        request: &PatchRequest,
        expected_version: Option<&str>,
        projection: &Projection,
    ) -> Result<Value, StoreError> {
        let (ctx, resource_type, id) = (Ctx::of(scope), resource_type.to_owned(), id.to_owned());
        let (request, projection) = (request.clone(), projection.clone());
        let expected = expected_version.map(str::to_owned);
        self.blocking(move |pools| {
            let resource_type = ctx.resource_type(&resource_type)?;
            pools.write(|conn| {
                rows::lock_tenant(conn, &ctx.tenant)?;
                let row = rows::get(conn, &ctx.tenant, &resource_type, &id)?;
                check_version(&row, expected.as_deref())?;
                // A group is patched without its members: the patcher reports the
                // member delta, applied to the membership table.
                let current = row.resource(None)?;
                let patched = match schema_ops::apply_patch(
                    &ctx,
                    &resource_type,
                    &current,
                    &request,
                    false,
                ) {
                    // Only a path selecting members by something else than their
                    // id needs the list.
                    Err(error) if schema_ops::needs_member_list(&error) => {
                        let members = rows::member_objects(conn, row.pk)?;
                        let current = row.resource(Some(members))?;
                        schema_ops::apply_patch(&ctx, &resource_type, &current, &request, true)?
                    }
                    other => other?,
                };
                let mut body = patched.resource;
                meta::strip_store_owned(&mut body);
                refuse_nul(&body)?;
                let members = if resource_type == GROUP {
                    patched.members
                } else {
                    MemberChange::Keep
                };
                write(conn, &ctx, &row, body, members)?;
                let row = rows::get(conn, &ctx.tenant, &resource_type, &id)?;
                view(conn, &ctx, &row, &projection)
            })
        })
        .await
    }

    async fn delete(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        id: &str,
        expected_version: Option<&str>,
    ) -> Result<(), StoreError> {
        let (ctx, resource_type, id) = (Ctx::of(scope), resource_type.to_owned(), id.to_owned());
        let expected = expected_version.map(str::to_owned);
        self.blocking(move |pools| {
            let resource_type = ctx.resource_type(&resource_type)?;
            pools.write(|conn| {
                rows::lock_tenant(conn, &ctx.tenant)?;
                let row = rows::get(conn, &ctx.tenant, &resource_type, &id)?;
                check_version(&row, expected.as_deref())?;
                let at = meta::now();
                let at_nanos = to_nanos(at)?;
                let mut events = vec![NewEvent::deleted(
                    &resource_type,
                    &id,
                    &payload(&ctx, &row.resource(None)?, &resource_type),
                )];
                // Leaving its groups changes them (rule 9).
                let leaving = [id.clone()];
                for (group_pk, group_id) in rows::groups_of(conn, row.pk)? {
                    rows::touch(conn, group_pk, at_nanos)?;
                    events.push(NewEvent::members_removed(&group_id, &leaving));
                }
                rows::delete(conn, &ctx.tenant, &row)?;
                rows::record_events(conn, &ctx.tenant, events, at_nanos)
            })
        })
        .await
    }

    async fn query(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        query: &Query,
    ) -> Result<Page, StoreError> {
        let (ctx, resource_type, query) = (Ctx::of(scope), resource_type.to_owned(), query.clone());
        self.blocking(move |pools| crate::query::run(pools, &ctx, &resource_type, &query))
            .await
    }

    async fn add_members(
        &self,
        scope: &Scope<'_>,
        group_id: &str,
        members: &[String],
    ) -> Result<String, StoreError> {
        self.change_members(
            scope,
            group_id,
            |ids| MemberChange::Delta {
                add: ids,
                remove: Vec::new(),
            },
            members,
        )
        .await
    }

    async fn remove_members(
        &self,
        scope: &Scope<'_>,
        group_id: &str,
        members: &[String],
    ) -> Result<String, StoreError> {
        self.change_members(
            scope,
            group_id,
            |ids| MemberChange::Delta {
                add: Vec::new(),
                remove: ids,
            },
            members,
        )
        .await
    }

    async fn events(
        &self,
        scope: &Scope<'_>,
        after: u64,
        limit: usize,
    ) -> Result<Vec<ChangeEvent>, StoreError> {
        let tenant = scope.tenant.to_owned();
        self.blocking(move |pools| {
            pools.with_conn(|conn| rows::events(conn, &tenant, after, limit))
        })
        .await
    }
}

impl DieselStore {
    async fn change_members(
        &self,
        scope: &Scope<'_>,
        group_id: &str,
        change: fn(Vec<String>) -> MemberChange,
        members: &[String],
    ) -> Result<String, StoreError> {
        let (ctx, group_id, members) = (Ctx::of(scope), group_id.to_owned(), members.to_vec());
        self.blocking(move |pools| {
            pools.write(|conn| {
                rows::lock_tenant(conn, &ctx.tenant)?;
                let row = rows::get(conn, &ctx.tenant, GROUP, &group_id)?;
                let body = row.body()?;
                write(conn, &ctx, &row, body, change(members))?;
                rows::version_of(conn, row.pk)
            })
        })
        .await
    }
}

fn create(
    pools: &Pools,
    ctx: &Ctx,
    resource_type: &str,
    resource: Value,
) -> Result<Value, Failure> {
    let resource_type = ctx.resource_type(resource_type)?;
    let (body, member_ids) = prepare(ctx, &resource_type, &resource, Mode::Create)?;
    pools.write(|conn| {
        rows::lock_tenant(conn, &ctx.tenant)?;
        let members = rows::member_refs(conn, &ctx.tenant, &member_ids)?;
        if let Some(holder) = rows::user_name_holder(conn, &ctx.tenant, &resource_type, &body)? {
            // A retried create (Entra ID after its timeout) gets the user it made.
            return if ctx.policy.idempotent_create_retry && is_same_user(&holder, &body)? {
                view(conn, ctx, &holder, &Projection::default())
            } else {
                Err(StoreError::Uniqueness {
                    attribute: "userName".into(),
                }
                .into())
            };
        }
        let id = meta::new_id();
        let at = meta::now();
        let at_nanos = to_nanos(at)?;
        let pk = rows::insert(conn, &ctx.tenant, &resource_type, &id, &body, at_nanos)?;
        let added = rows::add_members(conn, pk, &members)?;
        let row = rows::get(conn, &ctx.tenant, &resource_type, &id)?;
        let mut events = vec![NewEvent::created(
            &resource_type,
            &id,
            &payload(ctx, &row.resource(None)?, &resource_type),
        )];
        events.extend(member_events(&id, &added, &[]));
        rows::record_events(conn, &ctx.tenant, events, at_nanos)?;
        view(conn, ctx, &row, &Projection::default())
    })
}

/// Refuses text with a NUL character, which PostgreSQL cannot store: the same
/// answer on every backend.
fn refuse_nul(body: &Value) -> Result<(), StoreError> {
    fn find(value: &Value, path: &str) -> Option<String> {
        match value {
            Value::String(text) if text.contains('\0') => Some(path.to_owned()),
            Value::Array(items) => items.iter().find_map(|item| find(item, path)),
            Value::Object(fields) => fields.iter().find_map(|(name, value)| {
                if name.contains('\0') {
                    return Some(path.to_owned());
                }
                let inner = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                find(value, &inner)
            }),
            _ => None,
        }
    }
    match find(body, "") {
        Some(path) => Err(ValidationError::WrongType {
            path,
            expected: "text without NUL characters",
            found: "text with a NUL character",
        }
        .into()),
        None => Ok(()),
    }
}

/// Whether the stored user has every attribute of `body` with the same value.
fn is_same_user(stored: &ResourceRow, body: &Value) -> Result<bool, Failure> {
    let stored = stored.body()?;
    Ok(match (body.as_object(), stored.as_object()) {
        (Some(body), Some(stored)) => body
            .iter()
            .all(|(name, value)| stored.get(name) == Some(value)),
        _ => false,
    })
}

/// Validates a create or replace body and splits off a group's member ids.
fn prepare(
    ctx: &Ctx,
    resource_type: &str,
    resource: &Value,
    mode: Mode<'_>,
) -> Result<(Value, Vec<String>), StoreError> {
    let mut body = schema_ops::validate(ctx, resource_type, resource, mode)?;
    meta::strip_store_owned(&mut body);
    refuse_nul(&body)?;
    let members = if resource_type == GROUP {
        schema_ops::take_member_ids(&mut body)?
    } else {
        Vec::new()
    };
    Ok((body, members))
}

fn check_version(row: &ResourceRow, expected: Option<&str>) -> Result<(), StoreError> {
    match expected {
        Some(expected) if !meta::version_matches(expected, &row.version_tag()) => {
            Err(StoreError::VersionMismatch {
                current: row.version_tag(),
            })
        }
        _ => Ok(()),
    }
}

/// The write shared by replace, patch and the member calls: a write that changes
/// nothing leaves no trace (rule 5).
fn write(
    conn: &mut Conn<'_>,
    ctx: &Ctx,
    row: &ResourceRow,
    body: Value,
    members: MemberChange,
) -> Result<(), Failure> {
    let (to_add, to_remove) = match members {
        MemberChange::Keep => (Vec::new(), Vec::new()),
        MemberChange::Set(ids) => {
            let wanted = rows::member_refs(conn, &ctx.tenant, &ids)?;
            let wanted_ids: std::collections::HashSet<&str> =
                wanted.iter().map(|(_, id)| id.as_str()).collect();
            let to_remove = rows::member_ids(conn, row.pk)?
                .into_iter()
                .filter(|id| !wanted_ids.contains(id.as_str()))
                .collect();
            (wanted, to_remove)
        }
        MemberChange::Delta { add, remove } => {
            (rows::member_refs(conn, &ctx.tenant, &add)?, remove)
        }
    };
    let body_changed = row.body()? != body;
    let removed = rows::remove_members(conn, &ctx.tenant, row.pk, &to_remove)?;
    let added = rows::add_members(conn, row.pk, &to_add)?;
    if !body_changed && added.is_empty() && removed.is_empty() {
        return Ok(());
    }
    let at = meta::now();
    let at_nanos = to_nanos(at)?;
    let mut events = Vec::new();
    if body_changed {
        let before = payload(ctx, &row.resource(None)?, &row.resource_type);
        rows::update_body(conn, row, &body, at_nanos)?;
        let meta = ResourceMeta {
            resource_type: row.resource_type.clone(),
            created: from_nanos(row.created)?,
            last_modified: at,
            version: meta::version_tag(u64::try_from(row.version + 1).unwrap_or_default()),
        };
        let after = payload(ctx, &meta::stamp(body, &row.id, &meta), &row.resource_type);
        events.push(NewEvent::updated(
            &row.resource_type,
            &row.id,
            &before,
            &after,
        ));
    } else {
        rows::touch(conn, row.pk, at_nanos)?;
    }
    events.extend(member_events(&row.id, &added, &removed));
    rows::record_events(conn, &ctx.tenant, events, at_nanos)
}

/// A resource as an event carries it: as a client reads it (never `password`).
fn payload(ctx: &Ctx, resource: &Value, resource_type: &str) -> Value {
    schema_ops::project(ctx, resource_type, resource, &Projection::default())
}

/// The events of a group's membership delta.
fn member_events(group_id: &str, added: &[String], removed: &[String]) -> Vec<NewEvent> {
    let mut events = Vec::new();
    if !added.is_empty() {
        events.push(NewEvent::members_added(group_id, added));
    }
    if !removed.is_empty() {
        events.push(NewEvent::members_removed(group_id, removed));
    }
    events
}

/// A row as a client sees it: members read only if the projection returns them.
fn view(
    conn: &mut Conn<'_>,
    ctx: &Ctx,
    row: &ResourceRow,
    projection: &Projection,
) -> Result<Value, Failure> {
    let members = if schema_ops::returns_members(ctx, &row.resource_type, projection) {
        Some(rows::member_objects(conn, row.pk)?)
    } else {
        None
    };
    let resource = row.resource(members)?;
    Ok(schema_ops::project(
        ctx,
        &row.resource_type,
        &resource,
        projection,
    ))
}
