//! Parse errors: where the input went wrong, what was expected there, and how to show it.

use std::fmt;

/// Which grammar was being parsed when an error occurred.
///
/// It decides the first words of the message and the SCIM `scimType` of the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A `filter` query parameter or request member (RFC 7644 §3.4.2.2).
    Filter,
    /// A PATCH operation's `path` (RFC 7644 §3.5.2).
    Path,
    /// A single attribute path, such as `sortBy`.
    AttrPath,
    /// An `attributes` or `excludedAttributes` list.
    AttrList,
}

impl ErrorKind {
    /// The words that open a message about this kind of input, e.g. `invalid filter`.
    fn describe(self) -> &'static str {
        match self {
            ErrorKind::Filter => "invalid filter",
            ErrorKind::Path => "invalid path",
            ErrorKind::AttrPath => "invalid attribute path",
            ErrorKind::AttrList => "invalid attribute list",
        }
    }
}

/// What the parser expected at the error position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Expected {
    /// The start of a filter: an attribute path, `not (` or `(`.
    Filter,
    /// An attribute path such as `userName` or `name.familyName`.
    AttrPath,
    /// An attribute name (after a schema URN or at the start of a path).
    AttrName,
    /// A sub-attribute name (after a `.`).
    SubAttrName,
    /// A comparison operator or `pr`.
    CompareOp,
    /// A comparison value.
    Value,
    /// `and`, `or` or the end of the filter.
    LogicalOpOrEnd,
    /// `and`, `or` or a `)` closing a group.
    LogicalOpOrCloseParen,
    /// `and`, `or` or a `]` closing a value filter.
    LogicalOpOrCloseBracket,
    /// The `"` that ends a string.
    ClosingQuote,
    /// The four hexadecimal digits of a `\u` escape.
    HexDigits,
    /// `.` and a sub-attribute name, or the end of a PATCH path.
    SubAttrOrEnd,
    /// The end of an attribute path.
    EndOfAttrPath,
    /// A `,` or the end of an attribute list.
    CommaOrEnd,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Expected::Filter => "an attribute path, \"not (\" or \"(\"",
            Expected::AttrPath => "an attribute path",
            Expected::AttrName => {
                "an attribute name (a letter, then letters, digits, \"-\" or \"_\")"
            }
            Expected::SubAttrName => "a sub-attribute name",
            Expected::CompareOp => {
                "a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le) or \"pr\""
            }
            Expected::Value => {
                "a value (a \"double-quoted\" string, a number, true, false or null)"
            }
            Expected::LogicalOpOrEnd => "\"and\", \"or\" or the end of the filter",
            Expected::LogicalOpOrCloseParen => "\"and\", \"or\" or \")\"",
            Expected::LogicalOpOrCloseBracket => "\"and\", \"or\" or \"]\"",
            Expected::ClosingQuote => "a closing double quote",
            Expected::HexDigits => "four hexadecimal digits after \\u",
            Expected::SubAttrOrEnd => "\".\" and a sub-attribute name, or the end of the path",
            Expected::EndOfAttrPath => "the end of the attribute path",
            Expected::CommaOrEnd => "\",\" or the end of the list",
        })
    }
}

/// Why parsing failed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorReason {
    /// Something other than what the grammar allows; `found` is `None` at the end of
    /// the input.
    #[error("expected {expected}, found {}", Found(.found.as_deref()))]
    Unexpected {
        /// What would have been valid here.
        expected: Expected,
        /// The offending token, or `None` at the end of the input.
        found: Option<String>,
    },
    /// A number that is not a JSON number.
    #[error("invalid number {text:?} (write numbers as in JSON, e.g. 42, -1.5 or 1e3)")]
    InvalidNumber {
        /// The text that was read as a number.
        text: String,
    },
    /// A backslash escape that JSON does not define.
    #[error(
        "invalid escape {found:?} in string (valid: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)"
    )]
    InvalidEscape {
        /// The escape as written.
        found: String,
    },
    /// A `\uD800`-`\uDFFF` escape that is not half of a surrogate pair.
    #[error("unpaired UTF-16 surrogate escape in string")]
    LoneSurrogate,
    /// A raw control character (U+0000 to U+001F) inside a string.
    #[error("control character U+{code:04X} in string must be escaped")]
    ControlCharacter {
        /// The character's code.
        code: u32,
    },
    /// A value path inside a value path's filter.
    #[error("a value filter cannot contain another value path")]
    NestedValuePath,
    /// A value path whose attribute has a sub-attribute, e.g. `emails.value[...]`.
    #[error("a value path's attribute cannot have a sub-attribute (write emails[...].value, not emails.value[...])")]
    SubAttrBeforeValueFilter,
    /// The input is longer than [`Limits::max_length`](crate::Limits::max_length).
    #[error("input is {length} bytes long, more than the limit of {max}")]
    TooLong {
        /// The limit.
        max: usize,
        /// The input's length in bytes.
        length: usize,
    },
    /// Groups are nested deeper than [`Limits::max_depth`](crate::Limits::max_depth).
    #[error("parentheses and brackets are nested deeper than the limit of {max}")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// More terms than [`Limits::max_terms`](crate::Limits::max_terms).
    #[error("more than the limit of {max} terms")]
    TooManyTerms {
        /// The limit.
        max: usize,
    },
}

/// Shows a found token quoted, or `end of input`.
struct Found<'a>(Option<&'a str>);

impl fmt::Display for Found<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(text) => write!(f, "{text:?}"),
            None => f.write_str("end of input"),
        }
    }
}

/// An error from parsing a filter, a PATCH path, an attribute path or an attribute list.
///
/// Its `Display` is a message fit for the `detail` of a SCIM error shown to an identity
/// provider's administrator:
///
/// ```
/// let err = scimitar_filter::parse_filter(r#"userName equals "bjensen""#).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     r#"invalid filter at position 9: expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le) or "pr", found "equals""#
/// );
/// assert_eq!(err.scim_type(), "invalidFilter");
/// assert_eq!(err.position(), 9);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
#[error("{} at position {position}: {reason}", kind.describe())]
pub struct ParseError {
    kind: ErrorKind,
    position: usize,
    reason: ErrorReason,
}

impl ParseError {
    pub(crate) fn new(kind: ErrorKind, position: usize, reason: ErrorReason) -> Self {
        ParseError {
            kind,
            position,
            reason,
        }
    }

    /// Which grammar was being parsed.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The byte offset in the input where the error was found (0 is the first byte).
    pub fn position(&self) -> usize {
        self.position
    }

    /// Why parsing failed.
    pub fn reason(&self) -> &ErrorReason {
        &self.reason
    }

    /// What was expected at [`position`](Self::position), when the error is an
    /// unexpected token.
    pub fn expected(&self) -> Option<Expected> {
        match &self.reason {
            ErrorReason::Unexpected { expected, .. } => Some(*expected),
            _ => None,
        }
    }

    /// Whether the input broke one of the [`Limits`](crate::Limits) rather than the grammar.
    pub fn is_limit(&self) -> bool {
        matches!(
            self.reason,
            ErrorReason::TooLong { .. }
                | ErrorReason::TooDeep { .. }
                | ErrorReason::TooManyTerms { .. }
        )
    }

    /// The SCIM `scimType` for this error (RFC 7644 §3.12): `invalidFilter` for
    /// filters, `invalidPath` for PATCH paths, `invalidValue` for attribute paths and
    /// lists (`sortBy`, `attributes`, `excludedAttributes`).
    pub fn scim_type(&self) -> &'static str {
        match self.kind {
            ErrorKind::Filter => "invalidFilter",
            ErrorKind::Path => "invalidPath",
            ErrorKind::AttrPath | ErrorKind::AttrList => "invalidValue",
        }
    }

    /// The input on one line with a `^` under the error position, for terminals and logs.
    ///
    /// Control characters are shown as spaces so the caret lines up; a long input is
    /// cut to a window around the position, with `…` marking the cuts.
    ///
    /// ```
    /// let input = "title pr and";
    /// let err = scimitar_filter::parse_filter(input).unwrap_err();
    /// assert_eq!(err.caret(input), "title pr and\n            ^");
    /// ```
    pub fn caret(&self, input: &str) -> String {
        const CONTEXT: usize = 40;
        let mut position = self.position.min(input.len());
        while !input.is_char_boundary(position) {
            position -= 1;
        }
        let (before, after) = input.split_at(position);
        let before_chars = before.chars().count();
        let skip = before_chars.saturating_sub(CONTEXT);
        let mut line = String::new();
        if skip > 0 {
            line.push('…');
        }
        line.extend(before.chars().skip(skip).map(printable));
        let column = line.chars().count();
        let mut after_chars = after.chars();
        line.extend(after_chars.by_ref().take(CONTEXT).map(printable));
        if after_chars.next().is_some() {
            line.push('…');
        }
        line.push('\n');
        line.extend(std::iter::repeat_n(' ', column));
        line.push('^');
        line
    }
}

fn printable(c: char) -> char {
    if c.is_control() {
        ' '
    } else {
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_at(position: usize) -> ParseError {
        ParseError::new(ErrorKind::Filter, position, ErrorReason::TooDeep { max: 1 })
    }

    #[test]
    fn caret_clamps_positions_outside_the_input_or_inside_a_character() {
        assert_eq!(error_at(99).caret("ab"), "ab\n  ^");
        // Byte 2 is inside "é" (bytes 1..3): the caret goes to its start.
        assert_eq!(error_at(2).caret("aéb"), "aéb\n ^");
        assert_eq!(error_at(0).caret(""), "\n^");
    }

    #[test]
    fn limits_are_limits() {
        assert!(error_at(0).is_limit());
        let grammar = ParseError::new(ErrorKind::Path, 0, ErrorReason::NestedValuePath);
        assert!(!grammar.is_limit());
        assert_eq!(grammar.expected(), None);
    }

    #[test]
    fn messages_name_the_input_kind() {
        let reason = ErrorReason::Unexpected {
            expected: Expected::CommaOrEnd,
            found: None,
        };
        let err = ParseError::new(ErrorKind::AttrList, 3, reason);
        assert_eq!(
            err.to_string(),
            "invalid attribute list at position 3: expected \",\" or the end of the list, found end of input"
        );
        let err = ParseError::new(
            ErrorKind::AttrPath,
            0,
            ErrorReason::TooLong { max: 1, length: 2 },
        );
        assert_eq!(
            err.to_string(),
            "invalid attribute path at position 0: input is 2 bytes long, more than the limit of 1"
        );
    }
}
