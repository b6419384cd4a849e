//! scimitar-patch: under construction.
