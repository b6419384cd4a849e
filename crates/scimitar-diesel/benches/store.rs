//! Store benchmarks: indexed lookups at 1,000 vs 1,000,000 users, paging deep into
//! 1,000,000 users, member changes in a 100,000-member group, and creates.
//!
//! The large databases are seeded with bulk SQL in one transaction (not through
//! the store), once: the SQLite files are cached under `target/bench-cache/`, the
//! PostgreSQL data lives in database `scimitar_bench` (`SCIMITAR_BENCH_POSTGRES_URL`).
//! Set `SCIMITAR_BENCH_SKIP_POSTGRES=1` to run SQLite only, and
//! `SCIMITAR_BENCH_SQLITE_SYNCHRONOUS=full` to measure SQLite with an fsync per
//! commit (`Synchronous::Full`).
//!
//! ```sh
//! cargo bench -p scimitar-diesel --bench store -- --warm-up-time 1 --measurement-time 3
//! ```

// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, SqliteConnection};
use scimitar_diesel::{Backend, DieselStore, OpenOptions, Synchronous};
use scimitar_filter::parse_filter;
use scimitar_store::{
    DirectoryStore, MemberStore, Paging, Policy, Query, Registry, Scope, Store, TeamMode,
    TenantSettings,
};
use serde_json::json;
use tokio::runtime::Runtime;

const TENANT: &str = "bench";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const GROUP_MEMBERS: u64 = 100_000;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

fn options() -> OpenOptions {
    let full = std::env::var("SCIMITAR_BENCH_SQLITE_SYNCHRONOUS")
        .is_ok_and(|value| value.eq_ignore_ascii_case("full"));
    OpenOptions {
        synchronous: if full {
            Synchronous::Full
        } else {
            Synchronous::Normal
        },
        ..OpenOptions::default()
    }
}

fn cache_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("bench-cache");
    std::fs::create_dir_all(&dir).expect("bench cache directory");
    dir
}

/// The id of the `i`-th seeded user.
fn user_id(i: u64) -> String {
    format!("00000000-0000-7000-8000-{i:012}")
}

/// A store on a seeded database of `users` users (and one group holding the first
/// 100,000 of them when there are that many), seeding it on first use.
fn seeded(backend: Backend, users: u64) -> (DieselStore, String) {
    let url = match backend {
        Backend::Sqlite => format!(
            "sqlite://{}",
            cache_dir().join(format!("users-{users}.db")).display()
        ),
        Backend::Postgres => postgres_url(users),
    };
    let store = DieselStore::open_with(&url, &options()).expect("open bench database");
    let rt = runtime();
    let registry = Registry::builtin();
    let policy = Policy::default();
    let scope = Scope::new(TENANT, &registry, &policy);
    let present = rt
        .block_on(store.query(
            &scope,
            "User",
            &Query::with_paging(Paging::Index {
                start_index: 1,
                count: 0,
            }),
        ))
        .expect("count")
        .total_results;
    if present as u64 == users {
        return (store, url);
    }
    eprintln!("seeding {users} users on {backend} (once)...");
    let started = std::time::Instant::now();
    match backend {
        Backend::Sqlite => {
            let path = url.trim_start_matches("sqlite://");
            let mut conn = SqliteConnection::establish(path).expect("sqlite");
            conn.batch_execute(&sqlite_seed(users))
                .expect("seed sqlite");
        }
        Backend::Postgres => {
            let mut conn = PgConnection::establish(&url).expect("postgres");
            conn.batch_execute(&postgres_seed(users))
                .expect("seed postgres");
        }
    }
    if users >= GROUP_MEMBERS {
        let group = rt
            .block_on(store.create(
                &scope,
                "Group",
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Everyone"}),
            ))
            .expect("group");
        let group_id = group["id"].as_str().expect("group id");
        let sql = format!(
            "INSERT INTO group_members (group_pk, member_pk, member_id, member_type) \
             SELECT g.pk, u.pk, u.id, u.resource_type FROM resources g, resources u \
             WHERE g.tenant_id = '{TENANT}' AND g.id = '{group_id}' \
             AND u.tenant_id = '{TENANT}' AND u.resource_type = 'User' AND u.pk <= \
             (SELECT MIN(pk) FROM resources WHERE tenant_id = '{TENANT}') + {} ",
            GROUP_MEMBERS - 1
        );
        match backend {
            Backend::Sqlite => SqliteConnection::establish(url.trim_start_matches("sqlite://"))
                .expect("sqlite")
                .batch_execute(&sql),
            Backend::Postgres => PgConnection::establish(&url)
                .expect("postgres")
                .batch_execute(&format!("{sql}; ANALYZE")),
        }
        .expect("seed members");
    }
    eprintln!("seeded in {:.1?}", started.elapsed());
    (store, url)
}

/// The smallest `pk` of the seeded users: where creation order starts.
fn first_pk(backend: Backend, url: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Pk {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        pk: i64,
    }
    let sql = format!("SELECT MIN(pk) AS pk FROM resources WHERE tenant_id = '{TENANT}'");
    let rows: Vec<Pk> = match backend {
        Backend::Sqlite => {
            let mut conn =
                SqliteConnection::establish(url.trim_start_matches("sqlite://")).expect("sqlite");
            diesel::RunQueryDsl::load(diesel::sql_query(sql), &mut conn)
        }
        Backend::Postgres => {
            let mut conn = PgConnection::establish(url).expect("postgres");
            diesel::RunQueryDsl::load(diesel::sql_query(sql), &mut conn)
        }
    }
    .expect("first pk");
    rows.first().map_or(1, |row| row.pk)
}

/// The per-bucket counts of the seeded rows (`resource_buckets`), as the store
/// keeps them; the same SQL on both backends.
fn bucket_seed() -> String {
    format!(
        "DELETE FROM resource_buckets WHERE tenant_id = '{TENANT}';
         INSERT INTO resource_buckets (tenant_id, resource_type, shift, bucket, n)
             SELECT tenant_id, resource_type, 15, pk / 32768, COUNT(*) FROM resources
             WHERE tenant_id = '{TENANT}' GROUP BY tenant_id, resource_type, pk / 32768;
         INSERT INTO resource_buckets (tenant_id, resource_type, shift, bucket, n)
             SELECT tenant_id, resource_type, 10, pk / 1024, COUNT(*) FROM resources
             WHERE tenant_id = '{TENANT}' GROUP BY tenant_id, resource_type, pk / 1024;"
    )
}

fn sqlite_seed(users: u64) -> String {
    let buckets = bucket_seed();
    format!(
        "BEGIN;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {users})
         INSERT INTO resources (tenant_id, resource_type, id, user_name, user_name_folded,
             external_id, display_name, display_name_folded, active, created, last_modified,
             version, data)
         SELECT '{TENANT}', 'User', printf('00000000-0000-7000-8000-%012d', i),
             printf('User%07d@Example.com', i), printf('user%07d@example.com', i),
             printf('ext-%07d', i), printf('User %07d', i), printf('user %07d', i), 1,
             1700000000000000000 + i, 1700000000000000000 + i, 1,
             jsonb_object('schemas', json_array('urn:ietf:params:scim:schemas:core:2.0:User'),
                 'userName', printf('User%07d@Example.com', i), 'externalId', printf('ext-%07d', i),
                 'displayName', printf('User %07d', i), 'active', json('true'))
         FROM n;
         INSERT INTO resource_counts (tenant_id, resource_type, n) VALUES ('{TENANT}', 'User', {users})
             ON CONFLICT (tenant_id, resource_type, shard) DO UPDATE SET n = excluded.n;
         {buckets}
         COMMIT;
         ANALYZE;"
    )
}

fn postgres_seed(users: u64) -> String {
    let buckets = bucket_seed();
    format!(
        "BEGIN;
         INSERT INTO resources (tenant_id, resource_type, id, user_name, user_name_folded,
             external_id, display_name, display_name_folded, active, created, last_modified,
             version, data)
         SELECT '{TENANT}', 'User', '00000000-0000-7000-8000-' || lpad(i::text, 12, '0'),
             'User' || lpad(i::text, 7, '0') || '@Example.com', 'user' || lpad(i::text, 7, '0') || '@example.com',
             'ext-' || lpad(i::text, 7, '0'), 'User ' || lpad(i::text, 7, '0'), 'user ' || lpad(i::text, 7, '0'), TRUE,
             1700000000000000000 + i, 1700000000000000000 + i, 1,
             jsonb_build_object('schemas', jsonb_build_array('urn:ietf:params:scim:schemas:core:2.0:User'),
                 'userName', 'User' || lpad(i::text, 7, '0') || '@Example.com',
                 'externalId', 'ext-' || lpad(i::text, 7, '0'),
                 'displayName', 'User ' || lpad(i::text, 7, '0'), 'active', TRUE)
         FROM generate_series(1, {users}) AS i;
         INSERT INTO resource_counts (tenant_id, resource_type, n) VALUES ('{TENANT}', 'User', {users})
             ON CONFLICT (tenant_id, resource_type, shard) DO UPDATE SET n = excluded.n;
         {buckets}
         COMMIT;
         ANALYZE;"
    )
}

/// One database per size on the bench server, created when missing.
fn postgres_url(users: u64) -> String {
    let base = std::env::var("SCIMITAR_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned());
    let name = format!("scimitar_bench_{users}");
    let mut admin = PgConnection::establish(&format!("{base}/postgres")).expect("postgres admin");
    // Fails harmlessly when the database exists.
    let _ = admin.batch_execute(&format!("CREATE DATABASE {name}"));
    format!("{base}/{name}")
}

fn backends() -> Vec<Backend> {
    if std::env::var_os("SCIMITAR_BENCH_SKIP_POSTGRES").is_some() {
        vec![Backend::Sqlite]
    } else {
        vec![Backend::Sqlite, Backend::Postgres]
    }
}

fn lookups(c: &mut Criterion) {
    let rt = runtime();
    let registry = Registry::builtin();
    let policy = Policy::default();
    let scope = Scope::new(TENANT, &registry, &policy);
    let mut group = c.benchmark_group("lookup");
    for backend in backends() {
        for users in [1_000_u64, 1_000_000] {
            let (store, _) = seeded(backend, users);
            let middle = users / 2;
            for (name, filter) in [
                (
                    "userName eq",
                    format!("userName eq \"user{middle:07}@EXAMPLE.com\""),
                ),
                (
                    "externalId eq",
                    format!("externalId eq \"ext-{middle:07}\""),
                ),
            ] {
                let query = Query::default().filter(parse_filter(&filter).expect("filter"));
                let id = BenchmarkId::new(format!("{backend}/{name}"), users);
                group.bench_with_input(id, &query, |b, query| {
                    b.iter(|| {
                        let page = rt
                            .block_on(store.query(&scope, "User", query))
                            .expect("query");
                        assert_eq!(page.total_results, 1);
                    })
                });
            }
        }
    }
    group.finish();
}

fn paging(c: &mut Criterion) {
    let rt = runtime();
    let registry = Registry::builtin();
    let policy = Policy::default();
    let scope = Scope::new(TENANT, &registry, &policy);
    let mut group = c.benchmark_group("page_of_100_in_1m");
    for backend in backends() {
        let (store, url) = seeded(backend, 1_000_000);
        let index = |start_index| {
            Query::with_paging(Paging::Index {
                start_index,
                count: 100,
            })
        };
        // A cursor pointing at the middle, as the store would have issued it after
        // 500,000 users (its format is internal: hex of {q, k, p}).
        let middle_cursor = hex::encode(
            json!({"q": "User|", "k": null, "p": first_pk(backend, &url) + 499_999}).to_string(),
        );
        let cursor =
            |cursor: Option<String>| Query::with_paging(Paging::Cursor { cursor, count: 100 });
        for (name, query) in [
            ("index first", index(1)),
            ("index middle", index(500_001)),
            ("cursor first", cursor(None)),
            ("cursor middle", cursor(Some(middle_cursor.clone()))),
        ] {
            group.bench_function(format!("{backend}/{name}"), |b| {
                b.iter(|| {
                    let page = rt
                        .block_on(store.query(&scope, "User", &query))
                        .expect("page");
                    assert_eq!(page.resources.len(), 100);
                })
            });
        }
    }
    group.finish();
}

fn members(c: &mut Criterion) {
    let rt = runtime();
    let registry = Registry::builtin();
    let policy = Policy::default();
    let scope = Scope::new(TENANT, &registry, &policy);
    let mut group = c.benchmark_group("member_in_group_of_100k");
    for backend in backends() {
        let (store, _) = seeded(backend, 1_000_000);
        let everyone = rt
            .block_on(
                store.query(
                    &scope,
                    "Group",
                    &Query::default()
                        .filter(parse_filter("displayName eq \"Everyone\"").expect("filter")),
                ),
            )
            .expect("group");
        let group_id = everyone.resources[0]["id"].as_str().expect("id").to_owned();
        let outsider = vec![user_id(900_000)];
        group.bench_function(format!("{backend}/add"), |b| {
            b.iter_batched(
                || {
                    rt.block_on(store.remove_members(&scope, &group_id, &outsider))
                        .expect("remove")
                },
                |_| {
                    rt.block_on(store.add_members(&scope, &group_id, &outsider))
                        .expect("add")
                },
                criterion::BatchSize::PerIteration,
            )
        });
        group.bench_function(format!("{backend}/remove"), |b| {
            b.iter_batched(
                || {
                    rt.block_on(store.add_members(&scope, &group_id, &outsider))
                        .expect("add")
                },
                |_| {
                    rt.block_on(store.remove_members(&scope, &group_id, &outsider))
                        .expect("remove")
                },
                criterion::BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

fn creates(c: &mut Criterion) {
    let rt = runtime();
    let registry = Registry::builtin();
    let policy = Policy::default();
    let tenant = format!("create-{}", uuid::Uuid::new_v4());
    let scope = Scope::new(&tenant, &registry, &policy);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut group = c.benchmark_group("create_user");
    group.throughput(Throughput::Elements(1));
    for backend in backends() {
        let url = match backend {
            Backend::Sqlite => format!("sqlite://{}", dir.path().join("create.db").display()),
            Backend::Postgres => postgres_url(0),
        };
        let store = DieselStore::open_with(&url, &options()).expect("open");
        let counter = AtomicU64::new(0);
        group.bench_function(backend.to_string(), |b| {
            b.iter(|| {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let body = json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": format!("new{n}@example.com"),
                    "externalId": format!("new-{n}"),
                    "displayName": format!("New {n}"),
                    "active": true,
                    "emails": [{"value": format!("new{n}@example.com"), "type": "work", "primary": true}],
                });
                rt.block_on(store.create(&scope, "User", body)).expect("create")
            })
        });
    }
    group.finish();
}

/// Rules 19 and 21 at a 10,000-user tenant whose teams are derived from 20
/// departments and whose users have managers: a page of 100 (managers named in
/// one query), a create that joins a team, and a rebuild that changes nothing.
fn users_and_teams(c: &mut Criterion) {
    const USERS: u64 = 10_000;
    let rt = runtime();
    let registry = Registry::builtin();
    let policy = Policy::default();
    let settings = TenantSettings {
        teams: TeamMode::Department {
            separator: " / ".into(),
        },
        ..TenantSettings::default()
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let mut group = c.benchmark_group("users_and_teams_10k");
    for backend in backends() {
        let url = match backend {
            Backend::Sqlite => format!("sqlite://{}", dir.path().join("teams.db").display()),
            Backend::Postgres => postgres_url(0),
        };
        let store = DieselStore::open_with(&url, &options()).expect("open");
        let tenant = format!("teams-{}", uuid::Uuid::new_v4());
        let scope = Scope::new(&tenant, &registry, &policy).with_settings(&settings);
        let employee = |n: u64, manager: Option<&str>| {
            let mut enterprise =
                json!({"organization": "Contoso", "department": format!("Dept {}", n % 20)});
            if let Some(manager) = manager {
                enterprise["manager"] = json!({"value": manager});
            }
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
                "userName": format!("emp{n}@contoso.com"),
                "displayName": format!("Employee {n}"),
                ENTERPRISE: enterprise,
            })
        };
        eprintln!("seeding {USERS} users through the store on {backend}...");
        let started = std::time::Instant::now();
        let mut manager = String::new();
        for n in 0..USERS {
            // Every tenth user manages the next nine.
            let body = employee(n, (n % 10 != 0).then_some(manager.as_str()));
            let created = rt
                .block_on(store.create(&scope, "User", body))
                .expect("seed");
            if n % 10 == 0 {
                manager = created["id"].as_str().expect("id").to_owned();
            }
        }
        if backend == Backend::Postgres {
            // As autovacuum would on a live database: plans from real statistics.
            PgConnection::establish(&url)
                .expect("postgres")
                .batch_execute("ANALYZE")
                .expect("analyze");
        }
        eprintln!("seeded in {:.1?}", started.elapsed());
        let first_page = Query::with_paging(Paging::Index {
            start_index: 1,
            count: 100,
        });
        group.bench_function(format!("{backend}/page of 100 with managers"), |b| {
            b.iter(|| {
                let page = rt
                    .block_on(store.query(&scope, "User", &first_page))
                    .expect("page");
                assert_eq!(page.resources.len(), 100);
            })
        });
        let counter = AtomicU64::new(USERS);
        group.bench_function(format!("{backend}/create joining a team"), |b| {
            b.iter(|| {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                rt.block_on(store.create(&scope, "User", employee(n, Some(&manager))))
                    .expect("create")
            })
        });
        group.bench_function(format!("{backend}/rebuild_teams unchanged"), |b| {
            b.iter(|| {
                let rebuilt = rt.block_on(store.rebuild_teams(&scope)).expect("rebuild");
                assert_eq!(rebuilt.changed + rebuilt.created + rebuilt.removed, 0);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, lookups, paging, members, creates, users_and_teams);
criterion_main!(benches);
