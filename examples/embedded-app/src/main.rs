//! Runs the example app on `127.0.0.1:8090` (or the address given as the first
//! argument): SCIM at `/scim/v2`, the app's routes beside it.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{middleware::from_fn, App, HttpServer};
use scimitar_example_embedded::EmbeddedApp;
use time::OffsetDateTime;

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let listen = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8090".to_owned());
    let (app, token) = EmbeddedApp::new().await?;
    let app = Arc::new(app);
    println!("SCIM base URL: http://{listen}/scim/v2\nBearer token:  {token}");

    // The app's side of provisioning: the hook gets every change event, in order;
    // a ticker sends the notifications that are due.
    let sync = app.dispatcher().spawn();
    let sender = Arc::clone(&app);
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            sender.tables().send_due(OffsetDateTime::now_utc());
        }
    });

    HttpServer::new(move || {
        App::new()
            .wrap(from_fn(scimitar_server::log_request))
            .configure(|config| app.configure(config))
    })
    .bind(&listen)?
    .run()
    .await?;
    sync.stop().await;
    Ok(())
}
