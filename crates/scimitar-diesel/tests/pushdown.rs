//! SQL pushdown agrees with the reference evaluator: for many filters, the
//! store's answer (filtered, counted and paged in SQL, or finished in memory) is
//! exactly the set `scimitar_filter::matches` accepts, on both backends.

use scimitar_diesel::{DieselStore, OpenOptions};
use scimitar_filter::parse_filter;
use scimitar_store::{Page, Paging, Policy, Query, Registry, Scope, Store};
use serde_json::{json, Value};

fn sqlite() -> (tempfile::TempDir, DieselStore) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("p.db").display());
    let store = DieselStore::open(&url).unwrap();
    (dir, store)
}

fn postgres() -> Option<DieselStore> {
    let url = scimitar_store::testkit::postgres_url("a PostgreSQL test")?;
    let options = OpenOptions {
        max_connections: 2,
        ..OpenOptions::default()
    };
    Some(DieselStore::open_with(&url, &options).unwrap())
}

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn users() -> Vec<Value> {
    vec![
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
               "userName": "Alice@Example.com", "externalId": "A-1", "displayName": "Alice Ä",
               "active": true, "title": "Engineer 100%", "nickName": "al_1",
               "name": {"givenName": "Alice", "familyName": "Zed"},
               "emails": [{"value": "alice@example.com", "type": "work", "primary": true},
                          {"value": "ALICE@home.org", "type": "home"}],
               ENTERPRISE: {"employeeNumber": "0042", "department": "R&D"}}),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
               "userName": "bob", "externalId": "a-1", "active": false, "title": "engineer",
               "name": {"givenName": "Bob"},
               "emails": [{"value": "bob@example.com", "type": "work"}]}),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
               "userName": "Émile", "displayName": "émile", "title": "Manager\\ of things",
               ENTERPRISE: {"employeeNumber": "7", "department": "Sales"}}),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
               "userName": "dora", "nickName": "", "displayName": "Dora_x",
               "name": {"givenName": "", "familyName": ""},
               "addresses": [{"formatted": ""}],
               "emails": [{"value": "", "type": ""}]}),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
               "userName": "erin", "name": {"honorificPrefix": "Dr."},
               "addresses": [{"formatted": ""}, {"type": "work"}],
               "emails": [{"type": "home"}]}),
    ]
}

const FILTERS: &[&str] = &[
    r#"userName eq "alice@example.com""#,
    r#"userName ne "bob""#,
    r#"userName co "E""#,
    r#"userName sw "é""#,
    r#"userName ew "COM""#,
    r#"userName gt "c""#,
    r#"userName le "bob""#,
    r#"externalId eq "a-1""#,
    r#"externalId eq "A-1""#,
    r#"externalId pr"#,
    r#"not (externalId pr)"#,
    r#"displayName co "_""#,
    r#"displayName co "%""#,
    r#"displayName eq "ÉMILE""#,
    r#"displayName pr"#,
    r#"active eq true"#,
    r#"active eq false"#,
    r#"active ne true"#,
    r#"title co "100%""#,
    r#"title co "\\""#,
    r#"title eq "ENGINEER""#,
    r#"title ne "engineer""#,
    r#"title eq null"#,
    r#"title ne null"#,
    r#"nickName pr"#,
    r#"nickName co "_1""#,
    r#"name.givenName sw "a""#,
    r#"name.familyName pr"#,
    r#"name.familyName sw "z""#,
    r#"name.familyName eq "ZED""#,
    r#"name.givenName sw "AL""#,
    r#"name.givenName gt "b""#,
    r#"name.givenName lt "b""#,
    r#"emails.value eq "ALICE@EXAMPLE.COM""#,
    r#"emails co "home.org""#,
    r#"emails[type eq "work" and value ew "example.com"]"#,
    r#"emails[type eq "home"] or userName eq "dora""#,
    r#"emails[primary eq true]"#,
    r#"emails[not (type eq "work")]"#,
    r#"emails pr"#,
    r#"not (emails pr)"#,
    r#"name pr"#,
    r#"not (name pr)"#,
    r#"name pr and emails pr"#,
    r#"addresses pr"#,
    r#"not (addresses pr)"#,
    r#"emails[value pr]"#,
    r#"emails eq null"#,
    r#"emails.type ne "work""#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "0042""#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber gt "1""#,
    r#"employeeNumber pr"#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department co "&""#,
    r#"meta.created gt "2000-01-01T00:00:00Z""#,
    r#"meta.lastModified lt "2000-01-01T01:00:00+01:00""#,
    r#"meta.resourceType eq "user""#,
    r#"phoneNumbers pr or userName eq "bob""#,
    r#"not (userName eq "bob" or title pr)"#,
    r#"(userName sw "a" or userName sw "b") and not (active eq false)"#,
    r#"userName eq "'; DROP TABLE resources; --""#,
];

async fn check(store: &DieselStore) {
    let registry = Registry::builtin();
    let policy = Policy::default();
    let tenant = format!("pushdown-{}", uuid::Uuid::new_v4());
    let scope = Scope::new(&tenant, &registry, &policy);
    for user in users() {
        store.create(&scope, "User", user).await.unwrap();
    }
    let all: Page = store
        .query(&scope, "User", &Query::default())
        .await
        .unwrap();
    assert_eq!(all.total_results, 5);
    let hints = registry.hints("User");
    for text in FILTERS {
        let filter = parse_filter(text).unwrap();
        let expected: Vec<&Value> = all
            .resources
            .iter()
            .filter(|user| scimitar_filter::matches(&filter, user, &hints))
            .collect();
        for paging in [
            Paging::Index {
                start_index: 1,
                count: 10,
            },
            Paging::Cursor {
                cursor: None,
                count: 10,
            },
        ] {
            let page = store
                .query(
                    &scope,
                    "User",
                    &Query::with_paging(paging).filter(filter.clone()),
                )
                .await
                .unwrap_or_else(|e| panic!("{text}: {e:?}"));
            let got: Vec<&Value> = page.resources.iter().collect();
            assert_eq!(ids(&got), ids(&expected), "{text} on {:?}", store.backend());
            assert_eq!(page.total_results, expected.len(), "{text}: totalResults");
        }
    }
}

fn ids(resources: &[&Value]) -> Vec<String> {
    resources
        .iter()
        .map(|r| r["userName"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn sqlite_agrees_with_the_evaluator() {
    let (_dir, store) = sqlite();
    check(&store).await;
}

#[tokio::test]
async fn postgres_agrees_with_the_evaluator() {
    let Some(store) = postgres() else { return };
    check(&store).await;
}
