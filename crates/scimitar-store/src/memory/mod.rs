//! [`MemoryStore`]: the reference implementation of [`Store`] and [`TenantStore`](crate::TenantStore).

mod evaluate;
mod hooks;
mod members;
mod order;
mod schema_ops;
mod teams;
mod tenants;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use scimitar_schema::Mode;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::derive;
use crate::event::{ChangeEvent, NewEvent};
use crate::hooks::MemoryOutbox;
use crate::meta::{self, ResourceMeta};
use crate::provisioning_log::MemoryLog;
use crate::query::{mentions_attribute, Page, Query};
use crate::schema::{PatchRequest, Projection};
use crate::state::MemoryState;
use crate::store::{
    Archived, Created, DirectoryStore, EventStore, MemberStore, Scope, Store, TeamsRebuilt,
};
use crate::write::{self, MemberChange, NewMember, GROUP_TYPE, USER_TYPE};
use crate::StoreError;

pub use evaluate::{evaluate_in_memory, IN_MEMORY_LIMIT};
use members::MemberList;
use order::SortSpec;

/// Keeps every tenant's resources and events, and the tenant directory, in memory.
///
/// It is the reference the contract kit is written against: simple rather than fast
/// (a query scans the resource type), and atomic: every call runs start to finish
/// under one mutex, so there are no lost updates and no uniqueness races. Use it in
/// tests, demos, and servers that may lose their data on restart.
///
/// It is also its own [`OutboxStore`](crate::hooks::OutboxStore) (as a
/// [`MemoryOutbox`] would be, and pruning its events) and
/// [`ProvisioningLog`](crate::provisioning_log::ProvisioningLog) (as a
/// [`MemoryLog`] keeping [`DEFAULT_RETENTION`](crate::provisioning_log::DEFAULT_RETENTION)
/// entries per tenant) and [`StateStore`](crate::state::StateStore), so one
/// `Arc<MemoryStore>` serves a `Dispatcher` (module [`hooks`](crate::hooks)), the
/// HTTP layer's log and the server's own documents.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    /// Consumers' checkpoints and leases, under a lock of their own: never held
    /// together with `state`'s.
    outbox: MemoryOutbox,
    log: MemoryLog,
    documents: MemoryState,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every operation checks everything before it mutates anything, so a state
        // poisoned by a panic elsewhere is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Debug, Default)]
struct State {
    tenants: HashMap<String, TenantData>,
    /// Creation counter shared by all tenants: gives the stable query order.
    last_position: u64,
    /// Event sequence shared by all tenants, so `seq` is unique store-wide.
    last_event: u64,
    directory: tenants::Directory,
}

/// One tenant's resources. Group members live beside the groups, never inside the
/// stored body, as they would in a membership table.
#[derive(Debug, Default)]
struct TenantData {
    resources: HashMap<String, Record>,
    /// Ids of each resource type by creation position: the stable query order.
    by_position: HashMap<String, BTreeMap<u64, String>>,
    /// Folded `userName` → user id.
    user_names: HashMap<String, String>,
    /// Group id → member ids.
    members: HashMap<String, MemberList>,
    /// Member id → the groups it is in.
    member_of: HashMap<String, HashSet<String>>,
    /// Manager id → the users whose `manager.value` it is.
    reports: HashMap<String, HashSet<String>>,
    /// Archived users, oldest first: out of every other map (rule 20).
    archived: Vec<Archived>,
    events: Vec<ChangeEvent>,
}

#[derive(Debug)]
struct Record {
    position: u64,
    /// The resource as stored: the validated attributes with `id` and `meta`, and
    /// for groups without `members`. Kept stamped so reads and filters need no copy.
    /// A manager is stored by id only; reads add its `displayName`.
    resource: Value,
    meta: ResourceMeta,
    revision: u64,
    /// A team derived from user attributes (rule 21), not one the IdP pushed.
    derived: bool,
    /// The client that created it (rule 10's replays).
    created_by: Option<String>,
}

/// How a new record came about.
#[derive(Debug, Clone, Copy)]
struct Origin<'a> {
    /// The client whose create made it.
    client: Option<&'a str>,
    /// A team derived from user attributes (rule 21).
    derived: bool,
}

impl Store for MemoryStore {
    async fn create(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        resource: Value,
    ) -> Result<Value, StoreError> {
        self.create_or_existing(scope, resource_type, resource)
            .await
            .map(Created::into_resource)
    }

    async fn create_or_existing(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        resource: Value,
    ) -> Result<Created, StoreError> {
        self.lock().create(scope, resource_type, resource)
    }

    async fn get(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        id: &str,
        projection: &Projection,
    ) -> Result<Value, StoreError> {
        let resource_type = schema_ops::resource_type(scope, resource_type)?;
        self.lock()
            .tenant(scope.tenant)
            .view(scope, resource_type, id, projection)
    }

    async fn replace(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        id: &str,
        resource: Value,
        expected_version: Option<&str>,
    ) -> Result<Value, StoreError> {
        self.lock()
            .replace(scope, resource_type, id, resource, expected_version)
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
        self.lock().patch(
            scope,
            resource_type,
            id,
            request,
            expected_version,
            projection,
        )
    }

    async fn delete(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        id: &str,
        expected_version: Option<&str>,
    ) -> Result<(), StoreError> {
        self.lock()
            .delete(scope, resource_type, id, expected_version)
    }

    async fn query(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        query: &Query,
    ) -> Result<Page, StoreError> {
        let resource_type = schema_ops::resource_type(scope, resource_type)?;
        query.check(scope.registry, resource_type)?;
        let sort = SortSpec::new(scope, resource_type, query)?;
        self.lock()
            .tenant(scope.tenant)
            .query(scope, resource_type, query, &sort)
    }
}

impl MemberStore for MemoryStore {
    async fn add_members(
        &self,
        scope: &Scope<'_>,
        group_id: &str,
        members: &[String],
    ) -> Result<String, StoreError> {
        let change = MemberChange::add(members.to_vec());
        self.lock().change_members(scope, group_id, change)
    }

    async fn remove_members(
        &self,
        scope: &Scope<'_>,
        group_id: &str,
        members: &[String],
    ) -> Result<String, StoreError> {
        let change = MemberChange::remove(members.to_vec());
        self.lock().change_members(scope, group_id, change)
    }
}

impl EventStore for MemoryStore {
    async fn events(
        &self,
        scope: &Scope<'_>,
        after: u64,
        limit: usize,
    ) -> Result<Vec<ChangeEvent>, StoreError> {
        let mut state = self.lock();
        let events = &state.tenant(scope.tenant).events;
        let start = events.partition_point(|event| event.seq <= after);
        Ok(events.iter().skip(start).take(limit).cloned().collect())
    }
}

impl DirectoryStore for MemoryStore {
    async fn archived(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
    ) -> Result<Vec<Archived>, StoreError> {
        let resource_type = schema_ops::resource_type(scope, resource_type)?;
        let mut state = self.lock();
        Ok(state
            .tenant(scope.tenant)
            .archived
            .iter()
            .filter(|archived| archived.resource["meta"]["resourceType"] == resource_type)
            .cloned()
            .collect())
    }

    async fn rebuild_teams(&self, scope: &Scope<'_>) -> Result<TeamsRebuilt, StoreError> {
        Ok(self.lock().rebuild_teams(scope))
    }
}

impl State {
    fn tenant(&mut self, tenant: &str) -> &mut TenantData {
        self.tenants.entry(tenant.to_owned()).or_default()
    }

    /// Appends events to the tenant's outbox.
    fn record(&mut self, tenant: &str, events: Vec<NewEvent>, at: OffsetDateTime) {
        let mut seq = self.last_event;
        let recorded: Vec<ChangeEvent> = events
            .into_iter()
            .map(|event| {
                seq += 1;
                event.record(seq, tenant, at)
            })
            .collect();
        self.last_event = seq;
        self.tenant(tenant).events.extend(recorded);
    }

    fn create(
        &mut self,
        scope: &Scope<'_>,
        resource_type: &str,
        resource: Value,
    ) -> Result<Created, StoreError> {
        let resource_type = schema_ops::resource_type(scope, resource_type)?;
        write::check_writable(scope.settings, resource_type)?;
        let (body, members) = prepare(scope, resource_type, &resource, Mode::Create)?;
        let data = self.tenant(scope.tenant);
        let members = data.check_members(members)?;
        if resource_type == USER_TYPE {
            if let Err(taken) = data.check_user_name(user_name(&body), None) {
                // A replayed create (Entra ID after its timeout) gets the user it made.
                return match data.same_user(scope, &body) {
                    Some(id) => data.existing(scope, resource_type, &id),
                    None => Err(taken),
                };
            }
            data.check_manager(&body)?;
        }
        if resource_type == GROUP_TYPE {
            if let Some(id) = data.same_group(scope, &body, &members) {
                return data.existing(scope, resource_type, &id);
            }
        }
        let at = meta::now();
        let id = meta::new_id();
        let origin = Origin {
            client: scope.client,
            derived: false,
        };
        self.insert(scope.tenant, resource_type, &id, body, at, origin);
        let data = self.tenant(scope.tenant);
        let added = data.add_members(&id, &members);
        let mut events = vec![NewEvent::created(
            resource_type,
            &id,
            &data.payload(scope, resource_type, &id),
        )];
        events.extend(NewEvent::member_changes(&id, &added, &[]));
        if resource_type == USER_TYPE {
            events.extend(self.sync_team(scope, &id, at));
        }
        self.record(scope.tenant, events, at);
        self.tenant(scope.tenant)
            .view(scope, resource_type, &id, &Projection::default())
            .map(Created::New)
    }

    /// Adds a resource at the end of the creation order, at version 1.
    fn insert(
        &mut self,
        tenant: &str,
        resource_type: &str,
        id: &str,
        body: Value,
        at: OffsetDateTime,
        origin: Origin<'_>,
    ) {
        self.last_position += 1;
        let position = self.last_position;
        let data = self.tenant(tenant);
        let record = Record {
            position,
            resource: Value::Null,
            meta: ResourceMeta {
                resource_type: resource_type.to_owned(),
                created: at,
                last_modified: at,
                version: meta::version_tag(1),
            },
            revision: 1,
            derived: origin.derived,
            created_by: origin.client.map(str::to_owned),
        };
        data.resources.insert(id.to_owned(), record);
        data.by_position
            .entry(resource_type.to_owned())
            .or_default()
            .insert(position, id.to_owned());
        data.set_body(id, body);
    }

    fn replace(
        &mut self,
        scope: &Scope<'_>,
        resource_type: &str,
        id: &str,
        resource: Value,
        expected_version: Option<&str>,
    ) -> Result<Value, StoreError> {
        let resource_type = schema_ops::resource_type(scope, resource_type)?;
        write::check_writable(scope.settings, resource_type)?;
        let data = self.tenant(scope.tenant);
        let current = &data.record(resource_type, id)?.meta.version;
        write::check_version(expected_version, current)?;
        let existing = data.full(id, false);
        let mode = Mode::Replace {
            existing: &existing,
        };
        let (body, members) = prepare(scope, resource_type, &resource, mode)?;
        let members = if resource_type == GROUP_TYPE {
            MemberChange::Set(members)
        } else {
            MemberChange::Keep
        };
        self.write(scope, resource_type, id, Some(body), members)?;
        self.tenant(scope.tenant)
            .view(scope, resource_type, id, &Projection::default())
    }

    fn patch(
        &mut self,
        scope: &Scope<'_>,
        resource_type: &str,
        id: &str,
        request: &PatchRequest,
        expected_version: Option<&str>,
        projection: &Projection,
    ) -> Result<Value, StoreError> {
        let resource_type = schema_ops::resource_type(scope, resource_type)?;
        write::check_writable(scope.settings, resource_type)?;
        let data = self.tenant(scope.tenant);
        let current = &data.record(resource_type, id)?.meta.version;
        write::check_version(expected_version, current)?;
        // Groups are patched without their members, as a SQL store patches them: the
        // patcher reports the member delta, applied to the membership relation. Only
        // a path that selects members by something else than id needs the list.
        let apply = |current: &Value, with_members| {
            let (registry, policy) = (scope.registry, scope.policy);
            write::apply_patch(
                registry,
                policy,
                resource_type,
                current,
                request,
                with_members,
            )
        };
        let patched = match apply(&data.full(id, false), false) {
            Err(error) if write::needs_member_list(&error) => apply(&data.full(id, true), true)?,
            other => other?,
        };
        let mut body = patched.resource;
        meta::strip_store_owned(&mut body);
        if resource_type == USER_TYPE {
            derive::drop_unassigned_manager(&mut body);
        }
        self.write(scope, resource_type, id, Some(body), patched.members)?;
        self.tenant(scope.tenant)
            .view(scope, resource_type, id, projection)
    }

    fn change_members(
        &mut self,
        scope: &Scope<'_>,
        group_id: &str,
        change: MemberChange,
    ) -> Result<String, StoreError> {
        write::check_writable(scope.settings, GROUP_TYPE)?;
        self.write(scope, GROUP_TYPE, group_id, None, change)?;
        let version = &self
            .tenant(scope.tenant)
            .record(GROUP_TYPE, group_id)?
            .meta
            .version;
        Ok(version.clone())
    }

    /// The write shared by replace, patch and the member calls: a new body (`None`
    /// keeps it) and a member change. Everything is checked before anything changes;
    /// a write that changes nothing leaves no trace (rule 5).
    fn write(
        &mut self,
        scope: &Scope<'_>,
        resource_type: &str,
        id: &str,
        body: Option<Value>,
        members: MemberChange,
    ) -> Result<(), StoreError> {
        let data = self.tenant(scope.tenant);
        let record = data.record(resource_type, id)?;
        let body = body.filter(|body| !same_attributes(&record.resource, body));
        if let (USER_TYPE, Some(body)) = (resource_type, &body) {
            data.check_user_name(user_name(body), Some(id))?;
            data.check_manager(body)?;
        }
        let (to_add, to_remove) = match members {
            MemberChange::Keep => (Vec::new(), Vec::new()),
            MemberChange::Set(members) => {
                let wanted = data.check_members(members)?;
                let wanted_set: HashSet<&String> = wanted.iter().map(|member| &member.id).collect();
                let to_remove = data
                    .members
                    .get(id)
                    .into_iter()
                    .flat_map(MemberList::iter)
                    .filter(|member| !wanted_set.contains(member))
                    .cloned()
                    .collect();
                (wanted, to_remove)
            }
            MemberChange::Delta { add, remove } => (data.check_members(add)?, remove),
        };
        let removed = data.remove_members(id, &to_remove);
        let added = data.add_members(id, &to_add);
        if body.is_none() && added.is_empty() && removed.is_empty() {
            return Ok(());
        }
        let at = meta::now();
        let mut events = Vec::new();
        let body_changed = body.is_some();
        if let Some(body) = body {
            let before = data.payload(scope, resource_type, id);
            let name = derive::member_display(&body);
            data.set_body(id, body);
            data.touch(id, at);
            data.rename_member(id, &name, at);
            let after = data.payload(scope, resource_type, id);
            events.push(NewEvent::updated(resource_type, id, &before, &after));
        } else {
            data.touch(id, at);
        }
        events.extend(NewEvent::member_changes(id, &added, &removed));
        if resource_type == USER_TYPE && body_changed {
            events.extend(self.sync_team(scope, id, at));
        }
        self.record(scope.tenant, events, at);
        Ok(())
    }

    fn delete(
        &mut self,
        scope: &Scope<'_>,
        resource_type: &str,
        id: &str,
        expected_version: Option<&str>,
    ) -> Result<(), StoreError> {
        let resource_type = schema_ops::resource_type(scope, resource_type)?;
        let data = self.tenant(scope.tenant);
        let record = data.record(resource_type, id)?;
        write::check_deletable(scope.settings, resource_type, record.derived)?;
        write::check_version(expected_version, &record.meta.version)?;
        let at = meta::now();
        let payload = data.payload(scope, resource_type, id);
        let (event, archive) = write::deletion(scope.settings, resource_type, id, &payload);
        let mut events = vec![event];
        if resource_type == USER_TYPE {
            events.extend(self.leave_team(scope, id, at));
            events.extend(self.tenant(scope.tenant).clear_reports(scope, id, at));
        }
        self.remove(scope.tenant, id, at, &mut events);
        if archive {
            self.tenant(scope.tenant).archived.push(Archived {
                resource: payload,
                archived_at: at,
            });
        }
        self.record(scope.tenant, events, at);
        Ok(())
    }

    /// Takes a resource out of the tenant: out of every group it was in (adding
    /// their events), its own members released, out of every index.
    fn remove(&mut self, tenant: &str, id: &str, at: OffsetDateTime, events: &mut Vec<NewEvent>) {
        let data = self.tenant(tenant);
        // Leave every group this resource was in, in the groups' creation order so
        // the events come out in a stable order.
        let mut groups: Vec<(u64, String)> = data
            .member_of
            .get(id)
            .into_iter()
            .flatten()
            .filter_map(|group| Some((data.resources.get(group)?.position, group.clone())))
            .collect();
        groups.sort();
        let leaving = [id.to_owned()];
        for (_, group) in &groups {
            if !data.remove_members(group, &leaving).is_empty() {
                data.touch(group, at);
                events.push(NewEvent::members_removed(group, &leaving));
            }
        }
        // A deleted group's own members no longer belong to it.
        if let Some(own_members) = data.members.remove(id) {
            for member in own_members.iter() {
                data.leave(member, id);
            }
        }
        let Some(record) = data.resources.remove(id) else {
            return;
        };
        if let Some(name) = user_name(&record.resource) {
            data.user_names.remove(&meta::fold_case(name));
        }
        if let Some(manager) = derive::manager_id(&record.resource) {
            unlink(&mut data.reports, manager, id);
        }
        if let Some(ordered) = data.by_position.get_mut(&record.meta.resource_type) {
            ordered.remove(&record.position);
        }
    }
}

impl TenantData {
    fn record(&self, resource_type: &str, id: &str) -> Result<&Record, StoreError> {
        self.resources
            .get(id)
            .filter(|record| record.meta.resource_type == resource_type)
            .ok_or_else(|| StoreError::not_found(resource_type, id))
    }

    /// The resource as a client sees it, projected.
    fn view(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        id: &str,
        projection: &Projection,
    ) -> Result<Value, StoreError> {
        self.record(resource_type, id)?;
        let with_members = schema_ops::returns_members(scope, resource_type, projection);
        let resource = self.shown(id, with_members);
        Ok(schema_ops::project(
            scope,
            resource_type,
            &resource,
            projection,
        ))
    }

    /// The resource as an event carries it: as a client reads it (so never its
    /// `password`), without group members.
    fn payload(&self, scope: &Scope<'_>, resource_type: &str, id: &str) -> Value {
        let resource = self.shown(id, false);
        schema_ops::project(scope, resource_type, &resource, &Projection::default())
    }

    /// An existing resource, as a retried create returns it.
    fn existing(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        id: &str,
    ) -> Result<Created, StoreError> {
        self.view(scope, resource_type, id, &Projection::default())
            .map(Created::Existing)
    }

    /// [`TenantData::full`] as a client reads it: a user's manager with its current
    /// `displayName` (rule 19).
    fn shown(&self, id: &str, with_members: bool) -> Value {
        let mut resource = self.full(id, with_members);
        if let Some(manager) = derive::manager_id(&resource) {
            let display_name = self
                .resources
                .get(manager)
                .and_then(|record| record.resource.get("displayName"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            derive::set_manager_display_name(&mut resource, display_name.as_deref());
        }
        resource
    }

    /// The stored resource with `id` and `meta`, and its `members` if asked and it
    /// has any; `Null` for an unknown id.
    fn full(&self, id: &str, with_members: bool) -> Value {
        let Some(record) = self.resources.get(id) else {
            return Value::Null;
        };
        let mut resource = record.resource.clone();
        if with_members && record.meta.resource_type == GROUP_TYPE {
            let members = self.member_objects(id);
            if let (Value::Object(fields), false) = (&mut resource, members.is_empty()) {
                // Before `meta`, which conventionally comes last.
                let meta = fields.remove("meta");
                fields.insert("members".into(), Value::Array(members));
                if let Some(meta) = meta {
                    fields.insert("meta".into(), meta);
                }
            }
        }
        resource
    }

    /// A group's members as `{"value", "display", "type"}` objects, in the order
    /// added.
    fn member_objects(&self, group_id: &str) -> Vec<Value> {
        let Some(list) = self.members.get(group_id) else {
            return Vec::new();
        };
        list.iter()
            .map(|id| {
                let mut member = Map::new();
                member.insert("value".into(), id.clone().into());
                if let Some(display) = list.display(id).filter(|display| !display.is_empty()) {
                    member.insert("display".into(), display.into());
                }
                if let Some(record) = self.resources.get(id) {
                    member.insert("type".into(), record.meta.resource_type.clone().into());
                }
                Value::Object(member)
            })
            .collect()
    }

    /// Rule 16: member `id` is now called `name`; its `display` follows in the
    /// groups it is in where none was sent, and those groups get a new version.
    fn rename_member(&mut self, id: &str, name: &str, at: OffsetDateTime) {
        let groups: Vec<String> = self
            .member_of
            .get(id)
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        for group in groups {
            let renamed = self
                .members
                .get_mut(&group)
                .is_some_and(|list| list.rename(id, name));
            if renamed {
                self.touch(&group, at);
            }
        }
    }

    /// What a member shows as `display` when none was sent.
    fn default_display(&self, id: &str) -> String {
        self.resources
            .get(id)
            .map(|record| derive::member_display(&record.resource))
            .unwrap_or_default()
    }

    /// Fails with `Uniqueness` if `user_name` belongs to a user other than `id`.
    fn check_user_name(&self, user_name: Option<&str>, id: Option<&str>) -> Result<(), StoreError> {
        let taken = user_name
            .and_then(|name| self.user_names.get(&meta::fold_case(name)))
            .is_some_and(|owner| Some(owner.as_str()) != id);
        if taken {
            return Err(StoreError::Uniqueness {
                attribute: "userName".into(),
            });
        }
        Ok(())
    }

    /// The user holding `body`'s `userName`, if it has every attribute of `body`
    /// with the same value.
    fn same_user(&self, scope: &Scope<'_>, body: &Value) -> Option<String> {
        let id = self.user_names.get(&meta::fold_case(user_name(body)?))?;
        let record = self.resources.get(id)?;
        self.is_replay(scope, USER_TYPE, record, body)
            .then(|| id.clone())
    }

    /// The first group with `body`'s `externalId` whose create `body` replays,
    /// with every one of `members` (rule 10).
    fn same_group(&self, scope: &Scope<'_>, body: &Value, members: &[NewMember]) -> Option<String> {
        body.get("externalId")?;
        self.by_position
            .get(GROUP_TYPE)?
            .values()
            .find(|id| {
                let has_members = || {
                    let list = self.members.get(id.as_str());
                    members
                        .iter()
                        .all(|member| list.is_some_and(|list| list.contains(&member.id)))
                };
                self.resources.get(id.as_str()).is_some_and(|record| {
                    !record.derived && self.is_replay(scope, GROUP_TYPE, record, body)
                }) && has_members()
            })
            .cloned()
    }

    fn is_replay(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        record: &Record,
        body: &Value,
    ) -> bool {
        let origin = write::Origin {
            client: record.created_by.as_deref(),
            created: record.meta.created,
        };
        write::is_replay(scope, resource_type, origin, &record.resource, body)
    }

    /// Fails with `UnknownManager` unless the user's manager, if any, is a user of
    /// the tenant (rule 19).
    fn check_manager(&self, user: &Value) -> Result<(), StoreError> {
        match derive::manager_id(user) {
            Some(manager) if self.record(USER_TYPE, manager).is_err() => {
                Err(StoreError::UnknownManager(manager.to_owned()))
            }
            _ => Ok(()),
        }
    }

    /// Clears the manager of every report of `manager` (rule 19), in creation
    /// order; returns their events.
    fn clear_reports(
        &mut self,
        scope: &Scope<'_>,
        manager: &str,
        at: OffsetDateTime,
    ) -> Vec<NewEvent> {
        let mut reports: Vec<(u64, String)> = self
            .reports
            .get(manager)
            .into_iter()
            .flatten()
            .filter_map(|id| Some((self.resources.get(id)?.position, id.clone())))
            .collect();
        reports.sort();
        let mut events = Vec::with_capacity(reports.len());
        for (_, id) in reports {
            let Some(mut body) = self
                .resources
                .get(&id)
                .map(|record| record.resource.clone())
            else {
                continue;
            };
            meta::strip_store_owned(&mut body);
            derive::clear_manager(&mut body);
            let before = self.payload(scope, USER_TYPE, &id);
            self.set_body(&id, body);
            self.touch(&id, at);
            let after = self.payload(scope, USER_TYPE, &id);
            events.push(NewEvent::updated(USER_TYPE, &id, &before, &after));
        }
        events
    }

    /// Checks that every id is a user or group of the tenant; drops repeats.
    fn check_members(&self, members: Vec<NewMember>) -> Result<Vec<NewMember>, StoreError> {
        let mut seen = HashSet::with_capacity(members.len());
        let mut checked = Vec::with_capacity(members.len());
        for member in members {
            let is_member_type = self.resources.get(&member.id).is_some_and(|record| {
                matches!(record.meta.resource_type.as_str(), USER_TYPE | GROUP_TYPE)
            });
            if !is_member_type {
                return Err(StoreError::UnknownMember(member.id));
            }
            if seen.insert(member.id.clone()) {
                checked.push(member);
            }
        }
        Ok(checked)
    }

    /// Adds members (already checked), with the `display` sent or their own;
    /// returns the ids of those that were not members yet.
    fn add_members(&mut self, group_id: &str, members: &[NewMember]) -> Vec<String> {
        let displays: Vec<String> = members
            .iter()
            .map(|member| {
                member
                    .display
                    .clone()
                    .unwrap_or_else(|| self.default_display(&member.id))
            })
            .collect();
        let list = self.members.entry(group_id.to_owned()).or_default();
        let added: Vec<String> = members
            .iter()
            .zip(&displays)
            .filter(|(member, display)| list.insert(&member.id, display, member.display.is_some()))
            .map(|(member, _)| member.id.clone())
            .collect();
        for id in &added {
            self.member_of
                .entry(id.clone())
                .or_default()
                .insert(group_id.to_owned());
        }
        added
    }

    /// Removes members; returns those that were members.
    fn remove_members(&mut self, group_id: &str, ids: &[String]) -> Vec<String> {
        let Some(list) = self.members.get_mut(group_id) else {
            return Vec::new();
        };
        let removed: Vec<String> = ids.iter().filter(|id| list.remove(id)).cloned().collect();
        for id in &removed {
            self.leave(id, group_id);
        }
        removed
    }

    /// Forgets that `member` is in `group` (the reverse index only).
    fn leave(&mut self, member: &str, group: &str) {
        unlink(&mut self.member_of, member, group);
    }

    /// Gives a resource its next version.
    fn touch(&mut self, id: &str, at: OffsetDateTime) {
        if let Some(record) = self.resources.get_mut(id) {
            record.revision += 1;
            record.meta.version = meta::version_tag(record.revision);
            record.meta.last_modified = at;
            if let Value::Object(fields) = &mut record.resource {
                fields.insert("meta".into(), record.meta.to_json());
            }
        }
    }

    /// Replaces a stored body, keeping the `userName` and manager indexes in step.
    fn set_body(&mut self, id: &str, body: Value) {
        let Some(record) = self.resources.get_mut(id) else {
            return;
        };
        let stamped = meta::stamp(body, id, &record.meta);
        let old = std::mem::replace(&mut record.resource, stamped);
        if record.meta.resource_type != USER_TYPE {
            return;
        }
        let new = &record.resource;
        if let Some(name) = user_name(&old) {
            self.user_names.remove(&meta::fold_case(name));
        }
        if let Some(name) = user_name(new) {
            self.user_names.insert(meta::fold_case(name), id.to_owned());
        }
        let (old_manager, new_manager) = (derive::manager_id(&old), derive::manager_id(new));
        if old_manager != new_manager {
            if let Some(manager) = old_manager {
                unlink(&mut self.reports, manager, id);
            }
            if let Some(manager) = new_manager {
                let reports = self.reports.entry(manager.to_owned()).or_default();
                reports.insert(id.to_owned());
            }
        }
    }

    fn query(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        query: &Query,
        sort: &SortSpec,
    ) -> Result<Page, StoreError> {
        let hints = scope.registry.hints(resource_type);
        // Rule 15: members are read only when the filter or sort needs them, and
        // then only to match; the page reads them again only if it returns them.
        let match_members = resource_type == GROUP_TYPE && query_mentions_members(query);
        let mut found = Vec::new();
        for (&position, id) in self.by_position.get(resource_type).into_iter().flatten() {
            let Some(record) = self.resources.get(id) else {
                continue;
            };
            let resource = if match_members {
                Cow::Owned(self.full(id, true))
            } else {
                Cow::Borrowed(&record.resource)
            };
            let matched = match &query.filter {
                Some(filter) => schema_ops::matches(&hints, filter, &resource),
                None => true,
            };
            if matched {
                found.push((sort.key(&resource, position), id));
            }
        }
        let with_members = schema_ops::returns_members(scope, resource_type, &query.projection);
        order::page(found, sort, &query.paging, |id| {
            let resource = self.shown(id, with_members);
            schema_ops::project(scope, resource_type, &resource, &query.projection)
        })
    }
}

/// Whether a query's filter or sort names `members`.
fn query_mentions_members(query: &Query) -> bool {
    query
        .filter
        .as_ref()
        .is_some_and(|filter| mentions_attribute(filter, "members"))
        || query
            .sort_by
            .as_ref()
            .is_some_and(|path| path.name.eq_ignore_ascii_case("members"))
}

/// Validates a create or replace body and splits off a group's member ids.
fn prepare(
    scope: &Scope<'_>,
    resource_type: &str,
    resource: &Value,
    mode: Mode<'_>,
) -> Result<(Value, Vec<NewMember>), StoreError> {
    let mut body = schema_ops::validate(scope, resource_type, resource, mode)?;
    meta::strip_store_owned(&mut body);
    let members = write::split_members(resource_type, &mut body)?;
    Ok((body, members))
}

/// Removes `value` from the set under `key` in a reverse index, and the set when
/// it is left empty.
fn unlink(index: &mut HashMap<String, HashSet<String>>, key: &str, value: &str) {
    if let Some(values) = index.get_mut(key) {
        values.remove(value);
        if values.is_empty() {
            index.remove(key);
        }
    }
}

/// Whether a stored resource has exactly the attributes of `body`, `id` and `meta`
/// aside (top-level order aside too: it carries no meaning).
fn same_attributes(stored: &Value, body: &Value) -> bool {
    let (Some(stored), Some(body)) = (stored.as_object(), body.as_object()) else {
        return stored == body;
    };
    let attributes = |fields: &'_ Map<String, Value>| {
        fields
            .iter()
            .filter(|(name, _)| !meta::is_store_owned(name))
            .count()
    };
    attributes(stored) == attributes(body)
        && body
            .iter()
            .filter(|(name, _)| !meta::is_store_owned(name))
            .all(|(name, value)| stored.get(name) == Some(value))
}

fn user_name(body: &Value) -> Option<&str> {
    body.as_object()?
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("userName"))
        .and_then(|(_, value)| value.as_str())
}
