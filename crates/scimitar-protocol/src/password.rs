//! User passwords: stored only as argon2id hashes.
//!
//! Okta sends a user's `password` on create, replace and PATCH when "Sync Password"
//! is on. The store keeps what it is given (and never returns a `password`), so the
//! HTTP layer replaces every password a client sends by its argon2id hash, a PHC
//! string (`$argon2id$v=19$...`), before the store sees it. What the client sends is
//! always hashed, also when it already looks like a PHC string: a client may choose
//! such a string as a password. An empty string is left as it is: it clears the
//! password, and reveals nothing.
//!
//! An application that writes users through the store directly hashes them itself,
//! with [`hash_passwords`] and [`hash_patch_passwords`].

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::Argon2;
use scimitar_schema::{urn, PatchRequest, ResourceType};
use serde_json::Value;

use crate::error::ScimError;

const PASSWORD: &str = "password";

/// Why a password could not be hashed (it cannot, with the parameters used).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordHashError {
    /// argon2 refused the input.
    #[error("could not hash the password: {0}")]
    Hash(String),
}

/// Replaces the `password` of a User resource body (the top-level attribute, or
/// `urn:ietf:params:scim:schemas:core:2.0:User:password`, in any letter case) by
/// its argon2id hash.
///
/// ```
/// let mut user = serde_json::json!({"userName": "bjensen", "password": "t1meMa$heen"});
/// scimitar_protocol::hash_passwords(&mut user)?;
/// assert!(user["password"].as_str().unwrap().starts_with("$argon2id$"));
/// # Ok::<(), scimitar_protocol::PasswordHashError>(())
/// ```
///
/// # Errors
/// [`PasswordHashError`] if argon2 fails.
pub fn hash_passwords(resource: &mut Value) -> Result<(), PasswordHashError> {
    let Some(fields) = resource.as_object_mut() else {
        return Ok(());
    };
    for (name, value) in fields.iter_mut() {
        if names_password(name) {
            hash_in_place(value)?;
        }
    }
    Ok(())
}

/// Replaces every password of a PATCH request on a User by its argon2id hash: the
/// value of an operation whose path is `password` (or its fully qualified name),
/// and the `password` of a path-less operation's value, in any letter case.
///
/// # Errors
/// [`PasswordHashError`] if argon2 fails.
pub fn hash_patch_passwords(request: &mut PatchRequest) -> Result<(), PasswordHashError> {
    for operation in &mut request.operations {
        let Some(value) = &mut operation.value else {
            continue;
        };
        match operation.path.as_deref() {
            Some(path) if names_password(path.trim()) => hash_in_place(value)?,
            Some(_) => {}
            None => hash_passwords(value)?,
        }
    }
    Ok(())
}

/// A User resource body with its passwords hashed, on the blocking pool; other
/// bodies as they are.
pub(crate) async fn hash_user_body(
    resource_type: &ResourceType,
    mut body: Value,
) -> Result<Value, ScimError> {
    if resource_type.schema != urn::USER || !has_password(&body) {
        return Ok(body);
    }
    off_thread(move || hash_passwords(&mut body).map(|()| body)).await
}

/// A PATCH request on a User with its passwords hashed, on the blocking pool; other
/// requests as they are.
pub(crate) async fn hash_user_patch(
    resource_type: &ResourceType,
    mut request: PatchRequest,
) -> Result<PatchRequest, ScimError> {
    if resource_type.schema != urn::USER || !patch_has_password(&request) {
        return Ok(request);
    }
    off_thread(move || hash_patch_passwords(&mut request).map(|()| request)).await
}

/// Runs argon2 (tens of milliseconds of CPU) off the async workers.
async fn off_thread<R: Send + 'static>(
    hash: impl FnOnce() -> Result<R, PasswordHashError> + Send + 'static,
) -> Result<R, ScimError> {
    // A thread of its own, so that no async runtime is assumed.
    let (sender, receiver) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("scimitar-password-hash".into())
        .spawn(move || {
            // The receiver is gone only if the request was dropped.
            let _ = sender.send(hash());
        })
        .map_err(|error| PasswordHashError::Hash(error.to_string()))?;
    receiver
        .await
        .map_err(|error| PasswordHashError::Hash(error.to_string()))?
        .map_err(ScimError::from)
}

/// Whether a resource body would have a password to hash.
fn has_password(resource: &Value) -> bool {
    resource
        .as_object()
        .is_some_and(|fields| fields.keys().any(|name| names_password(name)))
}

/// Whether a PATCH request would have a password to hash.
fn patch_has_password(request: &PatchRequest) -> bool {
    request
        .operations
        .iter()
        .any(|operation| match operation.path.as_deref() {
            Some(path) => names_password(path.trim()),
            None => operation.value.as_ref().is_some_and(has_password),
        })
}

/// `password` or `urn:...:core:2.0:User:password`, ignoring case.
fn names_password(name: &str) -> bool {
    let attribute = match name.rsplit_once(':') {
        Some((schema, attribute)) if schema.eq_ignore_ascii_case(urn::USER) => attribute,
        Some(_) => return false,
        None => name,
    };
    attribute.eq_ignore_ascii_case(PASSWORD)
}

/// The argon2id PHC string of `secret`, with a random salt. The error is
/// argon2's, as text.
fn hash_secret(secret: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| error.to_string())
}

fn hash_in_place(value: &mut Value) -> Result<(), PasswordHashError> {
    if let Value::String(password) = value {
        if !password.is_empty() {
            *password = hash_secret(password).map_err(PasswordHashError::Hash)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use scimitar_schema::{PatchOpKind, PatchOperation};
    use serde_json::json;

    fn is_hash_of(value: &Value, password: &str) -> bool {
        value.as_str().is_some_and(|hash| {
            use argon2::password_hash::{PasswordHash, PasswordVerifier};
            hash.starts_with("$argon2id$")
                && PasswordHash::new(hash).is_ok_and(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
        })
    }

    #[test]
    fn resource_passwords_are_hashed_in_any_case_and_spelling() {
        let qualified = format!("{}:PassWord", urn::USER);
        let mut user = json!({"userName": "b", "Password": "one", qualified.clone(): "two"});
        hash_passwords(&mut user).unwrap();
        assert!(is_hash_of(&user["Password"], "one"), "{user}");
        assert!(is_hash_of(&user[&qualified], "two"), "{user}");
        assert_eq!(user["userName"], "b");
    }

    #[test]
    fn phc_strings_sent_as_passwords_are_hashed_too() {
        let phc = hash_secret("x").unwrap();
        let mut user = json!({"password": phc.clone()});
        hash_passwords(&mut user).unwrap();
        assert!(is_hash_of(&user["password"], &phc));
    }

    #[test]
    fn empty_and_non_string_passwords_are_left_alone() {
        let mut user = json!({"password": "", "passwordish": "p"});
        assert!(has_password(&user));
        hash_passwords(&mut user).unwrap();
        assert_eq!(user, json!({"password": "", "passwordish": "p"}));
        let mut user = json!({"password": null});
        hash_passwords(&mut user).unwrap();
        assert_eq!(user, json!({"password": null}));
        assert!(!has_password(&json!({"name": {"password": "p"}})));
        assert!(!has_password(&json!({"urn:example:password": "p"})));
    }

    #[test]
    fn patch_passwords_are_hashed_by_path_and_in_path_less_values() {
        let operation = |path: Option<&str>, value: Value| PatchOperation {
            op: PatchOpKind::Replace,
            path: path.map(str::to_owned),
            value: Some(value),
        };
        let mut request = PatchRequest::new(vec![
            operation(Some("PASSWORD"), json!("one")),
            operation(None, json!({"password": "two", "active": true})),
            operation(Some("displayName"), json!("password")),
        ]);
        assert!(patch_has_password(&request));
        hash_patch_passwords(&mut request).unwrap();
        let values: Vec<_> = request
            .operations
            .iter()
            .filter_map(|operation| operation.value.clone())
            .collect();
        assert!(is_hash_of(&values[0], "one"));
        assert!(is_hash_of(&values[1]["password"], "two"));
        assert_eq!(values[1]["active"], true);
        assert_eq!(values[2], "password");
        let plain = PatchRequest::new(vec![operation(Some("active"), json!(false))]);
        assert!(!patch_has_password(&plain));
    }
}
