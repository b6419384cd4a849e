//! The storage contract as executable checks: run them against your [`Store`] and
//! [`TenantStore`] to know they behave as every Scimitar layer above expects.
//!
//! Enabled by the `testkit` feature; add it to your dev-dependencies only:
//!
//! ```toml
//! [dev-dependencies]
//! scimitar-store = { version = "0.1", features = ["testkit"] }
//! ```
//!
//! Then, in a test file, generate one `#[test]` per check (each builds its own
//! store with the expression given, which may `.await`):
//!
//! ```no_run
//! // tests/contract.rs
//! use scimitar_store::MemoryStore; // your store instead
//!
//! scimitar_store::store_contract_tests!(MemoryStore::new());
//! scimitar_store::tenant_store_contract_tests!(MemoryStore::new());
//! # fn main() {}
//! ```
//!
//! or run them all in one test with [`run_all`] and [`run_all_tenant_checks`].
//!
//! Each check is named after the rule of the [`Store`] (or [`TenantStore`])
//! documentation it verifies, and every assertion message starts with the rule
//! number. Each check works in a fresh random tenant, so stores may share one
//! database between checks and test runs. The checks do not depend on timing.

pub mod checks;
pub mod event_checks;
pub mod member_checks;
pub mod query_checks;
pub mod tenant_checks;
pub mod user_checks;

use std::future::Future;

use serde_json::{json, Value};

use crate::query::{Paging, Query};
use crate::schema::{Policy, Projection, Registry};
use crate::settings::TenantSettings;
use crate::store::{DirectoryStore, MemberStore, Scope, Store};
use crate::tenant::TenantStore;

/// Everything a check needs besides the store: a fresh tenant, the RFC 7643
/// registry, the default (compatible) policy and default tenant settings.
#[derive(Debug)]
pub struct Fixture {
    /// A tenant id no other check uses: `kit-<uuid>`.
    pub tenant: String,
    /// [`Registry::builtin`].
    pub registry: Registry,
    /// [`Policy::default`].
    pub policy: Policy,
    /// [`TenantSettings::default`].
    pub settings: TenantSettings,
}

impl Fixture {
    /// A fixture with a new random tenant.
    pub fn new() -> Self {
        Fixture {
            tenant: format!("kit-{}", uuid::Uuid::new_v4()),
            registry: Registry::builtin(),
            policy: Policy::default(),
            settings: TenantSettings::default(),
        }
    }

    /// A fixture with a new random tenant and these settings.
    pub fn with_settings(settings: TenantSettings) -> Self {
        Fixture {
            settings,
            ..Fixture::new()
        }
    }

    /// The same tenant under other settings (a tenant changing its settings).
    pub fn same_tenant_with(&self, settings: TenantSettings) -> Self {
        Fixture {
            tenant: self.tenant.clone(),
            registry: self.registry.clone(),
            policy: self.policy.clone(),
            settings,
        }
    }

    /// The scope of this fixture's tenant.
    pub fn scope(&self) -> Scope<'_> {
        Scope::new(&self.tenant, &self.registry, &self.policy).with_settings(&self.settings)
    }
}

impl Default for Fixture {
    fn default() -> Self {
        Fixture::new()
    }
}

/// The PostgreSQL database tests run against: `SCIMITAR_TEST_POSTGRES_URL`.
///
/// `None` when the variable is unset: the caller skips `test`, and a line saying so
/// goes straight to stderr (past the test harness's output capture), so that a run
/// without PostgreSQL passes and says what it left out. With
/// `SCIMITAR_REQUIRE_POSTGRES` set (CI sets it), an unset URL fails the test instead.
///
/// # Panics
///
/// If the URL is unset while `SCIMITAR_REQUIRE_POSTGRES` is set.
pub fn postgres_url(test: &str) -> Option<String> {
    use std::io::Write;
    if let Ok(url) = std::env::var("SCIMITAR_TEST_POSTGRES_URL") {
        return Some(url);
    }
    assert!(
        std::env::var_os("SCIMITAR_REQUIRE_POSTGRES").is_none(),
        "{test}: SCIMITAR_REQUIRE_POSTGRES is set but SCIMITAR_TEST_POSTGRES_URL is not"
    );
    let line = format!("skipped {test}: SCIMITAR_TEST_POSTGRES_URL is unset\n");
    // Not `eprintln!`: the harness would capture it.
    let _ = std::io::stderr().write_all(line.as_bytes());
    None
}

/// Runs a future to completion on a multi-threaded Tokio runtime, as the generated
/// tests do.
///
/// # Panics
///
/// If the runtime cannot be built (the kit is test code: failing loudly is its job).
pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("testkit: cannot build a Tokio runtime")
        .block_on(future)
}

/// Runs every store check against a store with every capability, in rule order;
/// panics at the first failure with the rule number in the message.
pub async fn run_all<S: DirectoryStore + MemberStore>(store: &S) {
    crate::__store_contract_checks!(@run store);
}

/// Runs the checks of the core [`Store`] only (what an app over its own tables
/// implements first); panics at the first failure.
pub async fn run_core<S: Store>(store: &S) {
    crate::__core_contract_checks!(@run store);
}

/// Runs every tenant directory check against `store`; panics at the first failure.
pub async fn run_all_tenant_checks<S: TenantStore>(store: &S) {
    crate::__tenant_contract_checks!(@run store);
}

/// Generates one `#[test]` per store check, for a store with every capability
/// ([`MemberStore`], [`EventStore`](crate::EventStore), [`DirectoryStore`], and rule 10's create
/// replays); the argument is an expression (it may `.await`) that makes the store
/// under test. A store with fewer capabilities uses the macros of what it has:
/// [`core_store_contract_tests!`](crate::core_store_contract_tests),
/// [`member_store_contract_tests!`](crate::member_store_contract_tests),
/// [`event_store_contract_tests!`](crate::event_store_contract_tests),
/// [`directory_store_contract_tests!`](crate::directory_store_contract_tests).
#[macro_export]
macro_rules! store_contract_tests {
    ($make_store:expr) => {
        $crate::__store_contract_checks!(@tests $make_store);
    };
}

/// Generates one `#[test]` per check of the core [`Store`] (rules 1 to 16 and 18,
/// without member calls, events or directory features).
#[macro_export]
macro_rules! core_store_contract_tests {
    ($make_store:expr) => {
        $crate::__core_contract_checks!(@tests $make_store);
    };
}

/// Generates one `#[test]` per check of [`MemberStore`].
#[macro_export]
macro_rules! member_store_contract_tests {
    ($make_store:expr) => {
        $crate::__member_contract_checks!(@tests $make_store);
    };
}

/// Generates one `#[test]` per check of [`EventStore`](crate::EventStore) (rule 17, and the events
/// of rules 1, 5, 10 and 18).
#[macro_export]
macro_rules! event_store_contract_tests {
    ($make_store:expr) => {
        $crate::__event_contract_checks!(@tests $make_store);
    };
}

/// Generates one `#[test]` per check of [`DirectoryStore`] (rules 19 to 21); the
/// store also implements [`MemberStore`].
#[macro_export]
macro_rules! directory_store_contract_tests {
    ($make_store:expr) => {
        $crate::__directory_contract_checks!(@tests $make_store);
    };
}

/// Generates one `#[test]` per tenant directory check; the argument is an
/// expression (it may `.await`) that makes the store under test.
#[macro_export]
macro_rules! tenant_store_contract_tests {
    ($make_store:expr) => {
        $crate::__tenant_contract_checks!(@tests $make_store);
    };
}

/// The list of store checks, expanded either into tests or into sequential calls.
#[doc(hidden)]
#[macro_export]
macro_rules! __store_contract_checks {
    (@$mode:ident $arg:expr) => {
        $crate::__core_contract_checks!(@$mode $arg);
        $crate::__member_contract_checks!(@$mode $arg);
        $crate::__event_contract_checks!(@$mode $arg);
        $crate::__contract_checks!(@$mode $arg; event_checks;
            rule_10_replayed_create_returns_the_same_user,
            rule_10_replayed_create_ignores_the_password,
            rule_10_replayed_create_returns_the_same_group,
        );
        $crate::__directory_contract_checks!(@$mode $arg);
    };
}

/// The checks of the core store.
#[doc(hidden)]
#[macro_export]
macro_rules! __core_contract_checks {
    (@$mode:ident $arg:expr) => {
        $crate::__contract_checks!(@$mode $arg; checks;
            rule_01_tenants_are_isolated,
            rule_02_create_assigns_id_and_meta,
            rule_03_values_round_trip,
            rule_04_get_projects_and_reports_unknown_ids,
            rule_05_versions_change_with_every_change_only,
            rule_06_preconditions_guard_writes,
            rule_07_replace_is_whole,
            rule_08_patch_is_atomic,
            rule_08_patch_moves_group_members,
            rule_09_delete_removes_everywhere,
            rule_10_user_name_is_unique_ignoring_case,
            rule_10_concurrent_creates_have_one_winner,
            rule_10_duplicate_create_conflicts_by_default,
            rule_10_create_many_keeps_each_outcome,
            rule_16_members_keep_their_display,
            rule_18_odd_input_is_an_error_not_a_panic,
        );
        $crate::__contract_checks!(@$mode $arg; query_checks;
            rule_11_filter_operators,
            rule_11_filters_follow_each_write,
            rule_11_filter_logic,
            rule_11_present_on_complex_attributes,
            rule_11_filter_multi_valued_and_value_paths,
            rule_11_filter_extension_attributes,
            rule_11_filter_case_exactness,
            rule_11_filter_date_times,
            rule_11_tenant_schemas_type_filters_and_sorting,
            rule_11_filter_groups_by_member,
            rule_11_invalid_filters,
            rule_12_sorting,
            rule_13_index_paging,
            rule_14_cursor_paging,
            rule_15_query_projection,
        );
    };
}

/// The checks of member calls.
#[doc(hidden)]
#[macro_export]
macro_rules! __member_contract_checks {
    (@$mode:ident $arg:expr) => {
        $crate::__contract_checks!(@$mode $arg; member_checks;
            rule_16_members,
            rule_16_unknown_members_change_nothing,
            rule_16_member_calls_change_versions_only_on_change,
            rule_16_member_calls_are_isolated,
        );
    };
}

/// The checks of the outbox.
#[doc(hidden)]
#[macro_export]
macro_rules! __event_contract_checks {
    (@$mode:ident $arg:expr) => {
        $crate::__contract_checks!(@$mode $arg; event_checks;
            rule_17_outbox_records_user_changes,
            rule_17_outbox_records_group_changes,
            rule_17_events_follow_changes_only,
        );
    };
}

/// The checks of the directory features.
#[doc(hidden)]
#[macro_export]
macro_rules! __directory_contract_checks {
    (@$mode:ident $arg:expr) => {
        $crate::__contract_checks!(@$mode $arg; user_checks;
            rule_19_managers,
            rule_20_deactivated_users_stay,
            rule_20_deleted_users_are_forgotten,
            rule_20_archived_users_are_kept_out_of_sight,
            rule_21_teams_follow_users,
            rule_21_teams_are_read_only,
            rule_21_rebuild_teams_switches_modes,
        );
    };
}

/// The list of tenant directory checks.
#[doc(hidden)]
#[macro_export]
macro_rules! __tenant_contract_checks {
    (@$mode:ident $arg:expr) => {
        $crate::__contract_checks!(@$mode $arg; tenant_checks;
            rule_t1_tenants_are_created_once,
            rule_t2_unknown_tenants_are_not_found,
            rule_t3_tenants_are_listed_by_id,
            rule_t4_tokens_need_a_tenant_and_a_fresh_id,
            rule_t5_find_token_returns_any_state,
            rule_t6_revocation_is_recorded_once,
            rule_t7_token_use_is_recorded,
            rule_t9_directory_changes_move_its_version,
            rule_t10_tenants_are_renamed,
            rule_t11_admin_tokens_are_kept,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __contract_checks {
    (@tests $make_store:expr; $module:ident; $($check:ident),* $(,)?) => {
        $(
            #[test]
            fn $check() {
                $crate::testkit::block_on(async {
                    let store = $make_store;
                    $crate::testkit::$module::$check(&store).await;
                });
            }
        )*
    };
    (@run $store:expr; $module:ident; $($check:ident),* $(,)?) => {
        $( $crate::testkit::$module::$check($store).await; )*
    };
}

// Helpers shared by the checks.

/// A minimal User body.
fn user(user_name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
    })
}

/// A minimal Group body.
fn group(display_name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": display_name,
    })
}

/// A group's `members` value naming `ids`.
fn members_of(ids: &[&str]) -> Value {
    Value::Array(ids.iter().map(|id| json!({ "value": id })).collect())
}

/// The `id` of a resource.
fn id_of(resource: &Value) -> String {
    resource["id"]
        .as_str()
        .unwrap_or_else(|| panic!("resource without a string id: {resource}"))
        .to_owned()
}

/// The `meta.version` of a resource.
fn version_of(resource: &Value) -> String {
    resource["meta"]["version"]
        .as_str()
        .unwrap_or_else(|| panic!("resource without meta.version: {resource}"))
        .to_owned()
}

/// The member ids of a group, in order.
fn member_ids(group: &Value) -> Vec<String> {
    group["members"]
        .as_array()
        .map(|members| {
            members
                .iter()
                .filter_map(|member| member["value"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A projection leaving out `names`.
fn excluding(names: &[&str]) -> Projection {
    Projection {
        excluded_attributes: names.iter().map(|name| attr(name)).collect(),
        ..Projection::default()
    }
}

/// A projection of only `names`.
fn only(names: &[&str]) -> Projection {
    Projection {
        attributes: names.iter().map(|name| attr(name)).collect(),
        ..Projection::default()
    }
}

fn attr(text: &str) -> scimitar_filter::ast::AttrPath {
    scimitar_filter::parse_attr_path(text)
        .unwrap_or_else(|error| panic!("testkit: bad attribute path {text:?}: {error}"))
}

/// A query for everything matching `filter` (all in one page).
fn filtered(filter: &str) -> Query {
    let parsed = scimitar_filter::parse_filter(filter)
        .unwrap_or_else(|error| panic!("testkit: bad filter {filter:?}: {error}"));
    Query::with_paging(Paging::Index {
        start_index: 1,
        count: 1000,
    })
    .filter(parsed)
}

/// All resources of a type, one page, in the store's order.
fn everything() -> Query {
    Query::with_paging(Paging::Index {
        start_index: 1,
        count: 1000,
    })
}
