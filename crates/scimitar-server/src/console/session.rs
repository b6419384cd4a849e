//! Console sessions: a signed cookie naming the admin token that signed in, and
//! the CSRF token of every form.
//!
//! The cookie reads `<admin token id>.<expiry, unix seconds>.<hex HMAC-SHA256>`,
//! keyed by the token's stored digest. Nothing is kept server-side, every
//! instance on the database can check it, and revoking the admin token ends its
//! sessions at once. It is `HttpOnly`, `SameSite=Strict`, `Path=/admin`, and
//! `Secure` when the console is reached over https.
//!
//! A form's CSRF token is another MAC of the same session, so a page of another
//! site can neither read nor make one. The login form, before any session,
//! carries a random value that must match a short-lived cookie (double submit).

use std::time::Duration;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::HttpRequest;
use hmac::{Hmac, Mac};
use scimitar_store::TenantStore;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::admin::{AdminPrincipal, AdminScope};

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "scimitar_console";
/// The login form's double-submit cookie.
pub(crate) const LOGIN_COOKIE: &str = "scimitar_console_login";
/// How long a session lasts.
pub(crate) const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 60 * 60);

/// A signed-in admin.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) principal: AdminPrincipal,
    /// The CSRF token of this session's forms.
    pub(crate) csrf: String,
}

fn mac(key: &str, purpose: &str, token_id: &str, expires: u64) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(format!("{purpose}|{token_id}|{expires}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn now_unix() -> u64 {
    u64::try_from(scimitar_store::meta::now().unix_timestamp()).unwrap_or_default()
}

/// The session cookie for the admin token `token_id`, whose stored digest is
/// `key`.
pub(crate) fn session_cookie(token_id: &str, key: &str, secure: bool) -> Cookie<'static> {
    let expires = now_unix() + SESSION_LIFETIME.as_secs();
    let value = format!(
        "{token_id}.{expires}.{}",
        mac(key, "session", token_id, expires)
    );
    Cookie::build(SESSION_COOKIE, value)
        .path("/admin")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(actix_web::cookie::time::Duration::seconds(
            i64::try_from(SESSION_LIFETIME.as_secs()).unwrap_or(i64::MAX),
        ))
        .finish()
}

/// A cookie that removes `name`.
pub(crate) fn removal(name: &'static str) -> Cookie<'static> {
    let mut cookie = Cookie::build(name, "")
        .path("/admin")
        .http_only(true)
        .same_site(SameSite::Strict)
        .finish();
    cookie.make_removal();
    cookie
}

/// The login form's double-submit cookie and the value its form carries.
pub(crate) fn login_cookie(secure: bool) -> (Cookie<'static>, String) {
    let value = crate::auth::random_hex(16);
    let cookie = Cookie::build(LOGIN_COOKIE, value.clone())
        .path("/admin")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(actix_web::cookie::time::Duration::minutes(30))
        .finish();
    (cookie, value)
}

/// Whether a login form's `value` matches its cookie.
pub(crate) fn login_form_matches(req: &HttpRequest, value: &str) -> bool {
    req.cookie(LOGIN_COOKIE).is_some_and(|cookie| {
        !value.is_empty() && bool::from(cookie.value().as_bytes().ct_eq(value.as_bytes()))
    })
}

/// The session of `req`, if its cookie is genuine, unexpired and its admin token
/// still active.
pub(crate) async fn session<T: TenantStore + ?Sized>(
    tenants: &T,
    req: &HttpRequest,
) -> Option<Session> {
    let cookie = req.cookie(SESSION_COOKIE)?;
    let mut parts = cookie.value().splitn(3, '.');
    let (token_id, expires, signature) = (parts.next()?, parts.next()?, parts.next()?);
    let expires: u64 = expires.parse().ok()?;
    if expires <= now_unix() || token_id.len() > 64 {
        return None;
    }
    let record = tenants.find_admin_token(token_id).await.ok()??;
    let expected = mac(&record.hash, "session", token_id, expires);
    if !record.is_active() || !bool::from(expected.as_bytes().ct_eq(signature.as_bytes())) {
        return None;
    }
    let scope = AdminScope::parse(&record.scope)?;
    Some(Session {
        csrf: mac(&record.hash, "csrf", token_id, expires),
        principal: AdminPrincipal {
            token_id: record.id,
            label: record.label,
            scope,
        },
    })
}

impl Session {
    /// Whether `sent` is this session's CSRF token.
    pub(crate) fn csrf_matches(&self, sent: &str) -> bool {
        bool::from(self.csrf.as_bytes().ct_eq(sent.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::issue_admin_token;
    use actix_web::test::TestRequest;
    use scimitar_store::MemoryStore;

    #[actix_web::test]
    async fn sessions_hold_while_the_token_does() {
        let store = MemoryStore::new();
        let issued = issue_admin_token(&store, "ops", AdminScope::ReadOnly)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let record = issued.record;
        let cookie = session_cookie(&record.id, &record.hash, false);
        assert!(cookie.http_only() == Some(true) && cookie.same_site() == Some(SameSite::Strict));
        let request =
            |cookie: Cookie<'static>| TestRequest::default().cookie(cookie).to_http_request();
        let found = session(&store, &request(cookie.clone())).await;
        assert_eq!(
            found.as_ref().map(|s| s.principal.scope),
            Some(AdminScope::ReadOnly)
        );
        let csrf = found.map(|s| s.csrf).unwrap_or_default();
        // A forged signature, another token's id, an expiry moved: refused.
        let value = cookie.value().to_owned();
        let (head, _) = value.rsplit_once('.').unwrap_or_default();
        for forged in [
            format!("{head}.{}", "0".repeat(64)),
            value.replacen(&record.id, "0000000000000000", 1),
            {
                let mut parts: Vec<&str> = value.split('.').collect();
                let later = (now_unix() + 99_999).to_string();
                parts[1] = &later;
                parts.join(".")
            },
        ] {
            let forged = Cookie::new(SESSION_COOKIE, forged);
            assert!(session(&store, &request(forged)).await.is_none());
        }
        store.revoke_admin_token(&record.id).await.ok();
        assert!(session(&store, &request(cookie)).await.is_none(), "revoked");
        assert_eq!(csrf.len(), 64);
    }
}
