//! SCIM glue, part 2: the app's API keys decide who calls `/scim/v2`.

use std::sync::Arc;

use scimitar::protocol::{
    Authenticator, Credentials, Principal, Refusal, ScimError, TenantContext,
};
use scimitar::schema::{Policy, Registry};
use scimitar::store::{StoreError, TenantSettings};

use crate::db::Db;

/// Authenticates `Authorization: Bearer <API key>` with the app's `api_keys`;
/// the organization of the key is the SCIM tenant, its label the client.
pub struct ApiKeyAuth {
    db: Db,
    context: Arc<TenantContext>,
}

impl ApiKeyAuth {
    /// Over the app's database, serving `registry` (see [`hire_date_registry`]).
    pub fn new(db: Db, registry: Registry) -> Self {
        let context = TenantContext::new(registry, Policy::compatible(), TenantSettings::default());
        ApiKeyAuth {
            db,
            context: Arc::new(context),
        }
    }
}

impl Authenticator for ApiKeyAuth {
    async fn authenticate(&self, request: &Credentials<'_>) -> Result<Principal, ScimError> {
        let key = request.bearer_token()?;
        let found = tokio::task::block_in_place(|| self.db.find_api_key(key))
            .map_err(|error| StoreError::Unavailable(error.to_string().into()))?;
        let (org, label) = found.ok_or(ScimError::Unauthorized(Refusal::Unknown))?;
        Ok(Principal::new(org, label).with_context(Arc::clone(&self.context)))
    }
}

/// The built-in schemas with Enterprise `costCenter` retyped as a `dateTime`:
/// Entra ID maps the hire date to it, and the app keeps it in `users.hire_date`.
///
/// # Panics
/// Never: the override is a valid schema document.
pub fn hire_date_registry() -> Registry {
    let settings = TenantSettings {
        schema_overrides: vec![serde_json::json!({
            "id": scimitar::schema::urn::ENTERPRISE_USER,
            "attributes": [{"name": "costCenter", "type": "dateTime",
                            "description": "The first day at work (the hire date)."}]
        })],
        ..TenantSettings::default()
    };
    settings
        .registry(&Registry::builtin())
        .expect("the hire-date override is a valid schema")
}
