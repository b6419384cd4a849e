//! The protocol suite (`tests/suite`) through the actix-web adapter (`scimitar-actix`).

mod common;
mod idp;
mod suite;

/// The adapter `common::Server` mounts the engine with.
const ADAPTER: common::Adapter = common::Adapter::Actix;
