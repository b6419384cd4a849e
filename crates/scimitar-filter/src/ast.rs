//! The syntax tree of filters, PATCH paths and attribute lists.
//!
//! The tree is deliberately plain data so that a storage backend can walk it and
//! translate it into its own query language (the Diesel store turns it into SQL).
//! Attribute and schema names keep the spelling the client used; SCIM compares them
//! case-insensitively, so consumers must too (see [`AttrPath::matches`]).

/// A path to an attribute: an optional schema URN, an attribute name and an optional
/// sub-attribute.
///
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value` is
/// `schema = Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")`,
/// `name = "manager"`, `sub_attr = Some("value")`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    /// The schema URN prefix, without the trailing colon, as written.
    pub schema: Option<String>,
    /// The attribute name, as written.
    pub name: String,
    /// The sub-attribute name, as written.
    pub sub_attr: Option<String>,
}

impl AttrPath {
    /// A path to a top-level attribute with no schema prefix.
    pub fn new(name: impl Into<String>) -> Self {
        AttrPath {
            schema: None,
            name: name.into(),
            sub_attr: None,
        }
    }

    /// This path with a sub-attribute.
    pub fn with_sub_attr(mut self, sub_attr: impl Into<String>) -> Self {
        self.sub_attr = Some(sub_attr.into());
        self
    }

    /// This path with a schema URN prefix (without the trailing colon).
    pub fn with_schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// Whether this path names `name` (and `sub_attr`), ignoring ASCII case and
    /// ignoring the schema prefix.
    pub fn matches(&self, name: &str, sub_attr: Option<&str>) -> bool {
        self.name.eq_ignore_ascii_case(name)
            && match (&self.sub_attr, sub_attr) {
                (None, None) => true,
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => false,
            }
    }
}

/// A comparison operator of RFC 7644 §3.4.2.2 (`pr` is [`Filter::Present`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `eq`: equal.
    Eq,
    /// `ne`: not equal.
    Ne,
    /// `co`: contains (strings).
    Co,
    /// `sw`: starts with (strings).
    Sw,
    /// `ew`: ends with (strings).
    Ew,
    /// `gt`: greater than.
    Gt,
    /// `ge`: greater than or equal.
    Ge,
    /// `lt`: less than.
    Lt,
    /// `le`: less than or equal.
    Le,
}

impl CompareOp {
    /// The operator's keyword, lowercase: `eq`, `ne`, `co`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }
}

/// A comparison value: a JSON literal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CompValue {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A JSON number.
    Number(Number),
    /// A JSON string, unescaped.
    String(String),
}

/// A JSON number, kept as its validated source text so that printing is exact and
/// no precision is lost before a backend decides how to compare it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Number(pub(crate) String);

impl Number {
    /// `text` as a number, if it is exactly one JSON number (RFC 8259 §6), e.g.
    /// `42`, `-1.5` or `1e3`.
    ///
    /// ```
    /// use scimitar_filter::ast::Number;
    /// assert_eq!(Number::parse("-1.5e3").unwrap().as_str(), "-1.5e3");
    /// assert!(Number::parse("01").is_none());
    /// ```
    pub fn parse(text: &str) -> Option<Number> {
        crate::parser::is_json_number(text).then(|| Number(text.to_owned()))
    }

    /// The number as written, e.g. `-1.5e3`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value as an `f64` (always succeeds for a validated JSON number,
    /// possibly rounding or giving infinity for huge exponents).
    pub fn as_f64(&self) -> f64 {
        self.0.parse().unwrap_or(f64::NAN)
    }

    /// The value as an `i64`, if it is an integer literal within range.
    pub fn as_i64(&self) -> Option<i64> {
        self.0.parse().ok()
    }
}

macro_rules! number_from_integer {
    ($($int:ty),*) => {$(
        impl From<$int> for Number {
            fn from(value: $int) -> Self {
                Number(value.to_string())
            }
        }
    )*};
}
number_from_integer!(i8, i16, i32, i64, i128, u8, u16, u32, u64, u128, isize, usize);

impl From<&str> for CompValue {
    fn from(text: &str) -> Self {
        CompValue::String(text.to_owned())
    }
}

impl From<String> for CompValue {
    fn from(text: String) -> Self {
        CompValue::String(text)
    }
}

impl From<bool> for CompValue {
    fn from(value: bool) -> Self {
        CompValue::Bool(value)
    }
}

impl From<Number> for CompValue {
    fn from(number: Number) -> Self {
        CompValue::Number(number)
    }
}

/// A filter expression (RFC 7644 §3.4.2.2).
///
/// `And` and `Or` are n-ary with at least two operands; `a and b and c` is one
/// `And` of three. A parenthesised group becomes its own node, so
/// `(a and b) and c` is `And([And([a, b]), c])` and printing reproduces it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Filter {
    /// `attrPath compareOp compValue`.
    Compare {
        /// The attribute compared.
        path: AttrPath,
        /// The operator.
        op: CompareOp,
        /// The value compared with.
        value: CompValue,
    },
    /// `attrPath pr`.
    Present(AttrPath),
    /// Conjunction of two or more filters.
    And(Vec<Filter>),
    /// Disjunction of two or more filters.
    Or(Vec<Filter>),
    /// `not ( filter )`.
    Not(Box<Filter>),
    /// `attrPath [ valFilter ]`: the inner filter applies to each element of a
    /// multi-valued complex attribute; its paths are relative to that element
    /// (sub-attribute names), and it contains no value path itself.
    ValuePath {
        /// The multi-valued attribute.
        path: AttrPath,
        /// The filter each element is tested with.
        filter: Box<Filter>,
    },
}

/// A PATCH operation's `path` (RFC 7644 §3.5.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PatchPath {
    /// `attrPath`: an attribute or a sub-attribute, e.g. `name.givenName` or
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`.
    Attr(AttrPath),
    /// `valuePath [ "." subAttr ]`, e.g. `members[value eq "2819c223"]` or
    /// `emails[type eq "work"].value`.
    Value {
        /// The multi-valued attribute (its `sub_attr` is always `None`).
        path: AttrPath,
        /// Which elements are targeted.
        filter: Filter,
        /// The sub-attribute of the matched elements, if any.
        sub_attr: Option<String>,
    },
}
