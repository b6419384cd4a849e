//! scimitar-schema: under construction.
