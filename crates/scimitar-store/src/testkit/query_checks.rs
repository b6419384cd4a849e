//! The store checks of queries (rules 11 to 15): filters, sorting, paging and
//! projection.

// `&[id.clone()]` reads better in a check than `std::slice::from_ref(&id)`.
#![allow(clippy::cloned_ref_to_slice_refs)]

use std::collections::HashMap;

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;

use super::{everything, excluding, filtered, id_of, member_ids, only, user, Fixture};
use crate::query::{Paging, Query, SortOrder};
use crate::schema::{PatchOpKind, Projection, Registry, ScimType};
use crate::settings::TenantSettings;
use crate::store::Store;
use crate::StoreError;

use super::checks::{create, create_group, create_user, get, ids, patch_request, query};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

// ---------------------------------------------------------------------------
// Rules 11 to 15: queries.

/// Four users every filter check runs against, created in this order.
struct People {
    by_id: HashMap<String, &'static str>,
    alice: String,
}

async fn people<S: Store>(store: &S, fx: &Fixture) -> People {
    let bodies = [
        (
            "alice",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
                "userName": "alice@example.com", "externalId": "EXT-Alice",
                "displayName": "Alice Smith", "title": "Engineer", "active": true,
                "name": {"givenName": "Alice", "familyName": "Smith"},
                "emails": [
                    {"value": "alice@example.com", "type": "work", "primary": true},
                    {"value": "alice@home.example", "type": "home"}
                ],
                ENTERPRISE: {"department": "Sales", "employeeNumber": "100"}
            }),
        ),
        (
            "bob",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
                "userName": "Bob@Example.com", "externalId": "ext-bob",
                "displayName": "Bob Jones", "active": false,
                "name": {"givenName": "Bob", "familyName": "Jones"},
                "emails": [{"value": "bob@example.com", "type": "work"}],
                ENTERPRISE: {"department": "Engineering"}
            }),
        ),
        (
            "carol",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                   "userName": "carol", "active": true, "name": {"familyName": "Brown"}}),
        ),
        (
            "dave",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                   "userName": "dave", "displayName": "Dave", "nickName": "D", "active": true}),
        ),
    ];
    let mut by_id = HashMap::new();
    let mut alice = String::new();
    for (name, body) in bodies {
        let id = id_of(&create(store, fx, "User", body).await);
        if name == "alice" {
            alice = id.clone();
        }
        by_id.insert(id, name);
    }
    People { by_id, alice }
}

impl People {
    /// The id of the user called `name`.
    fn id_of(&self, name: &str) -> String {
        self.by_id
            .iter()
            .find(|(_, known)| **known == name)
            .map(|(id, _)| id.clone())
            .unwrap_or_default()
    }

    /// Checks that `filter` selects exactly `expected`, in creation order.
    async fn expect<S: Store>(&self, store: &S, fx: &Fixture, filter: &str, expected: &[&str]) {
        let found: Vec<&str> = ids(store, fx, "User", &filtered(filter))
            .await
            .iter()
            .map(|id| self.by_id.get(id).copied().unwrap_or("<unknown>"))
            .collect();
        assert_eq!(found, expected, "rule 11: filter {filter}");
    }
}

/// Rule 11: every comparison operator, and `pr`.
pub async fn rule_11_filter_operators<S: Store>(store: &S) {
    let fx = Fixture::new();
    let p = people(store, &fx).await;
    let all = ["alice", "bob", "carol", "dave"];
    p.expect(store, &fx, r#"userName eq "ALICE@EXAMPLE.COM""#, &["alice"])
        .await;
    p.expect(
        store,
        &fx,
        r#"userName ne "alice@example.com""#,
        &["bob", "carol", "dave"],
    )
    .await;
    p.expect(store, &fx, r#"displayName co "SMI""#, &["alice"])
        .await;
    p.expect(store, &fx, r#"userName sw "b""#, &["bob"]).await;
    p.expect(
        store,
        &fx,
        r#"userName ew "@EXAMPLE.com""#,
        &["alice", "bob"],
    )
    .await;
    p.expect(store, &fx, r#"name.familyName gt "Jones""#, &["alice"])
        .await;
    p.expect(
        store,
        &fx,
        r#"name.familyName ge "jones""#,
        &["alice", "bob"],
    )
    .await;
    p.expect(store, &fx, r#"name.familyName lt "Jones""#, &["carol"])
        .await;
    p.expect(
        store,
        &fx,
        r#"name.familyName le "JONES""#,
        &["bob", "carol"],
    )
    .await;
    p.expect(store, &fx, "title pr", &["alice"]).await;
    p.expect(store, &fx, "displayName pr", &["alice", "bob", "dave"])
        .await;
    p.expect(store, &fx, "active eq false", &["bob"]).await;
    p.expect(store, &fx, "active eq true", &["alice", "carol", "dave"])
        .await;
    p.expect(store, &fx, r#"meta.resourceType eq "User""#, &all)
        .await;
    p.expect(store, &fx, r#"userName eq "nobody""#, &[]).await;
}

/// Rule 11: filters see each write, whichever attributes it changed and left
/// alone: a PATCH of one attribute keeps every other one findable, and the old
/// value of a changed one finds nothing.
pub async fn rule_11_filters_follow_each_write<S: Store>(store: &S) {
    let fx = Fixture::new();
    let mut body = user("ann@example.com");
    body["externalId"] = json!("ext-ann");
    body["displayName"] = json!("Ann Smith");
    body["active"] = json!(true);
    body["name"] = json!({"givenName": "Ann", "familyName": "Smith"});
    let id = id_of(&create(store, &fx, "User", body).await);
    let finds = |filter: &'static str| {
        let fx = &fx;
        async move { ids(store, fx, "User", &filtered(filter)).await }
    };
    let patch = |path: &'static str, value: Value| {
        let (fx, id) = (&fx, id.clone());
        async move {
            let request = patch_request(vec![(PatchOpKind::Replace, Some(path), Some(value))]);
            store
                .patch(
                    &fx.scope(),
                    "User",
                    &id,
                    &request,
                    None,
                    &Projection::default(),
                )
                .await
                .unwrap_or_else(|error| panic!("patching {path} failed: {error:?}"));
        }
    };
    let everything_else = [
        r#"userName eq "ann@example.com""#,
        r#"externalId eq "ext-ann""#,
        r#"displayName eq "Ann Smith""#,
        r#"name.familyName eq "Smith""#,
        "active eq true",
    ];

    patch("name.givenName", json!("Anna")).await;
    assert_eq!(finds(r#"name.givenName eq "Anna""#).await, [id.clone()]);
    assert!(finds(r#"name.givenName eq "Ann""#).await.is_empty());
    for filter in everything_else {
        assert_eq!(
            finds(filter).await,
            [id.clone()],
            "{filter} after a givenName PATCH"
        );
    }

    patch("userName", json!("anna@example.com")).await;
    assert_eq!(
        finds(r#"userName eq "ANNA@example.com""#).await,
        [id.clone()]
    );
    assert!(finds(r#"userName eq "ann@example.com""#).await.is_empty());
    assert_eq!(finds(r#"name.givenName sw "ann""#).await, [id.clone()]);

    patch("active", json!(false)).await;
    assert_eq!(finds("active eq false").await, [id.clone()]);
    assert!(finds("active eq true").await.is_empty());
    assert_eq!(finds(r#"externalId eq "ext-ann""#).await, [id.clone()]);
}

/// Rule 11: `and`, `or`, `not`, grouping and precedence.
pub async fn rule_11_filter_logic<S: Store>(store: &S) {
    let fx = Fixture::new();
    let p = people(store, &fx).await;
    p.expect(
        store,
        &fx,
        r#"active eq true and name.familyName sw "s""#,
        &["alice"],
    )
    .await;
    p.expect(
        store,
        &fx,
        r#"userName eq "carol" or userName eq "dave""#,
        &["carol", "dave"],
    )
    .await;
    p.expect(store, &fx, "not (active eq true)", &["bob"]).await;
    p.expect(store, &fx, "not (displayName pr)", &["carol"])
        .await;
    // `and` binds tighter than `or`.
    p.expect(
        store,
        &fx,
        r#"userName eq "carol" or userName eq "dave" and active eq false"#,
        &["carol"],
    )
    .await;
    p.expect(
        store,
        &fx,
        r#"(userName eq "carol" or userName eq "dave") and active eq true"#,
        &["carol", "dave"],
    )
    .await;
}

/// Rule 11: `pr` on a complex attribute holds when any of its sub-attributes has
/// a value: `name`, `emails`, `addresses`, the Enterprise `manager`, `members`.
pub async fn rule_11_present_on_complex_attributes<S: Store>(store: &S) {
    let fx = Fixture::new();
    let boss = create_user(store, &fx, "boss@example.com").await;
    let mut full = user("full@example.com");
    full["schemas"] = json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE]);
    full["name"] = json!({"givenName": "Full"});
    full["emails"] = json!([{"value": "full@example.com"}]);
    full["addresses"] = json!([{"formatted": ""}, {"locality": "Paris"}]);
    full[ENTERPRISE] = json!({"manager": {"value": boss}});
    let full = id_of(&create(store, &fx, "User", full).await);
    let mut hollow = user("hollow@example.com");
    hollow["name"] = json!({"givenName": "", "familyName": ""});
    hollow["addresses"] = json!([{"formatted": ""}]);
    let hollow = id_of(&create(store, &fx, "User", hollow).await);
    let team = create_group(store, &fx, "Team", &[&full]).await;
    let empty = create_group(store, &fx, "Empty", &[]).await;

    let sorted = |mut ids: Vec<String>| {
        ids.sort();
        ids
    };
    for (filter, expected) in [
        ("name pr", vec![full.clone()]),
        ("emails pr", vec![full.clone()]),
        ("addresses pr", vec![full.clone()]),
        (
            &format!("{ENTERPRISE}:manager pr") as &str,
            vec![full.clone()],
        ),
        ("manager pr", vec![full.clone()]),
        ("not (name pr)", vec![boss.clone(), hollow.clone()]),
        ("emails eq null", vec![boss.clone(), hollow.clone()]),
    ] {
        let found = ids(store, &fx, "User", &filtered(filter)).await;
        assert_eq!(
            sorted(found),
            sorted(expected),
            "rule 11: {filter} (boss {boss}, full {full}, hollow {hollow})"
        );
    }
    for (filter, expected) in [
        ("members pr", vec![team.clone()]),
        ("not (members pr)", vec![empty.clone()]),
    ] {
        let found = ids(store, &fx, "Group", &filtered(filter)).await;
        assert_eq!(found, expected, "rule 11: {filter}");
    }
}

/// Rule 11: multi-valued attributes and value paths (`emails[type eq "work"]`).
pub async fn rule_11_filter_multi_valued_and_value_paths<S: Store>(store: &S) {
    let fx = Fixture::new();
    let p = people(store, &fx).await;
    p.expect(
        store,
        &fx,
        r#"emails[type eq "work" and value co "alice"]"#,
        &["alice"],
    )
    .await;
    p.expect(store, &fx, r#"emails[type eq "home"]"#, &["alice"])
        .await;
    // Both conditions must hold for the same element.
    p.expect(
        store,
        &fx,
        r#"emails[type eq "home" and value co "bob"]"#,
        &[],
    )
    .await;
    p.expect(store, &fx, r#"emails.value co "HOME""#, &["alice"])
        .await;
    p.expect(store, &fx, r#"emails.type eq "work""#, &["alice", "bob"])
        .await;
    p.expect(store, &fx, r#"emails co "bob@""#, &["bob"]).await;
    p.expect(store, &fx, "emails pr", &["alice", "bob"]).await;
}

/// Rule 11: extension attributes, named with their schema URN.
pub async fn rule_11_filter_extension_attributes<S: Store>(store: &S) {
    let fx = Fixture::new();
    let p = people(store, &fx).await;
    let department = format!("{ENTERPRISE}:department");
    p.expect(
        store,
        &fx,
        &format!(r#"{department} eq "sales""#),
        &["alice"],
    )
    .await;
    p.expect(store, &fx, &format!("{department} pr"), &["alice", "bob"])
        .await;
    // Entra ID sets a manager with a PATCH whose value is the manager's id.
    let dave = p.id_of("dave");
    let set_manager = patch_request(vec![(
        PatchOpKind::Add,
        Some(&format!("{ENTERPRISE}:manager")),
        Some(json!(dave)),
    )]);
    store
        .patch(
            &fx.scope(),
            "User",
            &p.alice,
            &set_manager,
            None,
            &Projection::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("rule 11: setting alice's manager failed: {e:?}"));
    p.expect(
        store,
        &fx,
        &format!(r#"{ENTERPRISE}:manager.value eq "{dave}""#),
        &["alice"],
    )
    .await;
    p.expect(
        store,
        &fx,
        &format!(r#"{ENTERPRISE}:employeeNumber eq "100""#),
        &["alice"],
    )
    .await;
    p.expect(
        store,
        &fx,
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "dave""#,
        &["dave"],
    )
    .await;
}

/// Rule 11: `id` and `externalId` compare case-exactly, `userName` does not, and
/// attribute names never do.
pub async fn rule_11_filter_case_exactness<S: Store>(store: &S) {
    let fx = Fixture::new();
    let p = people(store, &fx).await;
    p.expect(store, &fx, r#"externalId eq "EXT-Alice""#, &["alice"])
        .await;
    p.expect(store, &fx, r#"externalId eq "ext-alice""#, &[])
        .await;
    p.expect(store, &fx, r#"externalId eq "EXT-BOB""#, &[])
        .await;
    p.expect(store, &fx, r#"externalId sw "EXT""#, &["alice"])
        .await;
    p.expect(store, &fx, &format!(r#"id eq "{}""#, p.alice), &["alice"])
        .await;
    let upper = p.alice.to_uppercase();
    if upper != p.alice {
        p.expect(store, &fx, &format!(r#"id eq "{upper}""#), &[])
            .await;
    }
    p.expect(store, &fx, r#"USERNAME eq "DAVE""#, &["dave"])
        .await;
    p.expect(store, &fx, r#"userName eq "bob@example.com""#, &["bob"])
        .await;
}

/// Rule 11: `dateTime` attributes compare as instants.
pub async fn rule_11_filter_date_times<S: Store>(store: &S) {
    let fx = Fixture::new();
    let p = people(store, &fx).await;
    let all = ["alice", "bob", "carol", "dave"];
    p.expect(
        store,
        &fx,
        r#"meta.lastModified gt "2000-01-01T00:00:00Z""#,
        &all,
    )
    .await;
    p.expect(store, &fx, r#"meta.created lt "2000-01-01T00:00:00Z""#, &[])
        .await;
    let alice = get(store, &fx, "User", &p.alice).await;
    let stamp = alice["meta"]["lastModified"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        finds(
            store,
            &fx,
            &p.alice,
            &format!(r#"meta.lastModified eq "{stamp}""#)
        )
        .await,
        "rule 11: eq {stamp}"
    );
    assert!(
        finds(
            store,
            &fx,
            &p.alice,
            &format!(r#"meta.lastModified ge "{stamp}""#)
        )
        .await,
        "rule 11: ge {stamp}"
    );
    assert!(
        finds(
            store,
            &fx,
            &p.alice,
            &format!(r#"meta.lastModified le "{stamp}""#)
        )
        .await,
        "rule 11: le {stamp}"
    );
    assert!(
        !finds(
            store,
            &fx,
            &p.alice,
            &format!(r#"meta.lastModified gt "{stamp}""#)
        )
        .await,
        "rule 11: gt {stamp}"
    );
    assert!(
        !finds(
            store,
            &fx,
            &p.alice,
            &format!(r#"meta.lastModified lt "{stamp}""#)
        )
        .await,
        "rule 11: lt {stamp}"
    );
    // The same instant written with another offset.
    let shifted = time::OffsetDateTime::parse(&stamp, &Rfc3339)
        .ok()
        .and_then(|at| {
            time::UtcOffset::from_hms(2, 0, 0)
                .ok()
                .map(|o| at.to_offset(o))
        })
        .and_then(|at| at.format(&Rfc3339).ok())
        .unwrap_or_else(|| panic!("rule 2: meta.lastModified {stamp:?} is not RFC 3339"));
    assert!(
        finds(
            store,
            &fx,
            &p.alice,
            &format!(r#"meta.lastModified eq "{shifted}""#)
        )
        .await,
        "rule 11: {shifted} is the same instant as {stamp}"
    );
}

/// Whether a User query with `filter` returns `id`.
async fn finds<S: Store>(store: &S, fx: &Fixture, id: &str, filter: &str) -> bool {
    ids(store, fx, "User", &filtered(filter))
        .await
        .iter()
        .any(|found| found == id)
}

/// Rule 11: groups filtered by member, and by name.
pub async fn rule_11_filter_groups_by_member<S: Store>(store: &S) {
    let fx = Fixture::new();
    let u1 = create_user(store, &fx, "fm-1@example.com").await;
    let u2 = create_user(store, &fx, "fm-2@example.com").await;
    let u3 = create_user(store, &fx, "fm-3@example.com").await;
    let g1 = create_group(store, &fx, "Filter One", &[&u1, &u2]).await;
    let g2 = create_group(store, &fx, "Filter Two", &[&u3]).await;
    let cases = [
        (format!(r#"members[value eq "{u1}"]"#), vec![g1.clone()]),
        (format!(r#"members.value eq "{u3}""#), vec![g2.clone()]),
        (
            r#"displayName eq "filter one""#.to_owned(),
            vec![g1.clone()],
        ),
        (r#"displayName sw "Filter""#.to_owned(), vec![g1, g2]),
    ];
    for (filter, expected) in cases {
        assert_eq!(
            ids(store, &fx, "Group", &filtered(&filter)).await,
            expected,
            "rule 11: group filter {filter}"
        );
    }
}

/// Rule 11: undefined attributes and unordered comparisons are `InvalidFilter`.
pub async fn rule_11_invalid_filters<S: Store>(store: &S) {
    let fx = Fixture::new();
    create_user(store, &fx, "invalid@example.com").await;
    for filter in [
        r#"noSuchAttribute eq "x""#,
        r#"name.noSuchPart eq "x""#,
        r#"urn:example:unknown:2.0:User:thing eq "x""#,
        "active gt true",
        r#"name eq "x""#,
        r#"userName eq "a" and noSuchAttribute pr"#,
        r#"emails[noSuchPart eq "x"]"#,
        // Derived at read time (rule 19): not stored, so not filterable.
        &format!(r#"{ENTERPRISE}:manager.displayName eq "x""#),
    ] {
        let result = store.query(&fx.scope(), "User", &filtered(filter)).await;
        match result {
            Err(error @ StoreError::InvalidFilter(_)) => {
                assert_eq!(error.status(), 400, "rule 11: {filter}");
                assert_eq!(
                    error.scim_type(),
                    Some(ScimType::InvalidFilter),
                    "rule 11: {filter}"
                );
            }
            other => panic!("rule 11: filter {filter} gave {other:?}, not InvalidFilter"),
        }
    }
    let sorted = everything().sort(super::attr("noSuchAttribute"), SortOrder::Ascending);
    let result = store.query(&fx.scope(), "User", &sorted).await;
    assert!(
        matches!(result, Err(StoreError::InvalidFilter(_))),
        "rule 12: sorting by an undefined attribute gave {result:?}"
    );
}

/// Rules 11 and 12 under a tenant's own schemas: Enterprise `costCenter` retyped
/// `dateTime` and a custom extension's `integer` compare and sort by type.
pub async fn rule_11_tenant_schemas_type_filters_and_sorting<S: Store>(store: &S) {
    const ACME: &str = "urn:example:params:scim:schemas:extension:acme:2.0:User";
    let settings = TenantSettings {
        schema_overrides: vec![
            json!({"id": ENTERPRISE, "attributes": [
                {"name": "costCenter", "type": "dateTime", "multiValued": false}
            ]}),
            json!({"id": ACME, "name": "Acme", "attributes": [
                {"name": "badgeNumber", "type": "integer", "multiValued": false}
            ]}),
        ],
        ..TenantSettings::default()
    };
    let registry = settings
        .registry(&Registry::builtin())
        .unwrap_or_else(|e| panic!("setup: the tenant registry failed: {e}"));
    let fx = Fixture {
        registry,
        ..Fixture::with_settings(settings)
    };
    let mut by_id = HashMap::new();
    // Instants in other offsets, so that their text and instant orders differ
    // (early is 00:30Z, dawn 01:00Z, plain 01:30Z: no offset reads as UTC, mid
    // 02:00Z); badge numbers likewise.
    for (name, cost_center, badge) in [
        ("early", "2025-12-31T23:30:00-01:00", 9),
        ("late", "2026-06-01T00:00:00Z", 100),
        ("dawn", "2026-01-01T05:00:00+04:00", 50),
        ("mid", "2026-01-01T02:00:00Z", 1000),
        ("none", "", 99),
        ("plain", "2026-01-01T01:30:00", 75),
    ] {
        let mut body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE, ACME],
            "userName": name,
            ACME: {"badgeNumber": badge}
        });
        if !cost_center.is_empty() {
            body[ENTERPRISE] = json!({"costCenter": cost_center});
        }
        by_id.insert(id_of(&create(store, &fx, "User", body).await), name);
    }
    let names = |found: Vec<String>| -> Vec<&str> {
        found
            .iter()
            .map(|id| by_id.get(id).copied().unwrap_or("<unknown>"))
            .collect()
    };
    let cost_center = format!("{ENTERPRISE}:costCenter");
    let found = ids(
        store,
        &fx,
        "User",
        &filtered(&format!(r#"{cost_center} gt "2026-01-01T00:00:00Z""#)),
    )
    .await;
    assert_eq!(
        names(found),
        ["early", "late", "dawn", "mid", "plain"],
        "rule 11: a dateTime override compares as instants (early is 2026-01-01T00:30Z)"
    );
    let found = ids(
        store,
        &fx,
        "User",
        &filtered(&format!(r#"{cost_center} lt "2026-01-01T01:00:00Z""#)),
    )
    .await;
    assert_eq!(names(found), ["early"], "rule 11: dateTime lt");
    let sorted = everything().sort(super::attr(&cost_center), SortOrder::Ascending);
    assert_eq!(
        names(ids(store, &fx, "User", &sorted).await),
        ["early", "dawn", "plain", "mid", "late", "none"],
        "rule 12: sorting by a dateTime override orders instants"
    );
    let found = ids(
        store,
        &fx,
        "User",
        &filtered(&format!("{ACME}:badgeNumber gt 99")),
    )
    .await;
    assert_eq!(
        names(found),
        ["late", "mid"],
        "rule 11: a custom integer attribute compares as a number"
    );
    let sorted = everything().sort(
        super::attr(&format!("{ACME}:badgeNumber")),
        SortOrder::Descending,
    );
    assert_eq!(
        names(ids(store, &fx, "User", &sorted).await),
        ["mid", "late", "none", "plain", "dawn", "early"],
        "rule 12: sorting by a custom integer attribute"
    );
    let mut bad = user("bad-date");
    bad[ENTERPRISE] = json!({"costCenter": "next Tuesday"});
    let result = store.create(&fx.scope(), "User", bad).await;
    assert!(
        matches!(result, Err(StoreError::Validation(_))),
        "rule 3: a value that is not a dateTime under the override gave {result:?}"
    );
}

/// Rule 12: sorting by type, ignoring case, missing values last (ascending).
pub async fn rule_12_sorting<S: Store>(store: &S) {
    let fx = Fixture::new();
    let bodies = [
        json!({"userName": "b-user", "displayName": "beta", "emails": [{"value": "m@x.example"}],
               ENTERPRISE: {"department": "sales"}}),
        json!({"userName": "A-user", "displayName": "Alpha",
               "emails": [{"value": "z@x.example"}, {"value": "a@x.example", "primary": true}],
               ENTERPRISE: {"department": "Engineering"}}),
        json!({"userName": "c-user"}),
        json!({"userName": "D-user", "displayName": "delta"}),
    ];
    let mut names = HashMap::new();
    for mut body in bodies {
        body["schemas"] = if body.get(ENTERPRISE).is_some() {
            json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE])
        } else {
            json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
        };
        let name = body["userName"].as_str().unwrap_or_default().to_owned();
        names.insert(id_of(&create(store, &fx, "User", body).await), name);
    }
    let sorted = |path: &str, order: SortOrder, filter: Option<&str>| {
        let mut q = match filter {
            Some(filter) => filtered(filter),
            None => everything(),
        };
        q = q.sort(super::attr(path), order);
        let names = &names;
        let fx = &fx;
        async move {
            ids(store, fx, "User", &q)
                .await
                .iter()
                .map(|id| names.get(id).cloned().unwrap_or_default())
                .collect::<Vec<String>>()
        }
    };
    use SortOrder::{Ascending, Descending};
    assert_eq!(
        sorted("userName", Ascending, None).await,
        ["A-user", "b-user", "c-user", "D-user"],
        "rule 12: userName ascending ignores case"
    );
    assert_eq!(
        sorted("username", Descending, None).await,
        ["D-user", "c-user", "b-user", "A-user"],
        "rule 12: userName descending"
    );
    assert_eq!(
        sorted("displayName", Ascending, None).await,
        ["A-user", "b-user", "D-user", "c-user"],
        "rule 12: missing values sort last ascending"
    );
    assert_eq!(
        sorted("displayName", Descending, None).await,
        ["c-user", "D-user", "b-user", "A-user"],
        "rule 12: missing values sort first descending"
    );
    assert_eq!(
        sorted("name.familyName", Descending, None).await,
        ["b-user", "A-user", "c-user", "D-user"],
        "rule 12: ties keep creation order"
    );
    assert_eq!(
        sorted("emails.value", Ascending, None).await,
        ["A-user", "b-user", "c-user", "D-user"],
        "rule 12: a multi-valued attribute sorts by its primary value"
    );
    let department = format!("{ENTERPRISE}:department");
    for path in [department.as_str(), "department"] {
        assert_eq!(
            sorted(path, Ascending, None).await,
            ["A-user", "b-user", "c-user", "D-user"],
            "rule 12: sorting by the extension attribute {path}"
        );
    }
    assert_eq!(
        sorted("displayName", Descending, Some("displayName pr")).await,
        ["D-user", "b-user", "A-user"],
        "rule 12: sorting a filtered result"
    );
}

async fn numbered_users<S: Store>(store: &S, fx: &Fixture, count: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    for i in 0..count {
        ids.push(create_user(store, fx, &format!("page-{i}@example.com")).await);
    }
    ids
}

/// Rule 13: index paging covers everything once, with correct totals.
pub async fn rule_13_index_paging<S: Store>(store: &S) {
    let fx = Fixture::new();
    let all = numbered_users(store, &fx, 7).await;
    let page =
        |start_index: usize, count: usize| Query::with_paging(Paging::Index { start_index, count });
    let mut seen = Vec::new();
    for (start, expected_len) in [(1, 3), (4, 3), (7, 1), (8, 0), (1000, 0)] {
        let result = query(store, &fx, "User", &page(start, 3)).await;
        assert_eq!(
            result.total_results, 7,
            "rule 13: totalResults at startIndex {start}"
        );
        assert_eq!(
            result.start_index,
            Some(start),
            "rule 13: startIndex echoed"
        );
        assert_eq!(
            result.resources.len(),
            expected_len,
            "rule 13: page size at startIndex {start}"
        );
        seen.extend(result.resources.iter().map(id_of));
    }
    assert_eq!(
        seen, all,
        "rule 13: pages overlap, leave gaps or change order"
    );
    let zero = query(store, &fx, "User", &page(0, 2)).await;
    assert_eq!(
        zero.start_index,
        Some(1),
        "rule 13: startIndex 0 reads as 1"
    );
    assert_eq!(
        zero.resources.iter().map(id_of).collect::<Vec<_>>(),
        all[..2],
        "rule 13"
    );
    let empty = query(store, &fx, "User", &page(1, 0)).await;
    assert!(
        empty.resources.is_empty() && empty.total_results == 7,
        "rule 13: count 0 gave {} resources of {}",
        empty.resources.len(),
        empty.total_results
    );
    let huge = query(store, &fx, "User", &page(usize::MAX, usize::MAX)).await;
    assert!(
        huge.resources.is_empty(),
        "rule 13: a huge startIndex returned resources"
    );

    let mut filtered_seen = Vec::new();
    for start in [1, 3, 5] {
        let q = Query::with_paging(Paging::Index {
            start_index: start,
            count: 2,
        })
        .filter(
            scimitar_filter::parse_filter(r#"not (userName eq "page-3@example.com")"#)
                .unwrap_or_else(|e| panic!("{e}")),
        );
        let result = query(store, &fx, "User", &q).await;
        assert_eq!(result.total_results, 6, "rule 13: filtered totalResults");
        filtered_seen.extend(result.resources.iter().map(id_of));
    }
    let expected: Vec<String> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 3)
        .map(|(_, id)| id.clone())
        .collect();
    assert_eq!(filtered_seen, expected, "rule 13: filtered paging");

    let mut descending = Vec::new();
    for start in [1, 4, 7] {
        let q = page(start, 3).sort(super::attr("userName"), SortOrder::Descending);
        descending.extend(
            query(store, &fx, "User", &q)
                .await
                .resources
                .iter()
                .map(id_of),
        );
    }
    let reversed: Vec<String> = all.iter().rev().cloned().collect();
    assert_eq!(descending, reversed, "rule 13: sorted paging");

    // A filtered page sorted by a key: the order must hold inside each page, not
    // only across them (a store may read a page's rows apart from its keys).
    let mut filtered_descending = Vec::new();
    for start in [1, 4, 7] {
        let q = page(start, 3)
            .filter(
                scimitar_filter::parse_filter(r#"userName sw "page-""#)
                    .unwrap_or_else(|e| panic!("{e}")),
            )
            .sort(super::attr("userName"), SortOrder::Descending);
        let result = query(store, &fx, "User", &q).await;
        assert_eq!(
            result.total_results, 7,
            "rule 13: filtered, sorted totalResults"
        );
        filtered_descending.extend(result.resources.iter().map(id_of));
    }
    assert_eq!(
        filtered_descending, reversed,
        "rule 13: filtered, sorted paging"
    );
}

/// Rule 14: following cursors visits everything exactly once.
pub async fn rule_14_cursor_paging<S: Store>(store: &S) {
    let fx = Fixture::new();
    let all = numbered_users(store, &fx, 7).await;
    let walk = |count: usize, sort: Option<SortOrder>| {
        let fx = &fx;
        async move {
            let mut seen = Vec::new();
            let mut sizes = Vec::new();
            let mut cursor = None;
            loop {
                let mut q = Query::with_paging(Paging::Cursor { cursor, count });
                if let Some(order) = sort {
                    q = q.sort(super::attr("userName"), order);
                }
                let page = query(store, fx, "User", &q).await;
                assert_eq!(page.total_results, 7, "rule 14: totalResults");
                sizes.push(page.resources.len());
                seen.extend(page.resources.iter().map(id_of));
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
                assert!(sizes.len() <= 8, "rule 14: cursors never end");
            }
            (seen, sizes)
        }
    };
    let (seen, sizes) = walk(3, None).await;
    assert_eq!(
        seen, all,
        "rule 14: cursor paging lost, repeated or reordered resources"
    );
    assert_eq!(sizes, [3, 3, 1], "rule 14: page sizes");
    let (_, sizes) = walk(7, None).await;
    assert_eq!(
        sizes,
        [7],
        "rule 14: an exact last page still offered a next cursor"
    );
    let (seen, _) = walk(2, Some(SortOrder::Descending)).await;
    let reversed: Vec<String> = all.iter().rev().cloned().collect();
    assert_eq!(seen, reversed, "rule 14: sorted cursor paging");

    let first = query(
        store,
        &fx,
        "User",
        &Query::with_paging(Paging::Cursor {
            cursor: None,
            count: 2,
        }),
    )
    .await;
    assert_eq!(
        first.start_index, None,
        "rule 14: cursor pages have no startIndex"
    );
    for (resource_type, cursor) in [
        ("User", "not-a-cursor".to_owned()),
        ("Group", first.next_cursor.clone().unwrap_or_default()),
    ] {
        let q = Query::with_paging(Paging::Cursor {
            cursor: Some(cursor.clone()),
            count: 2,
        });
        let result = store.query(&fx.scope(), resource_type, &q).await;
        match result {
            Err(error @ StoreError::InvalidCursor) => {
                assert_eq!(error.scim_type(), Some(ScimType::InvalidCursor), "rule 14")
            }
            other => panic!("rule 14: cursor {cursor:?} on {resource_type} gave {other:?}"),
        }
    }
    let none = query(
        store,
        &fx,
        "Group",
        &Query::with_paging(Paging::Cursor {
            cursor: None,
            count: 2,
        }),
    )
    .await;
    assert!(
        none.resources.is_empty() && none.next_cursor.is_none() && none.total_results == 0,
        "rule 14: an empty result"
    );
}

/// Rule 15: queries project; `excludedAttributes=members` still returns the group.
pub async fn rule_15_query_projection<S: Store>(store: &S) {
    let fx = Fixture::new();
    let u1 = create_user(store, &fx, "qp@example.com").await;
    let team = create_group(store, &fx, "Projected team", &[&u1]).await;
    let q = everything().project(excluding(&["members"]));
    let page = query(store, &fx, "Group", &q).await;
    let found = page.resources.first().cloned().unwrap_or_default();
    assert_eq!(found["id"], team.as_str(), "rule 15: the group is missing");
    assert_eq!(found["displayName"], "Projected team", "rule 15: {found}");
    assert!(
        found.get("members").is_none(),
        "rule 15: members not excluded: {found}"
    );
    let q = everything().project(only(&["displayName"]));
    let found = query(store, &fx, "Group", &q).await.resources;
    assert!(
        found.len() == 1 && found[0].get("members").is_none() && found[0]["id"] == team.as_str(),
        "rule 15: attributes=displayName gave {found:?}"
    );
    let full = query(store, &fx, "Group", &everything()).await.resources;
    assert_eq!(
        full.first().map(member_ids).unwrap_or_default(),
        [u1],
        "rule 15: a plain query dropped members"
    );
    let q = everything().project(only(&["userName"]));
    let users = query(store, &fx, "User", &q).await.resources;
    assert!(
        users
            .iter()
            .all(|u| u.get("meta").is_none() || u.get("userName").is_some()),
        "rule 15: attributes=userName on users gave {users:?}"
    );
}
