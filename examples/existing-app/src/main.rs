//! Runs the example app: `cargo run -p scimitar-example-existing-app -- app.db`.
//! On first start it adds organization `acme` (25 seats) and prints an API key
//! for the identity provider.

use scimitar_example_existing_app::{db, router};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "existing-app.db".into());
    let db = db::Db::open(&path)?;
    let acme = db::Organization {
        id: "acme".into(),
        name: "Acme".into(),
        seats: Some(25),
    };
    if db.add_organization(&acme).is_ok() {
        let key = db.issue_api_key("acme", "entra-id")?;
        println!("API key for Entra ID (shown once): {key}");
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("SCIM base URL: http://127.0.0.1:3000/scim/v2");
    axum::serve(listener, router(db)).await?;
    Ok(())
}
