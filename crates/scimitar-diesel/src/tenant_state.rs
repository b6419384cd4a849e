//! [`StateStore`]: the `tenant_state` table of JSON documents by (tenant, key).

use diesel::sql_types::Text;
use diesel::QueryableByName;
use scimitar_store::state::{check_key, StateStore};
use scimitar_store::StoreError;
use serde_json::Value;

use crate::error::{DieselError, Failure};
use crate::filter_sql::escape_like;
use crate::sql::Sql;
use crate::DieselStore;

#[derive(QueryableByName)]
struct StateRow {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = Text)]
    value: String,
}

impl StateRow {
    fn into_pair(self) -> Result<(String, Value), Failure> {
        let value = serde_json::from_str(&self.value).map_err(DieselError::CorruptJson)?;
        Ok((self.key, value))
    }
}

impl StateStore for DieselStore {
    async fn put_state(&self, tenant: &str, key: &str, value: &Value) -> Result<(), StoreError> {
        check_key(key)?;
        let (tenant, key, value) = (tenant.to_owned(), key.to_owned(), value.to_string());
        self.blocking(move |pools| {
            pools.write(move |conn| {
                let mut sql = Sql::new("INSERT INTO tenant_state (tenant_id, key, value) VALUES (");
                sql.bind(tenant.as_str())
                    .push(", ")
                    .bind(key.as_str())
                    .push(", ")
                    .bind(value.as_str())
                    .push(conn.dialect().json_param_suffix())
                    .push(") ON CONFLICT (tenant_id, key) DO UPDATE SET value = excluded.value");
                conn.execute(sql)?;
                Ok::<_, Failure>(())
            })
        })
        .await
    }

    async fn state(&self, tenant: &str, key: &str) -> Result<Option<Value>, StoreError> {
        if key.contains('\0') || tenant.contains('\0') {
            return Ok(None);
        }
        let (tenant, key) = (tenant.to_owned(), key.to_owned());
        self.blocking(move |pools| {
            pools.with_conn(|conn| {
                let mut sql = Sql::new(&format!(
                    "SELECT key, {} AS value FROM tenant_state WHERE tenant_id = ",
                    conn.dialect().json_text("value")
                ));
                sql.bind(tenant.as_str())
                    .push(" AND key = ")
                    .bind(key.as_str());
                conn.first::<StateRow>(sql)?
                    .map(|row| row.into_pair().map(|(_, value)| value))
                    .transpose()
            })
        })
        .await
    }

    async fn states(&self, tenant: &str, prefix: &str) -> Result<Vec<(String, Value)>, StoreError> {
        if prefix.contains('\0') || tenant.contains('\0') {
            return Ok(Vec::new());
        }
        let (tenant, prefix) = (tenant.to_owned(), prefix.to_owned());
        self.blocking(move |pools| {
            pools.with_conn(|conn| {
                let mut sql = Sql::new(&format!(
                    "SELECT key, {} AS value FROM tenant_state WHERE tenant_id = ",
                    conn.dialect().json_text("value")
                ));
                sql.bind(tenant.as_str())
                    .push(" AND key LIKE ")
                    .bind(format!("{}%", escape_like(&prefix)))
                    .push(" ESCAPE '\\' ORDER BY key");
                conn.load::<StateRow>(sql)?
                    .into_iter()
                    .map(StateRow::into_pair)
                    .collect()
            })
        })
        .await
    }

    async fn delete_state(&self, tenant: &str, key: &str) -> Result<bool, StoreError> {
        if key.contains('\0') || tenant.contains('\0') {
            return Ok(false);
        }
        let (tenant, key) = (tenant.to_owned(), key.to_owned());
        self.blocking(move |pools| {
            pools.write(move |conn| {
                let mut sql = Sql::new("DELETE FROM tenant_state WHERE tenant_id = ");
                sql.bind(tenant.as_str())
                    .push(" AND key = ")
                    .bind(key.as_str());
                Ok::<_, Failure>(conn.execute(sql)? > 0)
            })
        })
        .await
    }
}
