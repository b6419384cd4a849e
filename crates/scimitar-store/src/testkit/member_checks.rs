//! The checks of [`MemberStore`](crate::MemberStore): member calls (rule 16, and
//! rules 1 and 5 for them).

// `&[id.clone()]` reads better in a check than `std::slice::from_ref(&id)`.
#![allow(clippy::cloned_ref_to_slice_refs)]

use serde_json::json;

use super::{everything, group, member_ids, members_of, version_of, Fixture};
use crate::schema::ScimType;
use crate::store::MemberStore;
use crate::StoreError;

use super::checks::{create_group, create_user, get, ids, is_not_found, is_unknown_member};

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
