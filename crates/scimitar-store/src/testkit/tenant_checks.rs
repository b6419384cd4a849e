//! The tenant directory checks, one per rule of [`TenantStore`].
//!
//! Tenant and token ids are random, so the checks can share a database; rule T3
//! therefore only looks at the tenants it created.

use serde_json::json;
use time::OffsetDateTime;

use crate::tenant::{NewAdminToken, NewApiToken, TenantStore};
use crate::StoreError;

fn fresh(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4())
}

fn token_for(tenant: &str, label: &str) -> NewApiToken {
    NewApiToken {
        id: fresh("tok"),
        tenant: tenant.to_owned(),
        label: label.to_owned(),
        hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".to_owned(),
        user: None,
        expires_at: None,
    }
}

async fn tenant<S: TenantStore>(store: &S) -> String {
    let id = fresh("kit");
    store
        .create_tenant(&id, "Kit tenant", json!({}))
        .await
        .unwrap_or_else(|e| panic!("setup: create_tenant failed: {e:?}"));
    id
}

fn is_id_taken<T>(result: &Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Uniqueness { attribute }) if attribute == "id")
}

/// Rule T1: a tenant id is taken once; new tenants are enabled.
pub async fn rule_t1_tenants_are_created_once<S: TenantStore>(store: &S) {
    let id = fresh("kit");
    let settings = json!({"policy": {"coerce_string_booleans": false}});
    let created = store
        .create_tenant(&id, "Acme", settings.clone())
        .await
        .unwrap_or_else(|e| panic!("rule T1: create_tenant failed: {e:?}"));
    assert!(
        created.id == id
            && created.name == "Acme"
            && created.enabled
            && created.settings == settings,
        "rule T1: created {created:?}"
    );
    let again = store.create_tenant(&id, "Other", json!({})).await;
    assert!(
        is_id_taken(&again),
        "rule T1: a second create_tenant gave {again:?}"
    );
    let read = store
        .get_tenant(&id)
        .await
        .unwrap_or_else(|e| panic!("rule T1: get_tenant failed: {e:?}"));
    assert_eq!(
        read, created,
        "rule T1: get_tenant differs from what was created"
    );
    for bad in ["", "Acme", "acme corp", "acme/eu", "ä", &"a".repeat(64)] {
        let refused = store.create_tenant(bad, "Bad", json!({})).await;
        assert!(
            matches!(refused, Err(StoreError::InvalidValue(_))),
            "rule T1: tenant id {bad:?} gave {refused:?}"
        );
    }
}

/// Rule T2: calls on an unknown tenant are `NotFound`.
pub async fn rule_t2_unknown_tenants_are_not_found<S: TenantStore>(store: &S) {
    let id = fresh("missing");
    let not_found = |r: &Result<_, StoreError>| matches!(r, Err(StoreError::NotFound { .. }));
    assert!(
        not_found(&store.get_tenant(&id).await),
        "rule T2: get_tenant"
    );
    assert!(
        not_found(&store.set_tenant_enabled(&id, false).await),
        "rule T2: set_tenant_enabled"
    );
    assert!(
        not_found(&store.set_tenant_settings(&id, json!({})).await),
        "rule T2: set_tenant_settings"
    );
}

/// Rule T3: tenants are listed by id; enable/disable and settings stick.
pub async fn rule_t3_tenants_are_listed_by_id<S: TenantStore>(store: &S) {
    let suffix = uuid::Uuid::new_v4();
    let ids = [
        format!("kit-b-{suffix}"),
        format!("kit-a-{suffix}"),
        format!("kit-c-{suffix}"),
    ];
    for id in &ids {
        store
            .create_tenant(id, id, json!({}))
            .await
            .unwrap_or_else(|e| panic!("rule T3: create_tenant failed: {e:?}"));
    }
    let listed: Vec<String> = store
        .list_tenants()
        .await
        .unwrap_or_else(|e| panic!("rule T3: list_tenants failed: {e:?}"))
        .into_iter()
        .map(|tenant| tenant.id)
        .filter(|id| ids.contains(id))
        .collect();
    let mut sorted = ids.to_vec();
    sorted.sort();
    assert_eq!(listed, sorted, "rule T3: list_tenants order");

    let disabled = store
        .set_tenant_enabled(&ids[0], false)
        .await
        .unwrap_or_else(|e| panic!("rule T3: set_tenant_enabled failed: {e:?}"));
    assert!(
        !disabled.enabled,
        "rule T3: disabling returned {disabled:?}"
    );
    let settings = json!({"max_results": 50});
    store
        .set_tenant_settings(&ids[0], settings.clone())
        .await
        .unwrap_or_else(|e| panic!("rule T3: set_tenant_settings failed: {e:?}"));
    let read = store
        .get_tenant(&ids[0])
        .await
        .unwrap_or_else(|e| panic!("rule T3: get_tenant failed: {e:?}"));
    assert!(
        !read.enabled && read.settings == settings,
        "rule T3: changes did not stick: {read:?}"
    );
    let enabled = store
        .set_tenant_enabled(&ids[0], true)
        .await
        .unwrap_or_else(|e| panic!("rule T3: set_tenant_enabled failed: {e:?}"));
    assert!(enabled.enabled, "rule T3: re-enabling returned {enabled:?}");
}

/// Rule T4: a token needs an existing tenant and an unused id.
pub async fn rule_t4_tokens_need_a_tenant_and_a_fresh_id<S: TenantStore>(store: &S) {
    let orphan = store
        .insert_token(token_for(&fresh("missing"), "orphan"))
        .await;
    assert!(
        matches!(orphan, Err(StoreError::NotFound { .. })),
        "rule T4: a token for an unknown tenant gave {orphan:?}"
    );
    let tenant = tenant(store).await;
    let new = token_for(&tenant, "entra");
    let inserted = store
        .insert_token(new.clone())
        .await
        .unwrap_or_else(|e| panic!("rule T4: insert_token failed: {e:?}"));
    assert!(
        inserted.id == new.id
            && inserted.tenant == tenant
            && inserted.label == "entra"
            && inserted.hash == new.hash
            && inserted.last_used.is_none()
            && inserted.revoked_at.is_none()
            && inserted.user.is_none(),
        "rule T4: inserted {inserted:?}"
    );
    let again = store.insert_token(new).await;
    assert!(
        is_id_taken(&again),
        "rule T4: a reused token id gave {again:?}"
    );

    // A token bound to a user keeps the binding, through every read.
    let user = uuid::Uuid::new_v4().to_string();
    // Whole seconds: every store keeps at least that precision.
    let expires =
        OffsetDateTime::from_unix_timestamp(2_000_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let bound = NewApiToken {
        user: Some(user.clone()),
        expires_at: Some(expires),
        ..token_for(&tenant, "me")
    };
    let inserted = store
        .insert_token(bound.clone())
        .await
        .unwrap_or_else(|e| panic!("rule T4: insert_token (bound) failed: {e:?}"));
    assert_eq!(
        inserted.user.as_deref(),
        Some(user.as_str()),
        "rule T4: insert_token dropped the user binding: {inserted:?}"
    );
    assert_eq!(
        inserted.expires_at,
        Some(expires),
        "rule T4: insert_token dropped the expiry: {inserted:?}"
    );
    let found = store.find_token(&bound.id).await;
    assert!(
        matches!(&found, Ok(Some(t)) if *t == inserted),
        "rule T4: find_token of a bound token gave {found:?}"
    );
    let listed = store
        .list_tokens(&tenant)
        .await
        .unwrap_or_else(|e| panic!("rule T4: list_tokens failed: {e:?}"));
    let bindings: Vec<(&str, Option<&str>)> = listed
        .iter()
        .map(|t| (t.label.as_str(), t.user.as_deref()))
        .collect();
    assert_eq!(
        bindings,
        [("entra", None), ("me", Some(user.as_str()))],
        "rule T4: list_tokens bindings"
    );
}

/// Rule T5: `find_token` returns tokens whatever their state; unknown is `None`.
pub async fn rule_t5_find_token_returns_any_state<S: TenantStore>(store: &S) {
    let tenant = tenant(store).await;
    let token = store
        .insert_token(token_for(&tenant, "okta"))
        .await
        .unwrap_or_else(|e| panic!("rule T5: insert_token failed: {e:?}"));
    let found = store.find_token(&token.id).await;
    assert!(
        matches!(&found, Ok(Some(t)) if *t == token),
        "rule T5: find_token gave {found:?}"
    );
    store
        .revoke_token(&token.id)
        .await
        .unwrap_or_else(|e| panic!("rule T5: revoke_token failed: {e:?}"));
    store
        .set_tenant_enabled(&tenant, false)
        .await
        .unwrap_or_else(|e| panic!("rule T5: set_tenant_enabled failed: {e:?}"));
    let found = store.find_token(&token.id).await;
    assert!(
        matches!(&found, Ok(Some(t)) if t.revoked_at.is_some() && !t.is_active()),
        "rule T5: a revoked token of a disabled tenant gave {found:?}"
    );
    let missing = store.find_token(&fresh("tok")).await;
    assert!(
        matches!(missing, Ok(None)),
        "rule T5: an unknown token gave {missing:?}"
    );
}

/// Rule T6: revocation is recorded once; tokens are listed in creation order.
pub async fn rule_t6_revocation_is_recorded_once<S: TenantStore>(store: &S) {
    let tenant = tenant(store).await;
    let other = tenant_with_token(store).await;
    let mut ids = Vec::new();
    for label in ["first", "second", "third"] {
        let token = store
            .insert_token(token_for(&tenant, label))
            .await
            .unwrap_or_else(|e| panic!("rule T6: insert_token failed: {e:?}"));
        ids.push(token.id);
    }
    let revoked = store
        .revoke_token(&ids[1])
        .await
        .unwrap_or_else(|e| panic!("rule T6: revoke_token failed: {e:?}"));
    let first_time = revoked.revoked_at;
    assert!(
        first_time.is_some(),
        "rule T6: revoke_token returned {revoked:?}"
    );
    let again = store
        .revoke_token(&ids[1])
        .await
        .unwrap_or_else(|e| panic!("rule T6: revoking again failed: {e:?}"));
    assert_eq!(
        again.revoked_at, first_time,
        "rule T6: revoking again moved revoked_at"
    );
    let listed = store
        .list_tokens(&tenant)
        .await
        .unwrap_or_else(|e| panic!("rule T6: list_tokens failed: {e:?}"));
    let listed_ids: Vec<&str> = listed.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(
        listed_ids, ids,
        "rule T6: list_tokens (creation order, revoked included)"
    );
    assert!(
        listed.iter().all(|t| t.id != other),
        "rule T6: list_tokens shows another tenant's token"
    );
    let unknown = store.revoke_token(&fresh("tok")).await;
    assert!(
        matches!(unknown, Err(StoreError::NotFound { .. })),
        "rule T6: revoking an unknown token gave {unknown:?}"
    );
}

async fn tenant_with_token<S: TenantStore>(store: &S) -> String {
    let tenant = tenant(store).await;
    store
        .insert_token(token_for(&tenant, "other"))
        .await
        .unwrap_or_else(|e| panic!("setup: insert_token failed: {e:?}"))
        .id
}

/// Rule T7: `touch_token` records the last use.
pub async fn rule_t7_token_use_is_recorded<S: TenantStore>(store: &S) {
    let tenant = tenant(store).await;
    let token = store
        .insert_token(token_for(&tenant, "used"))
        .await
        .unwrap_or_else(|e| panic!("rule T7: insert_token failed: {e:?}"));
    let at =
        OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    store
        .touch_token(&token.id, at)
        .await
        .unwrap_or_else(|e| panic!("rule T7: touch_token failed: {e:?}"));
    let found = store.find_token(&token.id).await;
    assert!(
        matches!(&found, Ok(Some(t)) if t.last_used == Some(at)),
        "rule T7: last_used after touch_token: {found:?}"
    );
    let unknown = store.touch_token(&fresh("tok"), at).await;
    assert!(
        matches!(unknown, Err(StoreError::NotFound { .. })),
        "rule T7: touching an unknown token gave {unknown:?}"
    );
}

/// Rule T10: `rename_tenant` changes the name and nothing else.
pub async fn rule_t10_tenants_are_renamed<S: TenantStore>(store: &S) {
    let id = tenant(store).await;
    let renamed = store.rename_tenant(&id, "Acme Europe").await;
    assert!(
        matches!(&renamed, Ok(t) if t.name == "Acme Europe" && t.enabled && t.id == id),
        "rule T10: rename_tenant gave {renamed:?}"
    );
    let read = store.get_tenant(&id).await;
    assert!(
        matches!(&read, Ok(t) if t.name == "Acme Europe"),
        "rule T10: read back {read:?}"
    );
    let unknown = store.rename_tenant(&fresh("kit"), "X").await;
    assert!(
        matches!(unknown, Err(StoreError::NotFound { .. })),
        "rule T10: renaming an unknown tenant gave {unknown:?}"
    );
}

fn admin_token_for(label: &str) -> NewAdminToken {
    NewAdminToken {
        id: fresh("adm"),
        label: label.to_owned(),
        scope: "read-only".to_owned(),
        hash: "sha256:00".to_owned(),
    }
}

/// Rule T11: admin tokens are kept apart from tenants, listed in creation order,
/// revoked once and touched.
pub async fn rule_t11_admin_tokens_are_kept<S: TenantStore>(store: &S) {
    let first = store
        .insert_admin_token(admin_token_for("first"))
        .await
        .unwrap_or_else(|e| panic!("rule T11: insert_admin_token failed: {e:?}"));
    assert!(
        first.label == "first" && first.scope == "read-only" && first.is_active(),
        "rule T11: inserted {first:?}"
    );
    let mut same_id = admin_token_for("again");
    same_id.id = first.id.clone();
    let again = store.insert_admin_token(same_id).await;
    assert!(is_id_taken(&again), "rule T11: a taken id gave {again:?}");
    let second = store
        .insert_admin_token(admin_token_for("second"))
        .await
        .unwrap_or_else(|e| panic!("rule T11: insert_admin_token failed: {e:?}"));
    let revoked = store
        .revoke_admin_token(&first.id)
        .await
        .unwrap_or_else(|e| panic!("rule T11: revoke_admin_token failed: {e:?}"));
    let when = revoked.revoked_at;
    assert!(when.is_some(), "rule T11: revoked {revoked:?}");
    let twice = store.revoke_admin_token(&first.id).await;
    assert!(
        matches!(&twice, Ok(t) if t.revoked_at == when),
        "rule T11: revoking again moved the time: {twice:?}"
    );
    let listed = store.list_admin_tokens().await.unwrap_or_default();
    let ours: Vec<&str> = listed
        .iter()
        .filter(|t| t.id == first.id || t.id == second.id)
        .map(|t| t.label.as_str())
        .collect();
    assert_eq!(ours, ["first", "second"], "rule T11: listed {listed:?}");
    let at =
        OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    store
        .touch_admin_token(&second.id, at)
        .await
        .unwrap_or_else(|e| panic!("rule T11: touch_admin_token failed: {e:?}"));
    let found = store.find_admin_token(&second.id).await;
    assert!(
        matches!(&found, Ok(Some(t)) if t.last_used == Some(at) && t.is_active()),
        "rule T11: found {found:?}"
    );
    let found = store.find_admin_token(&first.id).await;
    assert!(
        matches!(&found, Ok(Some(t)) if !t.is_active()),
        "rule T11: a revoked token is still found: {found:?}"
    );
    let unknown = fresh("adm");
    assert!(matches!(store.find_admin_token(&unknown).await, Ok(None)));
    for result in [
        store.revoke_admin_token(&unknown).await.map(drop),
        store.touch_admin_token(&unknown, at).await,
    ] {
        assert!(
            matches!(result, Err(StoreError::NotFound { .. })),
            "rule T11: an unknown admin token gave {result:?}"
        );
    }
    // The tenant-token lookup never finds an admin token.
    assert!(matches!(store.find_token(&second.id).await, Ok(None)));
}

/// The directory version, which must differ from `before` after `what`.
async fn moved<S: TenantStore>(store: &S, before: u64, what: &str) -> u64 {
    let now = store
        .directory_version()
        .await
        .unwrap_or_else(|e| panic!("rule T9: directory_version failed: {e:?}"));
    assert_ne!(now, before, "rule T9: {what} left the directory version");
    now
}

/// Rule T9: every change a cached credential depends on moves the directory
/// version.
pub async fn rule_t9_directory_changes_move_its_version<S: TenantStore>(store: &S) {
    fn done<T>(result: Result<T, StoreError>, what: &str) -> T {
        result.unwrap_or_else(|e| panic!("rule T9: {what} failed: {e:?}"))
    }
    let start = done(store.directory_version().await, "directory_version");
    let id = fresh("kit");
    let token = token_for(&id, "t9");
    let token_id = token.id.clone();
    done(
        store.create_tenant(&id, "T9", json!({})).await,
        "create_tenant",
    );
    let version = moved(store, start, "create_tenant").await;
    done(store.insert_token(token).await, "insert_token");
    let version = done(store.directory_version().await, "directory_version").max(version);
    done(
        store.set_tenant_enabled(&id, false).await,
        "set_tenant_enabled",
    );
    let version = moved(store, version, "set_tenant_enabled").await;
    let archive = json!({"deletion": "archive"});
    done(
        store.set_tenant_settings(&id, archive).await,
        "set_tenant_settings",
    );
    let version = moved(store, version, "set_tenant_settings").await;
    done(store.revoke_token(&token_id).await, "revoke_token");
    let version = moved(store, version, "revoke_token").await;
    done(store.rename_tenant(&id, "T9b").await, "rename_tenant");
    let version = moved(store, version, "rename_tenant").await;
    let admin = done(
        store.insert_admin_token(admin_token_for("t9")).await,
        "insert_admin_token",
    );
    let version = done(store.directory_version().await, "directory_version").max(version);
    done(
        store.revoke_admin_token(&admin.id).await,
        "revoke_admin_token",
    );
    let version = moved(store, version, "revoke_admin_token").await;
    done(store.delete_tenant(&id).await, "delete_tenant");
    moved(store, version, "delete_tenant").await;
}

/// Rule T8: deleting a tenant erases everything of it, and nothing of another.
///
/// It needs the whole store (resources, outbox, provisioning log), so it is not
/// part of `tenant_store_contract_tests!`: call it from a test of its own.
pub async fn rule_t8_deleting_a_tenant_erases_it<S>(store: &S)
where
    S: TenantStore
        + crate::EventStore
        + crate::hooks::OutboxStore
        + crate::provisioning_log::ProvisioningLog
        + crate::state::StateStore,
{
    use std::time::Duration;

    use crate::provisioning_log::{LogEntry, LogQuery};
    use crate::query::Query;
    use crate::schema::{Policy, Registry};
    use crate::store::Scope;

    let (registry, policy) = (Registry::builtin(), Policy::default());
    let (doomed, kept) = (tenant(store).await, tenant(store).await);
    for id in [&doomed, &kept] {
        let scope = Scope::new(id, &registry, &policy);
        let user = store
            .create(
                &scope,
                "User",
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bjensen"}),
            )
            .await
            .unwrap_or_else(|e| panic!("setup: create failed: {e:?}"));
        let member = user["id"].as_str().unwrap_or_default().to_owned();
        store
            .create(
                &scope,
                "Group",
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                       "displayName": "Team", "members": [{"value": member}]}),
            )
            .await
            .unwrap_or_else(|e| panic!("setup: create failed: {e:?}"));
        store
            .insert_token(token_for(id, "entra"))
            .await
            .unwrap_or_else(|e| panic!("setup: insert_token failed: {e:?}"));
        store
            .record(&[LogEntry::new(id, "POST", "create")])
            .await
            .unwrap_or_else(|e| panic!("setup: record failed: {e:?}"));
        store
            .try_lease(id, "webhook:app", "kit", Duration::from_secs(60))
            .await
            .unwrap_or_else(|e| panic!("setup: try_lease failed: {e:?}"));
        store
            .put_state(id, "webhook:app:health", &json!({"ok": true}))
            .await
            .unwrap_or_else(|e| panic!("setup: put_state failed: {e:?}"));
    }
    let tokens = store.list_tokens(&doomed).await.unwrap_or_default();
    store
        .delete_tenant(&doomed)
        .await
        .unwrap_or_else(|e| panic!("rule T8: delete_tenant failed: {e:?}"));

    let gone = store.get_tenant(&doomed).await;
    assert!(
        matches!(gone, Err(StoreError::NotFound { .. })),
        "rule T8: the deleted tenant is {gone:?}"
    );
    for token in &tokens {
        let found = store.find_token(&token.id).await;
        assert!(matches!(found, Ok(None)), "rule T8: its token is {found:?}");
    }
    let again = store.delete_tenant(&doomed).await;
    assert!(
        matches!(again, Err(StoreError::NotFound { .. })),
        "rule T8: deleting again gave {again:?}"
    );
    // A tenant made again under the same id starts empty.
    store
        .create_tenant(&doomed, "Again", json!({}))
        .await
        .unwrap_or_else(|e| panic!("rule T8: create_tenant again failed: {e:?}"));
    let empty = |id: &str| {
        let id = id.to_owned();
        let (registry, policy) = (&registry, &policy);
        async move {
            let scope = Scope::new(&id, registry, policy);
            let mut counts = Vec::new();
            for resource_type in ["User", "Group"] {
                let page = store.query(&scope, resource_type, &Query::default()).await;
                counts.push(page.map(|page| page.total_results).unwrap_or(usize::MAX));
            }
            counts.push(
                store
                    .events(&scope, 0, 100)
                    .await
                    .map_or(usize::MAX, |e| e.len()),
            );
            counts.push(store.list_tokens(&id).await.map_or(usize::MAX, |t| t.len()));
            counts.push(
                store
                    .recent(&id, &LogQuery::default())
                    .await
                    .map_or(usize::MAX, |entries| entries.len()),
            );
            let checkpoint = store
                .checkpoint(&id, "webhook:app")
                .await
                .unwrap_or(u64::MAX);
            counts.push(usize::try_from(checkpoint).unwrap_or(usize::MAX));
            counts
        }
    };
    let after = empty(&doomed).await;
    assert_eq!(
        after,
        vec![0; 6],
        "rule T8: users, groups, events, tokens, log entries, checkpoint left"
    );
    let other = empty(&kept).await;
    assert!(
        other[0] == 1 && other[1] == 1 && other[2] > 0 && other[3] == 1 && other[4] == 1,
        "rule T8: the other tenant lost data: {other:?}"
    );
    let documents = |id: &str| {
        let id = id.to_owned();
        async move { store.states(&id, "").await.map(|all| all.len()).ok() }
    };
    assert_eq!(
        documents(&doomed).await,
        Some(0),
        "rule T8: state documents left"
    );
    assert_eq!(
        documents(&kept).await,
        Some(1),
        "rule T8: the other tenant's state lost"
    );
    let tenant_after = store.get_tenant(&doomed).await.map(|t| t.settings);
    assert_eq!(
        tenant_after.ok(),
        Some(json!({})),
        "rule T8: settings survived"
    );
}
