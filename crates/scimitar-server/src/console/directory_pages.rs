//! A tenant's users and groups, read-only, searched with SCIM filters.

use actix_web::http::StatusCode;
use actix_web::web::{self, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use maud::html;
use serde_json::Value;

use super::layout::{notice, page, respond, tenant_nav, ConsoleError, Section};
use super::signed_in;
use crate::admin::{AdminParts, DirectoryParams, State};

pub(super) fn routes<P: AdminParts>(
    scope: actix_web::Scope<impl scimitar_actix::ScopeFactory>,
) -> actix_web::Scope<impl scimitar_actix::ScopeFactory> {
    scope
        .route("/tenants/{tenant}/users", web::get().to(users::<P>))
        .route("/tenants/{tenant}/groups", web::get().to(groups::<P>))
}

fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

async fn listing<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    tenant: &str,
    params: &DirectoryParams,
    users: bool,
) -> Result<HttpResponse, ConsoleError> {
    let session = signed_in::<P>(&state, &req).await?;
    let (resource_type, title, section) = if users {
        ("User", "Users", Section::Users)
    } else {
        ("Group", "Groups", Section::Groups)
    };
    let (page_result, error) = match state.search(tenant, resource_type, params).await {
        Ok(found) => (Some(found), None),
        Err(problem) if problem.status == 400 => (None, Some(problem.detail)),
        Err(problem) => return Err(problem.into()),
    };
    let example = if users {
        "userName sw \"a\" and active eq true"
    } else {
        "displayName co \"sales\""
    };
    let body = html! {
        (tenant_nav(tenant, section))
        h1 { (title) }
        form.filters method="get" role="search" {
            label for="filter" { "SCIM filter" }
            input #filter name="filter" size="50" value=(params.filter.as_deref().unwrap_or("")) placeholder=(example);
            button type="submit" { "Search" }
        }
        @if let Some(error) = &error { (notice("error", error)) }
        @if let Some(found) = &page_result {
            p { (found.total_results) " found" @if found.total_results > found.resources.len() { ", showing " (found.resources.len()) } "." }
            table {
                caption.visually-hidden { (title) }
                @if users {
                    thead { tr { th scope="col" { "userName" } th scope="col" { "Name" } th scope="col" { "Active" } th scope="col" { "Department" } th scope="col" { "id" } } }
                    tbody {
                        @for user in &found.resources {
                            tr {
                                td { (text(&user["userName"])) }
                                td { (text(&user["name"]["formatted"])) @if user["name"]["formatted"].is_null() { (text(&user["displayName"])) } }
                                td { (text(&user["active"])) }
                                td { (text(&user["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"])) }
                                td { code { (text(&user["id"])) } }
                            }
                        }
                    }
                } @else {
                    thead { tr { th scope="col" { "displayName" } th scope="col" { "Members" } th scope="col" { "id" } } }
                    tbody {
                        @for group in &found.resources {
                            tr {
                                td { (text(&group["displayName"])) }
                                td { (group["members"].as_array().map_or(0, Vec::len)) }
                                td { code { (text(&group["id"])) } }
                            }
                        }
                    }
                }
            }
        }
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok(respond(status, page(title, Some(&session), body)))
}

async fn users<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    tenant: Path<String>,
    params: Query<DirectoryParams>,
) -> Result<HttpResponse, ConsoleError> {
    listing::<P>(req, state, &tenant, &params, true).await
}

async fn groups<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    tenant: Path<String>,
    params: Query<DirectoryParams>,
) -> Result<HttpResponse, ConsoleError> {
    listing::<P>(req, state, &tenant, &params, false).await
}
