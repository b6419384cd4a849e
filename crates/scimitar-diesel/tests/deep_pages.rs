//! Index pages deep into creation order start from `resource_buckets` (counts per
//! run of 1,024 `pk`s) instead of walking every key before them. They must be the
//! very pages a walk gives: no overlap, no gap, right `totalResults`, also when
//! buckets are shared with another tenant, thinned by deletes, or partly empty.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, SqliteConnection};
use scimitar_diesel::{DieselStore, OpenOptions};
use scimitar_store::{Paging, Policy, Query, Registry, Scope, Store};
use serde_json::{json, Value};

/// The coarse bucket size (`rows::BUCKET_SHIFTS`): the users are created across a
/// boundary between two coarse buckets, so the seek crosses both levels.
const COARSE: i64 = 1 << 15;

/// More than two buckets of one tenant's users, whatever the other tenant takes.
const USERS: usize = 2_300;

fn user(name: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name})
}

async fn user_names(
    store: &DieselStore,
    scope: &Scope<'_>,
    start_index: usize,
    count: usize,
) -> (Vec<String>, usize) {
    let page = store
        .query(
            scope,
            "User",
            &Query::with_paging(Paging::Index { start_index, count }),
        )
        .await
        .unwrap();
    let names = page
        .resources
        .iter()
        .map(|r| r["userName"].as_str().unwrap_or_default().to_owned())
        .collect();
    (names, page.total_results)
}

async fn check(store: &DieselStore) {
    let registry = Registry::builtin();
    let policy = Policy::default();
    let run = uuid::Uuid::new_v4();
    let (tenant, other) = (format!("deep-{run}"), format!("deep-other-{run}"));
    let scope = Scope::new(&tenant, &registry, &policy);
    let other_scope = Scope::new(&other, &registry, &policy);

    let mut expected = Vec::new();
    let mut ids = Vec::new();
    for i in 0..USERS {
        let name = format!("user{i:05}");
        let created = store.create(&scope, "User", user(&name)).await.unwrap();
        ids.push(created["id"].as_str().unwrap().to_owned());
        expected.push(name);
        // The other tenant's users take pks between ours, in the same buckets.
        if i % 3 == 0 {
            let name = format!("other{i:05}");
            store
                .create(&other_scope, "User", user(&name))
                .await
                .unwrap();
        }
    }
    // Thin the buckets: every 7th user, and one whole stretch of 1,100 users
    // (a bucket left empty).
    for (i, id) in ids.iter().enumerate() {
        if i % 7 == 0 || (600..1_700).contains(&i) {
            store.delete(&scope, "User", id, None).await.unwrap();
            expected[i].clear();
        }
    }
    expected.retain(|name| !name.is_empty());
    let total = expected.len();

    for start_index in [
        1,
        2,
        100,
        1_024,
        1_025,
        1_026,
        1_100,
        1_200,
        total - 50,
        total - 1,
        total,
        total + 1,
        total + 500,
    ] {
        for count in [1, 7, 100] {
            let (got, got_total) = user_names(store, &scope, start_index, count).await;
            let from = (start_index - 1).min(total);
            let want = &expected[from..(from + count).min(total)];
            assert_eq!(
                got,
                want,
                "startIndex={start_index} count={count} on {:?}",
                store.backend()
            );
            assert_eq!(got_total, total, "totalResults on {:?}", store.backend());
        }
    }
    // Walking the whole list page by page gives every user once, in order.
    let mut walked = Vec::new();
    let mut start_index = 1;
    loop {
        let (page, _) = user_names(store, &scope, start_index, 100).await;
        if page.is_empty() {
            break;
        }
        start_index += page.len();
        walked.extend(page);
    }
    assert_eq!(walked, expected);
    // The other tenant's pages see only its own users.
    let (other_page, other_total) = user_names(store, &other_scope, 700, 100).await;
    assert_eq!(other_total, USERS.div_ceil(3));
    assert!(other_page.iter().all(|name| name.starts_with("other")));
    assert_eq!(
        other_page.first().map(String::as_str),
        Some(format!("other{:05}", 699 * 3).as_str())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_deep_pages_match_a_walk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep.db");
    let store = DieselStore::open(&format!("sqlite://{}", path.display())).unwrap();
    // The next pk follows the largest: a row of an unrelated tenant moves it
    // just below a coarse bucket boundary.
    SqliteConnection::establish(&path.display().to_string())
        .unwrap()
        .batch_execute(&format!(
            "INSERT INTO resources (pk, tenant_id, resource_type, id, created, last_modified, \
             version, data) VALUES ({}, 'deep-gap', 'User', 'gap', 0, 0, 1, '{{}}')",
            COARSE - 1_000
        ))
        .unwrap();
    check(&store).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_deep_pages_match_a_walk() {
    let Some(url) = scimitar_store::testkit::postgres_url("deep pages on PostgreSQL") else {
        return;
    };
    let options = OpenOptions {
        max_connections: 2,
        ..OpenOptions::default()
    };
    let store = DieselStore::open_with(&url, &options).unwrap();
    // Move the pk sequence just below the next coarse bucket boundary (other
    // tests only see larger pks).
    PgConnection::establish(&url)
        .unwrap()
        .batch_execute(&format!(
            "SELECT setval(pg_get_serial_sequence('resources', 'pk'), \
             (COALESCE(MAX(pk), 0) / {COARSE} + 1) * {COARSE} - 1000) FROM resources"
        ))
        .unwrap();
    check(&store).await;
}
