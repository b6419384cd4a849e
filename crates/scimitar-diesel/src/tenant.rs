//! [`TenantStore`]: tenants and API token hashes.

use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use diesel::QueryableByName;
use scimitar_store::{
    AdminToken, ApiToken, NewAdminToken, NewApiToken, StoreError, Tenant, TenantStore,
};
use serde_json::Value;
use time::OffsetDateTime;

use crate::connection::Conn;
use crate::error::{DieselError, Failure};
use crate::sql::Sql;
use crate::time::{from_nanos, now_nanos, to_nanos};
use crate::DieselStore;

#[derive(QueryableByName)]
struct TenantRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Bool)]
    enabled: bool,
    #[diesel(sql_type = Text)]
    settings: String,
    #[diesel(sql_type = BigInt)]
    created: i64,
}

impl TenantRow {
    fn columns(conn: &Conn<'_>) -> String {
        format!(
            "id, name, enabled, {} AS settings, created",
            conn.dialect().json_text("settings")
        )
    }

    fn into_tenant(self) -> Result<Tenant, Failure> {
        Ok(Tenant {
            id: self.id,
            name: self.name,
            enabled: self.enabled,
            settings: serde_json::from_str(&self.settings).map_err(DieselError::CorruptJson)?,
            created: from_nanos(self.created)?,
        })
    }
}

#[derive(QueryableByName)]
struct TokenRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    tenant_id: String,
    #[diesel(sql_type = Text)]
    label: String,
    #[diesel(sql_type = Text)]
    hash: String,
    #[diesel(sql_type = BigInt)]
    created: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    last_used: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    revoked_at: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    user_id: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    expires_at: Option<i64>,
}

const TOKEN_COLUMNS: &str =
    "id, tenant_id, label, hash, created, last_used, revoked_at, user_id, expires_at";

impl TokenRow {
    fn into_token(self) -> Result<ApiToken, Failure> {
        Ok(ApiToken {
            id: self.id,
            tenant: self.tenant_id,
            label: self.label,
            hash: self.hash,
            created: from_nanos(self.created)?,
            last_used: self.last_used.map(from_nanos).transpose()?,
            revoked_at: self.revoked_at.map(from_nanos).transpose()?,
            user: self.user_id,
            expires_at: self.expires_at.map(from_nanos).transpose()?,
        })
    }
}

#[derive(QueryableByName)]
struct AdminTokenRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    label: String,
    #[diesel(sql_type = Text)]
    scope: String,
    #[diesel(sql_type = Text)]
    hash: String,
    #[diesel(sql_type = BigInt)]
    created: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    last_used: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    revoked_at: Option<i64>,
}

const ADMIN_TOKEN_COLUMNS: &str = "id, label, scope, hash, created, last_used, revoked_at";

impl AdminTokenRow {
    fn into_token(self) -> Result<AdminToken, Failure> {
        Ok(AdminToken {
            id: self.id,
            label: self.label,
            scope: self.scope,
            hash: self.hash,
            created: from_nanos(self.created)?,
            last_used: self.last_used.map(from_nanos).transpose()?,
            revoked_at: self.revoked_at.map(from_nanos).transpose()?,
        })
    }
}

/// Runs an `UPDATE admin_tokens ... WHERE id = ` statement and returns the token
/// as updated.
fn update_admin_token(
    conn: &mut Conn<'_>,
    mut update: Sql,
    id: &str,
) -> Result<AdminToken, Failure> {
    let not_found = || Failure::from(StoreError::not_found("AdminToken", id));
    if id.contains('\0') {
        return Err(not_found());
    }
    update
        .bind(id)
        .push(&format!(" RETURNING {ADMIN_TOKEN_COLUMNS}"));
    conn.first::<AdminTokenRow>(update)?
        .ok_or_else(not_found)?
        .into_token()
}

fn tenant_not_found(id: &str) -> Failure {
    StoreError::not_found("Tenant", id).into()
}

fn token_not_found(id: &str) -> Failure {
    StoreError::not_found("Token", id).into()
}

fn load_tenant(conn: &mut Conn<'_>, id: &str) -> Result<Tenant, Failure> {
    if id.contains('\0') {
        return Err(tenant_not_found(id));
    }
    let mut sql = Sql::new(&format!(
        "SELECT {} FROM tenants WHERE id = ",
        TenantRow::columns(conn)
    ));
    sql.bind(id);
    conn.first::<TenantRow>(sql)?
        .ok_or_else(|| tenant_not_found(id))?
        .into_tenant()
}

/// Rule T9: a change a cached credential depends on, in the caller's transaction.
fn bump_directory_version(conn: &mut Conn<'_>) -> Result<(), Failure> {
    conn.execute(Sql::new(
        "UPDATE directory_version SET version = version + 1 WHERE id = 1",
    ))?;
    Ok(())
}

#[derive(QueryableByName)]
struct VersionRow {
    #[diesel(sql_type = BigInt)]
    version: i64,
}

/// Runs an `UPDATE tenants ... WHERE id = ` statement (`head` is everything
/// before the id) and returns the tenant as updated.
fn update_tenant(conn: &mut Conn<'_>, mut update: Sql, id: &str) -> Result<Tenant, Failure> {
    update.bind(id);
    if conn.execute(update)? == 0 {
        return Err(tenant_not_found(id));
    }
    bump_directory_version(conn)?;
    load_tenant(conn, id)
}

/// Replaces tenant `id`'s settings, in the caller's transaction.
pub(crate) fn write_settings(
    conn: &mut Conn<'_>,
    id: &str,
    settings: &Value,
) -> Result<Tenant, Failure> {
    let mut update = Sql::new("UPDATE tenants SET settings = ");
    update
        .bind(settings.to_string())
        .push(conn.dialect().json_param_suffix())
        .push(" WHERE id = ");
    update_tenant(conn, update, id)
}

fn update_token(conn: &mut Conn<'_>, mut update: Sql, id: &str) -> Result<ApiToken, Failure> {
    if id.contains('\0') {
        return Err(token_not_found(id));
    }
    update.bind(id).push(&format!(" RETURNING {TOKEN_COLUMNS}"));
    conn.first::<TokenRow>(update)?
        .ok_or_else(|| token_not_found(id))?
        .into_token()
}

impl TenantStore for DieselStore {
    async fn create_tenant(
        &self,
        id: &str,
        name: &str,
        settings: Value,
    ) -> Result<Tenant, StoreError> {
        scimitar_store::tenant::check_tenant_id(id)?;
        let (id, name) = (id.to_owned(), name.to_owned());
        self.blocking(move |pools| {
            pools.write(move |conn| {
                let mut insert =
                    Sql::new("INSERT INTO tenants (id, name, enabled, settings, created) VALUES (");
                insert
                    .bind(id.as_str())
                    .push(", ")
                    .bind(name)
                    .push(", TRUE, ")
                    .bind(settings.to_string())
                    .push(conn.dialect().json_param_suffix())
                    .push(", ")
                    .bind(now_nanos()?)
                    .push(")");
                conn.execute(insert)?;
                bump_directory_version(conn)?;
                load_tenant(conn, &id)
            })
        })
        .await
    }

    async fn get_tenant(&self, id: &str) -> Result<Tenant, StoreError> {
        let id = id.to_owned();
        self.blocking(move |pools| pools.with_conn(|conn| load_tenant(conn, &id)))
            .await
    }

    async fn list_tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        self.blocking(|pools| {
            pools.with_conn(|conn| {
                let sql = Sql::new(&format!(
                    "SELECT {} FROM tenants ORDER BY id",
                    TenantRow::columns(conn)
                ));
                conn.load::<TenantRow>(sql)?
                    .into_iter()
                    .map(TenantRow::into_tenant)
                    .collect()
            })
        })
        .await
    }

    async fn set_tenant_enabled(&self, id: &str, enabled: bool) -> Result<Tenant, StoreError> {
        let id = id.to_owned();
        self.blocking(move |pools| {
            pools.write(move |conn| {
                let mut update = Sql::new("UPDATE tenants SET enabled = ");
                update.bind(enabled).push(" WHERE id = ");
                update_tenant(conn, update, &id)
            })
        })
        .await
    }

    async fn set_tenant_settings(&self, id: &str, settings: Value) -> Result<Tenant, StoreError> {
        let id = id.to_owned();
        self.blocking(move |pools| pools.write(move |conn| write_settings(conn, &id, &settings)))
            .await
    }

    async fn insert_token(&self, token: NewApiToken) -> Result<ApiToken, StoreError> {
        self.blocking(move |pools| {
            pools.write(move |conn| {
                load_tenant(conn, &token.tenant)?;
                let mut insert = Sql::new(
                    "INSERT INTO tokens (id, tenant_id, label, hash, created, user_id, expires_at) \
                     VALUES ",
                );
                let expires_at = token.expires_at.map(to_nanos).transpose()?;
                insert
                    .bind_list([
                        token.id.into(),
                        token.tenant.into(),
                        token.label.into(),
                        token.hash.into(),
                        now_nanos()?.into(),
                        token.user.into(),
                        expires_at.into(),
                    ])
                    .push(&format!(" RETURNING {TOKEN_COLUMNS}"));
                conn.first::<TokenRow>(insert)?
                    .ok_or(DieselError::MissingRow)?
                    .into_token()
            })
        })
        .await
    }

    async fn list_tokens(&self, tenant: &str) -> Result<Vec<ApiToken>, StoreError> {
        let tenant = tenant.to_owned();
        self.blocking(move |pools| {
            pools.with_conn(|conn| {
                let mut sql = Sql::new(&format!(
                    "SELECT {TOKEN_COLUMNS} FROM tokens WHERE tenant_id = "
                ));
                sql.bind(tenant).push(" ORDER BY seq");
                conn.load::<TokenRow>(sql)?
                    .into_iter()
                    .map(TokenRow::into_token)
                    .collect()
            })
        })
        .await
    }

    async fn find_token(&self, token_id: &str) -> Result<Option<ApiToken>, StoreError> {
        let token_id = token_id.to_owned();
        if token_id.contains('\0') {
            return Ok(None);
        }
        self.blocking(move |pools| {
            pools.with_conn(|conn| {
                let mut sql = Sql::new(&format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = "));
                sql.bind(token_id);
                conn.first::<TokenRow>(sql)?
                    .map(TokenRow::into_token)
                    .transpose()
            })
        })
        .await
    }

    async fn revoke_token(&self, token_id: &str) -> Result<ApiToken, StoreError> {
        let token_id = token_id.to_owned();
        self.blocking(move |pools| {
            pools.write(move |conn| {
                let mut update = Sql::new("UPDATE tokens SET revoked_at = COALESCE(revoked_at, ");
                update.bind(now_nanos()?).push(") WHERE id = ");
                let token = update_token(conn, update, &token_id)?;
                bump_directory_version(conn)?;
                Ok(token)
            })
        })
        .await
    }

    async fn touch_token(&self, token_id: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        let token_id = token_id.to_owned();
        self.blocking(move |pools| {
            pools.write(move |conn| {
                let mut update = Sql::new("UPDATE tokens SET last_used = ");
                update.bind(to_nanos(at)?).push(" WHERE id = ");
                update_token(conn, update, &token_id).map(drop)
            })
        })
        .await
    }

    async fn rename_tenant(&self, id: &str, name: &str) -> Result<Tenant, StoreError> {
        let (id, name) = (id.to_owned(), name.to_owned());
        self.blocking(move |pools| {
            pools.write(move |conn| {
                let mut update = Sql::new("UPDATE tenants SET name = ");
                update.bind(name.as_str()).push(" WHERE id = ");
                update_tenant(conn, update, &id)
            })
        })
        .await
    }

    async fn insert_admin_token(&self, token: NewAdminToken) -> Result<AdminToken, StoreError> {
        self.blocking(move |pools| {
            pools.write(move |conn| {
                let mut insert =
                    Sql::new("INSERT INTO admin_tokens (id, label, scope, hash, created) VALUES ");
                insert
                    .bind_list([
                        token.id.into(),
                        token.label.into(),
                        token.scope.into(),
                        token.hash.into(),
                        now_nanos()?.into(),
                    ])
                    .push(&format!(" RETURNING {ADMIN_TOKEN_COLUMNS}"));
                conn.first::<AdminTokenRow>(insert)?
                    .ok_or(DieselError::MissingRow)?
                    .into_token()
            })
        })
        .await
    }

    async fn list_admin_tokens(&self) -> Result<Vec<AdminToken>, StoreError> {
        self.blocking(|pools| {
            pools.with_conn(|conn| {
                let sql = Sql::new(&format!(
                    "SELECT {ADMIN_TOKEN_COLUMNS} FROM admin_tokens ORDER BY seq"
                ));
                conn.load::<AdminTokenRow>(sql)?
                    .into_iter()
                    .map(AdminTokenRow::into_token)
                    .collect()
            })
        })
        .await
    }

    async fn find_admin_token(&self, token_id: &str) -> Result<Option<AdminToken>, StoreError> {
        let token_id = token_id.to_owned();
        if token_id.contains('\0') {
            return Ok(None);
        }
        self.blocking(move |pools| {
            pools.with_conn(|conn| {
                let mut sql = Sql::new(&format!(
                    "SELECT {ADMIN_TOKEN_COLUMNS} FROM admin_tokens WHERE id = "
                ));
                sql.bind(token_id);
                conn.first::<AdminTokenRow>(sql)?
                    .map(AdminTokenRow::into_token)
                    .transpose()
            })
        })
        .await
    }

    async fn revoke_admin_token(&self, token_id: &str) -> Result<AdminToken, StoreError> {
        let token_id = token_id.to_owned();
        self.blocking(move |pools| {
            pools.write(move |conn| {
                let mut update =
                    Sql::new("UPDATE admin_tokens SET revoked_at = COALESCE(revoked_at, ");
                update.bind(now_nanos()?).push(") WHERE id = ");
                let token = update_admin_token(conn, update, &token_id)?;
                bump_directory_version(conn)?;
                Ok(token)
            })
        })
        .await
    }

    async fn touch_admin_token(
        &self,
        token_id: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let token_id = token_id.to_owned();
        self.blocking(move |pools| {
            pools.write(move |conn| {
                let mut update = Sql::new("UPDATE admin_tokens SET last_used = ");
                update.bind(to_nanos(at)?).push(" WHERE id = ");
                update_admin_token(conn, update, &token_id).map(drop)
            })
        })
        .await
    }

    async fn delete_tenant(&self, id: &str) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.blocking(move |pools| {
            pools.write(move |conn| {
                // Rows of the tenant's resources first, then everything keyed by
                // tenant, the tenant last (its tokens reference it). Explicit rather
                // than cascades: SQLite enforces foreign keys only when asked.
                let of_resources = "IN (SELECT pk FROM resources WHERE tenant_id = ";
                for statement in [
                    format!("DELETE FROM group_members WHERE group_pk {of_resources}"),
                    format!("DELETE FROM group_members WHERE member_pk {of_resources}"),
                    format!("DELETE FROM resource_emails WHERE resource_pk {of_resources}"),
                ] {
                    let mut sql = Sql::new(&statement);
                    sql.bind(id.as_str()).push(")");
                    conn.execute(sql)?;
                }
                for table in [
                    "resources",
                    "resource_counts",
                    "resource_buckets",
                    "archived_resources",
                    "events",
                    "outbox_consumers",
                    "provisioning_log",
                    "tenant_state",
                    "tokens",
                ] {
                    let mut sql = Sql::new(&format!("DELETE FROM {table} WHERE tenant_id = "));
                    sql.bind(id.as_str());
                    conn.execute(sql)?;
                }
                let mut sql = Sql::new("DELETE FROM tenants WHERE id = ");
                sql.bind(id.as_str());
                if conn.execute(sql)? == 0 {
                    return Err(tenant_not_found(&id));
                }
                bump_directory_version(conn)
            })
        })
        .await
    }

    async fn directory_version(&self) -> Result<u64, StoreError> {
        self.reading(|pools| {
            pools.with_conn(|conn| {
                let sql = Sql::new("SELECT version FROM directory_version WHERE id = 1");
                let row = conn
                    .first::<VersionRow>(sql)?
                    .ok_or(DieselError::MissingRow)?;
                Ok(u64::try_from(row.version).unwrap_or_default())
            })
        })
        .await
    }
}
