//! The console's page shell, its security headers and its error pages.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use maud::{html, Markup, DOCTYPE};

use super::session::Session;
use crate::admin::Problem;

/// The Content-Security-Policy of every console page: its own stylesheet and
/// script, nothing inline, nothing from elsewhere, no framing.
pub(crate) const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; \
     img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

/// The console's sections, for the navigation of a tenant's pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Overview,
    Settings,
    Webhooks,
    Log,
    Users,
    Groups,
}

impl Section {
    const ALL: [(Section, &'static str, &'static str); 6] = [
        (Section::Overview, "", "Connection"),
        (Section::Settings, "/settings", "Settings"),
        (Section::Webhooks, "/webhooks", "Webhooks"),
        (Section::Log, "/log", "Provisioning log"),
        (Section::Users, "/users", "Users"),
        (Section::Groups, "/groups", "Groups"),
    ];
}

/// A whole page: `title`, the signed-in admin, and `body`.
pub(crate) fn page(title: &str, session: Option<&Session>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Scimitar" }
                link rel="stylesheet" href="/admin/assets/console.css";
                script src="/admin/assets/console.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/admin/tenants" { "Scimitar" }
                    @if let Some(session) = session {
                        span.who {
                            "Signed in with " strong { (session.principal.label) }
                            " (" (session.principal.scope.as_str()) ")"
                        }
                        form method="post" action="/admin/logout" {
                            (csrf_field(session))
                            button.link type="submit" { "Sign out" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// The navigation of a tenant's pages, `current` marked.
pub(crate) fn tenant_nav(tenant: &str, current: Section) -> Markup {
    html! {
        nav aria-label="Tenant" {
            a href="/admin/tenants" { "All tenants" }
            " / "
            strong { (tenant) }
            ul.tabs {
                @for (section, path, label) in Section::ALL {
                    li {
                        @if section == current {
                            a href={ "/admin/tenants/" (tenant) (path) } aria-current="page" { (label) }
                        } @else {
                            a href={ "/admin/tenants/" (tenant) (path) } { (label) }
                        }
                    }
                }
            }
        }
    }
}

/// The hidden CSRF field every form carries.
pub(crate) fn csrf_field(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf); }
}

/// A message above a page's content.
pub(crate) fn notice(kind: &str, text: &str) -> Markup {
    html! { p class={ "notice " (kind) } role=(if kind == "error" { "alert" } else { "status" }) { (text) } }
}

/// A page as a response, with the security headers.
pub(crate) fn respond(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(markup.into_string())
}

/// A redirect after a form (303: the browser follows with a GET).
pub(crate) fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// Why a console request was not served.
#[derive(Debug)]
pub(crate) enum ConsoleError {
    /// No session, or an expired one: to the login page.
    SignIn,
    /// A form without this session's CSRF token.
    Csrf,
    /// The admin API's refusal (403 read-only, 404, 400 ...).
    Problem(Problem),
}

impl From<scimitar_store::StoreError> for ConsoleError {
    fn from(error: scimitar_store::StoreError) -> Self {
        ConsoleError::Problem(error.into())
    }
}

impl From<Problem> for ConsoleError {
    fn from(problem: Problem) -> Self {
        ConsoleError::Problem(problem)
    }
}

impl std::fmt::Display for ConsoleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConsoleError::SignIn => f.write_str("not signed in"),
            ConsoleError::Csrf => f.write_str("the form's CSRF token is missing or wrong"),
            ConsoleError::Problem(problem) => problem.fmt(f),
        }
    }
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            ConsoleError::SignIn => StatusCode::SEE_OTHER,
            ConsoleError::Csrf => StatusCode::FORBIDDEN,
            ConsoleError::Problem(problem) => problem.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (title, detail) = match self {
            ConsoleError::SignIn => return see_other("/admin/login"),
            ConsoleError::Csrf => (
                "Form expired",
                "This form is not from this session (its CSRF token is missing or wrong). \
                 Nothing was changed. Go back, reload the page and try again."
                    .to_owned(),
            ),
            ConsoleError::Problem(problem) => (problem.title.as_str(), problem.detail.clone()),
        };
        let body = html! {
            h1 { (title) }
            (notice("error", &detail))
            @if let ConsoleError::Problem(problem) = self {
                @if !problem.errors.is_empty() {
                    ul {
                        @for error in &problem.errors {
                            li { code { (error.field) } ": " (error.message) }
                        }
                    }
                }
            }
            p { a href="/admin/tenants" { "Back to the tenants" } }
        };
        respond(self.status_code(), page(title, None, body))
    }
}
