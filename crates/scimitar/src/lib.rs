//! Scimitar facade: re-exports the libraries for embedders.

pub use scimitar_actix as actix;
pub use scimitar_filter as filter;
pub use scimitar_patch as patch;
pub use scimitar_schema as schema;
pub use scimitar_store as store;
