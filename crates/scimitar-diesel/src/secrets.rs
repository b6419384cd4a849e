//! Keys shared by every server on one database.

use diesel::sql_types::Text;
use diesel::QueryableByName;
use rand::RngCore;
use scimitar_store::StoreError;

use crate::error::DieselError;
use crate::sql::Sql;
use crate::DieselStore;

#[derive(QueryableByName)]
struct KeyRow {
    #[diesel(sql_type = Text)]
    secret: String,
}

impl DieselStore {
    /// The 256-bit key named `name` that every server on this database shares,
    /// made at random by the first caller (servers racing to make it all get the
    /// one that was stored). The bundled server seals its cursors with
    /// `server_key("cursor")`, so a cursor from one instance works on all.
    ///
    /// # Errors
    /// The database's; [`StoreError::Backend`] if a stored key is not 64 hex digits.
    pub async fn server_key(&self, name: &str) -> Result<[u8; 32], StoreError> {
        let name = name.to_owned();
        let mut fresh = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut fresh);
        let fresh = hex::encode(fresh);
        let stored = self
            .blocking(move |pools| {
                pools.write(move |conn| {
                    let mut insert = Sql::new("INSERT INTO server_keys (name, secret) VALUES (");
                    insert
                        .bind(name.as_str())
                        .push(", ")
                        .bind(fresh)
                        .push(") ON CONFLICT (name) DO NOTHING");
                    conn.execute(insert)?;
                    let mut select = Sql::new("SELECT secret FROM server_keys WHERE name = ");
                    select.bind(name.as_str());
                    Ok(conn
                        .first::<KeyRow>(select)?
                        .ok_or(DieselError::MissingRow)?
                        .secret)
                })
            })
            .await?;
        let mut key = [0u8; 32];
        hex::decode_to_slice(&stored, &mut key)
            .map_err(|_| StoreError::Backend("a stored server key is not 64 hex digits".into()))?;
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_store_on_a_database_gets_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("keys.db").display());
        let first = DieselStore::open(&url).unwrap();
        let key = first.server_key("cursor").await.unwrap();
        assert_eq!(first.server_key("cursor").await.unwrap(), key);
        assert_ne!(first.server_key("other").await.unwrap(), key);
        drop(first);
        let second = DieselStore::open(&url).unwrap();
        assert_eq!(second.server_key("cursor").await.unwrap(), key);
    }
}
