//! The contract kit, run against the in-memory reference store.

use scimitar_store::MemoryStore;

scimitar_store::store_contract_tests!(MemoryStore::new());
scimitar_store::tenant_store_contract_tests!(MemoryStore::new());
