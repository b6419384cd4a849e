//! The storage contract kit against PostgreSQL (`SCIMITAR_TEST_POSTGRES_URL`,
//! default `postgres://postgres@127.0.0.1:5432/test`). Checks run in parallel in
//! one database; each works in its own random tenant.

use scimitar_diesel::{DieselStore, OpenOptions};

fn postgres_store() -> DieselStore {
    let url = std::env::var("SCIMITAR_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let options = OpenOptions {
        max_connections: 4,
        ..OpenOptions::default()
    };
    DieselStore::open_with(&url, &options).expect("open PostgreSQL")
}

scimitar_store::store_contract_tests!(postgres_store());
scimitar_store::tenant_store_contract_tests!(postgres_store());
