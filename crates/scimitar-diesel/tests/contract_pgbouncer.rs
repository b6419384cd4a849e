//! The storage contract kit through PgBouncer in transaction mode
//! (`SCIMITAR_TEST_PGBOUNCER_URL`; skipped when it is unset, required with
//! `SCIMITAR_REQUIRE_PGBOUNCER`, as `.ci/run` sets it). Transaction pooling hands each transaction to any
//! server connection, so this fails if the store relies on session state outside
//! a transaction. PgBouncer before 1.21 cannot follow named prepared statements:
//! the store runs without them (`OpenOptions::prepared_statements`).
#![cfg(feature = "postgres")]

use scimitar_diesel::{DieselStore, OpenOptions};

fn pgbouncer_store() -> Option<DieselStore> {
    use std::io::Write;
    let Ok(url) = std::env::var("SCIMITAR_TEST_PGBOUNCER_URL") else {
        assert!(
            std::env::var_os("SCIMITAR_REQUIRE_PGBOUNCER").is_none(),
            "SCIMITAR_REQUIRE_PGBOUNCER is set but SCIMITAR_TEST_PGBOUNCER_URL is not"
        );
        let _ = std::io::stderr().write_all(b"skipped: SCIMITAR_TEST_PGBOUNCER_URL is unset\n");
        return None;
    };
    let options = OpenOptions {
        max_connections: 4,
        prepared_statements: false,
        ..OpenOptions::default()
    };
    Some(DieselStore::open_with(&url, &options).expect("open PostgreSQL through PgBouncer"))
}

scimitar_store::store_contract_tests!(match pgbouncer_store() {
    Some(store) => store,
    None => return,
});
scimitar_store::tenant_store_contract_tests!(match pgbouncer_store() {
    Some(store) => store,
    None => return,
});
