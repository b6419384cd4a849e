//! The attributes a store owns: `id` and `meta`, and the helpers every store uses to
//! produce them the same way.
//!
//! Keeping these in one place means the in-memory store and the SQL stores agree on
//! the spelling of versions, the precision of timestamps and case folding, so the
//! contract kit can hold all of them to the same answers.

use std::borrow::Cow;

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::OffsetDateTime;

/// A new resource id: a UUID v7 (time-ordered, so SQL indexes stay compact), hyphenated.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The current time, truncated to whole milliseconds.
///
/// Truncation makes the formatted `meta.created` / `meta.lastModified` round-trip
/// exactly through every database (PostgreSQL keeps microseconds, SQLite text keeps
/// what it is given), so a filter on a timestamp a client read back matches.
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    let millis = now.millisecond();
    // Infallible: a millisecond count is always a valid nanosecond field.
    now.replace_millisecond(millis).unwrap_or(now)
}

/// Formats a timestamp as RFC 3339 in UTC with exactly three fractional digits,
/// e.g. `2024-05-01T12:00:00.120Z`.
///
/// The fixed width makes the text sort like the instant, so a store that keeps
/// timestamps as text can compare and order them as strings.
pub fn format_timestamp(at: OffsetDateTime) -> String {
    let utc = at.to_offset(time::UtcOffset::UTC);
    // Formatting a UTC date with a four-digit year cannot fail; fall back to the
    // `Display` form rather than panicking on the impossible.
    utc.format(TIMESTAMP).unwrap_or_else(|_| utc.to_string())
}

const TIMESTAMP: &[BorrowedFormatItem<'_>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// Parses an RFC 3339 timestamp.
pub fn parse_timestamp(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// Reads a date-time attribute value as the filter evaluator compares it (rule 11),
/// so that sorting agrees with filtering: RFC 3339, with `t` or a space between
/// date and time, and a missing offset read as UTC (as `xsd:dateTime` allows).
pub fn parse_instant(text: &str) -> Option<OffsetDateTime> {
    let with_t = match (text.get(..10), text.as_bytes().get(10), text.get(11..)) {
        (Some(date), Some(b' '), Some(time)) => Cow::Owned(format!("{date}T{time}")),
        _ => Cow::Borrowed(text),
    };
    parse_timestamp(&with_t).or_else(|| parse_timestamp(&format!("{with_t}Z")))
}

/// The weak ETag for a resource's `n`-th version: `W/"n"`.
///
/// Stores count writes per resource (1 on create) and spell the count this way.
pub fn version_tag(n: u64) -> String {
    format!("W/\"{n}\"")
}

/// Whether an `If-Match` value (`expected`) matches the current version.
///
/// `*` matches any version. Otherwise the two entity tags are compared by their
/// opaque part, ignoring the weak `W/` prefix on either side (RFC 9110 §8.8.3.2 weak
/// comparison): SCIM versions are weak, and clients echo them in either form.
pub fn version_matches(expected: &str, current: &str) -> bool {
    let expected = expected.trim();
    expected == "*" || opaque_tag(expected) == opaque_tag(current)
}

fn opaque_tag(tag: &str) -> &str {
    let tag = tag.trim();
    tag.strip_prefix("W/").unwrap_or(tag)
}

/// Case folding for attributes compared case-insensitively (`userName` uniqueness,
/// case-insensitive sorting): Unicode lowercase, so `ÉMILE` and `émile` collide.
///
/// SQL stores should store this folded form in an indexed column rather than rely
/// on the database's `lower()` (SQLite's only folds ASCII).
pub fn fold_case(text: &str) -> String {
    text.to_lowercase()
}

/// The `meta` object of a resource.
///
/// `location` is left to the HTTP layer, which knows the base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceMeta {
    /// `meta.resourceType`, e.g. `User`.
    pub resource_type: String,
    /// `meta.created`.
    pub created: OffsetDateTime,
    /// `meta.lastModified`.
    pub last_modified: OffsetDateTime,
    /// `meta.version`, a weak ETag such as `W/"3"`.
    pub version: String,
}

impl ResourceMeta {
    /// The JSON form: `{"resourceType", "created", "lastModified", "version"}`.
    pub fn to_json(&self) -> Value {
        let mut meta = Map::new();
        meta.insert("resourceType".into(), self.resource_type.clone().into());
        meta.insert("created".into(), format_timestamp(self.created).into());
        meta.insert(
            "lastModified".into(),
            format_timestamp(self.last_modified).into(),
        );
        meta.insert("version".into(), self.version.clone().into());
        Value::Object(meta)
    }
}

/// Sets the store-owned attributes on `resource`: `id` and `meta` replace whatever
/// the client sent (both are read-only in RFC 7643). `id` is placed first so
/// responses read naturally. Non-object values are returned unchanged.
pub fn stamp(resource: Value, id: &str, meta: &ResourceMeta) -> Value {
    let Value::Object(fields) = resource else {
        return resource;
    };
    let mut stamped = Map::with_capacity(fields.len() + 2);
    // `schemas` conventionally leads; keep it there, then `id`.
    if let Some(schemas) = fields.get("schemas") {
        stamped.insert("schemas".into(), schemas.clone());
    }
    stamped.insert("id".into(), id.into());
    for (name, value) in fields {
        if !is_store_owned(&name) && name != "schemas" {
            stamped.insert(name, value);
        }
    }
    stamped.insert("meta".into(), meta.to_json());
    Value::Object(stamped)
}

/// Removes the store-owned attributes (`id`, `meta`) from a client's input, so that
/// comparing inputs, or storing them, never involves values the store owns.
pub fn strip_store_owned(resource: &mut Value) {
    if let Value::Object(fields) = resource {
        fields.retain(|name, _| !is_store_owned(name));
    }
}

pub(crate) fn is_store_owned(name: &str) -> bool {
    name.eq_ignore_ascii_case("id") || name.eq_ignore_ascii_case("meta")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn versions_compare_weakly_and_star_matches_all() {
        assert!(version_matches("W/\"3\"", "W/\"3\""));
        assert!(version_matches("\"3\"", "W/\"3\""));
        assert!(version_matches("*", "W/\"9\""));
        assert!(!version_matches("W/\"2\"", "W/\"3\""));
        assert_eq!(version_tag(7), "W/\"7\"");
    }

    #[test]
    fn timestamps_round_trip_at_millisecond_precision() {
        let at = now();
        assert_eq!(at.nanosecond() % 1_000_000, 0);
        let text = format_timestamp(at);
        assert!(text.ends_with('Z') && text.len() == 24, "{text}");
        assert_eq!(parse_timestamp(&text), Some(at));
    }

    #[test]
    fn instants_read_as_the_filter_evaluator_reads_them() {
        let utc = parse_timestamp("2026-01-01T00:00:00Z");
        assert!(utc.is_some());
        for text in [
            "2026-01-01T00:00:00Z",
            "2026-01-01t00:00:00z",
            "2026-01-01 00:00:00Z",
            "2026-01-01T00:00:00",
            "2026-01-01T01:00:00+01:00",
        ] {
            assert_eq!(parse_instant(text), utc, "{text}");
        }
        for text in [
            "2026-01-01",
            "2026-02-30T00:00:00Z",
            "now",
            "",
            "2026-01-01T00:00:00+01",
        ] {
            assert_eq!(parse_instant(text), None, "{text}");
        }
    }

    #[test]
    fn stamp_replaces_client_id_and_meta() {
        let meta = ResourceMeta {
            resource_type: "User".into(),
            created: OffsetDateTime::UNIX_EPOCH,
            last_modified: OffsetDateTime::UNIX_EPOCH,
            version: version_tag(1),
        };
        let input = json!({"userName": "a", "ID": "client", "meta": {"resourceType": "X"},
                           "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]});
        let stamped = stamp(input, "abc", &meta);
        let keys: Vec<&str> = stamped
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(keys, ["schemas", "id", "userName", "meta"]);
        assert_eq!(stamped["id"], "abc");
        assert_eq!(stamped["meta"]["resourceType"], "User");
        assert_eq!(stamped["meta"]["created"], "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn fold_case_is_unicode_aware() {
        assert_eq!(fold_case("ÉMILE@Example.COM"), "émile@example.com");
    }
}
