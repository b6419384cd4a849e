//! Tenants (the list, creating one, the enable toggle) and a tenant's connection
//! page: its Tenant URL, its SCIM tokens, and a test of the connection.

use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes, Form, Path};
use actix_web::{HttpRequest, HttpResponse};
use maud::{html, Markup};
use scimitar_protocol::Mount;
use serde::Deserialize;

use super::layout::{
    csrf_field, notice, page, respond, see_other, tenant_nav, ConsoleError, Section,
};
use super::session::Session;
use super::{signed_in, writer, CsrfForm};
use crate::admin::{AdminParts, IssuedScimToken, NewTenant, State, TenantChange, TenantView};

pub(super) fn routes<P: AdminParts>(
    scope: actix_web::Scope<impl scimitar_actix::ScopeFactory>,
) -> actix_web::Scope<impl scimitar_actix::ScopeFactory> {
    scope
        .route("/tenants", web::get().to(tenants::<P>))
        .route("/tenants", web::post().to(create::<P>))
        .route("/tenants/{tenant}", web::get().to(overview::<P>))
        .route("/tenants/{tenant}/enabled", web::post().to(toggle::<P>))
        .route("/tenants/{tenant}/tokens", web::post().to(issue::<P>))
        .route(
            "/tenants/{tenant}/tokens/{token}/revoke",
            web::post().to(revoke::<P>),
        )
        .route(
            "/tenants/{tenant}/test",
            web::post().to(test_connection::<P>),
        )
}

fn toggle_form(session: &Session, tenant: &TenantView, back: &str) -> Markup {
    html! {
        form.inline method="post" action={ "/admin/tenants/" (tenant.id) "/enabled" } {
            (csrf_field(session))
            input type="hidden" name="back" value=(back);
            input type="hidden" name="enabled" value=(if tenant.enabled { "false" } else { "true" });
            @if tenant.enabled {
                button.secondary type="submit" aria-label={ "Disable " (tenant.id) } { "Disable" }
            } @else {
                button type="submit" aria-label={ "Enable " (tenant.id) } { "Enable" }
            }
        }
    }
}

fn state_badge(enabled: bool) -> Markup {
    html! {
        @if enabled { span.badge.ok { "enabled" } } @else { span.badge.off { "disabled" } }
    }
}

async fn tenants<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
) -> Result<HttpResponse, ConsoleError> {
    let session = signed_in::<P>(&state, &req).await?;
    let tenants = state.tenant_views(&req).await?;
    let body = html! {
        h1 { "Tenants" }
        p { "Each tenant is one identity provider connection: its own users, groups, tokens and settings." }
        @if tenants.is_empty() {
            p { "No tenants yet." }
        } @else {
            table {
                caption.visually-hidden { "Tenants" }
                thead { tr { th scope="col" { "Tenant" } th scope="col" { "Name" } th scope="col" { "State" } th scope="col" { "Created" } th scope="col" { span.visually-hidden { "Actions" } } } }
                tbody {
                    @for tenant in &tenants {
                        tr {
                            td { a href={ "/admin/tenants/" (tenant.id) } { (tenant.id) } }
                            td { (tenant.display_name) }
                            td { (state_badge(tenant.enabled)) }
                            td { time { (tenant.created) } }
                            td { @if session.principal.scope.can_write() { (toggle_form(&session, tenant, "/admin/tenants")) } }
                        }
                    }
                }
            }
        }
        @if session.principal.scope.can_write() {
            h2 { "New tenant" }
            form.narrow method="post" action="/admin/tenants" {
                (csrf_field(&session))
                label for="id" { "Tenant id" }
                input #id name="id" required pattern="[a-z0-9._-]{1,63}" aria-describedby="id-help";
                p #id-help .help { "Lowercase letters, digits, ., _ and -: it appears in the Tenant URL." }
                label for="name" { "Display name" }
                input #name name="name";
                button type="submit" { "Create tenant" }
            }
        }
    };
    Ok(respond(
        StatusCode::OK,
        page("Tenants", Some(&session), body),
    ))
}

#[derive(Deserialize)]
struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
}

async fn create<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    form: Form<CreateForm>,
) -> Result<HttpResponse, ConsoleError> {
    let session = writer::<P>(&state, &req, &form.csrf).await?;
    let form = form.into_inner();
    let new = NewTenant {
        id: form.id.trim().to_owned(),
        display_name: Some(form.name),
    };
    let tenant = state.create_tenant(&req, &session.principal, new).await?;
    Ok(see_other(&format!("/admin/tenants/{}", tenant.id)))
}

#[derive(Deserialize)]
struct ToggleForm {
    #[serde(default)]
    csrf: String,
    enabled: bool,
    #[serde(default)]
    back: String,
}

async fn toggle<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    tenant: Path<String>,
    form: Form<ToggleForm>,
) -> Result<HttpResponse, ConsoleError> {
    let session = writer::<P>(&state, &req, &form.csrf).await?;
    let change = TenantChange {
        display_name: None,
        enabled: Some(form.enabled),
    };
    state
        .change_tenant(&req, &session.principal, &tenant, change)
        .await?;
    // Back to a console page only.
    let back = if form.back.starts_with("/admin/") && !form.back.contains("//") {
        form.back.clone()
    } else {
        format!("/admin/tenants/{tenant}")
    };
    Ok(see_other(&back))
}

/// What the connection page shows beside the tenant: a token just issued, or
/// the result of a connection test.
enum Outcome {
    None,
    Issued(IssuedScimToken),
    Tested { status: u16, detail: String },
}

async fn connection_page<P: AdminParts>(
    req: &HttpRequest,
    state: &State<P>,
    session: &Session,
    tenant: &str,
    outcome: Outcome,
) -> Result<HttpResponse, ConsoleError> {
    let view = state.tenant_view(req, tenant).await?;
    let tokens = state.scim_tokens(tenant).await?;
    let write = session.principal.scope.can_write();
    let back = format!("/admin/tenants/{tenant}");
    let body = html! {
        (tenant_nav(tenant, Section::Overview))
        h1 { (view.display_name) " " (state_badge(view.enabled)) }
        @if write { (toggle_form(session, &view, &back)) }
        h2 { "Tenant URL" }
        p { "Paste it into the identity provider (Entra ID: Provisioning › Admin Credentials › Tenant URL)." }
        div.copyable {
            code #tenant-url { (view.scim_url) }
            button.secondary type="button" data-copy="tenant-url" { "Copy" }
        }
        @if let Outcome::Issued(issued) = &outcome {
            section.new-token aria-labelledby="new-token-title" {
                h2 #new-token-title { "New token: " (issued.record.label) }
                (notice("warning", "Copy it now: it is shown only this once and cannot be recovered."))
                div.copyable {
                    code #new-token { (issued.token) }
                    button type="button" data-copy="new-token" { "Copy" }
                }
                p { "Paste it as the Secret Token. To rotate, issue another, paste it, then revoke this one." }
            }
        }
        h2 { "Tokens" }
        @if tokens.is_empty() {
            p { "No tokens yet: issue one for the identity provider." }
        } @else {
            table {
                caption.visually-hidden { "SCIM tokens" }
                thead { tr { th scope="col" { "Label" } th scope="col" { "Id" } th scope="col" { "Created" } th scope="col" { "Last used" } th scope="col" { "Expires" } th scope="col" { "State" } th scope="col" { span.visually-hidden { "Actions" } } } }
                tbody {
                    @for token in &tokens {
                        tr {
                            td { (token.label) }
                            td { code { (token.id) } }
                            td { (token.created) }
                            td { (token.last_used.as_deref().unwrap_or("never")) }
                            td { (token.expires_at.as_deref().unwrap_or("never")) }
                            td {
                                @if let Some(at) = &token.revoked_at { span.badge.off { "revoked " (at) } }
                                @else { span.badge.ok { "active" } }
                            }
                            td {
                                @if write && token.revoked_at.is_none() {
                                    form.inline method="post" action={ "/admin/tenants/" (tenant) "/tokens/" (token.id) "/revoke" }
                                        data-confirm={ "Revoke token " (token.label) "? Clients using it are refused at once." } {
                                        (csrf_field(session))
                                        button.danger type="submit" aria-label={ "Revoke token " (token.label) } { "Revoke" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if write {
            form.narrow method="post" action={ "/admin/tenants/" (tenant) "/tokens" } {
                (csrf_field(session))
                label for="label" { "Label" }
                input #label name="label" required maxlength="100" placeholder="entra-prod";
                label for="expires" { "Expires after (days; empty: never)" }
                input #expires name="expires_in_days" type="number" min="1" max="3650";
                button type="submit" { "Generate token" }
            }
        }
        h2 { "Test the connection" }
        p { "Sends the request Entra ID's Test Connection sends, with the token you paste, and shows the answer." }
        @if let Outcome::Tested { status, detail } = &outcome {
            @if *status == 200 {
                (notice("ok", &format!("Connected: the SCIM endpoint answered {status}. {detail}")))
            } @else {
                (notice("error", &format!("The SCIM endpoint answered {status}: {detail}")))
            }
        }
        form.narrow method="post" action={ "/admin/tenants/" (tenant) "/test" } {
            (csrf_field(session))
            label for="test-token" { "Token" }
            input #test-token type="password" name="token" required autocomplete="off" placeholder="scim_…";
            button.secondary type="submit" { "Test connection" }
        }
    };
    Ok(respond(
        StatusCode::OK,
        page(&view.display_name, Some(session), body),
    ))
}

async fn overview<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    tenant: Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let session = signed_in::<P>(&state, &req).await?;
    connection_page::<P>(&req, &state, &session, &tenant, Outcome::None).await
}

#[derive(Deserialize)]
struct IssueForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    label: String,
    /// Days until it expires; empty: never.
    #[serde(default)]
    expires_in_days: String,
}

async fn issue<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    tenant: Path<String>,
    form: Form<IssueForm>,
) -> Result<HttpResponse, ConsoleError> {
    let session = writer::<P>(&state, &req, &form.csrf).await?;
    let days = match form.expires_in_days.trim() {
        "" => None,
        days => Some(days.parse::<u32>().map_err(|_| {
            crate::admin::Problem::invalid_field("expiresInDays", "must be a number of days")
        })?),
    };
    let issued = state
        .issue_scim_token(&req, &session.principal, &tenant, &form.label, days)
        .await?;
    // Rendered, not redirected: the token exists in this response only.
    connection_page::<P>(&req, &state, &session, &tenant, Outcome::Issued(issued)).await
}

async fn revoke<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    path: Path<(String, String)>,
    form: Form<CsrfForm>,
) -> Result<HttpResponse, ConsoleError> {
    let session = writer::<P>(&state, &req, &form.csrf).await?;
    let (tenant, token) = path.into_inner();
    state
        .revoke_scim_token(&session.principal, &tenant, &token)
        .await?;
    Ok(see_other(&format!("/admin/tenants/{tenant}")))
}

#[derive(Deserialize)]
struct TestForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
}

async fn test_connection<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    tenant: Path<String>,
    form: Form<TestForm>,
) -> Result<HttpResponse, ConsoleError> {
    let session = signed_in::<P>(&state, &req).await?;
    if !session.csrf_matches(&form.csrf) {
        return Err(ConsoleError::Csrf);
    }
    // Entra ID's Test Connection: a filter that matches nobody, on the tenant URL.
    let base = format!("/tenants/{tenant}/scim/v2");
    let request = http::Request::get(format!(
        "{base}/Users?filter=userName%20eq%20%22scimitar-connection-test%22"
    ))
    .header("authorization", format!("Bearer {}", form.token.trim()))
    .header("user-agent", "Scimitar console (test connection)")
    .body(Bytes::new());
    let (status, detail) = match request {
        Ok(request) => {
            let mount = Mount {
                base_path: base,
                rest: "/Users".into(),
                tenant: Some(tenant.to_string()),
            };
            let response = state.service.engine().handle(request, mount).await;
            let status = response.status().as_u16();
            let body: serde_json::Value =
                serde_json::from_slice(response.body()).unwrap_or_default();
            let detail = match body["detail"].as_str() {
                Some(detail) => detail.to_owned(),
                None if status == 200 => "The token is valid for this tenant.".to_owned(),
                None => "no detail".to_owned(),
            };
            (status, detail)
        }
        Err(_) => (
            400,
            "That token cannot be sent in a header: paste it again.".to_owned(),
        ),
    };
    connection_page::<P>(
        &req,
        &state,
        &session,
        &tenant,
        Outcome::Tested { status, detail },
    )
    .await
}
