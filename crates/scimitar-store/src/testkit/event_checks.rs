//! The checks of [`EventStore`](crate::EventStore) (rule 17, and the events of
//! rules 1, 5, 10 and 18), and of rule 10's create replays.

// `&[id.clone()]` reads better in a check than `std::slice::from_ref(&id)`.
#![allow(clippy::cloned_ref_to_slice_refs)]

use serde_json::{json, Value};

use super::{group, id_of, members_of, user, Fixture};
use crate::event::ChangeKind;
use crate::schema::{PatchOpKind, Projection};
use crate::settings::TenantSettings;
use crate::store::{Created, EventStore};

use super::checks::{
    create, create_group, create_user, event_kinds, is_uniqueness, patch_members, patch_request,
};

/// Rules 1, 5, 10 and 18 for the outbox: events are per tenant, writes that change
/// nothing or are refused record none, and reading past the end is empty.
pub async fn rule_17_events_follow_changes_only<S: EventStore>(store: &S) {
    let a = Fixture::new();
    let b = Fixture::new();
    let user_a_id = create_user(store, &a, "shared@example.com").await;
    create_user(store, &b, "shared@example.com").await;
    let events_b = store.events(&b.scope(), 0, 1000).await.unwrap_or_default();
    assert!(
        events_b
            .iter()
            .all(|event| event.tenant == b.tenant && event.resource_id != user_a_id),
        "rule 1: tenant B reads tenant A's events: {events_b:?}"
    );

    let fx = a;
    let scope = fx.scope();
    let mut changed = user("shared@example.com");
    changed["displayName"] = json!("Changed");
    store
        .replace(&scope, "User", &user_a_id, changed.clone(), None)
        .await
        .unwrap_or_else(|e| panic!("rule 17: replace failed: {e:?}"));
    let before = event_kinds(store, &fx).await.len();
    store
        .replace(&scope, "User", &user_a_id, changed, None)
        .await
        .unwrap_or_else(|e| panic!("rule 5: identical replace failed: {e:?}"));
    assert_eq!(
        event_kinds(store, &fx).await.len(),
        before,
        "rule 5: an identical replace recorded an event"
    );
    let again = store
        .create(&scope, "User", user("shared@example.com"))
        .await;
    assert!(
        is_uniqueness(&again),
        "rule 10: a duplicate create gave {again:?}"
    );
    assert_eq!(
        event_kinds(store, &fx).await.len(),
        before,
        "rule 10: a refused create recorded an event"
    );
    let events = store.events(&scope, u64::MAX, usize::MAX).await;
    assert!(
        matches!(&events, Ok(list) if list.is_empty()),
        "rule 18: events past the end gave {events:?}"
    );
}

/// Rule 17: user writes record their events, in order, readable from any point.
pub async fn rule_17_outbox_records_user_changes<S: EventStore>(store: &S) {
    let fx = Fixture::new();
    let scope = fx.scope();
    assert!(
        event_kinds(store, &fx).await.is_empty(),
        "rule 17: a new tenant has events"
    );
    let mut body = user("events@example.com");
    body["active"] = json!(true);
    let mut with_password = body.clone();
    with_password["password"] = json!("t0p-s3cret");
    let id = id_of(&create(store, &fx, "User", with_password).await);
    let mut steps = Vec::new();
    for (active, display_name) in [(false, None), (true, None), (true, Some("Named"))] {
        let mut next = body.clone();
        next["active"] = json!(active);
        if let Some(name) = display_name {
            next["displayName"] = json!(name);
        }
        steps.push(next);
    }
    for next in &steps {
        store
            .replace(&scope, "User", &id, next.clone(), None)
            .await
            .unwrap_or_else(|e| panic!("rule 17: replace failed: {e:?}"));
    }
    // Nothing changes: no event. A failed write: no event.
    if let Some(last) = steps.last() {
        let _ = store.replace(&scope, "User", &id, last.clone(), None).await;
    }
    let _ = store
        .create(&scope, "User", user("EVENTS@example.com"))
        .await;
    // Entra ID's deactivation: a PATCH with a string boolean (compatible policy).
    let deactivate = patch_request(vec![(
        PatchOpKind::Replace,
        Some("active"),
        Some(json!("False")),
    )]);
    store
        .patch(
            &scope,
            "User",
            &id,
            &deactivate,
            None,
            &Projection::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("rule 17: patch failed: {e:?}"));
    store
        .delete(&scope, "User", &id, None)
        .await
        .unwrap_or_else(|e| panic!("rule 17: delete failed: {e:?}"));

    let events = store
        .events(&scope, 0, 1000)
        .await
        .unwrap_or_else(|e| panic!("rule 17: events failed: {e:?}"));
    let kinds: Vec<ChangeKind> = events.iter().map(|event| event.kind).collect();
    assert_eq!(
        kinds,
        [
            ChangeKind::UserCreated,
            ChangeKind::UserDeactivated,
            ChangeKind::UserReactivated,
            ChangeKind::UserUpdated,
            ChangeKind::UserDeactivated,
            ChangeKind::UserDeleted
        ],
        "rule 17: user events"
    );
    for event in &events {
        assert_eq!(event.tenant, fx.tenant, "rule 17: event tenant");
        assert_eq!(event.resource_type, "User", "rule 17: event resource type");
        assert_eq!(event.resource_id, id, "rule 17: event resource id");
        assert_eq!(
            event.payload["userName"], "events@example.com",
            "rule 17: payload {event:?}"
        );
        assert!(
            event.payload.get("password").is_none(),
            "rule 3/17: an event carries the password: {event:?}"
        );
    }
    assert!(
        events.windows(2).all(|pair| pair[0].seq < pair[1].seq),
        "rule 17: seq does not increase: {events:?}"
    );
    assert_eq!(
        events[3].payload["displayName"], "Named",
        "rule 17: payload after the change"
    );
    let tail = store
        .events(&scope, events[1].seq, 2)
        .await
        .unwrap_or_else(|e| panic!("rule 17: events failed: {e:?}"));
    assert_eq!(
        tail,
        events[2..4],
        "rule 17: events after a seq, with a limit"
    );
    let past_end = store.events(&scope, events[5].seq, 10).await;
    assert!(
        matches!(&past_end, Ok(rest) if rest.is_empty()),
        "rule 17: events after the last: {past_end:?}"
    );
}

/// Rule 17: group writes record group and member events.
pub async fn rule_17_outbox_records_group_changes<S: EventStore>(store: &S) {
    let fx = Fixture::new();
    let scope = fx.scope();
    let u1 = create_user(store, &fx, "ge-1@example.com").await;
    let u2 = create_user(store, &fx, "ge-2@example.com").await;
    let skip = store
        .events(&scope, 0, 1000)
        .await
        .map(|events| events.last().map_or(0, |e| e.seq))
        .unwrap_or(0);
    let team = create_group(store, &fx, "Evented", &[&u1]).await;
    let mut renamed = group("Evented renamed");
    renamed["members"] = members_of(&[&u1]);
    store
        .replace(&scope, "Group", &team, renamed, None)
        .await
        .unwrap_or_else(|e| panic!("rule 17: replace failed: {e:?}"));
    patch_members(store, &fx, &team, &[&u2], true)
        .await
        .unwrap_or_else(|e| panic!("rule 17: adding a member failed: {e:?}"));
    patch_members(store, &fx, &team, &[&u1], false)
        .await
        .unwrap_or_else(|e| panic!("rule 17: removing a member failed: {e:?}"));
    store
        .delete(&scope, "User", &u2, None)
        .await
        .unwrap_or_else(|e| panic!("rule 17: delete failed: {e:?}"));
    store
        .delete(&scope, "Group", &team, None)
        .await
        .unwrap_or_else(|e| panic!("rule 17: delete failed: {e:?}"));

    let events = store
        .events(&scope, skip, 1000)
        .await
        .unwrap_or_else(|e| panic!("rule 17: events failed: {e:?}"));
    let summary: Vec<(ChangeKind, String, Value)> = events
        .iter()
        .map(|event| {
            let detail = match event.kind {
                ChangeKind::MembersAdded | ChangeKind::MembersRemoved => {
                    event.payload["members"].clone()
                }
                _ => event.payload.get("members").cloned().unwrap_or(Value::Null),
            };
            (event.kind, event.resource_id.clone(), detail)
        })
        .collect();
    let expected = vec![
        (ChangeKind::GroupCreated, team.clone(), Value::Null),
        (ChangeKind::MembersAdded, team.clone(), json!([u1])),
        (ChangeKind::GroupRenamed, team.clone(), Value::Null),
        (ChangeKind::MembersAdded, team.clone(), json!([u2])),
        (ChangeKind::MembersRemoved, team.clone(), json!([u1])),
        (ChangeKind::UserDeleted, u2.clone(), Value::Null),
        (ChangeKind::MembersRemoved, team.clone(), json!([u2])),
        (ChangeKind::GroupDeleted, team.clone(), Value::Null),
    ];
    assert_eq!(
        summary, expected,
        "rule 17: group events (kind, resource, members); group payloads carry no members"
    );
    assert_eq!(
        events.first().map(|e| e.payload["displayName"].clone()),
        Some(json!("Evented")),
        "rule 17: GroupCreated payload"
    );
}

/// A fixture whose tenant replays creates within `seconds`.
fn replaying(seconds: u32) -> Fixture {
    Fixture::with_settings(TenantSettings {
        create_retry_window_seconds: seconds,
        ..TenantSettings::default()
    })
}

/// Rule 10: with `create_retry_window_seconds`, a create that the same client
/// repeats exactly within the window returns the user it made; from another
/// client, with any difference, or after the window, it conflicts.
pub async fn rule_10_replayed_create_returns_the_same_user<S: EventStore>(store: &S) {
    let fx = replaying(120);
    let scope = fx.scope().with_client("token-a");
    let mut body = user("retry@example.com");
    body["externalId"] = json!("retry-1");
    body["displayName"] = json!("Retry");
    let first = match store.create_or_existing(&scope, "User", body.clone()).await {
        Ok(Created::New(user)) => user,
        other => panic!("rule 10: a first create gave {other:?}"),
    };
    let events = event_kinds(store, &fx).await.len();
    let replayed = store.create_or_existing(&scope, "User", body.clone()).await;
    assert_eq!(
        replayed.ok(),
        Some(Created::Existing(first.clone())),
        "rule 10: a replayed create did not return the same user"
    );
    assert_eq!(
        event_kinds(store, &fx).await.len(),
        events,
        "rule 10: a replayed create recorded an event"
    );
    let mut renamed = body.clone();
    renamed["displayName"] = json!("Someone else");
    let mut other_external_id = body.clone();
    other_external_id["externalId"] = json!("retry-2");
    let mut no_external_id = body.clone();
    no_external_id
        .as_object_mut()
        .map(|body| body.remove("externalId"));
    let other_client = fx.scope().with_client("token-b");
    let no_client = fx.scope();
    for (what, scope, body) in [
        ("another displayName", &scope, renamed),
        ("another externalId", &scope, other_external_id),
        ("no externalId", &scope, no_external_id),
        ("another client", &other_client, body.clone()),
        ("no client", &no_client, body.clone()),
    ] {
        let result = store.create(scope, "User", body).await;
        assert!(
            is_uniqueness(&result),
            "rule 10: a create with {what} gave {result:?}"
        );
    }

    // After the window the same replay is a conflict.
    let fx = replaying(1);
    let scope = fx.scope().with_client("token-a");
    store
        .create(&scope, "User", body.clone())
        .await
        .unwrap_or_else(|e| panic!("rule 10: a first create failed: {e:?}"));
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let late = store.create(&scope, "User", body).await;
    assert!(
        is_uniqueness(&late),
        "rule 10: a replay after the window gave {late:?}"
    );
}

/// Rule 10: a replay that differs only in `password` (which the server replaces by
/// a hash with a fresh salt every time) returns the existing user.
pub async fn rule_10_replayed_create_ignores_the_password<S: EventStore>(store: &S) {
    let fx = replaying(120);
    let scope = fx.scope().with_client("token-a");
    let mut body = user("rehashed@example.com");
    body["password"] = json!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdC0x$aGFzaC0x");
    let first = store
        .create(&scope, "User", body.clone())
        .await
        .unwrap_or_else(|e| panic!("rule 10: a first create failed: {e:?}"));
    body["password"] = json!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdC0y$aGFzaC0y");
    let retried = store.create_or_existing(&scope, "User", body).await;
    assert_eq!(
        retried.ok(),
        Some(Created::Existing(first)),
        "rule 10: a replay with a freshly hashed password did not return the user"
    );
}

/// Rule 10: with `create_retry_window_seconds`, a group create that the same
/// client repeats with the same `externalId` returns that group instead of making
/// a twin.
pub async fn rule_10_replayed_create_returns_the_same_group<S: EventStore>(store: &S) {
    let fx = replaying(120);
    let scope = fx.scope().with_client("token-a");
    let u1 = match store
        .create_or_existing(&scope, "User", user("gretry@example.com"))
        .await
    {
        Ok(Created::New(user)) => id_of(&user).to_owned(),
        other => panic!("rule 10: a first user create gave {other:?}"),
    };
    let mut body = group("Retried team");
    body["externalId"] = json!("entra-group-1");
    body["members"] = members_of(&[&u1]);
    let first = match store
        .create_or_existing(&scope, "Group", body.clone())
        .await
    {
        Ok(Created::New(group)) => group,
        other => panic!("rule 10: a first group create gave {other:?}"),
    };
    let events = event_kinds(store, &fx).await.len();
    let retried = store
        .create_or_existing(&scope, "Group", body.clone())
        .await;
    assert_eq!(
        retried.ok(),
        Some(Created::Existing(first.clone())),
        "rule 10: a replayed group create did not return the group"
    );
    let retried = store
        .create_or_existing(&scope, "User", user("gretry@example.com"))
        .await;
    assert!(
        matches!(&retried, Ok(Created::Existing(existing)) if id_of(existing) == u1),
        "rule 10: a replayed user create is not reported as existing: {retried:?}"
    );
    assert_eq!(
        event_kinds(store, &fx).await.len(),
        events,
        "rule 10: a replayed create recorded an event"
    );
    let mut renamed = body.clone();
    renamed["displayName"] = json!("Another team");
    let mut without_external_id = group("Retried team");
    without_external_id["members"] = members_of(&[&u1]);
    let other_client = fx.scope().with_client("token-b");
    for (what, scope, other) in [
        ("another name", &scope, renamed),
        ("no externalId", &scope, without_external_id),
        ("another client", &other_client, body.clone()),
    ] {
        let created = store.create_or_existing(scope, "Group", other).await;
        assert!(
            matches!(&created, Ok(Created::New(group)) if id_of(group) != id_of(&first)),
            "rule 10: a group create with {what} gave {created:?}"
        );
    }
}
