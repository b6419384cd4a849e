//! The protocol suite (`tests/suite`) through the tower adapter (`scimitar-tower`) under hyper.

mod common;
mod idp;
mod suite;

/// The adapter `common::Server` mounts the engine with.
const ADAPTER: common::Adapter = common::Adapter::Tower;
