//! Microsoft Entra ID's and Okta's request sequences over real HTTP on a
//! `MemoryStore` (the binary's tests run the same flows on SQLite and PostgreSQL).

use crate::common::Server;

fn client(server: &Server) -> crate::idp::Client {
    crate::idp::Client {
        base: server.base(),
        token: server.token.clone(),
    }
}

#[test]
fn entra_id() {
    crate::idp::entra_flow(&client(&Server::start()));
}

#[test]
fn okta() {
    crate::idp::okta_flow(&client(&Server::start()));
}
