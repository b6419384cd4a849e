//! Authentication, tenants and the errors around them, over real HTTP.

use crate::common::{Reply, Server};
use serde_json::json;

#[test]
fn missing_and_malformed_tokens_are_401_with_a_challenge() {
    let server = Server::start();
    let url = format!("{}/Users", server.base());
    for reply in [
        server.request("GET", &url).send(None),
        server
            .request("GET", &url)
            .header("Authorization", "non-token")
            .send(None),
        server.request("GET", &url).bearer("scim_nope").send(None),
        server
            .request("GET", &url)
            .bearer(&format!("scim_0123456789abcdef_{}", "0".repeat(64)))
            .send(None),
    ] {
        reply.assert_error(401, None);
        assert_eq!(
            reply.header("www-authenticate"),
            Some(r#"Bearer realm="scimitar""#)
        );
    }
}

#[test]
fn a_wrong_secret_for_a_known_token_id_is_refused_even_after_a_good_one() {
    let server = Server::start();
    assert_eq!(server.get("/Users").status, 200);
    // Same id, different secret: the cache must not vouch for it.
    let (id_part, secret) = server.token.rsplit_once('_').unwrap();
    let flipped: String = secret
        .chars()
        .map(|c| if c == '0' { '1' } else { '0' })
        .collect();
    let forged = format!("{id_part}_{flipped}");
    server
        .request("GET", &format!("{}/Users", server.base()))
        .bearer(&forged)
        .send(None)
        .assert_error(401, None);
}

#[test]
fn tenants_are_isolated() {
    let server = Server::start();
    let user = server.create_user("alice");
    let id = user["id"].as_str().unwrap();
    let as_other = |path: &str| {
        server
            .request("GET", &format!("{}{path}", server.base()))
            .bearer(&server.other_token)
            .send(None)
    };
    as_other(&format!("/Users/{id}")).assert_error(404, None);
    let list = as_other("/Users");
    assert_eq!(list.status, 200);
    assert_eq!(list.body["totalResults"], 0);
    // The same userName is free in the other tenant.
    let reply = server
        .request("POST", &format!("{}/Users", server.base()))
        .bearer(&server.other_token)
        .send(Some(
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "alice"}),
        ));
    assert_eq!(reply.status, 201, "{}", reply.text);
}

#[test]
fn tenant_urls_accept_only_their_tenants_tokens() {
    let server = Server::start();
    let url = |tenant: &str| format!("{}/tenants/{tenant}/scim/v2/Users", server.origin);
    let own = server
        .request("GET", &url("acme"))
        .bearer(&server.token)
        .send(None);
    assert_eq!(own.status, 200, "{}", own.text);
    server
        .request("GET", &url("other"))
        .bearer(&server.token)
        .send(None)
        .assert_error(403, None);
    // Locations point under the URL the request came in on.
    let created = server
        .request("POST", &url("acme"))
        .bearer(&server.token)
        .send(Some(
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bob"}),
        ));
    assert_eq!(created.status, 201);
    let location = created.header("location").unwrap();
    assert!(
        location.starts_with(&format!("{}/tenants/acme/scim/v2/Users/", server.origin)),
        "{location}"
    );
}

#[test]
fn revocation_and_disabling_take_effect_at_once() {
    let server = Server::start();
    assert_eq!(server.get("/Users").status, 200);
    actix_web::rt::System::new().block_on(async {
        server
            .service
            .set_tenant_enabled("acme", false)
            .await
            .unwrap();
    });
    server.get("/Users").assert_error(403, None);
    actix_web::rt::System::new().block_on(async {
        server
            .service
            .set_tenant_enabled("acme", true)
            .await
            .unwrap();
    });
    assert_eq!(server.get("/Users").status, 200);
    let id = server.token.split('_').nth(1).unwrap().to_owned();
    actix_web::rt::System::new().block_on(async {
        server.service.revoke_token(&id).await.unwrap();
    });
    server.get("/Users").assert_error(401, None);
}

#[test]
fn rate_limit_answers_429_with_retry_after() {
    let server = Server::with_auth_limits(scimitar_server::AuthLimits {
        rate_limit_per_second: 1,
        rate_limit_burst: 2,
        ..Default::default()
    });
    let statuses: Vec<u16> = (0..4).map(|_| server.get("/Users").status).collect();
    assert_eq!(&statuses[..2], [200, 200]);
    let limited = server.get("/Users");
    limited.assert_error(429, None);
    assert!(limited.header("retry-after").is_some());
}

#[test]
fn discovery_needs_a_token() {
    let server = Server::start();
    for path in ["/ServiceProviderConfig", "/Schemas", "/ResourceTypes"] {
        let url = format!("{}{path}", server.base());
        server
            .request("GET", &url)
            .send(None)
            .assert_error(401, None);
        let reply = server.get(path);
        assert_eq!(reply.status, 200, "{path}: {}", reply.text);
    }
}

/// Requests that would fail in every other way too: without a valid credential
/// each is 401, so none of them was routed, parsed or read first.
fn hostile_requests(server: &Server, url_base: &str, token: Option<&str>) -> Vec<Reply> {
    let big = "x".repeat(2 * 1024 * 1024);
    let users = format!("{url_base}/Users");
    let server = Authorized { server, token };
    vec![
        server
            .request("GET", &format!("{url_base}/Nowhere"))
            .send(None),
        server
            .request("DELETE", &format!("{url_base}/Users"))
            .send(None),
        server
            .request("GET", &format!("{users}?filter=userName%20zz%20%22x"))
            .send(None),
        server
            .request("GET", &format!("{users}?count=lots&attributes=,,,"))
            .send(None),
        server
            .request("POST", &users)
            .header("Content-Type", "text/plain")
            .send_raw("hello"),
        server
            .request("POST", &users)
            .header("Content-Type", "application/scim+json")
            .send_raw("{not json"),
        server
            .request("POST", &users)
            .header("Content-Type", "application/scim+json")
            .send_raw(&big),
        server
            .request("PATCH", &format!("{users}/nobody"))
            .header("Content-Type", "application/scim+json")
            .send_raw("[]"),
        server
            .request("POST", &format!("{url_base}/Bulk"))
            .header("Content-Type", "application/scim+json")
            .send_raw("{}"),
    ]
}

/// Requests with `token` as their bearer token, if any.
struct Authorized<'a> {
    server: &'a Server,
    token: Option<&'a str>,
}

impl Authorized<'_> {
    fn request(&self, method: &str, url: &str) -> crate::common::Request {
        let request = self.server.request(method, url);
        match self.token {
            Some(token) => request.bearer(token),
            None => request,
        }
    }
}

#[test]
fn without_a_valid_credential_nothing_is_read_before_the_401() {
    let server = Server::start();
    let forged = format!("scim_0123456789abcdef_{}", "0".repeat(64));
    for base in [
        server.base(),
        format!("{}/tenants/acme/scim/v2", server.origin),
        format!("{}/tenants/no-such-tenant/scim/v2", server.origin),
    ] {
        for token in [None, Some(forged.as_str()), Some("Basic x")] {
            for reply in hostile_requests(&server, &base, token) {
                reply.assert_error(401, None);
            }
        }
    }
}

#[test]
fn refused_requests_write_nothing() {
    let server = Server::start();
    // One authenticated request, so the log is known to work.
    assert_eq!(server.get("/Users").status, 200);
    for base in [
        server.base(),
        format!("{}/tenants/acme/scim/v2", server.origin),
        format!("{}/tenants/ghost/scim/v2", server.origin),
    ] {
        for reply in hostile_requests(&server, &base, None) {
            reply.assert_error(401, None);
        }
    }
    // The log writer batches for 100 ms.
    std::thread::sleep(std::time::Duration::from_millis(400));
    actix_web::rt::System::new().block_on(async {
        use scimitar_store::provisioning_log::{LogQuery, ProvisioningLog};
        use scimitar_store::TenantStore;
        let acme = server
            .log
            .recent("acme", &LogQuery::default())
            .await
            .unwrap();
        assert_eq!(acme.len(), 1, "{acme:?}");
        assert_eq!(acme[0].status, 200);
        let ghost = server
            .log
            .recent("ghost", &LogQuery::default())
            .await
            .unwrap();
        assert!(ghost.is_empty(), "{ghost:?}");
        let tenants = server.service.tenants().list_tenants().await.unwrap();
        assert!(tenants.iter().all(|tenant| tenant.id != "ghost"));
    });
}

#[test]
fn every_refusal_answers_alike() {
    let server = Server::start();
    let url = format!("{}/Users", server.base());
    let (id_part, secret) = server.token.rsplit_once('_').unwrap();
    let wrong_secret = format!("{id_part}_{}", secret.replace(|c| c != '0', "0"));
    let revoked = actix_web::rt::System::new().block_on(async {
        let issued = scimitar_server::issue_token(&**server.service.tenants(), "acme", "old")
            .await
            .unwrap();
        server
            .service
            .revoke_token(&issued.record.id)
            .await
            .unwrap();
        issued.token
    });
    let replies = [
        server.request("GET", &url).send(None),
        server
            .request("GET", &url)
            .header("Authorization", "Basic abc")
            .send(None),
        server.request("GET", &url).bearer("not-a-token").send(None),
        server
            .request("GET", &url)
            .bearer(&format!("scim_0123456789abcdef_{}", "0".repeat(64)))
            .send(None),
        server.request("GET", &url).bearer(&wrong_secret).send(None),
        server.request("GET", &url).bearer(&revoked).send(None),
    ];
    let shape = |reply: &Reply| {
        let mut headers: Vec<(String, String)> = reply
            .headers
            .iter()
            .filter(|(name, _)| name != "date" && name != "x-request-id")
            .cloned()
            .collect();
        headers.sort();
        (reply.status, reply.text.clone(), headers)
    };
    let first = shape(&replies[0]);
    assert_eq!(first.0, 401);
    for reply in &replies[1..] {
        assert_eq!(shape(reply), first);
    }
}

#[test]
fn jwts_are_accepted_on_their_tenants_url_only() {
    use jsonwebtoken::{encode, EncodingKey, Header};

    let server = Server::start();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let sign = |claims: serde_json::Value| {
        encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(crate::common::JWT_SECRET.as_bytes()),
        )
        .unwrap()
    };
    let good = sign(json!({"iss": "test-idp", "aud": "scimitar", "exp": now + 600, "sub": "okta"}));
    let url = |tenant: &str| format!("{}/tenants/{tenant}/scim/v2/Users", server.origin);
    let ok = server
        .request("GET", &url("jwt-co"))
        .bearer(&good)
        .send(None);
    assert_eq!(ok.status, 200, "{}", ok.text);
    for (target, token) in [
        (
            url("jwt-co"),
            sign(json!({"iss": "test-idp", "aud": "other", "exp": now + 600})),
        ),
        (
            url("jwt-co"),
            sign(json!({"iss": "test-idp", "aud": "scimitar", "exp": now - 3600})),
        ),
        (url("acme"), good.clone()),
        (format!("{}/Users", server.base()), good.clone()),
    ] {
        server
            .request("GET", &target)
            .bearer(&token)
            .send(None)
            .assert_error(401, None);
    }
}
