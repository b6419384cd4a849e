//! scimitar-actix: under construction.
