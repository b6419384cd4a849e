//! A tenant's users and groups, read-only: what an admin checks when a user
//! does not arrive. Searches take SCIM filters and run under the tenant's
//! settings, as its SCIM requests do.

use actix_web::web::{self, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use scimitar_store::query::Paging;
use scimitar_store::{Projection, Scope, SortOrder, Store, TenantStore};

use super::{AdminParts, DirectoryPage, DirectoryParams, Problem, State};

/// The most resources one page holds.
const MAX_COUNT: usize = 200;
const DEFAULT_COUNT: usize = 50;

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

async fn search<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    tenant: &str,
    resource_type: &str,
    params: &DirectoryParams,
) -> Result<HttpResponse, Problem> {
    state.reader(&req).await?;
    let parser = state.service.engine().limits_enforced().parser();
    let mut query = scimitar_store::Query::with_paging(Paging::Index {
        start_index: params.start_index.unwrap_or(1).max(1),
        count: params.count.unwrap_or(DEFAULT_COUNT).min(MAX_COUNT),
    });
    if let Some(filter) = params
        .filter
        .as_deref()
        .filter(|text| !text.trim().is_empty())
    {
        let filter = parser
            .filter(filter)
            .map_err(|error| Problem::invalid_field("filter", error.to_string()))?;
        query = query.filter(filter);
    }
    if let Some(sort_by) = params.sort_by.as_deref().filter(|text| !text.is_empty()) {
        let path = parser
            .attr_path(sort_by)
            .map_err(|error| Problem::invalid_field("sortBy", error.to_string()))?;
        let order = match params.sort_order.as_deref() {
            None | Some("ascending") => SortOrder::Ascending,
            Some("descending") => SortOrder::Descending,
            Some(other) => {
                return Err(Problem::invalid_field(
                    "sortOrder",
                    format!("{other:?} is neither ascending nor descending"),
                ))
            }
        };
        query = query.sort(path, order);
    }
    let tenant = state.service.tenants().get_tenant(tenant).await?;
    let context = state.service.tenant_context(&tenant);
    let scope =
        Scope::new(&tenant.id, &context.registry, &context.policy).with_settings(&context.settings);
    let page = state
        .service
        .store()
        .query(&scope, resource_type, &query)
        .await?;
    Ok(HttpResponse::Ok().json(DirectoryPage {
        total_results: page.total_results,
        start_index: page.start_index.unwrap_or(1),
        resources: page.resources,
    }))
}

async fn read<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    tenant: &str,
    resource_type: &str,
    id: &str,
) -> Result<HttpResponse, Problem> {
    state.reader(&req).await?;
    let tenant = state.service.tenants().get_tenant(tenant).await?;
    let context = state.service.tenant_context(&tenant);
    let scope =
        Scope::new(&tenant.id, &context.registry, &context.policy).with_settings(&context.settings);
    let resource = state
        .service
        .store()
        .get(&scope, resource_type, id, &Projection::default())
        .await?;
    Ok(HttpResponse::Ok().json(resource))
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
    search::<P>(req, state, &tenant, "User", &params).await
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
    search::<P>(req, state, &tenant, "Group", &params).await
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
    read::<P>(req, state, &path.0, "User", &path.1).await
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
    read::<P>(req, state, &path.0, "Group", &path.1).await
}
