//! Small JSON documents an application keeps per tenant beside the directory, by
//! key: what it learns while running (a webhook's delivery health, the events it
//! gave up on) and wants shared by every process on the database and erased with
//! the tenant.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! use scimitar_store::state::{MemoryState, StateStore};
//! use serde_json::json;
//!
//! let state = MemoryState::default();
//! state.put_state("acme", "webhook:app:health", &json!({"lastStatus": 200})).await?;
//! let health = state.state("acme", "webhook:app:health").await?;
//! assert_eq!(health, Some(json!({"lastStatus": 200})));
//! assert_eq!(state.states("acme", "webhook:").await?.len(), 1);
//! # Ok::<(), scimitar_store::StoreError>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Mutex, PoisonError};

use serde_json::Value;

use crate::StoreError;

/// The longest key, in bytes.
pub const MAX_KEY_BYTES: usize = 200;

/// Documents by (tenant, key).
///
/// RULES (checked by [`check_state_store`], feature `testkit`):
///
/// - **S1.** `put_state` stores the document under the key, replacing the one
///   there; `state` reads it back, `None` when there is none. A key longer than
///   [`MAX_KEY_BYTES`] or holding NUL fails with [`StoreError::InvalidValue`].
/// - **S2.** `states` returns the tenant's documents whose key starts with the
///   prefix, ordered by key.
/// - **S3.** `delete_state` removes one; whether it was there.
/// - **S4.** Tenants never see each other's documents; deleting a tenant
///   ([`TenantStore::delete_tenant`](crate::TenantStore::delete_tenant)) erases
///   its documents.
pub trait StateStore: Send + Sync {
    /// Stores `value` under `key` (rule S1).
    fn put_state(
        &self,
        tenant: &str,
        key: &str,
        value: &Value,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The document under `key`, if any.
    fn state(
        &self,
        tenant: &str,
        key: &str,
    ) -> impl Future<Output = Result<Option<Value>, StoreError>> + Send;

    /// The documents whose key starts with `prefix`, ordered by key (rule S2).
    fn states(
        &self,
        tenant: &str,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<(String, Value)>, StoreError>> + Send;

    /// Removes the document under `key`; whether there was one.
    fn delete_state(
        &self,
        tenant: &str,
        key: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Checks a key against rule S1.
///
/// # Errors
/// [`StoreError::InvalidValue`] for a key too long or holding NUL.
pub fn check_key(key: &str) -> Result<(), StoreError> {
    if key.len() > MAX_KEY_BYTES || key.contains('\0') {
        return Err(StoreError::InvalidValue(format!(
            "a state key is at most {MAX_KEY_BYTES} bytes, without NUL"
        )));
    }
    Ok(())
}

/// A [`StateStore`] in memory.
#[derive(Debug, Default)]
pub struct MemoryState {
    tenants: Mutex<HashMap<String, BTreeMap<String, Value>>>,
}

impl MemoryState {
    /// Drops every document of `tenant` (it was deleted).
    pub fn forget_tenant(&self, tenant: &str) {
        self.lock().remove(tenant);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, BTreeMap<String, Value>>> {
        // Entries are replaced whole: a poisoned lock still holds whole documents.
        self.tenants.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl StateStore for MemoryState {
    async fn put_state(&self, tenant: &str, key: &str, value: &Value) -> Result<(), StoreError> {
        check_key(key)?;
        self.lock()
            .entry(tenant.to_owned())
            .or_default()
            .insert(key.to_owned(), value.clone());
        Ok(())
    }

    async fn state(&self, tenant: &str, key: &str) -> Result<Option<Value>, StoreError> {
        Ok(self
            .lock()
            .get(tenant)
            .and_then(|documents| documents.get(key))
            .cloned())
    }

    async fn states(&self, tenant: &str, prefix: &str) -> Result<Vec<(String, Value)>, StoreError> {
        Ok(self
            .lock()
            .get(tenant)
            .map(|documents| {
                documents
                    .range(prefix.to_owned()..)
                    .take_while(|(key, _)| key.starts_with(prefix))
                    .map(|(key, value)| (key.clone(), value.clone()))
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn delete_state(&self, tenant: &str, key: &str) -> Result<bool, StoreError> {
        Ok(self
            .lock()
            .get_mut(tenant)
            .is_some_and(|documents| documents.remove(key).is_some()))
    }
}

/// The [`StateStore`] rules S1 to S3 and the isolation of S4, as one check;
/// panics at the first rule broken. `tenant` should be new to `store`.
#[cfg(feature = "testkit")]
pub async fn check_state_store<S: StateStore>(store: &S, tenant: &str) {
    use serde_json::json;

    let other = format!("{tenant}-other");
    let put = |tenant: &str, key: &str, value: Value| {
        let (tenant, key) = (tenant.to_owned(), key.to_owned());
        async move {
            store
                .put_state(&tenant, &key, &value)
                .await
                .unwrap_or_else(|e| panic!("rule S1: put_state failed: {e:?}"));
        }
    };
    put(tenant, "hook:b", json!({"n": 1})).await;
    put(tenant, "hook:a", json!([1, "two"])).await;
    put(tenant, "hook:b", json!({"n": 2})).await;
    put(tenant, "other", json!(null)).await;
    put(&other, "hook:c", json!("theirs")).await;
    let read = store.state(tenant, "hook:b").await.ok().flatten();
    assert_eq!(read, Some(json!({"n": 2})), "rule S1: replaced");
    assert_eq!(
        store.state(tenant, "none").await.ok(),
        Some(None),
        "rule S1"
    );
    for key in ["k".repeat(MAX_KEY_BYTES + 1), "a\0b".to_owned()] {
        let refused = store.put_state(tenant, &key, &json!(1)).await;
        assert!(
            matches!(refused, Err(StoreError::InvalidValue(_))),
            "rule S1: key {key:?} gave {refused:?}"
        );
    }
    let listed = store.states(tenant, "hook:").await.unwrap_or_default();
    let keys: Vec<&str> = listed.iter().map(|(key, _)| key.as_str()).collect();
    assert_eq!(keys, ["hook:a", "hook:b"], "rule S2: by prefix, ordered");
    assert_eq!(listed[0].1, json!([1, "two"]), "rule S2: values");
    // LIKE wildcards in a prefix are plain characters.
    put(tenant, "hook_x", json!(1)).await;
    let literal = store.states(tenant, "hook_").await.unwrap_or_default();
    assert_eq!(literal.len(), 1, "rule S2: `_` matched {literal:?}");
    assert_eq!(store.delete_state(tenant, "hook:a").await.ok(), Some(true));
    assert_eq!(store.delete_state(tenant, "hook:a").await.ok(), Some(false));
    assert_eq!(
        store.states(tenant, "").await.map(|all| all.len()).ok(),
        Some(3),
        "rule S4: only the tenant's own"
    );
    let theirs = store.state(&other, "hook:c").await.ok().flatten();
    assert_eq!(
        theirs,
        Some(json!("theirs")),
        "rule S4: the other tenant's kept"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_memory_state_keeps_the_rules() {
        check_state_store(&MemoryState::default(), "acme").await;
    }
}
