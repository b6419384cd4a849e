//! A group's member ids and their `display`: insertion-ordered, with constant-time
//! membership tests, so changing one member of a 100,000-member group costs what
//! changing one row does.

use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Default)]
pub(super) struct MemberList {
    last: u64,
    /// Member ids by the position they were added at.
    ordered: BTreeMap<u64, String>,
    /// Member id → its position, `display`, and whether that was sent.
    positions: HashMap<String, (u64, String, bool)>,
}

impl MemberList {
    pub(super) fn contains(&self, id: &str) -> bool {
        self.positions.contains_key(id)
    }

    /// Adds `id` at the end with its `display` (`sent` by the client, or its own
    /// name); false if it was already a member (its `display` stays: it is
    /// immutable).
    pub(super) fn insert(&mut self, id: &str, display: &str, sent: bool) -> bool {
        if self.contains(id) {
            return false;
        }
        self.last += 1;
        self.ordered.insert(self.last, id.to_owned());
        self.positions
            .insert(id.to_owned(), (self.last, display.to_owned(), sent));
        true
    }

    /// The `display` kept for member `id`.
    pub(super) fn display(&self, id: &str) -> Option<&str> {
        self.positions
            .get(id)
            .map(|(_, display, _)| display.as_str())
    }

    /// Member `id` is now called `name`: its `display` follows unless one was
    /// sent. Whether it changed.
    pub(super) fn rename(&mut self, id: &str, name: &str) -> bool {
        match self.positions.get_mut(id) {
            Some((_, display, false)) if display != name => {
                name.clone_into(display);
                true
            }
            _ => false,
        }
    }

    /// Removes `id`; false if it was not a member.
    pub(super) fn remove(&mut self, id: &str) -> bool {
        match self.positions.remove(id) {
            Some((position, _, _)) => {
                self.ordered.remove(&position);
                true
            }
            None => false,
        }
    }

    /// Whether the group has no members.
    pub(super) fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// The member ids in the order they were added.
    pub(super) fn iter(&self) -> impl Iterator<Item = &String> {
        self.ordered.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_insertion_order_and_ignores_repeats() {
        let mut list = MemberList::default();
        assert!(list.insert("b", "B", false) && list.insert("a", "A", true));
        assert!(list.insert("c", "C", false));
        assert!(!list.insert("a", "other", false));
        assert_eq!(list.display("a"), Some("A"));
        assert!(!list.rename("a", "Renamed"), "a sent display stays");
        assert!(list.rename("b", "B2") && !list.rename("b", "B2"));
        assert_eq!(list.display("b"), Some("B2"));
        assert!(list.remove("a") && !list.remove("a"));
        assert!(list.insert("a", "A2", false));
        assert_eq!(list.display("a"), Some("A2"));
        assert_eq!(list.iter().collect::<Vec<_>>(), ["b", "c", "a"]);
        assert!(list.contains("c") && !list.contains("z"));
    }
}
