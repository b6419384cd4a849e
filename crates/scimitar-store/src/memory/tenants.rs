//! The memory store's tenant directory.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;
use time::OffsetDateTime;

use super::MemoryStore;
use crate::meta;
use crate::tenant::{AdminToken, ApiToken, NewAdminToken, NewApiToken, Tenant, TenantStore};
use crate::StoreError;

/// Tenants by id (ordered, for `list_tenants`) and tokens in creation order.
#[derive(Debug, Default)]
pub(super) struct Directory {
    /// Rule T9: bumped by every change a cached credential depends on.
    version: u64,
    tenants: BTreeMap<String, Tenant>,
    tokens: Vec<ApiToken>,
    token_index: HashMap<String, usize>,
    /// Admin tokens in creation order (few: a linear search is fine).
    admin_tokens: Vec<AdminToken>,
}

impl Directory {
    fn tenant_mut(&mut self, id: &str) -> Result<&mut Tenant, StoreError> {
        self.tenants
            .get_mut(id)
            .ok_or_else(|| StoreError::not_found("Tenant", id))
    }

    fn token_mut(&mut self, id: &str) -> Result<&mut ApiToken, StoreError> {
        self.token_index
            .get(id)
            .and_then(|&index| self.tokens.get_mut(index))
            .ok_or_else(|| StoreError::not_found("Token", id))
    }
}

impl Directory {
    fn admin_token_mut(&mut self, id: &str) -> Result<&mut AdminToken, StoreError> {
        self.admin_tokens
            .iter_mut()
            .find(|token| token.id == id)
            .ok_or_else(|| StoreError::not_found("AdminToken", id))
    }
}

fn id_taken() -> StoreError {
    StoreError::Uniqueness {
        attribute: "id".into(),
    }
}

impl TenantStore for MemoryStore {
    async fn create_tenant(
        &self,
        id: &str,
        name: &str,
        settings: Value,
    ) -> Result<Tenant, StoreError> {
        crate::tenant::check_tenant_id(id)?;
        let mut state = self.lock();
        if state.directory.tenants.contains_key(id) {
            return Err(id_taken());
        }
        let tenant = Tenant {
            id: id.to_owned(),
            name: name.to_owned(),
            enabled: true,
            settings,
            created: meta::now(),
        };
        state
            .directory
            .tenants
            .insert(id.to_owned(), tenant.clone());
        state.directory.version += 1;
        Ok(tenant)
    }

    async fn get_tenant(&self, id: &str) -> Result<Tenant, StoreError> {
        Ok(self.lock().directory.tenant_mut(id)?.clone())
    }

    async fn list_tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        Ok(self.lock().directory.tenants.values().cloned().collect())
    }

    async fn set_tenant_enabled(&self, id: &str, enabled: bool) -> Result<Tenant, StoreError> {
        let mut state = self.lock();
        let tenant = state.directory.tenant_mut(id)?;
        tenant.enabled = enabled;
        let tenant = tenant.clone();
        state.directory.version += 1;
        Ok(tenant)
    }

    async fn set_tenant_settings(&self, id: &str, settings: Value) -> Result<Tenant, StoreError> {
        let mut state = self.lock();
        let tenant = state.directory.tenant_mut(id)?;
        tenant.settings = settings;
        let tenant = tenant.clone();
        state.directory.version += 1;
        Ok(tenant)
    }

    async fn insert_token(&self, token: NewApiToken) -> Result<ApiToken, StoreError> {
        let mut state = self.lock();
        let directory = &mut state.directory;
        directory.tenant_mut(&token.tenant)?;
        if directory.token_index.contains_key(&token.id) {
            return Err(id_taken());
        }
        let token = ApiToken {
            id: token.id,
            tenant: token.tenant,
            label: token.label,
            hash: token.hash,
            created: meta::now(),
            last_used: None,
            revoked_at: None,
            user: token.user,
            expires_at: token.expires_at,
        };
        directory
            .token_index
            .insert(token.id.clone(), directory.tokens.len());
        directory.tokens.push(token.clone());
        Ok(token)
    }

    async fn list_tokens(&self, tenant: &str) -> Result<Vec<ApiToken>, StoreError> {
        let state = self.lock();
        Ok(state
            .directory
            .tokens
            .iter()
            .filter(|token| token.tenant == tenant)
            .cloned()
            .collect())
    }

    async fn find_token(&self, token_id: &str) -> Result<Option<ApiToken>, StoreError> {
        Ok(self.lock().directory.token_mut(token_id).ok().cloned())
    }

    async fn revoke_token(&self, token_id: &str) -> Result<ApiToken, StoreError> {
        let mut state = self.lock();
        let token = state.directory.token_mut(token_id)?;
        token.revoked_at.get_or_insert_with(meta::now);
        let token = token.clone();
        state.directory.version += 1;
        Ok(token)
    }

    async fn touch_token(&self, token_id: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        self.lock().directory.token_mut(token_id)?.last_used = Some(at);
        Ok(())
    }

    async fn rename_tenant(&self, id: &str, name: &str) -> Result<Tenant, StoreError> {
        let mut state = self.lock();
        let tenant = state.directory.tenant_mut(id)?;
        name.clone_into(&mut tenant.name);
        let tenant = tenant.clone();
        state.directory.version += 1;
        Ok(tenant)
    }

    async fn insert_admin_token(&self, token: NewAdminToken) -> Result<AdminToken, StoreError> {
        let mut state = self.lock();
        let directory = &mut state.directory;
        if directory.admin_tokens.iter().any(|t| t.id == token.id) {
            return Err(id_taken());
        }
        let token = AdminToken {
            id: token.id,
            label: token.label,
            scope: token.scope,
            hash: token.hash,
            created: meta::now(),
            last_used: None,
            revoked_at: None,
        };
        directory.admin_tokens.push(token.clone());
        Ok(token)
    }

    async fn list_admin_tokens(&self) -> Result<Vec<AdminToken>, StoreError> {
        Ok(self.lock().directory.admin_tokens.clone())
    }

    async fn find_admin_token(&self, token_id: &str) -> Result<Option<AdminToken>, StoreError> {
        Ok(self
            .lock()
            .directory
            .admin_token_mut(token_id)
            .ok()
            .cloned())
    }

    async fn revoke_admin_token(&self, token_id: &str) -> Result<AdminToken, StoreError> {
        let mut state = self.lock();
        let token = state.directory.admin_token_mut(token_id)?;
        token.revoked_at.get_or_insert_with(meta::now);
        let token = token.clone();
        state.directory.version += 1;
        Ok(token)
    }

    async fn touch_admin_token(
        &self,
        token_id: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.lock().directory.admin_token_mut(token_id)?.last_used = Some(at);
        Ok(())
    }

    async fn delete_tenant(&self, id: &str) -> Result<(), StoreError> {
        {
            let mut state = self.lock();
            let directory = &mut state.directory;
            if directory.tenants.remove(id).is_none() {
                return Err(StoreError::not_found("Tenant", id));
            }
            directory.tokens.retain(|token| token.tenant != id);
            directory.token_index = directory
                .tokens
                .iter()
                .enumerate()
                .map(|(index, token)| (token.id.clone(), index))
                .collect();
            state.tenants.remove(id);
            state.directory.version += 1;
        }
        // Their own locks, never held with the state's.
        self.outbox.forget_tenant(id);
        self.log.forget_tenant(id);
        self.documents.forget_tenant(id);
        Ok(())
    }

    async fn directory_version(&self) -> Result<u64, StoreError> {
        Ok(self.lock().directory.version)
    }
}
