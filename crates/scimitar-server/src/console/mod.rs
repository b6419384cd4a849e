//! The web console at `/admin`: the admin flows of the identity providers'
//! guides as pages, over the same operations as the admin API.
//!
//! Pages are rendered on the server (maud); one stylesheet and one small script
//! are compiled into the binary and served from `/admin/assets`. Every form
//! works without the script, which only adds copy buttons, confirmations and the
//! log's live updates. A strict Content-Security-Policy allows nothing else, so
//! the console makes no third-party request. Sign-in takes an admin token and
//! keeps a session cookie ([`session`]); every form carries a CSRF token. A
//! `read-only` admin token sees everything and changes nothing.

mod directory_pages;
mod layout;
mod log_page;
mod session;
mod settings_page;
mod tenant_pages;
mod webhook_pages;

use actix_web::http::StatusCode;
use actix_web::web::{self, Form};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use maud::html;
use scimitar_store::TenantStore;
use serde::Deserialize;

use crate::admin::{AdminParts, Problem, State};
use layout::{page, respond, see_other, ConsoleError};
use session::Session;

const STYLESHEET: &str = include_str!("assets/console.css");
const SCRIPT: &str = include_str!("assets/console.js");

/// The console's routes, added to a scope that holds the admin state.
pub(crate) fn routes<P: AdminParts>(
    scope: actix_web::Scope<impl scimitar_actix::ScopeFactory>,
) -> actix_web::Scope<impl scimitar_actix::ScopeFactory> {
    let scope = scope
        .app_data(web::FormConfig::default().limit(crate::admin::MAX_BODY_BYTES))
        .route("", web::get().to(home::<P>))
        .route("/", web::get().to(home::<P>))
        .route("/assets/console.css", web::get().to(stylesheet))
        .route("/assets/console.js", web::get().to(script))
        .route("/login", web::get().to(login_page::<P>))
        .route("/login", web::post().to(login::<P>))
        .route("/logout", web::post().to(logout::<P>));
    let scope = tenant_pages::routes::<P>(scope);
    let scope = settings_page::routes::<P>(scope);
    let scope = webhook_pages::routes::<P>(scope);
    let scope = log_page::routes::<P>(scope);
    directory_pages::routes::<P>(scope).default_service(web::to(|| async {
        ConsoleError::Problem(Problem::not_found("There is no such console page.")).error_response()
    }))
}

/// The session of `req`, or a redirect to the login page.
pub(crate) async fn signed_in<P: AdminParts>(
    state: &State<P>,
    req: &HttpRequest,
) -> Result<Session, ConsoleError> {
    session::session(&**state.service.tenants(), req)
        .await
        .ok_or(ConsoleError::SignIn)
}

/// The session of a form that changes something: signed in, the form's CSRF
/// token, and a token that may write.
pub(crate) async fn writer<P: AdminParts>(
    state: &State<P>,
    req: &HttpRequest,
    csrf: &str,
) -> Result<Session, ConsoleError> {
    let session = signed_in::<P>(state, req).await?;
    if !session.csrf_matches(csrf) {
        return Err(ConsoleError::Csrf);
    }
    if !session.principal.scope.can_write() {
        return Err(Problem::forbidden(format!(
            "admin token {} is read-only: it cannot change anything",
            session.principal.token_id
        ))
        .into());
    }
    Ok(session)
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "max-age=3600"))
        .body(STYLESHEET)
}

async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "max-age=3600"))
        .body(SCRIPT)
}

async fn home<P: AdminParts>(req: HttpRequest, state: State<P>) -> HttpResponse {
    match signed_in::<P>(&state, &req).await {
        Ok(_) => see_other("/admin/tenants"),
        Err(_) => see_other("/admin/login"),
    }
}

fn login_form(secure: bool, error: Option<&str>, status: StatusCode) -> HttpResponse {
    let (cookie, value) = session::login_cookie(secure);
    let body = html! {
        h1 { "Sign in" }
        @if let Some(error) = error { (layout::notice("error", error)) }
        form.narrow method="post" action="/admin/login" {
            input type="hidden" name="csrf" value=(value);
            label for="token" { "Admin token" }
            input #token type="password" name="token" autocomplete="off" required
                placeholder="scimadm_…" aria-describedby="token-help";
            p #token-help .help {
                "Issue one on the server with "
                code { "scimitar admin-token issue --label you" }
                "."
            }
            button type="submit" { "Sign in" }
        }
    };
    let mut response = respond(status, page("Sign in", None, body));
    let _ = response.add_cookie(&cookie);
    response
}

async fn login_page<P: AdminParts>(req: HttpRequest, state: State<P>) -> HttpResponse {
    login_form(state.is_https(&req), None, StatusCode::OK)
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
}

async fn login<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    form: Form<LoginForm>,
) -> HttpResponse {
    let secure = state.is_https(&req);
    if !session::login_form_matches(&req, &form.csrf) {
        return login_form(
            secure,
            Some("The sign-in form expired. Try again."),
            StatusCode::FORBIDDEN,
        );
    }
    let tenants = &**state.service.tenants();
    let token = form.token.trim();
    let principal = crate::admin::verify_issued_token(tenants, token).await;
    let record = match principal {
        Some(principal) => tenants
            .find_admin_token(&principal.token_id)
            .await
            .ok()
            .flatten(),
        None => None,
    };
    let Some(record) = record else {
        return login_form(
            secure,
            Some("That is not an active admin token."),
            StatusCode::UNAUTHORIZED,
        );
    };
    log::info!("console: admin token {} signed in", record.id);
    let mut response = see_other("/admin/tenants");
    let _ = response.add_cookie(&session::session_cookie(&record.id, &record.hash, secure));
    let _ = response.add_removal_cookie(&session::removal(session::LOGIN_COOKIE));
    response
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    pub(crate) csrf: String,
}

async fn logout<P: AdminParts>(
    req: HttpRequest,
    state: State<P>,
    form: Form<CsrfForm>,
) -> Result<HttpResponse, ConsoleError> {
    let session = signed_in::<P>(&state, &req).await?;
    if !session.csrf_matches(&form.csrf) {
        return Err(ConsoleError::Csrf);
    }
    let mut response = see_other("/admin/login");
    let _ = response.add_removal_cookie(&session::removal(session::SESSION_COOKIE));
    Ok(response)
}
