//! [`MemoryStore`] as its own [`OutboxStore`] and [`ProvisioningLog`]: a
//! [`MemoryOutbox`](crate::hooks::MemoryOutbox) and a
//! [`MemoryLog`](crate::provisioning_log::MemoryLog) kept beside its state, plus
//! pruning of the events that only the store holds.

use std::time::Duration;

use super::MemoryStore;
use crate::hooks::OutboxStore;
use crate::provisioning_log::{LogEntry, LogQuery, ProvisioningLog};
use crate::StoreError;

impl OutboxStore for MemoryStore {
    async fn checkpoint(&self, tenant: &str, consumer: &str) -> Result<u64, StoreError> {
        self.outbox.checkpoint(tenant, consumer).await
    }

    async fn try_lease(
        &self,
        tenant: &str,
        consumer: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<Option<u64>, StoreError> {
        self.outbox.try_lease(tenant, consumer, owner, ttl).await
    }

    async fn set_checkpoint(
        &self,
        tenant: &str,
        consumer: &str,
        owner: &str,
        seq: u64,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.outbox
            .set_checkpoint(tenant, consumer, owner, seq, ttl)
            .await
    }

    async fn release_lease(
        &self,
        tenant: &str,
        consumer: &str,
        owner: &str,
    ) -> Result<(), StoreError> {
        self.outbox.release_lease(tenant, consumer, owner).await
    }

    async fn prune_events(&self, tenant: &str, up_to: u64) -> Result<u64, StoreError> {
        // Checkpoints only grow, so a bound read before the events are locked
        // stays safe; a consumer appearing in between is one that appeared after.
        let bound = self
            .outbox
            .lowest_checkpoint(tenant)
            .map_or(up_to, |lowest| lowest.min(up_to));
        let mut state = self.lock();
        let Some(data) = state.tenants.get_mut(tenant) else {
            return Ok(0);
        };
        let handled = data.events.partition_point(|event| event.seq <= bound);
        data.events.drain(..handled);
        Ok(u64::try_from(handled).unwrap_or(u64::MAX))
    }

    async fn forget_consumer(&self, tenant: &str, consumer: &str) -> Result<bool, StoreError> {
        self.outbox.forget_consumer(tenant, consumer).await
    }
}

impl ProvisioningLog for MemoryStore {
    async fn record(&self, entries: &[LogEntry]) -> Result<(), StoreError> {
        self.log.record(entries).await
    }

    async fn recent(&self, tenant: &str, query: &LogQuery) -> Result<Vec<LogEntry>, StoreError> {
        self.log.recent(tenant, query).await
    }
}

impl crate::state::StateStore for MemoryStore {
    async fn put_state(
        &self,
        tenant: &str,
        key: &str,
        value: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.documents.put_state(tenant, key, value).await
    }

    async fn state(
        &self,
        tenant: &str,
        key: &str,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        self.documents.state(tenant, key).await
    }

    async fn states(
        &self,
        tenant: &str,
        prefix: &str,
    ) -> Result<Vec<(String, serde_json::Value)>, StoreError> {
        self.documents.states(tenant, prefix).await
    }

    async fn delete_state(&self, tenant: &str, key: &str) -> Result<bool, StoreError> {
        self.documents.delete_state(tenant, key).await
    }
}
