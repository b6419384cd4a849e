//! The query model: what `GET /Users?filter=..&sortBy=..&startIndex=..` asks a store,
//! and the page it answers with.

use std::borrow::Cow;

use scimitar_filter::ast::{AttrPath, CompareOp, Filter};
use scimitar_schema::{Attribute, AttributeType};
use serde_json::Value;

use crate::schema::{Projection, Registry};
use crate::StoreError;

/// A search over one resource type of one tenant (RFC 7644 §3.4.2).
///
/// Build one from [`Query::default`] (everything, creation order, first page of
/// [`Paging::DEFAULT_COUNT`]) and set the fields that were given.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Query {
    /// `filter`: only resources it matches; `None` matches all.
    pub filter: Option<Filter>,
    /// `sortBy`: the attribute to sort by; `None` keeps the store's stable order
    /// (creation order).
    pub sort_by: Option<AttrPath>,
    /// `sortOrder`; ignored without `sort_by`.
    pub sort_order: SortOrder,
    /// Which page.
    pub paging: Paging,
    /// `attributes` / `excludedAttributes`, applied to every resource returned.
    pub projection: Projection,
}

impl Query {
    /// A query for everything, with the given paging.
    pub fn with_paging(paging: Paging) -> Self {
        Query {
            paging,
            ..Query::default()
        }
    }

    /// This query with a filter.
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filter = Some(filter);
        self
    }

    /// This query sorted by `path` in `order`.
    pub fn sort(mut self, path: AttrPath, order: SortOrder) -> Self {
        self.sort_by = Some(path);
        self.sort_order = order;
        self
    }

    /// This query with a projection.
    pub fn project(mut self, projection: Projection) -> Self {
        self.projection = projection;
        self
    }

    /// Checks the filter and sort attribute against the schemas of `resource_type`
    /// (rules 11 and 12): every attribute named must be defined; `gt`, `ge`, `lt`
    /// and `le` apply only to ordered types (not boolean or binary); a complex
    /// attribute is compared and sorted through its `value` sub-attribute, so one
    /// without (`name`) can only be tested with `pr`.
    ///
    /// Stores call it before running a query so that they all reject the same
    /// queries with [`StoreError::InvalidFilter`].
    pub fn check(&self, registry: &Registry, resource_type: &str) -> Result<(), StoreError> {
        if let Some(filter) = &self.filter {
            check_filter(registry, resource_type, filter, None)?;
        }
        if let Some(path) = &self.sort_by {
            sort_attribute(registry, resource_type, path)?;
        }
        Ok(())
    }
}

/// The attribute a query sorted by `path` orders on: the attribute, or the `value`
/// sub-attribute of a complex one (`emails` sorts by the primary email's value).
/// `InvalidFilter` if it is undefined or cannot be ordered (binary, or complex
/// without `value`).
pub fn sort_attribute<'a>(
    registry: &'a Registry,
    resource_type: &str,
    path: &AttrPath,
) -> Result<&'a Attribute, StoreError> {
    let attribute = compared_attribute(registry, resource_type, path)?;
    if attribute.type_ == AttributeType::Binary {
        return Err(StoreError::InvalidFilter(format!("cannot sort by {path}")));
    }
    Ok(attribute)
}

/// Whether `filter` names the top-level attribute `name` (any case) anywhere: a
/// store that keeps `members` apart reads them only for filters that name them.
///
/// ```
/// use scimitar_store::query::mentions_attribute;
///
/// let filter = scimitar_filter::parse_filter(r#"displayName sw "S" or members.value eq "1""#)?;
/// assert!(mentions_attribute(&filter, "members"));
/// assert!(!mentions_attribute(&filter, "emails"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn mentions_attribute(filter: &Filter, name: &str) -> bool {
    match filter {
        Filter::And(operands) | Filter::Or(operands) => operands
            .iter()
            .any(|operand| mentions_attribute(operand, name)),
        Filter::Not(inner) => mentions_attribute(inner, name),
        Filter::Present(path) | Filter::Compare { path, .. } | Filter::ValuePath { path, .. } => {
            path.name.eq_ignore_ascii_case(name)
        }
    }
}

fn check_filter(
    registry: &Registry,
    resource_type: &str,
    filter: &Filter,
    parent: Option<&AttrPath>,
) -> Result<(), StoreError> {
    match filter {
        Filter::Compare { path, op, .. } => {
            let path = absolute(path, parent);
            let attribute = compared_attribute(registry, resource_type, &path)?;
            let ordering = matches!(
                op,
                CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le
            );
            let unordered = matches!(
                attribute.type_,
                AttributeType::Boolean | AttributeType::Binary
            );
            if ordering && unordered {
                return Err(StoreError::InvalidFilter(format!(
                    "{op} cannot compare {path}, a {} attribute",
                    attribute.type_
                )));
            }
            Ok(())
        }
        Filter::Present(path) => {
            defined(registry, resource_type, &absolute(path, parent))?;
            Ok(())
        }
        Filter::And(filters) | Filter::Or(filters) => filters
            .iter()
            .try_for_each(|filter| check_filter(registry, resource_type, filter, parent)),
        Filter::Not(filter) => check_filter(registry, resource_type, filter, parent),
        Filter::ValuePath { path, filter } => {
            if !defined(registry, resource_type, path)?.is_complex() {
                return Err(StoreError::InvalidFilter(format!(
                    "{path} is not a complex attribute"
                )));
            }
            check_filter(registry, resource_type, filter, Some(path))
        }
    }
}

/// A path inside a value filter made absolute: `type` in `emails[type eq "work"]`
/// is `emails.type`.
fn absolute<'a>(path: &'a AttrPath, parent: Option<&AttrPath>) -> Cow<'a, AttrPath> {
    match parent {
        Some(parent) => Cow::Owned(AttrPath {
            schema: parent.schema.clone(),
            name: parent.name.clone(),
            sub_attr: Some(path.name.clone()),
        }),
        None => Cow::Borrowed(path),
    }
}

/// The attribute a comparison on `path` compares: a complex attribute compares
/// through its `value` (`emails co "x"`).
fn compared_attribute<'a>(
    registry: &'a Registry,
    resource_type: &str,
    path: &AttrPath,
) -> Result<&'a Attribute, StoreError> {
    let attribute = defined(registry, resource_type, path)?;
    if !attribute.is_complex() {
        return Ok(attribute);
    }
    attribute.sub_attribute("value").ok_or_else(|| {
        StoreError::InvalidFilter(format!("{path} is complex and cannot be compared"))
    })
}

/// The definition of the attribute `path` ends at, or `InvalidFilter`; also for
/// `manager.displayName`, which stores do not keep (they read it from the manager
/// when returning a user, rule 19).
fn defined<'a>(
    registry: &'a Registry,
    resource_type: &str,
    path: &AttrPath,
) -> Result<&'a Attribute, StoreError> {
    let resolved = registry
        .resolve(resource_type, path)
        .ok_or_else(|| StoreError::InvalidFilter(format!("unknown attribute {path}")))?;
    if resolved
        .canonical_path()
        .eq_ignore_ascii_case(MANAGER_DISPLAY_NAME)
    {
        return Err(StoreError::InvalidFilter(format!(
            "{path} is read from the manager when a user is returned and cannot be filtered or sorted by"
        )));
    }
    Ok(resolved.leaf())
}

const MANAGER_DISPLAY_NAME: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName";

/// `sortOrder` (RFC 7644 §3.4.2.3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SortOrder {
    /// `ascending`, the default.
    #[default]
    Ascending,
    /// `descending`.
    Descending,
}

/// Which page of the results to return.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Paging {
    /// Index-based paging (RFC 7644 §3.4.2.4).
    Index {
        /// 1-based index of the first result; values below 1 are read as 1.
        start_index: usize,
        /// At most this many resources; 0 asks only for `totalResults`.
        count: usize,
    },
    /// Cursor-based paging (RFC 9865).
    Cursor {
        /// `None` for the first page, then a [`Page::next_cursor`] of the same query.
        cursor: Option<String>,
        /// At most this many resources.
        count: usize,
    },
}

impl Paging {
    /// The page size used by [`Paging::default`].
    pub const DEFAULT_COUNT: usize = 100;

    /// The requested page size.
    pub fn count(&self) -> usize {
        match self {
            Paging::Index { count, .. } | Paging::Cursor { count, .. } => *count,
        }
    }
}

impl Default for Paging {
    /// The first page of [`Paging::DEFAULT_COUNT`] by index.
    fn default() -> Self {
        Paging::Index {
            start_index: 1,
            count: Paging::DEFAULT_COUNT,
        }
    }
}

/// One page of query results: the body of a `ListResponse` (RFC 7644 §3.4.2).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page {
    /// The resources of this page, projected, in order.
    pub resources: Vec<Value>,
    /// How many resources match the filter in all (`totalResults`).
    pub total_results: usize,
    /// The 1-based index of the first resource (`startIndex`), for index paging.
    pub start_index: Option<usize>,
    /// The cursor of the next page (`nextCursor`), for cursor paging; `None` on the
    /// last page.
    pub next_cursor: Option<String>,
}

impl Page {
    /// A page of index paging.
    pub fn index(resources: Vec<Value>, total_results: usize, start_index: usize) -> Self {
        Page {
            resources,
            total_results,
            start_index: Some(start_index.max(1)),
            next_cursor: None,
        }
    }

    /// A page of cursor paging.
    pub fn cursor(
        resources: Vec<Value>,
        total_results: usize,
        next_cursor: Option<String>,
    ) -> Self {
        Page {
            resources,
            total_results,
            start_index: None,
            next_cursor,
        }
    }

    /// `itemsPerPage`: the number of resources on this page.
    pub fn items_per_page(&self) -> usize {
        self.resources.len()
    }
}
