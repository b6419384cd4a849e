//! A tenant's users and groups, read-only: what an admin checks when a user
//! does not arrive. Searches take SCIM filters and run under the tenant's
//! settings, as its SCIM requests do.

use actix_web::web::{self, Path, Query};
use actix_web::{HttpRequest, HttpResponse};

use super::{AdminParts, DirectoryPage, DirectoryParams, Problem, State};

pub(super) fn routes<P: AdminParts>(
    scope: actix_web::Scope<impl scimitar_actix::ScopeFactory>,
) -> actix_web::Scope<impl scimitar_actix::ScopeFactory> {
    scope
        .route("/tenants/{tenant}/users", web::get().to(list_users::<P>))
        .route("/tenants/{tenant}/users/{id}", web::get().to(get_user::<P>))
        .route("/tenants/{tenant}/groups", web::get().to(list_groups::<P>))
        .route(
            "/tenants/{tenant}/groups/{id}",
            web::get().to(get_group::<P>),
        )
}

/// Search a tenant's users, as `GET /Users` would.
#[utoipa::path(get, path = "/tenants/{tenant}/users", tag = "directory",
    params(("tenant" = String, Path, description = "The tenant id"), DirectoryParams),
    responses((status = 200, body = DirectoryPage), (status = 400, body = Problem),
        (status = 404, body = Problem)))]
pub(super) async fn list_users<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    tenant: Path<String>,
    params: Query<DirectoryParams>,
) -> Result<HttpResponse, Problem> {
    state.reader(&req).await?;
    Ok(HttpResponse::Ok().json(state.search(&tenant, "User", &params).await?))
}

/// Search a tenant's groups, as `GET /Groups` would.
#[utoipa::path(get, path = "/tenants/{tenant}/groups", tag = "directory",
    params(("tenant" = String, Path, description = "The tenant id"), DirectoryParams),
    responses((status = 200, body = DirectoryPage), (status = 400, body = Problem),
        (status = 404, body = Problem)))]
pub(super) async fn list_groups<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    tenant: Path<String>,
    params: Query<DirectoryParams>,
) -> Result<HttpResponse, Problem> {
    state.reader(&req).await?;
    Ok(HttpResponse::Ok().json(state.search(&tenant, "Group", &params).await?))
}

/// Read one of a tenant's users.
#[utoipa::path(get, path = "/tenants/{tenant}/users/{id}", tag = "directory",
    params(("tenant" = String, Path, description = "The tenant id"),
        ("id" = String, Path, description = "The user's SCIM id")),
    responses((status = 200, body = Object), (status = 404, body = Problem)))]
pub(super) async fn get_user<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    path: Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    state.reader(&req).await?;
    Ok(HttpResponse::Ok().json(state.resource(&path.0, "User", &path.1).await?))
}

/// Read one of a tenant's groups.
#[utoipa::path(get, path = "/tenants/{tenant}/groups/{id}", tag = "directory",
    params(("tenant" = String, Path, description = "The tenant id"),
        ("id" = String, Path, description = "The group's SCIM id")),
    responses((status = 200, body = Object), (status = 404, body = Problem)))]
pub(super) async fn get_group<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    path: Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    state.reader(&req).await?;
    Ok(HttpResponse::Ok().json(state.resource(&path.0, "Group", &path.1).await?))
}
