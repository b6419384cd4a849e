//! Plans on a PostgreSQL database that has never been analysed
//! (`SCIMITAR_TEST_POSTGRES_URL`): a read by id uses its unique index without
//! statistics, and the store gives a fresh bulk of rows statistics itself.
#![cfg(feature = "postgres")]

use std::time::{Duration, Instant};

use diesel::sql_types::Text;
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use futures_util::future::join_all;
use scimitar_diesel::DieselStore;
use scimitar_store::{Policy, Registry, Scope, Store};
use serde_json::json;

/// A database of its own, dropped at the end: statistics are per database.
struct FreshDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl FreshDatabase {
    fn create(admin_url: &str) -> FreshDatabase {
        let name = format!("scimitar_plans_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(admin_url).expect("connect");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create a database");
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url, |(base, _)| base);
        FreshDatabase {
            admin_url: admin_url.to_owned(),
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&self.admin_url) {
            let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            let _ = diesel::sql_query(drop).execute(&mut admin);
        }
    }
}

#[derive(QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

fn plan(conn: &mut PgConnection, query: &str) -> String {
    let lines: Vec<PlanLine> = diesel::sql_query(format!("EXPLAIN {query}"))
        .load(conn)
        .expect("explain");
    lines
        .into_iter()
        .map(|line| line.line)
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_analysed_tables_get_fitting_plans() {
    let Some(admin_url) = scimitar_store::testkit::postgres_url("plans without statistics") else {
        return;
    };
    let database = FreshDatabase::create(&admin_url);
    let store = DieselStore::open(&database.url).expect("open the fresh database");
    let (registry, policy) = (Registry::builtin(), Policy::compatible());
    let scope = Scope::new("acme", &registry, &policy);
    for batch in 0..10 {
        let creates = (0..100).map(|i| {
            let user = json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": format!("user{batch}-{i}@example.com"),
                "name": {"familyName": format!("Family{i}")}
            });
            store.create(&scope, "User", user)
        });
        for created in join_all(creates).await {
            created.expect("create");
        }
    }
    let mut conn = PgConnection::establish(&database.url).expect("connect");
    let analysed: i64 = {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let sql = "SELECT COUNT(*) AS n FROM pg_stats WHERE tablename = 'resources'";
        diesel::sql_query(sql).load::<Count>(&mut conn).unwrap()[0].n
    };
    assert_eq!(analysed, 0, "the table has no statistics yet");

    // A read by id: the unique index, statistics or not.
    let by_id = plan(
        &mut conn,
        "SELECT r.pk FROM resources r WHERE r.tenant_id = 'acme' AND r.id = 'x'",
    );
    assert!(by_id.contains("resources_id"), "{by_id}");

    // The store analyses the fresh rows (once the server's activity counters,
    // flushed every few seconds, show them), and the userName lookup then uses
    // its unique index.
    let deadline = Instant::now() + Duration::from_secs(30);
    let analysed = loop {
        let analysed = store.refresh_statistics().await.expect("refresh");
        if !analysed.is_empty() || Instant::now() > deadline {
            break analysed;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(analysed.contains(&"resources".to_owned()), "{analysed:?}");
    let by_user_name = plan(
        &mut conn,
        "SELECT r.pk FROM resources r WHERE r.tenant_id = 'acme' AND r.resource_type = 'User' \
         AND r.user_name_folded = 'user5-5@example.com'",
    );
    assert!(
        by_user_name.contains("resources_user_name"),
        "{by_user_name}"
    );
    assert_eq!(
        store.refresh_statistics().await.expect("refresh"),
        Vec::<String>::new(),
        "fresh statistics are left alone"
    );
}
