//! The core store checks of writes (rules 1 to 10, 16 through PATCH, 18), one
//! per rule or aspect of a rule of [`Store`], and the helpers every check uses.
//! Queries are in `query_checks`, member calls in `member_checks`, the outbox
//! and create replays in `event_checks`.
//!
//! Each check takes the store under test, works in a fresh [`Fixture`] tenant and
//! panics with a message that starts with the rule number when the store breaks it.

// `&[id.clone()]` reads better in a check than `std::slice::from_ref(&id)`.
#![allow(clippy::cloned_ref_to_slice_refs)]

use futures_util::future::join_all;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;

use super::{
    everything, excluding, filtered, group, id_of, member_ids, members_of, only, user, version_of,
    Fixture,
};
use crate::event::ChangeKind;
use crate::query::{Page, Query};
use crate::schema::{PatchOpKind, PatchOperation, PatchRequest, Policy, Projection, ScimType};
use crate::store::{Created, EventStore, Store};
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

/// Rule 10 through `create_many`: each resource of a batch gets its own
/// outcome, in order, as one create after another would; a failure stops
/// nothing, and a `userName` taken earlier in the batch is a uniqueness error.
pub async fn rule_10_create_many_keeps_each_outcome<S: Store>(store: &S) {
    let fx = Fixture::new();
    let scope = fx.scope();
    let taken = create_user(store, &fx, "taken@example.com").await;
    let total = || async {
        store
            .query(&fx.scope(), "User", &Query::default())
            .await
            .map(|page| page.total_results)
            .ok()
    };
    let before = total().await;
    let batch = vec![
        user("first@example.com"),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "displayName": "no userName"}),
        user("TAKEN@example.com"),
        user("second@example.com"),
        user("First@Example.com"),
    ];
    let outcomes = store.create_many(&scope, "User", batch).await;
    assert_eq!(outcomes.len(), 5, "rule 10: one outcome per resource");
    let made: Vec<Option<String>> = outcomes
        .iter()
        .map(|outcome| match outcome {
            Ok(Created::New(resource)) => resource["userName"].as_str().map(str::to_owned),
            _ => None,
        })
        .collect();
    assert_eq!(
        made,
        [
            Some("first@example.com".to_owned()),
            None,
            None,
            Some("second@example.com".to_owned()),
            None
        ],
        "rule 10: create_many gave {outcomes:?}"
    );
    assert!(
        matches!(
            &outcomes[1],
            Err(StoreError::Validation(_) | StoreError::InvalidValue(_))
        ),
        "rule 10: a user without userName gave {:?}",
        outcomes[1]
    );
    for duplicate in [&outcomes[2], &outcomes[4]] {
        assert!(
            is_uniqueness(duplicate),
            "rule 10: a taken userName in a batch gave {duplicate:?}"
        );
    }
    for outcome in outcomes.iter().filter_map(|outcome| outcome.as_ref().ok()) {
        let id = outcome.clone().into_resource()["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let read = store.get(&scope, "User", &id, &Projection::default()).await;
        assert!(read.is_ok(), "rule 10: a batch-created user reads {read:?}");
    }
    assert_eq!(
        total().await,
        before.map(|n| n + 2),
        "rule 10: totalResults counts the batch's two"
    );
    let empty = store.create_many(&scope, "User", Vec::new()).await;
    assert!(empty.is_empty(), "rule 10: an empty batch gave {empty:?}");
    assert!(!taken.is_empty());
}

// ---------------------------------------------------------------------------
// Rule 16 through PATCH.

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
