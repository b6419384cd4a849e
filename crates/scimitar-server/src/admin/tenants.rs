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
    let all = state.service.tenants().list_tenants().await?;
    let after = paging.cursor.as_deref().unwrap_or("");
    let mut rest = all.into_iter().filter(|tenant| tenant.id.as_str() > after);
    let tenants: Vec<TenantView> = rest
        .by_ref()
        .take(limit)
        .map(|tenant| {
            let url = state.scim_url(&req, &tenant.id);
            TenantView::new(tenant, url)
        })
        .collect();
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
    let NewTenant { id, display_name } = body.into_inner();
    let name = display_name.unwrap_or_else(|| id.clone());
    let tenant = state
        .service
        .tenants()
        .create_tenant(&id, &name, serde_json::json!({}))
        .await
        .map_err(|error| match error {
            scimitar_store::StoreError::InvalidValue(message) => {
                Problem::invalid_field("id", message)
            }
            other => other.into(),
        })?;
    log::info!("admin {}: tenant {id} created", principal.token_id);
    let url = state.scim_url(&req, &tenant.id);
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("{}/tenants/{id}", req.path().trim_end_matches("/tenants")),
        ))
        .json(TenantView::new(tenant, url)))
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
    let tenant = state.service.tenants().get_tenant(&tenant).await?;
    let url = state.scim_url(&req, &tenant.id);
    Ok(HttpResponse::Ok().json(TenantView::new(tenant, url)))
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
    let change = body.into_inner();
    if change
        .display_name
        .as_deref()
        .is_some_and(|name| name.trim().is_empty())
    {
        return Err(Problem::invalid_field(
            "displayName",
            "a name cannot be empty",
        ));
    }
    // Unknown tenants are 404 before anything is written.
    let mut current = state.service.tenants().get_tenant(&tenant).await?;
    if let Some(name) = change.display_name {
        current = state
            .service
            .tenants()
            .rename_tenant(&tenant, &name)
            .await?;
    }
    if let Some(enabled) = change.enabled {
        state.service.set_tenant_enabled(&tenant, enabled).await?;
        current.enabled = enabled;
        log::info!(
            "admin {}: tenant {tenant} {}",
            principal.token_id,
            if enabled { "enabled" } else { "disabled" }
        );
    }
    let url = state.scim_url(&req, &current.id);
    Ok(HttpResponse::Ok().json(TenantView::new(current, url)))
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
    state.service.delete_tenant(&tenant).await?;
    log::info!("admin {}: tenant {tenant} deleted", principal.token_id);
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
    let tenants = state.service.tenants();
    tenants.get_tenant(&tenant).await?;
    let tokens: Vec<ScimTokenView> = tenants
        .list_tokens(&tenant)
        .await?
        .into_iter()
        .map(ScimTokenView::from)
        .collect();
    Ok(HttpResponse::Ok().json(tokens))
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
    let label = body.into_inner().label;
    if label.trim().is_empty() || label.chars().count() > 100 {
        return Err(Problem::invalid_field(
            "label",
            "a label is 1 to 100 characters, such as entra-prod",
        ));
    }
    let issued = crate::issue_token(&**state.service.tenants(), &tenant, &label)
        .await
        .map_err(|crate::TokenError::Store(error)| Problem::from(error))?;
    log::info!(
        "admin {}: SCIM token {} issued for tenant {tenant}",
        principal.token_id,
        issued.record.id
    );
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(IssuedScimToken {
            token: issued.token,
            scim_url: state.scim_url(&req, &tenant),
            record: issued.record.into(),
        }))
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
    // A token of another tenant is not this tenant's to revoke.
    let found = state.service.tenants().find_token(&token).await?;
    if found.is_none_or(|found| found.tenant != tenant) {
        return Err(Problem::not_found(format!(
            "tenant `{tenant}` has no token `{token}`"
        )));
    }
    state.service.revoke_token(&token).await?;
    log::info!(
        "admin {}: SCIM token {token} of tenant {tenant} revoked",
        principal.token_id
    );
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
