//! `create_many` on PostgreSQL (`SCIMITAR_TEST_POSTGRES_URL`): one transaction,
//! a savepoint per resource, the tenant's counts written once. A create that
//! fails after its row was inserted (an unknown manager) leaves neither the row
//! nor its count behind.

use scimitar_diesel::DieselStore;
use scimitar_store::{EventStore, Policy, Query, Registry, Scope, Store, StoreError};
use serde_json::json;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_create_in_a_batch_leaves_no_count() {
    let Some(url) = scimitar_store::testkit::postgres_url("batch_create") else {
        return;
    };
    let store = DieselStore::open(&url).expect("open PostgreSQL");
    let tenant = format!("batch-{}", uuid::Uuid::new_v4().simple());
    let (registry, policy) = (Registry::builtin(), Policy::compatible());
    let scope = Scope::new(&tenant, &registry, &policy);
    let user = |name: &str| json!({"schemas": [USER], "userName": name});
    let mut batch: Vec<_> = (0..40).map(|i| user(&format!("u{i}"))).collect();
    batch.insert(
        7,
        json!({"schemas": [USER, ENTERPRISE], "userName": "managed",
               ENTERPRISE: {"manager": {"value": "nobody"}}}),
    );
    let outcomes = store.create_many(&scope, "User", batch).await;
    assert!(
        matches!(outcomes[7], Err(StoreError::UnknownManager(_))),
        "{:?}",
        outcomes[7]
    );
    assert_eq!(
        outcomes.iter().filter(|outcome| outcome.is_ok()).count(),
        40
    );
    let page = store
        .query(&scope, "User", &Query::default())
        .await
        .expect("query");
    assert_eq!(page.total_results, 40, "the failed create was counted");
    assert_eq!(page.resources.len(), 40);
    // A deep page (index paging walks the count buckets) agrees.
    let deep = Query::with_paging(scimitar_store::Paging::Index {
        start_index: 31,
        count: 20,
    });
    let page = store.query(&scope, "User", &deep).await.expect("query");
    assert_eq!(page.resources.len(), 10);
    // One event per user made, in the batch's order; none for the failed one.
    let events = store.events(&scope, 0, 1000).await.expect("events");
    let made: Vec<String> = outcomes
        .iter()
        .filter_map(|outcome| outcome.as_ref().ok())
        .map(|created| {
            created.clone().into_resource()["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    let announced: Vec<String> = events
        .iter()
        .map(|event| event.resource_id.clone())
        .collect();
    assert_eq!(announced, made);
    assert!(events.windows(2).all(|pair| pair[0].seq < pair[1].seq));
}

/// Two batches naming the same users, through two store instances at once (two
/// servers importing): each `userName` is made once, the other create is a
/// uniqueness error, whichever batch looked its names up first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_batches_make_each_user_once() {
    let Some(url) = scimitar_store::testkit::postgres_url("racing batches") else {
        return;
    };
    let (first, second) = (
        DieselStore::open(&url).expect("open PostgreSQL"),
        DieselStore::open(&url).expect("open PostgreSQL"),
    );
    let tenant = format!("race-{}", uuid::Uuid::new_v4().simple());
    let (registry, policy) = (Registry::builtin(), Policy::compatible());
    let batch = || -> Vec<serde_json::Value> {
        (0..200)
            .map(|i| json!({"schemas": [USER], "userName": format!("racer{i}")}))
            .collect()
    };
    let run = |store: DieselStore| {
        let (tenant, registry, policy) = (tenant.clone(), registry.clone(), policy.clone());
        let users = batch();
        tokio::spawn(async move {
            let scope = Scope::new(&tenant, &registry, &policy);
            store.create_many(&scope, "User", users).await
        })
    };
    let (a, b) = (run(first.clone()), run(second));
    let (a, b) = (
        a.await.expect("first batch"),
        b.await.expect("second batch"),
    );
    for (one, other) in a.iter().zip(&b) {
        assert!(
            one.is_ok() != other.is_ok(),
            "each user once: {one:?} / {other:?}"
        );
        for outcome in [one, other] {
            if let Err(error) = outcome {
                assert!(
                    matches!(error, StoreError::Uniqueness { .. }),
                    "the loser is a uniqueness error: {error:?}"
                );
            }
        }
    }
    let scope = Scope::new(&tenant, &registry, &policy);
    let page = first
        .query(&scope, "User", &Query::default())
        .await
        .expect("query");
    assert_eq!(page.total_results, 200);
}
