//! Where clients reach the server: the origin that `Location`, `meta.location`
//! and `$ref` URLs start with.
//!
//! A configured [`PublicUrl`] wins. Otherwise the `Host` header names the host,
//! and the scheme is the connection's. `Forwarded`, `X-Forwarded-Host` and
//! `X-Forwarded-Proto` are honoured only on connections from a trusted proxy
//! ([`ScimEngine::trusted_proxies`](crate::ScimEngine::trusted_proxies)):
//! anyone else could otherwise put their own host, or a `gopher:` scheme, into
//! every URL the server hands out. Whatever the source, the scheme is `http` or
//! `https`, and a host with characters no host name has is not used.

use std::fmt;
use std::str::FromStr;

use std::net::SocketAddr;

use http::header;
use http::request::Parts;
use ipnet::IpNet;

/// The URL clients reach the server at, e.g. `https://scim.example.com` or
/// `https://example.com/identity` (a path prefix in front of the mounted scopes).
///
/// ```
/// use scimitar_protocol::PublicUrl;
///
/// let url: PublicUrl = "https://scim.example.com/".parse()?;
/// assert_eq!(url.as_str(), "https://scim.example.com");
/// assert!("gopher://evil.example".parse::<PublicUrl>().is_err());
/// # Ok::<(), scimitar_protocol::PublicUrlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(String);

/// A public URL that is not `http(s)://host[:port][/path]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a public URL: write http(s)://host[:port][/path], e.g. https://scim.example.com"
)]
pub struct PublicUrlError(String);

impl PublicUrl {
    /// The URL without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for PublicUrl {
    type Err = PublicUrlError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let refused = || PublicUrlError(text.to_owned());
        let rest = text
            .strip_prefix("https://")
            .or_else(|| text.strip_prefix("http://"))
            .ok_or_else(refused)?;
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let path_ok = path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-._~%".contains(&b));
        if !is_host(host) || !path_ok {
            return Err(refused());
        }
        Ok(PublicUrl(text.trim_end_matches('/').to_owned()))
    }
}

/// Whether `host` (with an optional port) reads as a host name, an IPv4 address or
/// a bracketed IPv6 address: nothing that could end a URL's authority early.
fn is_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._:[]".contains(&b))
}

/// How a service finds the origin of a request.
#[derive(Debug, Clone, Default)]
pub(crate) struct Origins {
    pub(crate) public_url: Option<PublicUrl>,
    pub(crate) trusted_proxies: Vec<IpNet>,
}

impl Origins {
    /// The origin (`scheme://host[:port]`, or the public URL with its path) that
    /// URLs handed to this request's client start with.
    pub(crate) fn origin(&self, req: &Parts) -> String {
        if let Some(url) = &self.public_url {
            return url.0.clone();
        }
        let connection = req.extensions.get::<Connection>();
        let own_scheme = if connection.is_some_and(|c| c.secure) {
            "https"
        } else {
            "http"
        };
        let trusted = connection.and_then(|c| c.peer).is_some_and(|peer| {
            self.trusted_proxies
                .iter()
                .any(|net| net.contains(&peer.ip()))
        });
        let header = |name: &str| {
            req.headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::trim)
                .filter(|value| !value.is_empty())
        };
        let host_header = header(header::HOST.as_str())
            .or_else(|| req.uri.authority().map(|authority| authority.as_str()));
        let (scheme, host) = if trusted {
            let forwarded = header("forwarded")
                .map(forwarded_fields)
                .unwrap_or_default();
            let first = |value: Option<&str>| {
                value
                    .and_then(|v| v.split(',').next())
                    .map(str::trim)
                    .map(str::to_owned)
            };
            let scheme = forwarded
                .proto
                .or_else(|| first(header("x-forwarded-proto")))
                .map(|proto| proto.to_ascii_lowercase());
            let scheme = match scheme.as_deref() {
                Some("https") => "https",
                Some("http") => "http",
                _ => own_scheme,
            };
            let host = forwarded
                .host
                .or_else(|| first(header("x-forwarded-host")))
                .or_else(|| host_header.map(str::to_owned));
            (scheme, host.unwrap_or_default())
        } else {
            (own_scheme, host_header.unwrap_or_default().to_owned())
        };
        let host = if is_host(&host) {
            host
        } else {
            FALLBACK_HOST.to_owned()
        };
        format!("{scheme}://{host}")
    }
}

/// The host named when a request names none usable.
const FALLBACK_HOST: &str = "localhost";

/// The `host` and `proto` of the first element of a `Forwarded` header (RFC 7239).
#[derive(Default)]
struct Forwarded {
    host: Option<String>,
    proto: Option<String>,
}

fn forwarded_fields(value: &str) -> Forwarded {
    let mut fields = Forwarded::default();
    let first = value.split(',').next().unwrap_or_default();
    for pair in first.split(';') {
        let Some((name, value)) = pair.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"').to_owned();
        match name.trim().to_ascii_lowercase().as_str() {
            "host" => fields.host = Some(value),
            "proto" => fields.proto = Some(value),
            _ => {}
        }
    }
    fields
}

/// What an adapter knows of the connection a request came on, put into the
/// request's extensions: the peer's address (to believe forwarded headers only
/// from [trusted proxies](crate::ScimEngine::trusted_proxies)) and whether the
/// connection is TLS (the scheme of the URLs handed out). Without it, a request
/// is taken as plain HTTP from an unknown peer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Connection {
    /// The peer's address, if known.
    pub peer: Option<SocketAddr>,
    /// Whether the connection is HTTPS.
    pub secure: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(origins: &Origins, peer: &str, headers: &[(&str, &str)]) -> String {
        let mut req = http::Request::builder().uri("/Users");
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let mut req = req.body(()).unwrap();
        req.extensions_mut().insert(Connection {
            peer: Some(peer.parse().unwrap()),
            secure: false,
        });
        origins.origin(&req.into_parts().0)
    }

    const FORWARDED: [(&str, &str); 3] = [
        ("Host", "scim.example.com"),
        ("X-Forwarded-Host", "evil.example"),
        ("X-Forwarded-Proto", "gopher"),
    ];

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let open = Origins::default();
        assert_eq!(
            origin(&open, "203.0.113.9:4000", &FORWARDED),
            "http://scim.example.com"
        );
        assert_eq!(
            origin(
                &open,
                "203.0.113.9:4000",
                &[
                    ("Host", "a"),
                    ("Forwarded", "host=evil.example;proto=https")
                ]
            ),
            "http://a"
        );
        let behind_proxy = Origins {
            trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
            ..Origins::default()
        };
        assert_eq!(
            origin(&behind_proxy, "203.0.113.9:4000", &FORWARDED),
            "http://scim.example.com"
        );
        // From the proxy: its host, but never a scheme other than http(s).
        assert_eq!(
            origin(&behind_proxy, "10.1.2.3:4000", &FORWARDED),
            "http://evil.example"
        );
        assert_eq!(
            origin(
                &behind_proxy,
                "10.1.2.3:4000",
                &[
                    ("Host", "a"),
                    ("X-Forwarded-Proto", "https"),
                    ("X-Forwarded-Host", "scim.example.com")
                ]
            ),
            "https://scim.example.com"
        );
    }

    #[test]
    fn a_public_url_wins_and_odd_hosts_are_not_used() {
        let public = Origins {
            public_url: Some("https://scim.example.com/idp/".parse().unwrap()),
            trusted_proxies: vec!["0.0.0.0/0".parse().unwrap()],
        };
        assert_eq!(
            origin(&public, "10.1.2.3:4000", &FORWARDED),
            "https://scim.example.com/idp"
        );
        let open = Origins::default();
        let odd = origin(&open, "203.0.113.9:4000", &[("Host", "evil.example/x?")]);
        assert!(!odd.contains("evil"), "{odd}");
        for bad in [
            "gopher://x",
            "https://",
            "https://a b",
            "ftp://x",
            "https://x/?q",
            "x",
        ] {
            assert!(bad.parse::<PublicUrl>().is_err(), "{bad}");
        }
        for good in [
            "http://127.0.0.1:8080",
            "https://[::1]:8443/scim",
            "https://scim.example.com",
        ] {
            assert!(good.parse::<PublicUrl>().is_ok(), "{good}");
        }
    }
}
