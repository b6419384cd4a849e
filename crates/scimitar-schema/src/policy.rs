//! How far to bend the RFC for what identity providers really send.
//!
//! Every known deviation of Microsoft Entra ID and Okta is one named field of
//! [`Policy`], so an operator can see and switch each one. [`Policy::strict`]
//! accepts only what RFC 7643/7644 allow; [`Policy::compatible`] (the
//! [`Default`]) accepts everything Entra ID and Okta are documented to send.
//!
//! The PATCH engine (`scimitar-patch`) reads the `patch_*` fields; validation in
//! this crate reads the others.

use serde::{Deserialize, Serialize};

/// What to do with an attribute no schema defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnknownAttributes {
    /// Fail the request with `invalidSyntax`, naming the attribute.
    Reject,
    /// Drop the attribute and go on.
    Ignore,
}

/// Identity-provider compatibility settings.
///
/// Loadable from TOML or JSON: every field is optional and missing ones take the
/// [`Policy::compatible`] value; unknown fields are rejected so that a typo does
/// not silently leave a setting at its default.
///
/// ```
/// # use scimitar_schema::{Policy, UnknownAttributes};
/// let policy: Policy = serde_json::from_str(r#"{"unknown_attributes": "reject"}"#).unwrap();
/// assert_eq!(policy.unknown_attributes, UnknownAttributes::Reject);
/// assert!(policy.coerce_string_booleans); // the rest as in Policy::compatible()
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Accept the strings `"True"`/`"False"` (any case) where a boolean is
    /// expected, and store them as booleans. Entra ID sends
    /// `{"op":"Replace","path":"active","value":"False"}` in its default PATCH mode.
    pub coerce_string_booleans: bool,

    /// Attributes that no schema of the resource type defines, including data under
    /// an extension URN the resource type does not have. Strict rejects them
    /// (`invalidSyntax`, naming the attribute); compatible drops them, because
    /// Entra ID sends custom extension data (`urn:...:CustomExtensionName:2.0:User`)
    /// when an admin maps attributes the server has no schema for.
    pub unknown_attributes: UnknownAttributes,

    /// Drop read-only attributes a client sends on create and replace (`id`, `meta`,
    /// `groups`, `manager.displayName`) instead of failing with `mutability`.
    /// RFC 7644 §3.3 and §3.5.1 say such values SHALL be ignored, so both presets
    /// set it; Entra ID sends `meta` on create and Okta sends `id`, `groups` and
    /// `meta` in its PUT. Turn it off only to debug a client.
    pub ignore_read_only_on_write: bool,

    /// Accept schema URNs in `schemas` that the resource type does not have, and
    /// drop them. Entra ID's documented group create lists
    /// `http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group`.
    pub ignore_unknown_schema_urns: bool,

    /// When a body carries extension data (a key that is an extension URN) whose
    /// URN is missing from `schemas`, add the URN instead of failing with
    /// `invalidSyntax` (RFC 7643 §3 requires the URN to be listed).
    pub add_missing_extension_schemas: bool,

    /// Accept a single value where a multi-valued attribute expects an array, and
    /// wrap it. Neither Entra ID nor Okta is documented to need it (off in both
    /// presets); some home-grown clients send `"emails": {"value": ...}`.
    pub wrap_single_values: bool,

    /// Reject string values outside an attribute's `canonicalValues`. Off in both
    /// presets: RFC 7643 §2.4 lets service providers accept other values, and the
    /// values an identity provider sends depend on the admin's attribute mappings.
    pub enforce_canonical_values: bool,

    /// PATCH `remove` on `members` with a value list removes only the listed members
    /// (read per RFC 7644 it would remove them all). Entra ID sends
    /// `{"op":"Remove","path":"members","value":[{"value":"<id>"}]}`.
    pub patch_members_remove_value_list: bool,

    /// PATCH `add`/`replace` on a filtered path such as `emails[type eq "work"].value`
    /// that matches no element creates the element (`{"type":"work","value":...}`)
    /// instead of failing with `noTarget`. Entra ID expects it.
    pub patch_create_unmatched_filtered_target: bool,

    /// Accept the enterprise `manager` as a bare id string (Entra ID), as
    /// `{"value": id}`, and clear it with `""` or `null` (Entra ID's validation
    /// workflow) as well as with `remove`.
    pub patch_manager_lenient: bool,

    /// In a path-less `add`/`replace`, treat value keys that are attribute paths
    /// (`name.givenName`, `urn:...:enterprise:2.0:User:department`) as paths, never
    /// as literal keys. Entra ID sends them with the `aadOptscim062020` flag.
    pub patch_pathless_attribute_paths: bool,

    /// `replace` with `""` or `null` clears the attribute instead of storing an
    /// empty string or failing. Entra ID clears values this way.
    pub patch_empty_value_clears: bool,

    /// In a path-less `replace`, ignore read-only attributes in the value instead of
    /// failing with `mutability`. Okta's group rename sends
    /// `{"op":"replace","value":{"id":"<gid>","displayName":"..."}}`.
    pub patch_ignore_read_only_in_value: bool,
}

impl Policy {
    /// Only what RFC 7643 and RFC 7644 allow.
    pub fn strict() -> Self {
        Policy {
            coerce_string_booleans: false,
            unknown_attributes: UnknownAttributes::Reject,
            ignore_read_only_on_write: true,
            ignore_unknown_schema_urns: false,
            add_missing_extension_schemas: false,
            wrap_single_values: false,
            enforce_canonical_values: false,
            patch_members_remove_value_list: false,
            patch_create_unmatched_filtered_target: false,
            patch_manager_lenient: false,
            patch_pathless_attribute_paths: false,
            patch_empty_value_clears: false,
            patch_ignore_read_only_in_value: false,
        }
    }

    /// Everything Entra ID and Okta are documented to send (the default).
    pub fn compatible() -> Self {
        Policy {
            coerce_string_booleans: true,
            unknown_attributes: UnknownAttributes::Ignore,
            ignore_read_only_on_write: true,
            ignore_unknown_schema_urns: true,
            add_missing_extension_schemas: true,
            wrap_single_values: false,
            enforce_canonical_values: false,
            patch_members_remove_value_list: true,
            patch_create_unmatched_filtered_target: true,
            patch_manager_lenient: true,
            patch_pathless_attribute_paths: true,
            patch_empty_value_clears: true,
            patch_ignore_read_only_in_value: true,
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy::compatible()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_compatible_and_differs_from_strict() {
        assert_eq!(Policy::default(), Policy::compatible());
        assert_ne!(Policy::strict(), Policy::compatible());
        assert!(!Policy::strict().coerce_string_booleans);
    }

    #[test]
    fn partial_documents_fill_in_compatible_values() {
        let policy: Policy = serde_json::from_str(r#"{"coerce_string_booleans": false}"#).unwrap();
        assert!(!policy.coerce_string_booleans);
        assert!(policy.patch_manager_lenient);
        let empty: Policy = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, Policy::compatible());
    }

    #[test]
    fn typos_are_rejected() {
        let result: Result<Policy, _> = serde_json::from_str(r#"{"coerce_string_boolean": true}"#);
        assert!(result.unwrap_err().to_string().contains("unknown field"));
    }

    #[test]
    fn round_trips() {
        let mut policy = Policy::strict();
        policy.unknown_attributes = UnknownAttributes::Ignore;
        let text = serde_json::to_string(&policy).unwrap();
        assert_eq!(serde_json::from_str::<Policy>(&text).unwrap(), policy);
        assert!(text.contains(r#""unknown_attributes":"ignore""#));
    }
}
