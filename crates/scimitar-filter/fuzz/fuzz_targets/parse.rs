//! Arbitrary bytes, as text, into every parser entry point: nothing may panic, every
//! error points inside the input, and whatever parses prints as text that parses back
//! to the same tree (and evaluates without panicking).
#![no_main]

use libfuzzer_sys::fuzz_target;
use scimitar_filter::{parse_attr_list, parse_attr_path, parse_filter, parse_path, NoHints};

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    match parse_filter(input) {
        Ok(filter) => {
            assert_eq!(parse_filter(&filter.to_string()).unwrap(), filter);
            assert_eq!(
                parse_filter(&filter.to_parenthesized_string()).unwrap(),
                filter
            );
            let resource = serde_json::json!({
                "schemas": ["urn:x:y"],
                "a": "x", "b": {"c": 1}, "emails": [{"value": "v", "type": "work"}],
                "urn:x:y": {"z": true}
            });
            let _ = filter.matches(&resource, &NoHints);
        }
        Err(err) => {
            assert!(err.position() <= input.len());
            let _ = err.caret(input);
            let _ = err.to_string();
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
});
