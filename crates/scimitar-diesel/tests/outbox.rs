//! Outbox consumers (checkpoints, leases, pruning, the dispatcher), the provisioning log
//! and tenant state documents,
//! on SQLite and PostgreSQL (`SCIMITAR_TEST_POSTGRES_URL`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use scimitar_diesel::{DieselStore, OpenOptions};
use scimitar_store::hooks::{
    check_event_pruning, check_outbox_store, Backoff, DispatchOptions, Dispatcher, EventHandler,
    HandlerError, OutboxStore,
};
use scimitar_store::provisioning_log::{check_provisioning_log, DEFAULT_RETENTION};
use scimitar_store::{ChangeEvent, EventStore, Policy, Registry, Scope, Store};
use serde_json::json;

fn postgres() -> Option<DieselStore> {
    let url = scimitar_store::testkit::postgres_url("a PostgreSQL test")?;
    let options = OpenOptions {
        max_connections: 4,
        ..OpenOptions::default()
    };
    Some(DieselStore::open_with(&url, &options).expect("open PostgreSQL"))
}

fn sqlite(dir: &tempfile::TempDir) -> DieselStore {
    let url = format!("sqlite://{}", dir.path().join("outbox.db").display());
    DieselStore::open(&url).expect("open SQLite")
}

fn tenant() -> String {
    format!("t-{}", uuid::Uuid::new_v4().simple())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_rules_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    check_outbox_store(&sqlite(&dir), &tenant()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_rules_on_postgres() {
    let Some(store) = postgres() else { return };
    check_outbox_store(&store, &tenant()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_pruning_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    check_event_pruning(&sqlite(&dir), &tenant()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_pruning_on_postgres() {
    let Some(store) = postgres() else { return };
    check_event_pruning(&store, &tenant()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provisioning_log_rules_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    check_provisioning_log(&sqlite(&dir), &tenant(), DEFAULT_RETENTION).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provisioning_log_rules_on_postgres() {
    let Some(store) = postgres() else { return };
    check_provisioning_log(&store, &tenant(), DEFAULT_RETENTION).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_rules_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    scimitar_store::state::check_state_store(&sqlite(&dir), &tenant()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_rules_on_postgres() {
    let Some(store) = postgres() else { return };
    scimitar_store::state::check_state_store(&store, &tenant()).await;
}

#[derive(Default)]
struct Collect(Mutex<Vec<u64>>);

impl EventHandler for Collect {
    async fn handle(&self, event: &ChangeEvent) -> Result<(), HandlerError> {
        self.0.lock().expect("lock").push(event.seq);
        Ok(())
    }
}

/// Two dispatchers over one database: one delivers, and after it stops the other
/// resumes from the checkpoint, so every event is handled exactly once.
async fn dispatchers_share_one_stream(store: DieselStore) {
    let store = Arc::new(store);
    let tenant = tenant();
    let (registry, policy) = (Registry::builtin(), Policy::default());
    let scope = Scope::new(&tenant, &registry, &policy);
    let create = |n: usize| {
        let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                          "userName": format!("u{n}")});
        store.create(&scope, "User", user)
    };
    for n in 0..3 {
        create(n).await.expect("create");
    }
    let options = DispatchOptions {
        poll_interval: Duration::from_millis(10),
        backoff: Backoff {
            initial: Duration::from_millis(5),
            max: Duration::from_millis(20),
        },
        ..DispatchOptions::default()
    };
    let first = Dispatcher::new(Arc::clone(&store), &tenant, "sync", Collect::default())
        .options(options.clone());
    let second =
        Dispatcher::new(Arc::clone(&store), &tenant, "sync", Collect::default()).options(options);
    let delivered = |dispatcher: &Dispatcher<DieselStore, Collect>| {
        dispatcher.handler().0.lock().expect("lock").clone()
    };
    let (stop_first, first_stopped) = tokio::sync::oneshot::channel::<()>();
    let (stop_second, second_stopped) = tokio::sync::oneshot::channel::<()>();
    let run_first = first.run_until(async {
        let _ = first_stopped.await;
    });
    let run_second = second.run_until(async {
        let _ = second_stopped.await;
    });
    let script = async {
        let events = settled_events(&store, &scope, 3).await;
        caught_up(&store, &tenant, events.last().map_or(0, |e| e.seq)).await;
        let _ = stop_first.send(());
        for n in 3..6 {
            create(n).await.expect("create");
        }
        let events = settled_events(&store, &scope, 6).await;
        caught_up(&store, &tenant, events.last().map_or(0, |e| e.seq)).await;
        let _ = stop_second.send(());
        events.into_iter().map(|e| e.seq).collect::<Vec<_>>()
    };
    let ((), (), all) = tokio::join!(run_first, run_second, script);
    let mut handled = delivered(&first);
    handled.extend(delivered(&second));
    handled.sort_unstable();
    assert_eq!(handled, all, "each event once");
}

/// The tenant's first `count` events: on PostgreSQL, events wait for older
/// transactions (other tests') to end before they are delivered.
async fn settled_events(store: &DieselStore, scope: &Scope<'_>, count: usize) -> Vec<ChangeEvent> {
    for _ in 0..400 {
        let events = store.events(scope, 0, 100).await.expect("events");
        if events.len() >= count {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {count} events after 20 s");
}

async fn caught_up(store: &DieselStore, tenant: &str, seq: u64) {
    for _ in 0..1000 {
        if store.checkpoint(tenant, "sync").await.expect("checkpoint") >= seq {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the checkpoint never reached {seq}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatchers_share_one_stream_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    dispatchers_share_one_stream(sqlite(&dir)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatchers_share_one_stream_on_postgres() {
    let Some(store) = postgres() else { return };
    dispatchers_share_one_stream(store).await;
}
