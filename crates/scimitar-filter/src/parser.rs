//! The grammar: filters, PATCH paths, attribute paths and attribute lists.
//!
//! Tokens are read with nom combinators; the recursive structure (groups, `not`, value
//! paths, `and`/`or`) is a hand-written recursive descent so that nesting depth and the
//! number of terms are counted as the parser goes, before recursion can get deep.
//! Nothing backtracks further than one word, so parsing is linear in the input length.

use nom::bytes::complete::take_while;
use nom::character::complete::{char, digit0, digit1, one_of, satisfy};
use nom::combinator::{opt, recognize};
use nom::{IResult, Parser as _};

use crate::ast::{AttrPath, CompValue, CompareOp, Filter, Number, PatchPath};
use crate::error::{ErrorKind, ErrorReason, Expected, ParseError};

/// Bounds that keep hostile input cheap to reject.
///
/// The defaults are far above anything identity providers send (Entra ID and Okta send
/// one or two terms) and far below anything that strains the parser or a database:
///
/// | limit | default | what it bounds |
/// |---|---|---|
/// | `max_length` | 65,536 bytes | input size; checked before anything else |
/// | `max_depth` | 32 | nesting of `( )`, `not ( )` and `[ ]`, hence recursion |
/// | `max_terms` | 256 | comparisons and `pr` tests in a filter; entries in an attribute list |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limits {
    /// The longest input accepted, in bytes.
    pub max_length: usize,
    /// The deepest nesting of parentheses, `not ( )` and value-path brackets accepted.
    pub max_depth: usize,
    /// The most comparison and `pr` terms in a filter (or paths in an attribute list).
    pub max_terms: usize,
}

impl Limits {
    /// The default limits (see the table on [`Limits`]).
    pub const DEFAULT: Limits = Limits {
        max_length: 64 * 1024,
        max_depth: 32,
        max_terms: 256,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// A parser with chosen [`Limits`]; the free functions ([`parse_filter`](crate::parse_filter)
/// and friends) use [`Limits::DEFAULT`].
///
/// ```
/// use scimitar_filter::{Limits, Parser};
///
/// let parser = Parser::new(Limits { max_terms: 2, ..Limits::DEFAULT });
/// assert!(parser.filter(r#"title pr and userType eq "Employee""#).is_ok());
/// let err = parser.filter("a pr and b pr and c pr").unwrap_err();
/// assert!(err.is_limit());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Parser {
    limits: Limits,
}

impl Parser {
    /// A parser enforcing `limits`.
    pub const fn new(limits: Limits) -> Self {
        Parser { limits }
    }

    /// The limits this parser enforces.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Parses a filter (RFC 7644 §3.4.2.2), e.g. `userName eq "bjensen"`.
    pub fn filter(&self, input: &str) -> Result<Filter, ParseError> {
        let mut state = State::new(input, ErrorKind::Filter, self.limits)?;
        let filter = state.or_expr(false)?;
        state.skip_ws();
        state.expect_end(Expected::LogicalOpOrEnd)?;
        Ok(filter)
    }

    /// Parses a PATCH operation's `path` (RFC 7644 §3.5.2), e.g.
    /// `emails[type eq "work"].value`.
    pub fn path(&self, input: &str) -> Result<PatchPath, ParseError> {
        let mut state = State::new(input, ErrorKind::Path, self.limits)?;
        state.skip_ws();
        let path = state.attr_path(Expected::AttrPath)?;
        state.skip_ws();
        let patch_path = match state.value_filter(&path, false)? {
            None => PatchPath::Attr(path),
            Some(filter) => {
                let sub_attr = if state.eat('.') {
                    Some(state.attr_name(Expected::SubAttrName)?.to_owned())
                } else {
                    None
                };
                PatchPath::Value {
                    path,
                    filter,
                    sub_attr,
                }
            }
        };
        // Right after `]` a `.` may follow; after whitespace only the end may.
        let spaced = state.skip_ws();
        state.expect_end(match patch_path {
            PatchPath::Value { sub_attr: None, .. } if !spaced => Expected::SubAttrOrEnd,
            _ => Expected::EndOfAttrPath,
        })?;
        Ok(patch_path)
    }

    /// Parses one attribute path, e.g. the `sortBy` parameter `name.familyName`.
    pub fn attr_path(&self, input: &str) -> Result<AttrPath, ParseError> {
        let mut state = State::new(input, ErrorKind::AttrPath, self.limits)?;
        state.skip_ws();
        let path = state.attr_path(Expected::AttrPath)?;
        state.skip_ws();
        state.expect_end(Expected::EndOfAttrPath)?;
        Ok(path)
    }

    /// Parses a comma-separated attribute list, e.g. the `attributes` parameter
    /// `userName, name.familyName, emails`. Whitespace around commas is ignored; an
    /// input that is empty or only whitespace gives an empty list.
    pub fn attr_list(&self, input: &str) -> Result<Vec<AttrPath>, ParseError> {
        let mut state = State::new(input, ErrorKind::AttrList, self.limits)?;
        let mut paths = Vec::new();
        state.skip_ws();
        if state.rest.is_empty() {
            return Ok(paths);
        }
        loop {
            state.skip_ws();
            let start = state.pos();
            paths.push(state.attr_path(Expected::AttrPath)?);
            state.count_term(start)?;
            state.skip_ws();
            if !state.eat(',') {
                state.expect_end(Expected::CommaOrEnd)?;
                return Ok(paths);
            }
        }
    }
}

/// Whitespace allowed between tokens: the RFC's SP, plus tabs and line breaks.
fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Characters of a "word": attribute paths with schema URNs, keywords, operators and
/// unquoted literals. A word is always read whole, so two words never run together.
fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            ':' | '.' | '-' | '_' | '$' | '/' | '%' | '~' | '+' | '@' | '#'
        )
}

/// RFC 7643 `nameChar`.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// RFC 7643 `ATTRNAME = ALPHA *(nameChar)`, or `$ref` (any case).
fn attr_name(input: &str) -> IResult<&str, &str, ()> {
    let mut plain = recognize((
        satisfy(|c| c.is_ascii_alphabetic()),
        take_while(is_name_char),
    ));
    plain
        .parse(input)
        .or_else(|_: nom::Err<()>| match input.split_at_checked(4) {
            Some((name, rest)) if name.eq_ignore_ascii_case("$ref") => Ok((rest, name)),
            _ => Err(nom::Err::Error(())),
        })
}

/// A JSON number (RFC 8259 §6).
fn json_number(input: &str) -> IResult<&str, &str, ()> {
    recognize((
        opt(char('-')),
        nom::branch::alt((
            recognize(char('0')),
            recognize((satisfy(|c| matches!(c, '1'..='9')), digit0)),
        )),
        opt((char('.'), digit1)),
        opt((one_of("eE"), opt(one_of("+-")), digit1)),
    ))
    .parse(input)
}

/// Whether `text` is exactly one JSON number.
pub(crate) fn is_json_number(text: &str) -> bool {
    matches!(json_number(text), Ok(("", _)))
}

struct State<'a> {
    input: &'a str,
    rest: &'a str,
    kind: ErrorKind,
    limits: Limits,
    depth: usize,
    terms: usize,
}

impl<'a> State<'a> {
    fn new(input: &'a str, kind: ErrorKind, limits: Limits) -> Result<Self, ParseError> {
        if input.len() > limits.max_length {
            return Err(ParseError::new(
                kind,
                limits.max_length,
                ErrorReason::TooLong {
                    max: limits.max_length,
                    length: input.len(),
                },
            ));
        }
        Ok(State {
            input,
            rest: input,
            kind,
            limits,
            depth: 0,
            terms: 0,
        })
    }

    fn pos(&self) -> usize {
        self.input.len() - self.rest.len()
    }

    fn error(&self, position: usize, reason: ErrorReason) -> ParseError {
        ParseError::new(self.kind, position, reason)
    }

    /// An [`ErrorReason::Unexpected`] at the current position, naming the word or
    /// character found there.
    fn unexpected(&self, expected: Expected) -> ParseError {
        const MAX_FOUND_CHARS: usize = 32;
        let word = self.peek_word();
        let found = if word.is_empty() {
            self.rest.chars().next().map(String::from)
        } else {
            Some(word.chars().take(MAX_FOUND_CHARS).collect())
        };
        self.error(self.pos(), ErrorReason::Unexpected { expected, found })
    }

    fn advance(&mut self, len: usize) {
        self.rest = self.rest.get(len..).unwrap_or_default();
    }

    /// Skips whitespace; returns whether there was any.
    fn skip_ws(&mut self) -> bool {
        let result: IResult<&str, &str, ()> = take_while(is_ws).parse(self.rest);
        match result {
            Ok((rest, ws)) => {
                self.rest = rest;
                !ws.is_empty()
            }
            Err(_) => false,
        }
    }

    fn peek_word(&self) -> &'a str {
        let result: IResult<&str, &str, ()> = take_while(is_word_char).parse(self.rest);
        result.map_or("", |(_, word)| word)
    }

    fn eat(&mut self, c: char) -> bool {
        match self.rest.strip_prefix(c) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    /// Skips whitespace, then consumes `keyword` if it is the next word.
    fn eat_keyword(&mut self, keyword: &str) -> bool {
        self.skip_ws();
        let word = self.peek_word();
        let found = word.eq_ignore_ascii_case(keyword);
        if found {
            self.advance(word.len());
        }
        found
    }

    fn expect_end(&self, expected: Expected) -> Result<(), ParseError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    /// Consumes `close` or fails with `expected`.
    fn expect(&mut self, close: char, expected: Expected) -> Result<(), ParseError> {
        if self.eat(close) {
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    /// Enters a group opened at `position`, enforcing the depth limit.
    fn enter(&mut self, position: usize) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            return Err(self.error(
                position,
                ErrorReason::TooDeep {
                    max: self.limits.max_depth,
                },
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Counts a term that started at `position`, enforcing the term limit.
    fn count_term(&mut self, position: usize) -> Result<(), ParseError> {
        self.terms += 1;
        if self.terms > self.limits.max_terms {
            return Err(self.error(
                position,
                ErrorReason::TooManyTerms {
                    max: self.limits.max_terms,
                },
            ));
        }
        Ok(())
    }

    /// `filter *("or" filter)`, each operand an [`and_expr`](Self::and_expr).
    fn or_expr(&mut self, in_value_path: bool) -> Result<Filter, ParseError> {
        let first = self.and_expr(in_value_path)?;
        if !self.eat_keyword("or") {
            return Ok(first);
        }
        let mut operands = vec![first];
        loop {
            operands.push(self.and_expr(in_value_path)?);
            if !self.eat_keyword("or") {
                return Ok(Filter::Or(operands));
            }
        }
    }

    /// `term *("and" term)`.
    fn and_expr(&mut self, in_value_path: bool) -> Result<Filter, ParseError> {
        let first = self.term(in_value_path)?;
        if !self.eat_keyword("and") {
            return Ok(first);
        }
        let mut operands = vec![first];
        loop {
            operands.push(self.term(in_value_path)?);
            if !self.eat_keyword("and") {
                return Ok(Filter::And(operands));
            }
        }
    }

    /// `( filter )`, `not ( filter )`, a value path, or an attribute expression.
    fn term(&mut self, in_value_path: bool) -> Result<Filter, ParseError> {
        self.skip_ws();
        if let Some(group) = self.group(in_value_path)? {
            return Ok(group);
        }
        let word = self.peek_word();
        if word.eq_ignore_ascii_case("not") {
            // `not` is a keyword only before a parenthesis; otherwise it is an attribute.
            let before_not = self.rest;
            self.advance(word.len());
            self.skip_ws();
            if let Some(negated) = self.group(in_value_path)? {
                return Ok(Filter::Not(Box::new(negated)));
            }
            self.rest = before_not;
        }
        let start = self.pos();
        let path = self.attr_path(Expected::Filter)?;
        let spaced = self.skip_ws();
        if let Some(filter) = self.value_filter(&path, in_value_path)? {
            return Ok(Filter::ValuePath {
                path,
                filter: Box::new(filter),
            });
        }
        if !spaced {
            return Err(self.unexpected(Expected::CompareOp));
        }
        let op = match self.peek_word().as_bytes() {
            &[a, b] => match [a.to_ascii_lowercase(), b.to_ascii_lowercase()] {
                [b'e', b'q'] => Some(CompareOp::Eq),
                [b'n', b'e'] => Some(CompareOp::Ne),
                [b'c', b'o'] => Some(CompareOp::Co),
                [b's', b'w'] => Some(CompareOp::Sw),
                [b'e', b'w'] => Some(CompareOp::Ew),
                [b'g', b't'] => Some(CompareOp::Gt),
                [b'g', b'e'] => Some(CompareOp::Ge),
                [b'l', b't'] => Some(CompareOp::Lt),
                [b'l', b'e'] => Some(CompareOp::Le),
                [b'p', b'r'] => None,
                _ => return Err(self.unexpected(Expected::CompareOp)),
            },
            _ => return Err(self.unexpected(Expected::CompareOp)),
        };
        self.advance(2);
        self.count_term(start)?;
        let Some(op) = op else {
            return Ok(Filter::Present(path));
        };
        self.skip_ws();
        let value = self.comp_value()?;
        Ok(Filter::Compare { path, op, value })
    }

    /// `"(" filter ")"`, if the input is at a `(`.
    fn group(&mut self, in_value_path: bool) -> Result<Option<Filter>, ParseError> {
        let open = self.pos();
        if !self.eat('(') {
            return Ok(None);
        }
        self.enter(open)?;
        let inner = self.or_expr(in_value_path)?;
        self.skip_ws();
        self.expect(')', Expected::LogicalOpOrCloseParen)?;
        self.leave();
        Ok(Some(inner))
    }

    /// `"[" valFilter "]"` after `path`, if the input is at a `[`.
    fn value_filter(
        &mut self,
        path: &AttrPath,
        in_value_path: bool,
    ) -> Result<Option<Filter>, ParseError> {
        let open = self.pos();
        if !self.rest.starts_with('[') {
            return Ok(None);
        }
        if in_value_path {
            return Err(self.error(open, ErrorReason::NestedValuePath));
        }
        if path.sub_attr.is_some() {
            return Err(self.error(open, ErrorReason::SubAttrBeforeValueFilter));
        }
        self.advance(1);
        self.enter(open)?;
        let inner = self.or_expr(true)?;
        self.skip_ws();
        self.expect(']', Expected::LogicalOpOrCloseBracket)?;
        self.leave();
        Ok(Some(inner))
    }

    /// `[URI ":"] ATTRNAME ["." subAttr]`. The URI is everything up to the last `:` of
    /// the word; characters after the path (e.g. a second `.`) are left for the
    /// caller to reject in its own terms.
    fn attr_path(&mut self, expected_at_start: Expected) -> Result<AttrPath, ParseError> {
        let word = self.peek_word();
        let schema = match word.rfind(':') {
            Some(colon) => {
                let schema = word.get(..colon).unwrap_or_default();
                if !schema.starts_with(|c: char| c.is_ascii_alphabetic()) {
                    return Err(self.unexpected(expected_at_start));
                }
                self.advance(colon + 1);
                Some(schema.to_owned())
            }
            None => None,
        };
        let expected_name = if schema.is_some() {
            Expected::AttrName
        } else {
            expected_at_start
        };
        let name = self.attr_name(expected_name)?.to_owned();
        let sub_attr = match self.rest.strip_prefix('.') {
            Some(after_dot) if attr_name(after_dot).is_ok() => {
                self.advance(1);
                Some(self.attr_name(Expected::SubAttrName)?.to_owned())
            }
            _ => None,
        };
        Ok(AttrPath {
            schema,
            name,
            sub_attr,
        })
    }

    fn attr_name(&mut self, expected: Expected) -> Result<&'a str, ParseError> {
        match attr_name(self.rest) {
            Ok((rest, name)) => {
                self.rest = rest;
                Ok(name)
            }
            Err(_) => Err(self.unexpected(expected)),
        }
    }

    /// `compValue = false / null / true / number / string`.
    fn comp_value(&mut self) -> Result<CompValue, ParseError> {
        if self.rest.starts_with('"') {
            return self.string().map(CompValue::String);
        }
        let word = self.peek_word();
        let value = if word.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            if !is_json_number(word) {
                return Err(self.error(
                    self.pos(),
                    ErrorReason::InvalidNumber {
                        text: word.to_owned(),
                    },
                ));
            }
            CompValue::Number(Number(word.to_owned()))
        } else if word.eq_ignore_ascii_case("true") {
            CompValue::Bool(true)
        } else if word.eq_ignore_ascii_case("false") {
            CompValue::Bool(false)
        } else if word.eq_ignore_ascii_case("null") {
            CompValue::Null
        } else {
            return Err(self.unexpected(Expected::Value));
        };
        self.advance(word.len());
        Ok(value)
    }

    /// A JSON string (RFC 8259 §7), unescaped; the input is at its opening quote.
    fn string(&mut self) -> Result<String, ParseError> {
        let start = self.pos();
        let text = self.rest;
        let bytes = text.as_bytes();
        let special = |b: u8| b == b'"' || b == b'\\' || b < 0x20;
        let mut out = String::new();
        // `i` only ever stops at an ASCII byte or the end, so slicing there is exact.
        let mut i = 1;
        loop {
            let run_start = i;
            while bytes.get(i).is_some_and(|&b| !special(b)) {
                i += 1;
            }
            out.push_str(text.get(run_start..i).unwrap_or_default());
            match bytes.get(i) {
                None => {
                    self.advance(i);
                    return Err(self.unexpected(Expected::ClosingQuote));
                }
                Some(b'"') => {
                    self.advance(i + 1);
                    return Ok(out);
                }
                Some(b'\\') => {
                    let escape = bytes.get(i..).unwrap_or_default();
                    i += self.escape(start + i, escape, &mut out)?;
                }
                Some(&b) => {
                    return Err(self.error(
                        start + i,
                        ErrorReason::ControlCharacter { code: u32::from(b) },
                    ));
                }
            }
        }
    }

    /// Decodes the escape at the start of `bytes` (at input position `position`) into
    /// `out`; returns its length in bytes.
    fn escape(&self, position: usize, bytes: &[u8], out: &mut String) -> Result<usize, ParseError> {
        let simple = match bytes.get(1) {
            None => {
                return Err(self.error(
                    position + 1,
                    ErrorReason::Unexpected {
                        expected: Expected::ClosingQuote,
                        found: None,
                    },
                ))
            }
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let (c, len) = self.unicode_escape(position, bytes)?;
                out.push(c);
                return Ok(len);
            }
            Some(_) => {
                let found = self.input.get(position..).unwrap_or_default();
                let found: String = found.chars().take(2).collect();
                return Err(self.error(position, ErrorReason::InvalidEscape { found }));
            }
        };
        out.push(simple);
        Ok(2)
    }

    /// Decodes `\uXXXX`, or a surrogate pair `\uD83D\uDE00`, at the start of `bytes`.
    fn unicode_escape(&self, position: usize, bytes: &[u8]) -> Result<(char, usize), ParseError> {
        let first = self.hex4(position + 2, bytes.get(2..).unwrap_or_default())?;
        let code = match first {
            0xD800..=0xDBFF => {
                let low = match bytes.get(6..8) {
                    Some(b"\\u") => self.hex4(position + 8, bytes.get(8..).unwrap_or_default())?,
                    _ => return Err(self.error(position, ErrorReason::LoneSurrogate)),
                };
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(self.error(position, ErrorReason::LoneSurrogate));
                }
                let code = 0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00);
                return char::from_u32(code)
                    .map(|c| (c, 12))
                    .ok_or_else(|| self.error(position, ErrorReason::LoneSurrogate));
            }
            code => code,
        };
        char::from_u32(code)
            .map(|c| (c, 6))
            .ok_or_else(|| self.error(position, ErrorReason::LoneSurrogate))
    }

    /// Four hexadecimal digits at the start of `bytes` (input position `position`).
    fn hex4(&self, position: usize, bytes: &[u8]) -> Result<u32, ParseError> {
        let digits = bytes
            .get(..4)
            .filter(|d| d.iter().all(u8::is_ascii_hexdigit));
        match digits {
            Some(digits) => Ok(digits.iter().fold(0, |acc, &d| {
                acc * 16 + char::from(d).to_digit(16).unwrap_or_default()
            })),
            None => {
                let found: String = self
                    .input
                    .get(position..)
                    .unwrap_or_default()
                    .chars()
                    .take(4)
                    .collect();
                Err(self.error(
                    position,
                    ErrorReason::Unexpected {
                        expected: Expected::HexDigits,
                        found: (!found.is_empty()).then_some(found),
                    },
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_numbers() {
        for valid in [
            "0", "-0", "7", "42", "-1.5", "0.25", "1e3", "1E-3", "2.5e+10", "-0.0e0",
        ] {
            assert!(is_json_number(valid), "{valid}");
        }
        for invalid in [
            "", "-", "+1", "01", "-01", "1.", ".5", "1e", "1e+", "0x10", "1.5.2", "NaN", "1 ",
        ] {
            assert!(!is_json_number(invalid), "{invalid}");
        }
    }

    #[test]
    fn attribute_names() {
        assert_eq!(attr_name("userName eq"), Ok((" eq", "userName")));
        assert_eq!(attr_name("x-y_1.z"), Ok((".z", "x-y_1")));
        assert_eq!(attr_name("$REF]"), Ok(("]", "$REF")));
        assert!(attr_name("1abc").is_err());
        assert!(attr_name("_abc").is_err());
        assert!(attr_name("$re").is_err());
        assert!(attr_name("").is_err());
    }

    #[test]
    fn words_stop_at_delimiters() {
        let state = State::new(
            "urn:a:b.c-d$ref/%~+@#x(y",
            ErrorKind::Filter,
            Limits::DEFAULT,
        )
        .unwrap();
        assert_eq!(state.peek_word(), "urn:a:b.c-d$ref/%~+@#x");
        for delimiter in [" ", "\t", "(", ")", "[", "]", "\"", ",", "=", "é"] {
            let input = format!("ab{delimiter}c");
            let state = State::new(&input, ErrorKind::Filter, Limits::DEFAULT).unwrap();
            assert_eq!(state.peek_word(), "ab", "{delimiter:?}");
        }
    }
}
