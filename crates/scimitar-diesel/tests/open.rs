//! Opening databases: URLs, migrations, readiness.

use scimitar_diesel::{Backend, DieselStore};

fn postgres_url() -> String {
    std::env::var("SCIMITAR_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

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
    let url = postgres_url();
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
