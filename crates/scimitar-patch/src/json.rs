//! Small helpers over JSON objects whose keys SCIM compares ignoring case.

use serde_json::{Map, Value};

/// The key of `object` equal to `name` ignoring ASCII case, in the object's own
/// spelling.
pub(crate) fn find_key<'m>(object: &'m Map<String, Value>, name: &str) -> Option<&'m str> {
    if let Some((key, _)) = object.get_key_value(name) {
        return Some(key);
    }
    object
        .keys()
        .find(|key| key.eq_ignore_ascii_case(name))
        .map(String::as_str)
}

/// `object[name]`, with `name` in any case.
pub(crate) fn get<'m>(object: &'m Map<String, Value>, name: &str) -> Option<&'m Value> {
    find_key(object, name).and_then(|key| object.get(key))
}

/// `object[name]` for writing, with `name` in any case.
pub(crate) fn get_mut<'m>(object: &'m mut Map<String, Value>, name: &str) -> Option<&'m mut Value> {
    let key = find_key(object, name)?.to_string();
    object.get_mut(&key)
}

/// Sets `object[name]`, keeping the existing key's spelling if there is one.
pub(crate) fn set(object: &mut Map<String, Value>, name: &str, value: Value) {
    let key = find_key(object, name).unwrap_or(name).to_string();
    object.insert(key, value);
}

/// Removes `object[name]` (any case), keeping the order of the other keys.
pub(crate) fn remove(object: &mut Map<String, Value>, name: &str) -> Option<Value> {
    let key = find_key(object, name)?.to_string();
    object.shift_remove(&key)
}

/// What kind of JSON value this is, in words for error messages.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Whether a stored value counts as assigned (RFC 7643 §2.5: `null`, `[]` and `{}`
/// are unassigned).
pub(crate) fn is_assigned(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Array(items) => !items.is_empty(),
        Value::Object(members) => !members.is_empty(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_ignore_case_and_keep_spelling() {
        let Value::Object(mut object) = json!({"userName": "a", "nickName": "b", "title": "c"})
        else {
            unreachable!()
        };
        assert_eq!(find_key(&object, "USERNAME"), Some("userName"));
        assert_eq!(get(&object, "nickname"), Some(&json!("b")));
        set(&mut object, "USERNAME", json!("z"));
        assert_eq!(object.get("userName"), Some(&json!("z")));
        assert!(!object.contains_key("USERNAME"));
        assert_eq!(remove(&mut object, "NICKNAME"), Some(json!("b")));
        assert_eq!(object.keys().collect::<Vec<_>>(), ["userName", "title"]);
        *get_mut(&mut object, "Title").into_iter().next().unwrap() = json!("d");
        assert_eq!(object["title"], "d");
        assert!(!is_assigned(&json!([])) && !is_assigned(&json!({})) && is_assigned(&json!("")));
    }
}
