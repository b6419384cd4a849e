//! Group member lists kept in memory between requests, each under the version of
//! the group it belongs to.
//!
//! Reading a 100-member group's list took a third of the CPU of a group PATCH.
//! Every change to a group's members gives the group a new version in the same
//! transaction (a member change touches the group; a member's removal touches every
//! group it was in, rule 9; team changes too), so one version of a group has one
//! member list for good, whichever process wrote it. A list is looked up with the
//! group's row as the request read it: a later write shows as a later version, and
//! misses. The key also holds the row's id and creation time, because SQLite gives a
//! deleted row's number to the next insert and a derived team keeps its id when it
//! is made again.
//!
//! Only what is committed goes in: lists read on a reader connection outside the
//! writer turn (kept if the group is still at the version read), and the list a
//! PATCH leaves, once its commit succeeded.

use std::sync::Arc;

use quick_cache::sync::Cache;
use quick_cache::Weighter;
use serde_json::Value;

use crate::connection::Conn;
use crate::error::Failure;
use crate::member_rows;
use crate::rows::{self, ResourceRow, GROUP_TYPE, USER_TYPE};

/// How many members the lists kept hold in all (an id and a type each, under
/// 100 bytes: some 10 MB).
const MAX_MEMBERS: u64 = 100_000;

/// A group member as a list keeps it: compact, and shared by the versions of a
/// group that have it (JSON is made for each answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListedMember {
    pub(crate) id: Arc<str>,
    /// [`USER_TYPE`] or [`GROUP_TYPE`] (`group_members.member_type`).
    pub(crate) kind: &'static str,
    /// `group_members.display` (store rule 16).
    pub(crate) display: Option<Arc<str>>,
}

impl ListedMember {
    /// The member of type `kind` (as stored) with `id` and `display`.
    pub(crate) fn new(id: &str, kind: &str, display: Option<&str>) -> ListedMember {
        ListedMember {
            id: Arc::from(id),
            // Only users and groups become members (`member_rows::member_refs`).
            kind: if kind == GROUP_TYPE {
                GROUP_TYPE
            } else {
                USER_TYPE
            },
            display: display.map(Arc::from),
        }
    }

    /// The member as a group's `members` attribute shows it.
    pub(crate) fn object(&self) -> Value {
        member_rows::member_object(
            self.id.to_string(),
            self.kind.to_owned(),
            self.display.as_deref(),
        )
    }
}

/// A group's members in the order they were added.
pub(crate) type MemberList = Arc<[ListedMember]>;

/// Group member lists by group version (see the module documentation).
pub(crate) struct MemberLists {
    lists: Cache<ListKey, MemberList, ByMembers>,
}

impl std::fmt::Debug for MemberLists {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemberLists")
            .field("groups", &self.lists.len())
            .finish()
    }
}

/// One version of one group.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ListKey {
    pk: i64,
    created: i64,
    version: i64,
    id: String,
}

impl ListKey {
    fn of(row: &ResourceRow, version: i64) -> ListKey {
        ListKey {
            pk: row.pk,
            created: row.created,
            version,
            id: row.id.clone(),
        }
    }
}

/// A list weighs its members (and one for itself).
#[derive(Debug, Clone, Copy)]
struct ByMembers;

impl Weighter<ListKey, MemberList> for ByMembers {
    fn weight(&self, _: &ListKey, list: &MemberList) -> u64 {
        list.len() as u64 + 1
    }
}

impl Default for MemberLists {
    fn default() -> Self {
        MemberLists::with_capacity(MAX_MEMBERS)
    }
}

impl MemberLists {
    /// Lists holding up to `members` members in all.
    pub(crate) fn with_capacity(members: u64) -> Self {
        let groups = usize::try_from(members / 100).unwrap_or(1).max(1);
        MemberLists {
            lists: Cache::with_weighter(groups, members, ByMembers),
        }
    }

    /// The members of `row` (a group as just read, on a connection outside the
    /// writer turn), from memory or else from the database.
    pub(crate) fn of(&self, conn: &mut Conn<'_>, row: &ResourceRow) -> Result<MemberList, Failure> {
        let key = ListKey::of(row, row.version);
        if let Some(list) = self.lists.get(&key) {
            return Ok(list);
        }
        let members: MemberList = member_rows::listed_members(conn, row.pk)?.into();
        // Read after the row, so maybe after a write to the group: kept only if
        // the group is still at the version of the row.
        if rows::version(conn, row.pk, &row.id, None)? == Some(row.version) {
            self.lists.insert(key, Arc::clone(&members));
        }
        Ok(members)
    }

    /// How many lists are kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lists.len()
    }

    /// Keeps `members` as the list of `row`'s group at `version`, which a write
    /// just committed over `row`, and lets the list of `row`'s own version go:
    /// only a read that began before the commit could still ask for it. Kept,
    /// such lists filled the cache under a stream of member changes and pushed
    /// out the lists that are current (a third of group PATCHes read theirs).
    pub(crate) fn keep(&self, row: &ResourceRow, version: i64, members: MemberList) {
        self.lists.remove(&ListKey::of(row, row.version));
        self.lists.insert(ListKey::of(row, version), members);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group_at(version: i64) -> ResourceRow {
        ResourceRow {
            pk: 7,
            id: "g".into(),
            resource_type: GROUP_TYPE.into(),
            created: 1,
            last_modified: 1,
            version,
            data: "{}".into(),
        }
    }

    #[test]
    fn a_written_list_replaces_the_one_it_was_written_over() {
        let lists = MemberLists::default();
        let members: MemberList = vec![ListedMember::new("u1", USER_TYPE, None)].into();
        lists.keep(&group_at(1), 2, Arc::clone(&members));
        lists.keep(&group_at(2), 3, Arc::clone(&members));
        lists.keep(&group_at(3), 4, members);
        assert_eq!(lists.len(), 1, "only the current version's list is kept");
        assert!(lists.lists.get(&ListKey::of(&group_at(4), 4)).is_some());
    }
}
