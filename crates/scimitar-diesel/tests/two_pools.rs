//! Two stores (two connection pools, as two server processes would have) writing
//! to one database at once: uniqueness holds, no write is lost, and the outbox
//! numbers every event once, in order.

use futures_util::future::join_all;
use scimitar_diesel::{DieselStore, OpenOptions};
use scimitar_store::{EventStore, MemberStore, Policy, Registry, Scope, Store, StoreError};
use serde_json::{json, Value};

fn options() -> OpenOptions {
    OpenOptions {
        max_connections: 3,
        ..OpenOptions::default()
    }
}

fn user(name: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name})
}

async fn race(stores: [&DieselStore; 2]) {
    let registry = Registry::builtin();
    let policy = Policy::strict();
    let tenant = format!("two-pools-{}", uuid::Uuid::new_v4());
    let scope = Scope::new(&tenant, &registry, &policy);

    // 16 creates of one userName, half through each pool: exactly one wins.
    let creates = (0..16).map(|i| {
        let name = if i % 2 == 0 {
            "same@example.com"
        } else {
            "SAME@example.com"
        };
        stores[i % 2].create(&scope, "User", user(name))
    });
    let results = join_all(creates).await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    let lost = results
        .iter()
        .filter(|r| matches!(r, Err(StoreError::Uniqueness { .. })))
        .count();
    assert_eq!((won, lost), (1, 15), "{results:?}");

    // 20 users added to one group, one call each, alternating pools: all arrive.
    let group = stores[0]
        .create(
            &scope,
            "Group",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "g"}),
        )
        .await
        .unwrap();
    let group_id = group["id"].as_str().unwrap().to_owned();
    let mut member_ids = Vec::new();
    for i in 0..20 {
        let created = stores[i % 2]
            .create(&scope, "User", user(&format!("member{i}@example.com")))
            .await
            .unwrap();
        member_ids.push(created["id"].as_str().unwrap().to_owned());
    }
    let adds = member_ids
        .iter()
        .enumerate()
        .map(|(i, id)| stores[i % 2].add_members(&scope, &group_id, std::slice::from_ref(id)));
    let versions: Vec<String> = join_all(adds)
        .await
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut distinct = versions.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        20,
        "each add made its own version: {versions:?}"
    );
    let stored = stores[1]
        .get(&scope, "Group", &group_id, &Default::default())
        .await
        .unwrap();
    assert_eq!(stored["members"].as_array().map(Vec::len), Some(20));
    assert_eq!(stored["meta"]["version"], "W/\"21\"");

    // The outbox: 1 + 1 + 20 creates, 20 member additions, in strict order.
    let events = stores[0].events(&scope, 0, 1000).await.unwrap();
    assert_eq!(events.len(), 42);
    assert!(events.windows(2).all(|w| w[0].seq < w[1].seq));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_shared_by_two_pools() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("shared.db").display());
    let first = DieselStore::open_with(&url, &options()).unwrap();
    let second = DieselStore::open_with(&url, &options()).unwrap();
    race([&first, &second]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_database_shared_by_two_pools() {
    let Some(url) = scimitar_store::testkit::postgres_url("two pools on PostgreSQL") else {
        return;
    };
    let first = DieselStore::open_with(&url, &options()).unwrap();
    let second = DieselStore::open_with(&url, &options()).unwrap();
    race([&first, &second]).await;
}
