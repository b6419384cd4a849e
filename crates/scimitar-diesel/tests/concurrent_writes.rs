//! Writes of one tenant on PostgreSQL run side by side, without a tenant-wide lock,
//! and keep what that lock used to buy: no lost update, an exact `userName`
//! uniqueness across instances, events of one resource in commit order, and no
//! event skipped by a consumer when a write commits late (`SCIMITAR_TEST_POSTGRES_URL`).
#![cfg(feature = "postgres")]

use std::time::Duration;

use diesel::{Connection, PgConnection, RunQueryDsl};
use futures_util::future::join_all;
use scimitar_diesel::{DieselStore, OpenOptions};
use scimitar_store::{
    ChangeEvent, EventStore, PatchRequest, Policy, Projection, Query, Registry, Scope, Store,
    StoreError,
};
use serde_json::{json, Value};

fn postgres() -> Option<(String, DieselStore)> {
    let url = scimitar_store::testkit::postgres_url("a PostgreSQL concurrency test")?;
    let options = OpenOptions {
        max_connections: 16,
        ..OpenOptions::default()
    };
    let store = DieselStore::open_with(&url, &options).expect("open PostgreSQL");
    Some((url, store))
}

/// The tenant's events after `after`, read until there are `count` or 20 s have
/// passed: a transaction of another test that runs meanwhile delays settling
/// (never the order).
async fn events_after(
    store: &DieselStore,
    scope: &Scope<'_>,
    after: u64,
    count: usize,
) -> Vec<ChangeEvent> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let events = store.events(scope, after, 1000).await.unwrap();
        if events.len() >= count || std::time::Instant::now() > deadline {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn tenant() -> String {
    format!("t-{}", uuid::Uuid::new_v4().simple())
}

fn user(name: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name})
}

fn add_email(address: &str) -> PatchRequest {
    serde_json::from_value(json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "emails", "value": [{"value": address}]}]
    }))
    .expect("a PATCH request")
}

/// A write that drew its event number and has not committed: what a slow
/// transaction of another server looks like to a consumer.
fn open_write(url: &str, tenant: &str, user_id: &str) -> PgConnection {
    let mut conn = PgConnection::establish(url).expect("connect");
    diesel::sql_query("BEGIN")
        .execute(&mut conn)
        .expect("begin");
    diesel::sql_query(
        "INSERT INTO events (tenant_id, kind, resource_type, resource_id, payload, at) \
         VALUES ($1, 'user.updated', 'User', $2, '{}'::jsonb, 0)",
    )
    .bind::<diesel::sql_types::Text, _>(tenant)
    .bind::<diesel::sql_types::Text, _>(user_id)
    .execute(&mut conn)
    .expect("insert an event");
    conn
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_commit_is_never_skipped() {
    let Some((url, store)) = postgres() else {
        return;
    };
    let (tenant, registry, policy) = (tenant(), Registry::builtin(), Policy::compatible());
    let scope = Scope::new(&tenant, &registry, &policy);
    let ann = store.create(&scope, "User", user("ann")).await.unwrap();
    let bob = store.create(&scope, "User", user("bob")).await.unwrap();
    let seen = events_after(&store, &scope, 0, 2).await;
    assert_eq!(seen.len(), 2, "{seen:?}");
    let checkpoint = seen[1].seq;

    // Ann's write draws its number first and commits last; Bob's commits between.
    let ann_id = ann["id"].as_str().unwrap();
    let mut slow = open_write(&url, &tenant, ann_id);
    let bob_id = bob["id"].as_str().unwrap();
    store
        .patch(
            &scope,
            "User",
            bob_id,
            &add_email("bob@example.com"),
            None,
            &Projection::default(),
        )
        .await
        .unwrap();
    let early = store.events(&scope, checkpoint, 100).await.unwrap();
    assert!(
        early.is_empty(),
        "Bob's event must wait for the older write, or a consumer saving its \
         checkpoint now would skip Ann's: {early:?}"
    );

    diesel::sql_query("COMMIT")
        .execute(&mut slow)
        .expect("commit");
    let late = events_after(&store, &scope, checkpoint, 2).await;
    let ids: Vec<&str> = late.iter().map(|e| e.resource_id.as_str()).collect();
    assert_eq!(ids, [ann_id, bob_id], "both, in commit-safe order");
    assert!(late[0].seq > checkpoint && late[1].seq > late[0].seq);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_waiting_for_one_resource_holds_up_no_other() {
    let Some((url, store)) = postgres() else {
        return;
    };
    let (tenant, registry, policy) = (tenant(), Registry::builtin(), Policy::compatible());
    let scope = Scope::new(&tenant, &registry, &policy);
    let ann = store.create(&scope, "User", user("ann")).await.unwrap();
    let bob = store.create(&scope, "User", user("bob")).await.unwrap();
    let (ann_id, bob_id) = (ann["id"].as_str().unwrap(), bob["id"].as_str().unwrap());

    // Another session holds Ann's row; a PATCH of Ann waits for it.
    let mut holder = PgConnection::establish(&url).expect("connect");
    diesel::sql_query("BEGIN").execute(&mut holder).unwrap();
    diesel::sql_query("SELECT 1 FROM resources WHERE id = $1 FOR UPDATE")
        .bind::<diesel::sql_types::Text, _>(ann_id)
        .execute(&mut holder)
        .unwrap();
    let waiting = {
        let (store, tenant, ann_id) = (store.clone(), tenant.clone(), ann_id.to_owned());
        tokio::spawn(async move {
            let (registry, policy) = (Registry::builtin(), Policy::compatible());
            let scope = Scope::new(&tenant, &registry, &policy);
            let patch = add_email("ann@example.com");
            store
                .patch(
                    &scope,
                    "User",
                    &ann_id,
                    &patch,
                    None,
                    &Projection::default(),
                )
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!waiting.is_finished(), "Ann's PATCH waits for her row");

    // Bob's write, in the same tenant, goes through meanwhile.
    let (patch, projection) = (add_email("bob@example.com"), Projection::default());
    let bob_patch = store.patch(&scope, "User", bob_id, &patch, None, &projection);
    let bob_patched = tokio::time::timeout(Duration::from_secs(10), bob_patch)
        .await
        .expect("a write of another resource must not wait for Ann's")
        .unwrap();
    assert_eq!(bob_patched["emails"][0]["value"], "bob@example.com");

    diesel::sql_query("COMMIT").execute(&mut holder).unwrap();
    let ann = waiting.await.unwrap().unwrap();
    assert_eq!(ann["emails"][0]["value"], "ann@example.com");
}

/// Reads never wait for a write in progress: not even a group's, whose member
/// list is checked against the group's version after it is read (that check
/// once took the row lock a write takes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_read_does_not_wait_for_a_write_of_the_group() {
    let Some((url, store)) = postgres() else {
        return;
    };
    let (tenant, registry, policy) = (tenant(), Registry::builtin(), Policy::compatible());
    let scope = Scope::new(&tenant, &registry, &policy);
    let ann = store.create(&scope, "User", user("ann")).await.unwrap();
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Sales", "members": [{"value": ann["id"]}]});
    let group = store.create(&scope, "Group", group).await.unwrap();
    let group_id = group["id"].as_str().unwrap();
    // Another instance's store: its member lists are empty.
    let reader = DieselStore::open(&url).expect("open PostgreSQL");

    // A write of the group in progress, as another session holds it.
    let mut holder = PgConnection::establish(&url).expect("connect");
    diesel::sql_query("BEGIN").execute(&mut holder).unwrap();
    diesel::sql_query("SELECT 1 FROM resources WHERE id = $1 FOR NO KEY UPDATE")
        .bind::<diesel::sql_types::Text, _>(group_id)
        .execute(&mut holder)
        .unwrap();
    let projection = Projection::default();
    let read = reader.get(&scope, "Group", group_id, &projection);
    let read = tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("a read must not wait for the group's row lock")
        .unwrap();
    assert_eq!(read["members"][0]["value"], ann["id"]);
    diesel::sql_query("COMMIT").execute(&mut holder).unwrap();
}

fn add_phone_number(number: &str) -> PatchRequest {
    serde_json::from_value(json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "phoneNumbers", "value": [{"value": number}]}]
    }))
    .expect("a PATCH request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_of_one_resource_lose_nothing_and_keep_event_order() {
    // An email is a row of its own: a write of several statements.
    concurrent_patches_of_one_user("emails", |i| add_email(&format!("e{i}@example.com"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_one_statement_patches_lose_nothing_and_keep_event_order() {
    // A phone number lives in the body alone: the update and its event are one
    // statement, conditional on the version planned against.
    concurrent_patches_of_one_user("phoneNumbers", |i| {
        add_phone_number(&format!("+1 555 01{i:02}"))
    })
    .await;
}

/// 16 PATCHes at once, `patch(i)` each adding one value of `attribute`: 8 of one
/// user, 8 of other users of the tenant. None is lost, and the user's events come
/// in the order of its versions.
async fn concurrent_patches_of_one_user(attribute: &str, patch: fn(usize) -> PatchRequest) {
    let Some((_, store)) = postgres() else {
        return;
    };
    let (tenant, registry, policy) = (tenant(), Registry::builtin(), Policy::compatible());
    let scope = Scope::new(&tenant, &registry, &policy);
    let ann = store.create(&scope, "User", user("ann")).await.unwrap();
    let id = ann["id"].as_str().unwrap().to_owned();
    let others: Vec<Value> =
        join_all((0..8).map(|i| store.create(&scope, "User", user(&format!("u{i}")))))
            .await
            .into_iter()
            .collect::<Result<_, _>>()
            .unwrap();

    // 16 PATCHes at once: 8 of Ann, 8 of other users of the tenant.
    let writes = (0..16).map(|i| {
        let (store, tenant) = (store.clone(), tenant.clone());
        let target = if i % 2 == 0 {
            id.clone()
        } else {
            others[i / 2]["id"].as_str().unwrap().to_owned()
        };
        tokio::spawn(async move {
            let (registry, policy) = (Registry::builtin(), Policy::compatible());
            let scope = Scope::new(&tenant, &registry, &policy);
            let patch = patch(i);
            store
                .patch(
                    &scope,
                    "User",
                    &target,
                    &patch,
                    None,
                    &Projection::default(),
                )
                .await
        })
    });
    for written in join_all(writes).await {
        written.unwrap().unwrap();
    }

    let ann = store
        .get(&scope, "User", &id, &Projection::default())
        .await
        .unwrap();
    assert_eq!(ann[attribute].as_array().map(Vec::len), Some(8), "{ann}");
    // Counts kept by concurrent creates (in per-connection rows) add up.
    let all = store
        .query(&scope, "User", &Query::default())
        .await
        .unwrap();
    assert_eq!(all.total_results, 9);
    assert_eq!(ann["meta"]["version"], "W/\"9\"");
    // Ann's events come in the order of her versions.
    let versions: Vec<String> = events_after(&store, &scope, 0, 9 + 8 * 2)
        .await
        .iter()
        .filter(|event| event.resource_id == id)
        .map(|event| {
            event.payload["meta"]["version"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    let expected: Vec<String> = (1..=9).map(|v| format!("W/\"{v}\"")).collect();
    assert_eq!(versions, expected);
}

/// PUTs of one user through two instances at once, all on the same `If-Match`:
/// exactly one is written (one version, one event), the rest are 412s, though
/// each is planned outside a transaction and written in one statement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn puts_on_one_etag_through_two_instances_write_exactly_one() {
    let Some((url, first)) = postgres() else {
        return;
    };
    let second = DieselStore::open(&url).expect("open PostgreSQL");
    let (tenant, registry, policy) = (tenant(), Registry::builtin(), Policy::compatible());
    let scope = Scope::new(&tenant, &registry, &policy);
    let ann = first.create(&scope, "User", user("ann")).await.unwrap();
    let id = ann["id"].as_str().unwrap().to_owned();
    let version = ann["meta"]["version"].as_str().unwrap().to_owned();

    let puts = (0..16).map(|i| {
        let store = if i % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        let (tenant, id, version) = (tenant.clone(), id.clone(), version.clone());
        tokio::spawn(async move {
            let (registry, policy) = (Registry::builtin(), Policy::compatible());
            let scope = Scope::new(&tenant, &registry, &policy);
            let mut body = user("ann");
            body["displayName"] = json!(format!("Ann {i}"));
            store
                .replace(&scope, "User", &id, body, Some(&version))
                .await
        })
    });
    let mut written = Vec::new();
    for put in join_all(puts).await {
        match put.unwrap() {
            Ok(resource) => written.push(resource),
            Err(StoreError::VersionMismatch { .. }) => {}
            Err(other) => panic!("a PUT failed otherwise: {other}"),
        }
    }
    assert_eq!(written.len(), 1, "{written:?}");
    let ann = first
        .get(&scope, "User", &id, &Projection::default())
        .await
        .unwrap();
    assert_eq!(ann["meta"]["version"], "W/\"2\"");
    assert_eq!(ann["displayName"], written[0]["displayName"]);
    assert_eq!(written[0]["meta"]["version"], "W/\"2\"");
    let events = events_after(&first, &scope, 0, 2).await;
    let kinds: Vec<&str> = events.iter().map(|event| event.kind.as_str()).collect();
    assert_eq!(kinds, ["user.created", "user.updated"]);
    assert_eq!(events[1].payload["displayName"], ann["displayName"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_user_name_created_through_two_instances_at_once_makes_one_user() {
    let Some((url, first)) = postgres() else {
        return;
    };
    let second = DieselStore::open(&url).expect("a second instance");
    let tenant = tenant();
    let creates = (0..12).map(|i| {
        let store = if i % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        let tenant = tenant.clone();
        tokio::spawn(async move {
            let (registry, policy) = (Registry::builtin(), Policy::compatible());
            let scope = Scope::new(&tenant, &registry, &policy);
            store.create(&scope, "User", user("Same@Example.com")).await
        })
    });
    let results: Vec<Result<Value, StoreError>> = join_all(creates)
        .await
        .into_iter()
        .map(|joined| joined.unwrap())
        .collect();
    let made = results.iter().filter(|result| result.is_ok()).count();
    assert_eq!(made, 1, "{results:?}");
    for result in &results {
        if let Err(error) = result {
            assert!(matches!(error, StoreError::Uniqueness { .. }), "{error}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_ended_by_a_deadlock_runs_again() {
    let Some((url, store)) = postgres() else {
        return;
    };
    let (tenant, registry, policy) = (tenant(), Registry::builtin(), Policy::compatible());
    let scope = Scope::new(&tenant, &registry, &policy);
    let member = store.create(&scope, "User", user("member")).await.unwrap();
    let member_id = member["id"].as_str().unwrap().to_owned();
    let group = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Sales",
        "members": [{"value": member_id}]
    });
    let group = store.create(&scope, "Group", group).await.unwrap();
    let group_id = group["id"].as_str().unwrap().to_owned();

    // Another session holds the group's row...
    let mut other = PgConnection::establish(&url).expect("connect");
    // ...and waits longer than ours before looking for a deadlock, so that
    // PostgreSQL ends our write, not its transaction.
    diesel::sql_query("SET deadlock_timeout = '10s'")
        .execute(&mut other)
        .unwrap();
    diesel::sql_query("BEGIN").execute(&mut other).unwrap();
    diesel::sql_query("SELECT 1 FROM resources WHERE id = $1 FOR UPDATE")
        .bind::<diesel::sql_types::Text, _>(&group_id)
        .execute(&mut other)
        .unwrap();
    // Deleting the member locks it, then waits for the group (to take it out).
    let deleting = {
        let (store, tenant, member_id) = (store.clone(), tenant.clone(), member_id.clone());
        tokio::spawn(async move {
            let (registry, policy) = (Registry::builtin(), Policy::compatible());
            let scope = Scope::new(&tenant, &registry, &policy);
            store.delete(&scope, "User", &member_id, None).await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The other session now wants the member: each waits for the other.
    let other = tokio::task::spawn_blocking(move || {
        diesel::sql_query("SELECT 1 FROM resources WHERE id = $1 FOR KEY SHARE")
            .bind::<diesel::sql_types::Text, _>(&member_id)
            .execute(&mut other)
            .expect("the other session is not the one ended");
        std::thread::sleep(Duration::from_millis(200));
        diesel::sql_query("COMMIT").execute(&mut other).unwrap();
    });
    other.await.unwrap();
    deleting
        .await
        .unwrap()
        .expect("the delete, ended once by the deadlock, runs again and succeeds");
    let group = store
        .get(&scope, "Group", &group_id, &Projection::default())
        .await
        .unwrap();
    assert!(group.get("members").is_none(), "{group}");
}

/// A member change in one statement (outside a transaction) that PostgreSQL
/// ends to break a deadlock runs again, as a transaction would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_statement_member_change_ended_by_a_deadlock_runs_again() {
    let Some((url, store)) = postgres() else {
        return;
    };
    let (tenant, registry, policy) = (tenant(), Registry::builtin(), Policy::compatible());
    let scope = Scope::new(&tenant, &registry, &policy);
    let member = store.create(&scope, "User", user("member")).await.unwrap();
    let member_id = member["id"].as_str().unwrap().to_owned();
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Sales"});
    let group = store.create(&scope, "Group", group).await.unwrap();
    let group_id = group["id"].as_str().unwrap().to_owned();

    // Another session holds the member's row, as a delete of it would, and
    // waits longer than ours before looking for a deadlock.
    let mut other = PgConnection::establish(&url).expect("connect");
    diesel::sql_query("SET deadlock_timeout = '10s'")
        .execute(&mut other)
        .unwrap();
    diesel::sql_query("BEGIN").execute(&mut other).unwrap();
    diesel::sql_query("SELECT 1 FROM resources WHERE id = $1 FOR UPDATE")
        .bind::<diesel::sql_types::Text, _>(&member_id)
        .execute(&mut other)
        .unwrap();
    // Adding the member locks the group, then waits for the member.
    let adding = {
        let (store, tenant) = (store.clone(), tenant.clone());
        let (group_id, member_id) = (group_id.clone(), member_id.clone());
        tokio::spawn(async move {
            let (registry, policy) = (Registry::builtin(), Policy::compatible());
            let scope = Scope::new(&tenant, &registry, &policy);
            let patch = member_patch("add", &member_id);
            store
                .patch(
                    &scope,
                    "Group",
                    &group_id,
                    &patch,
                    None,
                    &Projection::default(),
                )
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The other session now wants the group: each waits for the other.
    let other = tokio::task::spawn_blocking(move || {
        diesel::sql_query("SELECT 1 FROM resources WHERE id = $1 FOR UPDATE")
            .bind::<diesel::sql_types::Text, _>(&group_id)
            .execute(&mut other)
            .expect("the other session is not the one ended");
        std::thread::sleep(Duration::from_millis(200));
        diesel::sql_query("COMMIT").execute(&mut other).unwrap();
    });
    other.await.unwrap();
    let group = adding
        .await
        .unwrap()
        .expect("the change, ended once by the deadlock, runs again and succeeds");
    assert_eq!(group["members"][0]["value"], member_id.as_str());
    assert_eq!(group["meta"]["version"], "W/\"2\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_through_two_instances_keep_emails_counts_and_events() {
    let Some((url, first)) = postgres() else {
        return;
    };
    let second = DieselStore::open(&url).expect("a second instance");
    let tenant = tenant();
    // A user create is one statement: its row, email rows, counts and event.
    let creates = (0..16).map(|i| {
        let store = if i % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        let tenant = tenant.clone();
        tokio::spawn(async move {
            let (registry, policy) = (Registry::builtin(), Policy::compatible());
            let scope = Scope::new(&tenant, &registry, &policy);
            let mut user = user(&format!("u{i}"));
            user["emails"] = json!([{"value": format!("u{i}@example.com"), "primary": true}]);
            store.create(&scope, "User", user).await
        })
    });
    let mut ids = Vec::new();
    for created in join_all(creates).await {
        ids.push(created.unwrap().unwrap()["id"].as_str().unwrap().to_owned());
    }
    let (registry, policy) = (Registry::builtin(), Policy::compatible());
    let scope = Scope::new(&tenant, &registry, &policy);
    let all = first
        .query(&scope, "User", &Query::default())
        .await
        .unwrap();
    assert_eq!(all.total_results, 16);
    let mut by_email = Query::default();
    by_email.filter =
        Some(scimitar_filter::parse_filter("emails.value eq \"U7@example.com\"").unwrap());
    let found = second.query(&scope, "User", &by_email).await.unwrap();
    assert_eq!(found.total_results, 1);
    assert_eq!(found.resources[0]["userName"], "u7");
    let mut created: Vec<String> = events_after(&first, &scope, 0, 16)
        .await
        .into_iter()
        .filter(|event| event.kind.as_str() == "user.created")
        .map(|event| event.resource_id)
        .collect();
    created.sort();
    ids.sort();
    assert_eq!(created, ids, "one created event per user");
}

fn member_patch(op: &str, user_id: &str) -> PatchRequest {
    let operation = match op {
        "add" => json!({"op": "add", "path": "members", "value": [{"value": user_id}]}),
        _ => json!({"op": "remove", "path": format!("members[value eq \"{user_id}\"]")}),
    };
    serde_json::from_value(json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [operation]
    }))
    .expect("a PATCH request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_member_changes_through_two_instances_lose_nothing() {
    let Some((url, first)) = postgres() else {
        return;
    };
    let second = DieselStore::open(&url).expect("a second instance");
    let (tenant, registry, policy) = (tenant(), Registry::builtin(), Policy::compatible());
    let scope = Scope::new(&tenant, &registry, &policy);
    let mut users = Vec::new();
    for i in 0..24 {
        let made = first
            .create(&scope, "User", user(&format!("m{i}")))
            .await
            .unwrap();
        users.push(made["id"].as_str().unwrap().to_owned());
    }
    let group = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Everyone",
        "members": users[..8].iter().map(|id| json!({"value": id})).collect::<Vec<_>>()
    });
    let group = first.create(&scope, "Group", group).await.unwrap();
    let group_id = group["id"].as_str().unwrap().to_owned();

    // 16 PATCHes of the group at once, through two instances: 8 remove one of
    // the first 8 members, 8 add one of the next 8 users.
    let changes = (0..16).map(|i| {
        let store = if i % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        let (op, member) = if i < 8 {
            ("remove", &users[i])
        } else {
            ("add", &users[i])
        };
        let (patch, tenant, group_id) =
            (member_patch(op, member), tenant.clone(), group_id.clone());
        tokio::spawn(async move {
            let (registry, policy) = (Registry::builtin(), Policy::compatible());
            let scope = Scope::new(&tenant, &registry, &policy);
            let projection = Projection::default();
            store
                .patch(&scope, "Group", &group_id, &patch, None, &projection)
                .await
        })
    });
    let mut versions = Vec::new();
    for answer in join_all(changes).await {
        let answer = answer.unwrap().unwrap();
        // Each answer is the group at the version its change made.
        let version = answer["meta"]["version"].as_str().unwrap().to_owned();
        versions.push(version);
    }
    versions.sort_by_key(|v| {
        v.trim_matches(|c: char| !c.is_ascii_digit())
            .parse::<u32>()
            .unwrap()
    });
    let expected: Vec<String> = (2..=17).map(|v| format!("W/\"{v}\"")).collect();
    assert_eq!(
        versions, expected,
        "one version per change, each answered once"
    );

    let group = second
        .get(&scope, "Group", &group_id, &Projection::default())
        .await
        .unwrap();
    let mut members: Vec<&str> = group["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|member| member["value"].as_str().unwrap())
        .collect();
    members.sort_unstable();
    let mut wanted: Vec<&str> = users[8..16].iter().map(String::as_str).collect();
    wanted.sort_unstable();
    assert_eq!(members, wanted);
    assert_eq!(group["meta"]["version"], "W/\"17\"");
    // One event per change, naming its member (after the create's, naming 8).
    let events = events_after(&first, &scope, 0, 24 + 2 + 16).await;
    let member_events: Vec<(String, String)> = events
        .iter()
        .filter(|event| event.resource_id == group_id)
        .filter(|event| event.payload["members"].as_array().map(Vec::len) == Some(1))
        .map(|event| {
            (
                event.kind.as_str().to_owned(),
                event.payload["members"][0].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(member_events.len(), 16, "{member_events:?}");
    for (i, user) in users[..16].iter().enumerate() {
        let kind = if i < 8 {
            "members.removed"
        } else {
            "members.added"
        };
        assert!(
            member_events.contains(&(kind.to_owned(), user.clone())),
            "{kind} {i}: {member_events:?}"
        );
    }
}
