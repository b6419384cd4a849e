//! Tenants, their SCIM tokens, and admin tokens.

use actix_web::web::{self, Json, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use scimitar_store::TenantStore;

use super::{
    AdminParts, AdminTokenView, IssuedScimToken, NewScimToken, NewTenant, PageParams, Problem,
    ScimTokenView, State, TenantChange, TenantPage, TenantView,
};

/// The most tenants one page holds.
const MAX_PAGE: usize = 500;
const DEFAULT_PAGE: usize = 50;

pub(super) fn routes<P: AdminParts>(
    scope: actix_web::Scope<impl scimitar_actix::ScopeFactory>,
) -> actix_web::Scope<impl scimitar_actix::ScopeFactory> {
    scope
        .route("/tenants", web::get().to(list_tenants::<P>))
        .route("/tenants", web::post().to(create_tenant::<P>))
        .route("/tenants/{tenant}", web::get().to(get_tenant::<P>))
        .route("/tenants/{tenant}", web::patch().to(change_tenant::<P>))
        .route("/tenants/{tenant}", web::delete().to(delete_tenant::<P>))
        .route("/tenants/{tenant}/tokens", web::get().to(list_tokens::<P>))
        .route("/tenants/{tenant}/tokens", web::post().to(issue_token::<P>))
        .route(
            "/tenants/{tenant}/tokens/{token}",
            web::delete().to(revoke_token::<P>),
        )
        .route("/admin-tokens", web::get().to(list_admin_tokens::<P>))
        .route(
            "/admin-tokens/{token}",
            web::delete().to(revoke_admin_token::<P>),
        )
}

/// List tenants, ordered by id.
#[utoipa::path(get, path = "/tenants", tag = "tenants", params(PageParams),
    responses((status = 200, body = TenantPage), (status = 401, body = Problem)))]
pub(super) async fn list_tenants<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    paging: Query<PageParams>,
) -> Result<HttpResponse, Problem> {
    state.reader(&req).await?;
    let limit = paging.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let after = paging.cursor.as_deref().unwrap_or("");
    let all = state.tenant_views(&req).await?;
    let mut rest = all.into_iter().filter(|tenant| tenant.id.as_str() > after);
    let tenants: Vec<TenantView> = rest.by_ref().take(limit).collect();
    let next_cursor = match rest.next() {
        Some(_) => tenants.last().map(|tenant| tenant.id.clone()),
        None => None,
    };
    Ok(HttpResponse::Ok().json(TenantPage {
        tenants,
        next_cursor,
    }))
}

/// Create a tenant (enabled, default settings).
#[utoipa::path(post, path = "/tenants", tag = "tenants", request_body = NewTenant,
    responses((status = 201, body = TenantView), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem)))]
pub(super) async fn create_tenant<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    body: Json<NewTenant>,
) -> Result<HttpResponse, Problem> {
    let principal = state.writer(&req).await?;
    let tenant = state
        .create_tenant(&req, &principal, body.into_inner())
        .await?;
    let location = format!("{}/{}", req.path().trim_end_matches('/'), tenant.id);
    Ok(HttpResponse::Created()
        .insert_header(("Location", location))
        .json(tenant))
}

/// Read a tenant.
#[utoipa::path(get, path = "/tenants/{tenant}", tag = "tenants",
    params(("tenant" = String, Path, description = "The tenant id")),
    responses((status = 200, body = TenantView), (status = 404, body = Problem)))]
pub(super) async fn get_tenant<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    tenant: Path<String>,
) -> Result<HttpResponse, Problem> {
    state.reader(&req).await?;
    Ok(HttpResponse::Ok().json(state.tenant_view(&req, &tenant).await?))
}

/// Rename a tenant, or enable or disable it (a disabled tenant's SCIM requests
/// get 403), effective at once here and within a second on other instances.
#[utoipa::path(patch, path = "/tenants/{tenant}", tag = "tenants", request_body = TenantChange,
    params(("tenant" = String, Path, description = "The tenant id")),
    responses((status = 200, body = TenantView), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(super) async fn change_tenant<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    tenant: Path<String>,
    body: Json<TenantChange>,
) -> Result<HttpResponse, Problem> {
    let principal = state.writer(&req).await?;
    let changed = state
        .change_tenant(&req, &principal, &tenant, body.into_inner())
        .await?;
    Ok(HttpResponse::Ok().json(changed))
}

/// Delete a tenant and everything of it: users, groups, events, tokens, log and
/// settings. It cannot be undone.
#[utoipa::path(delete, path = "/tenants/{tenant}", tag = "tenants",
    params(("tenant" = String, Path, description = "The tenant id")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(super) async fn delete_tenant<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    tenant: Path<String>,
) -> Result<HttpResponse, Problem> {
    let principal = state.writer(&req).await?;
    state.delete_tenant(&principal, &tenant).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List a tenant's SCIM tokens, revoked included, oldest first.
#[utoipa::path(get, path = "/tenants/{tenant}/tokens", tag = "scim tokens",
    params(("tenant" = String, Path, description = "The tenant id")),
    responses((status = 200, body = Vec<ScimTokenView>), (status = 404, body = Problem)))]
pub(super) async fn list_tokens<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    tenant: Path<String>,
) -> Result<HttpResponse, Problem> {
    state.reader(&req).await?;
    Ok(HttpResponse::Ok().json(state.scim_tokens(&tenant).await?))
}

/// Issue a SCIM token: the secret is in this response only. To rotate, issue a
/// new token, put it in the identity provider, then revoke the old one.
#[utoipa::path(post, path = "/tenants/{tenant}/tokens", tag = "scim tokens",
    request_body = NewScimToken,
    params(("tenant" = String, Path, description = "The tenant id")),
    responses((status = 201, body = IssuedScimToken), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(super) async fn issue_token<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    tenant: Path<String>,
    body: Json<NewScimToken>,
) -> Result<HttpResponse, Problem> {
    let principal = state.writer(&req).await?;
    let issued = state
        .issue_scim_token(&req, &principal, &tenant, &body.label, body.expires_in_days)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(issued))
}

/// Revoke a SCIM token: refused at once here, within a second elsewhere.
#[utoipa::path(delete, path = "/tenants/{tenant}/tokens/{token}", tag = "scim tokens",
    params(("tenant" = String, Path, description = "The tenant id"),
        ("token" = String, Path, description = "The token id")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(super) async fn revoke_token<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    path: Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let principal = state.writer(&req).await?;
    let (tenant, token) = path.into_inner();
    state.revoke_scim_token(&principal, &tenant, &token).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List admin tokens, revoked included, oldest first.
#[utoipa::path(get, path = "/admin-tokens", tag = "admin tokens",
    responses((status = 200, body = Vec<AdminTokenView>), (status = 401, body = Problem)))]
pub(super) async fn list_admin_tokens<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
) -> Result<HttpResponse, Problem> {
    state.reader(&req).await?;
    let tokens: Vec<AdminTokenView> = state
        .service
        .tenants()
        .list_admin_tokens()
        .await?
        .into_iter()
        .map(AdminTokenView::from)
        .collect();
    Ok(HttpResponse::Ok().json(tokens))
}

/// Revoke an admin token (issue them with `scimitar admin-token issue`).
#[utoipa::path(delete, path = "/admin-tokens/{token}", tag = "admin tokens",
    params(("token" = String, Path, description = "The admin token id")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(super) async fn revoke_admin_token<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    token: Path<String>,
) -> Result<HttpResponse, Problem> {
    let principal = state.writer(&req).await?;
    state.service.tenants().revoke_admin_token(&token).await?;
    log::info!("admin {}: admin token {token} revoked", principal.token_id);
    Ok(HttpResponse::NoContent().finish())
}
