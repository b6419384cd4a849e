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

/// Whether `resources` had a manual ANALYZE (the store's; autovacuum's is
/// counted apart).
fn store_analysed_resources(conn: &mut PgConnection) -> bool {
    #[derive(QueryableByName)]
    struct Analysed {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        analysed: bool,
    }
    let sql = "SELECT COALESCE(bool_or(analyze_count > 0), false) AS analysed \
               FROM pg_stat_user_tables WHERE relname = 'resources'";
    diesel::sql_query(sql)
        .load::<Analysed>(conn)
        .expect("read the analysis counters")
        .first()
        .is_some_and(|row| row.analysed)
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
    let mut conn = PgConnection::establish(&database.url).expect("connect");
    // Autovacuum could analyse first, and the store would rightly leave the
    // table alone: this test is about a server where it has not come yet.
    diesel::sql_query("ALTER TABLE resources SET (autovacuum_enabled = off)")
        .execute(&mut conn)
        .expect("autovacuum off for the table");
    // Nor may the store's own background check analyse before the plans
    // without statistics are read: this connection holds the lock it takes,
    // as another instance at it would.
    let mut other_instance = PgConnection::establish(&database.url).expect("connect");
    diesel::sql_query("SELECT pg_advisory_lock(1935894895, 1)")
        .execute(&mut other_instance)
        .expect("take the statistics lock");
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
    let analysed: i64 = {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let sql = "SELECT COUNT(*) AS n FROM pg_stats WHERE tablename = 'resources'";
        let counts = diesel::sql_query(sql).load::<Count>(&mut conn);
        counts.expect("count statistics")[0].n
    };
    assert_eq!(analysed, 0, "the table has no statistics yet");

    // A read by id: the unique index, statistics or not.
    let by_id = plan(
        &mut conn,
        "SELECT r.pk FROM resources r WHERE r.tenant_id = 'acme' AND r.id = 'x'",
    );
    assert!(by_id.contains("resources_id"), "{by_id}");
    drop(other_instance);

    // The store analyses the fresh rows (once the server's activity counters,
    // flushed every few seconds, show them): asked to here, or by its own
    // background check, whichever comes first. The userName lookup then uses
    // its unique index.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut analysed_on_request = Vec::new();
    while !store_analysed_resources(&mut conn) && Instant::now() < deadline {
        analysed_on_request.extend(store.refresh_statistics().await.expect("refresh"));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        store_analysed_resources(&mut conn),
        "no ANALYZE of resources in 30 s; on request: {analysed_on_request:?}"
    );
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

    // Once vacuumed, a name filter's keys come from its index alone: the
    // index carries `pk` (no heap fetch per match).
    diesel::sql_query("VACUUM resources")
        .execute(&mut conn)
        .expect("vacuum");
    let by_family_name = plan(
        &mut conn,
        "SELECT r.pk FROM resources r WHERE r.tenant_id = 'acme' AND r.resource_type = 'User' \
         AND r.family_name_folded COLLATE \"C\" >= 'family5' \
         AND r.family_name_folded COLLATE \"C\" < 'family6'",
    );
    assert!(
        by_family_name.contains("Index Only Scan using resources_family_name"),
        "{by_family_name}"
    );
}
