//! The host app's own tables: its accounts, appointments and outgoing notifications.
//!
//! They live in memory behind one mutex so that the example stays about SCIM; a real
//! app keeps them in its database. Every change made from a SCIM event is
//! idempotent (replaying an event changes nothing), because event delivery is
//! at-least-once.

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
    pub state: Delivery,
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
            state: Delivery::Pending,
        };
        self.notifications.insert(id, notification);
    }

    fn pending_welcome(&mut self, scim_id: &str) -> Option<&mut Notification> {
        self.notifications.values_mut().find(|notification| {
            notification.state == Delivery::Pending
                && matches!(&notification.message, Message::Welcome { scim_id: id } if id == scim_id)
        })
    }

    fn was_welcomed(&self, scim_id: &str) -> bool {
        self.notifications.values().any(|notification| {
            notification.state != Delivery::Withdrawn
                && matches!(&notification.message, Message::Welcome { scim_id: id } if id == scim_id)
        })
    }
}

impl Tables {
    /// Empty tables.
    pub fn new() -> Self {
        Tables::default()
    }

    fn rows(&self) -> MutexGuard<'_, Rows> {
        // Every method checks before it writes, so rows left by a panicking
        // thread are still consistent.
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

    /// Inserts or updates an account from the identity provider, and schedules
    /// (or moves) its welcome: on the hire date, or at `now` for someone already
    /// working here. An inactive account gets none; one already welcomed gets no
    /// second.
    pub fn upsert_account(&self, account: Account, now: OffsetDateTime) {
        let mut rows = self.rows();
        let welcome_at = account.hire_date.map_or(now, |hired| hired.max(now));
        if account.active {
            if let Some(welcome) = rows.pending_welcome(&account.scim_id) {
                welcome.send_at = welcome_at;
                if let Some(email) = &account.email {
                    welcome.to.clone_from(email);
                }
            } else if let (false, Some(email)) =
                (rows.was_welcomed(&account.scim_id), &account.email)
            {
                let message = Message::Welcome {
                    scim_id: account.scim_id.clone(),
                };
                rows.notify(email.clone(), message, welcome_at);
            }
        }
        rows.accounts.insert(account.scim_id.clone(), account);
    }

    /// Marks an account inactive (keeping it), if it exists.
    pub fn deactivate_account(&self, scim_id: &str) {
        if let Some(account) = self.rows().accounts.get_mut(scim_id) {
            account.active = false;
        }
    }

    /// Removes an account, if it exists.
    pub fn remove_account(&self, scim_id: &str) {
        self.rows().accounts.remove(scim_id);
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

    /// Cancels `host`'s booked appointments that start after `now`, tells each
    /// guest, and withdraws `host`'s welcome if it has not gone out yet. Returns
    /// how many appointments it cancelled (0 when replayed).
    pub fn cancel_upcoming(&self, host: &str, reason: &str, now: OffsetDateTime) -> usize {
        let mut rows = self.rows();
        let cancelled: Vec<Appointment> = rows
            .appointments
            .values_mut()
            .filter(|appointment| {
                appointment.host == host
                    && appointment.starts_at > now
                    && appointment.status == AppointmentStatus::Booked
            })
            .map(|appointment| {
                appointment.status = AppointmentStatus::Cancelled(reason.to_owned());
                appointment.clone()
            })
            .collect();
        for appointment in &cancelled {
            for guest in &appointment.guests {
                let message = Message::AppointmentCancelled {
                    appointment: appointment.id,
                    reason: reason.to_owned(),
                };
                rows.notify(guest.clone(), message, now);
            }
        }
        if let Some(welcome) = rows.pending_welcome(host) {
            welcome.state = Delivery::Withdrawn;
        }
        cancelled.len()
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
            if notification.state == Delivery::Pending && notification.send_at <= now {
                notification.state = Delivery::Sent(now);
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

    fn account(active: bool, hire_date: Option<OffsetDateTime>) -> Account {
        Account {
            scim_id: "u1".into(),
            user_name: "adele@contoso.com".into(),
            display_name: "Adele Vance".into(),
            email: Some("adele@contoso.com".into()),
            active,
            hire_date,
        }
    }

    const NOW: OffsetDateTime = datetime!(2027-01-10 09:00 UTC);

    #[test]
    fn a_welcome_waits_for_the_hire_date_and_follows_it() {
        let tables = Tables::new();
        tables.upsert_account(account(true, Some(datetime!(2027-03-01 09:00 UTC))), NOW);
        assert!(tables.send_due(NOW).is_empty());
        // The identity provider moves the start date: the welcome moves with it.
        tables.upsert_account(account(true, Some(datetime!(2027-02-01 09:00 UTC))), NOW);
        assert_eq!(tables.notifications().len(), 1);
        assert!(tables.send_due(datetime!(2027-01-31 23:59 UTC)).is_empty());
        let sent = tables.send_due(datetime!(2027-02-01 09:00 UTC));
        assert_eq!(sent.len(), 1);
        // Welcomed once, even when the account is updated again.
        tables.upsert_account(account(true, None), NOW);
        assert_eq!(tables.notifications().len(), 1);
    }

    #[test]
    fn someone_already_working_here_is_welcomed_now_and_inactive_accounts_never() {
        let tables = Tables::new();
        tables.upsert_account(account(false, None), NOW);
        assert!(tables.notifications().is_empty());
        tables.upsert_account(account(true, Some(datetime!(2020-01-01 00:00 UTC))), NOW);
        assert_eq!(tables.send_due(NOW).len(), 1);
    }

    #[test]
    fn cancelling_spares_past_meetings_and_is_idempotent() {
        let tables = Tables::new();
        tables.upsert_account(account(true, None), NOW);
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
        assert_eq!(tables.cancel_upcoming("u1", "host left", NOW), 1);
        assert_eq!(tables.cancel_upcoming("u1", "host left", NOW), 0);
        let status = |id| tables.appointment(id).map(|a| a.status);
        assert_eq!(status(past.id), Some(AppointmentStatus::Booked));
        assert_eq!(
            status(coming.id),
            Some(AppointmentStatus::Cancelled("host left".into()))
        );
        let to_guest = tables
            .notifications()
            .into_iter()
            .filter(|n| n.to == "guest@fabrikam.com")
            .count();
        assert_eq!(to_guest, 1);
    }

    #[test]
    fn bookings_need_an_active_host_and_a_future_start() {
        let tables = Tables::new();
        let later = datetime!(2027-02-01 10:00 UTC);
        assert_eq!(
            tables.book("u1", vec![], later, NOW),
            Err(BookingError::UnknownHost("u1".into()))
        );
        tables.upsert_account(account(false, None), NOW);
        assert_eq!(
            tables.book("u1", vec![], later, NOW),
            Err(BookingError::InactiveHost("u1".into()))
        );
        tables.upsert_account(account(true, None), NOW);
        assert_eq!(
            tables.book("u1", vec![], NOW, NOW),
            Err(BookingError::InThePast)
        );
    }
}
