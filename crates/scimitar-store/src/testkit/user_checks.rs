//! The checks of rules 19 to 21 of [`Store`]: managers, deactivation and deletion
//! modes, derived teams.

// `&[id.clone()]` reads better in a check than `std::slice::from_ref(&id)`.
#![allow(clippy::cloned_ref_to_slice_refs)]

use serde_json::{json, Value};

use super::checks::{
    create, create_group, create_user, event_kinds, get, ids, is_not_found, is_unknown_member,
    patch_request, query,
};
use super::{
    everything, filtered, group, id_of, member_ids, members_of, user, version_of, Fixture,
};
use crate::derive::team_id;
use crate::event::ChangeKind;
use crate::schema::{PatchOpKind, Projection, ScimType};
use crate::settings::{DeletionMode, TeamMode, TenantSettings};
use crate::store::{DirectoryStore, MemberStore, Store, TeamsRebuilt};
use crate::StoreError;
use scimitar_schema::urn::ENTERPRISE_USER as ENTERPRISE;

/// A user with Enterprise attributes.
fn employee(user_name: &str, enterprise: Value) -> Value {
    let mut body = user(user_name);
    body["schemas"] = json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE]);
    body[ENTERPRISE] = enterprise;
    body
}

fn manager_of(user: &Value) -> Value {
    user[ENTERPRISE]
        .get("manager")
        .cloned()
        .unwrap_or(Value::Null)
}

fn is_unknown_manager<T: std::fmt::Debug>(result: &Result<T, StoreError>, id: &str) -> bool {
    matches!(result, Err(error @ StoreError::UnknownManager(named))
        if named == id && error.status() == 400 && error.scim_type() == Some(ScimType::InvalidValue))
}

fn set_manager(value: Value) -> crate::schema::PatchRequest {
    let path = format!("{ENTERPRISE}:manager");
    patch_request(vec![(
        PatchOpKind::Replace,
        Some(path.as_str()),
        Some(value),
    )])
}

async fn patch<S: Store>(
    store: &S,
    fx: &Fixture,
    id: &str,
    request: &crate::schema::PatchRequest,
) -> Result<Value, StoreError> {
    store
        .patch(
            &fx.scope(),
            "User",
            id,
            request,
            None,
            &Projection::default(),
        )
        .await
}

/// Rule 19: a manager is a user of the tenant, returned with its current name, and
/// cleared when it goes.
pub async fn rule_19_managers<S: DirectoryStore + MemberStore>(store: &S) {
    let fx = Fixture::new();
    let scope = fx.scope();
    let mut boss_body = user("boss@example.com");
    boss_body["displayName"] = json!("The Boss");
    let boss = id_of(&create(store, &fx, "User", boss_body.clone()).await);
    let report_body = employee("report@example.com", json!({"manager": {"value": boss}}));
    let created = create(store, &fx, "User", report_body.clone()).await;
    let report = id_of(&created);
    let named = json!({"value": boss, "displayName": "The Boss"});
    assert_eq!(manager_of(&created), named, "rule 19: create's result");
    assert_eq!(
        manager_of(&get(store, &fx, "User", &report).await),
        named,
        "rule 19: get"
    );
    let page = query(store, &fx, "User", &everything()).await;
    let listed = page.resources.iter().find(|u| id_of(u) == report).cloned();
    assert_eq!(
        listed.as_ref().map(manager_of),
        Some(named.clone()),
        "rule 19: query"
    );

    // Unknown managers: a random id, a group's id.
    let team = create_group(store, &fx, "Not a manager", &[]).await;
    for ghost in [uuid::Uuid::new_v4().to_string(), team] {
        let body = employee("orphan@example.com", json!({"manager": {"value": ghost}}));
        let result = store.create(&scope, "User", body.clone()).await;
        assert!(
            is_unknown_manager(&result, &ghost),
            "rule 19: create with manager {ghost} gave {result:?}"
        );
        let result = store.replace(&scope, "User", &report, body, None).await;
        assert!(
            is_unknown_manager(&result, &ghost),
            "rule 19: replace with manager {ghost} gave {result:?}"
        );
        // A taken userName is the conflict reported first.
        let body = employee("report@example.com", json!({"manager": {"value": ghost}}));
        let result = store.create(&scope, "User", body).await;
        assert!(
            matches!(&result, Err(StoreError::Uniqueness { attribute }) if attribute == "userName"),
            "rule 19: create with a taken userName and manager {ghost} gave {result:?}"
        );
        // Entra ID sends the manager as a bare id.
        let result = patch(store, &fx, &report, &set_manager(json!(ghost))).await;
        assert!(
            is_unknown_manager(&result, &ghost),
            "rule 19: patch with manager {ghost} gave {result:?}"
        );
    }
    assert_eq!(
        ids(
            store,
            &fx,
            "User",
            &filtered(r#"userName eq "orphan@example.com""#)
        )
        .await,
        Vec::<String>::new(),
        "rule 19: a create with an unknown manager stored a user"
    );
    assert_eq!(
        get(store, &fx, "User", &report).await,
        created,
        "rule 19: a write with an unknown manager changed the user"
    );

    // The name is the manager's current one.
    boss_body["displayName"] = json!("The Big Boss");
    store
        .replace(&scope, "User", &boss, boss_body, None)
        .await
        .unwrap_or_else(|e| panic!("rule 19: renaming the manager failed: {e:?}"));
    assert_eq!(
        manager_of(&get(store, &fx, "User", &report).await)["displayName"],
        "The Big Boss",
        "rule 19: the manager's name is not the current one"
    );

    // Cleared with "" (Entra ID), set with {"value"}, cleared by replace with "".
    let cleared = patch(store, &fx, &report, &set_manager(json!(""))).await;
    assert!(
        matches!(&cleared, Ok(user) if manager_of(user).is_null()),
        "rule 19: patching the manager to \"\" gave {cleared:?}"
    );
    let set = patch(store, &fx, &report, &set_manager(json!({"value": boss}))).await;
    assert!(
        matches!(&set, Ok(user) if manager_of(user)["value"] == boss.as_str()),
        "rule 19: patching the manager to {{value}} gave {set:?}"
    );
    let unassigned = employee("report@example.com", json!({"manager": {"value": ""}}));
    let replaced = store
        .replace(&scope, "User", &report, unassigned, None)
        .await;
    assert!(
        matches!(&replaced, Ok(user) if manager_of(user).is_null()),
        "rule 19: replacing with manager \"\" gave {replaced:?}"
    );

    // Deleting the manager clears it from its reports, with an event each.
    let rejoined = store
        .replace(&scope, "User", &report, report_body, None)
        .await
        .unwrap_or_else(|e| panic!("rule 19: setting the manager again failed: {e:?}"));
    let before_events = store
        .events(&scope, 0, 10_000)
        .await
        .map(|events| events.last().map_or(0, |event| event.seq))
        .unwrap_or(0);
    store
        .delete(&scope, "User", &boss, None)
        .await
        .unwrap_or_else(|e| panic!("rule 19: deleting the manager failed: {e:?}"));
    let after = get(store, &fx, "User", &report).await;
    assert!(
        manager_of(&after).is_null(),
        "rule 19: a deleted manager is still named: {after}"
    );
    assert_ne!(
        version_of(&after),
        version_of(&rejoined),
        "rule 19: clearing the manager kept the version"
    );
    let events: Vec<(ChangeKind, String)> = store
        .events(&scope, before_events, 100)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|event| (event.kind, event.resource_id))
        .collect();
    assert_eq!(
        events,
        [
            (ChangeKind::UserDeleted, boss.clone()),
            (ChangeKind::UserUpdated, report.clone())
        ],
        "rule 19: events of deleting a manager"
    );
    let result = patch(store, &fx, &report, &set_manager(json!(boss))).await;
    assert!(
        is_unknown_manager(&result, &boss),
        "rule 19: a deleted manager can still be set: {result:?}"
    );
}

/// Rule 20: a deactivated user stays readable and findable.
pub async fn rule_20_deactivated_users_stay<S: DirectoryStore + MemberStore>(store: &S) {
    let fx = Fixture::new();
    let mut body = user("leaving@example.com");
    body["active"] = json!(true);
    let id = id_of(&create(store, &fx, "User", body).await);
    let deactivate = patch_request(vec![(
        PatchOpKind::Replace,
        Some("active"),
        Some(json!("False")),
    )]);
    patch(store, &fx, &id, &deactivate)
        .await
        .unwrap_or_else(|e| panic!("rule 20: deactivating failed: {e:?}"));
    assert_eq!(
        get(store, &fx, "User", &id).await["active"],
        false,
        "rule 20: a deactivated user"
    );
    for filter in [r#"userName eq "leaving@example.com""#, "active eq false"] {
        assert_eq!(
            ids(store, &fx, "User", &filtered(filter)).await,
            [id.clone()],
            "rule 20: filter {filter} does not find a deactivated user"
        );
    }
    assert_eq!(
        event_kinds(store, &fx).await,
        [ChangeKind::UserCreated, ChangeKind::UserDeactivated],
        "rule 20: deactivation events"
    );
}

/// Rule 20: under `DeletionMode::Delete` a deleted user is forgotten; its
/// `userName` makes a new user.
pub async fn rule_20_deleted_users_are_forgotten<S: DirectoryStore + MemberStore>(store: &S) {
    let fx = Fixture::new();
    let scope = fx.scope();
    let mut body = user("again@example.com");
    body["displayName"] = json!("First life");
    let first = id_of(&create(store, &fx, "User", body).await);
    store
        .delete(&scope, "User", &first, None)
        .await
        .unwrap_or_else(|e| panic!("rule 20: delete failed: {e:?}"));
    let second = create(store, &fx, "User", user("again@example.com")).await;
    assert_ne!(id_of(&second), first, "rule 20: the old id came back");
    assert!(
        second.get("displayName").is_none(),
        "rule 20: a new account restored old attributes: {second}"
    );
    let archived = store.archived(&scope, "User").await;
    assert!(
        matches!(&archived, Ok(list) if list.is_empty()),
        "rule 20: a deleted user is listed as archived: {archived:?}"
    );
}

/// Rule 20: under `DeletionMode::Archive` a deleted user is kept for audit only.
pub async fn rule_20_archived_users_are_kept_out_of_sight<S: DirectoryStore + MemberStore>(
    store: &S,
) {
    let fx = Fixture::with_settings(TenantSettings {
        deletion: DeletionMode::Archive,
        ..TenantSettings::default()
    });
    let scope = fx.scope();
    let boss = create_user(store, &fx, "archive-boss@example.com").await;
    let mut body = employee("archived@example.com", json!({"manager": {"value": boss}}));
    body["displayName"] = json!("Archived");
    body["password"] = json!("t0p-s3cret");
    let leaver = id_of(&create(store, &fx, "User", body).await);
    let report = id_of(
        &create(
            store,
            &fx,
            "User",
            employee(
                "archived-report@example.com",
                json!({"manager": {"value": leaver}}),
            ),
        )
        .await,
    );
    let team = create_group(store, &fx, "Archive team", &[&leaver, &boss]).await;

    store
        .delete(&scope, "User", &leaver, None)
        .await
        .unwrap_or_else(|e| panic!("rule 20: archiving failed: {e:?}"));
    assert!(
        is_not_found(
            &store
                .get(&scope, "User", &leaver, &Projection::default())
                .await
        ),
        "rule 20: an archived user can be read"
    );
    assert!(
        !ids(store, &fx, "User", &everything())
            .await
            .contains(&leaver),
        "rule 20: an archived user is listed"
    );
    assert!(
        ids(
            store,
            &fx,
            "User",
            &filtered(r#"userName eq "archived@example.com""#)
        )
        .await
        .is_empty(),
        "rule 20: an archived user is found by userName"
    );
    assert!(
        is_not_found(&store.delete(&scope, "User", &leaver, None).await),
        "rule 20: an archived user can be deleted again"
    );
    assert_eq!(
        member_ids(&get(store, &fx, "Group", &team).await),
        [boss.clone()],
        "rule 20: an archived user is still a member"
    );
    assert!(
        manager_of(&get(store, &fx, "User", &report).await).is_null(),
        "rule 20/19: an archived manager is still named"
    );
    let result = store.add_members(&scope, &team, &[leaver.clone()]).await;
    assert!(
        is_unknown_member(&result),
        "rule 20: an archived user can be added to a group: {result:?}"
    );
    let result = patch(store, &fx, &report, &set_manager(json!(leaver))).await;
    assert!(
        is_unknown_manager(&result, &leaver),
        "rule 20: an archived user can be made a manager: {result:?}"
    );
    let reborn = create(store, &fx, "User", user("ARCHIVED@example.com")).await;
    assert_ne!(
        id_of(&reborn),
        leaver,
        "rule 20: an archived user came back"
    );

    let archived = store
        .archived(&scope, "User")
        .await
        .unwrap_or_else(|e| panic!("rule 20: archived failed: {e:?}"));
    assert_eq!(archived.len(), 1, "rule 20: archived users: {archived:?}");
    let kept = &archived[0].resource;
    assert_eq!(
        (kept["id"].as_str(), kept["displayName"].as_str()),
        (Some(leaver.as_str()), Some("Archived")),
        "rule 20: the archived user as it was: {kept}"
    );
    assert!(
        kept.get("password").is_none(),
        "rule 3/20: an archived user keeps a readable password: {kept}"
    );
    let groups = store.archived(&scope, "Group").await;
    assert!(
        matches!(&groups, Ok(list) if list.is_empty()),
        "rule 20: archived groups: {groups:?}"
    );
    let events = store
        .events(&scope, 0, 1000)
        .await
        .unwrap_or_else(|e| panic!("rule 20: events failed: {e:?}"));
    let deleted: Vec<&Value> = events
        .iter()
        .filter(|event| event.kind == ChangeKind::UserDeleted)
        .map(|event| &event.payload)
        .collect();
    assert!(
        deleted.len() == 1 && deleted[0]["archived"] == true && deleted[0]["id"] == leaver.as_str(),
        "rule 20: the event of archiving: {deleted:?}"
    );
}

fn department_mode() -> TenantSettings {
    TenantSettings {
        teams: TeamMode::Department {
            separator: " / ".into(),
        },
        ..TenantSettings::default()
    }
}

/// The derived teams of a tenant, groups `pushed` aside: (name, member ids), in
/// name order.
async fn teams<S: Store>(
    store: &S,
    fx: &Fixture,
    pushed: &[&String],
) -> Vec<(String, Vec<String>)> {
    let page = query(store, fx, "Group", &everything()).await;
    let mut teams: Vec<(String, Vec<String>)> = page
        .resources
        .iter()
        .filter(|group| !pushed.iter().any(|id| group["id"] == id.as_str()))
        .map(|team| {
            let name = team["displayName"].as_str().unwrap_or_default().to_owned();
            assert_eq!(
                id_of(team),
                team_id(&fx.tenant, &name),
                "rule 21: team {name} does not have its derived id"
            );
            (name, member_ids(team))
        })
        .collect();
    teams.sort();
    teams
}

fn team(name: &str, members: &[&String]) -> (String, Vec<String>) {
    (
        name.to_owned(),
        members.iter().map(|id| (*id).clone()).collect(),
    )
}

/// Rule 21: under `TeamMode::Department`, teams follow every user write.
pub async fn rule_21_teams_follow_users<S: DirectoryStore + MemberStore>(store: &S) {
    let fx = Fixture::with_settings(department_mode());
    let scope = fx.scope();
    let sales = |organization: Option<&str>| match organization {
        Some(organization) => json!({"organization": organization, "department": "Sales"}),
        None => json!({"department": "Sales"}),
    };
    let a = id_of(
        &create(
            store,
            &fx,
            "User",
            employee("a@contoso.com", sales(Some("Contoso"))),
        )
        .await,
    );
    let b = id_of(&create(store, &fx, "User", employee("b@contoso.com", sales(None))).await);
    let mut inactive = employee("c@contoso.com", sales(Some("Contoso")));
    inactive["active"] = json!(false);
    let c = id_of(&create(store, &fx, "User", inactive).await);
    create_user(store, &fx, "d@contoso.com").await;
    assert_eq!(
        teams(store, &fx, &[]).await,
        [team("Contoso / Sales", &[&a]), team("Sales", &[&b])],
        "rule 21: teams after creates (inactive and department-less users in none)"
    );

    let reactivate = patch_request(vec![(
        PatchOpKind::Replace,
        Some("active"),
        Some(json!(true)),
    )]);
    patch(store, &fx, &c, &reactivate)
        .await
        .unwrap_or_else(|e| panic!("rule 21: reactivating failed: {e:?}"));
    let department = format!("{ENTERPRISE}:department");
    let moved = patch_request(vec![(
        PatchOpKind::Replace,
        Some(department.as_str()),
        Some(json!("Engineering")),
    )]);
    patch(store, &fx, &a, &moved)
        .await
        .unwrap_or_else(|e| panic!("rule 21: moving department failed: {e:?}"));
    let deactivate = patch_request(vec![(
        PatchOpKind::Replace,
        Some("active"),
        Some(json!("False")),
    )]);
    patch(store, &fx, &b, &deactivate)
        .await
        .unwrap_or_else(|e| panic!("rule 21: deactivating failed: {e:?}"));
    assert_eq!(
        teams(store, &fx, &[]).await,
        [
            team("Contoso / Engineering", &[&a]),
            team("Contoso / Sales", &[&c])
        ],
        "rule 21: teams after a reactivation, a move and a deactivation (empty teams go)"
    );
    let sales_team = team_id(&fx.tenant, "Sales");
    assert!(
        is_not_found(
            &store
                .get(&scope, "Group", &sales_team, &Projection::default())
                .await
        ),
        "rule 21: an empty team can still be read"
    );

    let skip = store
        .events(&scope, 0, 10_000)
        .await
        .map(|events| events.last().map_or(0, |event| event.seq))
        .unwrap_or(0);
    store
        .delete(&scope, "User", &c, None)
        .await
        .unwrap_or_else(|e| panic!("rule 21: delete failed: {e:?}"));
    let contoso_sales = team_id(&fx.tenant, "Contoso / Sales");
    let events: Vec<(ChangeKind, String)> = store
        .events(&scope, skip, 100)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|event| (event.kind, event.resource_id))
        .collect();
    assert_eq!(
        events,
        [
            (ChangeKind::UserDeleted, c.clone()),
            (ChangeKind::MembersRemoved, contoso_sales.clone()),
            (ChangeKind::GroupDeleted, contoso_sales)
        ],
        "rule 21: events of deleting a team's last member"
    );
    assert_eq!(
        teams(store, &fx, &[]).await,
        [team("Contoso / Engineering", &[&a])],
        "rule 21: teams after a delete"
    );
}

/// Rule 21: under `TeamMode::Department`, Groups cannot be written over SCIM.
pub async fn rule_21_teams_are_read_only<S: DirectoryStore + MemberStore>(store: &S) {
    let fx = Fixture::with_settings(department_mode());
    let scope = fx.scope();
    let member = id_of(
        &create(
            store,
            &fx,
            "User",
            employee("ro@contoso.com", json!({"department": "Sales"})),
        )
        .await,
    );
    let team = team_id(&fx.tenant, "Sales");
    let before = get(store, &fx, "Group", &team).await;
    let rename = patch_request(vec![(
        PatchOpKind::Replace,
        Some("displayName"),
        Some(json!("X")),
    )]);
    let all = Projection::default();
    let results = [
        (
            "create",
            store.create(&scope, "Group", group("Pushed")).await.err(),
        ),
        (
            "replace",
            store
                .replace(&scope, "Group", &team, group("X"), None)
                .await
                .err(),
        ),
        (
            "patch",
            store
                .patch(&scope, "Group", &team, &rename, None, &all)
                .await
                .err(),
        ),
        (
            "delete",
            store.delete(&scope, "Group", &team, None).await.err(),
        ),
        (
            "add_members",
            store
                .add_members(&scope, &team, &[member.clone()])
                .await
                .err(),
        ),
        (
            "remove_members",
            store
                .remove_members(&scope, &team, &[member.clone()])
                .await
                .err(),
        ),
    ];
    for (call, error) in results {
        assert!(
            matches!(&error, Some(error @ StoreError::ReadOnly { .. })
                if error.status() == 400 && error.scim_type() == Some(ScimType::Mutability)),
            "rule 21: {call} on a derived team gave {error:?}"
        );
    }
    assert_eq!(
        get(store, &fx, "Group", &team).await,
        before,
        "rule 21: a refused write changed the team"
    );
}

/// Rule 21: `rebuild_teams` derives the teams when a tenant switches to
/// `Department` and removes them when it switches back.
pub async fn rule_21_rebuild_teams_switches_modes<S: DirectoryStore + MemberStore>(store: &S) {
    let groups_mode = Fixture::new();
    let a = id_of(
        &create(
            store,
            &groups_mode,
            "User",
            employee("ra@contoso.com", json!({"department": "Sales"})),
        )
        .await,
    );
    let b = id_of(
        &create(
            store,
            &groups_mode,
            "User",
            employee("rb@contoso.com", json!({"department": "Sales"})),
        )
        .await,
    );
    let c = id_of(
        &create(
            store,
            &groups_mode,
            "User",
            employee(
                "rc@contoso.com",
                json!({"organization": "Fabrikam", "department": "Ops"}),
            ),
        )
        .await,
    );
    // Department names ignore case, as `displayName eq` does: one team.
    let d = id_of(
        &create(
            store,
            &groups_mode,
            "User",
            employee("rd@contoso.com", json!({"department": "SALES"})),
        )
        .await,
    );
    let pushed = create_group(store, &groups_mode, "Pushed", &[&a]).await;
    let stale = create_group(store, &groups_mode, "Stale", &[&b]).await;
    assert_eq!(
        ids(store, &groups_mode, "Group", &everything()).await,
        [pushed.clone(), stale.clone()],
        "rule 21: Groups mode derives no teams"
    );

    let department = groups_mode.same_tenant_with(department_mode());
    let rebuilt = store
        .rebuild_teams(&department.scope())
        .await
        .unwrap_or_else(|e| panic!("rule 21: rebuild_teams failed: {e:?}"));
    assert_eq!(
        rebuilt,
        TeamsRebuilt {
            teams: 2,
            created: 2,
            changed: 0,
            removed: 0
        },
        "rule 21: switching to Department"
    );
    assert_eq!(
        teams(store, &department, &[&pushed, &stale]).await,
        [team("Fabrikam / Ops", &[&c]), team("Sales", &[&a, &b, &d])],
        "rule 21: the derived teams"
    );
    // A group pushed before the switch stays, and can be deleted (only that).
    let deleted = store
        .delete(&department.scope(), "Group", &stale, None)
        .await;
    assert!(
        deleted.is_ok(),
        "rule 21: a group pushed before the switch cannot be deleted: {deleted:?}"
    );
    assert_eq!(
        member_ids(&get(store, &department, "Group", &pushed).await),
        [a.clone()],
        "rule 21: a pushed group changed"
    );
    let events = event_kinds(store, &department).await.len();
    let again = store.rebuild_teams(&department.scope()).await;
    assert_eq!(
        again.ok(),
        Some(TeamsRebuilt {
            teams: 2,
            ..TeamsRebuilt::default()
        }),
        "rule 21: a second rebuild"
    );
    assert_eq!(
        event_kinds(store, &department).await.len(),
        events,
        "rule 21: a rebuild that changes nothing recorded events"
    );

    let back = groups_mode.same_tenant_with(TenantSettings::default());
    let rebuilt = store.rebuild_teams(&back.scope()).await;
    assert_eq!(
        rebuilt.ok(),
        Some(TeamsRebuilt {
            teams: 0,
            created: 0,
            changed: 0,
            removed: 2
        }),
        "rule 21: switching back to Groups"
    );
    assert_eq!(
        ids(store, &back, "Group", &everything()).await,
        [pushed.clone()],
        "rule 21: derived teams left after switching back"
    );
    // Back to Department and to Groups again: the same teams, never twins.
    let first_ids = [
        team_id(&department.tenant, "Fabrikam / Ops"),
        team_id(&department.tenant, "Sales"),
    ];
    store
        .rebuild_teams(&department.scope())
        .await
        .unwrap_or_else(|e| panic!("rule 21: rebuild_teams failed: {e:?}"));
    let mut derived = ids(store, &department, "Group", &everything()).await;
    derived.retain(|id| *id != pushed);
    derived.sort();
    let mut expected = first_ids.to_vec();
    expected.sort();
    assert_eq!(
        derived, expected,
        "rule 21: switching twice made other teams"
    );
    store
        .rebuild_teams(&back.scope())
        .await
        .unwrap_or_else(|e| panic!("rule 21: rebuild_teams failed: {e:?}"));
    let writable = store
        .add_members(&back.scope(), &pushed, &[b.clone()])
        .await;
    assert!(
        writable.is_ok(),
        "rule 21: groups are not writable again in Groups mode: {writable:?}"
    );
    let mut with_members = group("Pushed again");
    with_members["members"] = members_of(&[&c]);
    let created = store.create(&back.scope(), "Group", with_members).await;
    assert!(
        created.is_ok(),
        "rule 21: groups cannot be created again in Groups mode: {created:?}"
    );
}
