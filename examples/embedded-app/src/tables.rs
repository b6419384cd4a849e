//! The host app's own tables: its accounts, appointments and outgoing notifications.
//!
//! They live in memory behind one mutex so that the example stays about SCIM; a real
//! app keeps them in its database. A provisioning [`Change`] is applied in one step
//! together with the `seq` of the event it comes from, and an event already applied
//! is skipped: event delivery is at least once, and this makes its effect exactly
//! once (in a database: one transaction writing the rows and the last `seq`).

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::Serialize;
use time::OffsetDateTime;

/// An account of the host app, kept in sync from SCIM user events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// The SCIM user's `id`: the key between the two worlds.
    pub scim_id: String,
    /// The SCIM `userName`.
    pub user_name: String,
    /// The SCIM `displayName`, else the `userName`.
    pub display_name: String,
    /// The work email (or first email) notifications go to.
    pub email: Option<String>,
    /// Whether the identity provider has the user active.
    pub active: bool,
    /// The first day at work (Enterprise `costCenter`, retyped `dateTime`).
    #[serde(with = "time::serde::rfc3339::option")]
    pub hire_date: Option<OffsetDateTime>,
}

/// A meeting hosted by an account, with guests from outside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Appointment {
    /// The app's id for it.
    pub id: u64,
    /// The host's SCIM user id.
    pub host: String,
    /// The guests' email addresses.
    pub guests: Vec<String>,
    /// When it starts.
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    /// Booked, or cancelled and why.
    pub status: AppointmentStatus,
}

/// Where an appointment stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "state", content = "reason")]
pub enum AppointmentStatus {
    /// It will take place.
    Booked,
    /// It was cancelled, for this reason.
    Cancelled(String),
}

/// An email the app sends, now or at a set time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// The app's id for it.
    pub id: u64,
    /// The address it goes to.
    pub to: String,
    /// What it says.
    pub message: Message,
    /// When it may be sent, at the earliest.
    #[serde(with = "time::serde::rfc3339")]
    pub send_at: OffsetDateTime,
    /// Pending, sent or withdrawn.
    pub delivery: Delivery,
}

/// What a notification says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Message {
    /// Welcome to a new colleague, on their first day (not before).
    #[serde(rename_all = "camelCase")]
    Welcome {
        /// The new account's SCIM id.
        scim_id: String,
    },
    /// An appointment the guest was invited to is off.
    #[serde(rename_all = "camelCase")]
    AppointmentCancelled {
        /// The appointment.
        appointment: u64,
        /// Why, in words for the guest.
        reason: String,
    },
}

/// Where a notification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "state", content = "at")]
pub enum Delivery {
    /// Waiting for its `send_at`.
    Pending,
    /// Sent at this time.
    Sent(#[serde(with = "time::serde::rfc3339")] OffsetDateTime),
    /// No longer to be sent (the welcome of someone who left before starting).
    Withdrawn,
}

/// Why an appointment cannot be booked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookingError {
    /// No account has this SCIM id.
    #[error("no account {0}")]
    UnknownHost(String),
    /// The host was deactivated by the identity provider.
    #[error("account {0} is deactivated")]
    InactiveHost(String),
    /// The appointment would start in the past.
    #[error("an appointment must start in the future")]
    InThePast,
}

/// A change from the identity provider, in the app's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A user was created or changed: insert or update the account, and schedule
    /// (or move) its welcome for the hire date, or now for someone already working
    /// here. An inactive account gets none; one already welcomed gets no second.
    Upsert(Account),
    /// A user was deactivated: the account stays, inactive; its upcoming
    /// appointments are cancelled, the guests told, an unsent welcome withdrawn.
    Deactivate(String),
    /// A user was deleted: as [`Change::Deactivate`], then the account goes.
    Remove(String),
}

/// What the guests of a cancelled appointment are told.
pub const HOST_LEFT: &str = "the host no longer works here";

/// The app's tables, behind one lock.
#[derive(Debug, Default)]
pub struct Tables {
    inner: Mutex<Rows>,
}

#[derive(Debug, Default)]
struct Rows {
    accounts: BTreeMap<String, Account>,
    appointments: BTreeMap<u64, Appointment>,
    notifications: BTreeMap<u64, Notification>,
    last_id: u64,
    /// The `seq` of the last event applied.
    last_event: u64,
}

impl Rows {
    fn next_id(&mut self) -> u64 {
        self.last_id += 1;
        self.last_id
    }

    fn notify(&mut self, to: String, message: Message, send_at: OffsetDateTime) {
        let id = self.next_id();
        let notification = Notification {
            id,
            to,
            message,
            send_at,
            delivery: Delivery::Pending,
        };
        self.notifications.insert(id, notification);
    }

    fn pending_welcome(&mut self, scim_id: &str) -> Option<&mut Notification> {
        self.notifications.values_mut().find(|notification| {
            notification.delivery == Delivery::Pending
                && matches!(&notification.message, Message::Welcome { scim_id: id } if id == scim_id)
        })
    }

    fn was_welcomed(&self, scim_id: &str) -> bool {
        self.notifications.values().any(|notification| {
            notification.delivery != Delivery::Withdrawn
                && matches!(&notification.message, Message::Welcome { scim_id: id } if id == scim_id)
        })
    }

    /// Inserts or updates `account`, scheduling or moving its welcome.
    fn upsert(&mut self, account: &Account, now: OffsetDateTime) {
        let welcome_at = account.hire_date.map_or(now, |hired| hired.max(now));
        if account.active {
            if let Some(welcome) = self.pending_welcome(&account.scim_id) {
                welcome.send_at = welcome_at;
                if let Some(email) = &account.email {
                    welcome.to.clone_from(email);
                }
            } else if let (false, Some(email)) =
                (self.was_welcomed(&account.scim_id), &account.email)
            {
                let message = Message::Welcome {
                    scim_id: account.scim_id.clone(),
                };
                self.notify(email.clone(), message, welcome_at);
            }
        }
        self.accounts
            .insert(account.scim_id.clone(), account.clone());
    }

    /// Deactivates `host`: cancels its booked appointments that start after `now`,
    /// tells each guest, and withdraws its welcome if it has not gone out.
    fn deactivate(&mut self, host: &str, now: OffsetDateTime) {
        if let Some(account) = self.accounts.get_mut(host) {
            account.active = false;
        }
        let cancelled: Vec<Appointment> = self
            .appointments
            .values_mut()
            .filter(|appointment| {
                appointment.host == host
                    && appointment.starts_at > now
                    && appointment.status == AppointmentStatus::Booked
            })
            .map(|appointment| {
                appointment.status = AppointmentStatus::Cancelled(HOST_LEFT.to_owned());
                appointment.clone()
            })
            .collect();
        for appointment in cancelled {
            for guest in appointment.guests {
                let message = Message::AppointmentCancelled {
                    appointment: appointment.id,
                    reason: HOST_LEFT.to_owned(),
                };
                self.notify(guest, message, now);
            }
        }
        if let Some(welcome) = self.pending_welcome(host) {
            welcome.delivery = Delivery::Withdrawn;
        }
    }
}

impl Tables {
    /// Empty tables.
    pub fn new() -> Self {
        Tables::default()
    }

    fn rows(&self) -> MutexGuard<'_, Rows> {
        // No method can panic halfway through a change, so the rows behind a
        // poisoned lock are still consistent.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The account with this SCIM id.
    pub fn account(&self, scim_id: &str) -> Option<Account> {
        self.rows().accounts.get(scim_id).cloned()
    }

    /// Every account, by SCIM id.
    pub fn accounts(&self) -> Vec<Account> {
        self.rows().accounts.values().cloned().collect()
    }

    /// Applies `change`, made by the identity provider at `at`, as event `seq`:
    /// all of it in one step, with `seq`. Returns `false`, changing nothing, when
    /// event `seq` was applied already (a redelivery).
    ///
    /// `at` is "now" for the change: an appointment is upcoming if it starts after
    /// the user left, however late the event arrives.
    pub fn apply(&self, seq: u64, at: OffsetDateTime, change: &Change) -> bool {
        let mut rows = self.rows();
        if seq <= rows.last_event {
            return false;
        }
        match change {
            Change::Upsert(account) => rows.upsert(account, at),
            Change::Deactivate(id) => rows.deactivate(id, at),
            Change::Remove(id) => {
                rows.deactivate(id, at);
                rows.accounts.remove(id);
            }
        }
        rows.last_event = seq;
        true
    }

    /// Books an appointment for an active account.
    ///
    /// # Errors
    /// [`BookingError`] when the host is unknown or inactive, or `starts_at` is not
    /// after `now`.
    pub fn book(
        &self,
        host: &str,
        guests: Vec<String>,
        starts_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Appointment, BookingError> {
        let mut rows = self.rows();
        match rows.accounts.get(host) {
            None => return Err(BookingError::UnknownHost(host.to_owned())),
            Some(account) if !account.active => {
                return Err(BookingError::InactiveHost(host.to_owned()))
            }
            Some(_) => {}
        }
        if starts_at <= now {
            return Err(BookingError::InThePast);
        }
        let appointment = Appointment {
            id: rows.next_id(),
            host: host.to_owned(),
            guests,
            starts_at,
            status: AppointmentStatus::Booked,
        };
        rows.appointments
            .insert(appointment.id, appointment.clone());
        Ok(appointment)
    }

    /// The appointment with this id.
    pub fn appointment(&self, id: u64) -> Option<Appointment> {
        self.rows().appointments.get(&id).cloned()
    }

    /// Every notification, in creation order.
    pub fn notifications(&self) -> Vec<Notification> {
        self.rows().notifications.values().cloned().collect()
    }

    /// Sends the pending notifications due at `now` (here: logs them and marks them
    /// sent); returns them.
    pub fn send_due(&self, now: OffsetDateTime) -> Vec<Notification> {
        let mut rows = self.rows();
        let mut sent = Vec::new();
        for notification in rows.notifications.values_mut() {
            if notification.delivery == Delivery::Pending && notification.send_at <= now {
                notification.delivery = Delivery::Sent(now);
                log::info!("notify {}: {:?}", notification.to, notification.message);
                sent.push(notification.clone());
            }
        }
        sent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn adele(active: bool, hire_date: Option<OffsetDateTime>) -> Change {
        Change::Upsert(Account {
            scim_id: "u1".into(),
            user_name: "adele@contoso.com".into(),
            display_name: "Adele Vance".into(),
            email: Some("adele@contoso.com".into()),
            active,
            hire_date,
        })
    }

    const NOW: OffsetDateTime = datetime!(2027-01-10 09:00 UTC);

    #[test]
    fn a_welcome_waits_for_the_hire_date_and_follows_it() {
        let tables = Tables::new();
        tables.apply(1, NOW, &adele(true, Some(datetime!(2027-03-01 09:00 UTC))));
        assert!(tables.send_due(NOW).is_empty());
        // The identity provider moves the start date: the welcome moves with it.
        tables.apply(2, NOW, &adele(true, Some(datetime!(2027-02-01 09:00 UTC))));
        assert_eq!(tables.notifications().len(), 1);
        assert!(tables.send_due(datetime!(2027-01-31 23:59 UTC)).is_empty());
        assert_eq!(tables.send_due(datetime!(2027-02-01 09:00 UTC)).len(), 1);
        // Welcomed once, however often the account changes.
        tables.apply(3, NOW, &adele(true, None));
        assert_eq!(tables.notifications().len(), 1);
    }

    #[test]
    fn someone_already_working_here_is_welcomed_now_and_inactive_accounts_never() {
        let tables = Tables::new();
        tables.apply(1, NOW, &adele(false, None));
        assert!(tables.notifications().is_empty());
        tables.apply(2, NOW, &adele(true, Some(datetime!(2020-01-01 00:00 UTC))));
        assert_eq!(tables.send_due(NOW).len(), 1);
    }

    #[test]
    fn leaving_cancels_upcoming_meetings_only_and_tells_each_guest_once() {
        let tables = Tables::new();
        tables.apply(1, NOW, &adele(true, None));
        let guests = vec!["guest@fabrikam.com".to_owned()];
        let before = datetime!(2027-01-09 09:00 UTC);
        let past = tables.book(
            "u1",
            guests.clone(),
            datetime!(2027-01-09 10:00 UTC),
            before,
        );
        let coming = tables.book("u1", guests, datetime!(2027-01-20 10:00 UTC), NOW);
        let (past, coming) = (past.unwrap(), coming.unwrap());

        assert!(tables.apply(2, NOW, &Change::Remove("u1".into())));
        assert!(
            !tables.apply(2, NOW, &Change::Remove("u1".into())),
            "redelivered"
        );
        let status = |id| tables.appointment(id).map(|a| a.status);
        assert_eq!(status(past.id), Some(AppointmentStatus::Booked));
        assert_eq!(
            status(coming.id),
            Some(AppointmentStatus::Cancelled(HOST_LEFT.into()))
        );
        let to_guest: Vec<Message> = tables
            .notifications()
            .into_iter()
            .filter(|n| n.to == "guest@fabrikam.com")
            .map(|n| n.message)
            .collect();
        assert_eq!(
            to_guest,
            [Message::AppointmentCancelled {
                appointment: coming.id,
                reason: HOST_LEFT.into()
            }]
        );
        assert_eq!(tables.account("u1"), None);
    }

    #[test]
    fn a_deactivated_newcomer_keeps_the_account_but_loses_the_welcome() {
        let tables = Tables::new();
        tables.apply(1, NOW, &adele(true, Some(datetime!(2027-03-01 09:00 UTC))));
        tables.apply(2, NOW, &Change::Deactivate("u1".into()));
        assert_eq!(tables.account("u1").map(|a| a.active), Some(false));
        assert!(tables.send_due(datetime!(2027-04-01 00:00 UTC)).is_empty());
        // Reactivated: welcomed on the hire date after all.
        tables.apply(3, NOW, &adele(true, Some(datetime!(2027-03-01 09:00 UTC))));
        assert_eq!(tables.send_due(datetime!(2027-03-01 09:00 UTC)).len(), 1);
    }

    #[test]
    fn bookings_need_an_active_host_and_a_future_start() {
        let tables = Tables::new();
        let later = datetime!(2027-02-01 10:00 UTC);
        assert_eq!(
            tables.book("u1", vec![], later, NOW),
            Err(BookingError::UnknownHost("u1".into()))
        );
        tables.apply(1, NOW, &adele(false, None));
        assert_eq!(
            tables.book("u1", vec![], later, NOW),
            Err(BookingError::InactiveHost("u1".into()))
        );
        tables.apply(2, NOW, &adele(true, None));
        assert_eq!(
            tables.book("u1", vec![], NOW, NOW),
            Err(BookingError::InThePast)
        );
    }
}
