//! Canonical text for the syntax tree.
//!
//! Keywords are lowercase, tokens are separated by single spaces, strings are
//! re-escaped as JSON, and parentheses appear only where precedence needs them or a
//! group nests inside an operator of its own kind, so that parsing the text gives back
//! the same tree.

use std::fmt::{self, Display, Formatter, Write as _};

use crate::ast::{AttrPath, CompValue, CompareOp, Filter, Number, PatchPath};

impl Display for AttrPath {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if let Some(schema) = &self.schema {
            f.write_str(schema)?;
            f.write_char(':')?;
        }
        f.write_str(&self.name)?;
        if let Some(sub_attr) = &self.sub_attr {
            f.write_char('.')?;
            f.write_str(sub_attr)?;
        }
        Ok(())
    }
}

impl Display for CompareOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Display for Number {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Display for CompValue {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            CompValue::Null => f.write_str("null"),
            CompValue::Bool(true) => f.write_str("true"),
            CompValue::Bool(false) => f.write_str("false"),
            CompValue::Number(number) => f.write_str(number.as_str()),
            CompValue::String(text) => write_json_string(text, f),
        }
    }
}

/// Prints the canonical form, e.g. `userType eq "Employee" and (emails co "x" or title pr)`.
///
/// `And` and `Or` are expected to have at least two operands: one with a single
/// operand prints as that operand, and one with none prints nothing.
impl Display for Filter {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_filter(self, f, false)
    }
}

impl Display for PatchPath {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            PatchPath::Attr(path) => path.fmt(f),
            PatchPath::Value {
                path,
                filter,
                sub_attr,
            } => {
                write!(f, "{path}[{filter}]")?;
                match sub_attr {
                    Some(sub_attr) => write!(f, ".{sub_attr}"),
                    None => Ok(()),
                }
            }
        }
    }
}

impl Filter {
    /// The filter with every `and` and `or` group in parentheses, so that precedence
    /// is visible: `a pr and b pr or c pr` prints as `((a pr and b pr) or c pr)`.
    /// Parsing it gives back the same tree.
    pub fn to_parenthesized_string(&self) -> String {
        struct Parenthesized<'a>(&'a Filter);
        impl Display for Parenthesized<'_> {
            fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
                write_filter(self.0, f, true)
            }
        }
        Parenthesized(self).to_string()
    }
}

fn write_filter(filter: &Filter, f: &mut Formatter<'_>, parenthesize_all: bool) -> fmt::Result {
    match filter {
        Filter::Compare { path, op, value } => write!(f, "{path} {op} {value}"),
        Filter::Present(path) => write!(f, "{path} pr"),
        // `and` binds tighter than `or`, so an `or` inside an `and` needs parentheses;
        // a group of the same operator does too, or it would merge into its parent.
        Filter::And(operands) => write_operands(operands, " and ", f, parenthesize_all, |child| {
            matches!(child, Filter::And(_) | Filter::Or(_))
        }),
        Filter::Or(operands) => write_operands(operands, " or ", f, parenthesize_all, |child| {
            matches!(child, Filter::Or(_))
        }),
        Filter::Not(inner) => {
            f.write_str("not (")?;
            write_filter(inner, f, parenthesize_all)?;
            f.write_char(')')
        }
        Filter::ValuePath { path, filter } => {
            write!(f, "{path}[")?;
            write_filter(filter, f, parenthesize_all)?;
            f.write_char(']')
        }
    }
}

fn write_operands(
    operands: &[Filter],
    separator: &str,
    f: &mut Formatter<'_>,
    parenthesize_all: bool,
    needs_parentheses: fn(&Filter) -> bool,
) -> fmt::Result {
    if parenthesize_all {
        f.write_char('(')?;
    }
    for (index, operand) in operands.iter().enumerate() {
        if index > 0 {
            f.write_str(separator)?;
        }
        // With `parenthesize_all`, an `and`/`or` operand brings its own parentheses.
        let wrap = !parenthesize_all && needs_parentheses(operand);
        if wrap {
            f.write_char('(')?;
        }
        write_filter(operand, f, parenthesize_all)?;
        if wrap {
            f.write_char(')')?;
        }
    }
    if parenthesize_all {
        f.write_char(')')?;
    }
    Ok(())
}

/// Writes `text` as a JSON string: quotes, backslashes and control characters escaped.
fn write_json_string(text: &str, f: &mut Formatter<'_>) -> fmt::Result {
    f.write_char('"')?;
    let mut unwritten = 0;
    for (index, byte) in text.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        // `index` is at an ASCII byte, hence at a character boundary.
        f.write_str(text.get(unwritten..index).unwrap_or_default())?;
        if escape.is_empty() {
            write!(f, "\\u{byte:04x}")?;
        } else {
            f.write_str(escape)?;
        }
        unwritten = index + 1;
    }
    f.write_str(text.get(unwritten..).unwrap_or_default())?;
    f.write_char('"')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_escape_only_what_json_requires() {
        let cases = [
            ("", r#""""#),
            ("plain é 日本 😀 /", r#""plain é 日本 😀 /""#),
            ("\"\\", r#""\"\\""#),
            ("\u{0}\u{1f}\u{7f}", "\"\\u0000\\u001f\u{7f}\""),
            ("a\nb\tc", r#""a\nb\tc""#),
        ];
        for (text, json) in cases {
            assert_eq!(CompValue::String(text.into()).to_string(), json);
        }
    }

    #[test]
    fn degenerate_groups_still_print() {
        let single = Filter::And(vec![Filter::Present(AttrPath::new("a"))]);
        assert_eq!(single.to_string(), "a pr");
        assert_eq!(Filter::Or(vec![]).to_string(), "");
    }

    #[test]
    fn operators_print_lowercase() {
        use CompareOp::*;
        let printed: Vec<String> = [Eq, Ne, Co, Sw, Ew, Gt, Ge, Lt, Le]
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            printed,
            ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"]
        );
    }
}
