//! The protocol suite: every test here runs once per adapter (`tests/actix.rs`,
//! `tests/tower.rs`), against a real HTTP server of that adapter.

mod auth;
mod idp_flows;
mod me;
mod protocol;
