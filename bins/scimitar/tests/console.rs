//! The web console in a real browser: headless Chromium driven over WebDriver
//! (chromedriver, from the OS packages) through the admin flows of the identity
//! providers' guides, against a real server on SQLite.
//!
//! Without `chromedriver` on the PATH (or `SCIMITAR_CHROMEDRIVER`) the test says
//! so and passes, unless `SCIMITAR_REQUIRE_BROWSER` is set, as CI sets it. With
//! `SCIMITAR_CONSOLE_SCREENSHOTS=DIR` it saves the screenshots
//! `docs/admin-console.md` shows.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Database, ENTERPRISE, USER};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// `chromedriver`, if this machine has it.
fn chromedriver() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SCIMITAR_CHROMEDRIVER") {
        return Some(PathBuf::from(path));
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("chromedriver"))
            .find(|path| path.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("SCIMITAR_REQUIRE_BROWSER").is_none(),
            "SCIMITAR_REQUIRE_BROWSER is set but chromedriver is not on the PATH"
        );
        let _ = std::io::stderr()
            .write_all(b"skipped the console browser test: chromedriver is not installed\n");
    }
    found
}

/// A running chromedriver; killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start(path: &PathBuf) -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|address| address.port())
            .expect("a free port");
        let child = Command::new(path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn browser(driver: &Driver) -> Client {
    // WebDriver runs over plain HTTP here, but the client is built with TLS.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut args = vec![
        "--headless=new",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
    ];
    // Containers and CI run as root, where Chromium needs this.
    if std::env::var("USER").is_ok_and(|user| user == "root") || cfg!(target_os = "linux") {
        args.push("--no-sandbox");
    }
    let mut options = json!({"args": args});
    if let Some(binary) = std::env::var_os("SCIMITAR_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from("/usr/bin/chromium")).filter(|path| path.is_file()))
    {
        options["binary"] = json!(binary);
    }
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("goog:chromeOptions".into(), options);
    ClientBuilder::rustls()
        .expect("TLS roots")
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a WebDriver session")
}

/// Saves a screenshot as `name.png` when screenshots are asked for.
async fn screenshot(client: &Client, name: &str) {
    let Some(dir) = std::env::var_os("SCIMITAR_CONSOLE_SCREENSHOTS") else {
        return;
    };
    let png = client.screenshot().await.expect("a screenshot");
    let path = PathBuf::from(dir).join(format!("{name}.png"));
    std::fs::write(&path, png).expect("write the screenshot");
}

async fn fill(client: &Client, css: &str, text: &str) {
    let field = client.find(Locator::Css(css)).await.expect(css);
    field.clear().await.expect("clear");
    field.send_keys(text).await.expect("type");
}

async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .expect(css)
        .click()
        .await
        .expect("click");
}

/// The text of the page's `main`; empty while a page is loading (the element
/// found may go stale as the next page replaces it).
async fn page_text(client: &Client) -> String {
    match client.find(Locator::Css("main")).await {
        Ok(main) => main.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Waits until the page's text contains `text`, reloading if `reload`.
async fn wait_for_text(client: &Client, text: &str, reload: bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let shown = page_text(client).await;
        if shown.contains(text) {
            return shown;
        }
        assert!(
            Instant::now() < deadline,
            "{text:?} never appeared in:\n{shown}"
        );
        if reload {
            client.refresh().await.expect("reload");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn scim(
    origin: &str,
    tenant: &str,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> u16 {
    let request = ureq::request(method, &format!("{origin}/tenants/{tenant}/scim/v2{path}"))
        .set("Authorization", &format!("Bearer {token}"));
    let result = match body {
        Some(body) => request
            .set("Content-Type", "application/scim+json")
            .send_string(&body.to_string()),
        None => request.call(),
    };
    match result {
        Ok(response) | Err(ureq::Error::Status(_, response)) => response.status(),
        Err(error) => panic!("{method} {path}: {error}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_flows_in_a_real_browser() {
    let Some(chromedriver) = chromedriver() else {
        return;
    };
    let database = Database::sqlite();
    let admin = database.admin_token("admin");
    let reader = database.admin_token("read-only");
    let server = database.serve();
    let origin = server.origin();
    let driver = Driver::start(&chromedriver);
    let client = browser(&driver).await;
    let tenant = "contoso";

    // Sign in: the console sends a stranger to the login page.
    client.goto(&format!("{origin}/admin")).await.expect("open");
    assert!(client
        .current_url()
        .await
        .expect("url")
        .path()
        .ends_with("/admin/login"));
    screenshot(&client, "sign-in").await;
    fill(&client, "#token", "scimadm_not_a_token").await;
    click(&client, "form button[type=submit]").await;
    wait_for_text(&client, "not an active admin token", false).await;
    fill(&client, "#token", &admin).await;
    click(&client, "main form button[type=submit]").await;
    wait_for_text(&client, "Tenants", false).await;

    // Turn provisioning on: a tenant, its Tenant URL.
    fill(&client, "#id", tenant).await;
    fill(&client, "#name", "Contoso").await;
    click(&client, "form[action='/admin/tenants'] button").await;
    let shown = wait_for_text(&client, "Paste it into the identity provider", false).await;
    assert!(
        shown.contains(&format!("{origin}/tenants/{tenant}/scim/v2")),
        "{shown}"
    );

    // Generate a token: shown once, with a warning.
    fill(&client, "#label", "entra").await;
    click(&client, "form[action$='/tokens'] button").await;
    let shown = wait_for_text(&client, "shown only this once", false).await;
    assert!(shown.contains("New token: entra"), "{shown}");
    let token = client
        .find(Locator::Css("#new-token"))
        .await
        .expect("the new token")
        .text()
        .await
        .expect("its text");
    assert!(token.starts_with("scim_"), "{token}");
    screenshot(&client, "token").await;
    // The tenant's page, read again, does not show it.
    client
        .goto(&format!("{origin}/admin/tenants/{tenant}"))
        .await
        .expect("open");
    wait_for_text(&client, "Paste it into the identity provider", false).await;
    assert!(
        !page_text(&client).await.contains(&token),
        "shown only once"
    );

    // Test connection, with the token, as Entra ID would.
    client
        .goto(&format!("{origin}/admin/tenants/{tenant}"))
        .await
        .expect("open");
    fill(&client, "#test-token", &token).await;
    click(&client, "form[action$='/test'] button").await;
    wait_for_text(&client, "Connected: the SCIM endpoint answered 200", false).await;
    screenshot(&client, "tenant").await;

    // The log, open while users are provisioned: the entries arrive live.
    client
        .goto(&format!("{origin}/admin/tenants/{tenant}/log"))
        .await
        .expect("open");
    wait_for_text(&client, "Live", false).await;
    let adele = json!({"schemas": [USER, ENTERPRISE], "userName": "adele@contoso.com",
        "name": {"formatted": "Adele Vance"},
        ENTERPRISE: {"department": "Sales", "organization": "Contoso"}});
    assert_eq!(
        scim(
            &origin,
            tenant,
            &token,
            "POST",
            "/Users",
            Some(adele.clone())
        ),
        201
    );
    assert_eq!(
        scim(&origin, tenant, &token, "POST", "/Users", Some(adele)),
        409
    );
    let shown = wait_for_text(&client, "userName is already in use", false).await;
    assert!(shown.contains("adele@contoso.com"), "{shown}");
    screenshot(&client, "log").await;
    // Filters: failures only.
    client
        .goto(&format!(
            "{origin}/admin/tenants/{tenant}/log?outcome=failure"
        ))
        .await
        .expect("open");
    let failures = page_text(&client).await;
    assert!(
        failures.contains("409") && !failures.contains("201"),
        "{failures}"
    );

    // The directory: the user arrived.
    client
        .goto(&format!("{origin}/admin/tenants/{tenant}/users"))
        .await
        .expect("open");
    fill(&client, "#filter", "userName sw \"adele\"").await;
    click(&client, "form.filters button").await;
    let shown = wait_for_text(&client, "1 found", false).await;
    assert!(
        shown.contains("Adele Vance") && shown.contains("Sales"),
        "{shown}"
    );
    screenshot(&client, "users").await;

    // Teams from the department; costCenter as the hire date.
    client
        .goto(&format!("{origin}/admin/tenants/{tenant}/settings"))
        .await
        .expect("open");
    click(&client, "input[name=teams][value=department]").await;
    click(&client, "input[name=hire_date]").await;
    click(&client, "input[name=deletion][value=archive]").await;
    click(&client, "form.settings button[type=submit]").await;
    wait_for_text(&client, "Settings saved", false).await;
    screenshot(&client, "settings").await;
    client
        .goto(&format!("{origin}/admin/tenants/{tenant}/groups"))
        .await
        .expect("open");
    let shown = wait_for_text(&client, "Contoso / Sales", false).await;
    assert!(shown.contains("1 found"), "{shown}");
    let hired = json!({"schemas": [USER, ENTERPRISE], "userName": "nestor@contoso.com",
        ENTERPRISE: {"costCenter": "2027-03-01T09:00:00Z"}});
    assert_eq!(
        scim(&origin, tenant, &token, "POST", "/Users", Some(hired)),
        201
    );

    // A form without its CSRF token changes nothing.
    let cookies = client.get_all_cookies().await.expect("cookies");
    let session = cookies
        .iter()
        .find(|cookie| cookie.name() == "scimitar_console")
        .map(|cookie| format!("scimitar_console={}", cookie.value()))
        .expect("a session cookie");
    let forged = ureq::post(&format!("{origin}/admin/tenants"))
        .set("Cookie", &session)
        .send_form(&[("id", "forged"), ("name", "Forged"), ("csrf", "0000")]);
    assert!(
        matches!(forged, Err(ureq::Error::Status(403, _))),
        "{forged:?}"
    );
    let without = ureq::post(&format!("{origin}/admin/tenants/{tenant}/enabled"))
        .set("Cookie", &session)
        .send_form(&[("enabled", "false")]);
    assert!(
        matches!(without, Err(ureq::Error::Status(403, _))),
        "{without:?}"
    );
    let anonymous = ureq::AgentBuilder::new()
        .redirects(0)
        .build()
        .get(&format!("{origin}/admin/tenants"))
        .call()
        .map(|response| response.status());
    assert_eq!(anonymous.ok(), Some(303), "no session: to the login page");
    match ureq::get(&format!("{origin}/admin/no-such-page")).call() {
        Err(ureq::Error::Status(404, response)) => {
            assert!(response.content_type().starts_with("text/html"));
            let policy = response
                .header("content-security-policy")
                .unwrap_or_default();
            assert!(policy.contains("default-src 'none'"), "{policy}");
        }
        other => panic!("an unknown console page gave {other:?}"),
    }
    client
        .goto(&format!("{origin}/admin/tenants"))
        .await
        .expect("open");
    let shown = page_text(&client).await;
    assert!(
        !shown.contains("forged") && shown.contains("enabled"),
        "{shown}"
    );

    // Rotate: a second token, then revoke the first; its next call is refused.
    client
        .goto(&format!("{origin}/admin/tenants/{tenant}"))
        .await
        .expect("open");
    fill(&client, "#label", "entra-2").await;
    click(&client, "form[action$='/tokens'] button").await;
    // The response page, not the form it replaces.
    wait_for_text(&client, "New token: entra-2", false).await;
    let second = client
        .find(Locator::Css("#new-token"))
        .await
        .expect("the new token")
        .text()
        .await
        .expect("its text");
    client
        .goto(&format!("{origin}/admin/tenants/{tenant}"))
        .await
        .expect("open");
    click(&client, "button[aria-label='Revoke token entra']").await;
    client.accept_alert().await.expect("confirm the revocation");
    wait_for_text(&client, "revoked", false).await;
    assert_eq!(scim(&origin, tenant, &token, "GET", "/Users", None), 401);
    assert_eq!(scim(&origin, tenant, &second, "GET", "/Users", None), 200);

    // Disable provisioning: the tenant's requests are refused.
    click(&client, "button[aria-label='Disable contoso']").await;
    wait_for_text(&client, "disabled", false).await;
    assert_eq!(scim(&origin, tenant, &second, "GET", "/Users", None), 403);

    // A read-only token sees, and cannot change.
    click(&client, "header form button").await;
    wait_for_text(&client, "Sign in", false).await;
    fill(&client, "#token", &reader).await;
    click(&client, "main form button[type=submit]").await;
    let shown = wait_for_text(&client, "Tenants", false).await;
    assert!(
        shown.contains(tenant) && !shown.contains("New tenant"),
        "{shown}"
    );
    screenshot(&client, "tenants").await;

    client.close().await.ok();
}
