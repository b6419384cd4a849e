//! The contract kit, run against the in-memory reference store.

use scimitar_store::hooks::{check_event_pruning, check_outbox_store};
use scimitar_store::provisioning_log::{check_provisioning_log, DEFAULT_RETENTION};
use scimitar_store::MemoryStore;

scimitar_store::store_contract_tests!(MemoryStore::new());
scimitar_store::tenant_store_contract_tests!(MemoryStore::new());

#[tokio::test]
async fn outbox_rules() {
    check_outbox_store(&MemoryStore::new(), "acme").await;
}

#[tokio::test]
async fn event_pruning() {
    check_event_pruning(&MemoryStore::new(), "acme").await;
}

#[tokio::test]
async fn provisioning_log_rules() {
    check_provisioning_log(&MemoryStore::new(), "acme", DEFAULT_RETENTION).await;
}

#[tokio::test]
async fn rule_t8_deleting_a_tenant_erases_it() {
    scimitar_store::testkit::tenant_checks::rule_t8_deleting_a_tenant_erases_it(&MemoryStore::new()).await;
}
