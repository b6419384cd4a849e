//! The query model: what `GET /Users?filter=..&sortBy=..&startIndex=..` asks a store,
//! and the page it answers with.

use scimitar_filter::ast::{AttrPath, Filter};
use serde_json::Value;

use crate::schema::Projection;

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
}

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
