//! Routing inside the SCIM base: which handler answers a method and path.

use bytes::Bytes;
use http::request::Parts;
use http::Method;
use scimitar_store::Store;

use crate::engine::Call;
use crate::error::ScimError;
use crate::observe::Notes;
use crate::response::Response;
use crate::{bulk, discovery, handlers};

/// The response of the handler for `rest` (the path below the base), or why
/// there is none: 404 for an unknown path, 405 for a method a path does not take.
pub(crate) async fn route<S: Store>(
    call: &Call<'_, S, impl Sized>,
    head: &Parts,
    rest: &str,
    body: &Bytes,
    notes: &mut Notes,
) -> Result<Response, ScimError> {
    let not_found = || ScimError::NotFound(format!("no endpoint {}", head.uri.path()));
    let path = rest.strip_prefix('/').ok_or_else(not_found)?;
    let decoded = path
        .split('/')
        .map(|segment| {
            percent_encoding::percent_decode_str(segment)
                .decode_utf8()
                .map_err(|_| not_found())
        })
        .collect::<Result<Vec<_>, _>>()?;
    let segments: Vec<&str> = decoded.iter().map(AsRef::as_ref).collect();
    if segments.first() == Some(&"Me") {
        let below = path.strip_prefix("Me").unwrap_or_default();
        return handlers::me(call, head, body, below, notes).await;
    }
    if segments.iter().any(|segment| segment.is_empty()) {
        return Err(not_found());
    }
    let method = &head.method;
    let only = |allowed: &Method| -> Result<(), ScimError> {
        if method == allowed {
            Ok(())
        } else {
            Err(ScimError::MethodNotAllowed(method.to_string()))
        }
    };
    match segments.as_slice() {
        ["ServiceProviderConfig"] => {
            only(&Method::GET)?;
            discovery::service_provider_config(call, head)
        }
        ["ResourceTypes"] => {
            only(&Method::GET)?;
            discovery::resource_types(call, head)
        }
        ["ResourceTypes", name] => {
            only(&Method::GET)?;
            discovery::resource_type(call, head, name)
        }
        ["Schemas"] => {
            only(&Method::GET)?;
            discovery::schemas(call, head)
        }
        ["Schemas", id] => {
            only(&Method::GET)?;
            discovery::schema(call, head, id)
        }
        ["Bulk"] => {
            only(&Method::POST)?;
            bulk::bulk(call, head, body).await
        }
        [".search"] => {
            only(&Method::POST)?;
            handlers::search_all(call, head, body).await
        }
        [endpoint] => match *method {
            Method::GET => handlers::list(call, head, endpoint).await,
            Method::POST => handlers::create(call, head, body, endpoint, notes).await,
            _ => Err(ScimError::MethodNotAllowed(method.to_string())),
        },
        [endpoint, ".search"] => {
            only(&Method::POST)?;
            handlers::search(call, head, body, endpoint).await
        }
        [endpoint, id] => {
            let write = match *method {
                Method::GET | Method::DELETE => None,
                Method::PUT => Some(handlers::Write::Replace),
                Method::PATCH => Some(handlers::Write::Patch),
                _ => return Err(ScimError::MethodNotAllowed(method.to_string())),
            };
            let resource_type = call.resource_type(endpoint)?;
            match write {
                Some(write) => {
                    handlers::write_one(call, head, body, resource_type, id, write, notes).await
                }
                None if *method == Method::GET => {
                    handlers::get_one(call, head, resource_type, id).await
                }
                None => handlers::delete_one(call, head, resource_type, id).await,
            }
        }
        _ => Err(not_found()),
    }
}
