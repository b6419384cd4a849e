//! scimitar-filter: under construction (issue 2).

pub mod ast;
