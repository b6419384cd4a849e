//! The core contract against a store that implements only the five required
//! methods (over `MemoryStore`'s), so that the provided PATCH (a get, the patch
//! applied in memory, a replace conditional on the version read) is what runs,
//! and whose queries are answered by `evaluate_in_memory` over every resource.

use scimitar_store::{
    evaluate_in_memory, MemoryStore, Page, Paging, Projection, Query, Scope, Store, StoreError,
};
use serde_json::Value;

/// A store with the core methods only.
struct CoreOnly(MemoryStore);

impl Store for CoreOnly {
    async fn create(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        resource: Value,
    ) -> Result<Value, StoreError> {
        self.0.create(scope, resource_type, resource).await
    }

    async fn get(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        id: &str,
        projection: &Projection,
    ) -> Result<Value, StoreError> {
        self.0.get(scope, resource_type, id, projection).await
    }

    async fn replace(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        id: &str,
        resource: Value,
        expected_version: Option<&str>,
    ) -> Result<Value, StoreError> {
        self.0
            .replace(scope, resource_type, id, resource, expected_version)
            .await
    }

    async fn delete(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        id: &str,
        expected_version: Option<&str>,
    ) -> Result<(), StoreError> {
        self.0
            .delete(scope, resource_type, id, expected_version)
            .await
    }

    async fn query(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        query: &Query,
    ) -> Result<Page, StoreError> {
        // Every resource of the type, in creation order, as a database without
        // filter pushdown would hand them over.
        let everything = Query::with_paging(Paging::Index {
            start_index: 1,
            count: usize::MAX,
        });
        let all = self.0.query(scope, resource_type, &everything).await?;
        evaluate_in_memory(scope, resource_type, query, all.resources)
    }
}

scimitar_store::core_store_contract_tests!(CoreOnly(MemoryStore::new()));
