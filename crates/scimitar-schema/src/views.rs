//! Typed views of the RFC 7643 resources for embedders: [`User`], [`Group`],
//! [`EnterpriseUser`] and their parts.
//!
//! Each view keeps whatever it has no field for in `extra`, so converting a
//! resource to a view and back loses nothing, up to RFC 7643 §2.5's equivalence of
//! `null`, `[]` and absent (those are all written back as absent). Field names
//! are matched exactly: convert resources that came through
//! [`Registry::validate`](crate::Registry::validate), which spells every name as
//! the schema does.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::messages::Meta;
use crate::urn;

macro_rules! value_conversions {
    ($($view:ident),+) => {$(
        impl $view {
            /// Reads this view from a resource object.
            ///
            /// # Errors
            /// When a known attribute has the wrong JSON type (e.g. `active: "yes"`).
            pub fn from_value(value: Value) -> Result<Self, serde_json::Error> {
                serde_json::from_value(value)
            }

            /// This view as a resource object.
            pub fn to_value(&self) -> Value {
                // Serialising plain strings, numbers and string-keyed maps cannot fail.
                serde_json::to_value(self).unwrap_or(Value::Null)
            }
        }

        impl TryFrom<Value> for $view {
            type Error = serde_json::Error;

            fn try_from(value: Value) -> Result<Self, Self::Error> {
                $view::from_value(value)
            }
        }

        impl From<&$view> for Value {
            fn from(view: &$view) -> Value {
                view.to_value()
            }
        }
    )+};
}

value_conversions!(User, Group, EnterpriseUser);

/// A User resource (RFC 7643 §4.1), with the Enterprise User extension.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// The schema URNs ([`User::new`] sets the core User schema).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<String>,
    /// The service provider's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The client's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The unique user name (required).
    pub user_name: String,
    /// The components of the user's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Name>,
    /// The name to display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The casual name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nick_name: Option<String>,
    /// Profile page URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_url: Option<String>,
    /// Job title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Relationship to the organisation, e.g. `Employee`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_type: Option<String>,
    /// Preferred language, e.g. `en-US`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_language: Option<String>,
    /// Locale, e.g. `en-US`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Olson time zone, e.g. `America/Los_Angeles`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Administrative status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// Cleartext password (write-only: never in responses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Email addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<Email>,
    /// Phone numbers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phone_numbers: Vec<PhoneNumber>,
    /// Instant messaging addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ims: Vec<MultiValued>,
    /// Photo URLs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos: Vec<MultiValued>,
    /// Mailing addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<Address>,
    /// Groups the user belongs to (read-only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<MultiValued>,
    /// Entitlements.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entitlements: Vec<MultiValued>,
    /// Roles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<Role>,
    /// Base64 DER X.509 certificates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub x509_certificates: Vec<MultiValued>,
    /// Enterprise User extension data.
    #[serde(
        rename = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub enterprise: Option<EnterpriseUser>,
    /// Resource metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Every other attribute, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl User {
    /// A user with `user_name` and the core User schema, nothing else.
    pub fn new(user_name: impl Into<String>) -> Self {
        User {
            schemas: vec![urn::USER.into()],
            user_name: user_name.into(),
            ..User::default()
        }
    }

    /// The email marked primary, else the first.
    pub fn primary_email(&self) -> Option<&Email> {
        primary(&self.emails)
    }
}

/// A Group resource (RFC 7643 §4.2).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// The schema URNs ([`Group::new`] sets the core Group schema).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<String>,
    /// The service provider's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The client's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The group's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The members.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<Member>,
    /// Resource metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Every other attribute, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Group {
    /// A group called `display_name` with the core Group schema and no members.
    pub fn new(display_name: impl Into<String>) -> Self {
        Group {
            schemas: vec![urn::GROUP.into()],
            display_name: Some(display_name.into()),
            ..Group::default()
        }
    }
}

/// The Enterprise User extension (RFC 7643 §4.3).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnterpriseUser {
    /// Employee number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employee_number: Option<String>,
    /// Cost center.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_center: Option<String>,
    /// Organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// Division.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub division: Option<String>,
    /// Department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// The user's manager.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<Manager>,
    /// Every other attribute, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The components of a user's name (RFC 7643 §4.1.1 `name`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Name {
    /// The full name, formatted for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    /// Family (last) name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// Given (first) name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Middle name(s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    /// Honorific prefix, e.g. `Ms.`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub honorific_prefix: Option<String>,
    /// Honorific suffix, e.g. `III`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub honorific_suffix: Option<String>,
    /// Every other sub-attribute, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An element of a multi-valued attribute with the RFC 7643 §2.4 sub-attributes
/// `value`, `display`, `type`, `primary` and `$ref`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MultiValued {
    /// The value, e.g. an email address or an id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    /// Label, e.g. `work`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// Whether this is the preferred value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<bool>,
    /// URI of the referenced resource.
    #[serde(rename = "$ref", default, skip_serializing_if = "Option::is_none")]
    pub ref_: Option<String>,
    /// Every other sub-attribute, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl MultiValued {
    /// An element with `value` and `type`.
    pub fn typed(value: impl Into<String>, type_: impl Into<String>) -> Self {
        MultiValued {
            value: Some(value.into()),
            type_: Some(type_.into()),
            ..MultiValued::default()
        }
    }
}

/// An email address (`emails`).
pub type Email = MultiValued;
/// A phone number (`phoneNumbers`).
pub type PhoneNumber = MultiValued;
/// A role (`roles`).
pub type Role = MultiValued;

/// A mailing address (RFC 7643 §4.1.2 `addresses`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// The full address, formatted for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    /// Street address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    /// State or region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// Country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Label, e.g. `work`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// Whether this is the preferred address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<bool>,
    /// Every other sub-attribute, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The enterprise `manager` (RFC 7643 §4.3).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manager {
    /// The manager's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// URI of the manager's resource.
    #[serde(rename = "$ref", default, skip_serializing_if = "Option::is_none")]
    pub ref_: Option<String>,
    /// The manager's display name (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Every other sub-attribute, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A group member (RFC 7643 §4.2 `members`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// The member's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// URI of the member's resource.
    #[serde(rename = "$ref", default, skip_serializing_if = "Option::is_none")]
    pub ref_: Option<String>,
    /// `User` or `Group`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// The member's display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    /// Every other sub-attribute, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Member {
    /// A member with id `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Member {
            value: Some(value.into()),
            ..Member::default()
        }
    }
}

fn primary(items: &[MultiValued]) -> Option<&MultiValued> {
    items
        .iter()
        .find(|item| item.primary == Some(true))
        .or_else(|| items.first())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builders_produce_valid_minimal_resources() {
        let user = User::new("bjensen").to_value();
        assert_eq!(user, json!({"schemas": [urn::USER], "userName": "bjensen"}));
        let mut group = Group::new("Tour Guides");
        group.members.push(Member::new("2819c223"));
        assert_eq!(
            Value::from(&group),
            json!({"schemas": [urn::GROUP], "displayName": "Tour Guides", "members": [{"value": "2819c223"}]})
        );
    }

    #[test]
    fn unknown_attributes_survive_in_extra() {
        let value = json!({
            "userName": "b", "favoriteColor": "blue",
            "name": {"givenName": "B", "nickname": "Bee"},
            "emails": [{"value": "a@b", "verified": true}]
        });
        let user = User::try_from(value.clone()).unwrap();
        assert_eq!(user.extra["favoriteColor"], "blue");
        assert_eq!(user.name.as_ref().unwrap().extra["nickname"], "Bee");
        assert_eq!(user.to_value(), value);
    }

    #[test]
    fn primary_email_prefers_the_primary_one() {
        let mut user = User::new("b");
        assert!(user.primary_email().is_none());
        user.emails = vec![MultiValued::typed("home@x", "home"), {
            let mut work = MultiValued::typed("work@x", "work");
            work.primary = Some(true);
            work
        }];
        assert_eq!(
            user.primary_email().unwrap().value.as_deref(),
            Some("work@x")
        );
    }

    #[test]
    fn wrong_types_are_errors() {
        assert!(User::from_value(json!({"userName": "b", "active": "yes"})).is_err());
        assert!(User::from_value(json!({"displayName": "no userName"})).is_err());
    }
}
