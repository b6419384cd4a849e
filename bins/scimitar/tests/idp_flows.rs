//! Microsoft Entra ID's and Okta's request sequences against the real binary, on
//! SQLite and on PostgreSQL.

mod common;

use common::{entra_flow, okta_flow, Client, Database};

fn with_server(database: Database, flow: fn(&Client)) {
    let (_, token) = database.tenant();
    let server = database.serve();
    flow(&server.client(&token));
}

#[test]
fn entra_id_on_sqlite() {
    with_server(Database::sqlite(), entra_flow);
}

#[test]
fn entra_id_on_postgres() {
    let Some(database) = Database::postgres() else {
        return;
    };
    with_server(database, entra_flow);
}

#[test]
fn okta_on_sqlite() {
    with_server(Database::sqlite(), okta_flow);
}

#[test]
fn okta_on_postgres() {
    let Some(database) = Database::postgres() else {
        return;
    };
    with_server(database, okta_flow);
}
