//! Races and crashes: two servers on one PostgreSQL database, and SIGKILL during a
//! write load.

mod common;

use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{expect, Client, Database, USER};
use serde_json::json;

#[test]
fn two_servers_on_one_postgres_accept_one_user_name_once() {
    let Some(database) = Database::postgres() else {
        return;
    };
    let (_, token) = database.tenant();
    let servers = [database.serve(), database.serve()];
    let clients: Vec<Client> = servers.iter().map(|server| server.client(&token)).collect();
    for client in &clients {
        expect(&client.get("/Users?count=0"), 200); // warm the token caches
    }
    let user_name = format!("race-{}", uuid::Uuid::new_v4());
    let per_server = 6;
    let barrier = Arc::new(Barrier::new(per_server * clients.len()));
    let threads: Vec<_> = (0..per_server * clients.len())
        .map(|n| {
            let client = clients[n % clients.len()].clone();
            let barrier = Arc::clone(&barrier);
            let user_name = user_name.clone();
            thread::spawn(move || {
                // Bodies differ, so an idempotent retry cannot explain a second 201.
                let body =
                    json!({"schemas": [USER], "userName": user_name, "externalId": n.to_string()});
                barrier.wait();
                client.post("/Users", &body).status
            })
        })
        .collect();
    let statuses: Vec<u16> = threads
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .collect();
    assert_eq!(
        statuses.iter().filter(|&&s| s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|&s| s == 201 || s == 409),
        "{statuses:?}"
    );
    let filter = format!("/Users?filter=userName+eq+%22{user_name}%22");
    assert_eq!(expect(&clients[1].get(&filter), 200)["totalResults"], 1);
}

/// Writes users from two threads, kills the server with SIGKILL mid-load, restarts
/// it, and checks that every create answered 201 is there, with its event.
fn no_acknowledged_write_is_lost(database: Database) {
    let (tenant, token) = database.tenant();
    let server = database.serve();
    let client = server.client(&token);
    expect(&client.get("/Users?count=0"), 200);
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..2)
        .map(|writer| {
            let client = client.clone();
            let acknowledged = Arc::clone(&acknowledged);
            thread::spawn(move || {
                for n in 0..5000 {
                    let body = json!({"schemas": [USER], "userName": format!("w{writer}-{n}")});
                    let request = ureq::post(&format!("{}/Users", client.base))
                        .timeout(Duration::from_secs(10))
                        .set("Authorization", &format!("Bearer {}", client.token))
                        .set("Content-Type", "application/scim+json");
                    match request.send_string(&body.to_string()) {
                        Ok(response) if response.status() == 201 => {
                            let created: serde_json::Value =
                                response.into_json().expect("a JSON body");
                            let id = created["id"].as_str().expect("id").to_owned();
                            acknowledged.lock().expect("lock").push(id);
                        }
                        _ => break, // the server is gone
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().expect("lock").len() < 100 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    server.kill();
    for writer in writers {
        writer.join().expect("writer");
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert!(
        acknowledged.len() >= 100,
        "only {} writes before the deadline",
        acknowledged.len()
    );

    let restarted = database.serve();
    let client = restarted.client(&token);
    for id in &acknowledged {
        expect(&client.get(&format!("/Users/{id}")), 200);
    }
    let created = created_events(&database.url, &tenant);
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !created.contains(id.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged users without their event: {missing:?}"
    );
}

/// The ids of the `user.created` events of `tenant`, read through the store.
fn created_events(url: &str, tenant: &str) -> std::collections::HashSet<String> {
    use scimitar_diesel::DieselStore;
    use scimitar_schema::{Policy, Registry};
    use scimitar_store::{ChangeKind, EventStore, Scope};

    let store = DieselStore::open(url).expect("open the database");
    let (registry, policy) = (Registry::builtin(), Policy::compatible());
    let scope = Scope::new(tenant, &registry, &policy);
    actix_web::rt::System::new().block_on(async {
        let mut ids = std::collections::HashSet::new();
        let mut after = 0;
        loop {
            let events = store.events(&scope, after, 1000).await.expect("events");
            let Some(last) = events.last() else {
                return ids;
            };
            after = last.seq;
            ids.extend(
                events
                    .iter()
                    .filter(|event| event.kind == ChangeKind::UserCreated)
                    .map(|event| event.resource_id.clone()),
            );
        }
    })
}

#[test]
fn sigkill_loses_no_acknowledged_write_on_sqlite() {
    no_acknowledged_write_is_lost(Database::sqlite());
}

#[test]
fn sigkill_loses_no_acknowledged_write_on_postgres() {
    let Some(database) = Database::postgres() else {
        return;
    };
    no_acknowledged_write_is_lost(database);
}

#[test]
fn servers_starting_together_on_an_empty_database_all_serve_and_one_prints_a_token() {
    // Fresh databases, several servers each: every start is a chance for the
    // first-start race (SQLite migrations serialise the opens, so it is not won or
    // lost the same way every time).
    for _ in 0..6 {
        let database = Database::sqlite_path();
        let servers: Vec<_> = thread::scope(|scope| {
            let starts: Vec<_> = (0..4).map(|_| scope.spawn(|| database.serve())).collect();
            starts
                .into_iter()
                .map(|start| start.join().expect("a server failed to start"))
                .collect()
        });
        let tokens: Vec<&String> = servers
            .iter()
            .filter_map(|server| server.first_token.as_ref())
            .collect();
        assert_eq!(
            tokens.len(),
            1,
            "first-start tokens printed: {}",
            tokens.len()
        );
        for server in &servers {
            expect(&server.client(tokens[0]).get("/Users?count=0"), 200);
        }
    }
}
