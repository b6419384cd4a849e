//! Invalid input: the error's position, what was expected, the message and the SCIM type.

use scimitar_filter::{
    parse_attr_list, parse_attr_path, parse_filter, parse_path, ErrorKind, ErrorReason, Expected,
    ParseError,
};

fn filter_error(input: &str) -> ParseError {
    match parse_filter(input) {
        Ok(filter) => panic!("{input:?} parsed as {filter:?}"),
        Err(err) => err,
    }
}

/// `(input, position, expected)` for filters that stop at an unexpected token.
const UNEXPECTED_IN_FILTERS: &[(&str, usize, Expected)] = &[
    ("", 0, Expected::Filter),
    ("   ", 3, Expected::Filter),
    ("userName", 8, Expected::CompareOp),
    ("userName equals \"bjensen\"", 9, Expected::CompareOp),
    ("userName = \"bjensen\"", 9, Expected::CompareOp),
    ("userName==\"bjensen\"", 8, Expected::CompareOp),
    ("a prx", 2, Expected::CompareOp),
    ("a.b.c pr", 3, Expected::CompareOp),
    ("name.given/Name pr", 10, Expected::CompareOp),
    ("not a pr", 4, Expected::CompareOp),
    ("userName eq", 11, Expected::Value),
    ("userName eq bjensen", 12, Expected::Value),
    ("a eq nil", 5, Expected::Value),
    ("a eq 'x'", 5, Expected::Value),
    ("userName eq \"bjensen", 20, Expected::ClosingQuote),
    ("a eq \"x\\", 8, Expected::ClosingQuote),
    ("a eq \"\\u12G4\"", 8, Expected::HexDigits),
    ("a eq \"\\u12", 8, Expected::HexDigits),
    ("a eq 1 b pr", 7, Expected::LogicalOpOrEnd),
    ("a pr)", 4, Expected::LogicalOpOrEnd),
    ("a pr andb pr", 5, Expected::LogicalOpOrEnd),
    ("a pr && b pr", 5, Expected::LogicalOpOrEnd),
    (
        "emails[type eq \"work\"].value eq 1",
        22,
        Expected::LogicalOpOrEnd,
    ),
    ("(a pr", 5, Expected::LogicalOpOrCloseParen),
    ("not (a pr", 9, Expected::LogicalOpOrCloseParen),
    (
        "emails[type eq \"w\"",
        18,
        Expected::LogicalOpOrCloseBracket,
    ),
    ("a pr and", 8, Expected::Filter),
    ("a pr or ", 8, Expected::Filter),
    ("a pr and )", 9, Expected::Filter),
    ("1a pr", 0, Expected::Filter),
    (":a pr", 0, Expected::Filter),
    ("() ", 1, Expected::Filter),
    ("urn:x:User: pr", 11, Expected::AttrName),
    ("urn:x:User:1a pr", 11, Expected::AttrName),
];

#[test]
fn unexpected_tokens_are_reported_where_they_start() {
    for &(input, position, expected) in UNEXPECTED_IN_FILTERS {
        let err = filter_error(input);
        assert_eq!(
            (err.position(), err.expected()),
            (position, Some(expected)),
            "{input:?}: {err}"
        );
        assert_eq!(err.kind(), ErrorKind::Filter);
        assert_eq!(err.scim_type(), "invalidFilter");
        assert!(!err.is_limit());
    }
}

#[test]
fn other_reasons() {
    let cases: &[(&str, usize, ErrorReason)] = &[
        (
            "a eq 01",
            5,
            ErrorReason::InvalidNumber { text: "01".into() },
        ),
        (
            "a eq 1.",
            5,
            ErrorReason::InvalidNumber { text: "1.".into() },
        ),
        ("a eq -", 5, ErrorReason::InvalidNumber { text: "-".into() }),
        (
            "a eq 1e",
            5,
            ErrorReason::InvalidNumber { text: "1e".into() },
        ),
        (
            "a eq +1",
            5,
            ErrorReason::Unexpected {
                expected: Expected::Value,
                found: Some("+1".into()),
            },
        ),
        (
            "a eq 1and b pr",
            5,
            ErrorReason::InvalidNumber {
                text: "1and".into(),
            },
        ),
        (
            "a eq \"jo\\qhn\"",
            8,
            ErrorReason::InvalidEscape {
                found: "\\q".into(),
            },
        ),
        (
            "a eq \"\\x41\"",
            6,
            ErrorReason::InvalidEscape {
                found: "\\x".into(),
            },
        ),
        ("a eq \"\\ud800\"", 6, ErrorReason::LoneSurrogate),
        ("a eq \"\\ud800\\u0041\"", 6, ErrorReason::LoneSurrogate),
        ("a eq \"\\ud800\\n\"", 6, ErrorReason::LoneSurrogate),
        ("a eq \"x\\udc00\"", 7, ErrorReason::LoneSurrogate),
        (
            "a eq \"tab\there\"",
            9,
            ErrorReason::ControlCharacter { code: 9 },
        ),
        (
            "a eq \"line\nbreak\"",
            10,
            ErrorReason::ControlCharacter { code: 10 },
        ),
        ("emails[type[x pr]]", 11, ErrorReason::NestedValuePath),
        (
            "emails[(x pr or y[z pr])]",
            17,
            ErrorReason::NestedValuePath,
        ),
        (
            "emails.value[x pr]",
            12,
            ErrorReason::SubAttrBeforeValueFilter,
        ),
    ];
    for (input, position, reason) in cases {
        let err = filter_error(input);
        assert_eq!(
            (err.position(), err.reason()),
            (*position, reason),
            "{input:?}: {err}"
        );
    }
}

#[test]
fn messages_read_well() {
    let cases = [
        (
            r#"userName equals "bjensen""#,
            r#"invalid filter at position 9: expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le) or "pr", found "equals""#,
        ),
        (
            "userName eq bjensen",
            r#"invalid filter at position 12: expected a value (a "double-quoted" string, a number, true, false or null), found "bjensen""#,
        ),
        (
            r#"userName eq "bjensen"#,
            "invalid filter at position 20: expected a closing double quote, found end of input",
        ),
        ("a eq 1 b pr", r#"invalid filter at position 7: expected "and", "or" or the end of the filter, found "b""#),
        ("(a pr", r#"invalid filter at position 5: expected "and", "or" or ")", found end of input"#),
        ("a eq 01", "invalid filter at position 5: invalid number \"01\" (write numbers as in JSON, e.g. 42, -1.5 or 1e3)"),
        ("a eq \"\\ud800\"", "invalid filter at position 6: unpaired UTF-16 surrogate escape in string"),
        (
            "emails[type[x pr]]",
            "invalid filter at position 11: a value filter cannot contain another value path",
        ),
    ];
    for (input, message) in cases {
        assert_eq!(filter_error(input).to_string(), message, "{input:?}");
    }
}

#[test]
fn found_tokens_are_cut_short() {
    let long_word = "x".repeat(1000);
    let err = filter_error(&format!("a eq {long_word}"));
    assert_eq!(
        err.reason(),
        &ErrorReason::Unexpected {
            expected: Expected::Value,
            found: Some("x".repeat(32))
        }
    );
}

#[test]
fn paths() {
    let cases: &[(&str, usize, Option<Expected>)] = &[
        ("", 0, Some(Expected::AttrPath)),
        ("a b", 2, Some(Expected::EndOfAttrPath)),
        ("a.b.c", 3, Some(Expected::EndOfAttrPath)),
        (
            "emails[type eq \"work\"]x",
            22,
            Some(Expected::SubAttrOrEnd),
        ),
        (
            "emails[type eq \"work\"] .value",
            23,
            Some(Expected::EndOfAttrPath),
        ),
        ("emails[type eq \"work\"].", 23, Some(Expected::SubAttrName)),
        (
            "emails[type eq \"work\"].value.x",
            28,
            Some(Expected::EndOfAttrPath),
        ),
        (
            "emails[type eq \"work\"",
            21,
            Some(Expected::LogicalOpOrCloseBracket),
        ),
        ("emails[]", 7, Some(Expected::Filter)),
        ("emails[type[value pr]]", 11, None),
    ];
    for &(input, position, expected) in cases {
        let err = parse_path(input).unwrap_err();
        assert_eq!(
            (err.position(), err.expected()),
            (position, expected),
            "{input:?}: {err}"
        );
        assert_eq!(err.kind(), ErrorKind::Path);
        assert_eq!(err.scim_type(), "invalidPath");
        assert!(err.to_string().starts_with("invalid path at position "));
    }
}

#[test]
fn attribute_paths_and_lists() {
    let err = parse_attr_path("name familyName").unwrap_err();
    assert_eq!(
        (err.position(), err.expected()),
        (5, Some(Expected::EndOfAttrPath))
    );
    assert_eq!(
        (err.kind(), err.scim_type()),
        (ErrorKind::AttrPath, "invalidValue")
    );
    assert!(parse_attr_path("").is_err());

    let cases: &[(&str, usize, Expected)] = &[
        ("a,", 2, Expected::AttrPath),
        (",a", 0, Expected::AttrPath),
        ("a,,b", 2, Expected::AttrPath),
        ("a b", 2, Expected::CommaOrEnd),
        ("a;b", 1, Expected::CommaOrEnd),
    ];
    for &(input, position, expected) in cases {
        let err = parse_attr_list(input).unwrap_err();
        assert_eq!(
            (err.position(), err.expected()),
            (position, Some(expected)),
            "{input:?}: {err}"
        );
        assert_eq!(
            (err.kind(), err.scim_type()),
            (ErrorKind::AttrList, "invalidValue")
        );
    }
}

#[test]
fn caret_points_at_the_error() {
    let input = r#"userName equals "bjensen""#;
    assert_eq!(
        filter_error(input).caret(input),
        "userName equals \"bjensen\"\n         ^"
    );

    // Columns count characters, not bytes; control characters become spaces.
    let input = "displayName eq \"Zoë\"\tand x";
    assert_eq!(
        filter_error(input).caret(input),
        "displayName eq \"Zoë\" and x\n                          ^"
    );

    // Long input is shown as a window around the position.
    let input = format!("{} pr and", "a".repeat(200));
    let caret = filter_error(&input).caret(&input);
    let (line, marker) = caret.split_once('\n').unwrap();
    assert!(line.starts_with('…') && line.ends_with(" pr and"), "{line}");
    assert_eq!(marker.chars().count(), line.chars().count() + 1);
}
