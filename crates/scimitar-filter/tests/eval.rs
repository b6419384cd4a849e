//! Evaluation of filters against JSON resources.
#![cfg(feature = "json")]

use std::cell::RefCell;

use scimitar_filter::ast::AttrPath;
use scimitar_filter::{matches, parse_filter, AttrType, AttributeHints, NoHints};
use serde_json::{json, Value};

fn user() -> Value {
    json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "701984",
        "userName": "bjensen@example.com",
        "name": {"formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen", "givenName": "Barbara"},
        "displayName": "Babs Jensen",
        "title": "Tour Guide",
        "userType": "Employee",
        "preferredLanguage": "en-US",
        "active": true,
        "loginCount": 42,
        "score": 4.5,
        "nickName": null,
        "profileUrl": "",
        "roles": [],
        "x509Certificates": [{}],
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "ims": [{"value": "someaimhandle", "type": "aim"}],
        "groups": [{"value": "e9e30dba", "display": "Tour Guides"}, {"value": "fc348aa8", "display": "Employees"}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "701984",
            "costCenter": "4130",
            "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}
        },
        "meta": {
            "resourceType": "User",
            "created": "2010-01-23T04:56:22Z",
            "lastModified": "2011-05-13T04:42:34Z"
        }
    })
}

/// `(filter, matches the user)` with no schema hints.
const CASES: &[(&str, bool)] = &[
    // Equality, case-insensitive names and values.
    (r#"userName eq "bjensen@example.com""#, true),
    (r#"USERNAME Eq "BJensen@Example.com""#, true),
    (r#"userName eq "bjensen""#, false),
    (r#"name.familyName eq "jensen""#, true),
    (r#"NAME.FAMILYNAME eq "Jensen""#, true),
    (r#"externalId eq "701984""#, true),
    (r#"externalId eq 701984"#, false),
    // Substrings.
    (r#"name.familyName co "ENS""#, true),
    (r#"userName sw "BJ""#, true),
    (r#"userName ew "@EXAMPLE.COM""#, true),
    (r#"userName sw "example""#, false),
    (r#"userName co """#, true),
    // Ordering on strings and numbers.
    (r#"title gt "Tour""#, true),
    (r#"title lt "tour guide""#, false),
    (r#"title le "tour guide""#, true),
    ("loginCount eq 42", true),
    ("loginCount eq 42.0", true),
    ("loginCount eq 4.2e1", true),
    ("loginCount gt 41.5", true),
    ("loginCount ge 42", true),
    ("loginCount lt 42", false),
    ("score gt 4", true),
    ("score le 4.5", true),
    ("score eq 4.50", true),
    (r#"loginCount eq "42""#, false),
    (r#"loginCount co "4""#, false),
    // Booleans.
    ("active eq true", true),
    ("active eq TRUE", true),
    ("active eq false", false),
    ("active ne false", true),
    ("active gt false", false),
    (r#"active eq "true""#, false),
    // Presence.
    ("title pr", true),
    ("nickName pr", false),
    ("profileUrl pr", false),
    ("roles pr", false),
    ("x509Certificates pr", false),
    ("missing pr", false),
    ("emails pr", true),
    ("emails.value pr", true),
    ("emails.display pr", false),
    ("active pr", true),
    ("loginCount pr", true),
    ("meta pr", true),
    // ne is not eq: absent attributes match, multi-valued need every value unequal.
    (r#"title ne "Tour Guide""#, false),
    (r#"title ne "Manager""#, true),
    (r#"missing ne "x""#, true),
    (r#"emails.type ne "work""#, false),
    (r#"emails.type ne "other""#, true),
    // null.
    ("nickName eq null", true),
    ("profileUrl eq null", true),
    ("missing eq null", true),
    ("title eq null", false),
    ("title ne null", true),
    ("nickName ne null", false),
    ("title gt null", false),
    // Date-times compare as instants.
    (r#"meta.lastModified gt "2011-05-13T04:42:34Z""#, false),
    (r#"meta.lastModified ge "2011-05-13T04:42:34Z""#, true),
    (r#"meta.lastModified lt "2011-05-13T04:42:34.001Z""#, true),
    (r#"meta.lastModified le "2011-05-13T04:42:34Z""#, true),
    (r#"meta.lastModified eq "2011-05-13T06:42:34+02:00""#, true),
    (r#"meta.lastModified eq "2011-05-13T04:42:34.000Z""#, true),
    (r#"meta.lastModified gt "2011-05-13T05:00:00+01:00""#, true),
    (r#"meta.created lt "2011-01-01T00:00:00Z""#, true),
    (r#"meta.lastModified sw "2011-05""#, true),
    (r#"meta.lastModified gt "not a date""#, false),
    // Multi-valued: any value; complex without sub-attribute compares `value`.
    (r#"emails co "example.com""#, true),
    (r#"emails eq "BABS@jensen.org""#, true),
    (r#"emails.value co "example.org""#, false),
    (r#"emails.type eq "home""#, true),
    (r#"groups.display eq "employees""#, true),
    (
        r#"emails.type eq "work" and emails.value ew "jensen.org""#,
        true,
    ),
    // Value paths match within one element.
    (r#"emails[type eq "work" and value ew "jensen.org"]"#, false),
    (r#"emails[type eq "home" and value ew "jensen.org"]"#, true),
    (r#"emails[primary eq true]"#, true),
    (r#"emails[primary eq true and type eq "home"]"#, false),
    (r#"emails[not (primary pr)]"#, true),
    (r#"emails[type eq "work" or value sw "babs"]"#, true),
    (r#"ims[type eq "xmpp"]"#, false),
    (r#"missing[type eq "xmpp"]"#, false),
    (r#"name[familyName eq "Jensen"]"#, true),
    (
        r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
        true,
    ),
    // Schema URNs: extension objects, core URNs, unprefixed extension names.
    (
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
        true,
    ),
    (
        r#"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:EMPLOYEENUMBER eq "701984""#,
        true,
    ),
    (
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d""#,
        true,
    ),
    (
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "26118915-6090-4610-87e4-49d8ca9f808d""#,
        true,
    ),
    (
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter pr"#,
        true,
    ),
    (
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userName pr"#,
        false,
    ),
    (
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "bjensen""#,
        true,
    ),
    (r#"employeeNumber eq "701984""#, true),
    (r#"manager.displayName co "smith""#, true),
    (
        r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
        true,
    ),
    // Logic.
    (r#"title pr and userType eq "Employee""#, true),
    (r#"title pr and userType eq "Intern""#, false),
    (r#"title pr or userType eq "Intern""#, true),
    (r#"missing pr and title pr or active eq true"#, true),
    (r#"missing pr and (title pr or active eq true)"#, false),
    (
        r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
        true,
    ),
    (
        r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        false,
    ),
    (r#"not (userType ne "Employee")"#, true),
    // Type mismatches never match.
    (r#"name eq "Jensen""#, false),
    (r#"active co "t""#, false),
    (r#"emails.primary eq "true""#, false),
];

#[test]
fn evaluation_table() {
    let user = user();
    for &(input, expected) in CASES {
        let filter = parse_filter(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(matches(&filter, &user, &NoHints), expected, "{input}");
        assert_eq!(filter.matches(&user, &NoHints), expected);
    }
}

#[test]
fn non_ascii_strings_fold_case() {
    let resource = json!({"displayName": "ÉMILIE Ångström"});
    for input in [
        r#"displayName eq "émilie ångström""#,
        r#"displayName co "ÅNGS""#,
        r#"displayName sw "émi""#,
    ] {
        assert!(
            matches(&parse_filter(input).unwrap(), &resource, &NoHints),
            "{input}"
        );
    }
}

#[test]
fn a_non_object_resource_matches_only_negations() {
    let filter = parse_filter("title pr").unwrap();
    assert!(!matches(&filter, &json!("title"), &NoHints));
    assert!(matches(
        &parse_filter("title eq null").unwrap(),
        &json!([]),
        &NoHints
    ));
}

/// Hints that record what they were asked.
#[derive(Default)]
struct Recording {
    asked: RefCell<Vec<String>>,
}

impl AttributeHints for Recording {
    fn case_exact(&self, path: &AttrPath) -> bool {
        self.asked.borrow_mut().push(path.to_string());
        path.matches("id", None) || path.matches("emails", Some("type"))
    }

    fn attr_type(&self, path: &AttrPath) -> Option<AttrType> {
        if path.matches("title", None) {
            Some(AttrType::String)
        } else {
            None
        }
    }
}

#[test]
fn case_exact_hint_makes_strings_case_sensitive() {
    let user = user();
    let hints = Recording::default();
    let check = |input: &str| matches(&parse_filter(input).unwrap(), &user, &hints);
    assert!(check(r#"id eq "2819c223-7f76-453a-919d-413861904646""#));
    assert!(!check(r#"id eq "2819C223-7F76-453A-919D-413861904646""#));
    assert!(!check(r#"emails[type eq "WORK"]"#));
    assert!(check(r#"emails[type eq "work"]"#));
    assert!(check(r#"emails[value eq "BJENSEN@example.com"]"#));
}

#[test]
fn hints_are_asked_with_full_paths() {
    let user = user();
    let hints = Recording::default();
    let filter = parse_filter(
        r#"ims[type eq "x"] or emails co "zz" or name.givenName eq "b" or urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "x""#,
    )
    .unwrap();
    assert!(!matches(&filter, &user, &hints));
    assert_eq!(
        *hints.asked.borrow(),
        [
            "ims.type",
            "emails.value",
            "name.givenName",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
        ]
    );
}

#[test]
fn declared_types_decide_date_time_comparison() {
    let resource =
        json!({"title": "2011-05-13T04:42:34Z", "meta": {"lastModified": "2011-05-13T04:42:34Z"}});
    let hints = Recording::default();
    // `title` is declared a string: compared as text, not as an instant.
    let as_text = parse_filter(r#"title eq "2011-05-13T06:42:34+02:00""#).unwrap();
    assert!(!matches(&as_text, &resource, &hints));
    assert!(matches(&as_text, &resource, &NoHints));
    let instant = parse_filter(r#"meta.lastModified eq "2011-05-13T06:42:34+02:00""#).unwrap();
    assert!(matches(&instant, &resource, &hints));
}

#[test]
fn hints_work_through_references_and_trait_objects() {
    let user = user();
    let filter = parse_filter(r#"id eq "2819C223-7F76-453A-919D-413861904646""#).unwrap();
    let hints = Recording::default();
    let as_dyn: &dyn AttributeHints = &hints;
    assert!(!matches(&filter, &user, as_dyn));
    assert!(!matches(&filter, &user, &&hints));
}
