//! The hook: from SCIM change events to the app's tables.

use actix_web::web::Data;
use scimitar::store::{ChangeEvent, ChangeKind};
use scimitar_store::hooks::{EventHandler, HandlerError};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::tables::{Account, Change, Tables};
use crate::ENTERPRISE_USER;

/// The [`EventHandler`] that keeps the app's tables in step with provisioning: a
/// [`Dispatcher`](scimitar_store::hooks::Dispatcher) calls it with each change
/// event, in order.
#[derive(Debug, Clone)]
pub struct ProvisioningHook {
    tables: Data<Tables>,
}

impl ProvisioningHook {
    /// A hook writing to `tables`.
    pub fn new(tables: Data<Tables>) -> Self {
        ProvisioningHook { tables }
    }
}

impl EventHandler for ProvisioningHook {
    async fn handle(&self, event: &ChangeEvent) -> Result<(), HandlerError> {
        if let Some(change) = change_of(event) {
            // A redelivered event is recognised by its seq and changes nothing.
            self.tables.apply(event.seq, event.at, &change);
        }
        // Tables in memory cannot fail; a database error here would be returned
        // as `HandlerError::failed(error)`, and the event retried.
        Ok(())
    }
}

/// What a change event means for the app; `None` for events it ignores (groups).
pub fn change_of(event: &ChangeEvent) -> Option<Change> {
    let id = event.resource_id.clone();
    match event.kind {
        ChangeKind::UserCreated | ChangeKind::UserUpdated | ChangeKind::UserReactivated => {
            Some(Change::Upsert(account(&id, &event.payload)))
        }
        ChangeKind::UserDeactivated => Some(Change::Deactivate(id)),
        ChangeKind::UserDeleted => Some(Change::Remove(id)),
        _ => None,
    }
}

/// The app's account for a SCIM user, as an event's payload shows it.
pub fn account(scim_id: &str, user: &Value) -> Account {
    let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_owned);
    let user_name = text(user.get("userName")).unwrap_or_default();
    Account {
        scim_id: scim_id.to_owned(),
        display_name: text(user.get("displayName")).unwrap_or_else(|| user_name.clone()),
        user_name,
        email: work_email(user),
        // RFC 7643 leaves a missing `active` open; Scimitar counts it as active.
        active: user.get("active").and_then(Value::as_bool) != Some(false),
        hire_date: hire_date(user),
    }
}

/// The `work` email, else the primary one, else the first.
fn work_email(user: &Value) -> Option<String> {
    let emails = user.get("emails")?.as_array()?;
    let has = |email: &&Value, key: &str, wanted: &Value| email.get(key) == Some(wanted);
    emails
        .iter()
        .find(|email| has(email, "type", &Value::from("work")))
        .or_else(|| {
            emails
                .iter()
                .find(|email| has(email, "primary", &Value::Bool(true)))
        })
        .or_else(|| emails.first())
        .and_then(|email| email.get("value")?.as_str())
        .map(str::to_owned)
}

/// The Enterprise `costCenter`, which this app's schema retypes as the hire date.
///
/// The registry has validated it as an `xsd:dateTime`: RFC 3339, or without an
/// offset, which is read as UTC. The rare forms `time` cannot represent (hour 24,
/// five-digit years) count as no hire date.
fn hire_date(user: &Value) -> Option<OffsetDateTime> {
    let text = user.get(ENTERPRISE_USER)?.get("costCenter")?.as_str()?;
    let without_offset = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    OffsetDateTime::parse(text, &Rfc3339).ok().or_else(|| {
        let local = PrimitiveDateTime::parse(&text.to_ascii_uppercase(), without_offset).ok()?;
        Some(local.assume_utc())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    #[test]
    fn accounts_read_the_work_email_and_the_hire_date() {
        let user = json!({
            "userName": "adele@contoso.com",
            "emails": [
                {"type": "home", "value": "adele@example.net", "primary": true},
                {"type": "work", "value": "adele@contoso.com"}
            ],
            ENTERPRISE_USER: {"costCenter": "2027-03-01T09:00:00Z"}
        });
        let account = account("u1", &user);
        assert_eq!(account.email.as_deref(), Some("adele@contoso.com"));
        assert_eq!(account.display_name, "adele@contoso.com");
        assert!(account.active);
        assert_eq!(account.hire_date, Some(datetime!(2027-03-01 09:00 UTC)));
    }

    #[test]
    fn hire_dates_read_every_common_xsd_date_time() {
        let at = |text: &str| hire_date(&json!({ENTERPRISE_USER: {"costCenter": text}}));
        let march = datetime!(2027-03-01 09:00 UTC);
        assert_eq!(at("2027-03-01T09:00:00Z"), Some(march));
        assert_eq!(at("2027-03-01t09:00:00z"), Some(march));
        assert_eq!(at("2027-03-01T10:00:00+01:00"), Some(march));
        assert_eq!(at("2027-03-01T09:00:00"), Some(march));
        assert_eq!(
            at("2027-03-01T09:00:00.5"),
            Some(march + time::Duration::milliseconds(500))
        );
        assert_eq!(at("CC-4100"), None);
        assert_eq!(hire_date(&json!({})), None);
    }

    #[test]
    fn without_a_work_email_the_primary_then_the_first_is_used() {
        let primary = json!({"emails": [{"value": "a@x"}, {"value": "b@x", "primary": true}]});
        assert_eq!(work_email(&primary).as_deref(), Some("b@x"));
        let first = json!({"emails": [{"value": "a@x"}, {"value": "b@x"}]});
        assert_eq!(work_email(&first).as_deref(), Some("a@x"));
        assert_eq!(work_email(&json!({})), None);
    }

    #[test]
    fn user_events_become_changes_and_group_events_nothing() {
        let event = |kind| ChangeEvent {
            seq: 1,
            tenant: "app".into(),
            kind,
            resource_type: "User".into(),
            resource_id: "u1".into(),
            payload: json!({"userName": "adele@contoso.com", "active": false}),
            at: datetime!(2027-01-10 09:00 UTC),
        };
        assert!(matches!(
            change_of(&event(ChangeKind::UserCreated)),
            Some(Change::Upsert(account)) if !account.active
        ));
        assert_eq!(
            change_of(&event(ChangeKind::UserDeactivated)),
            Some(Change::Deactivate("u1".into()))
        );
        assert_eq!(
            change_of(&event(ChangeKind::UserDeleted)),
            Some(Change::Remove("u1".into()))
        );
        assert_eq!(change_of(&event(ChangeKind::MembersAdded)), None);
    }
}
