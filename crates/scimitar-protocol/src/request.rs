//! Reading requests: JSON bodies under the accepted media types, list and search
//! parameters, projections and preconditions.

use http::header;
use http::request::Parts;
use scimitar_filter::Parser;
use scimitar_schema::{SearchRequest, SortOrder as SchemaSortOrder};
use scimitar_store::{Paging, Projection, Query, SortOrder};
use serde_json::Value;

use crate::error::ScimError;
use crate::Limits;

/// Parses a request body as JSON.
///
/// `application/scim+json`, `application/json` and other `+json` types are accepted,
/// and so is a body without a content type (some clients omit it); anything else is
/// 415.
pub(crate) fn json_body(req: &Parts, body: &[u8]) -> Result<Value, ScimError> {
    if let Some(content_type) = req.headers.get(header::CONTENT_TYPE) {
        let text = content_type.to_str().unwrap_or_default();
        let essence = text.split(';').next().unwrap_or_default().trim();
        let essence = essence.to_ascii_lowercase();
        let is_json = essence == "application/json"
            || (essence.starts_with("application/") && essence.ends_with("+json"));
        if !is_json {
            return Err(ScimError::UnsupportedMediaType(
                text.chars().take(100).collect(),
            ));
        }
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ScimError::invalid_syntax("the request needs a JSON body"));
    }
    serde_json::from_slice(body)
        .map_err(|error| ScimError::invalid_syntax(format!("the body is not valid JSON: {error}")))
}

/// Deserializes a JSON body into a protocol message (`PatchOp`, `SearchRequest`...).
pub(crate) fn message<T: serde::de::DeserializeOwned>(
    body: Value,
    what: &str,
) -> Result<T, ScimError> {
    serde_json::from_value(body).map_err(|error| {
        ScimError::invalid_syntax(format!("the body is not a valid {what}: {error}"))
    })
}

/// The query string as name/value pairs, `+` and `%XX` decoded; a pair that does
/// not decode to UTF-8 is refused rather than read with replacement characters.
pub(crate) fn query_pairs(req: &Parts) -> Result<Vec<(String, String)>, ScimError> {
    let decode = |text: &str| {
        decode_component(text).map_err(|_| {
            ScimError::invalid_value(
                "the query string is not valid: a parameter is not UTF-8 once decoded",
            )
        })
    };
    raw_pairs(req.uri.query().unwrap_or_default())
        .map(|(name, value)| Ok((decode(name)?, decode(value)?)))
        .collect()
}

/// The `name=value` pairs of a query string, still encoded.
pub fn raw_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
}

/// A query-string component with `+` and `%XX` decoded; the raw bytes when they
/// are not UTF-8.
pub fn decode_component(text: &str) -> Result<String, Vec<u8>> {
    let bytes: Vec<u8> = percent_encoding::percent_decode_str(&text.replace('+', " ")).collect();
    String::from_utf8(bytes).map_err(|error| error.into_bytes())
}

/// The value of query parameter `name` (compared ignoring ASCII case, as clients
/// differ in spelling `startindex`).
fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// `If-Match`, for writes.
pub(crate) fn if_match(req: &Parts) -> Option<String> {
    header_text(req, header::IF_MATCH)
}

/// `If-None-Match`, for reads.
pub(crate) fn if_none_match(req: &Parts) -> Option<String> {
    header_text(req, header::IF_NONE_MATCH)
}

fn header_text(req: &Parts, name: header::HeaderName) -> Option<String> {
    let value = req.headers.get(name)?.to_str().ok()?.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// Whether an `If-None-Match` list names `version` (weak comparison, `*` matches).
pub(crate) fn none_match_hits(if_none_match: &str, version: &str) -> bool {
    if_none_match
        .split(',')
        .any(|tag| scimitar_store::meta::version_matches(tag, version))
}

/// A list or search request, from query parameters or a `SearchRequest` body.
#[derive(Debug, Default)]
pub(crate) struct ListRequest {
    filter: Option<String>,
    sort_by: Option<String>,
    sort_order: Option<SortOrder>,
    start_index: Option<i64>,
    count: Option<i64>,
    cursor: Option<String>,
    attributes: Option<String>,
    excluded_attributes: Option<String>,
}

impl ListRequest {
    /// From `GET` query parameters.
    pub(crate) fn from_query(pairs: &[(String, String)]) -> Result<Self, ScimError> {
        let number = |name: &str| -> Result<Option<i64>, ScimError> {
            param(pairs, name)
                .map(|text| {
                    text.trim().parse::<i64>().map_err(|_| {
                        ScimError::invalid_value(format!(
                            "`{name}` must be an integer, not `{text}`"
                        ))
                    })
                })
                .transpose()
        };
        let sort_order = param(pairs, "sortOrder")
            .map(|text| match text.trim().to_ascii_lowercase().as_str() {
                "ascending" => Ok(SortOrder::Ascending),
                "descending" => Ok(SortOrder::Descending),
                _ => Err(ScimError::invalid_value(format!(
                    "`sortOrder` must be ascending or descending, not `{text}`"
                ))),
            })
            .transpose()?;
        Ok(ListRequest {
            filter: param(pairs, "filter").map(str::to_owned),
            sort_by: param(pairs, "sortBy").map(str::to_owned),
            sort_order,
            start_index: number("startIndex")?,
            count: number("count")?,
            cursor: param(pairs, "cursor").map(str::to_owned),
            attributes: param(pairs, "attributes").map(str::to_owned),
            excluded_attributes: param(pairs, "excludedAttributes").map(str::to_owned),
        })
    }

    /// From a `POST .search` body.
    pub(crate) fn from_search(search: SearchRequest) -> Self {
        ListRequest {
            filter: search.filter,
            sort_by: search.sort_by,
            sort_order: search.sort_order.map(|order| match order {
                SchemaSortOrder::Ascending => SortOrder::Ascending,
                SchemaSortOrder::Descending => SortOrder::Descending,
            }),
            start_index: search.start_index,
            count: search.count,
            cursor: search.cursor,
            attributes: search.attributes.map(|list| list.join(",")),
            excluded_attributes: search.excluded_attributes.map(|list| list.join(",")),
        }
    }

    /// Whether this asks for cursor paging.
    pub(crate) fn is_cursor(&self) -> bool {
        self.cursor.is_some()
    }

    /// The store query: filter and sort parsed, `count` clamped to
    /// `[0, max_results]` (absent: the default page size), `startIndex` below 1
    /// read as 1 (RFC 7644 §3.4.2.4).
    pub(crate) fn to_query(&self, limits: &Limits) -> Result<Query, ScimError> {
        let parser = limits.parser();
        let max = limits.max_results;
        let count = match self.count {
            None => limits.default_page_size.min(max),
            Some(n) => usize::try_from(n.max(0)).unwrap_or(usize::MAX).min(max),
        };
        let paging = match &self.cursor {
            Some(_) if self.start_index.is_some() => {
                return Err(ScimError::invalid_value(
                    "`cursor` and `startIndex` cannot be used together",
                ))
            }
            Some(cursor) => Paging::Cursor {
                cursor: (!cursor.is_empty()).then(|| cursor.clone()),
                count,
            },
            None => Paging::Index {
                start_index: usize::try_from(self.start_index.unwrap_or(1).max(1)).unwrap_or(1),
                count,
            },
        };
        let mut query = Query::with_paging(paging).project(projection(
            &parser,
            self.attributes.as_deref(),
            self.excluded_attributes.as_deref(),
        )?);
        if let Some(filter) = self
            .filter
            .as_deref()
            .filter(|text| !text.trim().is_empty())
        {
            query = query.filter(parser.filter(filter)?);
        }
        if let Some(sort_by) = self
            .sort_by
            .as_deref()
            .filter(|text| !text.trim().is_empty())
        {
            let order = self.sort_order.unwrap_or_default();
            query = query.sort(parser.attr_path(sort_by.trim())?, order);
        }
        Ok(query)
    }
}

/// The projection asked for by `attributes` / `excludedAttributes` query parameters.
pub(crate) fn query_projection(req: &Parts, limits: &Limits) -> Result<Projection, ScimError> {
    let pairs = query_pairs(req)?;
    projection(
        &limits.parser(),
        param(&pairs, "attributes"),
        param(&pairs, "excludedAttributes"),
    )
}

fn projection(
    parser: &Parser,
    attributes: Option<&str>,
    excluded: Option<&str>,
) -> Result<Projection, ScimError> {
    let list = |text: Option<&str>| -> Result<_, ScimError> {
        Ok(match text {
            Some(text) => parser.attr_list(text)?,
            None => Vec::new(),
        })
    };
    Ok(Projection {
        attributes: list(attributes)?,
        excluded_attributes: list(excluded)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(uri: &str, content_type: Option<&str>) -> Parts {
        let mut req = http::Request::builder().uri(uri);
        if let Some(content_type) = content_type {
            req = req.header(header::CONTENT_TYPE, content_type);
        }
        req.body(()).unwrap().into_parts().0
    }

    fn list(query: &str) -> Result<Query, ScimError> {
        let req = head(&format!("/Users?{query}"), None);
        ListRequest::from_query(&query_pairs(&req)?)?.to_query(&Limits::default())
    }

    #[test]
    fn count_and_start_index_are_clamped() {
        let paging = |q: &str| list(q).unwrap().paging;
        assert_eq!(
            paging("count=-5"),
            Paging::Index {
                start_index: 1,
                count: 0
            }
        );
        assert_eq!(
            paging("startIndex=0&count=10"),
            Paging::Index {
                start_index: 1,
                count: 10
            }
        );
        assert_eq!(
            paging("count=100000"),
            Paging::Index {
                start_index: 1,
                count: 1000
            }
        );
        assert_eq!(
            paging(""),
            Paging::Index {
                start_index: 1,
                count: 100
            }
        );
        assert_eq!(
            paging("startindex=3"),
            Paging::Index {
                start_index: 3,
                count: 100
            }
        );
        assert!(list("count=ten").is_err());
    }

    #[test]
    fn filter_arrives_form_encoded() {
        let query = list("filter=userName+eq+%22bjensen%22").unwrap();
        assert_eq!(
            query.filter.unwrap().to_string(),
            r#"userName eq "bjensen""#
        );
        let error = list("filter=userName+eq").unwrap_err();
        assert_eq!(
            error.scim_type(),
            Some(scimitar_schema::ScimType::InvalidFilter)
        );
    }

    #[test]
    fn cursor_paging() {
        assert_eq!(
            list("cursor=&count=5").unwrap().paging,
            Paging::Cursor {
                cursor: None,
                count: 5
            }
        );
        assert_eq!(
            list("cursor=abc").unwrap().paging,
            Paging::Cursor {
                cursor: Some("abc".into()),
                count: 100
            }
        );
        assert!(list("cursor=abc&startIndex=2").is_err());
    }

    #[test]
    fn body_media_types() {
        let with = |content_type: &str| head("/", Some(content_type));
        assert!(json_body(&with("application/scim+json; charset=utf-8"), b"{}").is_ok());
        assert!(json_body(&with("application/json"), b"{}").is_ok());
        assert!(json_body(&head("/", None), b"{}").is_ok());
        assert!(matches!(
            json_body(&with("text/plain"), b"{}"),
            Err(ScimError::UnsupportedMediaType(_))
        ));
        assert!(matches!(
            json_body(&with("application/json"), b"{"),
            Err(ScimError::BadRequest { .. })
        ));
    }

    #[test]
    fn if_none_match_lists() {
        assert!(none_match_hits(r#"W/"1", W/"2""#, r#"W/"2""#));
        assert!(none_match_hits("*", r#"W/"2""#));
        assert!(!none_match_hits(r#"W/"1""#, r#"W/"2""#));
    }
}
