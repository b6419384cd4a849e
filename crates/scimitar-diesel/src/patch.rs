//! PATCH on the SQL store: planned outside the writer's turn, written if the
//! version is unchanged (optimistic, then inside the turn).

use std::collections::HashSet;
use std::sync::Arc;

use scimitar_schema::Mode;
use scimitar_store::meta;
use scimitar_store::write::{self, MemberChange, NewMember};
use scimitar_store::{derive, PatchRequest, Projection, StoreError};
use serde_json::Value;

use crate::connection::Conn;
use crate::error::{DieselError, Failure};
use crate::event_rows;
use crate::member_lists::{ListedMember, MemberList, MemberLists};
use crate::member_rows::{self, ChangeRow, MemberRef};
use crate::rows::{self, ResourceRow, RowLock, GROUP_TYPE, USER_TYPE};
use crate::schema_ops::{self, Ctx};
use crate::sql::{Dialect, Sql};

use crate::resource_write::{
    member_list, next_version, planned_view, prepare, refuse_nul, write_resource, BodyWrite,
    Changed,
};

/// Tries of a PATCH: the first ones patch outside the writer turn, the last inside.
pub(crate) const PATCH_ATTEMPTS: usize = 3;

/// A PATCH of one resource, or a PUT of a user, shared by its tries: both read
/// the resource, change it, and write the change if the resource is still at
/// the version read.
pub(crate) struct Patch {
    pub(crate) ctx: Ctx,
    pub(crate) resource_type: String,
    pub(crate) id: String,
    pub(crate) change: Change,
    pub(crate) expected: Option<String>,
    pub(crate) projection: Projection,
    pub(crate) member_lists: Arc<MemberLists>,
}

/// What a [`Patch`] does to the resource it reads.
pub(crate) enum Change {
    /// A PATCH request.
    Patch(PatchRequest),
    /// A PUT: the resource, whole. A group's members are then set to the ones
    /// it lists.
    Replace(Value),
}

/// A written PATCH's response.
pub(crate) enum Written {
    /// Made before the write.
    Answer(Value),
    /// A group's, made after the commit (outside the writer turn) from the
    /// members read when planning and the write's changes to them.
    Group(GroupWritten),
}

/// What one optimistic try of a PATCH came to ([`Patch::attempt`]).
#[allow(
    clippy::large_enum_variant,
    reason = "made once per try and taken apart at once; boxing would only add an allocation"
)]
pub(crate) enum Attempt {
    /// Written, in one statement.
    Written(Written),
    /// The resource moved on between the read and the statement: try again.
    Moved,
    /// Planned against this row; to write in a transaction.
    Planned(ResourceRow, Planned),
}

/// A planned PATCH as one statement ([`Patch::one_statement`]).
pub(crate) enum OneStatement {
    /// A user's body, and the answer: the statement changes one row, or none
    /// if the version moved on.
    Body(Sql, Value),
    /// A group's members.
    Members(MemberStatement),
}

/// A change of a group's members as one statement, and what makes its answer.
pub(crate) struct MemberStatement {
    pub(crate) sql: Sql,
    /// The members to add, without repeats, in the order sent.
    add: Vec<NewMember>,
    at: i64,
    /// The members as planned against, if the response shows them.
    members: Option<MemberList>,
}

impl MemberStatement {
    /// The statement of adding `add` and removing `remove` (the answer to show
    /// `members`, as planned against), or the plan back when they do not fit
    /// in one: nothing to change, an id also removed (the transactional write
    /// removes first, then adds), or a NUL character (PostgreSQL text cannot
    /// hold one; the transactional write says which).
    fn plan(
        tenant: &str,
        row: &ResourceRow,
        (add, remove): (Vec<NewMember>, Vec<String>),
        members: Option<MemberList>,
    ) -> Result<MemberStatement, Box<Planned>> {
        let mut seen = HashSet::with_capacity(add.len());
        let unique: Vec<&NewMember> = add.iter().filter(|m| seen.insert(m.id.as_str())).collect();
        let has_nul = |text: &str| text.contains('\0');
        let something = !add.is_empty() || !remove.is_empty();
        let apart = remove.iter().all(|id| !seen.contains(id.as_str()));
        let no_nul = !remove.iter().any(|id| has_nul(id))
            && !unique
                .iter()
                .any(|m| has_nul(&m.id) || m.display.as_deref().is_some_and(has_nul));
        let at = match crate::time::to_nanos(meta::now()) {
            Ok(at) if something && apart && no_nul => at,
            _ => {
                return Err(Box::new(Planned {
                    body: None,
                    members: MemberChange::Delta { add, remove },
                    response: PlannedResponse::Group(members),
                }))
            }
        };
        let add: Vec<NewMember> = unique.into_iter().cloned().collect();
        Ok(MemberStatement {
            sql: member_rows::change_in_one_statement(tenant, row, &add, &remove, at),
            add,
            at,
            members,
        })
    }

    /// The group as the statement wrote it over `row`, from the statement's
    /// rows; `None` when the version had moved on (plan again).
    pub(crate) fn written(
        self,
        row: ResourceRow,
        rows: Vec<ChangeRow>,
    ) -> Result<Option<Written>, Failure> {
        if !rows.iter().any(|r| r.part == ChangeRow::HELD) {
            return Ok(None);
        }
        let found: HashSet<i64> = rows
            .iter()
            .filter(|r| r.part == ChangeRow::FOUND)
            .map(|r| r.n)
            .collect();
        let place = |i: usize| i64::try_from(i).unwrap_or(i64::MAX);
        if let Some((_, unknown)) = self
            .add
            .iter()
            .enumerate()
            .find(|(i, _)| !found.contains(&place(*i)))
        {
            return Err(StoreError::UnknownMember(unknown.id.clone()).into());
        }
        let (mut added, mut removed): (Vec<ChangeRow>, Vec<ChangeRow>) = rows
            .into_iter()
            .filter(|r| r.part == ChangeRow::ADDED || r.part == ChangeRow::REMOVED)
            .partition(|r| r.part == ChangeRow::ADDED);
        added.sort_by_key(|r| r.n);
        removed.sort_by_key(|r| r.n);
        let added: Vec<MemberRef> = added
            .into_iter()
            .map(|r| MemberRef {
                pk: r.pk,
                kind: if r.kind == GROUP_TYPE {
                    GROUP_TYPE
                } else {
                    USER_TYPE
                },
                sent: usize::try_from(r.n)
                    .ok()
                    .and_then(|i| self.add.get(i))
                    .is_some_and(|m| m.display.is_some()),
                id: r.id,
                display: r.display,
            })
            .collect();
        let removed: Vec<String> = removed.into_iter().map(|r| r.id).collect();
        let at = (!added.is_empty() || !removed.is_empty()).then_some(self.at);
        Ok(Some(Written::Group(GroupWritten {
            row,
            body: None,
            members: self.members,
            changed: Changed { at, added, removed },
        })))
    }
}

/// A PATCH planned against one version of its resource.
pub(crate) struct Planned {
    /// The body to write; `None` if it does not change.
    pub(crate) body: Option<BodyWrite>,
    /// How a group's members change.
    pub(crate) members: MemberChange,
    pub(crate) response: PlannedResponse,
}

/// A PATCH's response as planned.
pub(crate) enum PlannedResponse {
    /// Made before the write: a resource without members.
    Ready(Value),
    /// A group's, to be made once the write's member changes are known: its
    /// members as planned against (`None` when the projection leaves them out).
    Group(Option<MemberList>),
}

/// A group as a PATCH wrote it: what its response is made of.
pub(crate) struct GroupWritten {
    /// The row the PATCH was planned against (and written over).
    pub(crate) row: ResourceRow,
    /// The body written, if it changed.
    pub(crate) body: Option<Value>,
    /// The members as planned against, if the response shows them.
    pub(crate) members: Option<MemberList>,
    pub(crate) changed: Changed,
}

impl GroupWritten {
    /// The group after the write (committed), projected: the row as planned
    /// against (the writer checked it was still that version) with the write
    /// applied, so it takes no read. Its new member list goes to `lists`.
    pub(crate) fn response(
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

impl Patch {
    /// Patches, validates and plans the write against `row`; a group's members
    /// from `lists` where given (outside the writer turn: inside it, a list could
    /// hold writes of the same turn not yet committed).
    pub(crate) fn plan(
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
        let (body, members, read_for_patch) = match &self.change {
            Change::Patch(request) => {
                patched(conn, ctx, &self.resource_type, row, &current, request)?
            }
            Change::Replace(resource) => {
                let mode = Mode::Replace { existing: &current };
                let (body, members) = prepare(ctx, &self.resource_type, resource, mode)?;
                let members = if row.resource_type == GROUP_TYPE {
                    MemberChange::Set(members)
                } else {
                    MemberChange::Keep
                };
                (body, members, None)
            }
        };
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
    pub(crate) fn prepare(&self, conn: &mut Conn<'_>) -> Result<(ResourceRow, Planned), Failure> {
        let row = rows::get(conn, &self.ctx.tenant, &self.resource_type, &self.id)?;
        let planned = self.plan(conn, &row, Some(&self.member_lists))?;
        Ok((row, planned))
    }

    /// In the writer turn: writes what was planned if the resource is still at
    /// the version of `row`, read when planning (so it is still `row`, and need
    /// not be read again); `None` if not (try again).
    pub(crate) fn write_planned(
        &self,
        conn: &mut Conn<'_>,
        row: ResourceRow,
        planned: Planned,
    ) -> Result<Option<Written>, Failure> {
        rows::lock_tenant_if_derived(conn, &self.ctx)?;
        if rows::version(conn, row.pk, &row.id, Some(RowLock::Change))? != Some(row.version) {
            return Ok(None);
        }
        self.finish(conn, row, planned).map(Some)
    }

    /// One optimistic try, outside the writer turn: reads the resource and plans
    /// the write; on PostgreSQL, when the write fits one statement
    /// ([`Patch::one_statement`]), runs it on the same connection, so that the
    /// read and the write cost one trip to the blocking pool, not two.
    ///
    /// A statement PostgreSQL ended to break a deadlock (a member locked by a
    /// delete that waits for the group) changed nothing: it is tried again, as
    /// a transaction would be.
    pub(crate) fn attempt(&self, conn: &mut Conn<'_>) -> Result<Attempt, Failure> {
        let (row, planned) = self.prepare(conn)?;
        Ok(match self.one_statement(conn.dialect(), &row, planned) {
            Ok(OneStatement::Body(statement, response)) => match conn.execute(statement) {
                Ok(0) => Attempt::Moved,
                Ok(_) => Attempt::Written(Written::Answer(response)),
                Err(error) => moved_if_deadlocked(error)?,
            },
            Ok(OneStatement::Members(mut statement)) => {
                let sql = std::mem::take(&mut statement.sql);
                match conn.load::<ChangeRow>(sql) {
                    Ok(rows) => match statement.written(row, rows)? {
                        Some(written) => Attempt::Written(written),
                        None => Attempt::Moved,
                    },
                    Err(error) => moved_if_deadlocked(error)?,
                }
            }
            Err(planned) => Attempt::Planned(row, *planned),
        })
    }

    /// PostgreSQL: the planned write as one statement, to run outside a
    /// transaction; the plan back when it is not a write that fits in one. A
    /// statement is its own transaction, so a change and its events commit
    /// together; it takes the row lock a write in a transaction would, and
    /// changes nothing when the version moved on since planning: plan again.
    ///
    /// - [`OneStatement::Body`]: the PATCH changes a user's body and nothing that
    ///   another table or row holds ([`rows::lone_body_update`]): the `UPDATE`,
    ///   on the condition of the version planned against, feeds its event's
    ///   `INSERT`.
    /// - [`OneStatement::Members`]: the PATCH adds or removes a group's members
    ///   and changes nothing else ([`member_rows::change_in_one_statement`]).
    ///
    /// Neither fits a tenant with derived teams, whose writes take its lock.
    pub(crate) fn one_statement(
        &self,
        dialect: Dialect,
        row: &ResourceRow,
        planned: Planned,
    ) -> Result<OneStatement, Box<Planned>> {
        if dialect != Dialect::Postgres || self.ctx.settings.teams.is_derived() {
            return Err(Box::new(planned));
        }
        match planned {
            Planned {
                body: Some(mut write),
                members: MemberChange::Keep,
                response: PlannedResponse::Ready(response),
            } if row.resource_type == USER_TYPE => {
                let update = rows::lone_body_update(
                    dialect,
                    row,
                    &write.old,
                    &write.body,
                    &write.text,
                    write.at,
                );
                match (update, write.event.take()) {
                    (Some(update), Some(event)) => {
                        let mut sql = Sql::new("WITH changed AS (");
                        sql.append(update)
                            .push(" AND version = ")
                            .bind(row.version)
                            .push(" RETURNING pk) ");
                        event_rows::insert_event_per_row(
                            &mut sql,
                            dialect,
                            "changed",
                            &self.ctx.tenant,
                            &event,
                            write.at,
                        );
                        Ok(OneStatement::Body(sql, response))
                    }
                    (_, event) => {
                        write.event = event;
                        Err(Box::new(Planned {
                            body: Some(write),
                            members: MemberChange::Keep,
                            response: PlannedResponse::Ready(response),
                        }))
                    }
                }
            }
            Planned {
                body: None,
                members: MemberChange::Delta { add, remove },
                response: PlannedResponse::Group(members),
            } if row.resource_type == GROUP_TYPE => {
                MemberStatement::plan(&self.ctx.tenant, row, (add, remove), members)
                    .map(OneStatement::Members)
            }
            planned => Err(Box::new(planned)),
        }
    }

    /// In the writer turn: patches the resource as it is and writes it.
    pub(crate) fn write_now(&self, conn: &mut Conn<'_>) -> Result<Written, Failure> {
        let row = self.locked_row(conn)?;
        let planned = self.plan(conn, &row, None)?;
        self.finish(conn, row, planned)
    }

    pub(crate) fn locked_row(&self, conn: &mut Conn<'_>) -> Result<ResourceRow, Failure> {
        rows::lock_tenant_if_derived(conn, &self.ctx)?;
        let (tenant, resource_type) = (&self.ctx.tenant, &self.resource_type);
        rows::get_locked(conn, tenant, resource_type, &self.id, RowLock::Change)
    }

    /// Writes `planned` over `row`.
    pub(crate) fn finish(
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

/// [`Attempt::Moved`] for a statement PostgreSQL ended to break a deadlock (it
/// changed nothing: try again), else the error.
fn moved_if_deadlocked(error: diesel::result::Error) -> Result<Attempt, Failure> {
    let error = DieselError::Query(error);
    if error.is_deadlock() {
        Ok(Attempt::Moved)
    } else {
        Err(Failure::Db(error))
    }
}

/// `row`, read as `current`, with `request` applied: the body to store, the member
/// change, and a group's members if they had to be read. A group is patched without its
/// members: the patcher reports the member delta, applied to the membership table.
pub(crate) fn patched(
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
            let members: MemberList = member_rows::listed_members(conn, row.pk)?.into();
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
