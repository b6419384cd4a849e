//! The app's store passes the contract suite of what it implements: the core
//! `Store` (rules 1 to 16 and 18), on a real SQLite file of its own schema.

use scimitar_example_existing_app::{db::Db, scim_store::AppStore};

/// A store over a fresh database file (kept until the process ends).
fn store() -> AppStore {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("app.db");
    let db = Db::open(path.to_str().expect("UTF-8 path")).expect("database");
    std::mem::forget(dir);
    AppStore::new(db)
}

scimitar_store::core_store_contract_tests!(store());
