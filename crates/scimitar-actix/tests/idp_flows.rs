//! Microsoft Entra ID's and Okta's request sequences over real HTTP on a
//! `MemoryStore` (the binary's tests run the same flows on SQLite and PostgreSQL).

mod common;
mod idp;

use common::Server;

fn client(server: &Server) -> idp::Client {
    idp::Client {
        base: server.base(),
        token: server.token.clone(),
    }
}

#[test]
fn entra_id() {
    idp::entra_flow(&client(&Server::start()));
}

#[test]
fn okta() {
    idp::okta_flow(&client(&Server::start()));
}
