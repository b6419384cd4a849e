//! The storage contract kit against SQLite, one fresh database file per check.

use scimitar_diesel::DieselStore;

/// A store on a new file in a temporary directory that lives as long as the test
/// process (each check gets its own).
fn sqlite_store() -> DieselStore {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("contract.db").display());
    // Keep the directory: the store's connections outlive this function.
    std::mem::forget(dir);
    DieselStore::open(&url).expect("open SQLite")
}

scimitar_store::store_contract_tests!(sqlite_store());
scimitar_store::tenant_store_contract_tests!(sqlite_store());

#[tokio::test]
async fn rule_t8_deleting_a_tenant_erases_it() {
    scimitar_store::testkit::tenant_checks::rule_t8_deleting_a_tenant_erases_it(&sqlite_store())
        .await;
}
