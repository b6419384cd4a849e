//! What the grammar accepts beyond the RFC examples, and the canonical text it prints.

use scimitar_filter::ast::{AttrPath, CompValue, CompareOp, Filter, Number, PatchPath};
use scimitar_filter::{parse_attr_list, parse_attr_path, parse_filter, parse_path};

const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn value_of(input: &str) -> CompValue {
    match parse_filter(input).unwrap_or_else(|e| panic!("{input}: {e}")) {
        Filter::Compare { value, .. } => value,
        other => panic!("{input}: not a comparison: {other:?}"),
    }
}

fn canonical(input: &str) -> String {
    parse_filter(input)
        .unwrap_or_else(|e| panic!("{input}: {e}"))
        .to_string()
}

#[test]
fn whitespace_is_flexible_between_tokens() {
    for input in ["  a   eq\t1  ", "a eq 1\r\n", "\ta\teq\t1"] {
        assert_eq!(canonical(input), "a eq 1", "{input:?}");
    }
    assert_eq!(canonical("( a pr )and( b pr )"), "a pr and b pr");
    assert_eq!(canonical("a eq \"x\"or b pr"), "a eq \"x\" or b pr");
    assert_eq!(canonical("not(a pr)"), "not (a pr)");
    assert_eq!(canonical("NOT   ( a pr )"), "not (a pr)");
    assert_eq!(
        canonical("emails[ type eq \"work\" ]"),
        "emails[type eq \"work\"]"
    );
    assert_eq!(
        canonical("emails [type eq \"work\"]"),
        "emails[type eq \"work\"]"
    );
}

#[test]
fn whitespace_is_required_between_words() {
    assert!(parse_filter("titlepr").is_err());
    assert!(parse_filter("a eq 1and b pr").is_err());
    assert!(parse_filter("a pr andb pr").is_err());
    assert!(parse_filter("a pr andnot (b pr)").is_err());
}

#[test]
fn keywords_are_case_insensitive() {
    assert_eq!(
        canonical("a EQ TRUE AnD b Pr oR NoT (c Ne NULL) or d eq False"),
        "a eq true and b pr or not (c ne null) or d eq false"
    );
    for op in ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"] {
        let upper = op.to_uppercase();
        assert_eq!(canonical(&format!("a {upper} 1")), format!("a {op} 1"));
    }
}

#[test]
fn keywords_are_attribute_names_where_an_attribute_is_expected() {
    assert_eq!(
        parse_filter("not pr").unwrap(),
        Filter::Present(AttrPath::new("not"))
    );
    assert_eq!(
        parse_filter("and eq 1 and or pr").unwrap(),
        Filter::And(vec![
            Filter::Compare {
                path: AttrPath::new("and"),
                op: CompareOp::Eq,
                value: CompValue::Number(1.into())
            },
            Filter::Present(AttrPath::new("or")),
        ])
    );
}

#[test]
fn literals() {
    assert_eq!(value_of("a eq true"), CompValue::Bool(true));
    assert_eq!(value_of("a eq False"), CompValue::Bool(false));
    assert_eq!(value_of("a eq NULL"), CompValue::Null);
    for number in [
        "0",
        "-0",
        "42",
        "-1.5",
        "1e3",
        "1E+3",
        "2.5e-10",
        "123456789012345678901234567890",
    ] {
        assert_eq!(
            value_of(&format!("a eq {number}")),
            CompValue::Number(Number::parse(number).unwrap()),
            "{number}"
        );
        assert_eq!(
            canonical(&format!("a gt {number}")),
            format!("a gt {number}")
        );
    }
}

#[test]
fn strings_use_every_json_escape() {
    let cases = [
        (r#""""#, ""),
        (r#""plain""#, "plain"),
        (r#""O'Malley""#, "O'Malley"),
        (r#""a\"b""#, "a\"b"),
        (r#""back\\slash""#, "back\\slash"),
        (r#""a\/b""#, "a/b"),
        (r#""\b\f\n\r\t""#, "\u{8}\u{c}\n\r\t"),
        (r#""\u0041\u00e9\u20AC""#, "Aé€"),
        (r#""\ud83d\ude00""#, "😀"),
        (r#""\uD834\uDD1E clef""#, "𝄞 clef"),
        (r#""\u0000""#, "\0"),
        (r#""Zoë 日本""#, "Zoë 日本"),
    ];
    for (literal, text) in cases {
        assert_eq!(
            value_of(&format!("a eq {literal}")),
            CompValue::String(text.into()),
            "{literal}"
        );
    }
}

#[test]
fn strings_print_as_json() {
    let tree = Filter::Compare {
        path: AttrPath::new("a"),
        op: CompareOp::Eq,
        value: CompValue::String("q\"b\\s/\u{8}\u{c}\n\r\t\u{1}é😀".into()),
    };
    let text = tree.to_string();
    assert_eq!(text, r#"a eq "q\"b\\s/\b\f\n\r\t\u0001é😀""#);
    assert_eq!(parse_filter(&text).unwrap(), tree);
}

#[test]
fn schema_urns_end_at_the_last_colon() {
    let path = parse_attr_path(
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
    )
    .unwrap();
    assert_eq!(
        path,
        AttrPath::new("employeeNumber").with_schema(ENTERPRISE_USER)
    );
    assert_eq!(
        parse_attr_path("urn:example:custom-1.0:User:x_y-z.sub").unwrap(),
        AttrPath::new("x_y-z")
            .with_schema("urn:example:custom-1.0:User")
            .with_sub_attr("sub")
    );
    // A path that is only a schema URN splits at its last colon; consumers that accept
    // whole-extension paths recognise `schema:name` as a registered URN.
    assert_eq!(
        parse_path(ENTERPRISE_USER).unwrap(),
        PatchPath::Attr(
            AttrPath::new("User")
                .with_schema("urn:ietf:params:scim:schemas:extension:enterprise:2.0")
        )
    );
    assert_eq!(
        canonical(&format!(
            "{ENTERPRISE_USER}:manager.value eq \"26118915-6090-4610-87e4-49d8ca9f808d\""
        )),
        format!("{ENTERPRISE_USER}:manager.value eq \"26118915-6090-4610-87e4-49d8ca9f808d\"")
    );
}

#[test]
fn dollar_ref_is_a_name() {
    assert_eq!(
        parse_attr_path("members.$ref").unwrap(),
        AttrPath::new("members").with_sub_attr("$ref")
    );
    assert_eq!(
        canonical("members[$ref ew \"/Users/1\"]"),
        "members[$ref ew \"/Users/1\"]"
    );
    assert!(parse_attr_path("members.$other").is_err());
}

#[test]
fn value_path_with_urn_and_complex_filter() {
    let input = format!(
        "{ENTERPRISE_USER}:emails[not (type eq \"work\") and (primary eq true or value pr)]"
    );
    let filter = parse_filter(&input).unwrap();
    let Filter::ValuePath {
        path,
        filter: inner,
    } = &filter
    else {
        panic!("{filter:?}")
    };
    assert_eq!(path, &AttrPath::new("emails").with_schema(ENTERPRISE_USER));
    assert!(matches!(&**inner, Filter::And(operands) if operands.len() == 2));
    assert_eq!(filter.to_string(), input);
}

#[test]
fn groups_print_only_where_needed() {
    let cases = [
        ("((a pr))", "a pr"),
        ("(a pr and b pr) or c pr", "a pr and b pr or c pr"),
        ("a pr and (b pr or c pr)", "a pr and (b pr or c pr)"),
        ("(a pr and b pr) and c pr", "(a pr and b pr) and c pr"),
        ("a pr or (b pr or c pr)", "a pr or (b pr or c pr)"),
        ("a pr or (b pr and c pr)", "a pr or b pr and c pr"),
        ("not ((a pr or b pr))", "not (a pr or b pr)"),
    ];
    for (input, expected) in cases {
        assert_eq!(canonical(input), expected, "{input}");
        assert_eq!(canonical(expected), expected);
    }
}

#[test]
fn fully_parenthesised_form_shows_precedence_and_parses_back() {
    let cases = [
        ("a pr", "a pr"),
        ("a pr and b pr or c pr", "((a pr and b pr) or c pr)"),
        (
            "a pr or b pr and not (c pr or d pr)",
            "(a pr or (b pr and not ((c pr or d pr))))",
        ),
        (
            "emails[type pr and value pr] or x pr",
            "(emails[(type pr and value pr)] or x pr)",
        ),
    ];
    for (input, expected) in cases {
        let filter = parse_filter(input).unwrap();
        assert_eq!(filter.to_parenthesized_string(), expected);
        assert_eq!(parse_filter(expected).unwrap(), filter);
    }
}

#[test]
fn attribute_lists() {
    assert_eq!(parse_attr_list("").unwrap(), vec![]);
    assert_eq!(parse_attr_list(" \t").unwrap(), vec![]);
    assert_eq!(
        parse_attr_list(" userName ,name.familyName,\turn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager ").unwrap(),
        vec![
            AttrPath::new("userName"),
            AttrPath::new("name").with_sub_attr("familyName"),
            AttrPath::new("manager").with_schema(ENTERPRISE_USER),
        ]
    );
}

#[test]
fn from_str_matches_the_functions() {
    let filter: Filter = "title pr".parse().unwrap();
    assert_eq!(filter, Filter::Present(AttrPath::new("title")));
    let path: PatchPath = "members".parse().unwrap();
    assert_eq!(path, PatchPath::Attr(AttrPath::new("members")));
    let attr: AttrPath = "name.givenName".parse().unwrap();
    assert_eq!(attr.to_string(), "name.givenName");
    assert!("title".parse::<Filter>().is_err());
}
