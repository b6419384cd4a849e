//! The resource storage trait and its contract.

use std::future::Future;

use serde_json::Value;
use time::OffsetDateTime;

use crate::event::ChangeEvent;
use crate::query::{Page, Query};
use crate::schema::{PatchRequest, Policy, Projection, Registry};
use crate::settings::TenantSettings;
use crate::StoreError;

/// Who is asking, and under which schema: passed to every [`Store`] call.
///
/// The registry, policy and settings travel with the call (rather than living in
/// the store) because they can differ per tenant.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// The tenant every read and write is confined to.
    pub tenant: &'a str,
    /// The tenant's schemas and resource types.
    pub registry: &'a Registry,
    /// The tenant's identity-provider policy (used by validation and PATCH).
    pub policy: &'a Policy,
    /// The tenant's settings; the store reads [`TenantSettings::teams`],
    /// [`TenantSettings::deletion`] and
    /// [`TenantSettings::create_retry_window_seconds`].
    pub settings: &'a TenantSettings,
    /// The authenticated client making the call (a token id), if any. A create
    /// records it, and only the same client can replay that create (rule 10).
    pub client: Option<&'a str>,
}

impl<'a> Scope<'a> {
    /// A scope for `tenant` with this registry and policy, and default settings.
    pub fn new(tenant: &'a str, registry: &'a Registry, policy: &'a Policy) -> Self {
        Scope {
            tenant,
            registry,
            policy,
            settings: TenantSettings::default_ref(),
            client: None,
        }
    }

    /// This scope with the tenant's settings.
    pub fn with_settings(self, settings: &'a TenantSettings) -> Self {
        Scope { settings, ..self }
    }

    /// This scope acting for an authenticated client (e.g. a token id).
    pub fn with_client(self, client: &'a str) -> Self {
        Scope {
            client: Some(client),
            ..self
        }
    }
}

/// Storage of SCIM resources, scoped by tenant: the core every store implements.
///
/// Five methods are required (create, get, replace with an expected version,
/// delete, query); [`Store::patch`] and [`Store::create_or_existing`] are
/// provided. What not every store has are capability traits: [`MemberStore`]
/// (member writes without loading the group), [`EventStore`] (the outbox, rule
/// 17) and [`DirectoryStore`] (managers, archive, derived teams: rules 19 to 21).
/// The `scimitar-diesel` crate implements all of them for SQLite and PostgreSQL,
/// [`MemoryStore`](crate::MemoryStore) in memory; an app over its own tables
/// implements what it needs. Then run the contract kit (`testkit` feature) for
/// exactly those: it checks each rule below by number.
///
/// Methods return `impl Future + Send`, so handlers on multi-threaded runtimes can
/// spawn them; implement them with `async fn`.
///
/// `resource_type` names a resource type of the scope's registry (`User`, `Group`, or
/// one of its own) by name or endpoint, in any case (`users` is `User`). `Group` is
/// special: its `members` live in a membership relation of their own (rule 16), so
/// that a 100,000-member group can be read, renamed and patched without loading its
/// members.
///
/// # Rules
///
/// **Tenancy and identity**
///
/// 1. *Isolation.* Every call sees and changes only `scope.tenant`'s resources. An
///    id of another tenant is [`StoreError::NotFound`] for get, replace, patch,
///    delete and member calls; queries never return another tenant's resources;
///    uniqueness is per tenant (the same `userName` may exist in two tenants);
///    events are per tenant. Tenant ids are opaque keys: the store does not require
///    them to be registered in a [`TenantStore`](crate::TenantStore).
/// 2. *Create* assigns `id` (a new UUID, see [`meta::new_id`](crate::meta::new_id))
///    and `meta` (`resourceType`, `created`, `lastModified` equal to `created`,
///    `version`), ignoring any `id` or `meta` in the input, and returns the stored
///    resource. An unknown resource type is [`StoreError::UnknownResourceType`].
/// 3. *Validation and fidelity.* Create and replace validate the input with
///    `Registry::validate` (mode `Create`, or `Replace` with the stored resource)
///    under the scope's policy, failing with [`StoreError::Validation`], and store
///    the cleaned resource it returns; PATCH results are validated by
///    `scimitar-patch`. Values are stored as given: reading a resource back gives
///    the same values, except the store-owned `id` and `meta`, and attributes
///    `returned: never` (`password`), which no call ever returns (every resource
///    returned goes through `Registry::project`).
/// 4. *Get* returns the resource projected by the given projection (as
///    `Registry::project` does); an unknown id is `NotFound`.
///
/// **Versions and preconditions**
///
/// 5. *Versions.* `meta.version` is a weak ETag (`W/"..."`) that changes on every
///    write that changes the resource, membership included, and only then; a write
///    that changes nothing (identical PUT, PATCH with no effect, adding a present
///    member) keeps the version and `lastModified` and records no event.
///    `lastModified` moves with the version; `created` never changes.
/// 6. *Preconditions.* replace, patch and delete with `expected_version: Some(v)`
///    proceed only if `v` matches the current version
///    ([`meta::version_matches`](crate::meta::version_matches): weak comparison, `*`
///    matches any); otherwise they fail with [`StoreError::VersionMismatch`] carrying
///    the current version, and change nothing. `None` means unconditional. A missing
///    resource is `NotFound`, whatever the expected version.
///
/// **Writes**
///
/// 7. *Replace* makes the stored resource exactly the input (RFC 7644 §3.5.1:
///    attributes left out are cleared), keeping `id` and `meta.created`; for a group,
///    the members become exactly the input's `members`.
/// 8. *Patch* applies a PATCH request with `scimitar-patch` under the scope's policy,
///    atomically: all operations take effect or none. Group member operations are
///    applied to the membership relation (rule 16) without loading the members
///    (`scimitar_patch::ApplyOptions::external_members`); only a path that selects
///    members by something else than their id (`members[display eq "x"]`) may load
///    them. It returns the resource projected by the given projection.
/// 9. *Delete* removes the resource: get is then `NotFound`, and deleting again is
///    `NotFound`. Deleting a user or group also removes it from every group it was a
///    member of (those groups get a new version and a `MembersRemoved` event), and
///    deleting a user clears the manager of its reports (rule 19). Under
///    [`DeletionMode::Archive`](crate::DeletionMode::Archive) a user is archived instead (rule 20).
/// 10. *Uniqueness.* `userName` is unique per tenant, case-insensitively
///     ([`meta::fold_case`](crate::meta::fold_case)): a create, replace or patch
///     that would make two users share one fails with [`StoreError::Uniqueness`]
///     `{ attribute: "userName" }` and changes nothing, also when the writes race
///     (of N simultaneous creates of one `userName`, exactly one succeeds). One
///     opt-in exception, for identity providers that retry a create after a
///     timeout: when [`TenantSettings::create_retry_window_seconds`] is set, a create
///     whose `userName` is taken returns the holder unchanged, recording no event
///     ([`Store::create_or_existing`] says [`Created::Existing`]), if and only if
///     the same client ([`Scope::client`], recorded at create) made it less than
///     that many seconds ago, its `externalId` equals the input's (both absent
///     counts), and it has every other attribute of the (validated) input with the
///     same value ([`write::is_replay`](crate::write::is_replay)). Groups have no
///     unique attribute, so a retried group create would make a twin: under the
///     same setting, a group create with an `externalId` returns the first group
///     that passes the same test and has every member it lists. Both comparisons
///     leave out the attributes the registry says are never returned (`password`):
///     the server hashes a password with a fresh salt on every request, so a retry
///     never repeats the stored value.
///     Nothing else is
///     unique: not `externalId`, not a group's `displayName` (RFC 7643 gives it no
///     uniqueness), and not attributes a custom schema marks `uniqueness: server`,
///     which stores do not enforce (add a unique index of your own if you need one).
///
/// **Queries**
///
/// 11. *Filtering.* A query returns exactly the resources for which
///     `scimitar_filter::matches` holds under the registry's attribute hints: the
///     reference semantics. Attribute names are case-insensitive; strings compare
///     case-insensitively unless the attribute is `caseExact` (`id`, `externalId`
///     are; `userName` is not); `dateTime` values (`meta.lastModified`) compare as
///     instants; extension attributes are named with their schema URN. A query that
///     [`Query::check`] rejects (an attribute the schema does not define, `gt`/`ge`/
///     `lt`/`le` on a boolean or binary attribute, a comparison on a complex
///     attribute without `value`, the derived `manager.displayName`) fails with
///     [`StoreError::InvalidFilter`]. The registry may be a tenant's own
///     ([`TenantSettings::registry`]): an attribute retyped `dateTime` compares as
///     instants and a custom `integer` as a number, in filters and sorting alike.
/// 12. *Sorting.* With `sort_by`, resources are ordered by that attribute according
///     to its type (strings case-insensitively unless `caseExact`); resources without
///     a value sort after all others when ascending, before all others when
///     descending; ties, and queries without `sort_by`, keep creation order. A
///     multi-valued attribute sorts by its primary (else first) value, a complex
///     one by its `value` ([`query::sort_attribute`](crate::query::sort_attribute)).
///     Sorting by an undefined or binary attribute is `InvalidFilter`.
/// 13. *Index paging.* `start_index` is 1-based (below 1 reads as 1); `count` caps
///     the page (0 returns no resources, only the total). `total_results` counts
///     every match whatever the page; consecutive pages over unchanged data neither
///     overlap nor leave gaps; a page past the end is empty.
/// 14. *Cursor paging* (RFC 9865). `cursor: None` starts; `next_cursor` is `Some`
///     while resources remain and `None` on the last page; following it over
///     unchanged data visits every match exactly once. A cursor the store did not
///     issue for this resource type is [`StoreError::InvalidCursor`].
/// 15. *Projection.* Every resource of a page is projected as get projects it. A
///     projection that leaves out a group's `members` (`excludedAttributes=members`)
///     returns the group without reading its membership.
///
/// **Groups and events**
///
/// 16. *Members.* A group's `members` are `{"value": id, "display": text, "type":
///     "User"|"Group"}` objects naming users or groups of the same tenant, in the
///     order they were added. `display` is the value sent with the member, else the
///     member's current `displayName` (a user without one: its `userName`,
///     [`derive::member_display`](crate::derive::member_display)): a rename of the
///     member changes it, in the same transaction, and gives the group a new
///     version (no event). Clients cannot change it (it is immutable). A `$ref`
///     sent is not kept; the HTTP layer adds it. [`MemberStore::add_members`] and [`MemberStore::remove_members`] change them
///     without loading the group; adding a present member or removing an absent one
///     is a no-op for that id; adding an id that is not a user or group of the
///     tenant fails with [`StoreError::UnknownMember`] and changes nothing. A
///     membership change gives the group a new version (rule 5).
/// 17. *Outbox.* Every write that changes something records its events
///     ([`NewEvent`](crate::NewEvent)'s constructors say which) in the same
///     transaction: the change and its events are committed together or not at all.
///     A payload that is a resource is shaped as a client reads it
///     (`Registry::project` with the default projection: never `password`).
///     A group write that changes members records `MembersAdded` / `MembersRemoved`
///     with the delta, and a group event for its other attributes only if they
///     changed. [`EventStore::events`] returns the tenant's events with `seq` greater than
///     `after`, in increasing `seq`, at most `limit`; a reader that resumes from the
///     last `seq` it saw never misses a committed event. A store whose writes commit
///     concurrently may hold back a committed event until every write that could
///     still take a smaller `seq` has ended (PostgreSQL's does; a long transaction
///     delays delivery, never its order).
/// 18. *Failure.* No input makes a store panic; backend trouble is
///     [`StoreError::Unavailable`] (retryable) or [`StoreError::Backend`].
///
/// **Users and teams** (what identity providers expect beyond the RFCs)
///
/// 19. *Managers.* An Enterprise `manager.value` names a user of the same tenant:
///     a create, replace or patch naming any other id fails with
///     [`StoreError::UnknownManager`] and changes nothing; an empty value (`""`,
///     `{}`) clears the manager. Only the id is stored: every read (get, query,
///     write results, event payloads) returns `manager.value` with the manager's
///     current `displayName` (none if it has none; the HTTP layer adds `$ref`).
///     Deleting or archiving a user clears the manager of its reports in the same
///     transaction: each gets a new version and a `UserUpdated` event.
/// 20. *Deactivation and deletion.* `active: false` keeps the user: get and
///     queries return it (`UserDeactivated` / `UserReactivated` events). Delete
///     under [`DeletionMode::Delete`](crate::DeletionMode::Delete) forgets the user: a later create with its
///     `userName` makes a new user with a new id. Under [`DeletionMode::Archive`](crate::DeletionMode::Archive)
///     a deleted user is kept for audit ([`DirectoryStore::archived`] lists it) but is gone
///     for everything else, exactly as if deleted: reads, queries, members,
///     managers, uniqueness (its `userName` is free); the event is `UserDeleted`
///     with `"archived": true` in the payload.
/// 21. *Derived teams.* Under [`TeamMode::Department`](crate::TeamMode::Department) every active user with an
///     Enterprise `department` is a member of the team [`derive::team_of`](crate::derive::team_of) names,
///     a Group with the id [`derive::team_id`](crate::derive::team_id) and the body
///     [`derive::team_body`](crate::derive::team_body), created when it gets its first member and deleted
///     when its last member leaves. Membership follows every user create,
///     replace, patch (department, organization, `active`) and delete in the same
///     transaction, with group events (see [`ChangeKind`](crate::ChangeKind)).
///     Team names ignore case (`Ops` and `ops` are one team, named as its first
///     member spells it), as `displayName eq` does. Groups are read-only: create,
///     replace, patch, delete and member calls on Groups fail with
///     [`StoreError::ReadOnly`], except that a group the identity provider pushed
///     before the switch may be deleted ([`write::check_deletable`](crate::write::check_deletable)),
///     so none is left that nobody can remove; otherwise such groups stay as they
///     are. [`DirectoryStore::rebuild_teams`] makes the teams exactly what the users say,
///     under the scope's mode, in one transaction: call it when a tenant changes
///     mode (under [`TeamMode::Groups`](crate::TeamMode::Groups) it removes every
///     derived team, and switching back derives the same teams, with the same ids).
pub trait Store: Send + Sync {
    /// Creates a resource (rules 2, 3, 10, 16, 17) and returns it as stored.
    fn create(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        resource: Value,
    ) -> impl Future<Output = Result<Value, StoreError>> + Send;

    /// Creates a resource and returns it as stored, or returns the one an earlier
    /// attempt made ([`Created::Existing`], rule 10's retry exception), so the
    /// HTTP layer can answer a retry as it sees fit.
    ///
    /// Provided: [`Store::create`], always [`Created::New`]. A store that offers
    /// rule 10's replays overrides it (and makes `create` call it).
    fn create_or_existing(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        resource: Value,
    ) -> impl Future<Output = Result<Created, StoreError>> + Send {
        async move {
            self.create(scope, resource_type, resource)
                .await
                .map(Created::New)
        }
    }

    /// Creates resources of one type as [`Store::create_or_existing`] would, one
    /// by one in order (each against those before it: a `userName` twice in
    /// the batch is a uniqueness error the second time), and returns each one's
    /// outcome; one that fails does not stop the others. For imports and first
    /// syncs.
    ///
    /// Provided: one `create_or_existing` after another. A store that can do it
    /// in fewer round trips or commits overrides it (the SQL store: one
    /// transaction per call on PostgreSQL, one group commit on SQLite).
    fn create_many(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        resources: Vec<Value>,
    ) -> impl Future<Output = Vec<Result<Created, StoreError>>> + Send {
        async move {
            let mut outcomes = Vec::with_capacity(resources.len());
            for resource in resources {
                outcomes.push(
                    self.create_or_existing(scope, resource_type, resource)
                        .await,
                );
            }
            outcomes
        }
    }

    /// Reads a resource (rules 4, 15).
    fn get(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        id: &str,
        projection: &Projection,
    ) -> impl Future<Output = Result<Value, StoreError>> + Send;

    /// Replaces a resource (rules 6, 7, 10) and returns it as stored.
    fn replace(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        id: &str,
        resource: Value,
        expected_version: Option<&str>,
    ) -> impl Future<Output = Result<Value, StoreError>> + Send;

    /// Applies a PATCH request (rules 6, 8, 10) and returns the resource, projected.
    ///
    /// Provided: [`write::patch_by_replace`](crate::write::patch_by_replace), a
    /// [`Store::get`], the patch applied in memory, and a [`Store::replace`]
    /// conditional on the version read, retried when another write came in
    /// between. It reads the members with the group, and it cannot see what `get`
    /// never returns (`password`): a store that keeps such an attribute keeps it in
    /// `replace` when the input has none, or overrides this method. The Diesel
    /// and memory stores override it with a path that never loads a group's
    /// members.
    fn patch(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        id: &str,
        request: &PatchRequest,
        expected_version: Option<&str>,
        projection: &Projection,
    ) -> impl Future<Output = Result<Value, StoreError>> + Send {
        crate::write::patch_by_replace(
            self,
            scope,
            resource_type,
            id,
            request,
            expected_version,
            projection,
        )
    }

    /// Deletes a resource (rules 6, 9).
    fn delete(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        id: &str,
        expected_version: Option<&str>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Searches one resource type (rules 11 to 15).
    fn query(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        query: &Query,
    ) -> impl Future<Output = Result<Page, StoreError>> + Send;
}

/// A store that changes a group's members without loading the group (rule 16):
/// what a group of 100,000 members needs. The contract kit checks it with
/// `member_store_contract_tests!`.
pub trait MemberStore: Store {
    /// Adds members (ids) to a group without loading it (rule 16); returns the
    /// group's version afterwards.
    fn add_members(
        &self,
        scope: &Scope<'_>,
        group_id: &str,
        members: &[String],
    ) -> impl Future<Output = Result<String, StoreError>> + Send;

    /// Removes members (ids) from a group without loading it (rule 16); returns the
    /// group's version afterwards.
    fn remove_members(
        &self,
        scope: &Scope<'_>,
        group_id: &str,
        members: &[String],
    ) -> impl Future<Output = Result<String, StoreError>> + Send;
}

/// A store that records every change as events in the same transaction, the
/// outbox (rule 17), read in order by [`hooks::Dispatcher`](crate::hooks) and
/// webhooks. The contract kit checks it with `event_store_contract_tests!`.
pub trait EventStore: Store {
    /// The tenant's change events after `after` (rule 17); start with 0.
    fn events(
        &self,
        scope: &Scope<'_>,
        after: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<ChangeEvent>, StoreError>> + Send;
}

/// A store with the directory features identity providers expect beyond the
/// RFCs: Enterprise managers as references (rule 19), archived users (rule 20)
/// and teams derived from departments (rule 21). The contract kit checks it with
/// `directory_store_contract_tests!`.
pub trait DirectoryStore: EventStore {
    /// The archived resources of a type (rule 20), oldest archive first; empty for
    /// types that are never archived.
    fn archived(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
    ) -> impl Future<Output = Result<Vec<Archived>, StoreError>> + Send;

    /// Recomputes the tenant's derived teams from its users under the scope's
    /// [`TeamMode`](crate::TeamMode) (rule 21), in one transaction.
    fn rebuild_teams(
        &self,
        scope: &Scope<'_>,
    ) -> impl Future<Output = Result<TeamsRebuilt, StoreError>> + Send;
}

/// What [`Store::create_or_existing`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    /// It created this resource.
    New(Value),
    /// The input repeats this existing resource (rule 10's retry exception); nothing
    /// was written.
    Existing(Value),
}

impl Created {
    /// The resource, new or existing.
    pub fn into_resource(self) -> Value {
        match self {
            Created::New(resource) | Created::Existing(resource) => resource,
        }
    }

    /// Whether the resource was created by this call.
    pub fn is_new(&self) -> bool {
        matches!(self, Created::New(_))
    }
}

/// An archived resource (rule 20), as [`DirectoryStore::archived`] lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Archived {
    /// The resource as it was when archived (as a client would have read it).
    pub resource: Value,
    /// When it was archived.
    pub archived_at: OffsetDateTime,
}

/// What [`DirectoryStore::rebuild_teams`] changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TeamsRebuilt {
    /// Derived teams afterwards.
    pub teams: usize,
    /// Teams created.
    pub created: usize,
    /// Existing teams whose members changed.
    pub changed: usize,
    /// Teams deleted (empty, or not derived in this mode).
    pub removed: usize,
}
