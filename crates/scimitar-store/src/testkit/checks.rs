//! The store checks, one per rule (or aspect of a rule) of [`Store`].
//!
//! Each check takes the store under test, works in a fresh [`Fixture`] tenant and
//! panics with a message that starts with the rule number when the store breaks it.

// `&[id.clone()]` reads better in a check than `std::slice::from_ref(&id)`.
#![allow(clippy::cloned_ref_to_slice_refs)]

use std::collections::HashMap;

use futures_util::future::join_all;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;

use super::{
    everything, excluding, filtered, group, id_of, member_ids, members_of, only, user, version_of,
    Fixture,
};
use crate::event::ChangeKind;
use crate::query::{Page, Paging, Query, SortOrder};
use crate::schema::{
    PatchOpKind, PatchOperation, PatchRequest, Policy, Projection, Registry, ScimType,
};
use crate::settings::TenantSettings;
use crate::store::{Created, EventStore, MemberStore, Store};
use crate::StoreError;

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

// ---------------------------------------------------------------------------
// Small helpers. They panic with the rule number passed in, so a failure in a
// setup step still says which rule's check it was.

pub(super) async fn create<S: Store>(
    store: &S,
    fx: &Fixture,
    resource_type: &str,
    body: Value,
) -> Value {
    match store.create(&fx.scope(), resource_type, body.clone()).await {
        Ok(created) => created,
        Err(error) => panic!("setup: creating {resource_type} {body} failed: {error:?}"),
    }
}

pub(super) async fn create_user<S: Store>(store: &S, fx: &Fixture, user_name: &str) -> String {
    id_of(&create(store, fx, "User", user(user_name)).await)
}

pub(super) async fn create_group<S: Store>(
    store: &S,
    fx: &Fixture,
    name: &str,
    members: &[&str],
) -> String {
    let mut body = group(name);
    body["members"] = members_of(members);
    id_of(&create(store, fx, "Group", body).await)
}

pub(super) async fn get<S: Store>(store: &S, fx: &Fixture, resource_type: &str, id: &str) -> Value {
    match store
        .get(&fx.scope(), resource_type, id, &Projection::default())
        .await
    {
        Ok(found) => found,
        Err(error) => panic!("setup: reading {resource_type} {id} failed: {error:?}"),
    }
}

pub(super) async fn query<S: Store>(
    store: &S,
    fx: &Fixture,
    resource_type: &str,
    query: &Query,
) -> Page {
    match store.query(&fx.scope(), resource_type, query).await {
        Ok(page) => page,
        Err(error) => panic!("querying {resource_type} with {query:?} failed: {error:?}"),
    }
}

/// The ids a query returns, in order.
pub(super) async fn ids<S: Store>(
    store: &S,
    fx: &Fixture,
    resource_type: &str,
    q: &Query,
) -> Vec<String> {
    query(store, fx, resource_type, q)
        .await
        .resources
        .iter()
        .map(id_of)
        .collect()
}

pub(super) fn patch_request(
    operations: Vec<(PatchOpKind, Option<&str>, Option<Value>)>,
) -> PatchRequest {
    PatchRequest::new(
        operations
            .into_iter()
            .map(|(op, path, value)| PatchOperation {
                op,
                path: path.map(str::to_owned),
                value,
            })
            .collect(),
    )
}

pub(super) async fn event_kinds<S: EventStore>(store: &S, fx: &Fixture) -> Vec<ChangeKind> {
    match store.events(&fx.scope(), 0, 10_000).await {
        Ok(events) => events.into_iter().map(|event| event.kind).collect(),
        Err(error) => panic!("reading events failed: {error:?}"),
    }
}

/// Adds (`add: true`) or removes members of a group through PATCH, the core
/// path every store has; the group's version afterwards.
pub(super) async fn patch_members<S: Store>(
    store: &S,
    fx: &Fixture,
    group_id: &str,
    members: &[&str],
    add: bool,
) -> Result<String, StoreError> {
    let operation = if add {
        PatchOperation {
            op: PatchOpKind::Add,
            path: Some("members".into()),
            value: Some(members_of(members)),
        }
    } else {
        let filter: Vec<String> = members
            .iter()
            .map(|id| format!("value eq \"{id}\""))
            .collect();
        PatchOperation {
            op: PatchOpKind::Remove,
            path: Some(format!("members[{}]", filter.join(" or "))),
            value: None,
        }
    };
    let request = PatchRequest::new(vec![operation]);
    let patched = store
        .patch(
            &fx.scope(),
            "Group",
            group_id,
            &request,
            None,
            &Projection::default(),
        )
        .await?;
    Ok(version_of(&patched))
}

pub(super) fn is_not_found<T>(result: &Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::NotFound { .. }))
}

pub(super) fn is_uniqueness<T>(result: &Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Uniqueness { attribute }) if attribute == "userName")
}

pub(super) fn is_unknown_member<T>(result: &Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::UnknownMember(_)))
}

// ---------------------------------------------------------------------------
// Rules 1 to 10: resources.

/// Rule 1: nothing of tenant A is visible to, or changeable by, tenant B.
pub async fn rule_01_tenants_are_isolated<S: Store>(store: &S) {
    let a = Fixture::new();
    let b = Fixture::new();
    let user_a = create(store, &a, "User", user("shared@example.com")).await;
    let user_a_id = id_of(&user_a);
    let group_a = create_group(store, &a, "Team", &[&user_a_id]).await;
    let user_b_id = create_user(store, &b, "shared@example.com").await;
    let group_b = create_group(store, &b, "Team", &[]).await;
    let (sa, sb) = (a.scope(), b.scope());
    let all = Projection::default();
    let no_op = patch_request(vec![(
        PatchOpKind::Replace,
        Some("displayName"),
        Some(json!("B")),
    )]);

    assert!(
        is_not_found(&store.get(&sb, "User", &user_a_id, &all).await),
        "rule 1: tenant B can read tenant A's user"
    );
    assert!(
        is_not_found(
            &store
                .replace(&sb, "User", &user_a_id, user("taken-over"), None)
                .await
        ),
        "rule 1: tenant B can replace tenant A's user"
    );
    assert!(
        is_not_found(
            &store
                .patch(&sb, "User", &user_a_id, &no_op, None, &all)
                .await
        ),
        "rule 1: tenant B can patch tenant A's user"
    );
    assert!(
        is_not_found(&store.delete(&sb, "User", &user_a_id, None).await),
        "rule 1: tenant B can delete tenant A's user"
    );
    assert!(
        is_not_found(&patch_members(store, &b, &group_a, &[&user_b_id], true).await),
        "rule 1: tenant B can add members to tenant A's group"
    );
    assert!(
        is_unknown_member(&patch_members(store, &b, &group_b, &[&user_a_id], true).await),
        "rule 1: tenant B can make tenant A's user a member of its group"
    );
    assert_eq!(
        ids(store, &b, "User", &everything()).await,
        [user_b_id.clone()],
        "rule 1: tenant B's query sees other tenants' users"
    );
    assert_eq!(
        ids(store, &b, "Group", &everything()).await,
        [group_b.clone()],
        "rule 1: tenant B's query sees other tenants' groups"
    );
    let after = get(store, &a, "User", &user_a_id).await;
    assert_eq!(
        after, user_a,
        "rule 1: tenant B's calls changed tenant A's user"
    );
    let group_after = get(store, &a, "Group", &group_a).await;
    assert_eq!(
        member_ids(&group_after),
        [user_a_id.clone()],
        "rule 1: tenant B's calls changed tenant A's group"
    );
    assert!(
        store.get(&sa, "User", &user_b_id, &all).await.is_err(),
        "rule 1: tenant A can read tenant B's user"
    );
}

/// Rule 2: create assigns `id` and `meta`, ignoring the client's.
pub async fn rule_02_create_assigns_id_and_meta<S: Store>(store: &S) {
    let fx = Fixture::new();
    let mut body = user("meta@example.com");
    body["id"] = json!("client-chosen");
    body["meta"] = json!({"resourceType": "Nonsense", "version": "W/\"x\"", "created": "2001-01-01T00:00:00Z"});
    let created = create(store, &fx, "User", body).await;
    let id = id_of(&created);
    assert_ne!(id, "client-chosen", "rule 2: the client's id was kept");
    assert!(
        uuid::Uuid::parse_str(&id).is_ok(),
        "rule 2: id {id:?} is not a UUID"
    );
    let meta = &created["meta"];
    assert_eq!(
        meta["resourceType"], "User",
        "rule 2: meta.resourceType: {meta}"
    );
    let created_at = meta["created"].as_str().unwrap_or_default();
    assert!(
        time::OffsetDateTime::parse(created_at, &Rfc3339).is_ok(),
        "rule 2: meta.created {created_at:?} is not RFC 3339"
    );
    assert_ne!(
        created_at, "2001-01-01T00:00:00Z",
        "rule 2: the client's meta.created was kept"
    );
    assert_eq!(
        meta["lastModified"], meta["created"],
        "rule 2: a new resource's lastModified differs from created"
    );
    let version = version_of(&created);
    assert!(
        version.starts_with("W/\"") && version.ends_with('"') && version != "W/\"x\"",
        "rule 2: meta.version {version:?} is not a fresh weak ETag"
    );
    let other = create_user(store, &fx, "meta-2@example.com").await;
    assert_ne!(other, id, "rule 2: two creates got the same id");
    let team = create(store, &fx, "Group", group("Meta team")).await;
    assert_eq!(
        team["meta"]["resourceType"], "Group",
        "rule 2: a group's resourceType"
    );
    let unknown = store.create(&fx.scope(), "Widget", json!({})).await;
    assert!(
        matches!(unknown, Err(StoreError::UnknownResourceType(_))),
        "rule 2: an unknown resource type gave {unknown:?}"
    );
}

/// Rule 3: values come back as sent; `password` never comes back.
pub async fn rule_03_values_round_trip<S: Store>(store: &S) {
    let fx = Fixture::new();
    let boss = create_user(store, &fx, "boss@contoso.com").await;
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee@contoso.com",
        "active": true,
        "displayName": "Test User 😀 Ünïcode",
        "title": "Principal \"Quoted\" Engineer",
        "emails": [
            {"primary": true, "type": "work", "value": "Test_User_fd0ea19b@contoso.com"},
            {"type": "home", "value": "home@example.org"}
        ],
        "name": {"formatted": "Test User", "familyName": "User", "givenName": "Test"},
        "password": "s3cret!",
        ENTERPRISE: {"department": "Dept 7", "employeeNumber": "00042", "manager": {"value": boss}}
    });
    let created = create(store, &fx, "User", body.clone()).await;
    let read = get(store, &fx, "User", &id_of(&created)).await;
    for (name, value) in body.as_object().into_iter().flatten() {
        if name == "password" || name == "schemas" {
            continue;
        }
        assert_eq!(
            read.get(name),
            Some(value),
            "rule 3: attribute {name} did not round-trip; read back {read}"
        );
    }
    for resource in [&created, &read] {
        assert!(
            resource.get("password").is_none(),
            "rule 3: password was returned: {resource}"
        );
    }
    let page = query(store, &fx, "User", &everything()).await;
    assert!(
        page.resources.iter().all(|r| r.get("password").is_none()),
        "rule 3: password was returned by a query"
    );
}

/// Rule 4: get projects; unknown ids are `NotFound`.
pub async fn rule_04_get_projects_and_reports_unknown_ids<S: Store>(store: &S) {
    let fx = Fixture::new();
    let mut body = user("projected@example.com");
    body["displayName"] = json!("Projected");
    body["title"] = json!("Tester");
    let id = id_of(&create(store, &fx, "User", body).await);
    let scope = fx.scope();
    let missing = uuid::Uuid::new_v4().to_string();
    assert!(
        is_not_found(
            &store
                .get(&scope, "User", &missing, &Projection::default())
                .await
        ),
        "rule 4: an unknown id is not NotFound"
    );
    assert!(
        is_not_found(
            &store
                .get(&scope, "Group", &id, &Projection::default())
                .await
        ),
        "rule 4: a user read as a group is not NotFound"
    );
    let slim = store
        .get(&scope, "User", &id, &only(&["userName"]))
        .await
        .unwrap_or_else(|e| panic!("rule 4: get with attributes failed: {e:?}"));
    assert_eq!(slim["userName"], "projected@example.com", "rule 4: {slim}");
    assert_eq!(
        slim["id"],
        id.as_str(),
        "rule 4: id is returned always: {slim}"
    );
    assert!(
        slim.get("displayName").is_none() && slim.get("title").is_none(),
        "rule 4: attributes=userName returned more: {slim}"
    );
    let without = store
        .get(&scope, "User", &id, &excluding(&["title"]))
        .await
        .unwrap_or_else(|e| panic!("rule 4: get with excludedAttributes failed: {e:?}"));
    assert!(
        without.get("title").is_none() && without["displayName"] == "Projected",
        "rule 4: excludedAttributes=title gave {without}"
    );
}

/// Rule 5: the version changes with every change, and only then.
pub async fn rule_05_versions_change_with_every_change_only<S: Store>(store: &S) {
    let fx = Fixture::new();
    let scope = fx.scope();
    let created = create(store, &fx, "User", user("versions@example.com")).await;
    let id = id_of(&created);
    let mut changed = user("versions@example.com");
    changed["displayName"] = json!("Changed");
    let replaced = store
        .replace(&scope, "User", &id, changed.clone(), None)
        .await
        .unwrap_or_else(|e| panic!("rule 5: replace failed: {e:?}"));
    assert_ne!(
        version_of(&replaced),
        version_of(&created),
        "rule 5: a replace kept the version"
    );
    assert_eq!(
        replaced["meta"]["created"], created["meta"]["created"],
        "rule 5: meta.created changed"
    );
    let again = store
        .replace(&scope, "User", &id, changed, None)
        .await
        .unwrap_or_else(|e| panic!("rule 5: identical replace failed: {e:?}"));
    assert_eq!(
        version_of(&again),
        version_of(&replaced),
        "rule 5: an identical replace changed the version"
    );
    assert_eq!(
        again["meta"]["lastModified"], replaced["meta"]["lastModified"],
        "rule 5: an identical replace changed lastModified"
    );

    let group_id = create_group(store, &fx, "Versioned", &[]).await;
    let v1 = version_of(&get(store, &fx, "Group", &group_id).await);
    let v2 = patch_members(store, &fx, &group_id, &[&id], true)
        .await
        .unwrap_or_else(|e| panic!("rule 5: adding a member failed: {e:?}"));
    assert_ne!(v1, v2, "rule 5: adding a member kept the group's version");
    let v3 = patch_members(store, &fx, &group_id, &[&id], true)
        .await
        .unwrap_or_else(|e| panic!("rule 5: re-adding a member failed: {e:?}"));
    assert_eq!(
        v3, v2,
        "rule 5: re-adding a present member changed the version"
    );
    let v4 = patch_members(store, &fx, &group_id, &[&id], false)
        .await
        .unwrap_or_else(|e| panic!("rule 5: removing a member failed: {e:?}"));
    assert_ne!(v4, v2, "rule 5: removing a member kept the version");
}

/// Rules 5 and 16 for member calls: [`MemberStore::add_members`] and
/// [`MemberStore::remove_members`] change the group's version when they change
/// its members, and only then.
pub async fn rule_16_member_calls_change_versions_only_on_change<S: MemberStore>(store: &S) {
    let fx = Fixture::new();
    let scope = fx.scope();
    let id = create_user(store, &fx, "member-versions@example.com").await;
    let group_id = create_group(store, &fx, "Versioned", &[]).await;
    let v1 = version_of(&get(store, &fx, "Group", &group_id).await);
    let v2 = store
        .add_members(&scope, &group_id, &[id.clone()])
        .await
        .unwrap_or_else(|e| panic!("rule 5 (member calls): add_members failed: {e:?}"));
    assert_ne!(
        v1, v2,
        "rule 5 (member calls): adding a member kept the group's version"
    );
    assert_eq!(
        version_of(&get(store, &fx, "Group", &group_id).await),
        v2,
        "rule 5 (member calls): add_members returned a version that is not the group's"
    );
    let v3 = store
        .add_members(&scope, &group_id, &[id.clone()])
        .await
        .unwrap_or_else(|e| panic!("rule 5 (member calls): add_members failed: {e:?}"));
    assert_eq!(
        v3, v2,
        "rule 5 (member calls): re-adding a present member changed the version"
    );
    let absent = create_user(store, &fx, "absent@example.com").await;
    let v4 = store
        .remove_members(&scope, &group_id, &[absent])
        .await
        .unwrap_or_else(|e| panic!("rule 5 (member calls): remove_members failed: {e:?}"));
    assert_eq!(
        v4, v2,
        "rule 5 (member calls): removing an absent member changed the version"
    );
    let v5 = store
        .remove_members(&scope, &group_id, &[id])
        .await
        .unwrap_or_else(|e| panic!("rule 5 (member calls): remove_members failed: {e:?}"));
    assert_ne!(
        v5, v2,
        "rule 5 (member calls): removing a member kept the version"
    );
}

/// Rule 1 for member calls: another tenant's group cannot be changed, nor can
/// another tenant's user become a member.
pub async fn rule_16_member_calls_are_isolated<S: MemberStore>(store: &S) {
    let a = Fixture::new();
    let b = Fixture::new();
    let user_a_id = create_user(store, &a, "shared@example.com").await;
    let group_a = create_group(store, &a, "Team", &[&user_a_id]).await;
    let user_b_id = create_user(store, &b, "shared@example.com").await;
    let group_b = create_group(store, &b, "Team", &[]).await;
    let sb = b.scope();
    assert!(
        is_not_found(&store.add_members(&sb, &group_a, &[user_b_id.clone()]).await),
        "rule 1: tenant B can add members to tenant A's group"
    );
    assert!(
        is_not_found(
            &store
                .remove_members(&sb, &group_a, &[user_a_id.clone()])
                .await
        ),
        "rule 1: tenant B can remove members from tenant A's group"
    );
    assert!(
        is_unknown_member(&store.add_members(&sb, &group_b, &[user_a_id.clone()]).await),
        "rule 1: tenant B can make tenant A's user a member of its group"
    );
    assert_eq!(
        member_ids(&get(store, &a, "Group", &group_a).await),
        [user_a_id],
        "rule 1: tenant B's member calls changed tenant A's group"
    );
}

/// Rules 1, 5, 10 and 18 for the outbox: events are per tenant, writes that change
/// nothing or are refused record none, and reading past the end is empty.
pub async fn rule_17_events_follow_changes_only<S: EventStore>(store: &S) {
    let a = Fixture::new();
    let b = Fixture::new();
    let user_a_id = create_user(store, &a, "shared@example.com").await;
    create_user(store, &b, "shared@example.com").await;
    let events_b = store.events(&b.scope(), 0, 1000).await.unwrap_or_default();
    assert!(
        events_b
            .iter()
            .all(|event| event.tenant == b.tenant && event.resource_id != user_a_id),
        "rule 1: tenant B reads tenant A's events: {events_b:?}"
    );

    let fx = a;
    let scope = fx.scope();
    let mut changed = user("shared@example.com");
    changed["displayName"] = json!("Changed");
    store
        .replace(&scope, "User", &user_a_id, changed.clone(), None)
        .await
        .unwrap_or_else(|e| panic!("rule 17: replace failed: {e:?}"));
    let before = event_kinds(store, &fx).await.len();
    store
        .replace(&scope, "User", &user_a_id, changed, None)
        .await
        .unwrap_or_else(|e| panic!("rule 5: identical replace failed: {e:?}"));
    assert_eq!(
        event_kinds(store, &fx).await.len(),
        before,
        "rule 5: an identical replace recorded an event"
    );
    let again = store
        .create(&scope, "User", user("shared@example.com"))
        .await;
    assert!(
        is_uniqueness(&again),
        "rule 10: a duplicate create gave {again:?}"
    );
    assert_eq!(
        event_kinds(store, &fx).await.len(),
        before,
        "rule 10: a refused create recorded an event"
    );
    let events = store.events(&scope, u64::MAX, usize::MAX).await;
    assert!(
        matches!(&events, Ok(list) if list.is_empty()),
        "rule 18: events past the end gave {events:?}"
    );
}

/// Rule 6: `If-Match` versions guard replace, patch and delete.
pub async fn rule_06_preconditions_guard_writes<S: Store>(store: &S) {
    let fx = Fixture::new();
    let scope = fx.scope();
    let created = create(store, &fx, "User", user("etag@example.com")).await;
    let id = id_of(&created);
    let v1 = version_of(&created);
    let stale = "W/\"not-the-version\"";
    let mut renamed = user("etag@example.com");
    renamed["displayName"] = json!("Renamed");

    let result = store
        .replace(&scope, "User", &id, renamed.clone(), Some(stale))
        .await;
    match result {
        Err(StoreError::VersionMismatch { current }) => {
            assert_eq!(
                current, v1,
                "rule 6: VersionMismatch carries the wrong version"
            )
        }
        other => panic!("rule 6: replace with a stale version gave {other:?}"),
    }
    let patch = patch_request(vec![(
        PatchOpKind::Replace,
        Some("displayName"),
        Some(json!("P")),
    )]);
    let result = store
        .patch(
            &scope,
            "User",
            &id,
            &patch,
            Some(stale),
            &Projection::default(),
        )
        .await;
    assert!(
        matches!(result, Err(StoreError::VersionMismatch { .. })),
        "rule 6: patch with a stale version gave {result:?}"
    );
    let result = store.delete(&scope, "User", &id, Some(stale)).await;
    assert!(
        matches!(result, Err(StoreError::VersionMismatch { .. })),
        "rule 6: delete with a stale version gave {result:?}"
    );
    assert_eq!(
        get(store, &fx, "User", &id).await,
        created,
        "rule 6: a failed precondition changed the resource"
    );

    // The strong form of the tag matches too (weak comparison).
    let strong = v1.trim_start_matches("W/").to_owned();
    let replaced = store
        .replace(&scope, "User", &id, renamed, Some(&strong))
        .await
        .unwrap_or_else(|e| panic!("rule 6: replace with the current version failed: {e:?}"));
    let v2 = version_of(&replaced);
    let result = store.delete(&scope, "User", &id, Some(&v1)).await;
    assert!(
        matches!(result, Err(StoreError::VersionMismatch { .. })),
        "rule 6: delete with the previous version gave {result:?}"
    );
    let patched = store
        .patch(
            &scope,
            "User",
            &id,
            &patch,
            Some("*"),
            &Projection::default(),
        )
        .await;
    assert!(
        patched.is_ok(),
        "rule 6: patch with If-Match * gave {patched:?}"
    );
    let result = store.delete(&scope, "User", &id, Some(&v2)).await;
    assert!(
        matches!(result, Err(StoreError::VersionMismatch { .. })),
        "rule 6: the patch did not move the version on"
    );
    let current = version_of(&get(store, &fx, "User", &id).await);
    let deleted = store.delete(&scope, "User", &id, Some(&current)).await;
    assert!(
        deleted.is_ok(),
        "rule 6: delete with the current version gave {deleted:?}"
    );
    let result = store.delete(&scope, "User", &id, Some(&current)).await;
    assert!(
        is_not_found(&result),
        "rule 6: a missing resource with a version is not NotFound: {result:?}"
    );
}

/// Rule 7: replace makes the resource exactly the input.
pub async fn rule_07_replace_is_whole<S: Store>(store: &S) {
    let fx = Fixture::new();
    let scope = fx.scope();
    let mut body = user("whole@example.com");
    body["displayName"] = json!("Whole");
    body["title"] = json!("Before");
    let created = create(store, &fx, "User", body).await;
    let id = id_of(&created);
    let mut replacement = user("whole@example.com");
    replacement["nickName"] = json!("After");
    replacement["id"] = json!("another-id");
    let replaced = store
        .replace(&scope, "User", &id, replacement, None)
        .await
        .unwrap_or_else(|e| panic!("rule 7: replace failed: {e:?}"));
    let read = get(store, &fx, "User", &id).await;
    for resource in [&replaced, &read] {
        assert_eq!(
            resource["id"],
            id.as_str(),
            "rule 7: the id changed: {resource}"
        );
        assert!(
            resource.get("displayName").is_none() && resource.get("title").is_none(),
            "rule 7: attributes left out of a replace were kept: {resource}"
        );
        assert_eq!(resource["nickName"], "After", "rule 7: {resource}");
        assert_eq!(
            resource["meta"]["created"], created["meta"]["created"],
            "rule 7: meta.created changed"
        );
    }

    let u1 = create_user(store, &fx, "whole-1@example.com").await;
    let u2 = create_user(store, &fx, "whole-2@example.com").await;
    let team = create_group(store, &fx, "Whole team", &[&u1]).await;
    let mut with_two = group("Whole team");
    with_two["members"] = members_of(&[&u1, &u2]);
    let replaced = store
        .replace(&scope, "Group", &team, with_two, None)
        .await
        .unwrap_or_else(|e| panic!("rule 7: group replace failed: {e:?}"));
    assert_eq!(
        member_ids(&replaced),
        [u1.clone(), u2.clone()],
        "rule 7: {replaced}"
    );
    let mut with_one = group("Whole team");
    with_one["members"] = members_of(&[&u2]);
    let replaced = store
        .replace(&scope, "Group", &team, with_one, None)
        .await
        .unwrap_or_else(|e| panic!("rule 7: group replace failed: {e:?}"));
    assert_eq!(
        member_ids(&replaced),
        [u2],
        "rule 7: members not replaced: {replaced}"
    );
    let replaced = store
        .replace(&scope, "Group", &team, group("Whole team"), None)
        .await
        .unwrap_or_else(|e| panic!("rule 7: group replace failed: {e:?}"));
    assert!(
        member_ids(&replaced).is_empty()
            && member_ids(&get(store, &fx, "Group", &team).await).is_empty(),
        "rule 7: a replace without members kept members: {replaced}"
    );
}

/// Rule 8: a PATCH applies wholly or not at all, and returns the resource.
pub async fn rule_08_patch_is_atomic<S: Store>(store: &S) {
    let fx = Fixture::new();
    let scope = fx.scope();
    let mut body = user("patch@example.com");
    body["displayName"] = json!("Before");
    let created = create(store, &fx, "User", body).await;
    let id = id_of(&created);

    let failing = patch_request(vec![
        (
            PatchOpKind::Replace,
            Some("displayName"),
            Some(json!("After")),
        ),
        // A number where a boolean belongs: refused under every policy.
        (PatchOpKind::Replace, Some("active"), Some(json!(42))),
    ]);
    let result = store
        .patch(&scope, "User", &id, &failing, None, &Projection::default())
        .await;
    assert!(
        matches!(&result, Err(error) if error.status() == 400),
        "rule 8: a patch with an invalid operation gave {result:?}"
    );
    assert_eq!(
        get(store, &fx, "User", &id).await,
        created,
        "rule 8: a failed patch changed the resource"
    );

    let working = patch_request(vec![
        (
            PatchOpKind::Replace,
            Some("displayName"),
            Some(json!("After")),
        ),
        (PatchOpKind::Add, Some("title"), Some(json!("Patched"))),
    ]);
    let patched = store
        .patch(&scope, "User", &id, &working, None, &Projection::default())
        .await
        .unwrap_or_else(|e| panic!("rule 8: patch failed: {e:?}"));
    assert_eq!(patched["displayName"], "After", "rule 8: {patched}");
    assert_eq!(patched["title"], "Patched", "rule 8: {patched}");
    assert_ne!(
        version_of(&patched),
        version_of(&created),
        "rule 8/5: version kept"
    );
    assert_eq!(
        get(store, &fx, "User", &id).await,
        patched,
        "rule 8: the patch returned something else than it stored"
    );

    create_user(store, &fx, "taken@example.com").await;
    let rename = patch_request(vec![(
        PatchOpKind::Replace,
        Some("userName"),
        Some(json!("TAKEN@example.com")),
    )]);
    let result = store
        .patch(&scope, "User", &id, &rename, None, &Projection::default())
        .await;
    assert!(
        is_uniqueness(&result),
        "rule 8/10: a patch to a taken userName gave {result:?}"
    );
    let projected = store
        .patch(&scope, "User", &id, &working, None, &only(&["userName"]))
        .await
        .unwrap_or_else(|e| panic!("rule 8: patch failed: {e:?}"));
    assert!(
        projected.get("displayName").is_none() && projected["userName"] == "patch@example.com",
        "rule 8: patch ignored its projection: {projected}"
    );
}

/// Rule 8: PATCH on a group's members goes through the membership relation.
pub async fn rule_08_patch_moves_group_members<S: Store>(store: &S) {
    let fx = Fixture::new();
    let scope = fx.scope();
    let u1 = create_user(store, &fx, "pm-1@example.com").await;
    let u2 = create_user(store, &fx, "pm-2@example.com").await;
    let u3 = create_user(store, &fx, "pm-3@example.com").await;
    let team = create_group(store, &fx, "Patched team", &[]).await;
    let all = Projection::default();

    let add = patch_request(vec![(
        PatchOpKind::Add,
        Some("members"),
        Some(members_of(&[&u1, &u2])),
    )]);
    let patched = store
        .patch(&scope, "Group", &team, &add, None, &all)
        .await
        .unwrap_or_else(|e| panic!("rule 8: adding members failed: {e:?}"));
    assert_eq!(
        member_ids(&patched),
        [u1.clone(), u2.clone()],
        "rule 8: {patched}"
    );

    let filter_path = format!("members[value eq \"{u1}\"]");
    let mixed = patch_request(vec![
        (PatchOpKind::Remove, Some(filter_path.as_str()), None),
        (PatchOpKind::Add, Some("members"), Some(members_of(&[&u3]))),
        (
            PatchOpKind::Replace,
            Some("displayName"),
            Some(json!("Renamed team")),
        ),
    ]);
    let patched = store
        .patch(
            &scope,
            "Group",
            &team,
            &mixed,
            None,
            &excluding(&["members"]),
        )
        .await
        .unwrap_or_else(|e| panic!("rule 8: a mixed member patch failed: {e:?}"));
    assert!(
        patched.get("members").is_none() && patched["displayName"] == "Renamed team",
        "rule 8/15: excludedAttributes=members on patch gave {patched}"
    );
    let read = get(store, &fx, "Group", &team).await;
    assert_eq!(
        member_ids(&read),
        [u2.clone(), u3.clone()],
        "rule 8: members after the patch: {read}"
    );

    // Entra ID: `remove` on `members` with a value list removes only those
    // (compatible policy).
    let entra_remove = patch_request(vec![(
        PatchOpKind::Remove,
        Some("members"),
        Some(members_of(&[&u2])),
    )]);
    let patched = store
        .patch(&scope, "Group", &team, &entra_remove, None, &all)
        .await
        .unwrap_or_else(|e| panic!("rule 8: Entra ID's member removal failed: {e:?}"));
    assert_eq!(member_ids(&patched), [u3.clone()], "rule 8: {patched}");
    // Okta's full push: `replace` on `members`.
    let okta_push = patch_request(vec![(
        PatchOpKind::Replace,
        Some("members"),
        Some(members_of(&[&u1, &u3])),
    )]);
    let patched = store
        .patch(&scope, "Group", &team, &okta_push, None, &all)
        .await
        .unwrap_or_else(|e| panic!("rule 8: replacing members failed: {e:?}"));
    assert_eq!(member_ids(&patched), [u3, u1], "rule 8: {patched}");
    // `remove` of `members` without a value empties the group.
    let clear = patch_request(vec![(PatchOpKind::Remove, Some("members"), None)]);
    let patched = store
        .patch(&scope, "Group", &team, &clear, None, &all)
        .await
        .unwrap_or_else(|e| panic!("rule 8: removing all members failed: {e:?}"));
    assert!(member_ids(&patched).is_empty(), "rule 8: {patched}");
    let ghost = patch_request(vec![(
        PatchOpKind::Add,
        Some("members"),
        Some(members_of(&["no-such-member"])),
    )]);
    let result = store
        .patch(&scope, "Group", &team, &ghost, None, &all)
        .await;
    assert!(
        is_unknown_member(&result),
        "rule 16: a PATCH adding an unknown member gave {result:?}"
    );
}

/// Rules 9 and 16: delete removes the resource and its memberships.
pub async fn rule_09_delete_removes_everywhere<S: Store>(store: &S) {
    let fx = Fixture::new();
    let scope = fx.scope();
    let leaver = create_user(store, &fx, "leaver@example.com").await;
    let stayer = create_user(store, &fx, "stayer@example.com").await;
    let g1 = create_group(store, &fx, "One", &[&leaver, &stayer]).await;
    let g2 = create_group(store, &fx, "Two", &[&leaver]).await;
    let g1_version = version_of(&get(store, &fx, "Group", &g1).await);

    let deleted = store.delete(&scope, "User", &leaver, None).await;
    assert!(deleted.is_ok(), "rule 9: delete failed: {deleted:?}");
    assert!(
        is_not_found(
            &store
                .get(&scope, "User", &leaver, &Projection::default())
                .await
        ),
        "rule 9: a deleted user can still be read"
    );
    assert!(
        is_not_found(&store.delete(&scope, "User", &leaver, None).await),
        "rule 9: deleting twice is not NotFound"
    );
    assert!(
        !ids(store, &fx, "User", &everything())
            .await
            .contains(&leaver),
        "rule 9: a deleted user is still returned by queries"
    );
    let one = get(store, &fx, "Group", &g1).await;
    assert_eq!(
        member_ids(&one),
        [stayer.clone()],
        "rule 9: deleted user still a member: {one}"
    );
    assert_ne!(
        version_of(&one),
        g1_version,
        "rule 9: the group's version did not change"
    );
    let two = get(store, &fx, "Group", &g2).await;
    assert!(
        member_ids(&two).is_empty(),
        "rule 9: deleted user still a member: {two}"
    );

    // A deleted group leaves its own groups, and its members stay.
    let nested = create_group(store, &fx, "Nested", &[&stayer]).await;
    patch_members(store, &fx, &g2, &[&nested], true)
        .await
        .unwrap_or_else(|e| panic!("rule 9: nesting a group failed: {e:?}"));
    assert!(store.delete(&scope, "Group", &nested, None).await.is_ok());
    assert!(
        member_ids(&get(store, &fx, "Group", &g2).await).is_empty(),
        "rule 9: a deleted group is still a member"
    );
    assert_eq!(
        id_of(&get(store, &fx, "User", &stayer).await),
        stayer,
        "rule 9: deleting a group deleted its member"
    );
    let reused = patch_members(store, &fx, &g1, &[&nested], true).await;
    assert!(
        is_unknown_member(&reused),
        "rule 16: a deleted group can still be added as a member: {reused:?}"
    );
}

/// Rule 10: `userName` is unique per tenant, ignoring case; nothing else is unique.
pub async fn rule_10_user_name_is_unique_ignoring_case<S: Store>(store: &S) {
    let fx = Fixture::new();
    let scope = fx.scope();
    let alice = create_user(store, &fx, "Alice@Example.com").await;
    let result = store
        .create(&scope, "User", user("alice@example.COM"))
        .await;
    assert!(
        is_uniqueness(&result),
        "rule 10: case-variant create gave {result:?}"
    );
    if let Err(error) = &result {
        assert_eq!(error.status(), 409, "rule 10: uniqueness status");
        assert_eq!(
            error.scim_type(),
            Some(ScimType::Uniqueness),
            "rule 10: scimType"
        );
    }
    let bob = create_user(store, &fx, "bob@example.com").await;
    let result = store
        .replace(&scope, "User", &bob, user("ALICE@example.com"), None)
        .await;
    assert!(
        is_uniqueness(&result),
        "rule 10: replace onto a taken userName gave {result:?}"
    );
    assert_eq!(
        get(store, &fx, "User", &bob).await["userName"],
        "bob@example.com",
        "rule 10: a failed replace changed the user"
    );
    let result = store
        .replace(&scope, "User", &alice, user("ALICE@example.com"), None)
        .await;
    assert!(
        result.is_ok(),
        "rule 10: changing the case of one's own userName gave {result:?}"
    );
    // The old spelling is free again once its user moves on.
    store
        .replace(&scope, "User", &bob, user("robert@example.com"), None)
        .await
        .unwrap_or_else(|e| panic!("rule 10: renaming failed: {e:?}"));
    let result = store.create(&scope, "User", user("BOB@example.com")).await;
    assert!(
        result.is_ok(),
        "rule 10: a released userName is still taken: {result:?}"
    );

    let result = store
        .create(&scope, "User", user("ÉMILE@example.com"))
        .await;
    assert!(result.is_ok(), "{result:?}");
    let result = store
        .create(&scope, "User", user("émile@example.com"))
        .await;
    assert!(
        is_uniqueness(&result),
        "rule 10: case folding is not Unicode-aware: {result:?}"
    );

    let mut first = user("ext-1@example.com");
    first["externalId"] = json!("same-external-id");
    let mut second = user("ext-2@example.com");
    second["externalId"] = json!("same-external-id");
    create(store, &fx, "User", first).await;
    let result = store.create(&scope, "User", second).await;
    assert!(
        result.is_ok(),
        "rule 10: externalId was made unique: {result:?}"
    );
    create(store, &fx, "Group", group("Same name")).await;
    let result = store.create(&scope, "Group", group("Same name")).await;
    assert!(
        result.is_ok(),
        "rule 10: group displayName was made unique: {result:?}"
    );
}

/// Rule 10: of 50 simultaneous creates of one `userName`, exactly one succeeds,
/// also when they are identical and come from one client (no replay by default).
///
/// The creates are polled together from one task (`join_all`), so a store whose
/// futures await its database races them for real; one that blocks inside its
/// futures runs them one after another, and must still answer one success.
pub async fn rule_10_concurrent_creates_have_one_winner<S: Store>(store: &S) {
    let fx = Fixture::new();
    let scope = fx.scope().with_client("token-a");
    let attempts = (0..50).map(|i| {
        // Every other one in another case: uniqueness ignores case.
        let name = if i % 2 == 0 {
            "racer@example.com"
        } else {
            "RACER@example.com"
        };
        let mut body = user(name);
        body["externalId"] = json!("racer");
        store.create(&scope, "User", body)
    });
    let results = join_all(attempts).await;
    let winners = results.iter().filter(|result| result.is_ok()).count();
    let conflicts = results
        .iter()
        .filter(|result| is_uniqueness(result))
        .count();
    assert_eq!(
        (winners, conflicts),
        (1, 49),
        "rule 10: 50 racing creates gave {winners} successes and {conflicts} conflicts: {results:?}"
    );
    let stored = ids(
        store,
        &fx,
        "User",
        &filtered("userName eq \"racer@example.com\""),
    )
    .await;
    assert_eq!(stored.len(), 1, "rule 10: racing creates stored {stored:?}");
}

/// Rule 10: by default a create that repeats an existing user exactly, from the
/// same client, is a conflict under every policy; so is a group create's twin not
/// deduplicated.
pub async fn rule_10_duplicate_create_conflicts_by_default<S: Store>(store: &S) {
    for policy in [Policy::compatible(), Policy::strict()] {
        let fx = Fixture {
            policy,
            ..Fixture::new()
        };
        let scope = fx.scope().with_client("token-a");
        let mut body = user("twice@example.com");
        body["externalId"] = json!("twice-1");
        let first = store.create(&scope, "User", body.clone()).await;
        assert!(first.is_ok(), "rule 10: a first create gave {first:?}");
        let again = store.create(&scope, "User", body).await;
        assert!(
            is_uniqueness(&again),
            "rule 10: a repeated create gave {again:?} under {:?}",
            fx.policy
        );
        let mut team = group("Twice");
        team["externalId"] = json!("twice-group");
        let a = create(store, &fx, "Group", team.clone()).await;
        let b = create(store, &fx, "Group", team).await;
        assert_ne!(
            id_of(&a),
            id_of(&b),
            "rule 10: a repeated group create returned the first group by default"
        );
    }
}

/// A fixture whose tenant replays creates within `seconds`.
fn replaying(seconds: u32) -> Fixture {
    Fixture::with_settings(TenantSettings {
        create_retry_window_seconds: seconds,
        ..TenantSettings::default()
    })
}

/// Rule 10: with `create_retry_window_seconds`, a create that the same client
/// repeats exactly within the window returns the user it made; from another
/// client, with any difference, or after the window, it conflicts.
pub async fn rule_10_replayed_create_returns_the_same_user<S: EventStore>(store: &S) {
    let fx = replaying(120);
    let scope = fx.scope().with_client("token-a");
    let mut body = user("retry@example.com");
    body["externalId"] = json!("retry-1");
    body["displayName"] = json!("Retry");
    let first = match store.create_or_existing(&scope, "User", body.clone()).await {
        Ok(Created::New(user)) => user,
        other => panic!("rule 10: a first create gave {other:?}"),
    };
    let events = event_kinds(store, &fx).await.len();
    let replayed = store.create_or_existing(&scope, "User", body.clone()).await;
    assert_eq!(
        replayed.ok(),
        Some(Created::Existing(first.clone())),
        "rule 10: a replayed create did not return the same user"
    );
    assert_eq!(
        event_kinds(store, &fx).await.len(),
        events,
        "rule 10: a replayed create recorded an event"
    );
    let mut renamed = body.clone();
    renamed["displayName"] = json!("Someone else");
    let mut other_external_id = body.clone();
    other_external_id["externalId"] = json!("retry-2");
    let mut no_external_id = body.clone();
    no_external_id
        .as_object_mut()
        .map(|body| body.remove("externalId"));
    let other_client = fx.scope().with_client("token-b");
    let no_client = fx.scope();
    for (what, scope, body) in [
        ("another displayName", &scope, renamed),
        ("another externalId", &scope, other_external_id),
        ("no externalId", &scope, no_external_id),
        ("another client", &other_client, body.clone()),
        ("no client", &no_client, body.clone()),
    ] {
        let result = store.create(scope, "User", body).await;
        assert!(
            is_uniqueness(&result),
            "rule 10: a create with {what} gave {result:?}"
        );
    }

    // After the window the same replay is a conflict.
    let fx = replaying(1);
    let scope = fx.scope().with_client("token-a");
    store
        .create(&scope, "User", body.clone())
        .await
        .unwrap_or_else(|e| panic!("rule 10: a first create failed: {e:?}"));
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let late = store.create(&scope, "User", body).await;
    assert!(
        is_uniqueness(&late),
        "rule 10: a replay after the window gave {late:?}"
    );
}

/// Rule 10: a replay that differs only in `password` (which the server replaces by
/// a hash with a fresh salt every time) returns the existing user.
pub async fn rule_10_replayed_create_ignores_the_password<S: EventStore>(store: &S) {
    let fx = replaying(120);
    let scope = fx.scope().with_client("token-a");
    let mut body = user("rehashed@example.com");
    body["password"] = json!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdC0x$aGFzaC0x");
    let first = store
        .create(&scope, "User", body.clone())
        .await
        .unwrap_or_else(|e| panic!("rule 10: a first create failed: {e:?}"));
    body["password"] = json!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdC0y$aGFzaC0y");
    let retried = store.create_or_existing(&scope, "User", body).await;
    assert_eq!(
        retried.ok(),
        Some(Created::Existing(first)),
        "rule 10: a replay with a freshly hashed password did not return the user"
    );
}

/// Rule 10: with `create_retry_window_seconds`, a group create that the same
/// client repeats with the same `externalId` returns that group instead of making
/// a twin.
pub async fn rule_10_replayed_create_returns_the_same_group<S: EventStore>(store: &S) {
    let fx = replaying(120);
    let scope = fx.scope().with_client("token-a");
    let u1 = match store
        .create_or_existing(&scope, "User", user("gretry@example.com"))
        .await
    {
        Ok(Created::New(user)) => id_of(&user).to_owned(),
        other => panic!("rule 10: a first user create gave {other:?}"),
    };
    let mut body = group("Retried team");
    body["externalId"] = json!("entra-group-1");
    body["members"] = members_of(&[&u1]);
    let first = match store
        .create_or_existing(&scope, "Group", body.clone())
        .await
    {
        Ok(Created::New(group)) => group,
        other => panic!("rule 10: a first group create gave {other:?}"),
    };
    let events = event_kinds(store, &fx).await.len();
    let retried = store
        .create_or_existing(&scope, "Group", body.clone())
        .await;
    assert_eq!(
        retried.ok(),
        Some(Created::Existing(first.clone())),
        "rule 10: a replayed group create did not return the group"
    );
    let retried = store
        .create_or_existing(&scope, "User", user("gretry@example.com"))
        .await;
    assert!(
        matches!(&retried, Ok(Created::Existing(existing)) if id_of(existing) == u1),
        "rule 10: a replayed user create is not reported as existing: {retried:?}"
    );
    assert_eq!(
        event_kinds(store, &fx).await.len(),
        events,
        "rule 10: a replayed create recorded an event"
    );
    let mut renamed = body.clone();
    renamed["displayName"] = json!("Another team");
    let mut without_external_id = group("Retried team");
    without_external_id["members"] = members_of(&[&u1]);
    let other_client = fx.scope().with_client("token-b");
    for (what, scope, other) in [
        ("another name", &scope, renamed),
        ("no externalId", &scope, without_external_id),
        ("another client", &other_client, body.clone()),
    ] {
        let created = store.create_or_existing(scope, "Group", other).await;
        assert!(
            matches!(&created, Ok(Created::New(group)) if id_of(group) != id_of(&first)),
            "rule 10: a group create with {what} gave {created:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// Rules 11 to 15: queries.

/// Four users every filter check runs against, created in this order.
struct People {
    by_id: HashMap<String, &'static str>,
    alice: String,
}

async fn people<S: Store>(store: &S, fx: &Fixture) -> People {
    let bodies = [
        (
            "alice",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
                "userName": "alice@example.com", "externalId": "EXT-Alice",
                "displayName": "Alice Smith", "title": "Engineer", "active": true,
                "name": {"givenName": "Alice", "familyName": "Smith"},
                "emails": [
                    {"value": "alice@example.com", "type": "work", "primary": true},
                    {"value": "alice@home.example", "type": "home"}
                ],
                ENTERPRISE: {"department": "Sales", "employeeNumber": "100"}
            }),
        ),
        (
            "bob",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
                "userName": "Bob@Example.com", "externalId": "ext-bob",
                "displayName": "Bob Jones", "active": false,
                "name": {"givenName": "Bob", "familyName": "Jones"},
                "emails": [{"value": "bob@example.com", "type": "work"}],
                ENTERPRISE: {"department": "Engineering"}
            }),
        ),
        (
            "carol",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                   "userName": "carol", "active": true, "name": {"familyName": "Brown"}}),
        ),
        (
            "dave",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                   "userName": "dave", "displayName": "Dave", "nickName": "D", "active": true}),
        ),
    ];
    let mut by_id = HashMap::new();
    let mut alice = String::new();
    for (name, body) in bodies {
        let id = id_of(&create(store, fx, "User", body).await);
        if name == "alice" {
            alice = id.clone();
        }
        by_id.insert(id, name);
    }
    People { by_id, alice }
}

impl People {
    /// The id of the user called `name`.
    fn id_of(&self, name: &str) -> String {
        self.by_id
            .iter()
            .find(|(_, known)| **known == name)
            .map(|(id, _)| id.clone())
            .unwrap_or_default()
    }

    /// Checks that `filter` selects exactly `expected`, in creation order.
    async fn expect<S: Store>(&self, store: &S, fx: &Fixture, filter: &str, expected: &[&str]) {
        let found: Vec<&str> = ids(store, fx, "User", &filtered(filter))
            .await
            .iter()
            .map(|id| self.by_id.get(id).copied().unwrap_or("<unknown>"))
            .collect();
        assert_eq!(found, expected, "rule 11: filter {filter}");
    }
}

/// Rule 11: every comparison operator, and `pr`.
pub async fn rule_11_filter_operators<S: Store>(store: &S) {
    let fx = Fixture::new();
    let p = people(store, &fx).await;
    let all = ["alice", "bob", "carol", "dave"];
    p.expect(store, &fx, r#"userName eq "ALICE@EXAMPLE.COM""#, &["alice"])
        .await;
    p.expect(
        store,
        &fx,
        r#"userName ne "alice@example.com""#,
        &["bob", "carol", "dave"],
    )
    .await;
    p.expect(store, &fx, r#"displayName co "SMI""#, &["alice"])
        .await;
    p.expect(store, &fx, r#"userName sw "b""#, &["bob"]).await;
    p.expect(
        store,
        &fx,
        r#"userName ew "@EXAMPLE.com""#,
        &["alice", "bob"],
    )
    .await;
    p.expect(store, &fx, r#"name.familyName gt "Jones""#, &["alice"])
        .await;
    p.expect(
        store,
        &fx,
        r#"name.familyName ge "jones""#,
        &["alice", "bob"],
    )
    .await;
    p.expect(store, &fx, r#"name.familyName lt "Jones""#, &["carol"])
        .await;
    p.expect(
        store,
        &fx,
        r#"name.familyName le "JONES""#,
        &["bob", "carol"],
    )
    .await;
    p.expect(store, &fx, "title pr", &["alice"]).await;
    p.expect(store, &fx, "displayName pr", &["alice", "bob", "dave"])
        .await;
    p.expect(store, &fx, "active eq false", &["bob"]).await;
    p.expect(store, &fx, "active eq true", &["alice", "carol", "dave"])
        .await;
    p.expect(store, &fx, r#"meta.resourceType eq "User""#, &all)
        .await;
    p.expect(store, &fx, r#"userName eq "nobody""#, &[]).await;
}

/// Rule 11: filters see each write, whichever attributes it changed and left
/// alone: a PATCH of one attribute keeps every other one findable, and the old
/// value of a changed one finds nothing.
pub async fn rule_11_filters_follow_each_write<S: Store>(store: &S) {
    let fx = Fixture::new();
    let mut body = user("ann@example.com");
    body["externalId"] = json!("ext-ann");
    body["displayName"] = json!("Ann Smith");
    body["active"] = json!(true);
    body["name"] = json!({"givenName": "Ann", "familyName": "Smith"});
    let id = id_of(&create(store, &fx, "User", body).await);
    let finds = |filter: &'static str| {
        let fx = &fx;
        async move { ids(store, fx, "User", &filtered(filter)).await }
    };
    let patch = |path: &'static str, value: Value| {
        let (fx, id) = (&fx, id.clone());
        async move {
            let request = patch_request(vec![(PatchOpKind::Replace, Some(path), Some(value))]);
            store
                .patch(
                    &fx.scope(),
                    "User",
                    &id,
                    &request,
                    None,
                    &Projection::default(),
                )
                .await
                .unwrap_or_else(|error| panic!("patching {path} failed: {error:?}"));
        }
    };
    let everything_else = [
        r#"userName eq "ann@example.com""#,
        r#"externalId eq "ext-ann""#,
        r#"displayName eq "Ann Smith""#,
        r#"name.familyName eq "Smith""#,
        "active eq true",
    ];

    patch("name.givenName", json!("Anna")).await;
    assert_eq!(finds(r#"name.givenName eq "Anna""#).await, [id.clone()]);
    assert!(finds(r#"name.givenName eq "Ann""#).await.is_empty());
    for filter in everything_else {
        assert_eq!(
            finds(filter).await,
            [id.clone()],
            "{filter} after a givenName PATCH"
        );
    }

    patch("userName", json!("anna@example.com")).await;
    assert_eq!(
        finds(r#"userName eq "ANNA@example.com""#).await,
        [id.clone()]
    );
    assert!(finds(r#"userName eq "ann@example.com""#).await.is_empty());
    assert_eq!(finds(r#"name.givenName sw "ann""#).await, [id.clone()]);

    patch("active", json!(false)).await;
    assert_eq!(finds("active eq false").await, [id.clone()]);
    assert!(finds("active eq true").await.is_empty());
    assert_eq!(finds(r#"externalId eq "ext-ann""#).await, [id.clone()]);
}

/// Rule 11: `and`, `or`, `not`, grouping and precedence.
pub async fn rule_11_filter_logic<S: Store>(store: &S) {
    let fx = Fixture::new();
    let p = people(store, &fx).await;
    p.expect(
        store,
        &fx,
        r#"active eq true and name.familyName sw "s""#,
        &["alice"],
    )
    .await;
    p.expect(
        store,
        &fx,
        r#"userName eq "carol" or userName eq "dave""#,
        &["carol", "dave"],
    )
    .await;
    p.expect(store, &fx, "not (active eq true)", &["bob"]).await;
    p.expect(store, &fx, "not (displayName pr)", &["carol"])
        .await;
    // `and` binds tighter than `or`.
    p.expect(
        store,
        &fx,
        r#"userName eq "carol" or userName eq "dave" and active eq false"#,
        &["carol"],
    )
    .await;
    p.expect(
        store,
        &fx,
        r#"(userName eq "carol" or userName eq "dave") and active eq true"#,
        &["carol", "dave"],
    )
    .await;
}

/// Rule 11: `pr` on a complex attribute holds when any of its sub-attributes has
/// a value: `name`, `emails`, `addresses`, the Enterprise `manager`, `members`.
pub async fn rule_11_present_on_complex_attributes<S: Store>(store: &S) {
    let fx = Fixture::new();
    let boss = create_user(store, &fx, "boss@example.com").await;
    let mut full = user("full@example.com");
    full["schemas"] = json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE]);
    full["name"] = json!({"givenName": "Full"});
    full["emails"] = json!([{"value": "full@example.com"}]);
    full["addresses"] = json!([{"formatted": ""}, {"locality": "Paris"}]);
    full[ENTERPRISE] = json!({"manager": {"value": boss}});
    let full = id_of(&create(store, &fx, "User", full).await);
    let mut hollow = user("hollow@example.com");
    hollow["name"] = json!({"givenName": "", "familyName": ""});
    hollow["addresses"] = json!([{"formatted": ""}]);
    let hollow = id_of(&create(store, &fx, "User", hollow).await);
    let team = create_group(store, &fx, "Team", &[&full]).await;
    let empty = create_group(store, &fx, "Empty", &[]).await;

    let sorted = |mut ids: Vec<String>| {
        ids.sort();
        ids
    };
    for (filter, expected) in [
        ("name pr", vec![full.clone()]),
        ("emails pr", vec![full.clone()]),
        ("addresses pr", vec![full.clone()]),
        (
            &format!("{ENTERPRISE}:manager pr") as &str,
            vec![full.clone()],
        ),
        ("manager pr", vec![full.clone()]),
        ("not (name pr)", vec![boss.clone(), hollow.clone()]),
        ("emails eq null", vec![boss.clone(), hollow.clone()]),
    ] {
        let found = ids(store, &fx, "User", &filtered(filter)).await;
        assert_eq!(
            sorted(found),
            sorted(expected),
            "rule 11: {filter} (boss {boss}, full {full}, hollow {hollow})"
        );
    }
    for (filter, expected) in [
        ("members pr", vec![team.clone()]),
        ("not (members pr)", vec![empty.clone()]),
    ] {
        let found = ids(store, &fx, "Group", &filtered(filter)).await;
        assert_eq!(found, expected, "rule 11: {filter}");
    }
}

/// Rule 11: multi-valued attributes and value paths (`emails[type eq "work"]`).
pub async fn rule_11_filter_multi_valued_and_value_paths<S: Store>(store: &S) {
    let fx = Fixture::new();
    let p = people(store, &fx).await;
    p.expect(
        store,
        &fx,
        r#"emails[type eq "work" and value co "alice"]"#,
        &["alice"],
    )
    .await;
    p.expect(store, &fx, r#"emails[type eq "home"]"#, &["alice"])
        .await;
    // Both conditions must hold for the same element.
    p.expect(
        store,
        &fx,
        r#"emails[type eq "home" and value co "bob"]"#,
        &[],
    )
    .await;
    p.expect(store, &fx, r#"emails.value co "HOME""#, &["alice"])
        .await;
    p.expect(store, &fx, r#"emails.type eq "work""#, &["alice", "bob"])
        .await;
    p.expect(store, &fx, r#"emails co "bob@""#, &["bob"]).await;
    p.expect(store, &fx, "emails pr", &["alice", "bob"]).await;
}

/// Rule 11: extension attributes, named with their schema URN.
pub async fn rule_11_filter_extension_attributes<S: Store>(store: &S) {
    let fx = Fixture::new();
    let p = people(store, &fx).await;
    let department = format!("{ENTERPRISE}:department");
    p.expect(
        store,
        &fx,
        &format!(r#"{department} eq "sales""#),
        &["alice"],
    )
    .await;
    p.expect(store, &fx, &format!("{department} pr"), &["alice", "bob"])
        .await;
    // Entra ID sets a manager with a PATCH whose value is the manager's id.
    let dave = p.id_of("dave");
    let set_manager = patch_request(vec![(
        PatchOpKind::Add,
        Some(&format!("{ENTERPRISE}:manager")),
        Some(json!(dave)),
    )]);
    store
        .patch(
            &fx.scope(),
            "User",
            &p.alice,
            &set_manager,
            None,
            &Projection::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("rule 11: setting alice's manager failed: {e:?}"));
    p.expect(
        store,
        &fx,
        &format!(r#"{ENTERPRISE}:manager.value eq "{dave}""#),
        &["alice"],
    )
    .await;
    p.expect(
        store,
        &fx,
        &format!(r#"{ENTERPRISE}:employeeNumber eq "100""#),
        &["alice"],
    )
    .await;
    p.expect(
        store,
        &fx,
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "dave""#,
        &["dave"],
    )
    .await;
}

/// Rule 11: `id` and `externalId` compare case-exactly, `userName` does not, and
/// attribute names never do.
pub async fn rule_11_filter_case_exactness<S: Store>(store: &S) {
    let fx = Fixture::new();
    let p = people(store, &fx).await;
    p.expect(store, &fx, r#"externalId eq "EXT-Alice""#, &["alice"])
        .await;
    p.expect(store, &fx, r#"externalId eq "ext-alice""#, &[])
        .await;
    p.expect(store, &fx, r#"externalId eq "EXT-BOB""#, &[])
        .await;
    p.expect(store, &fx, r#"externalId sw "EXT""#, &["alice"])
        .await;
    p.expect(store, &fx, &format!(r#"id eq "{}""#, p.alice), &["alice"])
        .await;
    let upper = p.alice.to_uppercase();
    if upper != p.alice {
        p.expect(store, &fx, &format!(r#"id eq "{upper}""#), &[])
            .await;
    }
    p.expect(store, &fx, r#"USERNAME eq "DAVE""#, &["dave"])
        .await;
    p.expect(store, &fx, r#"userName eq "bob@example.com""#, &["bob"])
        .await;
}

/// Rule 11: `dateTime` attributes compare as instants.
pub async fn rule_11_filter_date_times<S: Store>(store: &S) {
    let fx = Fixture::new();
    let p = people(store, &fx).await;
    let all = ["alice", "bob", "carol", "dave"];
    p.expect(
        store,
        &fx,
        r#"meta.lastModified gt "2000-01-01T00:00:00Z""#,
        &all,
    )
    .await;
    p.expect(store, &fx, r#"meta.created lt "2000-01-01T00:00:00Z""#, &[])
        .await;
    let alice = get(store, &fx, "User", &p.alice).await;
    let stamp = alice["meta"]["lastModified"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        finds(
            store,
            &fx,
            &p.alice,
            &format!(r#"meta.lastModified eq "{stamp}""#)
        )
        .await,
        "rule 11: eq {stamp}"
    );
    assert!(
        finds(
            store,
            &fx,
            &p.alice,
            &format!(r#"meta.lastModified ge "{stamp}""#)
        )
        .await,
        "rule 11: ge {stamp}"
    );
    assert!(
        finds(
            store,
            &fx,
            &p.alice,
            &format!(r#"meta.lastModified le "{stamp}""#)
        )
        .await,
        "rule 11: le {stamp}"
    );
    assert!(
        !finds(
            store,
            &fx,
            &p.alice,
            &format!(r#"meta.lastModified gt "{stamp}""#)
        )
        .await,
        "rule 11: gt {stamp}"
    );
    assert!(
        !finds(
            store,
            &fx,
            &p.alice,
            &format!(r#"meta.lastModified lt "{stamp}""#)
        )
        .await,
        "rule 11: lt {stamp}"
    );
    // The same instant written with another offset.
    let shifted = time::OffsetDateTime::parse(&stamp, &Rfc3339)
        .ok()
        .and_then(|at| {
            time::UtcOffset::from_hms(2, 0, 0)
                .ok()
                .map(|o| at.to_offset(o))
        })
        .and_then(|at| at.format(&Rfc3339).ok())
        .unwrap_or_else(|| panic!("rule 2: meta.lastModified {stamp:?} is not RFC 3339"));
    assert!(
        finds(
            store,
            &fx,
            &p.alice,
            &format!(r#"meta.lastModified eq "{shifted}""#)
        )
        .await,
        "rule 11: {shifted} is the same instant as {stamp}"
    );
}

/// Whether a User query with `filter` returns `id`.
async fn finds<S: Store>(store: &S, fx: &Fixture, id: &str, filter: &str) -> bool {
    ids(store, fx, "User", &filtered(filter))
        .await
        .iter()
        .any(|found| found == id)
}

/// Rule 11: groups filtered by member, and by name.
pub async fn rule_11_filter_groups_by_member<S: Store>(store: &S) {
    let fx = Fixture::new();
    let u1 = create_user(store, &fx, "fm-1@example.com").await;
    let u2 = create_user(store, &fx, "fm-2@example.com").await;
    let u3 = create_user(store, &fx, "fm-3@example.com").await;
    let g1 = create_group(store, &fx, "Filter One", &[&u1, &u2]).await;
    let g2 = create_group(store, &fx, "Filter Two", &[&u3]).await;
    let cases = [
        (format!(r#"members[value eq "{u1}"]"#), vec![g1.clone()]),
        (format!(r#"members.value eq "{u3}""#), vec![g2.clone()]),
        (
            r#"displayName eq "filter one""#.to_owned(),
            vec![g1.clone()],
        ),
        (r#"displayName sw "Filter""#.to_owned(), vec![g1, g2]),
    ];
    for (filter, expected) in cases {
        assert_eq!(
            ids(store, &fx, "Group", &filtered(&filter)).await,
            expected,
            "rule 11: group filter {filter}"
        );
    }
}

/// Rule 11: undefined attributes and unordered comparisons are `InvalidFilter`.
pub async fn rule_11_invalid_filters<S: Store>(store: &S) {
    let fx = Fixture::new();
    create_user(store, &fx, "invalid@example.com").await;
    for filter in [
        r#"noSuchAttribute eq "x""#,
        r#"name.noSuchPart eq "x""#,
        r#"urn:example:unknown:2.0:User:thing eq "x""#,
        "active gt true",
        r#"name eq "x""#,
        r#"userName eq "a" and noSuchAttribute pr"#,
        r#"emails[noSuchPart eq "x"]"#,
        // Derived at read time (rule 19): not stored, so not filterable.
        &format!(r#"{ENTERPRISE}:manager.displayName eq "x""#),
    ] {
        let result = store.query(&fx.scope(), "User", &filtered(filter)).await;
        match result {
            Err(error @ StoreError::InvalidFilter(_)) => {
                assert_eq!(error.status(), 400, "rule 11: {filter}");
                assert_eq!(
                    error.scim_type(),
                    Some(ScimType::InvalidFilter),
                    "rule 11: {filter}"
                );
            }
            other => panic!("rule 11: filter {filter} gave {other:?}, not InvalidFilter"),
        }
    }
    let sorted = everything().sort(super::attr("noSuchAttribute"), SortOrder::Ascending);
    let result = store.query(&fx.scope(), "User", &sorted).await;
    assert!(
        matches!(result, Err(StoreError::InvalidFilter(_))),
        "rule 12: sorting by an undefined attribute gave {result:?}"
    );
}

/// Rules 11 and 12 under a tenant's own schemas: Enterprise `costCenter` retyped
/// `dateTime` and a custom extension's `integer` compare and sort by type.
pub async fn rule_11_tenant_schemas_type_filters_and_sorting<S: Store>(store: &S) {
    const ACME: &str = "urn:example:params:scim:schemas:extension:acme:2.0:User";
    let settings = TenantSettings {
        schema_overrides: vec![
            json!({"id": ENTERPRISE, "attributes": [
                {"name": "costCenter", "type": "dateTime", "multiValued": false}
            ]}),
            json!({"id": ACME, "name": "Acme", "attributes": [
                {"name": "badgeNumber", "type": "integer", "multiValued": false}
            ]}),
        ],
        ..TenantSettings::default()
    };
    let registry = settings
        .registry(&Registry::builtin())
        .unwrap_or_else(|e| panic!("setup: the tenant registry failed: {e}"));
    let fx = Fixture {
        registry,
        ..Fixture::with_settings(settings)
    };
    let mut by_id = HashMap::new();
    // Instants in other offsets, so that their text and instant orders differ
    // (early is 00:30Z, dawn 01:00Z, plain 01:30Z: no offset reads as UTC, mid
    // 02:00Z); badge numbers likewise.
    for (name, cost_center, badge) in [
        ("early", "2025-12-31T23:30:00-01:00", 9),
        ("late", "2026-06-01T00:00:00Z", 100),
        ("dawn", "2026-01-01T05:00:00+04:00", 50),
        ("mid", "2026-01-01T02:00:00Z", 1000),
        ("none", "", 99),
        ("plain", "2026-01-01T01:30:00", 75),
    ] {
        let mut body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE, ACME],
            "userName": name,
            ACME: {"badgeNumber": badge}
        });
        if !cost_center.is_empty() {
            body[ENTERPRISE] = json!({"costCenter": cost_center});
        }
        by_id.insert(id_of(&create(store, &fx, "User", body).await), name);
    }
    let names = |found: Vec<String>| -> Vec<&str> {
        found
            .iter()
            .map(|id| by_id.get(id).copied().unwrap_or("<unknown>"))
            .collect()
    };
    let cost_center = format!("{ENTERPRISE}:costCenter");
    let found = ids(
        store,
        &fx,
        "User",
        &filtered(&format!(r#"{cost_center} gt "2026-01-01T00:00:00Z""#)),
    )
    .await;
    assert_eq!(
        names(found),
        ["early", "late", "dawn", "mid", "plain"],
        "rule 11: a dateTime override compares as instants (early is 2026-01-01T00:30Z)"
    );
    let found = ids(
        store,
        &fx,
        "User",
        &filtered(&format!(r#"{cost_center} lt "2026-01-01T01:00:00Z""#)),
    )
    .await;
    assert_eq!(names(found), ["early"], "rule 11: dateTime lt");
    let sorted = everything().sort(super::attr(&cost_center), SortOrder::Ascending);
    assert_eq!(
        names(ids(store, &fx, "User", &sorted).await),
        ["early", "dawn", "plain", "mid", "late", "none"],
        "rule 12: sorting by a dateTime override orders instants"
    );
    let found = ids(
        store,
        &fx,
        "User",
        &filtered(&format!("{ACME}:badgeNumber gt 99")),
    )
    .await;
    assert_eq!(
        names(found),
        ["late", "mid"],
        "rule 11: a custom integer attribute compares as a number"
    );
    let sorted = everything().sort(
        super::attr(&format!("{ACME}:badgeNumber")),
        SortOrder::Descending,
    );
    assert_eq!(
        names(ids(store, &fx, "User", &sorted).await),
        ["mid", "late", "none", "plain", "dawn", "early"],
        "rule 12: sorting by a custom integer attribute"
    );
    let mut bad = user("bad-date");
    bad[ENTERPRISE] = json!({"costCenter": "next Tuesday"});
    let result = store.create(&fx.scope(), "User", bad).await;
    assert!(
        matches!(result, Err(StoreError::Validation(_))),
        "rule 3: a value that is not a dateTime under the override gave {result:?}"
    );
}

/// Rule 12: sorting by type, ignoring case, missing values last (ascending).
pub async fn rule_12_sorting<S: Store>(store: &S) {
    let fx = Fixture::new();
    let bodies = [
        json!({"userName": "b-user", "displayName": "beta", "emails": [{"value": "m@x.example"}],
               ENTERPRISE: {"department": "sales"}}),
        json!({"userName": "A-user", "displayName": "Alpha",
               "emails": [{"value": "z@x.example"}, {"value": "a@x.example", "primary": true}],
               ENTERPRISE: {"department": "Engineering"}}),
        json!({"userName": "c-user"}),
        json!({"userName": "D-user", "displayName": "delta"}),
    ];
    let mut names = HashMap::new();
    for mut body in bodies {
        body["schemas"] = if body.get(ENTERPRISE).is_some() {
            json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE])
        } else {
            json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
        };
        let name = body["userName"].as_str().unwrap_or_default().to_owned();
        names.insert(id_of(&create(store, &fx, "User", body).await), name);
    }
    let sorted = |path: &str, order: SortOrder, filter: Option<&str>| {
        let mut q = match filter {
            Some(filter) => filtered(filter),
            None => everything(),
        };
        q = q.sort(super::attr(path), order);
        let names = &names;
        let fx = &fx;
        async move {
            ids(store, fx, "User", &q)
                .await
                .iter()
                .map(|id| names.get(id).cloned().unwrap_or_default())
                .collect::<Vec<String>>()
        }
    };
    use SortOrder::{Ascending, Descending};
    assert_eq!(
        sorted("userName", Ascending, None).await,
        ["A-user", "b-user", "c-user", "D-user"],
        "rule 12: userName ascending ignores case"
    );
    assert_eq!(
        sorted("username", Descending, None).await,
        ["D-user", "c-user", "b-user", "A-user"],
        "rule 12: userName descending"
    );
    assert_eq!(
        sorted("displayName", Ascending, None).await,
        ["A-user", "b-user", "D-user", "c-user"],
        "rule 12: missing values sort last ascending"
    );
    assert_eq!(
        sorted("displayName", Descending, None).await,
        ["c-user", "D-user", "b-user", "A-user"],
        "rule 12: missing values sort first descending"
    );
    assert_eq!(
        sorted("name.familyName", Descending, None).await,
        ["b-user", "A-user", "c-user", "D-user"],
        "rule 12: ties keep creation order"
    );
    assert_eq!(
        sorted("emails.value", Ascending, None).await,
        ["A-user", "b-user", "c-user", "D-user"],
        "rule 12: a multi-valued attribute sorts by its primary value"
    );
    let department = format!("{ENTERPRISE}:department");
    for path in [department.as_str(), "department"] {
        assert_eq!(
            sorted(path, Ascending, None).await,
            ["A-user", "b-user", "c-user", "D-user"],
            "rule 12: sorting by the extension attribute {path}"
        );
    }
    assert_eq!(
        sorted("displayName", Descending, Some("displayName pr")).await,
        ["D-user", "b-user", "A-user"],
        "rule 12: sorting a filtered result"
    );
}

async fn numbered_users<S: Store>(store: &S, fx: &Fixture, count: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    for i in 0..count {
        ids.push(create_user(store, fx, &format!("page-{i}@example.com")).await);
    }
    ids
}

/// Rule 13: index paging covers everything once, with correct totals.
pub async fn rule_13_index_paging<S: Store>(store: &S) {
    let fx = Fixture::new();
    let all = numbered_users(store, &fx, 7).await;
    let page =
        |start_index: usize, count: usize| Query::with_paging(Paging::Index { start_index, count });
    let mut seen = Vec::new();
    for (start, expected_len) in [(1, 3), (4, 3), (7, 1), (8, 0), (1000, 0)] {
        let result = query(store, &fx, "User", &page(start, 3)).await;
        assert_eq!(
            result.total_results, 7,
            "rule 13: totalResults at startIndex {start}"
        );
        assert_eq!(
            result.start_index,
            Some(start),
            "rule 13: startIndex echoed"
        );
        assert_eq!(
            result.resources.len(),
            expected_len,
            "rule 13: page size at startIndex {start}"
        );
        seen.extend(result.resources.iter().map(id_of));
    }
    assert_eq!(
        seen, all,
        "rule 13: pages overlap, leave gaps or change order"
    );
    let zero = query(store, &fx, "User", &page(0, 2)).await;
    assert_eq!(
        zero.start_index,
        Some(1),
        "rule 13: startIndex 0 reads as 1"
    );
    assert_eq!(
        zero.resources.iter().map(id_of).collect::<Vec<_>>(),
        all[..2],
        "rule 13"
    );
    let empty = query(store, &fx, "User", &page(1, 0)).await;
    assert!(
        empty.resources.is_empty() && empty.total_results == 7,
        "rule 13: count 0 gave {} resources of {}",
        empty.resources.len(),
        empty.total_results
    );
    let huge = query(store, &fx, "User", &page(usize::MAX, usize::MAX)).await;
    assert!(
        huge.resources.is_empty(),
        "rule 13: a huge startIndex returned resources"
    );

    let mut filtered_seen = Vec::new();
    for start in [1, 3, 5] {
        let q = Query::with_paging(Paging::Index {
            start_index: start,
            count: 2,
        })
        .filter(
            scimitar_filter::parse_filter(r#"not (userName eq "page-3@example.com")"#)
                .unwrap_or_else(|e| panic!("{e}")),
        );
        let result = query(store, &fx, "User", &q).await;
        assert_eq!(result.total_results, 6, "rule 13: filtered totalResults");
        filtered_seen.extend(result.resources.iter().map(id_of));
    }
    let expected: Vec<String> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 3)
        .map(|(_, id)| id.clone())
        .collect();
    assert_eq!(filtered_seen, expected, "rule 13: filtered paging");

    let mut descending = Vec::new();
    for start in [1, 4, 7] {
        let q = page(start, 3).sort(super::attr("userName"), SortOrder::Descending);
        descending.extend(
            query(store, &fx, "User", &q)
                .await
                .resources
                .iter()
                .map(id_of),
        );
    }
    let reversed: Vec<String> = all.iter().rev().cloned().collect();
    assert_eq!(descending, reversed, "rule 13: sorted paging");
}

/// Rule 14: following cursors visits everything exactly once.
pub async fn rule_14_cursor_paging<S: Store>(store: &S) {
    let fx = Fixture::new();
    let all = numbered_users(store, &fx, 7).await;
    let walk = |count: usize, sort: Option<SortOrder>| {
        let fx = &fx;
        async move {
            let mut seen = Vec::new();
            let mut sizes = Vec::new();
            let mut cursor = None;
            loop {
                let mut q = Query::with_paging(Paging::Cursor { cursor, count });
                if let Some(order) = sort {
                    q = q.sort(super::attr("userName"), order);
                }
                let page = query(store, fx, "User", &q).await;
                assert_eq!(page.total_results, 7, "rule 14: totalResults");
                sizes.push(page.resources.len());
                seen.extend(page.resources.iter().map(id_of));
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
                assert!(sizes.len() <= 8, "rule 14: cursors never end");
            }
            (seen, sizes)
        }
    };
    let (seen, sizes) = walk(3, None).await;
    assert_eq!(
        seen, all,
        "rule 14: cursor paging lost, repeated or reordered resources"
    );
    assert_eq!(sizes, [3, 3, 1], "rule 14: page sizes");
    let (_, sizes) = walk(7, None).await;
    assert_eq!(
        sizes,
        [7],
        "rule 14: an exact last page still offered a next cursor"
    );
    let (seen, _) = walk(2, Some(SortOrder::Descending)).await;
    let reversed: Vec<String> = all.iter().rev().cloned().collect();
    assert_eq!(seen, reversed, "rule 14: sorted cursor paging");

    let first = query(
        store,
        &fx,
        "User",
        &Query::with_paging(Paging::Cursor {
            cursor: None,
            count: 2,
        }),
    )
    .await;
    assert_eq!(
        first.start_index, None,
        "rule 14: cursor pages have no startIndex"
    );
    for (resource_type, cursor) in [
        ("User", "not-a-cursor".to_owned()),
        ("Group", first.next_cursor.clone().unwrap_or_default()),
    ] {
        let q = Query::with_paging(Paging::Cursor {
            cursor: Some(cursor.clone()),
            count: 2,
        });
        let result = store.query(&fx.scope(), resource_type, &q).await;
        match result {
            Err(error @ StoreError::InvalidCursor) => {
                assert_eq!(error.scim_type(), Some(ScimType::InvalidCursor), "rule 14")
            }
            other => panic!("rule 14: cursor {cursor:?} on {resource_type} gave {other:?}"),
        }
    }
    let none = query(
        store,
        &fx,
        "Group",
        &Query::with_paging(Paging::Cursor {
            cursor: None,
            count: 2,
        }),
    )
    .await;
    assert!(
        none.resources.is_empty() && none.next_cursor.is_none() && none.total_results == 0,
        "rule 14: an empty result"
    );
}

/// Rule 15: queries project; `excludedAttributes=members` still returns the group.
pub async fn rule_15_query_projection<S: Store>(store: &S) {
    let fx = Fixture::new();
    let u1 = create_user(store, &fx, "qp@example.com").await;
    let team = create_group(store, &fx, "Projected team", &[&u1]).await;
    let q = everything().project(excluding(&["members"]));
    let page = query(store, &fx, "Group", &q).await;
    let found = page.resources.first().cloned().unwrap_or_default();
    assert_eq!(found["id"], team.as_str(), "rule 15: the group is missing");
    assert_eq!(found["displayName"], "Projected team", "rule 15: {found}");
    assert!(
        found.get("members").is_none(),
        "rule 15: members not excluded: {found}"
    );
    let q = everything().project(only(&["displayName"]));
    let found = query(store, &fx, "Group", &q).await.resources;
    assert!(
        found.len() == 1 && found[0].get("members").is_none() && found[0]["id"] == team.as_str(),
        "rule 15: attributes=displayName gave {found:?}"
    );
    let full = query(store, &fx, "Group", &everything()).await.resources;
    assert_eq!(
        full.first().map(member_ids).unwrap_or_default(),
        [u1],
        "rule 15: a plain query dropped members"
    );
    let q = everything().project(only(&["userName"]));
    let users = query(store, &fx, "User", &q).await.resources;
    assert!(
        users
            .iter()
            .all(|u| u.get("meta").is_none() || u.get("userName").is_some()),
        "rule 15: attributes=userName on users gave {users:?}"
    );
}

// ---------------------------------------------------------------------------
// Rules 16 and 17: groups and events.

/// Rule 16: member calls add and remove by id, in order, idempotently.
pub async fn rule_16_members<S: MemberStore>(store: &S) {
    let fx = Fixture::new();
    let scope = fx.scope();
    let u1 = create_user(store, &fx, "m-1@example.com").await;
    let u2 = create_user(store, &fx, "m-2@example.com").await;
    let inner = create_group(store, &fx, "Inner", &[]).await;
    let outer = create_group(store, &fx, "Outer", &[&u1]).await;
    let read = get(store, &fx, "Group", &outer).await;
    assert_eq!(
        read["members"],
        json!([{"value": u1, "display": "m-1@example.com", "type": "User"}]),
        "rule 16: member objects"
    );
    store
        .add_members(&scope, &outer, &[u2.clone(), inner.clone(), u2.clone()])
        .await
        .unwrap_or_else(|e| panic!("rule 16: add_members failed: {e:?}"));
    let read = get(store, &fx, "Group", &outer).await;
    assert_eq!(
        read["members"],
        json!([
            {"value": u1, "display": "m-1@example.com", "type": "User"},
            {"value": u2, "display": "m-2@example.com", "type": "User"},
            {"value": inner, "display": "Inner", "type": "Group"}
        ]),
        "rule 16: members in the order added, repeats dropped"
    );
    store
        .remove_members(&scope, &outer, &[u1.clone()])
        .await
        .unwrap_or_else(|e| panic!("rule 16: remove_members failed: {e:?}"));
    assert_eq!(
        member_ids(&get(store, &fx, "Group", &outer).await),
        [u2.clone(), inner],
        "rule 16: remove_members"
    );
    for target in [u1.clone(), uuid::Uuid::new_v4().to_string()] {
        let result = store.add_members(&scope, &target, &[u2.clone()]).await;
        assert!(
            is_not_found(&result),
            "rule 16: add_members on {target} (not a group) gave {result:?}"
        );
    }
}

/// Rule 16: a member's `display` is the one sent, else its own name, which
/// follows its renames (with a new group version); on create, replace and PATCH
/// alike.
pub async fn rule_16_members_keep_their_display<S: Store>(store: &S) {
    let fx = Fixture::new();
    let scope = fx.scope();
    let mut named = user("named@example.com");
    named["displayName"] = json!("Named Person");
    let named = id_of(&create(store, &fx, "User", named).await);
    let plain = create_user(store, &fx, "plain@example.com").await;
    let inner = create_group(store, &fx, "Inner", &[]).await;
    let displays = |group: &Value| -> Vec<(String, Option<String>)> {
        group["members"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|member| {
                (
                    member["value"].as_str().unwrap_or_default().to_owned(),
                    member["display"].as_str().map(str::to_owned),
                )
            })
            .collect()
    };
    let mut body = group("Displayed");
    body["members"] =
        json!([{"value": named, "display": "Sent Name"}, {"value": plain}, {"value": inner}]);
    let created = create(store, &fx, "Group", body).await;
    let group_id = id_of(&created).to_owned();
    let expected = vec![
        (named.clone(), Some("Sent Name".to_owned())),
        (plain.clone(), Some("plain@example.com".to_owned())),
        (inner.clone(), Some("Inner".to_owned())),
    ];
    assert_eq!(displays(&created), expected, "rule 16: created {created}");
    assert_eq!(
        displays(&get(store, &fx, "Group", &group_id).await),
        expected,
        "rule 16: read back"
    );

    let add = patch_request(vec![(
        PatchOpKind::Add,
        Some("members"),
        Some(
            json!([{"value": plain, "display": "Ignored: already a member"},
                    {"value": create_user(store, &fx, "late@example.com").await, "display": "Late"}]),
        ),
    )]);
    let patched = store
        .patch(
            &scope,
            "Group",
            &group_id,
            &add,
            None,
            &Projection::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("rule 16: PATCH failed: {e:?}"));
    let after = displays(&patched);
    assert_eq!(
        after[1], expected[1],
        "rule 16: a present member's display changed"
    );
    assert_eq!(
        after.last().and_then(|(_, d)| d.clone()).as_deref(),
        Some("Late")
    );
    assert_eq!(
        displays(&get(store, &fx, "Group", &group_id).await),
        after,
        "rule 16: the PATCH answer differs from a read"
    );

    // Renamed members: a display that was not sent follows, and the group gets a
    // new version; a sent one stays.
    let before = version_of(&get(store, &fx, "Group", &group_id).await);
    for (member, name) in [(&plain, "Plain Renamed"), (&named, "Named Renamed")] {
        let rename = patch_request(vec![(
            PatchOpKind::Replace,
            Some("displayName"),
            Some(json!(name)),
        )]);
        store
            .patch(
                &scope,
                "User",
                member,
                &rename,
                None,
                &Projection::default(),
            )
            .await
            .unwrap_or_else(|e| panic!("rule 16: renaming a member failed: {e:?}"));
    }
    let read = get(store, &fx, "Group", &group_id).await;
    let now = displays(&read);
    assert_eq!(
        now[0].1.as_deref(),
        Some("Sent Name"),
        "rule 16: a sent display changed"
    );
    assert_eq!(
        now[1].1.as_deref(),
        Some("Plain Renamed"),
        "rule 16: {read}"
    );
    assert_ne!(
        version_of(&read),
        before,
        "rule 16: a member's new display left the group's version"
    );

    let mut replaced = group("Displayed");
    replaced["members"] = json!([{"value": plain, "display": "Replaced"}]);
    let replaced = store
        .replace(&scope, "Group", &group_id, replaced, None)
        .await
        .unwrap_or_else(|e| panic!("rule 16: replace failed: {e:?}"));
    // Still a member: its display stays (immutable).
    assert_eq!(
        displays(&replaced),
        [(plain.clone(), Some("Plain Renamed".to_owned()))],
        "rule 16: replaced {replaced}"
    );
}

/// Rule 16: a member that is not a user or group of the tenant changes nothing.
pub async fn rule_16_unknown_members_change_nothing<S: MemberStore>(store: &S) {
    let fx = Fixture::new();
    let scope = fx.scope();
    let u1 = create_user(store, &fx, "um-1@example.com").await;
    let team = create_group(store, &fx, "Unknowns", &[]).await;
    let before = get(store, &fx, "Group", &team).await;
    let ghost = uuid::Uuid::new_v4().to_string();
    let result = store
        .add_members(&scope, &team, &[u1.clone(), ghost.clone()])
        .await;
    match &result {
        Err(error @ StoreError::UnknownMember(id)) => {
            assert_eq!(id, &ghost, "rule 16: UnknownMember names the wrong id");
            assert_eq!(error.scim_type(), Some(ScimType::InvalidValue), "rule 16");
        }
        other => panic!("rule 16: adding an unknown member gave {other:?}"),
    }
    assert_eq!(
        get(store, &fx, "Group", &team).await,
        before,
        "rule 16: a failed add_members changed the group"
    );
    let mut body = group("Ghostly");
    body["members"] = members_of(&[&ghost]);
    let result = store.create(&scope, "Group", body.clone()).await;
    assert!(
        is_unknown_member(&result),
        "rule 16: create with an unknown member gave {result:?}"
    );
    let result = store.replace(&scope, "Group", &team, body, None).await;
    assert!(
        is_unknown_member(&result),
        "rule 16: replace with an unknown member gave {result:?}"
    );
    assert_eq!(
        ids(store, &fx, "Group", &everything()).await,
        [team.clone()],
        "rule 16: a failed create left a group behind"
    );
    assert_eq!(
        get(store, &fx, "Group", &team).await,
        before,
        "rule 16: a failed replace changed the group"
    );
}

/// Rule 17: user writes record their events, in order, readable from any point.
pub async fn rule_17_outbox_records_user_changes<S: EventStore>(store: &S) {
    let fx = Fixture::new();
    let scope = fx.scope();
    assert!(
        event_kinds(store, &fx).await.is_empty(),
        "rule 17: a new tenant has events"
    );
    let mut body = user("events@example.com");
    body["active"] = json!(true);
    let mut with_password = body.clone();
    with_password["password"] = json!("t0p-s3cret");
    let id = id_of(&create(store, &fx, "User", with_password).await);
    let mut steps = Vec::new();
    for (active, display_name) in [(false, None), (true, None), (true, Some("Named"))] {
        let mut next = body.clone();
        next["active"] = json!(active);
        if let Some(name) = display_name {
            next["displayName"] = json!(name);
        }
        steps.push(next);
    }
    for next in &steps {
        store
            .replace(&scope, "User", &id, next.clone(), None)
            .await
            .unwrap_or_else(|e| panic!("rule 17: replace failed: {e:?}"));
    }
    // Nothing changes: no event. A failed write: no event.
    if let Some(last) = steps.last() {
        let _ = store.replace(&scope, "User", &id, last.clone(), None).await;
    }
    let _ = store
        .create(&scope, "User", user("EVENTS@example.com"))
        .await;
    // Entra ID's deactivation: a PATCH with a string boolean (compatible policy).
    let deactivate = patch_request(vec![(
        PatchOpKind::Replace,
        Some("active"),
        Some(json!("False")),
    )]);
    store
        .patch(
            &scope,
            "User",
            &id,
            &deactivate,
            None,
            &Projection::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("rule 17: patch failed: {e:?}"));
    store
        .delete(&scope, "User", &id, None)
        .await
        .unwrap_or_else(|e| panic!("rule 17: delete failed: {e:?}"));

    let events = store
        .events(&scope, 0, 1000)
        .await
        .unwrap_or_else(|e| panic!("rule 17: events failed: {e:?}"));
    let kinds: Vec<ChangeKind> = events.iter().map(|event| event.kind).collect();
    assert_eq!(
        kinds,
        [
            ChangeKind::UserCreated,
            ChangeKind::UserDeactivated,
            ChangeKind::UserReactivated,
            ChangeKind::UserUpdated,
            ChangeKind::UserDeactivated,
            ChangeKind::UserDeleted
        ],
        "rule 17: user events"
    );
    for event in &events {
        assert_eq!(event.tenant, fx.tenant, "rule 17: event tenant");
        assert_eq!(event.resource_type, "User", "rule 17: event resource type");
        assert_eq!(event.resource_id, id, "rule 17: event resource id");
        assert_eq!(
            event.payload["userName"], "events@example.com",
            "rule 17: payload {event:?}"
        );
        assert!(
            event.payload.get("password").is_none(),
            "rule 3/17: an event carries the password: {event:?}"
        );
    }
    assert!(
        events.windows(2).all(|pair| pair[0].seq < pair[1].seq),
        "rule 17: seq does not increase: {events:?}"
    );
    assert_eq!(
        events[3].payload["displayName"], "Named",
        "rule 17: payload after the change"
    );
    let tail = store
        .events(&scope, events[1].seq, 2)
        .await
        .unwrap_or_else(|e| panic!("rule 17: events failed: {e:?}"));
    assert_eq!(
        tail,
        events[2..4],
        "rule 17: events after a seq, with a limit"
    );
    let past_end = store.events(&scope, events[5].seq, 10).await;
    assert!(
        matches!(&past_end, Ok(rest) if rest.is_empty()),
        "rule 17: events after the last: {past_end:?}"
    );
}

/// Rule 17: group writes record group and member events.
pub async fn rule_17_outbox_records_group_changes<S: EventStore>(store: &S) {
    let fx = Fixture::new();
    let scope = fx.scope();
    let u1 = create_user(store, &fx, "ge-1@example.com").await;
    let u2 = create_user(store, &fx, "ge-2@example.com").await;
    let skip = store
        .events(&scope, 0, 1000)
        .await
        .map(|events| events.last().map_or(0, |e| e.seq))
        .unwrap_or(0);
    let team = create_group(store, &fx, "Evented", &[&u1]).await;
    let mut renamed = group("Evented renamed");
    renamed["members"] = members_of(&[&u1]);
    store
        .replace(&scope, "Group", &team, renamed, None)
        .await
        .unwrap_or_else(|e| panic!("rule 17: replace failed: {e:?}"));
    patch_members(store, &fx, &team, &[&u2], true)
        .await
        .unwrap_or_else(|e| panic!("rule 17: adding a member failed: {e:?}"));
    patch_members(store, &fx, &team, &[&u1], false)
        .await
        .unwrap_or_else(|e| panic!("rule 17: removing a member failed: {e:?}"));
    store
        .delete(&scope, "User", &u2, None)
        .await
        .unwrap_or_else(|e| panic!("rule 17: delete failed: {e:?}"));
    store
        .delete(&scope, "Group", &team, None)
        .await
        .unwrap_or_else(|e| panic!("rule 17: delete failed: {e:?}"));

    let events = store
        .events(&scope, skip, 1000)
        .await
        .unwrap_or_else(|e| panic!("rule 17: events failed: {e:?}"));
    let summary: Vec<(ChangeKind, String, Value)> = events
        .iter()
        .map(|event| {
            let detail = match event.kind {
                ChangeKind::MembersAdded | ChangeKind::MembersRemoved => {
                    event.payload["members"].clone()
                }
                _ => event.payload.get("members").cloned().unwrap_or(Value::Null),
            };
            (event.kind, event.resource_id.clone(), detail)
        })
        .collect();
    let expected = vec![
        (ChangeKind::GroupCreated, team.clone(), Value::Null),
        (ChangeKind::MembersAdded, team.clone(), json!([u1])),
        (ChangeKind::GroupRenamed, team.clone(), Value::Null),
        (ChangeKind::MembersAdded, team.clone(), json!([u2])),
        (ChangeKind::MembersRemoved, team.clone(), json!([u1])),
        (ChangeKind::UserDeleted, u2.clone(), Value::Null),
        (ChangeKind::MembersRemoved, team.clone(), json!([u2])),
        (ChangeKind::GroupDeleted, team.clone(), Value::Null),
    ];
    assert_eq!(
        summary, expected,
        "rule 17: group events (kind, resource, members); group payloads carry no members"
    );
    assert_eq!(
        events.first().map(|e| e.payload["displayName"].clone()),
        Some(json!("Evented")),
        "rule 17: GroupCreated payload"
    );
}

// ---------------------------------------------------------------------------
// Rule 18.

/// Rule 18: odd input gets an error, never a panic.
pub async fn rule_18_odd_input_is_an_error_not_a_panic<S: Store>(store: &S) {
    let fx = Fixture::new();
    let scope = fx.scope();
    for body in [json!([1, 2]), json!("user"), json!(null), json!({})] {
        let result = store.create(&scope, "User", body.clone()).await;
        assert!(
            result.is_err(),
            "rule 18: creating a user from {body} gave {result:?}"
        );
    }
    for id in ["", "../../etc/passwd", "' OR 1=1 --", "\u{0}", "😀"] {
        let result = store.get(&scope, "User", id, &Projection::default()).await;
        assert!(is_not_found(&result), "rule 18: get {id:?} gave {result:?}");
    }
    let result = store
        .query(
            &scope,
            "User",
            &filtered(r#"userName eq "'; DROP TABLE users; --""#),
        )
        .await;
    assert!(
        matches!(&result, Ok(page) if page.total_results == 0),
        "rule 18: a hostile filter value gave {result:?}"
    );
}
