//! Hostile input is rejected early and cheaply: no stack overflow, no quadratic time.

use scimitar_filter::{parse_attr_list, parse_filter, ErrorReason, Limits, Parser};

/// Limits that let only the one under test trip.
fn only(limit: impl FnOnce(&mut Limits)) -> Parser {
    let mut limits = Limits {
        max_length: usize::MAX,
        max_depth: usize::MAX,
        max_terms: usize::MAX,
    };
    limit(&mut limits);
    Parser::new(limits)
}

#[test]
fn defaults_are_documented_values() {
    assert_eq!(
        Limits::default(),
        Limits {
            max_length: 65_536,
            max_depth: 32,
            max_terms: 256
        }
    );
}

#[test]
fn a_megabyte_filter_is_too_long() {
    let input = "userName eq \"x\" or ".repeat(55_000) + "title pr";
    assert!(input.len() > 1_000_000);
    let err = parse_filter(&input).unwrap_err();
    assert_eq!(
        err.reason(),
        &ErrorReason::TooLong {
            max: 65_536,
            length: input.len()
        }
    );
    assert!(err.is_limit());
    assert_eq!(err.scim_type(), "invalidFilter");
}

#[test]
fn a_megabyte_filter_parses_when_allowed() {
    // With no limits the parser still handles it, iteratively for the flat `or`.
    let input = "userName eq \"x\" or ".repeat(55_000) + "title pr";
    let filter = only(|_| {}).filter(&input).unwrap();
    assert!(
        matches!(filter, scimitar_filter::ast::Filter::Or(operands) if operands.len() == 55_001)
    );
}

#[test]
fn hundred_thousand_nested_parentheses() {
    let input = "(".repeat(100_000) + "a pr" + &")".repeat(100_000);
    // Too long for the defaults ...
    assert!(matches!(
        parse_filter(&input).unwrap_err().reason(),
        ErrorReason::TooLong { .. }
    ));
    // ... and too deep when length is not limited, found at the 33rd parenthesis.
    let err = only(|l| l.max_depth = 32).filter(&input).unwrap_err();
    assert_eq!(
        (err.position(), err.reason()),
        (32, &ErrorReason::TooDeep { max: 32 })
    );
    // Unclosed groups fail the same way.
    let err = only(|l| l.max_depth = 32)
        .filter(&"(".repeat(100_000))
        .unwrap_err();
    assert_eq!(err.reason(), &ErrorReason::TooDeep { max: 32 });
}

#[test]
fn depth_counts_not_groups_and_value_paths() {
    let parser = only(|l| l.max_depth = 3);
    assert!(parser.filter("not (not (emails[type pr]))").is_ok());
    let err = parser
        .filter("not (not (not (emails[type pr])))")
        .unwrap_err();
    assert_eq!(
        (err.position(), err.reason()),
        (21, &ErrorReason::TooDeep { max: 3 })
    );
    assert!(parser.filter("((a pr)) and ((b pr))").is_ok());
    let nested_not = "not (".repeat(50_000) + "a pr" + &")".repeat(50_000);
    assert!(matches!(
        only(|l| l.max_depth = 32)
            .filter(&nested_not)
            .unwrap_err()
            .reason(),
        ErrorReason::TooDeep { max: 32 }
    ));
    assert!(parser.path("emails[((type pr))]").is_ok());
    assert!(parser.path("emails[(((type pr)))]").is_err());
}

#[test]
fn default_depth_is_enough_for_real_filters() {
    let input = "(".repeat(32) + "a pr" + &")".repeat(32);
    assert!(parse_filter(&input).is_ok());
    let input = "(".repeat(33) + "a pr" + &")".repeat(33);
    assert_eq!(
        parse_filter(&input).unwrap_err().reason(),
        &ErrorReason::TooDeep { max: 32 }
    );
}

#[test]
fn terms_are_counted() {
    let terms = |n: usize| vec!["a pr"; n].join(" or ");
    assert!(parse_filter(&terms(256)).is_ok());
    let err = parse_filter(&terms(257)).unwrap_err();
    assert_eq!(err.reason(), &ErrorReason::TooManyTerms { max: 256 });
    assert_eq!(err.position(), 256 * "a pr or ".len());
    // Terms inside value paths count too.
    let parser = only(|l| l.max_terms = 2);
    assert!(parser.filter("emails[type pr and value pr]").is_ok());
    assert!(parser
        .filter("x pr or emails[type pr and value pr]")
        .is_err());
    // So do the paths of an attribute list.
    assert!(parse_attr_list(&vec!["a"; 256].join(",")).is_ok());
    assert!(parse_attr_list(&vec!["a"; 257].join(",")).is_err());
}

#[test]
fn long_words_and_strings_are_linear() {
    // Each would be quadratic if a word were rescanned per character.
    let parser = only(|_| {});
    let word = "a".repeat(1_000_000);
    assert!(parser.filter(&format!("{word} pr")).is_ok());
    assert!(parser.filter(&format!("x pr and {word}")).is_err());
    let colons = "a:".repeat(500_000) + "b pr";
    assert!(parser.filter(&colons).is_ok());
    let escapes = "\\n".repeat(500_000);
    assert!(parser.filter(&format!("a eq \"{escapes}\"")).is_ok());
    let nots = "not ".repeat(250_000);
    assert!(parser.filter(&format!("{nots}pr")).is_err());
}
