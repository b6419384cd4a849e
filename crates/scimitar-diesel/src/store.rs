//! [`Store`] for [`DieselStore`]: each write is one transaction (on SQLite, run
//! by the writer thread); reads run as [`DieselStore::reading`] decides.

use std::collections::HashSet;
use std::sync::Arc;

use scimitar_schema::{Mode, ValidationError};
use scimitar_store::meta::{self, ResourceMeta};
use scimitar_store::write::{self, MemberChange, NewMember};
use scimitar_store::{
    derive, Archived, ChangeEvent, Created, DirectoryStore, EventStore, MemberStore, NewEvent,
    Page, PatchRequest, Projection, Query, Scope, Store, StoreError, TeamsRebuilt,
};
use serde_json::Value;

use crate::connection::Conn;
use crate::error::{DieselError, Failure};
use crate::member_lists::{ListedMember, MemberList, MemberLists};
use crate::rows::{self, EventRow, MemberRef, ResourceRow, GROUP_TYPE, USER_TYPE};
use crate::schema_ops::{self, Ctx};
use crate::sql::Dialect;
use crate::teams;
use crate::time::{from_nanos, to_nanos};
use crate::DieselStore;

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
        self.writing(move |conn| planned.write(conn, &ctx)).await
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
        let read_back = (ctx.clone(), resource_type.clone(), id.clone());
        self.writing(move |conn| {
            rows::lock_tenant(conn, &ctx.tenant)?;
            let row = rows::get(conn, &ctx.tenant, &resource_type, &id)?;
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
        })
        .await?;
        // Read after the commit, outside the writer turn, where reading a large
        // group would hold up every other write.
        let (ctx, resource_type, id) = read_back;
        self.view_of(ctx, resource_type, id, Projection::default())
            .await
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
            request: request.clone(),
            expected: expected_version.map(str::to_owned),
            projection: projection.clone(),
            member_lists: Arc::clone(&self.member_lists),
        });
        // Optimistic: read, patch and validate outside the writer turn, then
        // write if the resource is still at the version patched. The last try
        // patches inside the turn, so a resource written without pause still
        // gets its PATCH.
        for _ in 1..PATCH_ATTEMPTS {
            let (row, planned) = {
                let patch = Arc::clone(&patch);
                self.reading(move |pools| pools.with_conn(|conn| patch.prepare(conn)))
                    .await?
            };
            let patch_now = Arc::clone(&patch);
            let written = self
                .writing(move |conn| patch_now.write_planned(conn, row, planned))
                .await?;
            if let Some(written) = written {
                return self.answer(&patch, written).await;
            }
        }
        let patch_now = Arc::clone(&patch);
        let written = self.writing(move |conn| patch_now.write_now(conn)).await?;
        self.answer(&patch, written).await
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
            rows::lock_tenant(conn, &ctx.tenant)?;
            let row = rows::get(conn, &ctx.tenant, &resource_type, &id)?;
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
            rows::record_events(conn, &ctx.tenant, events, at)
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
            pools.with_conn(|conn| rows::events(conn, &tenant, after, limit))
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
        let lists = Arc::clone(&self.member_lists);
        self.reading(move |pools| {
            pools.with_conn(|conn| {
                let row = rows::get(conn, &ctx.tenant, &resource_type, &id)?;
                view_with(conn, &ctx, &row, &projection, Some(&lists))
            })
        })
        .await
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
            rows::lock_tenant(conn, &ctx.tenant)?;
            let row = rows::get(conn, &ctx.tenant, GROUP_TYPE, &group_id)?;
            write_resource(conn, &ctx, &row, None, change)?;
            rows::version_of(conn, &row)
        })
        .await
    }
}

/// Tries of a PATCH: the first ones patch outside the writer turn, the last inside.
const PATCH_ATTEMPTS: usize = 3;

/// A PATCH of one resource, shared by its tries.
struct Patch {
    ctx: Ctx,
    resource_type: String,
    id: String,
    request: PatchRequest,
    expected: Option<String>,
    projection: Projection,
    member_lists: Arc<MemberLists>,
}

/// A written PATCH's response.
enum Written {
    /// Made before the write.
    Answer(Value),
    /// A group's, made after the commit (outside the writer turn) from the
    /// members read when planning and the write's changes to them.
    Group(GroupWritten),
}

/// A PATCH planned against one version of its resource.
struct Planned {
    /// The body to write; `None` if it does not change.
    body: Option<BodyWrite>,
    /// How a group's members change.
    members: MemberChange,
    response: PlannedResponse,
}

/// A PATCH's response as planned.
enum PlannedResponse {
    /// Made before the write: a resource without members.
    Ready(Value),
    /// A group's, to be made once the write's member changes are known: its
    /// members as planned against (`None` when the projection leaves them out).
    Group(Option<MemberList>),
}

/// A group as a PATCH wrote it: what its response is made of.
struct GroupWritten {
    /// The row the PATCH was planned against (and written over).
    row: ResourceRow,
    /// The body written, if it changed.
    body: Option<Value>,
    /// The members as planned against, if the response shows them.
    members: Option<MemberList>,
    changed: Changed,
}

impl GroupWritten {
    /// The group after the write (committed), projected: the row as planned
    /// against (the writer checked it was still that version) with the write
    /// applied, so it takes no read. Its new member list goes to `lists`.
    fn response(
        self,
        ctx: &Ctx,
        projection: &Projection,
        lists: &MemberLists,
    ) -> Result<Value, Failure> {
        let GroupWritten {
            row,
            body,
            members,
            changed,
        } = self;
        let resource = match (changed.at, body) {
            (Some(at), Some(body)) => next_version(&row, body, at)?,
            (Some(at), None) => next_version(&row, row.body()?, at)?,
            (None, _) => row.resource(None)?,
        };
        let members = members.map(|members| changed.apply_to(members));
        if let (Some(members), Some(_)) = (&members, changed.at) {
            lists.keep(&row, row.version + 1, Arc::clone(members));
        }
        let resource = match members {
            Some(members) if !members.is_empty() => {
                rows::with_members(resource, members.iter().map(ListedMember::object).collect())
            }
            _ => resource,
        };
        Ok(schema_ops::project(ctx, GROUP_TYPE, resource, projection))
    }
}

/// What a write changed: when (`None`: nothing, no new version), and a group's
/// members added (in the order they were stored) and removed.
#[derive(Debug, Default)]
struct Changed {
    at: Option<i64>,
    added: Vec<MemberRef>,
    removed: Vec<String>,
}

impl Changed {
    /// `members` (in the order they were added) with these changes made.
    fn apply_to(&self, members: MemberList) -> MemberList {
        if self.removed.is_empty() && self.added.is_empty() {
            return members;
        }
        let removed: HashSet<&str> = self.removed.iter().map(String::as_str).collect();
        members
            .iter()
            .filter(|member| !removed.contains(&*member.id))
            .cloned()
            .chain(
                self.added.iter().map(|member| {
                    ListedMember::new(&member.id, member.kind, Some(&member.display))
                }),
            )
            .collect()
    }
}

impl Patch {
    /// Patches, validates and plans the write against `row`; a group's members
    /// from `lists` where given (outside the writer turn: inside it, a list could
    /// hold writes of the same turn not yet committed).
    fn plan(
        &self,
        conn: &mut Conn<'_>,
        row: &ResourceRow,
        lists: Option<&MemberLists>,
    ) -> Result<Planned, Failure> {
        let ctx = &self.ctx;
        write::check_version(self.expected.as_deref(), &row.version_tag())?;
        // Parsed once: patched as it is, compared with the result, and the event's
        // before.
        let stored = row.body()?;
        let current = meta::stamp(stored.clone(), &row.id, &row.meta()?);
        let (body, members, read_for_patch) =
            patched(conn, ctx, &self.resource_type, row, &current, &self.request)?;
        let body = BodyWrite::plan_over(conn, ctx, row, (stored, current), body)?;
        let response = if row.resource_type == GROUP_TYPE {
            let shown = schema_ops::returns_members(ctx, GROUP_TYPE, &self.projection);
            let shown_members = match read_for_patch {
                Some(list) => Some(list).filter(|_| shown),
                None if shown => Some(member_list(conn, row, lists)?),
                None => None,
            };
            PlannedResponse::Group(shown_members)
        } else {
            PlannedResponse::Ready(planned_view(
                conn,
                ctx,
                row,
                body.as_ref(),
                &self.projection,
            )?)
        };
        Ok(Planned {
            body,
            members,
            response,
        })
    }

    /// Reads the resource and plans the write against it (outside the writer
    /// turn); with the row planned against.
    fn prepare(&self, conn: &mut Conn<'_>) -> Result<(ResourceRow, Planned), Failure> {
        let row = rows::get(conn, &self.ctx.tenant, &self.resource_type, &self.id)?;
        let planned = self.plan(conn, &row, Some(&self.member_lists))?;
        Ok((row, planned))
    }

    /// In the writer turn: writes what was planned if the resource is still at
    /// the version of `row`, read when planning (so it is still `row`, and need
    /// not be read again); `None` if not (try again).
    fn write_planned(
        &self,
        conn: &mut Conn<'_>,
        row: ResourceRow,
        planned: Planned,
    ) -> Result<Option<Written>, Failure> {
        rows::lock_tenant(conn, &self.ctx.tenant)?;
        if rows::version(conn, row.pk, &row.id)? != Some(row.version) {
            return Ok(None);
        }
        self.finish(conn, row, planned).map(Some)
    }

    /// In the writer turn: patches the resource as it is and writes it.
    fn write_now(&self, conn: &mut Conn<'_>) -> Result<Written, Failure> {
        let row = self.locked_row(conn)?;
        let planned = self.plan(conn, &row, None)?;
        self.finish(conn, row, planned)
    }

    fn locked_row(&self, conn: &mut Conn<'_>) -> Result<ResourceRow, Failure> {
        rows::lock_tenant(conn, &self.ctx.tenant)?;
        rows::get(conn, &self.ctx.tenant, &self.resource_type, &self.id)
    }

    /// Writes `planned` over `row`.
    fn finish(
        &self,
        conn: &mut Conn<'_>,
        row: ResourceRow,
        planned: Planned,
    ) -> Result<Written, Failure> {
        let Planned {
            mut body,
            members,
            response,
        } = planned;
        let changed = write_resource(conn, &self.ctx, &row, body.as_mut(), members)?;
        Ok(match response {
            PlannedResponse::Ready(resource) => Written::Answer(resource),
            PlannedResponse::Group(members) => Written::Group(GroupWritten {
                row,
                body: body.map(|write| write.body),
                members,
                changed,
            }),
        })
    }
}

/// `row`, read as `current`, with `request` applied: the body to store, the member
/// change, and a group's members if they had to be read. A group is patched without its
/// members: the patcher reports the member delta, applied to the membership table.
fn patched(
    conn: &mut Conn<'_>,
    ctx: &Ctx,
    resource_type: &str,
    row: &ResourceRow,
    current: &Value,
    request: &PatchRequest,
) -> Result<(Value, MemberChange, Option<MemberList>), Failure> {
    let mut member_list = None;
    let patched = match schema_ops::apply_patch(ctx, resource_type, current, request, false) {
        // Only a path selecting members by something else than their id needs the
        // list.
        Err(error) if write::needs_member_list(&error) => {
            let members: MemberList = rows::listed_members(conn, row.pk)?.into();
            let current = row.resource(Some(members.iter().map(ListedMember::object).collect()))?;
            member_list = Some(members);
            schema_ops::apply_patch(ctx, resource_type, &current, request, true)?
        }
        other => other?,
    };
    let mut body = patched.resource;
    meta::strip_store_owned(&mut body);
    refuse_nul(&body)?;
    let members = if resource_type == GROUP_TYPE {
        patched.members
    } else {
        derive::drop_unassigned_manager(&mut body);
        MemberChange::Keep
    };
    Ok((body, members, member_list))
}

/// A create with its JSON work done before the writer turn: the new resource as
/// stored (`body`, `text`), as its event carries it and (without members) as
/// the client reads it (`as_read`).
struct PlannedCreate {
    resource_type: String,
    id: String,
    at: i64,
    body: Value,
    text: String,
    members: Vec<NewMember>,
    as_read: Value,
    /// The created event, when it can be told before the write: without a
    /// manager to name (which is read in the writer turn).
    created: Option<EventRow>,
}

fn plan_create(ctx: &Ctx, resource_type: &str, resource: &Value) -> Result<PlannedCreate, Failure> {
    let resource_type = ctx.resource_type(resource_type)?;
    ctx.check_writable(&resource_type)?;
    let (body, members) = prepare(ctx, &resource_type, resource, Mode::Create)?;
    let id = meta::new_id();
    let at = to_nanos(meta::now())?;
    let text = body.to_string();
    let first_version = ResourceMeta {
        resource_type: resource_type.clone(),
        created: from_nanos(at)?,
        last_modified: from_nanos(at)?,
        version: meta::version_tag(1),
    };
    let as_read = schema_ops::project(
        ctx,
        &resource_type,
        meta::stamp(body.clone(), &id, &first_version),
        &Projection::default(),
    );
    let created = derive::manager_id(&as_read)
        .is_none()
        .then(|| EventRow::created(&resource_type, &id, &as_read));
    Ok(PlannedCreate {
        resource_type,
        id,
        at,
        body,
        text,
        members,
        as_read,
        created,
    })
}

impl PlannedCreate {
    /// In the writer turn: the new resource, or the one a retried create made.
    fn write(self, conn: &mut Conn<'_>, ctx: &Ctx) -> Result<Created, Failure> {
        let PlannedCreate {
            resource_type,
            id,
            at,
            body,
            text,
            members,
            as_read,
            created,
        } = self;
        rows::lock_tenant(conn, &ctx.tenant)?;
        let members = rows::member_refs(conn, &ctx.tenant, &members)?;
        // A taken userName: a replayed create (Entra ID after its timeout) gets
        // the user it made, any other a uniqueness error.
        let taken = |conn: &mut Conn<'_>, holder: ResourceRow| {
            if is_replay(conn, ctx, &resource_type, &holder, &body)? {
                view(conn, ctx, &holder, &Projection::default()).map(Created::Existing)
            } else {
                Err(StoreError::Uniqueness {
                    attribute: "userName".into(),
                }
                .into())
            }
        };
        // SQLite lets the unique index find a taken userName (a failed INSERT
        // leaves the rest of the savepoint as it was), which saves a lookup per
        // create; PostgreSQL's transaction would not survive the failed INSERT.
        let sqlite = conn.dialect() == Dialect::Sqlite;
        if !sqlite {
            if let Some(holder) = rows::user_name_holder(conn, &ctx.tenant, &resource_type, &body)?
            {
                return taken(conn, holder);
            }
        }
        if resource_type == GROUP_TYPE && ctx.settings.create_retry_window_seconds > 0 {
            if let Some(group) = same_group(conn, ctx, &body, &members)? {
                return view(conn, ctx, &group, &Projection::default()).map(Created::Existing);
            }
        }
        let inserted = rows::insert(
            conn,
            &ctx.tenant,
            &resource_type,
            &id,
            &body,
            &text,
            at,
            rows::Origin {
                client: ctx.client.as_deref(),
                derived: false,
            },
        );
        let pk = match inserted {
            // (On PostgreSQL only a racing server's create gets here: the
            // transaction is over, and the error says why.)
            Err(Failure::Db(error)) if sqlite && error.unique_attribute() == Some("userName") => {
                let holder = rows::user_name_holder(conn, &ctx.tenant, &resource_type, &body)?
                    .ok_or(DieselError::MissingRow)?;
                return taken(conn, holder);
            }
            inserted => inserted?,
        };
        // After the insert (a failure undoes it), so that a taken userName is
        // reported before an unknown manager, as on PostgreSQL.
        if resource_type == USER_TYPE {
            check_manager(conn, ctx, &body)?;
        }
        let added = rows::add_members(conn, pk, &members)?;
        let (as_read, created) = match created {
            Some(created) => (as_read, created),
            None => {
                let as_read = name_manager(conn, ctx, as_read)?;
                let created = EventRow::created(&resource_type, &id, &as_read);
                (as_read, created)
            }
        };
        let mut events = NewEvent::member_changes(&id, &added, &[]);
        if resource_type == USER_TYPE {
            teams::sync(conn, ctx, (pk, &id), Some(&body), at, &mut events)?;
        }
        let events = std::iter::once(created).chain(events.into_iter().map(EventRow::from));
        rows::insert_events(conn, &ctx.tenant, events, at)?;
        if added.is_empty() {
            Ok(Created::New(as_read))
        } else {
            let row = rows::get(conn, &ctx.tenant, &resource_type, &id)?;
            view(conn, ctx, &row, &Projection::default()).map(Created::New)
        }
    }
}

/// Whether a create of `body` replays the create that made `row` (rule 10,
/// [`write::is_replay`]).
fn is_replay(
    conn: &mut Conn<'_>,
    ctx: &Ctx,
    resource_type: &str,
    row: &ResourceRow,
    body: &Value,
) -> Result<bool, Failure> {
    if ctx.settings.create_retry_window_seconds == 0 {
        return Ok(false);
    }
    let created_by = rows::created_by(conn, row.pk)?;
    let origin = write::Origin {
        client: created_by.as_deref(),
        created: from_nanos(row.created)?,
    };
    Ok(write::is_replay(
        &ctx.scope(),
        resource_type,
        origin,
        &row.body()?,
        body,
    ))
}

/// The first group with `body`'s `externalId` whose create `body` replays, with
/// every one of `members`: what a retried group create made (rule 10).
fn same_group(
    conn: &mut Conn<'_>,
    ctx: &Ctx,
    body: &Value,
    members: &[MemberRef],
) -> Result<Option<ResourceRow>, Failure> {
    let Some(external_id) = body.get("externalId").and_then(Value::as_str) else {
        return Ok(None);
    };
    for group in rows::groups_with_external_id(conn, &ctx.tenant, external_id)? {
        if !is_replay(conn, ctx, GROUP_TYPE, &group, body)? {
            continue;
        }
        let present: HashSet<String> = rows::member_ids(conn, group.pk)?.into_iter().collect();
        if members.iter().all(|member| present.contains(&member.id)) {
            return Ok(Some(group));
        }
    }
    Ok(None)
}

/// Fails with `UnknownManager` unless the user's manager, if any, is a user of
/// the tenant (rule 19).
fn check_manager(conn: &mut Conn<'_>, ctx: &Ctx, user: &Value) -> Result<(), Failure> {
    match derive::manager_id(user) {
        Some(manager) if rows::find(conn, &ctx.tenant, USER_TYPE, manager)?.is_none() => {
            Err(StoreError::UnknownManager(manager.to_owned()).into())
        }
        _ => Ok(()),
    }
}

/// Clears the manager of every report of `manager` (rule 19), with their events.
fn clear_reports(
    conn: &mut Conn<'_>,
    ctx: &Ctx,
    manager: &str,
    at: i64,
    events: &mut Vec<NewEvent>,
) -> Result<(), Failure> {
    for report in rows::reports_of(conn, &ctx.tenant, manager)? {
        let old = report.body()?;
        let mut body = old.clone();
        if !derive::clear_manager(&mut body) {
            continue;
        }
        let before = payload(conn, ctx, report.resource(None)?, USER_TYPE)?;
        rows::update_body(conn, &report, &old, &body, &body.to_string(), at)?;
        let after = payload(conn, ctx, next_version(&report, body, at)?, USER_TYPE)?;
        events.push(NewEvent::updated(USER_TYPE, &report.id, &before, &after));
    }
    Ok(())
}

/// Takes a resource out: out of every group it was in (each gets a new version
/// and an event, rule 9), then its row, emails and memberships.
pub(crate) fn remove(
    conn: &mut Conn<'_>,
    tenant: &str,
    row: &ResourceRow,
    at: i64,
    events: &mut Vec<NewEvent>,
) -> Result<(), Failure> {
    let leaving = [row.id.clone()];
    for (group_pk, group_id) in rows::groups_of(conn, row.pk)? {
        rows::touch(conn, group_pk, at)?;
        events.push(NewEvent::members_removed(&group_id, &leaving));
    }
    rows::delete(conn, tenant, row)
}

/// Refuses text with a NUL character, which PostgreSQL cannot store: the same
/// answer on every backend.
fn refuse_nul(body: &Value) -> Result<(), StoreError> {
    /// The path to the first attribute with a NUL character in its value or in
    /// a name it holds, innermost name first. Allocates only when one is found:
    /// every create and PATCH runs this.
    fn find(value: &Value) -> Option<Vec<&str>> {
        match value {
            Value::String(text) if text.contains('\0') => Some(Vec::new()),
            Value::Array(items) => items.iter().find_map(find),
            Value::Object(fields) => fields.iter().find_map(|(name, value)| {
                if name.contains('\0') {
                    return Some(Vec::new());
                }
                find(value).map(|mut path| {
                    path.push(name);
                    path
                })
            }),
            _ => None,
        }
    }
    match find(body) {
        Some(mut path) => {
            path.reverse();
            Err(ValidationError::WrongType {
                path: path.join("."),
                expected: "text without NUL characters",
                found: "text with a NUL character",
            }
            .into())
        }
        None => Ok(()),
    }
}

/// Validates a create or replace body and splits off a group's member ids.
fn prepare(
    ctx: &Ctx,
    resource_type: &str,
    resource: &Value,
    mode: Mode<'_>,
) -> Result<(Value, Vec<NewMember>), StoreError> {
    let mut body = schema_ops::validate(ctx, resource_type, resource, mode)?;
    meta::strip_store_owned(&mut body);
    refuse_nul(&body)?;
    let members = write::split_members(resource_type, &mut body)?;
    Ok((body, members))
}

/// A changed body for a row, with the JSON work of its write done: compared
/// with the stored body, serialised, and the event's before and after built. An
/// optimistic write plans it before the writer turn, so the turn runs SQL only.
struct BodyWrite {
    old: Value,
    body: Value,
    text: String,
    at: i64,
    /// The resource as a client reads it after the write.
    after: Value,
    /// The update's event, taken when written.
    event: Option<EventRow>,
}

impl BodyWrite {
    /// The write of `body` over `row`; `None` when `row` holds `body` already.
    fn plan(
        conn: &mut Conn<'_>,
        ctx: &Ctx,
        row: &ResourceRow,
        body: Value,
    ) -> Result<Option<BodyWrite>, Failure> {
        let stored = row.body()?;
        let current = meta::stamp(stored.clone(), &row.id, &row.meta()?);
        BodyWrite::plan_over(conn, ctx, row, (stored, current), body)
    }

    /// [`BodyWrite::plan`] with `row`'s body parsed already: as stored (`old`)
    /// and with its `id` and `meta` (`current`).
    fn plan_over(
        conn: &mut Conn<'_>,
        ctx: &Ctx,
        row: &ResourceRow,
        (old, current): (Value, Value),
        body: Value,
    ) -> Result<Option<BodyWrite>, Failure> {
        if old == body {
            return Ok(None);
        }
        let at = to_nanos(meta::now())?;
        let before = payload(conn, ctx, current, &row.resource_type)?;
        let after = payload(
            conn,
            ctx,
            next_version(row, body.clone(), at)?,
            &row.resource_type,
        )?;
        let event = EventRow::updated(&row.resource_type, &row.id, &before, &after);
        Ok(Some(BodyWrite {
            text: body.to_string(),
            old,
            body,
            at,
            after,
            event: Some(event),
        }))
    }
}

/// What a write of `row`, a resource without members, answers: the planned body
/// (or `row`, unchanged) projected.
fn planned_view(
    conn: &mut Conn<'_>,
    ctx: &Ctx,
    row: &ResourceRow,
    body: Option<&BodyWrite>,
    projection: &Projection,
) -> Result<Value, Failure> {
    let Some(write) = body else {
        return view(conn, ctx, row, projection);
    };
    if *projection == Projection::default() {
        return Ok(write.after.clone());
    }
    let resource = name_manager(conn, ctx, next_version(row, write.body.clone(), write.at)?)?;
    Ok(schema_ops::project(
        ctx,
        &row.resource_type,
        resource,
        projection,
    ))
}

/// The write shared by replace, patch and the member calls: a write that changes
/// nothing leaves no trace (rule 5).
fn write_resource(
    conn: &mut Conn<'_>,
    ctx: &Ctx,
    row: &ResourceRow,
    mut body: Option<&mut BodyWrite>,
    members: MemberChange,
) -> Result<Changed, Failure> {
    let (to_add, to_remove) = match members {
        MemberChange::Keep => (Vec::new(), Vec::new()),
        MemberChange::Set(ids) => {
            let wanted = rows::member_refs(conn, &ctx.tenant, &ids)?;
            let wanted_ids: HashSet<&str> =
                wanted.iter().map(|member| member.id.as_str()).collect();
            let to_remove = rows::member_ids(conn, row.pk)?
                .into_iter()
                .filter(|id| !wanted_ids.contains(id.as_str()))
                .collect();
            (wanted, to_remove)
        }
        MemberChange::Delta { add, remove } => {
            (rows::member_refs(conn, &ctx.tenant, &add)?, remove)
        }
    };
    if let Some(write) = &body {
        if row.resource_type == USER_TYPE {
            check_manager(conn, ctx, &write.body)?;
        }
    }
    let removed = rows::remove_members(conn, &ctx.tenant, row.pk, &to_remove)?;
    let added = rows::add_members(conn, row.pk, &to_add)?;
    let at = match &body {
        Some(write) => write.at,
        None if added.is_empty() && removed.is_empty() => return Ok(Changed::default()),
        None => to_nanos(meta::now())?,
    };
    let mut planned = None;
    match &mut body {
        Some(write) => {
            rows::update_body(conn, row, &write.old, &write.body, &write.text, at)?;
            planned = write.event.take();
        }
        None => rows::touch(conn, row.pk, at)?,
    }
    let mut events = NewEvent::member_changes(&row.id, &added, &removed);
    if let Some(write) = &body {
        if row.resource_type == USER_TYPE {
            teams::sync(
                conn,
                ctx,
                (row.pk, &row.id),
                Some(&write.body),
                at,
                &mut events,
            )?;
        }
    }
    let events = planned
        .into_iter()
        .chain(events.into_iter().map(EventRow::from));
    rows::insert_events(conn, &ctx.tenant, events, at)?;
    let added: HashSet<&str> = added.iter().map(String::as_str).collect();
    Ok(Changed {
        at: Some(at),
        added: to_add
            .into_iter()
            .filter(|member| added.contains(member.id.as_str()))
            .collect(),
        removed,
    })
}

/// `body` stamped as `row`'s next version, written at `at`.
fn next_version(row: &ResourceRow, body: Value, at: i64) -> Result<Value, Failure> {
    let meta = ResourceMeta {
        resource_type: row.resource_type.clone(),
        created: from_nanos(row.created)?,
        last_modified: from_nanos(at)?,
        version: meta::version_tag(u64::try_from(row.version + 1).unwrap_or_default()),
    };
    Ok(meta::stamp(body, &row.id, &meta))
}

/// A resource as an event carries it: as a client reads it (never `password`,
/// a user's manager named).
pub(crate) fn payload(
    conn: &mut Conn<'_>,
    ctx: &Ctx,
    resource: Value,
    resource_type: &str,
) -> Result<Value, Failure> {
    let resource = name_manager(conn, ctx, resource)?;
    Ok(schema_ops::project(
        ctx,
        resource_type,
        resource,
        &Projection::default(),
    ))
}

/// The members of group `row`, from `lists` where given (only outside the writer
/// turn, see [`MemberLists`]), else from the database.
fn member_list(
    conn: &mut Conn<'_>,
    row: &ResourceRow,
    lists: Option<&MemberLists>,
) -> Result<MemberList, Failure> {
    match lists {
        Some(lists) => lists.of(conn, row),
        None => Ok(rows::listed_members(conn, row.pk)?.into()),
    }
}

/// A user with its manager's current `displayName` (rule 19): one lookup.
fn name_manager(conn: &mut Conn<'_>, ctx: &Ctx, mut resource: Value) -> Result<Value, Failure> {
    if let Some(manager) = derive::manager_id(&resource).map(str::to_owned) {
        let names = rows::user_display_names(conn, &ctx.tenant, &[manager.as_str()])?;
        derive::set_manager_display_name(&mut resource, names.get(&manager).map(String::as_str));
    }
    Ok(resource)
}

/// A row as a client sees it: members read only if the projection returns them.
fn view(
    conn: &mut Conn<'_>,
    ctx: &Ctx,
    row: &ResourceRow,
    projection: &Projection,
) -> Result<Value, Failure> {
    view_with(conn, ctx, row, projection, None)
}

/// [`view`], a group's members from `lists` where given.
fn view_with(
    conn: &mut Conn<'_>,
    ctx: &Ctx,
    row: &ResourceRow,
    projection: &Projection,
    lists: Option<&MemberLists>,
) -> Result<Value, Failure> {
    let members = if schema_ops::returns_members(ctx, &row.resource_type, projection) {
        let list = member_list(conn, row, lists)?;
        Some(list.iter().map(ListedMember::object).collect())
    } else {
        None
    };
    let resource = name_manager(conn, ctx, row.resource(members)?)?;
    Ok(schema_ops::project(
        ctx,
        &row.resource_type,
        resource,
        projection,
    ))
}

#[cfg(test)]
mod tests {
    use futures_util::future::join_all;
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
            request: patch_request(json!([
                {"op": "replace", "path": "displayName", "value": "Patched"}
            ])),
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

        let writing = Arc::clone(&patch);
        let written = store
            .writing(move |conn| writing.write_planned(conn, row, planned))
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
