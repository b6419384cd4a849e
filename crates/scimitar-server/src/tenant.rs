//! What a tenant's requests run under: its registry (schema overrides), policy and
//! settings, read from [`Tenant::settings`] and cached.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use scimitar_protocol::TenantContext;
use scimitar_schema::{Policy, Registry};
use scimitar_store::{Tenant, TenantSettings};
use serde_json::Value;

#[cfg(test)]
use crate::settings::RateLimit;
use crate::settings::TenantConfig;

/// Tenant registries by tenant id, each with the overrides it was built from:
/// building one copies schemas, so it is done once per change of the overrides.
#[derive(Debug, Default)]
pub(crate) struct TenantContexts {
    registries: Mutex<HashMap<String, (Vec<Value>, Registry)>>,
}

impl TenantContexts {
    /// The context of `tenant` over the service's `registry` and `policy`.
    ///
    /// Settings that do not read, or overrides that do not build, are logged and
    /// ignored (the service's defaults apply) rather than locking the tenant out.
    pub(crate) fn context(
        &self,
        tenant: &Tenant,
        registry: &Registry,
        policy: &Policy,
    ) -> Arc<TenantContext> {
        let config = TenantConfig::from_value(&tenant.settings).unwrap_or_else(|error| {
            log::warn!("tenant {}: {error}; using default settings", tenant.id);
            TenantConfig::default()
        });
        let settings = config.directory;
        let policy = settings.policy.clone().unwrap_or_else(|| policy.clone());
        let registry = self.registry(&tenant.id, &settings, registry);
        let mut context = TenantContext::new(registry, policy, settings);
        if let Some(limit) = config.rate_limit {
            context.extensions.insert(limit);
        }
        Arc::new(context)
    }

    fn registry(&self, tenant: &str, settings: &TenantSettings, base: &Registry) -> Registry {
        if settings.schema_overrides.is_empty() {
            return base.clone();
        }
        // Entries are replaced whole: a poisoned lock still holds whole entries.
        let mut registries = self
            .registries
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((overrides, registry)) = registries.get(tenant) {
            if *overrides == settings.schema_overrides {
                return registry.clone();
            }
        }
        let registry = settings.registry(base).unwrap_or_else(|error| {
            log::warn!("tenant {tenant}: schema overrides ignored: {error}");
            base.clone()
        });
        registries.insert(
            tenant.to_owned(),
            (settings.schema_overrides.clone(), registry.clone()),
        );
        registry
    }
}

/// Tenant `acme` with `settings`, for the tests of the modules that read settings.
#[cfg(test)]
pub(crate) fn test_tenant(settings: Value) -> Tenant {
    Tenant {
        id: "acme".into(),
        name: "Acme".into(),
        enabled: true,
        settings,
        created: time::OffsetDateTime::UNIX_EPOCH,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::tenant::test_tenant as tenant;

    #[test]
    fn overrides_change_the_registry_and_bad_settings_fall_back() {
        let contexts = TenantContexts::default();
        let (base, policy) = (Registry::builtin(), Policy::compatible());
        let acme = "urn:example:params:scim:schemas:extension:acme:2.0:User";
        let overridden = tenant(json!({"schemaOverrides": [
            {"id": acme, "name": "Acme", "attributes": [
                {"name": "badge", "type": "integer", "multiValued": false}]}
        ]}));
        let context = contexts.context(&overridden, &base, &policy);
        assert!(context.registry.schema(acme).is_some());
        assert!(base.schema(acme).is_none());
        let again = contexts.context(&overridden, &base, &policy);
        assert!(again.registry.schema(acme).is_some(), "cached");

        let plain = contexts.context(&tenant(json!({})), &base, &policy);
        assert!(plain.registry.schema(acme).is_none(), "overrides removed");
        let broken = contexts.context(&tenant(json!({"deletion": "shred"})), &base, &policy);
        assert_eq!(broken.settings, TenantSettings::default());
        assert!(broken.extensions.is_empty());
        assert_eq!(broken.policy, policy);
    }

    #[test]
    fn the_rate_limit_travels_with_the_context() {
        let contexts = TenantContexts::default();
        let limited = tenant(json!({"rateLimit": {"perSecond": 3, "burst": 6}}));
        let context = contexts.context(&limited, &Registry::builtin(), &Policy::compatible());
        let limit = context.extensions.get::<RateLimit>().copied();
        assert_eq!(
            limit.map(|limit| (limit.per_second, limit.burst)),
            Some((3, 6))
        );
    }
}
