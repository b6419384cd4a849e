//! What an evaluator needs to know about attributes beyond the filter itself.

use crate::ast::AttrPath;

/// An attribute's data type (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttrType {
    /// `string`.
    String,
    /// `boolean`.
    Boolean,
    /// `decimal`.
    Decimal,
    /// `integer`.
    Integer,
    /// `dateTime`: an `xsd:dateTime` such as `2008-01-23T04:56:22Z`.
    DateTime,
    /// `binary`: base64-encoded bytes.
    Binary,
    /// `reference`: a URI.
    Reference,
    /// `complex`: sub-attributes.
    Complex,
}

/// Schema knowledge for filter evaluation, implemented by a schema registry.
///
/// Paths are as the filter names them, and for a value filter such as
/// `emails[type eq "work"]` the evaluator asks about the full path, `emails.type`. When a
/// multi-valued complex attribute is compared without a sub-attribute (`emails co "x"`),
/// it asks about its `value` sub-attribute (`emails.value`). Names may be in any case.
pub trait AttributeHints {
    /// Whether string comparisons on this attribute are case-sensitive (RFC 7643
    /// `caseExact`); by default they are not.
    fn case_exact(&self, path: &AttrPath) -> bool {
        let _ = path;
        false
    }

    /// The attribute's declared type, if known; by default unknown.
    fn attr_type(&self, path: &AttrPath) -> Option<AttrType> {
        let _ = path;
        None
    }
}

/// No schema knowledge: strings compare case-insensitively and types are inferred from
/// the values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct NoHints;

impl AttributeHints for NoHints {}

impl<T: AttributeHints + ?Sized> AttributeHints for &T {
    fn case_exact(&self, path: &AttrPath) -> bool {
        (**self).case_exact(path)
    }

    fn attr_type(&self, path: &AttrPath) -> Option<AttrType> {
        (**self).attr_type(path)
    }
}
