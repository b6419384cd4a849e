//! JWT bearer tokens, per tenant, as an alternative to opaque tokens.
//!
//! A tenant accepts JWTs when its settings have a `jwt` object:
//!
//! ```json
//! {"jwt": {"algorithm": "HS256", "secret": "...", "issuer": "https://idp.example.com", "audience": "scimitar"}}
//! {"jwt": {"algorithm": "RS256", "public_key_pem": "-----BEGIN PUBLIC KEY-----...", "issuer": "...", "audience": "..."}}
//! ```
//!
//! The signature, `iss`, `aud` and `exp` (with 60 s of leeway) are all checked; a
//! configuration missing any of them accepts no token. Since the key depends on the
//! tenant, JWTs are accepted on tenant URLs (`/tenants/{tenant}/...`) only.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use scimitar_store::Tenant;
use serde::Deserialize;

/// A tenant's `settings.jwt`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JwtSettings {
    algorithm: String,
    #[serde(default)]
    secret: Option<String>,
    #[serde(default)]
    public_key_pem: Option<String>,
    issuer: String,
    audience: String,
}

/// Whether `token` has the shape of a JWT (three base64url parts).
pub(crate) fn looks_like_jwt(token: &str) -> bool {
    let mut parts = 0;
    for part in token.split('.') {
        parts += 1;
        let base64url = part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if part.is_empty() || !base64url {
            return false;
        }
    }
    parts == 3
}

/// Why a JWT was refused; safe to send to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum JwtRefusal {
    #[error("tenant {0} does not accept JWT bearer tokens")]
    NotConfigured(String),
    #[error("the JWT is not valid: {0}")]
    Invalid(String),
}

/// Verifies `token` against `tenant`'s JWT settings.
pub(crate) fn verify(tenant: &Tenant, token: &str) -> Result<(), JwtRefusal> {
    let not_configured = || JwtRefusal::NotConfigured(tenant.id.clone());
    let settings: JwtSettings = tenant
        .settings
        .get("jwt")
        .cloned()
        .and_then(|value| {
            serde_json::from_value(value)
                .map_err(|error| {
                    log::warn!("tenant {}: settings.jwt is not valid: {error}", tenant.id)
                })
                .ok()
        })
        .ok_or_else(not_configured)?;
    let (algorithm, key) = match settings.algorithm.to_ascii_uppercase().as_str() {
        "HS256" => {
            let secret = settings.secret.as_deref().filter(|s| !s.is_empty());
            (
                Algorithm::HS256,
                secret.map(|s| DecodingKey::from_secret(s.as_bytes())),
            )
        }
        "RS256" => (
            Algorithm::RS256,
            settings
                .public_key_pem
                .as_deref()
                .and_then(|pem| DecodingKey::from_rsa_pem(pem.as_bytes()).ok()),
        ),
        "ES256" => (
            Algorithm::ES256,
            settings
                .public_key_pem
                .as_deref()
                .and_then(|pem| DecodingKey::from_ec_pem(pem.as_bytes()).ok()),
        ),
        _ => return Err(not_configured()),
    };
    let key = key.ok_or_else(not_configured)?;
    let mut validation = Validation::new(algorithm);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    validation.set_issuer(&[settings.issuer]);
    validation.set_audience(&[settings.audience]);
    validation.leeway = 60;
    jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation)
        .map(drop)
        .map_err(|error| JwtRefusal::Invalid(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;

    use crate::tenant::test_tenant as tenant;

    fn token(claims: serde_json::Value, secret: &str) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    fn in_an_hour() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp() + 3600
    }

    #[test]
    fn hs256_checks_signature_issuer_audience_and_expiry() {
        let acme = tenant(
            json!({"jwt": {"algorithm": "HS256", "secret": "k", "issuer": "idp", "audience": "scim"}}),
        );
        let good = json!({"iss": "idp", "aud": "scim", "exp": in_an_hour(), "sub": "entra"});
        assert_eq!(verify(&acme, &token(good.clone(), "k")), Ok(()));
        assert!(looks_like_jwt(&token(good.clone(), "k")));
        assert!(verify(&acme, &token(good.clone(), "wrong")).is_err());
        let mut wrong_audience = good.clone();
        wrong_audience["aud"] = json!("other");
        assert!(verify(&acme, &token(wrong_audience, "k")).is_err());
        let mut wrong_issuer = good.clone();
        wrong_issuer["iss"] = json!("evil");
        assert!(verify(&acme, &token(wrong_issuer, "k")).is_err());
        let mut expired = good;
        expired["exp"] = json!(1_000_000);
        assert!(verify(&acme, &token(expired, "k")).is_err());
    }

    #[test]
    fn tenants_without_a_complete_configuration_accept_no_jwt() {
        let claims = json!({"iss": "idp", "aud": "scim", "exp": in_an_hour()});
        for settings in [
            json!({}),
            json!({"jwt": {"algorithm": "HS256", "secret": "", "issuer": "idp", "audience": "scim"}}),
            json!({"jwt": {"algorithm": "none", "secret": "k", "issuer": "idp", "audience": "scim"}}),
            json!({"jwt": {"algorithm": "HS256", "secret": "k", "issuer": "idp"}}),
        ] {
            assert_eq!(
                verify(&tenant(settings), &token(claims.clone(), "k")),
                Err(JwtRefusal::NotConfigured("acme".into()))
            );
        }
    }

    #[test]
    fn jwt_shape() {
        assert!(!looks_like_jwt("scim_abc_def"));
        assert!(!looks_like_jwt("a.b"));
        assert!(!looks_like_jwt("a..c"));
        assert!(looks_like_jwt("eyJh.eyJz.c2ln"));
    }
}
