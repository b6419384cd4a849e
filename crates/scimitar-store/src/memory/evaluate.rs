//! A query evaluated in memory over resources a store hands in: for stores
//! that cannot push a filter, sort or page down to their database.

use serde_json::Value;

use super::order::{self, SortSpec};
use super::schema_ops;
use crate::query::{Page, Query};
use crate::schema::ScimType;
use crate::store::Scope;
use crate::StoreError;

/// The most resources [`evaluate_in_memory`] evaluates one query over; beyond it
/// the query is refused with 400 `tooMany` rather than slowing every request of
/// the tenant down.
pub const IN_MEMORY_LIMIT: usize = 100_000;

/// Answers `query` (rules 11 to 15) over `resources`, every resource of
/// `resource_type` in the scope's tenant, in creation order, as a client reads
/// them (`id` and `meta` included): the filter with the reference semantics, the
/// sort, index or cursor paging, and the projection. A store whose database cannot
/// evaluate a query reads the tenant's resources and calls this.
///
/// The cost is the store's read of every resource of the type plus a filter
/// evaluation each and a sort of the matches: linear in the tenant's size per
/// query, fine for thousands of users, not for millions.
///
/// ```
/// use scimitar_store::{evaluate_in_memory, Policy, Query, Registry, Scope};
/// use serde_json::json;
///
/// let (registry, policy) = (Registry::builtin(), Policy::compatible());
/// let scope = Scope::new("acme", &registry, &policy);
/// let users = vec![
///     json!({"id": "1", "userName": "bjensen", "meta": {"resourceType": "User"}}),
///     json!({"id": "2", "userName": "jsmith", "meta": {"resourceType": "User"}}),
/// ];
/// let filter = scimitar_filter::parse_filter(r#"userName eq "JSMITH""#).unwrap();
/// let page = evaluate_in_memory(&scope, "User", &Query::default().filter(filter), users)?;
/// assert_eq!(page.total_results, 1);
/// assert_eq!(page.resources[0]["id"], "2");
/// # Ok::<(), scimitar_store::StoreError>(())
/// ```
///
/// # Errors
/// [`StoreError::UnknownResourceType`], [`StoreError::InvalidFilter`] as
/// [`Query::check`] decides, [`StoreError::InvalidCursor`], and a
/// [`StoreError::Refused`] 400 `tooMany` for more than [`IN_MEMORY_LIMIT`]
/// resources.
pub fn evaluate_in_memory(
    scope: &Scope<'_>,
    resource_type: &str,
    query: &Query,
    resources: Vec<Value>,
) -> Result<Page, StoreError> {
    let resource_type = schema_ops::resource_type(scope, resource_type)?;
    if resources.len() > IN_MEMORY_LIMIT {
        return Err(StoreError::refused(
            400,
            Some(ScimType::TooMany),
            format!(
                "this store evaluates queries in memory, over at most {IN_MEMORY_LIMIT} \
                 {resource_type} resources; the tenant has {}",
                resources.len()
            ),
        ));
    }
    query.check(scope.registry, resource_type)?;
    let sort = SortSpec::new(scope, resource_type, query)?;
    let hints = scope.registry.hints(resource_type);
    let found: Vec<_> = resources
        .into_iter()
        .zip(0u64..)
        .filter(|(resource, _)| {
            query
                .filter
                .as_ref()
                .is_none_or(|filter| schema_ops::matches(&hints, filter, resource))
        })
        .map(|(resource, position)| (sort.key(&resource, position), resource))
        .collect();
    order::page(found, &sort, &query.paging, |resource| {
        schema_ops::project(scope, resource_type, &resource, &query.projection)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Policy, Registry};
    use serde_json::json;

    #[test]
    fn more_than_the_limit_is_too_many() {
        let (registry, policy) = (Registry::builtin(), Policy::compatible());
        let scope = Scope::new("acme", &registry, &policy);
        let users = vec![json!({"userName": "u"}); IN_MEMORY_LIMIT + 1];
        let error = evaluate_in_memory(&scope, "User", &Query::default(), users);
        let error = error.err().map(|error| (error.status(), error.scim_type()));
        assert_eq!(error, Some((400, Some(ScimType::TooMany))));
        let at_limit = vec![json!({"userName": "u"}); IN_MEMORY_LIMIT];
        let page = evaluate_in_memory(&scope, "User", &Query::default(), at_limit);
        assert_eq!(
            page.map(|page| page.total_results).ok(),
            Some(IN_MEMORY_LIMIT)
        );
    }
}
