//! SCIM 2.0 filters, PATCH paths and attribute lists: a parser, a syntax tree, canonical
//! printing and (with the default `json` feature) an evaluator over JSON resources.
//!
//! ```
//! use scimitar_filter::{parse_filter, parse_path, ast::{CompareOp, Filter}};
//!
//! // Keywords are case-insensitive and `and` binds tighter than `or`.
//! let filter = parse_filter(r#"userName Eq "bjensen" AND active eq true or title pr"#)?;
//! assert!(matches!(&filter, Filter::Or(operands) if operands.len() == 2));
//!
//! // Printing is canonical, and parsing the text gives back the same tree.
//! let text = filter.to_string();
//! assert_eq!(text, r#"userName eq "bjensen" and active eq true or title pr"#);
//! assert_eq!(parse_filter(&text)?, filter);
//! assert_eq!(
//!     filter.to_parenthesized_string(),
//!     r#"((userName eq "bjensen" and active eq true) or title pr)"#
//! );
//!
//! // PATCH paths, with value filters and sub-attributes.
//! let path = parse_path(r#"emails[type eq "work"].value"#)?;
//! assert_eq!(path.to_string(), r#"emails[type eq "work"].value"#);
//!
//! // Errors say where and what, in words an administrator can act on.
//! let err = parse_filter(r#"userName = "bjensen""#).unwrap_err();
//! assert_eq!(err.scim_type(), "invalidFilter");
//! assert_eq!(
//!     err.to_string(),
//!     r#"invalid filter at position 9: expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le) or "pr", found "=""#
//! );
//! # Ok::<(), scimitar_filter::ParseError>(())
//! ```
//!
//! Evaluation (feature `json`, on by default) follows SCIM's rules: names and, unless
//! the schema says `caseExact`, values compare case-insensitively; multi-valued
//! attributes match when any value does; date-times compare as instants. See
//! [`matches`] for every rule and [`AttributeHints`] for the schema knowledge it uses.
//!
//! ```
//! # #[cfg(feature = "json")] {
//! use scimitar_filter::{parse_filter, NoHints};
//! use serde_json::json;
//!
//! let user = json!({
//!     "userName": "BJensen",
//!     "emails": [{"type": "work", "value": "bjensen@example.com"}],
//!     "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984"}
//! });
//! let filter = parse_filter(
//!     r#"userName eq "bjensen" and emails[type eq "work"] and urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber pr"#,
//! )
//! .unwrap();
//! assert!(filter.matches(&user, &NoHints));
//! # }
//! ```
//!
//! # Grammar
//!
//! All of RFC 7644 §3.4.2.2 (filters) and §3.5.2 (PATCH paths), plus:
//! - keywords (`and`, `or`, `not`, operators, `true`, `false`, `null`) in any case;
//! - any amount of spaces, tabs or line breaks between tokens;
//! - schema URN prefixes: the URN is everything before the last `:` of the path;
//! - `$ref` as an attribute or sub-attribute name (`members.$ref`);
//! - strings and numbers exactly as JSON defines them (RFC 8259), every escape included.
//!
//! Hostile input is cut short by [`Limits`] on length, nesting depth and number of
//! terms: parsing never overflows the stack and takes time linear in the input.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod ast;
#[cfg(feature = "json")]
mod datetime;
mod error;
#[cfg(feature = "json")]
mod eval;
mod hints;
mod parser;
mod print;

use std::str::FromStr;

pub use error::{ErrorKind, ErrorReason, Expected, ParseError};
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub use eval::matches;
pub use hints::{AttrType, AttributeHints, NoHints};
pub use parser::{Limits, Parser};

/// Parses a filter (RFC 7644 §3.4.2.2) with the default [`Limits`].
///
/// ```
/// use scimitar_filter::{parse_filter, ast::{AttrPath, CompValue, CompareOp, Filter}};
///
/// assert_eq!(
///     parse_filter(r#"userName eq "bjensen""#).unwrap(),
///     Filter::Compare {
///         path: AttrPath::new("userName"),
///         op: CompareOp::Eq,
///         value: CompValue::String("bjensen".into()),
///     }
/// );
/// ```
pub fn parse_filter(input: &str) -> Result<ast::Filter, ParseError> {
    Parser::default().filter(input)
}

/// Parses a PATCH operation's `path` (RFC 7644 §3.5.2) with the default [`Limits`].
///
/// ```
/// use scimitar_filter::{parse_path, ast::{AttrPath, PatchPath}};
///
/// assert_eq!(
///     parse_path("name.familyName").unwrap(),
///     PatchPath::Attr(AttrPath::new("name").with_sub_attr("familyName"))
/// );
/// ```
pub fn parse_path(input: &str) -> Result<ast::PatchPath, ParseError> {
    Parser::default().path(input)
}

/// Parses one attribute path, such as a `sortBy` parameter, with the default [`Limits`].
///
/// ```
/// let path = scimitar_filter::parse_attr_path(
///     "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
/// ).unwrap();
/// assert_eq!(path.schema.as_deref(), Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));
/// assert_eq!(path.name, "manager");
/// assert_eq!(path.sub_attr.as_deref(), Some("value"));
/// ```
pub fn parse_attr_path(input: &str) -> Result<ast::AttrPath, ParseError> {
    Parser::default().attr_path(input)
}

/// Parses an `attributes` or `excludedAttributes` list with the default [`Limits`];
/// empty input gives an empty list.
///
/// ```
/// let paths = scimitar_filter::parse_attr_list("userName, name.familyName,emails").unwrap();
/// let names: Vec<String> = paths.iter().map(ToString::to_string).collect();
/// assert_eq!(names, ["userName", "name.familyName", "emails"]);
/// ```
pub fn parse_attr_list(input: &str) -> Result<Vec<ast::AttrPath>, ParseError> {
    Parser::default().attr_list(input)
}

impl FromStr for ast::Filter {
    type Err = ParseError;

    fn from_str(input: &str) -> Result<Self, ParseError> {
        parse_filter(input)
    }
}

impl FromStr for ast::PatchPath {
    type Err = ParseError;

    fn from_str(input: &str) -> Result<Self, ParseError> {
        parse_path(input)
    }
}

impl FromStr for ast::AttrPath {
    type Err = ParseError;

    fn from_str(input: &str) -> Result<Self, ParseError> {
        parse_attr_path(input)
    }
}

/// The README's example, compiled and run as a doctest.
#[cfg(all(doctest, feature = "json"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
