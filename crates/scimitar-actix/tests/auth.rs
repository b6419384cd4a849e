//! Authentication, tenants and the errors around them, over real HTTP.

mod common;

use common::Server;
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
    let server = Server::with_limits(scimitar_actix::Limits {
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
fn discovery_needs_no_token() {
    let server = Server::start();
    let reply = server
        .request("GET", &format!("{}/ServiceProviderConfig", server.base()))
        .send(None);
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["patch"]["supported"], true);
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
            &EncodingKey::from_secret(common::JWT_SECRET.as_bytes()),
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
