//! Every filter example of RFC 7644 §3.4.2.2 and every path example of §3.5.2 parses to
//! the expected tree and prints back canonically.

use scimitar_filter::ast::{AttrPath, CompValue, CompareOp, Filter, PatchPath};
use scimitar_filter::{parse_filter, parse_path};

const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn path(text: &str) -> AttrPath {
    match text.split_once('.') {
        Some((name, sub)) => AttrPath::new(name).with_sub_attr(sub),
        None => AttrPath::new(text),
    }
}

fn cmp(attr: &str, op: CompareOp, value: &str) -> Filter {
    Filter::Compare {
        path: path(attr),
        op,
        value: CompValue::String(value.to_owned()),
    }
}

fn pr(attr: &str) -> Filter {
    Filter::Present(path(attr))
}

/// Parses `input`, checks the tree, and checks that the canonical text parses back.
fn check(input: &str, expected: Filter) {
    let parsed = parse_filter(input).unwrap_or_else(|e| panic!("{input}: {e}"));
    assert_eq!(parsed, expected, "{input}");
    let printed = parsed.to_string();
    assert_eq!(parse_filter(&printed).unwrap(), expected, "{printed}");
}

#[test]
fn attribute_names_and_operators_are_case_insensitive() {
    check(
        r#"userName Eq "john""#,
        cmp("userName", CompareOp::Eq, "john"),
    );
    check(
        r#"Username eq "john""#,
        cmp("Username", CompareOp::Eq, "john"),
    );
}

#[test]
fn simple_comparisons() {
    use CompareOp::*;
    check(r#"userName eq "bjensen""#, cmp("userName", Eq, "bjensen"));
    check(
        r#"name.familyName co "O'Malley""#,
        cmp("name.familyName", Co, "O'Malley"),
    );
    check(r#"userName sw "J""#, cmp("userName", Sw, "J"));
    check(
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
        Filter::Compare {
            path: AttrPath::new("userName")
                .with_schema("urn:ietf:params:scim:schemas:core:2.0:User"),
            op: Sw,
            value: CompValue::String("J".into()),
        },
    );
    check("title pr", pr("title"));
    let instant = "2011-05-13T04:42:34Z";
    check(
        r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
        cmp("meta.lastModified", Gt, instant),
    );
    check(
        r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
        cmp("meta.lastModified", Ge, instant),
    );
    check(
        r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
        cmp("meta.lastModified", Lt, instant),
    );
    check(
        r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
        cmp("meta.lastModified", Le, instant),
    );
    check(
        r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
        cmp("schemas", Eq, ENTERPRISE_USER),
    );
}

#[test]
fn logical_expressions() {
    use CompareOp::*;
    check(
        r#"title pr and userType eq "Employee""#,
        Filter::And(vec![pr("title"), cmp("userType", Eq, "Employee")]),
    );
    check(
        r#"title pr or userType eq "Intern""#,
        Filter::Or(vec![pr("title"), cmp("userType", Eq, "Intern")]),
    );
    check(
        r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
        Filter::And(vec![
            cmp("userType", Eq, "Employee"),
            Filter::Or(vec![
                cmp("emails", Co, "example.com"),
                cmp("emails.value", Co, "example.org"),
            ]),
        ]),
    );
    check(
        r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        Filter::And(vec![
            cmp("userType", Ne, "Employee"),
            Filter::Not(Box::new(Filter::Or(vec![
                cmp("emails", Co, "example.com"),
                cmp("emails.value", Co, "example.org"),
            ]))),
        ]),
    );
    // A group around a single term adds no node.
    check(
        r#"userType eq "Employee" and (emails.type eq "work")"#,
        Filter::And(vec![
            cmp("userType", Eq, "Employee"),
            cmp("emails.type", Eq, "work"),
        ]),
    );
}

#[test]
fn value_paths() {
    use CompareOp::*;
    check(
        r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
        Filter::And(vec![
            cmp("userType", Eq, "Employee"),
            Filter::ValuePath {
                path: path("emails"),
                filter: Box::new(Filter::And(vec![
                    cmp("type", Eq, "work"),
                    cmp("value", Co, "@example.com"),
                ])),
            },
        ]),
    );
    check(
        r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
        Filter::Or(vec![
            Filter::ValuePath {
                path: path("emails"),
                filter: Box::new(Filter::And(vec![
                    cmp("type", Eq, "work"),
                    cmp("value", Co, "@example.com"),
                ])),
            },
            Filter::ValuePath {
                path: path("ims"),
                filter: Box::new(Filter::And(vec![
                    cmp("type", Eq, "xmpp"),
                    cmp("value", Co, "@foo.com"),
                ])),
            },
        ]),
    );
}

#[test]
fn precedence_and_binds_tighter_than_or() {
    use CompareOp::*;
    let a = || Filter::Compare {
        path: path("a"),
        op: Eq,
        value: CompValue::Number(1.into()),
    };
    let b = || Filter::Compare {
        path: path("b"),
        op: Eq,
        value: CompValue::Number(2.into()),
    };
    let c = || Filter::Compare {
        path: path("c"),
        op: Eq,
        value: CompValue::Number(3.into()),
    };
    check(
        "a eq 1 and b eq 2 or c eq 3",
        Filter::Or(vec![Filter::And(vec![a(), b()]), c()]),
    );
    check(
        "a eq 1 or b eq 2 and c eq 3",
        Filter::Or(vec![a(), Filter::And(vec![b(), c()])]),
    );
    check(
        "a eq 1 and b eq 2 and c eq 3",
        Filter::And(vec![a(), b(), c()]),
    );
    check(
        "(a eq 1 and b eq 2) and c eq 3",
        Filter::And(vec![Filter::And(vec![a(), b()]), c()]),
    );
    check(
        "a eq 1 and (b eq 2 or c eq 3)",
        Filter::And(vec![a(), Filter::Or(vec![b(), c()])]),
    );
}

fn value_path(attr: &str, filter: Filter, sub_attr: Option<&str>) -> PatchPath {
    PatchPath::Value {
        path: path(attr),
        filter,
        sub_attr: sub_attr.map(str::to_owned),
    }
}

#[test]
fn patch_paths() {
    use CompareOp::*;
    let member = "2819c223-7f76-453a-919d-413861904646";
    let cases = [
        ("members", PatchPath::Attr(path("members"))),
        ("name.familyName", PatchPath::Attr(path("name.familyName"))),
        (
            r#"addresses[type eq "work"]"#,
            value_path("addresses", cmp("type", Eq, "work"), None),
        ),
        (
            r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#,
            value_path("members", cmp("value", Eq, member), None),
        ),
        (
            r#"members[value eq "2819c223-7f76-453a-919d-413861904646"].displayName"#,
            value_path("members", cmp("value", Eq, member), Some("displayName")),
        ),
        (
            r#"emails[type eq "work" and value ew "example.com"]"#,
            value_path(
                "emails",
                Filter::And(vec![
                    cmp("type", Eq, "work"),
                    cmp("value", Ew, "example.com"),
                ]),
                None,
            ),
        ),
        (
            r#"addresses[type eq "work"].streetAddress"#,
            value_path("addresses", cmp("type", Eq, "work"), Some("streetAddress")),
        ),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            PatchPath::Attr(AttrPath::new("manager").with_schema(ENTERPRISE_USER)),
        ),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
            PatchPath::Attr(
                AttrPath::new("manager")
                    .with_schema(ENTERPRISE_USER)
                    .with_sub_attr("value"),
            ),
        ),
        ("members.$ref", PatchPath::Attr(path("members.$ref"))),
    ];
    for (input, expected) in cases {
        let parsed = parse_path(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(parsed, expected, "{input}");
        assert_eq!(parsed.to_string(), input);
    }
}
