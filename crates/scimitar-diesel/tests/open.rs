//! Opening databases: URLs, migrations, readiness.

use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};
use scimitar_diesel::{Backend, DieselStore};
use scimitar_filter::parse_filter;
use scimitar_store::{Paging, Policy, Query, Registry, Scope, Store};
use serde_json::json;

#[tokio::test]
async fn opens_sqlite_file_and_reopens_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    let store = DieselStore::open(&url).unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    store.ping().await.unwrap();
    drop(store);
    // Migrations already applied: opening again is a no-op.
    DieselStore::open(&url).unwrap().ping().await.unwrap();
}

#[tokio::test]
async fn opens_sqlite_in_memory() {
    let store = DieselStore::open("sqlite::memory:").unwrap();
    store.ping().await.unwrap();
}

#[tokio::test]
async fn opens_postgres_concurrently() {
    let Some(url) = scimitar_store::testkit::postgres_url("opening PostgreSQL") else {
        return;
    };
    let opens: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || DieselStore::open(&url).map(|s| s.backend()))
        })
        .collect();
    for open in opens {
        assert_eq!(open.join().unwrap().unwrap(), Backend::Postgres);
    }
}

#[test]
fn rejects_unknown_urls() {
    let error = DieselStore::open("mysql://localhost/x").unwrap_err();
    assert_eq!(error.status(), 500);
}

/// A database made before users' names had columns gets them filled in: the
/// migration's backfill (with `scim_fold`) runs on the store's own connection.
#[tokio::test]
async fn name_columns_are_filled_in_for_existing_users() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let url = format!("sqlite://{}", path.display());
    let registry = Registry::builtin();
    let policy = Policy::default();
    let scope = Scope::new("t", &registry, &policy);
    let store = DieselStore::open(&url).unwrap();
    for (user_name, family) in [("a", "Ørsted"), ("b", "Orwell"), ("c", "Smith")] {
        let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                          "userName": user_name, "name": {"familyName": family}});
        store.create(&scope, "User", user).await.unwrap();
    }
    drop(store);
    // Back to the schema before the migration, the data left as it was.
    let mut conn = SqliteConnection::establish(&path.display().to_string()).unwrap();
    conn.batch_execute(include_str!(
        "../migrations/sqlite/2026-02-21-000000_name_columns/down.sql"
    ))
    .unwrap();
    conn.batch_execute("DELETE FROM __diesel_schema_migrations WHERE version = '20260221000000'")
        .unwrap();
    drop(conn);

    let store = DieselStore::open(&url).unwrap();
    let query = |filter: &str| {
        Query::with_paging(Paging::Index {
            start_index: 1,
            count: 10,
        })
        .filter(parse_filter(filter).unwrap())
    };
    let page = store
        .query(&scope, "User", &query(r#"name.familyName sw "ø""#))
        .await
        .unwrap();
    assert_eq!(page.total_results, 1);
    assert_eq!(page.resources[0]["userName"], "a");
    let page = store
        .query(&scope, "User", &query(r#"name.familyName sw "OR""#))
        .await
        .unwrap();
    assert_eq!(page.total_results, 1);
    assert_eq!(page.resources[0]["userName"], "b");
}

/// A dropped store has closed the file: its last connection closing removed the
/// write-ahead log, so another program gets every lock at once. (Its threads
/// used to close their connections a moment later, and a migration run right
/// after the drop failed with "database is locked".)
#[tokio::test]
async fn a_dropped_store_has_closed_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let registry = Registry::builtin();
    let policy = Policy::default();
    let scope = Scope::new("t", &registry, &policy);
    let store = DieselStore::open(&format!("sqlite://{}", path.display())).unwrap();
    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a"});
    store.create(&scope, "User", user).await.unwrap();
    drop(store);
    assert!(!dir.path().join("s.db-wal").exists());
    let mut conn = SqliteConnection::establish(&path.display().to_string()).unwrap();
    conn.batch_execute("PRAGMA busy_timeout = 0; BEGIN EXCLUSIVE; COMMIT;")
        .unwrap();
}
