//! The host app's own HTTP routes, beside the SCIM scope.

use actix_web::http::StatusCode;
use actix_web::web::{self, Data, Json, Path};
use actix_web::{HttpResponse, ResponseError};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;

use crate::tables::{BookingError, Tables};

/// Why an app route failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The booking was refused.
    #[error(transparent)]
    Booking(#[from] BookingError),
    /// No appointment has this id.
    #[error("no appointment {0}")]
    NoAppointment(u64),
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Booking(BookingError::UnknownHost(_)) | AppError::NoAppointment(_) => {
                StatusCode::NOT_FOUND
            }
            AppError::Booking(BookingError::InactiveHost(_)) => StatusCode::CONFLICT,
            AppError::Booking(BookingError::InThePast) => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code()).json(json!({"error": self.to_string()}))
    }
}

/// `POST /appointments`'s body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAppointment {
    /// The host's SCIM user id.
    pub host: String,
    /// Guest email addresses.
    #[serde(default)]
    pub guests: Vec<String>,
    /// When it starts (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
}

/// Adds the app's routes: `GET /accounts`, `POST /appointments`,
/// `GET /appointments/{id}`, `GET /notifications`. They expect the [`Tables`] as
/// app data.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/accounts", web::get().to(accounts))
        .route("/appointments", web::post().to(book))
        .route("/appointments/{id}", web::get().to(appointment))
        .route("/notifications", web::get().to(notifications));
}

async fn accounts(tables: Data<Tables>) -> HttpResponse {
    HttpResponse::Ok().json(tables.accounts())
}

async fn book(tables: Data<Tables>, body: Json<NewAppointment>) -> Result<HttpResponse, AppError> {
    let NewAppointment {
        host,
        guests,
        starts_at,
    } = body.into_inner();
    let appointment = tables.book(&host, guests, starts_at, OffsetDateTime::now_utc())?;
    Ok(HttpResponse::Created().json(appointment))
}

async fn appointment(tables: Data<Tables>, id: Path<u64>) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let appointment = tables.appointment(id).ok_or(AppError::NoAppointment(id))?;
    Ok(HttpResponse::Ok().json(appointment))
}

async fn notifications(tables: Data<Tables>) -> HttpResponse {
    HttpResponse::Ok().json(tables.notifications())
}
