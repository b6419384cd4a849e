//! Creates 100,000 Entra-shaped users one call at a time through the store, as an
//! identity provider's first sync would, and reports users per second on SQLite
//! (WAL, `synchronous=NORMAL`) and PostgreSQL, with the in-memory store run in
//! the same process as the baseline.
//!
//! ```sh
//! cargo bench -p scimitar-diesel --bench create_100k            # 100,000 users
//! cargo bench -p scimitar-diesel --bench create_100k -- 20000   # another count
//! ```
//!
//! Set `SCIMITAR_BENCH_SKIP_POSTGRES=1` to skip PostgreSQL
//! (`SCIMITAR_BENCH_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432`).

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use scimitar_diesel::DieselStore;
use scimitar_store::{MemoryStore, Policy, Registry, Scope, Store};
use serde_json::{json, Value};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// About 1 KB, the shape Entra ID sends on create.
fn entra_user(n: usize) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "externalId": format!("{n:08}-6c2d-4b1e-9a3f-0a1b2c3d4e5f"),
        "userName": format!("user{n}@contoso.example"),
        "active": true,
        "displayName": format!("User {n} Example"),
        "title": "Engineer",
        "name": {"givenName": format!("User{n}"), "familyName": "Example",
                 "formatted": format!("User{n} Example")},
        "emails": [{"value": format!("user{n}@contoso.example"), "type": "work", "primary": true}],
        "phoneNumbers": [{"value": "+1 555 0100", "type": "work"},
                         {"value": "+1 555 0199", "type": "mobile"}],
        "addresses": [{"type": "work", "streetAddress": "1 Main St", "locality": "Springfield",
                       "region": "IL", "postalCode": "62701", "country": "US", "primary": true}],
        ENTERPRISE: {"employeeNumber": format!("{n}"), "costCenter": "2024-03-01T00:00:00Z",
                     "organization": "Contoso", "division": "Products",
                     "department": format!("Dept {}", n % 40)},
    })
}

/// Creates `users` users one call at a time; `grown(n)` runs after the `n`-th,
/// outside the timing.
async fn create_all(store: &impl Store, users: usize, mut grown: impl FnMut(usize)) -> Duration {
    let registry = Registry::builtin();
    let policy = Policy::default();
    let tenant = format!("create100k-{}", uuid::Uuid::new_v4());
    let scope = Scope::new(&tenant, &registry, &policy);
    let mut took = Duration::ZERO;
    for n in 0..users {
        let started = Instant::now();
        store
            .create(&scope, "User", entra_user(n))
            .await
            .expect("create");
        took += started.elapsed();
        grown(n + 1);
    }
    took
}

fn report(name: &str, users: usize, took: Duration, baseline: Option<f64>) -> f64 {
    let rate = users as f64 / took.as_secs_f64();
    let ratio = baseline.map_or(String::new(), |b| {
        format!(" ({:.2}x the in-memory store)", rate / b)
    });
    println!("{name:<10} {users} users in {took:>8.2?}: {rate:>8.0} users/s{ratio}");
    rate
}

fn main() {
    // `cargo bench` passes `--bench`; a bare number is the user count.
    let users = std::env::args()
        .skip(1)
        .find_map(|arg| arg.replace('_', "").parse().ok())
        .unwrap_or(100_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");

    let memory = report(
        "memory",
        users,
        rt.block_on(create_all(&MemoryStore::new(), users, |_| {})),
        None,
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("create.db").display());
    let sqlite = DieselStore::open(&url).expect("open sqlite");
    report(
        "sqlite",
        users,
        rt.block_on(create_all(&sqlite, users, |_| {})),
        Some(memory),
    );

    if std::env::var_os("SCIMITAR_BENCH_SKIP_POSTGRES").is_none() {
        let base = std::env::var("SCIMITAR_BENCH_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned());
        let name = "scimitar_bench_create";
        let mut admin = PgConnection::establish(&format!("{base}/postgres")).expect("postgres");
        // Two calls: statements sent together run in one transaction, which
        // DROP/CREATE DATABASE refuse.
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
            .expect("drop the previous run's database");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("fresh database");
        let url = format!("{base}/{name}");
        let postgres = DieselStore::open(&url).expect("open postgres");
        // Autovacuum is off on the development server; without statistics the
        // planner keeps a generic plan made for an empty table (a scan) for the
        // userName check. ANALYZE each time the table doubles, as autovacuum
        // would (it analyses after 10% of a table changed), outside the timing.
        let mut analyzer = PgConnection::establish(&url).expect("postgres");
        let analyze = |n: usize| {
            if n >= 64 && n.is_power_of_two() {
                analyzer.batch_execute("ANALYZE").expect("analyze");
            }
        };
        report(
            "postgres",
            users,
            rt.block_on(create_all(&postgres, users, analyze)),
            Some(memory),
        );
    }
}
