//! Where clients reach the server: the origin that `Location`, `meta.location`
//! and `$ref` URLs start with.
//!
//! A configured [`PublicUrl`] wins. Otherwise the `Host` header names the host,
//! and the scheme is the connection's. `Forwarded`, `X-Forwarded-Host` and
//! `X-Forwarded-Proto` are honoured only on connections from a trusted proxy
//! ([`ScimService::trusted_proxies`](crate::ScimService::trusted_proxies)):
//! anyone else could otherwise put their own host, or a `gopher:` scheme, into
//! every URL the server hands out. Whatever the source, the scheme is `http` or
//! `https`, and a host with characters no host name has is not used.

use std::fmt;
use std::str::FromStr;

use actix_web::http::header;
use actix_web::HttpRequest;
use ipnet::IpNet;

/// The URL clients reach the server at, e.g. `https://scim.example.com` or
/// `https://example.com/identity` (a path prefix in front of the mounted scopes).
///
/// ```
/// use scimitar_actix::PublicUrl;
///
/// let url: PublicUrl = "https://scim.example.com/".parse()?;
/// assert_eq!(url.as_str(), "https://scim.example.com");
/// assert!("gopher://evil.example".parse::<PublicUrl>().is_err());
/// # Ok::<(), scimitar_actix::PublicUrlError>(())
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
    /// `scheme://host` (or the public URL) of `req`, without a trailing slash.
    pub(crate) fn origin(&self, req: &HttpRequest) -> String {
        if let Some(url) = &self.public_url {
            return url.0.clone();
        }
        let own_scheme = if req.app_config().secure() {
            "https"
        } else {
            "http"
        };
        let trusted = req.peer_addr().is_some_and(|peer| {
            self.trusted_proxies
                .iter()
                .any(|net| net.contains(&peer.ip()))
        });
        let (scheme, host) = if trusted {
            // actix's reading of Forwarded / X-Forwarded-*, then Host.
            let info = req.connection_info();
            let scheme = match info.scheme() {
                "https" => "https",
                "http" => "http",
                _ => own_scheme,
            };
            (scheme, info.host().to_owned())
        } else {
            let host = req
                .headers()
                .get(header::HOST)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            (own_scheme, host)
        };
        let host = if is_host(&host) {
            host
        } else {
            req.app_config().host().to_owned()
        };
        format!("{scheme}://{host}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn origin(origins: &Origins, peer: &str, headers: &[(&str, &str)]) -> String {
        let mut req = TestRequest::default().peer_addr(peer.parse().unwrap());
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        origins.origin(&req.to_http_request())
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
