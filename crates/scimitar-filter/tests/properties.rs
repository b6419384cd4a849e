//! Property tests: printing then parsing gives back any tree, and no input panics.

use proptest::prelude::*;
use scimitar_filter::ast::{AttrPath, CompValue, CompareOp, Filter, Number, PatchPath};
use scimitar_filter::{parse_attr_list, parse_attr_path, parse_filter, parse_path};

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        9 => "[a-zA-Z][a-zA-Z0-9_-]{0,8}",
        1 => Just("$ref".to_owned()),
    ]
}

fn attr_path(with_sub_attr: bool) -> impl Strategy<Value = AttrPath> {
    let schema = prop::option::weighted(0.2, "[a-zA-Z][a-zA-Z0-9.:_-]{0,24}");
    let sub_attr = prop::option::weighted(0.3, name());
    (schema, name(), sub_attr).prop_map(move |(schema, name, sub_attr)| AttrPath {
        schema,
        name,
        sub_attr: sub_attr.filter(|_| with_sub_attr),
    })
}

fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::from),
        "-?(0|[1-9][0-9]{0,20})(\\.[0-9]{1,6})?([eE][+-]?[0-9]{1,3})?"
            .prop_map(|text| Number::parse(&text).expect("the pattern is a JSON number")),
    ]
}

fn comp_value() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        Just(CompValue::Null),
        any::<bool>().prop_map(CompValue::Bool),
        number().prop_map(CompValue::Number),
        any::<String>().prop_map(CompValue::String),
    ]
}

fn compare_op() -> impl Strategy<Value = CompareOp> {
    use CompareOp::*;
    prop::sample::select(vec![Eq, Ne, Co, Sw, Ew, Gt, Ge, Lt, Le])
}

fn filter(allow_value_paths: bool) -> impl Strategy<Value = Filter> {
    let leaf = prop_oneof![
        (attr_path(true), compare_op(), comp_value())
            .prop_map(|(path, op, value)| Filter::Compare { path, op, value }),
        attr_path(true).prop_map(Filter::Present),
    ];
    leaf.prop_recursive(6, 48, 4, move |inner| {
        let mut branches = vec![
            prop::collection::vec(inner.clone(), 2..5)
                .prop_map(Filter::And)
                .boxed(),
            prop::collection::vec(inner.clone(), 2..5)
                .prop_map(Filter::Or)
                .boxed(),
            inner.clone().prop_map(|f| Filter::Not(Box::new(f))).boxed(),
        ];
        if allow_value_paths {
            branches.push(
                (attr_path(false), filter(false))
                    .prop_map(|(path, filter)| Filter::ValuePath {
                        path,
                        filter: Box::new(filter),
                    })
                    .boxed(),
            );
        }
        prop::strategy::Union::new(branches)
    })
}

fn patch_path() -> impl Strategy<Value = PatchPath> {
    prop_oneof![
        attr_path(true).prop_map(PatchPath::Attr),
        (attr_path(false), filter(false), prop::option::of(name())).prop_map(
            |(path, filter, sub_attr)| PatchPath::Value {
                path,
                filter,
                sub_attr
            }
        ),
    ]
}

/// Text built from the grammar's own tokens, to reach deeper than random strings do.
fn filterish() -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec![
        "a",
        "b.c",
        "urn:x:y:z",
        "emails",
        "$ref",
        " ",
        "  ",
        "\t",
        "(",
        ")",
        "[",
        "]",
        ".",
        ":",
        ",",
        "\"",
        "\"x\"",
        "\\",
        "\\u",
        "d83d",
        "\\ude00",
        "eq",
        "ne",
        "co",
        "gt",
        "pr",
        "and",
        "or",
        "not",
        "true",
        "null",
        "1",
        "-",
        "0.5",
        "e",
        "+",
        "é",
        "\u{0}",
    ]);
    prop::collection::vec(token, 0..40).prop_map(|tokens| tokens.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn filters_round_trip(filter in filter(true)) {
        let text = filter.to_string();
        prop_assert_eq!(parse_filter(&text)?, filter.clone(), "{}", text);
        let parenthesized = filter.to_parenthesized_string();
        prop_assert_eq!(parse_filter(&parenthesized)?, filter, "{}", parenthesized);
    }

    #[test]
    fn patch_paths_round_trip(path in patch_path()) {
        let text = path.to_string();
        prop_assert_eq!(parse_path(&text)?, path, "{}", text);
    }

    #[test]
    fn attribute_paths_and_lists_round_trip(paths in prop::collection::vec(attr_path(true), 1..6)) {
        for path in &paths {
            prop_assert_eq!(&parse_attr_path(&path.to_string())?, path);
        }
        let text = paths.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        prop_assert_eq!(parse_attr_list(&text)?, paths);
    }

    #[test]
    fn random_strings_never_panic(input in any::<String>()) {
        check_no_panic(&input);
    }

    #[test]
    fn token_soup_never_panics(input in filterish()) {
        check_no_panic(&input);
    }
}

/// Every entry point either parses `input` or reports a position inside it; whatever
/// parses prints as text that parses to the same tree.
fn check_no_panic(input: &str) {
    match parse_filter(input) {
        Ok(filter) => assert_eq!(parse_filter(&filter.to_string()).unwrap(), filter),
        Err(err) => {
            assert!(err.position() <= input.len());
            let _ = err.caret(input);
            assert!(!err.to_string().is_empty());
        }
    }
    match parse_path(input) {
        Ok(path) => assert_eq!(parse_path(&path.to_string()).unwrap(), path),
        Err(err) => assert!(err.position() <= input.len()),
    }
    if let Ok(path) = parse_attr_path(input) {
        assert_eq!(parse_attr_path(&path.to_string()).unwrap(), path);
    }
    if let Ok(paths) = parse_attr_list(input) {
        let text = paths
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(parse_attr_list(&text).unwrap(), paths);
    }
}

#[cfg(feature = "json")]
mod evaluation {
    use super::*;
    use scimitar_filter::NoHints;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Evaluation is total, and `not` and `ne` are exact negations.
        #[test]
        fn evaluation_is_consistent(filter in filter(true)) {
            let resource = serde_json::json!({
                "schemas": ["urn:x:y"],
                "a": "x", "b": {"c": 1}, "emails": [{"value": "v", "type": "work"}, {"value": 2}],
                "urn:x:y": {"z": true, "n": null}
            });
            let matched = filter.matches(&resource, &NoHints);
            let negated = Filter::Not(Box::new(filter.clone()));
            prop_assert_eq!(negated.matches(&resource, &NoHints), !matched);
            if let Filter::Compare { path, op: CompareOp::Eq, value } = filter {
                let ne = Filter::Compare { path, op: CompareOp::Ne, value };
                prop_assert_eq!(ne.matches(&resource, &NoHints), !matched);
            }
        }
    }
}
