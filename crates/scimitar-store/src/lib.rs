//! scimitar-store: under construction.
