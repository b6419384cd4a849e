//! scimitar-diesel: under construction.
