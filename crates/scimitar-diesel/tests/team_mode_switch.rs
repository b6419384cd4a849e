//! A team-mode switch writes the settings and the teams they derive together.

use scimitar_diesel::DieselStore;
use scimitar_store::{
    Policy, Query, Registry, Scope, Store, TeamMode, TenantSettings, TenantStore,
};
use serde_json::json;

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

#[tokio::test]
async fn settings_and_teams_change_in_one_call() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("switch.db").display());
    let store = DieselStore::open(&url).unwrap();
    let (registry, policy) = (Registry::builtin(), Policy::default());
    store
        .create_tenant("acme", "Acme", json!({}))
        .await
        .unwrap();
    let groups_mode = Scope::new("acme", &registry, &policy);
    for (name, department) in [("a", "Sales"), ("b", "sales"), ("c", "Ops")] {
        let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
                          "userName": name, ENTERPRISE: {"department": department}});
        store.create(&groups_mode, "User", user).await.unwrap();
    }
    let department = TenantSettings {
        teams: TeamMode::Department {
            separator: " / ".into(),
        },
        ..TenantSettings::default()
    };
    let version = store.directory_version().await.unwrap();
    let scope = groups_mode.with_settings(&department);
    let rebuilt = store.set_settings_and_rebuild_teams(&scope).await.unwrap();
    assert_eq!((rebuilt.teams, rebuilt.created), (2, 2));
    let stored = TenantSettings::from_value(&store.get_tenant("acme").await.unwrap().settings);
    assert_eq!(stored.unwrap().teams, department.teams);
    assert_ne!(store.directory_version().await.unwrap(), version);
    let teams = store
        .query(&scope, "Group", &Query::default())
        .await
        .unwrap();
    assert_eq!(teams.total_results, 2, "Sales and sales are one team");

    // An unknown tenant: nothing is written, no teams either.
    let ghost = Scope::new("ghost", &registry, &policy).with_settings(&department);
    assert!(store.set_settings_and_rebuild_teams(&ghost).await.is_err());
    let none = store
        .query(&ghost, "Group", &Query::default())
        .await
        .unwrap();
    assert_eq!(none.total_results, 0);
}
