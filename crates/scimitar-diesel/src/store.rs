//! [`Store`] for [`DieselStore`]: each write is one transaction (on SQLite, run
//! by the writer thread); reads run as [`DieselStore::reading`] decides.

use std::sync::Arc;
use std::time::Duration;

use scimitar_schema::Mode;
use scimitar_store::meta;
use scimitar_store::write::{self, MemberChange};
use scimitar_store::{
    Archived, ChangeEvent, Created, DirectoryStore, EventStore, MemberStore, Page, PatchRequest,
    Projection, Query, Scope, Store, StoreError, TeamsRebuilt,
};
use serde_json::Value;

use crate::create::{plan_create, PlannedCreate};
use crate::error::{DieselError, Failure};
use crate::event_rows;
use crate::patch::{Attempt, Change, Patch, Written, PATCH_ATTEMPTS};
use crate::resource_write::{
    clear_reports, payload, prepare, remove, view_with, write_resource, BodyWrite,
};
use crate::rows::{self, RowLock, GROUP_TYPE, USER_TYPE};
use crate::schema_ops::Ctx;
use crate::teams;
use crate::time::to_nanos;
use crate::{Backend, DieselStore};

/// How long a read of events waits at most for committed events to settle.
const SETTLE_WAIT: Duration = Duration::from_millis(500);

/// Marks the creates of `plans` whose `userName` the tenant does not have and
/// no other create of the batch names: one query instead of one per create.
/// The others look theirs up as they are written (a replay, rule 10, or a
/// duplicate within the batch).
fn mark_free_names(
    conn: &mut crate::connection::Conn<'_>,
    tenant: &str,
    plans: &mut [Result<PlannedCreate, StoreError>],
) -> Result<(), Failure> {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let names: Vec<Option<String>> = plans
        .iter()
        .map(|plan| {
            let plan = plan.as_ref().ok()?;
            rows::folded_user_name(&plan.resource_type, &plan.body)
        })
        .collect();
    for name in names.iter().flatten() {
        *seen.entry(name.clone()).or_default() += 1;
    }
    let Some(resource_type) = plans
        .iter()
        .find_map(|plan| plan.as_ref().ok().map(|plan| plan.resource_type.clone()))
    else {
        return Ok(());
    };
    let once: Vec<String> = seen
        .iter()
        .filter(|(_, &count)| count == 1)
        .map(|(name, _)| name.clone())
        .collect();
    let taken = rows::taken_user_names(conn, tenant, &resource_type, &once)?;
    for (plan, name) in plans.iter_mut().zip(&names) {
        if let (Ok(plan), Some(name)) = (plan, name) {
            plan.name_free = seen.get(name) == Some(&1) && !taken.contains(name);
        }
    }
    Ok(())
}

impl Store for DieselStore {
    async fn create(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        resource: Value,
    ) -> Result<Value, StoreError> {
        self.create_or_existing(scope, resource_type, resource)
            .await
            .map(Created::into_resource)
    }

    async fn create_or_existing(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        resource: Value,
    ) -> Result<Created, StoreError> {
        let ctx = Ctx::of(scope);
        let planned = plan_create(&ctx, resource_type, &resource).map_err(StoreError::from)?;
        if let Some(statement) = planned.one_statement(&ctx, self.backend().dialect()) {
            let inserted = self
                .blocking(move |pools| {
                    pools.with_conn(|conn| {
                        match conn.execute(statement).map_err(DieselError::from) {
                            // Taken by a create racing this one: told apart below.
                            Err(error) if error.unique_attribute() == Some("userName") => Ok(0),
                            inserted => Ok::<_, Failure>(inserted?),
                        }
                    })
                })
                .await?;
            if inserted > 0 {
                return Ok(Created::New(planned.as_read));
            }
        }
        let mut planned = Some(planned);
        let resource_type = resource_type.to_owned();
        self.writing(move |conn| {
            // A write run again (after a deadlock) plans again.
            let planned = match planned.take() {
                Some(planned) => planned,
                None => plan_create(&ctx, &resource_type, &resource)?,
            };
            planned.write(conn, &ctx)
        })
        .await
    }

    async fn create_many(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        resources: Vec<Value>,
    ) -> Vec<Result<Created, StoreError>> {
        if self.backend() == Backend::Sqlite {
            // The writer thread commits the writes queued together as one group,
            // each in a savepoint: submitted at once, they share commits.
            let creates = resources
                .into_iter()
                .map(|resource| self.create_or_existing(scope, resource_type, resource));
            return futures_util::future::join_all(creates).await;
        }
        let ctx = Ctx::of(scope);
        let count = resources.len();
        // The JSON work before the transaction opens (again if it must run again).
        let plan_all = {
            let ctx = ctx.clone();
            let resource_type = resource_type.to_owned();
            move |resources: &[Value]| -> Vec<Result<PlannedCreate, StoreError>> {
                resources
                    .iter()
                    .map(|resource| {
                        plan_create(&ctx, &resource_type, resource).map_err(StoreError::from)
                    })
                    .collect()
            }
        };
        let mut planned = Some(plan_all(&resources));
        let written = self
            .writing(move |conn| {
                let mut plans = planned.take().unwrap_or_else(|| plan_all(&resources));
                mark_free_names(conn, &ctx.tenant, &mut plans)?;
                let mut outcomes = Vec::with_capacity(plans.len());
                // Counts and events written once, at the end (`batch`).
                let batch = crate::batch::Batch::start();
                for plan in plans {
                    let outcome = match plan {
                        Err(error) => Err(error),
                        Ok(plan) => {
                            let mark = batch.mark();
                            match conn.savepoint(|conn| plan.write(conn, &ctx)) {
                                Ok(created) => Ok(created),
                                // The whole transaction runs again.
                                Err(Failure::Db(error)) if error.is_deadlock() => {
                                    return Err(Failure::Db(error))
                                }
                                Err(failure) => {
                                    batch.undo_after(mark);
                                    Err(StoreError::from(failure))
                                }
                            }
                        }
                    };
                    outcomes.push(outcome);
                }
                batch.write(conn)?;
                Ok(outcomes)
            })
            .await;
        match written {
            Ok(outcomes) => outcomes,
            // The transaction failed as a whole: every create with it.
            Err(error) => {
                let detail = error.to_string();
                (0..count)
                    .map(|_| Err(StoreError::Unavailable(detail.clone().into())))
                    .collect()
            }
        }
    }

    async fn get(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        id: &str,
        projection: &Projection,
    ) -> Result<Value, StoreError> {
        let ctx = Ctx::of(scope);
        let resource_type = ctx.resource_type(resource_type)?;
        self.view_of(ctx, resource_type, id.to_owned(), projection.clone())
            .await
    }

    async fn replace(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        id: &str,
        resource: Value,
        expected_version: Option<&str>,
    ) -> Result<Value, StoreError> {
        let (ctx, id) = (Ctx::of(scope), id.to_owned());
        let resource_type = ctx.resource_type(resource_type)?;
        ctx.check_writable(&resource_type)?;
        let expected = expected_version.map(str::to_owned);
        if resource_type == USER_TYPE {
            // As a PATCH is: planned outside a transaction, written in one
            // statement where it can be. (A group's members are set in a
            // transaction, below.)
            let put = Patch {
                ctx,
                resource_type,
                id,
                change: Change::Replace(resource),
                expected,
                projection: Projection::default(),
                member_lists: Arc::clone(&self.member_lists),
            };
            return self.update(Arc::new(put)).await;
        }
        // Read after the commit, outside the writer turn, where reading a large
        // group would hold up every other write.
        let read_back = self.view_reader(
            ctx.clone(),
            resource_type.clone(),
            id.clone(),
            Projection::default(),
        );
        let write = move |conn: &mut crate::connection::Conn<'_>| {
            rows::lock_tenant_if_derived(conn, &ctx)?;
            let row = rows::get_locked(conn, &ctx.tenant, &resource_type, &id, RowLock::Change)?;
            write::check_version(expected.as_deref(), &row.version_tag())?;
            let existing = row.resource(None)?;
            let mode = Mode::Replace {
                existing: &existing,
            };
            let (body, members) = prepare(&ctx, &resource_type, &resource, mode)?;
            let members = if resource_type == GROUP_TYPE {
                MemberChange::Set(members)
            } else {
                MemberChange::Keep
            };
            let mut body = BodyWrite::plan(conn, &ctx, &row, body)?;
            write_resource(conn, &ctx, &row, body.as_mut(), members).map(drop)
        };
        self.writing_then_reading(write, read_back).await
    }

    async fn patch(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        id: &str,
        request: &PatchRequest,
        expected_version: Option<&str>,
        projection: &Projection,
    ) -> Result<Value, StoreError> {
        let ctx = Ctx::of(scope);
        let resource_type = ctx.resource_type(resource_type)?;
        ctx.check_writable(&resource_type)?;
        let patch = Arc::new(Patch {
            ctx,
            resource_type,
            id: id.to_owned(),
            change: Change::Patch(request.clone()),
            expected: expected_version.map(str::to_owned),
            projection: projection.clone(),
            member_lists: Arc::clone(&self.member_lists),
        });
        self.update(patch).await
    }

    async fn delete(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        id: &str,
        expected_version: Option<&str>,
    ) -> Result<(), StoreError> {
        let (ctx, id) = (Ctx::of(scope), id.to_owned());
        let resource_type = ctx.resource_type(resource_type)?;
        let expected = expected_version.map(str::to_owned);
        self.writing(move |conn| {
            rows::lock_tenant_if_derived(conn, &ctx)?;
            let row = rows::get_locked(conn, &ctx.tenant, &resource_type, &id, RowLock::Delete)?;
            let derived = resource_type == GROUP_TYPE && rows::is_derived(conn, row.pk)?;
            write::check_deletable(&ctx.settings, &resource_type, derived)?;
            write::check_version(expected.as_deref(), &row.version_tag())?;
            let at = to_nanos(meta::now())?;
            let as_read = payload(conn, &ctx, row.resource(None)?, &resource_type)?;
            let (event, archive) = write::deletion(&ctx.settings, &resource_type, &id, &as_read);
            let mut events = vec![event];
            if resource_type == USER_TYPE {
                teams::sync(conn, &ctx, (row.pk, &row.id), None, at, &mut events)?;
                clear_reports(conn, &ctx, &id, at, &mut events)?;
            }
            if archive {
                rows::archive(conn, &ctx.tenant, &row, &as_read, at)?;
            }
            remove(conn, &ctx.tenant, &row, at, &mut events)?;
            event_rows::record_events(conn, &ctx.tenant, events, at)
        })
        .await
    }

    async fn query(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
        query: &Query,
    ) -> Result<Page, StoreError> {
        let (ctx, resource_type, query) = (Ctx::of(scope), resource_type.to_owned(), query.clone());
        self.reading(move |pools| crate::query::run(pools, &ctx, &resource_type, &query))
            .await
    }
}

impl MemberStore for DieselStore {
    async fn add_members(
        &self,
        scope: &Scope<'_>,
        group_id: &str,
        members: &[String],
    ) -> Result<String, StoreError> {
        let change = MemberChange::add(members.to_vec());
        self.change_members(scope, group_id, change).await
    }

    async fn remove_members(
        &self,
        scope: &Scope<'_>,
        group_id: &str,
        members: &[String],
    ) -> Result<String, StoreError> {
        let change = MemberChange::remove(members.to_vec());
        self.change_members(scope, group_id, change).await
    }
}

impl EventStore for DieselStore {
    async fn events(
        &self,
        scope: &Scope<'_>,
        after: u64,
        limit: usize,
    ) -> Result<Vec<ChangeEvent>, StoreError> {
        let tenant = scope.tenant.to_owned();
        self.blocking(move |pools| {
            if pools.backend() == Backend::Postgres {
                // Committed events wait for older transactions to end (short
                // ones: writes); past the wait, what has settled is returned and
                // the rest comes with a later read.
                let mut pause = Duration::from_millis(1);
                let settle =
                    |tenant: String| pools.write(move |conn| event_rows::settle(conn, &tenant));
                while settle(tenant.clone())? && pause < SETTLE_WAIT {
                    std::thread::sleep(pause);
                    pause *= 2;
                }
            }
            pools.with_conn(|conn| event_rows::events(conn, &tenant, after, limit))
        })
        .await
    }
}

impl DirectoryStore for DieselStore {
    async fn archived(
        &self,
        scope: &Scope<'_>,
        resource_type: &str,
    ) -> Result<Vec<Archived>, StoreError> {
        let (ctx, resource_type) = (Ctx::of(scope), resource_type.to_owned());
        self.blocking(move |pools| {
            let resource_type = ctx.resource_type(&resource_type)?;
            pools.with_conn(|conn| rows::archived(conn, &ctx.tenant, &resource_type))
        })
        .await
    }

    async fn rebuild_teams(&self, scope: &Scope<'_>) -> Result<TeamsRebuilt, StoreError> {
        let ctx = Ctx::of(scope);
        self.writing(move |conn| {
            rows::lock_tenant(conn, &ctx.tenant)?;
            teams::rebuild(conn, &ctx)
        })
        .await
    }
}

impl DieselStore {
    /// Replaces tenant `scope.tenant`'s settings with `scope.settings` and rebuilds
    /// its derived teams under them (rule 21), in one transaction: no write sees
    /// the new team mode with the old teams. What a team-mode switch calls instead
    /// of [`TenantStore::set_tenant_settings`](scimitar_store::TenantStore::set_tenant_settings)
    /// and then [`DirectoryStore::rebuild_teams`].
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown tenant; the database's.
    pub async fn set_settings_and_rebuild_teams(
        &self,
        scope: &Scope<'_>,
    ) -> Result<TeamsRebuilt, StoreError> {
        let ctx = Ctx::of(scope);
        let settings = ctx.settings.to_value();
        self.writing(move |conn| {
            rows::lock_tenant(conn, &ctx.tenant)?;
            crate::tenant::write_settings(conn, &ctx.tenant, &settings)?;
            teams::rebuild(conn, &ctx)
        })
        .await
    }
    /// The resource `id` as a client reads it.
    async fn view_of(
        &self,
        ctx: Ctx,
        resource_type: String,
        id: String,
        projection: Projection,
    ) -> Result<Value, StoreError> {
        let read = self.view_reader(ctx, resource_type, id, projection);
        self.reading(read).await
    }

    /// The read of resource `id` as a client reads it, to run on the pools.
    fn view_reader(
        &self,
        ctx: Ctx,
        resource_type: String,
        id: String,
        projection: Projection,
    ) -> impl FnOnce(&crate::connection::Pools) -> Result<Value, Failure> + Send + 'static {
        let lists = Arc::clone(&self.member_lists);
        move |pools| {
            pools.with_conn(|conn| {
                let row = rows::get(conn, &ctx.tenant, &resource_type, &id)?;
                view_with(conn, &ctx, &row, &projection, Some(&lists))
            })
        }
    }

    /// Writes `patch` (a PATCH, or a PUT of a user). Optimistic: read, change
    /// and validate outside the writer turn, then write if the resource is still
    /// at the version read. The last try changes it inside the turn, so a
    /// resource written without pause still gets its change.
    async fn update(&self, patch: Arc<Patch>) -> Result<Value, StoreError> {
        for _ in 1..PATCH_ATTEMPTS {
            // A read where reads run (SQLite: on this thread); on PostgreSQL
            // the try may also write its one statement.
            let attempt = {
                let patch = Arc::clone(&patch);
                self.reading(move |pools| pools.with_conn(|conn| patch.attempt(conn)))
                    .await?
            };
            let (row, planned) = match attempt {
                Attempt::Written(written) => return self.answer(&patch, written).await,
                Attempt::Moved => continue,
                Attempt::Planned(row, planned) => (row, planned),
            };
            let (patch_now, mut planned) = (Arc::clone(&patch), Some((row, planned)));
            // A write run again (after a deadlock) finds nothing planned: the
            // next turn of this loop plans again.
            let written = self
                .writing(move |conn| match planned.take() {
                    Some((row, planned)) => patch_now.write_planned(conn, row, planned),
                    None => Ok(None),
                })
                .await?;
            if let Some(written) = written {
                return self.answer(&patch, written).await;
            }
        }
        let patch_now = Arc::clone(&patch);
        let written = self.writing(move |conn| patch_now.write_now(conn)).await?;
        self.answer(&patch, written).await
    }

    /// What a PATCH answers once written.
    async fn answer(&self, patch: &Patch, written: Written) -> Result<Value, StoreError> {
        match written {
            Written::Answer(resource) => Ok(resource),
            Written::Group(group) => {
                Ok(group.response(&patch.ctx, &patch.projection, &self.member_lists)?)
            }
        }
    }

    async fn change_members(
        &self,
        scope: &Scope<'_>,
        group_id: &str,
        change: MemberChange,
    ) -> Result<String, StoreError> {
        let (ctx, group_id) = (Ctx::of(scope), group_id.to_owned());
        ctx.check_writable(GROUP_TYPE)?;
        self.writing(move |conn| {
            let row = rows::get_locked(conn, &ctx.tenant, GROUP_TYPE, &group_id, RowLock::Change)?;
            write_resource(conn, &ctx, &row, None, change.clone())?;
            rows::version_of(conn, &row)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use crate::resource_write::refuse_nul;
    use futures_util::future::join_all;
    use scimitar_schema::ValidationError;
    use scimitar_store::{Policy, Registry};
    use serde_json::json;

    use super::*;
    use crate::OpenOptions;

    fn patch_request(operations: Value) -> PatchRequest {
        serde_json::from_value(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": operations,
        }))
        .unwrap()
    }

    fn sqlite_store(dir: &tempfile::TempDir) -> DieselStore {
        let url = format!("sqlite://{}", dir.path().join("s.db").display());
        DieselStore::open(&url).unwrap()
    }

    fn user(user_name: &str) -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": user_name,
        })
    }

    /// Creates a user `name@example.com` for each name; their ids.
    async fn create_users(store: &DieselStore, scope: &Scope<'_>, names: &[&str]) -> Vec<String> {
        let mut ids = Vec::new();
        for name in names {
            let created = store
                .create(scope, "User", user(&format!("{name}@example.com")))
                .await
                .unwrap();
            ids.push(created["id"].as_str().unwrap().to_owned());
        }
        ids
    }

    /// A PATCH planned against a user deleted before its write, whose row number
    /// SQLite then gave to a new user, is not written over the newcomer: the write
    /// sees that the row is no longer the one it read.
    #[tokio::test]
    async fn a_planned_patch_is_not_written_over_a_row_that_took_the_number_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let store = sqlite_store(&dir);
        let (registry, policy) = (Registry::builtin(), Policy::default());
        let scope = Scope::new("reuse", &registry, &policy);
        let gone = store
            .create(&scope, "User", user("gone@example.com"))
            .await
            .unwrap();
        let patch = Arc::new(Patch {
            ctx: Ctx::of(&scope),
            resource_type: USER_TYPE.into(),
            id: gone["id"].as_str().unwrap().to_owned(),
            change: Change::Patch(patch_request(json!([
                {"op": "replace", "path": "displayName", "value": "Patched"}
            ]))),
            expected: None,
            projection: Projection::default(),
            member_lists: Arc::default(),
        });
        let planning = Arc::clone(&patch);
        let (row, planned) = store
            .reading(move |pools| pools.with_conn(|conn| planning.prepare(conn)))
            .await
            .unwrap();
        store.delete(&scope, "User", &patch.id, None).await.unwrap();
        let newcomer = store
            .create(&scope, "User", user("new@example.com"))
            .await
            .unwrap();
        let newcomer_id = newcomer["id"].as_str().unwrap().to_owned();
        let lookup = newcomer_id.clone();
        let newcomer_row = store
            .reading(move |pools| {
                pools.with_conn(|conn| rows::get(conn, "reuse", USER_TYPE, &lookup))
            })
            .await
            .unwrap();
        assert_eq!(
            (newcomer_row.pk, newcomer_row.version),
            (row.pk, row.version),
            "the newcomer has the deleted user's row number and version"
        );

        let (writing, mut planned) = (Arc::clone(&patch), Some((row, planned)));
        let written = store
            .writing(move |conn| match planned.take() {
                Some((row, planned)) => writing.write_planned(conn, row, planned),
                None => Ok(None),
            })
            .await
            .unwrap();
        assert!(written.is_none(), "the planned write must be tried again");
        let stored = store
            .get(&scope, "User", &newcomer_id, &Projection::default())
            .await
            .unwrap();
        assert_eq!(stored["userName"], "new@example.com");
        assert_eq!(stored.get("displayName"), None);
    }

    /// A group's PATCH answers with the members the write left, as a read right
    /// after it returns them: added ones last, removed ones gone, a new version;
    /// a PATCH that changes nothing keeps the version; a projection without
    /// members leaves them out.
    #[tokio::test]
    async fn a_group_patch_answers_the_members_it_left() {
        let dir = tempfile::tempdir().unwrap();
        let store = sqlite_store(&dir);
        let (registry, policy) = (Registry::builtin(), Policy::default());
        let scope = Scope::new("groups", &registry, &policy);
        let ids = create_users(&store, &scope, &["a", "b", "c", "d"]).await;
        let group = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Team",
            "members": [{"value": ids[0]}, {"value": ids[1]}, {"value": ids[2]}],
        });
        let group = store.create(&scope, "Group", group).await.unwrap();
        let group_id = group["id"].as_str().unwrap();
        let all = Projection::default();
        let member_ids = |resource: &Value| -> Vec<String> {
            resource["members"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|member| member["value"].as_str().unwrap().to_owned())
                .collect()
        };
        let patch = |operations: Value, projection: Projection| {
            let store = &store;
            let scope = &scope;
            async move {
                store
                    .patch(
                        scope,
                        "Group",
                        group_id,
                        &patch_request(operations),
                        None,
                        &projection,
                    )
                    .await
                    .unwrap()
            }
        };

        let answered = patch(
            json!([
                {"op": "add", "path": "members", "value": [{"value": ids[3]}]},
                {"op": "remove", "path": format!("members[value eq \"{}\"]", ids[0])},
                {"op": "replace", "path": "displayName", "value": "Renamed"},
            ]),
            all.clone(),
        )
        .await;
        assert_eq!(
            member_ids(&answered),
            [ids[1].clone(), ids[2].clone(), ids[3].clone()]
        );
        assert_eq!(answered["members"][2]["type"], "User");
        assert_eq!(answered["displayName"], "Renamed");
        assert_eq!(answered["meta"]["version"], "W/\"2\"");
        let read = store.get(&scope, "Group", group_id, &all).await.unwrap();
        assert_eq!(answered, read);

        let members_only = patch(
            json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", ids[1])}]),
            all.clone(),
        )
        .await;
        assert_eq!(member_ids(&members_only), [ids[2].clone(), ids[3].clone()]);
        assert_eq!(members_only["meta"]["version"], "W/\"3\"");
        assert_ne!(
            members_only["meta"]["lastModified"],
            read["meta"]["lastModified"]
        );
        let read = store.get(&scope, "Group", group_id, &all).await.unwrap();
        assert_eq!(members_only, read);

        let unchanged = patch(
            json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", ids[0])}]),
            all.clone(),
        )
        .await;
        assert_eq!(unchanged, read, "nothing to remove: no new version");

        let without_members = Projection::parse(Some("displayName"), None).unwrap();
        let projected = patch(
            json!([{"op": "add", "path": "members", "value": [{"value": ids[0]}]}]),
            without_members,
        )
        .await;
        assert_eq!(projected.get("members"), None);
        assert_eq!(projected["displayName"], "Renamed");
        let read = store.get(&scope, "Group", group_id, &all).await.unwrap();
        assert_eq!(
            member_ids(&read),
            [ids[2].clone(), ids[3].clone(), ids[0].clone()]
        );
    }

    /// Text PostgreSQL cannot store is refused on every backend, naming where it is.
    #[test]
    fn a_nul_character_is_refused_with_its_path() {
        let path_of = |body: Value| match refuse_nul(&body) {
            Err(StoreError::Validation(ValidationError::WrongType { path, .. })) => Some(path),
            Err(other) => panic!("{other:?}"),
            Ok(()) => None,
        };
        assert_eq!(
            path_of(json!({"name": {"givenName": "a\u{0}b"}})).as_deref(),
            Some("name.givenName")
        );
        assert_eq!(
            path_of(json!({"emails": [{"value": "x"}, {"value": "\u{0}"}]})).as_deref(),
            Some("emails.value")
        );
        assert_eq!(
            path_of(json!({"name": {"given\u{0}": "a"}})).as_deref(),
            Some("name")
        );
        assert_eq!(path_of(json!({"x\u{0}": 1})).as_deref(), Some(""));
        assert_eq!(
            path_of(json!({"name": {"givenName": "Ann"}, "tags": ["a", 1, null]})),
            None
        );
    }

    /// Two stores on one file (two processes): reads of a group follow every
    /// change to its members, made by either store, by a PATCH or by a member's
    /// deletion, though each keeps the lists it read in memory.
    #[tokio::test]
    async fn group_reads_follow_every_member_change_of_any_store() {
        let dir = tempfile::tempdir().unwrap();
        let (one, other) = (sqlite_store(&dir), sqlite_store(&dir));
        let (registry, policy) = (Registry::builtin(), Policy::default());
        let scope = Scope::new("lists", &registry, &policy);
        let ids = create_users(&one, &scope, &["a", "b", "c"]).await;
        let group = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Team",
            "members": [{"value": ids[0]}, {"value": ids[1]}],
        });
        let group = one.create(&scope, "Group", group).await.unwrap();
        let group_id = group["id"].as_str().unwrap();
        let all = Projection::default();
        let members_read_by = |store: &DieselStore| {
            let (store, scope, all) = (store.clone(), &scope, &all);
            async move {
                let read = store.get(scope, "Group", group_id, all).await.unwrap();
                read["members"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|member| member["value"].as_str().unwrap().to_owned())
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            members_read_by(&one).await,
            [ids[0].clone(), ids[1].clone()]
        );
        assert_eq!(one.member_lists.len(), 1, "the list read is kept");

        let add = patch_request(json!([
            {"op": "add", "path": "members", "value": [{"value": ids[2]}]}
        ]));
        other
            .patch(&scope, "Group", group_id, &add, None, &all)
            .await
            .unwrap();
        assert_eq!(members_read_by(&one).await, ids);

        one.delete(&scope, "User", &ids[0], None).await.unwrap();
        assert_eq!(
            members_read_by(&one).await,
            [ids[1].clone(), ids[2].clone()]
        );
        other.delete(&scope, "User", &ids[1], None).await.unwrap();
        assert_eq!(members_read_by(&one).await, [ids[2].clone()]);

        let remove = patch_request(json!([
            {"op": "remove", "path": format!("members[value eq \"{}\"]", ids[2])}
        ]));
        let answered = one
            .patch(&scope, "Group", group_id, &remove, None, &all)
            .await
            .unwrap();
        assert_eq!(answered.get("members"), None);
        assert!(members_read_by(&one).await.is_empty());
        assert!(members_read_by(&other).await.is_empty());
    }

    /// A list read after the group's row, when a write came in between, is not
    /// kept under the version of the row: it belongs to a later one.
    #[tokio::test]
    async fn a_list_read_past_its_row_version_is_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (store, writer) = (sqlite_store(&dir), sqlite_store(&dir));
        let (registry, policy) = (Registry::builtin(), Policy::default());
        let scope = Scope::new("stale", &registry, &policy);
        let member = store
            .create(&scope, "User", user("m@example.com"))
            .await
            .unwrap();
        let group = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Team",
        });
        let group = store.create(&scope, "Group", group).await.unwrap();
        let group_id = group["id"].as_str().unwrap().to_owned();
        let lookup = group_id.clone();
        let read_row = move |store: &DieselStore| {
            let lookup = lookup.clone();
            let store = store.clone();
            async move {
                store
                    .reading(move |pools| {
                        pools.with_conn(|conn| rows::get(conn, "stale", GROUP_TYPE, &lookup))
                    })
                    .await
                    .unwrap()
            }
        };
        let old_row = read_row(&store).await;
        let add = patch_request(json!([
            {"op": "add", "path": "members", "value": [{"value": member["id"]}]}
        ]));
        writer
            .patch(
                &scope,
                "Group",
                &group_id,
                &add,
                None,
                &Projection::default(),
            )
            .await
            .unwrap();

        let lists = Arc::clone(&store.member_lists);
        let read = store
            .reading(move |pools| pools.with_conn(|conn| lists.of(conn, &old_row)))
            .await
            .unwrap();
        assert_eq!(read.len(), 1, "what the database holds now");
        assert_eq!(
            store.member_lists.len(),
            0,
            "not kept as the older version's"
        );

        let new_row = read_row(&store).await;
        let lists = Arc::clone(&store.member_lists);
        store
            .reading(move |pools| pools.with_conn(|conn| lists.of(conn, &new_row)))
            .await
            .unwrap();
        assert_eq!(store.member_lists.len(), 1);
    }

    /// PATCHes racing on one resource are each applied to the version the
    /// previous one wrote: the optimistic tries notice a stale read and redo it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn racing_patches_of_one_resource_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("s.db").display());
        let options = OpenOptions {
            max_connections: 4,
            ..OpenOptions::default()
        };
        let store = DieselStore::open_with(&url, &options).unwrap();
        let (registry, policy) = (Registry::builtin(), Policy::default());
        let scope = Scope::new("race", &registry, &policy);
        let user = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "racer@example.com",
        });
        let created = store.create(&scope, "User", user).await.unwrap();
        let id = created["id"].as_str().unwrap();

        let requests: Vec<PatchRequest> = (0..20)
            .map(|i| {
                serde_json::from_value(json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "add", "path": "phoneNumbers",
                                    "value": [{"value": format!("+1 555 01{i:02}")}]}]
                }))
                .unwrap()
            })
            .collect();
        let projection = Projection::default();
        let patches = requests
            .iter()
            .map(|request| store.patch(&scope, "User", id, request, None, &projection));
        for result in join_all(patches).await {
            result.unwrap();
        }

        let stored = store.get(&scope, "User", id, &projection).await.unwrap();
        assert_eq!(stored["phoneNumbers"].as_array().map(Vec::len), Some(20));
        assert_eq!(stored["meta"]["version"], "W/\"21\"");
    }
}
