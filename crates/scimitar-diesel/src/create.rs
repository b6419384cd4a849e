//! Create on the SQL store: the JSON work planned before the writer's turn, and
//! rule 10's replays.

use std::collections::HashSet;

use scimitar_schema::Mode;
use scimitar_store::meta::{self, ResourceMeta};
use scimitar_store::write::{self, NewMember};
use scimitar_store::{derive, Created, NewEvent, Projection, StoreError};
use serde_json::Value;

use crate::connection::Conn;
use crate::error::{DieselError, Failure};
use crate::event_rows;
use crate::event_rows::EventRow;
use crate::member_rows;
use crate::member_rows::MemberRef;
use crate::rows::{self, ResourceRow, GROUP_TYPE, USER_TYPE};
use crate::schema_ops::{self, Ctx};
use crate::sql::{Dialect, Sql};
use crate::teams;
use crate::time::{from_nanos, to_nanos};

use crate::resource_write::{check_manager, name_manager, prepare, view};

/// A create with its JSON work done before the writer turn: the new resource as
/// stored (`body`, `text`), as its event carries it and (without members) as
/// the client reads it (`as_read`).
pub(crate) struct PlannedCreate {
    pub(crate) resource_type: String,
    pub(crate) id: String,
    pub(crate) at: i64,
    pub(crate) body: Value,
    pub(crate) text: String,
    pub(crate) members: Vec<NewMember>,
    pub(crate) as_read: Value,
    /// The created event, when it can be told before the write: without a
    /// manager to name (which is read in the writer turn).
    pub(crate) created: Option<EventRow>,
    /// The `userName` was found free in this transaction (a batch looked its
    /// names up at once): the write need not look again. A create racing it
    /// still meets the unique index.
    pub(crate) name_free: bool,
}

pub(crate) fn plan_create(
    ctx: &Ctx,
    resource_type: &str,
    resource: &Value,
) -> Result<PlannedCreate, Failure> {
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
        name_free: false,
    })
}

impl PlannedCreate {
    /// PostgreSQL: the create as one statement, to run outside a transaction;
    /// `None` when it is not a create that fits in one. It fits a user without
    /// a manager (whose name the event carries, read in the transaction) in a
    /// tenant without derived teams: the row, its emails, counts and created
    /// event go in together unless the `userName` is taken. The statement then
    /// changes no row, and [`PlannedCreate::write`] tells a replay from a
    /// conflict; so does a create racing it to the name, which makes it fail
    /// on the unique index.
    pub(crate) fn one_statement(&self, ctx: &Ctx, dialect: Dialect) -> Option<Sql> {
        let created = self.created.as_ref()?;
        let fits = dialect == Dialect::Postgres
            && self.resource_type == USER_TYPE
            && self.members.is_empty()
            && !ctx.settings.teams.is_derived();
        if !fits {
            return None;
        }
        let mut sql = rows::insert_unless_taken(&self.new_row(ctx));
        event_rows::insert_event_per_row(
            &mut sql,
            dialect,
            "inserted",
            &ctx.tenant,
            created,
            self.at,
        );
        Some(sql)
    }

    /// The row this create inserts, as `ctx`'s client.
    fn new_row<'a>(&'a self, ctx: &'a Ctx) -> rows::NewRow<'a> {
        rows::NewRow {
            tenant: &ctx.tenant,
            resource_type: &self.resource_type,
            id: &self.id,
            body: &self.body,
            text: &self.text,
            at: self.at,
            origin: rows::Origin {
                client: ctx.client.as_deref(),
                derived: false,
            },
        }
    }

    /// In the writer turn: the new resource, or the one a retried create made.
    pub(crate) fn write(self, conn: &mut Conn<'_>, ctx: &Ctx) -> Result<Created, Failure> {
        rows::lock_tenant_if_derived(conn, ctx)?;
        let members = member_rows::member_refs(conn, &ctx.tenant, &self.members)?;
        // A taken userName: a replayed create (Entra ID after its timeout) gets
        // the user it made, any other a uniqueness error.
        let taken = |conn: &mut Conn<'_>, holder: ResourceRow| {
            if is_replay(conn, ctx, &self.resource_type, &holder, &self.body)? {
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
        if !sqlite && !self.name_free {
            if let Some(holder) =
                rows::user_name_holder(conn, &ctx.tenant, &self.resource_type, &self.body)?
            {
                return taken(conn, holder);
            }
        }
        if self.resource_type == GROUP_TYPE && ctx.settings.create_retry_window_seconds > 0 {
            if let Some(group) = same_group(conn, ctx, &self.body, &members)? {
                return view(conn, ctx, &group, &Projection::default()).map(Created::Existing);
            }
        }
        let inserted = rows::insert(conn, &self.new_row(ctx));
        let pk = match inserted {
            // (On PostgreSQL only a racing server's create gets here: the
            // transaction is over, and the error says why.)
            Err(Failure::Db(error)) if sqlite && error.unique_attribute() == Some("userName") => {
                let holder =
                    rows::user_name_holder(conn, &ctx.tenant, &self.resource_type, &self.body)?
                        .ok_or(DieselError::MissingRow)?;
                return taken(conn, holder);
            }
            inserted => inserted?,
        };
        // After the insert (a failure undoes it), so that a taken userName is
        // reported before an unknown manager, as on PostgreSQL.
        if self.resource_type == USER_TYPE {
            check_manager(conn, ctx, &self.body)?;
        }
        let added = member_rows::add_members(conn, pk, &members)?;
        let (as_read, created) = match self.created {
            Some(created) => (self.as_read, created),
            None => {
                let as_read = name_manager(conn, ctx, self.as_read)?;
                let created = EventRow::created(&self.resource_type, &self.id, &as_read);
                (as_read, created)
            }
        };
        let mut events = NewEvent::member_changes(&self.id, &added, &[]);
        if self.resource_type == USER_TYPE {
            teams::sync(
                conn,
                ctx,
                (pk, &self.id),
                Some(&self.body),
                self.at,
                &mut events,
            )?;
        }
        let events = std::iter::once(created).chain(events.into_iter().map(EventRow::from));
        event_rows::insert_events(conn, &ctx.tenant, events, self.at)?;
        if added.is_empty() {
            Ok(Created::New(as_read))
        } else {
            let row = rows::get(conn, &ctx.tenant, &self.resource_type, &self.id)?;
            view(conn, ctx, &row, &Projection::default()).map(Created::New)
        }
    }
}

/// Whether a create of `body` replays the create that made `row` (rule 10,
/// [`write::is_replay`]).
pub(crate) fn is_replay(
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
pub(crate) fn same_group(
    conn: &mut Conn<'_>,
    ctx: &Ctx,
    body: &Value,
    members: &[MemberRef],
) -> Result<Option<ResourceRow>, Failure> {
    let Some(external_id) = body.get("externalId").and_then(Value::as_str) else {
        return Ok(None);
    };
    for group in member_rows::groups_with_external_id(conn, &ctx.tenant, external_id)? {
        if !is_replay(conn, ctx, GROUP_TYPE, &group, body)? {
            continue;
        }
        let present: HashSet<String> = member_rows::member_ids(conn, group.pk)?
            .into_iter()
            .collect();
        if members.iter().all(|member| present.contains(&member.id)) {
            return Ok(Some(group));
        }
    }
    Ok(None)
}
