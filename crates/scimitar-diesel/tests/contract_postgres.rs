//! The storage contract kit against PostgreSQL (`SCIMITAR_TEST_POSTGRES_URL`;
//! skipped when it is unset). Checks run in parallel in one database; each works in
//! its own random tenant.

use scimitar_diesel::{DieselStore, OpenOptions};

fn postgres_store() -> Option<DieselStore> {
    let url = scimitar_store::testkit::postgres_url("the PostgreSQL contract check")?;
    let options = OpenOptions {
        max_connections: 4,
        ..OpenOptions::default()
    };
    Some(DieselStore::open_with(&url, &options).expect("open PostgreSQL"))
}

// Each check returns early (skips) without a database.
scimitar_store::store_contract_tests!(match postgres_store() {
    Some(store) => store,
    None => return,
});
scimitar_store::tenant_store_contract_tests!(match postgres_store() {
    Some(store) => store,
    None => return,
});

#[tokio::test]
async fn rule_t8_deleting_a_tenant_erases_it() {
    let Some(store) = postgres_store() else {
        return;
    };
    scimitar_store::testkit::tenant_checks::rule_t8_deleting_a_tenant_erases_it(&store).await;
}
