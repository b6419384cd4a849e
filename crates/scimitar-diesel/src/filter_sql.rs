//! Filter → SQL: a SCIM filter becomes a `WHERE` condition over `resources r`.
//!
//! Each node translates to a condition and a flag: *exact* when the condition
//! selects exactly the resources `scimitar_filter::matches` accepts, otherwise a
//! *superset* that the query finishes in memory with the evaluator. Supersets
//! compose through `and`/`or`; under `not` only an exact condition survives (the
//! negation of a superset is not one), anything else becomes `TRUE`.
//!
//! What is exact, given that stored resources are validated (attribute names in
//! the schema's spelling, values of their declared types, no `null`s):
//! - `id`, `externalId`, `userName` (users), `displayName`, `active`,
//!   `meta.created`, `meta.lastModified`, `meta.resourceType`: columns, indexed;
//!   date-times compare as instants.
//! - `emails` (`value`, `type`, `primary`, value filters over them): the
//!   `resource_emails` table; `members` (`value`, `type`): `group_members`.
//! - Any other single-valued attribute of type string, reference, binary,
//!   boolean, integer or decimal, core or extension, through JSON functions.
//!
//! Everything else (other multi-valued attributes, date-times inside the JSON)
//! narrows to `TRUE` and is decided in memory.
//!
//! Values are always bound, never spliced into the text; `LIKE` patterns escape
//! `%`, `_` and `\` and say `ESCAPE '\'`.

use scimitar_filter::ast::{AttrPath, CompValue, CompareOp, Filter};
use scimitar_schema::{AttributeType, Origin, Registry, Resolved, ResourceSchemas};
use scimitar_store::StoreError;

use crate::rows::{GROUP_TYPE, USER_TYPE};
use crate::sql::{fold, Dialect, Sql, Value, FOLD_FN};

/// A condition tree, rendered once so that placeholders come out in order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cond {
    True,
    False,
    /// An atomic condition. It may be `NULL` where its attribute is missing,
    /// which `WHERE`, `AND` and `OR` treat as false; [`Cond::Not`] makes it so.
    Sql(Sql),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    /// `r.pk IN (SELECT <column> FROM <from> WHERE <inner>)`.
    In {
        select: &'static str,
        inner: Box<Cond>,
    },
}

impl Cond {
    fn and(conds: Vec<Cond>) -> Cond {
        let mut kept = Vec::with_capacity(conds.len());
        for cond in conds {
            match cond {
                Cond::True => {}
                Cond::False => return Cond::False,
                Cond::And(inner) => kept.extend(inner),
                other => kept.push(other),
            }
        }
        match kept.len() {
            0 => Cond::True,
            1 => kept.pop().unwrap_or(Cond::True),
            _ => Cond::And(kept),
        }
    }

    fn or(conds: Vec<Cond>) -> Cond {
        let mut kept = Vec::with_capacity(conds.len());
        for cond in conds {
            match cond {
                Cond::False => {}
                Cond::True => return Cond::True,
                Cond::Or(inner) => kept.extend(inner),
                other => kept.push(other),
            }
        }
        match kept.len() {
            0 => Cond::False,
            1 => kept.pop().unwrap_or(Cond::False),
            _ => Cond::Or(kept),
        }
    }

    fn not(cond: Cond) -> Cond {
        match cond {
            Cond::True => Cond::False,
            Cond::False => Cond::True,
            Cond::Not(inner) => *inner,
            other => Cond::Not(Box::new(other)),
        }
    }

    fn sql(sql: Sql) -> Cond {
        Cond::Sql(sql)
    }

    /// Appends the condition to `out`.
    pub(crate) fn render(&self, out: &mut Sql) {
        match self {
            Cond::True => {
                out.push("1 = 1");
            }
            Cond::False => {
                out.push("1 = 0");
            }
            Cond::Sql(sql) => {
                out.push("(").append(sql.clone()).push(")");
            }
            Cond::And(conds) | Cond::Or(conds) => {
                let joiner = if matches!(self, Cond::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                out.push("(");
                for (i, cond) in conds.iter().enumerate() {
                    if i > 0 {
                        out.push(joiner);
                    }
                    cond.render(out);
                }
                out.push(")");
            }
            Cond::Not(inner) => {
                // Missing attributes make atoms NULL; NOT must see them as false.
                out.push("NOT COALESCE(");
                inner.render(out);
                out.push(", FALSE)");
            }
            Cond::In { select, inner } => {
                out.push("r.pk IN (").push(select).push(" AND ");
                inner.render(out);
                out.push(")");
            }
        }
    }
}

/// A translated filter: the condition, and whether it is exact.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pushdown {
    pub(crate) cond: Cond,
    pub(crate) exact: bool,
}

impl Pushdown {
    fn exact(cond: Cond) -> Self {
        Pushdown { cond, exact: true }
    }

    /// No narrowing at all: the evaluator decides.
    fn in_memory() -> Self {
        Pushdown {
            cond: Cond::True,
            exact: false,
        }
    }
}

const EMAILS_SELECT: &str = "SELECT e.resource_pk FROM resource_emails e WHERE 1 = 1";
const MEMBERS_SELECT: &str = "SELECT gm.group_pk FROM group_members gm \
     JOIN resources m ON m.pk = gm.member_pk WHERE 1 = 1";

/// Translates filters for one resource type.
pub(crate) struct Translator<'a> {
    dialect: Dialect,
    resource_type: &'a str,
    schemas: ResourceSchemas<'a>,
}

/// Where the attribute a path names lives.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Column {
    Text {
        raw: &'static str,
        folded: Option<&'static str>,
    },
    Bool(&'static str),
    Time(&'static str),
}

/// The context of a path: the resource, or an element of `emails` / `members`
/// inside a value filter.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Within {
    Resource,
    Emails,
    Members,
}

impl<'a> Translator<'a> {
    /// A translator for `resource_type`; `UnknownResourceType` if the registry
    /// does not define it.
    pub(crate) fn new(
        dialect: Dialect,
        registry: &'a Registry,
        resource_type: &'a str,
    ) -> Result<Self, StoreError> {
        let schemas = registry
            .schemas_of(resource_type)
            .ok_or_else(|| StoreError::UnknownResourceType(resource_type.to_owned()))?;
        Ok(Translator {
            dialect,
            resource_type,
            schemas,
        })
    }

    /// Translates `filter`; `InvalidFilter` for an attribute the schema does not
    /// define or an ordering operator on a boolean, binary or complex attribute.
    pub(crate) fn filter(&self, filter: &Filter) -> Result<Pushdown, StoreError> {
        self.node(filter, Within::Resource, None)
    }

    fn node(
        &self,
        filter: &Filter,
        within: Within,
        parent: Option<&AttrPath>,
    ) -> Result<Pushdown, StoreError> {
        Ok(match filter {
            Filter::And(operands) | Filter::Or(operands) => {
                let mut conds = Vec::with_capacity(operands.len());
                let mut exact = true;
                for operand in operands {
                    let pushed = self.node(operand, within, parent)?;
                    exact &= pushed.exact;
                    conds.push(pushed.cond);
                }
                let cond = if matches!(filter, Filter::And(_)) {
                    Cond::and(conds)
                } else {
                    Cond::or(conds)
                };
                Pushdown { cond, exact }
            }
            Filter::Not(inner) => {
                let pushed = self.node(inner, within, parent)?;
                if pushed.exact {
                    Pushdown::exact(Cond::not(pushed.cond))
                } else {
                    Pushdown::in_memory()
                }
            }
            Filter::Present(path) => {
                let full = self.full_path(path, parent);
                self.present_path(&full, within)?
            }
            Filter::Compare { path, op, value } => {
                let full = self.full_path(path, parent);
                let resolved = self.resolve(&full)?;
                self.check_op(&full, &resolved, *op)?;
                self.compare(&full, &resolved, *op, value, within)?
            }
            Filter::ValuePath { path, filter } => {
                let resolved = self.resolve(path)?;
                if within != Within::Resource || path.sub_attr.is_some() {
                    // The parser never nests value filters; stay safe if one does.
                    return Ok(Pushdown::in_memory());
                }
                match self.table_of(&resolved) {
                    Some(table @ (Within::Emails | Within::Members)) => {
                        in_table(table, self.node(filter, table, Some(path))?)
                    }
                    _ => {
                        // Still check the inner paths, for InvalidFilter.
                        self.node(filter, Within::Resource, Some(path))?;
                        Pushdown::in_memory()
                    }
                }
            }
        })
    }

    /// Inside a value filter, `type` means `emails.type`.
    fn full_path(&self, path: &AttrPath, parent: Option<&AttrPath>) -> AttrPath {
        match parent {
            Some(parent) => AttrPath {
                schema: parent.schema.clone(),
                name: parent.name.clone(),
                sub_attr: Some(path.name.clone()),
            },
            None => path.clone(),
        }
    }

    fn resolve(&self, path: &AttrPath) -> Result<Resolved<'a>, StoreError> {
        self.schemas
            .resolve(path)
            .ok_or_else(|| StoreError::InvalidFilter(format!("unknown attribute {}", show(path))))
    }

    /// The type a comparison on `resolved` works with: a complex attribute
    /// compared without a sub-attribute compares its `value`.
    fn leaf_type(resolved: &Resolved<'_>) -> Option<(AttributeType, bool)> {
        let leaf = resolved.leaf();
        if leaf.type_ == AttributeType::Complex {
            leaf.sub_attribute("value")
                .map(|value| (value.type_, value.case_exact))
        } else {
            Some((leaf.type_, leaf.case_exact))
        }
    }

    fn check_op(
        &self,
        path: &AttrPath,
        resolved: &Resolved<'_>,
        op: CompareOp,
    ) -> Result<(), StoreError> {
        let Some(leaf_type) = Self::leaf_type(resolved) else {
            return Err(StoreError::InvalidFilter(format!(
                "{} is complex: compare one of its sub-attributes",
                show(path)
            )));
        };
        let ordering = matches!(
            op,
            CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le
        );
        let orderable = matches!(
            leaf_type,
            (
                AttributeType::String
                    | AttributeType::Reference
                    | AttributeType::Integer
                    | AttributeType::Decimal
                    | AttributeType::DateTime,
                _
            )
        );
        if ordering && !orderable {
            return Err(StoreError::InvalidFilter(format!(
                "{} cannot be compared with gt, ge, lt or le",
                show(path)
            )));
        }
        Ok(())
    }

    /// Whether the attribute of `path` is kept in a table of its own.
    fn table_of(&self, resolved: &Resolved<'_>) -> Option<Within> {
        if !matches!(resolved.origin, Origin::Core(_)) || self.also_in_extension(resolved) {
            return None;
        }
        let name = &resolved.attribute.name;
        if name == "emails" && self.resource_type == USER_TYPE {
            Some(Within::Emails)
        } else if name == "members" && self.resource_type == GROUP_TYPE {
            Some(Within::Members)
        } else {
            None
        }
    }

    /// An un-prefixed name that an extension also defines is looked up in either
    /// place by the evaluator: leave it to the evaluator.
    fn also_in_extension(&self, resolved: &Resolved<'_>) -> bool {
        resolved.extension_urn().is_none()
            && self
                .schemas
                .extensions
                .iter()
                .any(|(schema, _)| schema.attribute(&resolved.attribute.name).is_some())
    }

    /// The column holding a single-valued top-level attribute, if any.
    fn column(&self, resolved: &Resolved<'_>) -> Option<Column> {
        if resolved.extension_urn().is_some() || self.also_in_extension(resolved) {
            return None;
        }
        let name = resolved.attribute.name.as_str();
        let sub = resolved.sub_attribute.map(|sub| sub.name.as_str());
        Some(match (name, sub) {
            ("id", None) => Column::Text {
                raw: "r.id",
                folded: None,
            },
            ("externalId", None) => Column::Text {
                raw: "r.external_id",
                folded: None,
            },
            ("userName", None) if self.resource_type == USER_TYPE => Column::Text {
                raw: "r.user_name",
                folded: Some("r.user_name_folded"),
            },
            ("displayName", None) => Column::Text {
                raw: "r.display_name",
                folded: Some("r.display_name_folded"),
            },
            ("name", Some("givenName")) if self.resource_type == USER_TYPE => Column::Text {
                raw: "r.given_name",
                folded: Some("r.given_name_folded"),
            },
            ("name", Some("familyName")) if self.resource_type == USER_TYPE => Column::Text {
                raw: "r.family_name",
                folded: Some("r.family_name_folded"),
            },
            ("active", None) => Column::Bool("r.active"),
            ("meta", Some("created")) => Column::Time("r.created"),
            ("meta", Some("lastModified")) => Column::Time("r.last_modified"),
            ("meta", Some("resourceType")) => Column::Text {
                raw: "r.resource_type",
                folded: None,
            },
            _ => return None,
        })
    }

    /// `pr` on `full`. A complex value is present when any sub-attribute has a
    /// value (`scimitar_filter::matches`): `name pr` is `name.givenName pr or
    /// name.familyName pr or ...`, each of which SQL answers.
    fn present_path(&self, full: &AttrPath, within: Within) -> Result<Pushdown, StoreError> {
        let resolved = self.resolve(full)?;
        let leaf = resolved.leaf();
        if leaf.type_ != AttributeType::Complex || full.sub_attr.is_some() {
            return self.present(&resolved, within);
        }
        let subs: Vec<Filter> = leaf
            .sub_attributes
            .iter()
            .map(|sub| {
                Filter::Present(AttrPath {
                    sub_attr: Some(sub.name.clone()),
                    ..full.clone()
                })
            })
            .collect();
        match <[Filter; 1]>::try_from(subs) {
            Ok([only]) => self.node(&only, within, None),
            Err(subs) if subs.is_empty() => Ok(Pushdown::exact(Cond::False)),
            Err(subs) => self.node(&Filter::Or(subs), within, None),
        }
    }

    fn present(&self, resolved: &Resolved<'a>, within: Within) -> Result<Pushdown, StoreError> {
        Ok(match within {
            Within::Emails => match email_column(resolved) {
                // `primary` is stored false when absent: the evaluator decides.
                Some(("e.is_primary", _)) | None => Pushdown::in_memory(),
                Some((column, _)) => Pushdown::exact(Cond::sql(present_text(column))),
            },
            Within::Members => match member_column(resolved) {
                Some(column) => Pushdown::exact(Cond::sql(present_text(column))),
                None => Pushdown::in_memory(),
            },
            Within::Resource => {
                if let Some(table) = self.table_of(resolved) {
                    let whole = resolved.sub_attribute.is_none();
                    let inner = if whole {
                        Pushdown::exact(Cond::True)
                    } else {
                        self.present(resolved, table)?
                    };
                    // An email object is never empty after validation; a member
                    // always has a value.
                    return Ok(in_table(table, inner));
                }
                match self.column(resolved) {
                    Some(Column::Text { raw, .. }) => Pushdown::exact(Cond::sql(present_text(raw))),
                    Some(Column::Bool(column) | Column::Time(column)) => {
                        Pushdown::exact(Cond::sql(Sql::new(&format!("{column} IS NOT NULL"))))
                    }
                    None => match self.json(resolved) {
                        Some(json) => Pushdown::exact(Cond::sql(json.present(self.dialect))),
                        None => Pushdown::in_memory(),
                    },
                }
            }
        })
    }

    fn compare(
        &self,
        full: &AttrPath,
        resolved: &Resolved<'a>,
        op: CompareOp,
        value: &CompValue,
        within: Within,
    ) -> Result<Pushdown, StoreError> {
        // `eq null` is `not pr`, `ne null` is `pr`; nothing else matches null.
        if *value == CompValue::Null {
            let present = self.present_path(full, within)?;
            return Ok(match op {
                CompareOp::Eq if present.exact => Pushdown::exact(Cond::not(present.cond)),
                CompareOp::Eq => Pushdown::in_memory(),
                CompareOp::Ne => present,
                _ => Pushdown::exact(Cond::False),
            });
        }
        // Stored text never holds NUL (refused on write): nothing equals,
        // contains, starts or ends with such a value.
        if matches!(value, CompValue::String(text) if text.contains('\0')) {
            return Ok(match op {
                CompareOp::Eq | CompareOp::Co | CompareOp::Sw | CompareOp::Ew => {
                    Pushdown::exact(Cond::False)
                }
                CompareOp::Ne => Pushdown::exact(Cond::True),
                _ => Pushdown::in_memory(),
            });
        }
        // `ne` is exactly `not eq`: it matches a missing attribute too.
        if op == CompareOp::Ne {
            let eq = self.compare(full, resolved, CompareOp::Eq, value, within)?;
            return Ok(if eq.exact {
                Pushdown::exact(Cond::not(eq.cond))
            } else {
                Pushdown::in_memory()
            });
        }
        let Some((attr_type, case_exact)) = Self::leaf_type(resolved) else {
            return Ok(Pushdown::in_memory());
        };
        match within {
            Within::Emails => {
                return Ok(match email_column(resolved) {
                    Some((column, folded)) => {
                        let (column, case_exact) = match (case_exact, folded) {
                            (false, Some(folded)) => (folded, true),
                            _ => (column, case_exact),
                        };
                        self.scalar(column, attr_type, case_exact, op, value, folded.is_some())
                    }
                    None => Pushdown::in_memory(),
                });
            }
            Within::Members => {
                return Ok(match member_column(resolved) {
                    Some(column) => self.scalar(column, attr_type, case_exact, op, value, false),
                    None => Pushdown::in_memory(),
                });
            }
            Within::Resource => {}
        }
        if let Some(table) = self.table_of(resolved) {
            // `emails.value co "x"`, `emails co "x"` (its value): any element.
            let mut element_path = full.clone();
            element_path.sub_attr = Some(
                resolved
                    .sub_attribute
                    .map_or_else(|| "value".to_owned(), |sub| sub.name.clone()),
            );
            let element = self.resolve(&element_path)?;
            let inner = self.compare(&element_path, &element, op, value, table)?;
            return Ok(in_table(table, inner));
        }
        Ok(match self.column(resolved) {
            Some(Column::Text { raw, folded }) => {
                let (column, exact_compare) = match (case_exact, folded) {
                    (false, Some(folded)) => (folded, true),
                    _ => (raw, case_exact),
                };
                self.scalar(
                    column,
                    attr_type,
                    exact_compare,
                    op,
                    value,
                    folded.is_some(),
                )
            }
            Some(Column::Bool(column)) => self.scalar(column, attr_type, true, op, value, false),
            Some(Column::Time(column)) => time_compare(column, op, value),
            None => match self.json(resolved) {
                Some(json) => json.compare(self.dialect, attr_type, case_exact, op, value),
                None => Pushdown::in_memory(),
            },
        })
    }

    /// Compares a text or boolean column. `already_folded`: the column holds
    /// folded text, so the value is folded the same way.
    fn scalar(
        &self,
        column: &str,
        attr_type: AttributeType,
        case_exact: bool,
        op: CompareOp,
        value: &CompValue,
        already_folded: bool,
    ) -> Pushdown {
        match (attr_type, value) {
            (AttributeType::Boolean, CompValue::Bool(wanted)) => {
                let cond = if op == CompareOp::Eq {
                    let mut sql = Sql::new(&format!("{column} = "));
                    sql.bind(*wanted);
                    Cond::sql(sql)
                } else {
                    Cond::False
                };
                Pushdown::exact(cond)
            }
            (
                AttributeType::String | AttributeType::Reference | AttributeType::Binary,
                CompValue::String(wanted),
            ) => {
                // Compared as it is, the column may have an index for `sw` to
                // range over; folded on the fly it has none, and a range would
                // only evaluate the fold twice more per row.
                let (expr, wanted) = if case_exact {
                    let wanted = if already_folded {
                        fold(wanted)
                    } else {
                        wanted.clone()
                    };
                    (column.to_owned(), wanted)
                } else {
                    (format!("{FOLD_FN}({column})"), fold(wanted))
                };
                let sql = text_compare(self.dialect, Sql::new(&expr), op, wanted, case_exact);
                Pushdown::exact(Cond::sql(sql))
            }
            (AttributeType::DateTime, _) => Pushdown::in_memory(),
            // A value of another JSON type than the attribute's never matches.
            _ => Pushdown::exact(Cond::False),
        }
    }

    /// JSON access to a single-valued attribute of a supported type.
    fn json(&self, resolved: &Resolved<'a>) -> Option<JsonPath> {
        if resolved.attribute.multi_valued || self.also_in_extension(resolved) {
            return None;
        }
        let mut keys = Vec::with_capacity(3);
        if let Some(urn) = resolved.extension_urn() {
            keys.push(urn.to_owned());
        }
        keys.push(resolved.attribute.name.clone());
        if let Some(sub) = resolved.sub_attribute {
            if sub.multi_valued {
                return None;
            }
            keys.push(sub.name.clone());
        } else if resolved.attribute.type_ == AttributeType::Complex {
            keys.push("value".to_owned());
        }
        // SQLite path labels are double-quoted: a quote in a name cannot be.
        if keys.iter().any(|key| key.contains('"')) {
            return None;
        }
        Some(JsonPath { keys })
    }
}

/// `r.pk IN (SELECT ... WHERE 1 = 1 AND inner)` over the emails or members
/// table, as exact as `inner`.
fn in_table(table: Within, inner: Pushdown) -> Pushdown {
    let select = if table == Within::Emails {
        EMAILS_SELECT
    } else {
        MEMBERS_SELECT
    };
    let cond = match inner.cond {
        Cond::False => Cond::False,
        inner => Cond::In {
            select,
            inner: Box::new(inner),
        },
    };
    Pushdown {
        cond,
        exact: inner.exact,
    }
}

/// The `resource_emails` column of an `emails` sub-attribute, and its folded twin.
fn email_column(resolved: &Resolved<'_>) -> Option<(&'static str, Option<&'static str>)> {
    match resolved.sub_attribute.map(|sub| sub.name.as_str()) {
        Some("value") | None => Some(("e.value", Some("e.value_folded"))),
        Some("type") => Some(("e.type", None)),
        Some("primary") => Some(("e.is_primary", None)),
        _ => None,
    }
}

/// The column of a `members` sub-attribute: ids are the members' rows' ids.
fn member_column(resolved: &Resolved<'_>) -> Option<&'static str> {
    match resolved.sub_attribute.map(|sub| sub.name.as_str()) {
        Some("value") | None => Some("m.id"),
        Some("type") => Some("m.resource_type"),
        _ => None,
    }
}

/// `pr` on a text column: present and not empty.
fn present_text(column: &str) -> Sql {
    Sql::new(&format!("{column} <> ''"))
}

/// `expr op wanted` for text, with `LIKE` for `co`, `sw`, `ew` (and, with
/// `prefix_range`, `sw` also as a range, for a bare column). `expr` and
/// `wanted` are already folded when the comparison ignores case; `LIKE` itself is
/// case-sensitive on both backends (SQLite connections set
/// `case_sensitive_like`).
fn text_compare(
    dialect: Dialect,
    expr: Sql,
    op: CompareOp,
    wanted: String,
    prefix_range: bool,
) -> Sql {
    // Byte order, as Rust compares strings: the "C" collation on PostgreSQL.
    let operand = |expr: Sql| {
        let mut operand = Sql::new("(");
        operand.append(expr).push(")");
        if dialect == Dialect::Postgres {
            operand.push(" COLLATE \"C\"");
        }
        operand
    };
    let mut sql = operand(expr.clone());
    match op {
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => {
            let escaped = escape_like(&wanted);
            let pattern = match op {
                CompareOp::Co => format!("%{escaped}%"),
                CompareOp::Sw => format!("{escaped}%"),
                _ => format!("%{escaped}"),
            };
            sql.push(" LIKE ").bind(pattern).push(" ESCAPE '\\'");
            // The prefix as a range too: an index on the column serves it, on
            // either backend, whatever LIKE's own optimisation would need.
            if prefix_range && op == CompareOp::Sw && !wanted.is_empty() {
                if let Some(end) = prefix_end(&wanted) {
                    sql.push(" AND ")
                        .append(operand(expr.clone()))
                        .push(" < ")
                        .bind(end);
                }
                sql.push(" AND ")
                    .append(operand(expr))
                    .push(" >= ")
                    .bind(wanted);
            }
        }
        _ => {
            let symbol = match op {
                CompareOp::Gt => " > ",
                CompareOp::Ge => " >= ",
                CompareOp::Lt => " < ",
                CompareOp::Le => " <= ",
                _ => " = ",
            };
            sql.push(symbol).bind(wanted);
        }
    }
    sql
}

/// The least string above every string that starts with `prefix`, in code
/// point order (UTF-8 byte order, SQLite's `BINARY` and PostgreSQL's "C"): the
/// prefix with its last character incremented. `None` if there is none.
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = u32::from(last) + 1;
        if (0xD800..=0xDFFF).contains(&next) {
            next = 0xE000;
        }
        if let Some(next) = char::from_u32(next) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Escapes `%`, `_` and the escape character `\` for `LIKE ... ESCAPE '\'`.
pub(crate) fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// A comparison with `meta.created` / `meta.lastModified`: instants, stored as
/// nanoseconds. A value that is not an RFC 3339 date-time compares as a string
/// in the evaluator: left to it.
fn time_compare(column: &str, op: CompareOp, value: &CompValue) -> Pushdown {
    let CompValue::String(text) = value else {
        return Pushdown::exact(Cond::False);
    };
    let Some(nanos) = parse_instant(text) else {
        return Pushdown::in_memory();
    };
    let symbol = match op {
        CompareOp::Eq => " = ",
        CompareOp::Gt => " > ",
        CompareOp::Ge => " >= ",
        CompareOp::Lt => " < ",
        CompareOp::Le => " <= ",
        // co/sw/ew on a date-time compare its text: the evaluator's business.
        _ => return Pushdown::in_memory(),
    };
    let mut sql = Sql::new(column);
    sql.push(symbol).bind(nanos);
    Pushdown::exact(Cond::sql(sql))
}

/// Nanoseconds since the epoch of a strict RFC 3339 date-time within the stored
/// range; `None` otherwise (the evaluator then decides).
fn parse_instant(text: &str) -> Option<i64> {
    let strict = text.len() >= 20
        && text
            .as_bytes()
            .get(10)
            .is_some_and(|c| *c == b'T' || *c == b't');
    if !strict {
        return None;
    }
    let at =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(at.unix_timestamp_nanos()).ok()
}

/// A JSON path into `r.data`.
#[derive(Debug, Clone, PartialEq)]
struct JsonPath {
    keys: Vec<String>,
}

impl JsonPath {
    /// SQLite: `'$."a"."b"'`, bound.
    fn sqlite_path(&self) -> String {
        let mut path = String::from("$");
        for key in &self.keys {
            path.push_str(".\"");
            path.push_str(key);
            path.push('"');
        }
        path
    }

    /// Appends the value as JSON (`NULL` when missing).
    fn push_json(&self, dialect: Dialect, sql: &mut Sql) {
        match dialect {
            Dialect::Sqlite => {
                sql.push("(r.data -> ").bind(self.sqlite_path()).push(")");
            }
            Dialect::Postgres => {
                sql.push("jsonb_extract_path(r.data");
                for key in &self.keys {
                    sql.push(", ").bind(key.as_str());
                }
                sql.push(")");
            }
        }
    }

    /// Appends the value as SQL text, only when it is a JSON string (else `NULL`).
    fn push_text(&self, dialect: Dialect, sql: &mut Sql) {
        match dialect {
            Dialect::Sqlite => {
                sql.push("(CASE WHEN json_type(r.data, ")
                    .bind(self.sqlite_path())
                    .push(") = 'text' THEN r.data ->> ")
                    .bind(self.sqlite_path())
                    .push(" END)");
            }
            Dialect::Postgres => {
                sql.push("(CASE WHEN jsonb_typeof(");
                self.push_json(dialect, sql);
                sql.push(") = 'string' THEN jsonb_extract_path_text(r.data");
                for key in &self.keys {
                    sql.push(", ").bind(key.as_str());
                }
                sql.push(") END)");
            }
        }
    }

    /// `pr`: present, and not `null`, `""`, `[]` or `{}`.
    fn present(&self, dialect: Dialect) -> Sql {
        let mut sql = Sql::default();
        self.push_json(dialect, &mut sql);
        match dialect {
            Dialect::Sqlite => sql.push(" NOT IN ('null', '\"\"', '[]', '{}')"),
            Dialect::Postgres => {
                sql.push(" NOT IN ('null'::jsonb, '\"\"'::jsonb, '[]'::jsonb, '{}'::jsonb)")
            }
        };
        sql
    }

    fn compare(
        &self,
        dialect: Dialect,
        attr_type: AttributeType,
        case_exact: bool,
        op: CompareOp,
        value: &CompValue,
    ) -> Pushdown {
        match (attr_type, value) {
            (
                AttributeType::String | AttributeType::Reference | AttributeType::Binary,
                CompValue::String(wanted),
            ) => {
                let mut text = Sql::default();
                self.push_text(dialect, &mut text);
                let (text, wanted) = if case_exact {
                    (text, wanted.clone())
                } else {
                    let mut folded = Sql::new(&format!("{FOLD_FN}("));
                    folded.append(text).push(")");
                    (folded, fold(wanted))
                };
                // The expression carries binds: compose around it.
                Pushdown::exact(Cond::sql(text_compare(dialect, text, op, wanted, false)))
            }
            (AttributeType::Boolean, CompValue::Bool(wanted)) => {
                if op != CompareOp::Eq {
                    return Pushdown::exact(Cond::False);
                }
                let mut sql = Sql::default();
                self.push_json(dialect, &mut sql);
                let literal = if *wanted { "true" } else { "false" };
                match dialect {
                    Dialect::Sqlite => sql.push(" = ").bind(literal),
                    Dialect::Postgres => sql.push(" = ").bind(literal).push("::jsonb"),
                };
                Pushdown::exact(Cond::sql(sql))
            }
            (AttributeType::Integer | AttributeType::Decimal, CompValue::Number(wanted)) => {
                let symbol = match op {
                    CompareOp::Eq => " = ",
                    CompareOp::Gt => " > ",
                    CompareOp::Ge => " >= ",
                    CompareOp::Lt => " < ",
                    CompareOp::Le => " <= ",
                    _ => return Pushdown::exact(Cond::False),
                };
                let mut sql = Sql::default();
                match dialect {
                    Dialect::Sqlite => {
                        sql.push("(CASE WHEN json_type(r.data, ")
                            .bind(self.sqlite_path())
                            .push(") IN ('integer', 'real') THEN r.data ->> ")
                            .bind(self.sqlite_path())
                            .push(" END)");
                    }
                    Dialect::Postgres => {
                        sql.push("(CASE WHEN jsonb_typeof(");
                        self.push_json(dialect, &mut sql);
                        sql.push(") = 'number' THEN (");
                        self.push_json(dialect, &mut sql);
                        sql.push(")::numeric END)");
                    }
                }
                sql.push(symbol);
                match wanted.as_i64() {
                    Some(n) => sql.bind(n),
                    None => sql.bind(Value::Float(wanted.as_f64())),
                };
                Pushdown::exact(Cond::sql(sql))
            }
            // Date-times inside the JSON compare as instants: in memory.
            (AttributeType::DateTime, _) => Pushdown::in_memory(),
            _ => Pushdown::exact(Cond::False),
        }
    }
}

fn show(path: &AttrPath) -> String {
    let mut text = String::new();
    if let Some(schema) = &path.schema {
        text.push_str(schema);
        text.push(':');
    }
    text.push_str(&path.name);
    if let Some(sub) = &path.sub_attr {
        text.push('.');
        text.push_str(sub);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use scimitar_filter::parse_filter;

    /// The WHERE text (placeholders as `?`), the binds, and exactness.
    fn translate(dialect: Dialect, filter: &str) -> (String, Vec<Value>, bool) {
        let registry = Registry::builtin();
        let translator = Translator::new(dialect, &registry, "User").unwrap();
        let pushed = translator.filter(&parse_filter(filter).unwrap()).unwrap();
        let mut sql = Sql::default();
        pushed.cond.render(&mut sql);
        let (text, binds) = sql.debug_parts();
        (text, binds, pushed.exact)
    }

    fn sqlite(filter: &str) -> (String, Vec<Value>, bool) {
        translate(Dialect::Sqlite, filter)
    }

    fn text(s: &str) -> Value {
        Value::Text(s.to_owned())
    }

    #[test]
    fn case_insensitive_equality_uses_the_folded_column() {
        assert_eq!(
            sqlite(r#"userName eq "Émile@Example.COM""#),
            (
                "((r.user_name_folded) = ?)".into(),
                vec![text("émile@example.com")],
                true
            )
        );
    }

    #[test]
    fn case_exact_equality_uses_the_raw_column() {
        assert_eq!(
            sqlite(r#"externalId eq "AbC""#),
            ("((r.external_id) = ?)".into(), vec![text("AbC")], true)
        );
        assert_eq!(
            sqlite(r#"id eq "x""#),
            ("((r.id) = ?)".into(), vec![text("x")], true)
        );
    }

    #[test]
    fn ordering_operators() {
        for (op, symbol) in [("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")] {
            let (sql, binds, exact) = sqlite(&format!(r#"userName {op} "M""#));
            assert_eq!(sql, format!("((r.user_name_folded) {symbol} ?)"));
            assert_eq!(binds, vec![text("m")]);
            assert!(exact);
        }
        // PostgreSQL compares bytes, as Rust does.
        let (sql, _, _) = translate(Dialect::Postgres, r#"userName gt "m""#);
        assert_eq!(sql, "((r.user_name_folded) COLLATE \"C\" > ?)");
    }

    #[test]
    fn like_operators_escape_wildcards() {
        let (sql, binds, exact) = sqlite(r#"userName co "100%_a\\b""#);
        assert_eq!(sql, "((r.user_name_folded) LIKE ? ESCAPE '\\')");
        assert_eq!(binds, vec![text("%100\\%\\_a\\\\b%")]);
        assert!(exact);
        // `sw` on a column is also a range an index serves.
        let (sql, binds, _) = sqlite(r#"userName sw "Ab""#);
        assert_eq!(
            sql,
            "((r.user_name_folded) LIKE ? ESCAPE '\\' AND (r.user_name_folded) < ? \
             AND (r.user_name_folded) >= ?)"
        );
        assert_eq!(binds, vec![text("ab%"), text("ac"), text("ab")]);
        assert_eq!(sqlite(r#"userName ew "Ab""#).1, vec![text("%ab")]);
        assert_eq!(escape_like(r"a%b_c\d"), r"a\%b\_c\\d");
    }

    #[test]
    fn prefix_ends_increment_the_last_character() {
        assert_eq!(prefix_end("ab").as_deref(), Some("ac"));
        assert_eq!(prefix_end("a%").as_deref(), Some("a&"));
        assert_eq!(prefix_end("\u{d7ff}").as_deref(), Some("\u{e000}"));
        assert_eq!(prefix_end("a\u{10ffff}").as_deref(), Some("b"));
        assert_eq!(prefix_end("\u{10ffff}"), None);
        assert_eq!(prefix_end(""), None);
    }

    #[test]
    fn names_use_their_columns() {
        let (sql, binds, exact) = sqlite(r#"name.familyName sw "Sm""#);
        assert_eq!(
            sql,
            "((r.family_name_folded) LIKE ? ESCAPE '\\' AND (r.family_name_folded) < ? \
             AND (r.family_name_folded) >= ?)"
        );
        assert_eq!(binds, vec![text("sm%"), text("sn"), text("sm")]);
        assert!(exact);
        assert_eq!(
            sqlite(r#"name.givenName eq "Bo""#).0,
            "((r.given_name_folded) = ?)"
        );
    }

    #[test]
    fn ne_and_not_treat_missing_attributes_as_not_equal() {
        let (sql, binds, exact) = sqlite(r#"displayName ne "X""#);
        assert_eq!(sql, "NOT COALESCE(((r.display_name_folded) = ?), FALSE)");
        assert_eq!(binds, vec![text("x")]);
        assert!(exact);
    }

    #[test]
    fn presence_and_null() {
        assert_eq!(
            sqlite("externalId pr"),
            ("(r.external_id <> '')".into(), vec![], true)
        );
        assert_eq!(
            sqlite("externalId eq null").0,
            "NOT COALESCE((r.external_id <> ''), FALSE)"
        );
        assert_eq!(sqlite("active pr").0, "(r.active IS NOT NULL)");
        assert_eq!(sqlite(r#"userName gt null"#).0, "1 = 0");
    }

    #[test]
    fn booleans_and_type_mismatches() {
        assert_eq!(
            sqlite("active eq true"),
            ("(r.active = ?)".into(), vec![Value::Bool(true)], true)
        );
        // A value of another type never matches; `ne` then always does.
        assert_eq!(sqlite("active eq \"true\"").0, "1 = 0");
        assert_eq!(sqlite("userName eq 1").0, "1 = 0");
        assert_eq!(sqlite("userName ne 1").0, "1 = 1");
    }

    #[test]
    fn date_times_compare_as_instants() {
        let (sql, binds, exact) = sqlite(r#"meta.lastModified gt "2011-05-13T04:42:34+02:00""#);
        assert_eq!(sql, "(r.last_modified > ?)");
        assert_eq!(binds, vec![Value::Int(1_305_254_554_000_000_000)]);
        assert!(exact);
        // Not an RFC 3339 date-time: the evaluator compares it as a string.
        assert!(!sqlite(r#"meta.lastModified gt "yesterday""#).2);
    }

    #[test]
    fn emails_use_their_table() {
        let (sql, binds, exact) = sqlite(r#"emails[type eq "work" and value co "@example.com"]"#);
        assert_eq!(
            sql,
            "r.pk IN (SELECT e.resource_pk FROM resource_emails e WHERE 1 = 1 AND \
             (((scim_fold(e.type)) = ?) AND ((e.value_folded) LIKE ? ESCAPE '\\')))"
        );
        assert_eq!(binds, vec![text("work"), text("%@example.com%")]);
        assert!(exact);
        // `emails co` compares each email's value.
        assert_eq!(
            sqlite(r#"emails co "X""#).0,
            "r.pk IN (SELECT e.resource_pk FROM resource_emails e WHERE 1 = 1 AND \
             ((e.value_folded) LIKE ? ESCAPE '\\'))"
        );
    }

    #[test]
    fn other_attributes_use_json_functions() {
        let (sql, binds, exact) = sqlite(r#"name.middleName eq "Bo""#);
        assert_eq!(
            sql,
            "((scim_fold((CASE WHEN json_type(r.data, ?) = 'text' THEN r.data ->> ? END))) = ?)"
        );
        let path = text("$.\"name\".\"middleName\"");
        assert_eq!(binds, vec![path.clone(), path, text("bo")]);
        assert!(exact);
        let (sql, binds, _) = translate(
            Dialect::Postgres,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber pr",
        );
        assert_eq!(
            sql,
            "(jsonb_extract_path(r.data, ?, ?) NOT IN ('null'::jsonb, '\"\"'::jsonb, '[]'::jsonb, '{}'::jsonb))"
        );
        assert_eq!(
            binds,
            vec![
                text("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"),
                text("employeeNumber")
            ]
        );
    }

    #[test]
    fn what_sql_cannot_decide_is_left_to_memory() {
        // Multi-valued attributes other than emails and members.
        assert_eq!(
            sqlite(r#"phoneNumbers.value eq "1""#),
            ("1 = 1".into(), vec![], false)
        );
        // A superset under `and` still narrows; under `not` it cannot.
        let (sql, _, exact) = sqlite(r#"userName eq "a" and phoneNumbers pr"#);
        assert_eq!(sql, "((r.user_name_folded) = ?)");
        assert!(!exact);
        assert_eq!(
            sqlite(r#"not (phoneNumbers pr)"#),
            ("1 = 1".into(), vec![], false)
        );
    }

    #[test]
    fn invalid_filters_are_refused() {
        let registry = Registry::builtin();
        let translator = Translator::new(Dialect::Sqlite, &registry, "User").unwrap();
        for filter in [
            r#"noSuch eq "x""#,
            r#"name eq "x""#,
            "active gt true",
            r#"emails[noSuch eq "x"]"#,
        ] {
            let result = translator.filter(&parse_filter(filter).unwrap());
            assert!(
                matches!(result, Err(StoreError::InvalidFilter(_))),
                "{filter}: {result:?}"
            );
        }
    }
}
