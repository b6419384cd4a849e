//! The authentication and tenant seam: who a request is, decided by the host.
//!
//! The engine asks an [`Authenticator`] before it reads anything of a request
//! but its headers and URL. The bundled server's authenticator checks Scimitar's
//! bearer tokens and JWTs; an application checks its own API keys, sessions or
//! JWTs, and none of Scimitar's token tables are needed.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use http::header;
use http::HeaderMap;
use scimitar_schema::{Policy, Registry};
use scimitar_store::TenantSettings;

use crate::error::ScimError;

/// Turns a request's credential into a [`Principal`] (a tenant and a client), or
/// refuses it.
///
/// `authenticate` sees the request's headers and the tenant its URL names (when
/// the SCIM base is mounted under a `{tenant}` segment), nothing else: the body
/// is read only after it succeeds. Refuse with [`ScimError::Unauthorized`] (401,
/// the same for every reason), or with any other [`ScimError`] (a 403 or a 429 of
/// your choosing).
///
/// ```
/// use scimitar_protocol::{Authenticator, Credentials, Principal, Refusal, ScimError};
///
/// /// One API key per tenant, from the app's own configuration.
/// struct ApiKeys(Vec<(String, String)>);
///
/// impl Authenticator for ApiKeys {
///     async fn authenticate(&self, request: &Credentials<'_>) -> Result<Principal, ScimError> {
///         let key = request.bearer_token()?;
///         let (tenant, _) = self
///             .0
///             .iter()
///             .find(|(_, k)| k == key)
///             .ok_or(ScimError::Unauthorized(Refusal::Unknown))?;
///         Ok(Principal::new(tenant.clone(), "api-key"))
///     }
/// }
/// ```
pub trait Authenticator: Send + Sync + 'static {
    /// The principal of a request, or why it is refused.
    fn authenticate(
        &self,
        request: &Credentials<'_>,
    ) -> impl Future<Output = Result<Principal, ScimError>> + Send;

    /// A last check once the principal is known and its URL tenant matched (a
    /// rate limit, say); its refusals are logged under the principal. Accepts
    /// every principal by default.
    fn authorize(&self, principal: &Principal) -> Result<(), ScimError> {
        let _ = principal;
        Ok(())
    }
}

/// What an [`Authenticator`] may read of a request.
#[derive(Debug, Clone, Copy)]
pub struct Credentials<'a> {
    /// The request's headers.
    pub headers: &'a HeaderMap,
    /// The tenant the URL names, for bases mounted under a `{tenant}` segment.
    pub url_tenant: Option<&'a str>,
}

impl<'a> Credentials<'a> {
    /// The token of an `Authorization: Bearer <token>` header.
    ///
    /// # Errors
    /// [`ScimError::Unauthorized`] with [`Refusal::Missing`] or
    /// [`Refusal::Malformed`].
    pub fn bearer_token(&self) -> Result<&'a str, ScimError> {
        let header = self
            .headers
            .get(header::AUTHORIZATION)
            .map(|value| value.to_str().unwrap_or_default());
        bearer_token(header).map_err(ScimError::Unauthorized)
    }
}

/// The token of an `Authorization` header's value, `Bearer <token>` (the scheme in
/// any case); `None` is a request without the header. For hosts that read the
/// header from their own request type.
///
/// # Errors
/// [`Refusal::Missing`] without a header, [`Refusal::Malformed`] for another
/// scheme or shape.
pub fn bearer_token(authorization: Option<&str>) -> Result<&str, Refusal> {
    let text = authorization.ok_or(Refusal::Missing)?.trim();
    match text.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Ok(token.trim()),
        _ => Err(Refusal::Malformed),
    }
}

/// Who a request is: the tenant every store call is confined to, and the client.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The tenant ([`Scope::tenant`](scimitar_store::Scope::tenant)).
    pub tenant: String,
    /// The client's id, e.g. a token id ([`Scope::client`](scimitar_store::Scope::client)).
    pub client: String,
    /// A name for the client, for logs (a token's label); may be empty.
    pub label: String,
    /// The id of the User this credential is bound to, which `/Me` (RFC 7644
    /// §3.11) stands for; `None` makes `/Me` 501.
    pub user: Option<String>,
    /// Whether provisioning is enabled for the tenant: `false` refuses the
    /// request with 403.
    pub enabled: bool,
    /// What the tenant's requests run under; `None` is the engine's registry and
    /// policy with default settings.
    pub context: Option<Arc<TenantContext>>,
}

impl Principal {
    /// An enabled principal of `tenant` acting as `client`, under the engine's
    /// defaults.
    pub fn new(tenant: impl Into<String>, client: impl Into<String>) -> Self {
        Principal {
            tenant: tenant.into(),
            client: client.into(),
            label: String::new(),
            user: None,
            enabled: true,
            context: None,
        }
    }

    /// This principal with a tenant context of its own.
    pub fn with_context(self, context: Arc<TenantContext>) -> Self {
        Principal {
            context: Some(context),
            ..self
        }
    }

    /// This principal bound to a User, for `/Me`.
    pub fn with_user(self, user: impl Into<String>) -> Self {
        Principal {
            user: Some(user.into()),
            ..self
        }
    }
}

/// What a tenant's requests run under: its schemas, identity-provider policy and
/// settings.
#[derive(Debug, Clone)]
pub struct TenantContext {
    /// The schemas and resource types served (a tenant's overrides applied).
    pub registry: Registry,
    /// How identity providers' deviations are read.
    pub policy: Policy,
    /// The tenant's settings (team and deletion modes, create retries...).
    pub settings: TenantSettings,
    /// What the authenticator keeps for itself with the tenant (the bundled
    /// server keeps its rate limit here), for [`Authenticator::authorize`]. The
    /// engine never reads it.
    pub extensions: http::Extensions,
}

impl TenantContext {
    /// A context with `settings` and no extensions.
    pub fn new(registry: Registry, policy: Policy, settings: TenantSettings) -> Self {
        TenantContext {
            registry,
            policy,
            settings,
            extensions: http::Extensions::new(),
        }
    }
}

/// Why a credential was refused: for the server's log only. The client is told
/// the same thing whatever the reason ([`ScimError::Unauthorized`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Refusal {
    /// No `Authorization` header.
    Missing,
    /// Not `Bearer <token>`, or not a token of the expected shape.
    Malformed,
    /// No credential has this id.
    Unknown,
    /// The id is known but the secret is wrong.
    WrongSecret,
    /// The credential was revoked.
    Revoked,
    /// The credential has expired.
    Expired,
    /// A JWT that does not verify, or one on a URL that names no tenant accepting
    /// JWTs.
    BadJwt,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::Missing => "no Authorization header",
            Refusal::Malformed => "the Authorization header is not a Scimitar bearer token",
            Refusal::Unknown => "no token has this id",
            Refusal::WrongSecret => "the secret does not match the token id",
            Refusal::Revoked => "the token has been revoked",
            Refusal::Expired => "the token has expired",
            Refusal::BadJwt => "the JWT was refused",
        })
    }
}

impl std::error::Error for Refusal {}

impl Refusal {
    /// Every refusal, in a fixed order (for counting them).
    pub const ALL: [Refusal; 7] = [
        Refusal::Missing,
        Refusal::Malformed,
        Refusal::Unknown,
        Refusal::WrongSecret,
        Refusal::Revoked,
        Refusal::Expired,
        Refusal::BadJwt,
    ];
}
