//! `create_many` on PostgreSQL (`SCIMITAR_TEST_POSTGRES_URL`): one transaction,
//! a savepoint per resource, the tenant's counts written once. A create that
//! fails after its row was inserted (an unknown manager) leaves neither the row
//! nor its count behind.

use scimitar_diesel::DieselStore;
use scimitar_store::{Policy, Query, Registry, Scope, Store, StoreError};
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
}
