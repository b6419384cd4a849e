//! Arbitrary bytes as a PatchOp body, applied to a fixed user and a fixed group under
//! both policies and with members stored apart: nothing may panic, every error is a
//! 400 with a message, and the change report is empty exactly when the resource did
//! not change.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scimitar_patch::{apply_with, ApplyOptions};
use scimitar_schema::messages::PatchRequest;
use scimitar_schema::{Policy, Registry};
use serde_json::{json, Value};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "id": "2819c223",
        "userName": "bjensen",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "addresses": [{"type": "work", "streetAddress": "100 Universal City Plaza"}],
        ENTERPRISE: {"department": "Tours", "manager": {"value": "26118915", "displayName": "John"}},
        "meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z"}
    })
}

fn group() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "acbf3ae7",
        "displayName": "Tour Guides",
        "members": [{"value": "2819c223", "display": "Babs"}, {"value": "902c246b"}]
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(request) = serde_json::from_slice::<PatchRequest>(data) else {
        return;
    };
    let registry = Registry::builtin();
    for (resource_type, resource) in [("User", user()), ("Group", group())] {
        for policy in [Policy::compatible(), Policy::strict()] {
            for external_members in [false, true] {
                let options = ApplyOptions { external_members };
                match apply_with(&registry, resource_type, &resource, &request, &policy, &options) {
                    Ok(patched) => {
                        let unchanged = patched.resource == resource;
                        if external_members {
                            assert!(!unchanged || patched.changes.attributes.is_empty());
                        } else {
                            assert_eq!(patched.changes.is_empty(), unchanged);
                        }
                    }
                    Err(error) => {
                        assert_eq!(error.status(), 400);
                        assert!(!error.to_string().is_empty());
                    }
                }
            }
        }
    }
});
