//! The app's own routes, as they were before SCIM: its people, read with one of
//! its API keys.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::db::Db;
use crate::schema::users;

/// A person as the app lists them.
#[derive(Queryable)]
struct Person {
    login: String,
    first_name: Option<String>,
    last_name: Option<String>,
    active: Option<bool>,
    department: Option<String>,
}

/// `GET /api/people`: the caller's organization's people.
pub fn routes(db: Db) -> Router {
    Router::new()
        .route("/api/people", get(people))
        .route("/health", get(|| async { "ok" }))
        .with_state(db)
}

async fn people(State(db): State<Db>, headers: HeaderMap) -> Result<Json<Value>, StatusCode> {
    let key = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or(StatusCode::UNAUTHORIZED)?;
    tokio::task::block_in_place(|| {
        let (org, _) = db
            .find_api_key(key)
            .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?
            .ok_or(StatusCode::UNAUTHORIZED)?;
        let mut conn = db.conn().map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
        let people: Vec<Person> = users::table
            .filter(users::org.eq(&org))
            .order(users::login_key)
            .select((
                users::login,
                users::first_name,
                users::last_name,
                users::active,
                users::department,
            ))
            .load(&mut conn)
            .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
        let people: Vec<Value> = people
            .into_iter()
            .map(|p| {
                json!({"login": p.login, "firstName": p.first_name, "lastName": p.last_name,
                       "active": p.active.unwrap_or(true), "department": p.department})
            })
            .collect();
        Ok(Json(json!({ "people": people })))
    })
}
