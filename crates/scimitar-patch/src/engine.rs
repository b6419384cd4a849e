//! The operations of RFC 7644 §3.5.2 on a resource held as a JSON object.

use std::collections::HashSet;

use scimitar_filter::ast::{AttrPath, Filter, PatchPath};
use scimitar_filter::parse_path;
use scimitar_schema::messages::{PatchOpKind, PatchOperation};
use scimitar_schema::{urn, Attribute, Mutability, Origin, Policy, ResourceSchemas, Schema};
use serde_json::{Map, Value};

use crate::error::OperationError;
use crate::json::{self, is_assigned};
use crate::report::Member;
use crate::target::{element_matches, equality_terms, member_ids, Target};
use crate::value::{is_primary, same, Checker};

type Result<T> = std::result::Result<T, OperationError>;

/// Applies operations one by one to a working copy of a resource.
pub(crate) struct Engine<'a> {
    pub(crate) schemas: ResourceSchemas<'a>,
    policy: &'a Policy,
    check: Checker<'a>,
    external_members: bool,
    /// Member operations, when members are stored apart from the resource.
    pub(crate) members: MemberDelta,
}

impl<'a> Engine<'a> {
    pub(crate) fn new(
        schemas: ResourceSchemas<'a>,
        policy: &'a Policy,
        external_members: bool,
    ) -> Self {
        let resource_type: &'a scimitar_schema::ResourceType = schemas.resource_type;
        Engine {
            check: Checker {
                policy,
                resource_type: &resource_type.name,
            },
            schemas,
            policy,
            external_members,
            members: MemberDelta::default(),
        }
    }

    /// Applies one operation to `doc`. On error `doc` may be half-changed; the
    /// caller throws it away.
    pub(crate) fn operation(
        &mut self,
        doc: &mut Map<String, Value>,
        operation: &PatchOperation,
    ) -> Result<()> {
        let kind = operation.op;
        let value = || {
            operation
                .value
                .as_ref()
                .ok_or(OperationError::MissingValue { op: kind })
        };
        let path = operation.path.as_deref().map(str::trim).unwrap_or("");
        if path.is_empty() {
            return match kind {
                PatchOpKind::Remove => Err(OperationError::RemoveWithoutPath),
                _ => self.write_attributes(doc, kind, value()?, None),
            };
        }
        // The URN of an extension as a path targets the extension's whole object.
        if let Some(extension) = self.schemas.extension(path) {
            return match kind {
                PatchOpKind::Remove => self.remove_extension(doc, extension),
                _ => self.write_attributes(doc, kind, value()?, Some(extension)),
            };
        }
        let Some(target) = self.path_target(path)? else {
            return Ok(());
        };
        match kind {
            PatchOpKind::Remove => self.remove(doc, &target, operation.value.as_ref()),
            _ => self.write(doc, kind, &target, value()?),
        }
    }

    /// The target of an operation's `path`; `None` for an unknown attribute the
    /// policy ignores.
    fn path_target(&self, text: &str) -> Result<Option<Target<'a>>> {
        let parsed = parse_path(text)?;
        let found = self.resolve(parsed, text);
        if found.is_none() {
            self.check
                .unknown(text.to_string())
                .map_err(|_| OperationError::UnknownPath {
                    path: text.to_string(),
                    resource_type: self.schemas.resource_type.name.clone(),
                })?;
        }
        let Some(target) = found else {
            return Ok(None);
        };
        if target.filter.is_some() && !target.attribute.multi_valued {
            return Err(OperationError::FilterOnSingleValued {
                path: target.attribute_path(),
            });
        }
        Ok(Some(target))
    }

    fn resolve(&self, parsed: PatchPath, text: &str) -> Option<Target<'a>> {
        let (path, filter, sub) = match parsed {
            PatchPath::Attr(AttrPath {
                schema,
                name,
                sub_attr,
            }) => (
                AttrPath {
                    schema,
                    name,
                    sub_attr: None,
                },
                None,
                sub_attr,
            ),
            PatchPath::Value {
                path,
                filter,
                sub_attr,
            } => (path, Some(filter), sub_attr),
        };
        let resolved = self.schemas.resolve(&path)?;
        let sub = match sub {
            Some(name) => Some(resolved.attribute.sub_attribute(&name)?),
            None => None,
        };
        Some(Target {
            attribute: resolved.attribute,
            extension: match resolved.origin {
                Origin::Extension(schema) => Some(schema),
                Origin::Core(_) | Origin::Common => None,
            },
            filter,
            sub,
            text: text.to_string(),
        })
    }

    /// A path-less `add`/`replace` (or one whose path is an extension URN): each
    /// key of the object `value` is an attribute (in `extension` when given).
    fn write_attributes(
        &mut self,
        doc: &mut Map<String, Value>,
        kind: PatchOpKind,
        value: &Value,
        extension: Option<&'a Schema>,
    ) -> Result<()> {
        let Value::Object(attributes) = value else {
            let path = extension.map_or("value", |extension| extension.id.as_str());
            return Err(OperationError::WrongType {
                path: path.into(),
                expected: "an object of attributes",
                found: json::kind(value),
            });
        };
        for (key, item) in attributes {
            if extension.is_none() {
                if key.eq_ignore_ascii_case("schemas") {
                    // `schemas` follows the data; see Engine::finish.
                    continue;
                }
                if let Some(extension) = self.schemas.extension(key) {
                    if self.check.is_clear(item) {
                        self.remove_extension(doc, extension)?;
                    } else {
                        self.write_attributes(doc, kind, item, Some(extension))?;
                    }
                    continue;
                }
            }
            let Some(target) = self.key_target(key, extension)? else {
                continue;
            };
            let read_only = target.attribute.mutability == Mutability::ReadOnly
                || target
                    .sub
                    .is_some_and(|sub| sub.mutability == Mutability::ReadOnly);
            if read_only && self.policy.patch_ignore_read_only_in_value {
                // Okta sends the group's own `id` in a rename; a different id is a
                // client bug worth reporting rather than ignoring.
                let id_changes = target.extension.is_none()
                    && target.attribute.name == "id"
                    && item.is_string()
                    && json::get(doc, "id").is_some_and(|id| id != item);
                if id_changes {
                    return Err(OperationError::ReadOnly { path: "id".into() });
                }
                continue;
            }
            self.write(doc, kind, &target, item)?;
        }
        Ok(())
    }

    /// The target named by a key of a path-less value; `None` for an unknown
    /// attribute the policy ignores.
    fn key_target(&self, key: &str, extension: Option<&'a Schema>) -> Result<Option<Target<'a>>> {
        let plain = !key.contains(['.', ':', '[']);
        let found = match extension {
            Some(extension) => {
                let (name, sub) = match key.split_once('.') {
                    Some((name, sub)) if self.policy.patch_pathless_attribute_paths => {
                        (name, Some(sub))
                    }
                    _ => (key, None),
                };
                extension.attribute(name).and_then(|attribute| {
                    let sub = match sub {
                        Some(sub) => Some(attribute.sub_attribute(sub)?),
                        None => None,
                    };
                    Some(Target {
                        attribute,
                        extension: Some(extension),
                        filter: None,
                        sub,
                        text: key.to_string(),
                    })
                })
            }
            None if plain => self
                .schemas
                .top_level(key)
                .map(|(_, attribute)| Target {
                    attribute,
                    extension: None,
                    filter: None,
                    sub: None,
                    text: key.to_string(),
                })
                .or_else(|| {
                    // An extension attribute named without its URN, as Entra ID's
                    // flat keys sometimes are.
                    let attribute_paths = self.policy.patch_pathless_attribute_paths;
                    attribute_paths
                        .then(|| self.resolve(PatchPath::Attr(AttrPath::new(key)), key))
                        .flatten()
                }),
            // Entra ID (aadOptscim062020) sends `name.givenName` and
            // `urn:...:User:department` as keys: they are paths, never literal keys.
            None if self.policy.patch_pathless_attribute_paths => parse_path(key)
                .ok()
                .and_then(|parsed| self.resolve(parsed, key)),
            None => None,
        };
        match found {
            Some(target) if target.filter.is_some() && !target.attribute.multi_valued => {
                Err(OperationError::FilterOnSingleValued {
                    path: target.attribute_path(),
                })
            }
            Some(target) => Ok(Some(target)),
            None => {
                let path = match extension {
                    Some(extension) => format!("{}:{key}", extension.id),
                    None => key.to_string(),
                };
                self.check.unknown(path)?;
                Ok(None)
            }
        }
    }

    /// `add` or `replace` of `value` at `target`.
    fn write(
        &mut self,
        doc: &mut Map<String, Value>,
        kind: PatchOpKind,
        target: &Target<'a>,
        value: &Value,
    ) -> Result<()> {
        check_writable(target)?;
        if self.is_external_members(target) {
            return self.write_external_members(kind, target, value);
        }
        if self.clears(target, value)? {
            return self.remove_target(doc, target, false);
        }
        let attribute = target.attribute;
        match (attribute.multi_valued, &target.filter, target.sub) {
            (false, _, None) => self.set_single(doc, target, value),
            (false, _, Some(sub)) => {
                let partial = self.sub_partial(target, sub, value)?;
                self.merge_single(doc, target, partial)
            }
            (true, None, None) if kind == PatchOpKind::Add => self.append(doc, target, value),
            (true, None, None) => {
                let path = target.attribute_path();
                let elements = self.check.elements(attribute, value, &path)?;
                let new = (!elements.is_empty()).then_some(Value::Array(elements));
                put(doc, target, new)
            }
            (true, None, Some(sub)) => {
                let partial = self.sub_partial(target, sub, value)?;
                self.write_elements(doc, target, None, Some(partial), value)
            }
            (true, Some(filter), _) => {
                let partial = match target.sub {
                    Some(sub) => Some(self.sub_partial(target, sub, value)?),
                    None if attribute.is_complex() => Some(self.check.partial(
                        attribute,
                        value,
                        &target.attribute_path(),
                    )?),
                    None => None,
                };
                self.write_elements(doc, target, Some(filter), partial, value)
            }
        }
    }

    /// Whether writing `value` to `target` means clearing it: `null`, `""` (by
    /// policy), or an unassigned manager (`{"value": ""}`, by policy).
    fn clears(&self, target: &Target<'_>, value: &Value) -> Result<bool> {
        if value.is_null() && !self.policy.patch_empty_value_clears {
            return Err(OperationError::NullValue {
                path: target.leaf_path(),
            });
        }
        if self.check.is_clear(value) {
            // `""` clears an optional attribute; a required one cannot be blank.
            if value.is_string() && target.sub.is_none() && target.attribute.required {
                return Err(OperationError::Blank {
                    path: target.attribute_path(),
                });
            }
            return Ok(true);
        }
        let manager_unset = self.is_lenient_manager(target)
            && value
                .as_object()
                .and_then(|object| json::get(object, "value"))
                .is_some_and(|id| self.check.is_clear(id) || id.is_null());
        Ok(manager_unset)
    }

    fn is_lenient_manager(&self, target: &Target<'_>) -> bool {
        self.policy.patch_manager_lenient
            && target.sub.is_none()
            && target.attribute.name == "manager"
            && target
                .extension
                .is_some_and(|extension| extension.id.eq_ignore_ascii_case(urn::ENTERPRISE_USER))
    }

    /// `{sub: value}` as a partial object of the target's attribute.
    fn sub_partial(
        &self,
        target: &Target<'_>,
        sub: &Attribute,
        value: &Value,
    ) -> Result<Map<String, Value>> {
        let path = target.leaf_path();
        let checked = if sub.multi_valued {
            Value::Array(self.check.elements(sub, value, &path)?)
        } else {
            self.check.scalar(sub, value, &path)?
        };
        let mut partial = Map::new();
        partial.insert(sub.name.clone(), checked);
        Ok(partial)
    }

    /// A single-valued attribute, whole: a simple value is replaced; a complex one
    /// has the sent sub-attributes merged in (RFC 7644 §3.5.2.1 and §3.5.2.3).
    fn set_single(
        &mut self,
        doc: &mut Map<String, Value>,
        target: &Target<'a>,
        value: &Value,
    ) -> Result<()> {
        let attribute = target.attribute;
        let path = target.attribute_path();
        if !attribute.is_complex() {
            let new = self.check.scalar(attribute, value, &path)?;
            return put(doc, target, Some(new));
        }
        if self.is_lenient_manager(target) {
            // A manager is a reference: a new id replaces the old manager whole, so no
            // stale displayName or $ref survives. Entra ID sends the bare id.
            let whole = match value {
                Value::String(id) => Some(Value::Object(Map::from_iter([(
                    "value".to_string(),
                    Value::String(id.clone()),
                )]))),
                Value::Object(object) if json::get(object, "value").is_some() => {
                    Some(value.clone())
                }
                _ => None,
            };
            if let Some(whole) = whole {
                let new = self.check.whole(attribute, &whole, &path)?;
                return put(doc, target, new);
            }
        }
        let partial = self.check.partial(attribute, value, &path)?;
        self.merge_single(doc, target, partial)
    }

    /// Merges `partial` into a single-valued complex attribute.
    fn merge_single(
        &mut self,
        doc: &mut Map<String, Value>,
        target: &Target<'a>,
        partial: Map<String, Value>,
    ) -> Result<()> {
        let attribute = target.attribute;
        let path = target.attribute_path();
        let old =
            container(doc, target.extension).and_then(|object| json::get(object, &attribute.name));
        let mut object = old.and_then(Value::as_object).cloned().unwrap_or_default();
        merge(&mut object, partial, attribute, &path)?;
        let new = (!object.is_empty()).then_some(Value::Object(object));
        put(doc, target, new)
    }

    /// `add` to a multi-valued attribute without a filter: appends the values not
    /// already there.
    fn append(
        &mut self,
        doc: &mut Map<String, Value>,
        target: &Target<'a>,
        value: &Value,
    ) -> Result<()> {
        let attribute = target.attribute;
        let path = target.attribute_path();
        let incoming = self.check.elements(attribute, value, &path)?;
        let mut elements = existing_elements(doc, target);
        let first_new = elements.len();
        let by_id = identified_by_value(attribute);
        let mut ids: HashSet<String> = if by_id {
            elements.iter().filter_map(element_id).collect()
        } else {
            HashSet::new()
        };
        for element in incoming {
            let duplicate = if by_id {
                element_id(&element).is_some_and(|id| !ids.insert(id))
            } else {
                elements
                    .iter()
                    .any(|existing| same(attribute, existing, &element))
            };
            if !duplicate {
                elements.push(element);
            }
        }
        let touched: Vec<usize> = (first_new..elements.len()).collect();
        settle_primary(&mut elements, &touched, &path)?;
        let new = (!elements.is_empty()).then_some(Value::Array(elements));
        put(doc, target, new)
    }

    /// Writes to the elements of a multi-valued attribute selected by `filter` (all
    /// of them without one): complex elements get `partial` merged in, simple ones
    /// are replaced by `value`. With a filter that selects nothing, the element is
    /// created from the filter when the policy says so, else the operation fails with
    /// `noTarget` (RFC 7644 §3.5.2.3).
    fn write_elements(
        &mut self,
        doc: &mut Map<String, Value>,
        target: &Target<'a>,
        filter: Option<&Filter>,
        partial: Option<Map<String, Value>>,
        value: &Value,
    ) -> Result<()> {
        let attribute = target.attribute;
        let path = target.attribute_path();
        let mut elements = existing_elements(doc, target);
        let mut touched: Vec<usize> = match filter {
            Some(filter) => (0..elements.len())
                .filter(|&index| {
                    elements
                        .get(index)
                        .is_some_and(|element| element_matches(attribute, filter, element))
                })
                .collect(),
            None => (0..elements.len()).collect(),
        };
        if touched.is_empty() {
            let seed = match filter {
                Some(filter) if self.policy.patch_create_unmatched_filtered_target => {
                    self.seed_from_filter(target, filter)?
                }
                // `emails.value` on a user without emails: the first email.
                None => Some(Map::new()),
                Some(_) => None,
            };
            let (Some(seed), Some(_)) = (seed, &partial) else {
                return Err(OperationError::NoMatch { path });
            };
            elements.push(Value::Object(seed));
            touched.push(elements.len() - 1);
        }
        for &index in &touched {
            let Some(element) = elements.get_mut(index) else {
                continue;
            };
            match (&partial, element) {
                (Some(partial), Value::Object(object)) => {
                    merge(object, partial.clone(), attribute, &path)?;
                }
                (Some(partial), element) => {
                    // A malformed stored element: replace it by what was sent.
                    let mut object = Map::new();
                    merge(&mut object, partial.clone(), attribute, &path)?;
                    *element = Value::Object(object);
                }
                (None, element) => {
                    *element = self.check.scalar(attribute, value, &path)?;
                }
            }
        }
        settle_primary(&mut elements, &touched, &path)?;
        elements.retain(is_assigned);
        let new = (!elements.is_empty()).then_some(Value::Array(elements));
        put(doc, target, new)
    }

    /// A new element made of the `name eq value` terms of `filter`, checked against
    /// the schema; `None` when the filter is not such terms joined with `and`.
    fn seed_from_filter(
        &self,
        target: &Target<'_>,
        filter: &Filter,
    ) -> Result<Option<Map<String, Value>>> {
        let attribute = target.attribute;
        if !attribute.is_complex() {
            return Ok(None);
        }
        let Some(terms) = equality_terms(filter) else {
            return Ok(None);
        };
        let mut seed = Map::new();
        for (name, value) in terms {
            let Some(sub) = attribute.sub_attribute(name) else {
                return Ok(None);
            };
            let path = format!("{}.{}", target.attribute_path(), sub.name);
            seed.insert(sub.name.clone(), self.check.scalar(sub, &value, &path)?);
        }
        Ok(Some(seed))
    }

    /// `remove` at `target`; `value` is the operation's value, if any.
    fn remove(
        &mut self,
        doc: &mut Map<String, Value>,
        target: &Target<'a>,
        value: Option<&Value>,
    ) -> Result<()> {
        check_writable(target)?;
        let listed = value.filter(|value| is_assigned(value));
        if self.is_external_members(target) {
            return self.remove_external_members(target, listed);
        }
        match listed {
            Some(values)
                if target.attribute.multi_valued
                    && target.filter.is_none()
                    && target.sub.is_none() =>
            {
                self.remove_values(doc, target, values)
            }
            _ => self.remove_target(doc, target, true),
        }
    }

    /// Removes what `target` designates. With a filter that selects nothing this is
    /// `noTarget` when `must_match` (RFC 7644 §3.12: "the specified path value
    /// contains a filter that yields no match"), else nothing happens.
    fn remove_target(
        &mut self,
        doc: &mut Map<String, Value>,
        target: &Target<'a>,
        must_match: bool,
    ) -> Result<()> {
        let attribute = target.attribute;
        let path = target.attribute_path();
        let (filter, sub) = (target.filter.as_ref(), target.sub);
        if !attribute.multi_valued {
            return match sub {
                None => put(doc, target, None),
                Some(sub) => self.merge_single(doc, target, clearing(sub)),
            };
        }
        if filter.is_none() && sub.is_none() {
            return put(doc, target, None);
        }
        let mut elements = existing_elements(doc, target);
        let selected: Vec<bool> = elements
            .iter()
            .map(|element| filter.is_none_or(|filter| element_matches(attribute, filter, element)))
            .collect();
        if filter.is_some() && !selected.contains(&true) {
            return if must_match {
                Err(OperationError::NoMatch { path })
            } else {
                Ok(())
            };
        }
        match sub {
            None => {
                let mut keep = selected.iter().map(|selected| !selected);
                elements.retain(|_| keep.next().unwrap_or(true));
            }
            Some(sub) => {
                for (element, _) in elements.iter_mut().zip(&selected).filter(|(_, s)| **s) {
                    if let Value::Object(object) = element {
                        merge(object, clearing(sub), attribute, &path)?;
                    }
                }
                elements.retain(is_assigned);
            }
        }
        let new = (!elements.is_empty()).then_some(Value::Array(elements));
        put(doc, target, new)
    }

    /// `remove` with a value list: removes only the listed values (Entra ID's
    /// members removal; RFC 7644 defines no value for `remove`).
    fn remove_values(
        &mut self,
        doc: &mut Map<String, Value>,
        target: &Target<'a>,
        values: &Value,
    ) -> Result<()> {
        let attribute = target.attribute;
        let path = target.attribute_path();
        if !self.policy.patch_members_remove_value_list {
            return Err(OperationError::RemoveValueList { path });
        }
        let listed = self.check.elements(attribute, values, &path)?;
        let mut elements = existing_elements(doc, target);
        if identified_by_value(attribute) {
            let ids: HashSet<String> = listed.iter().filter_map(element_id).collect();
            elements.retain(|element| element_id(element).is_none_or(|id| !ids.contains(&id)));
        } else {
            elements.retain(|element| {
                !listed
                    .iter()
                    .any(|listed| contains_all(attribute, element, listed))
            });
        }
        let new = (!elements.is_empty()).then_some(Value::Array(elements));
        put(doc, target, new)
    }

    /// Removes an extension's whole object.
    fn remove_extension(&mut self, doc: &mut Map<String, Value>, extension: &Schema) -> Result<()> {
        let Some(data) = json::get(doc, &extension.id).and_then(Value::as_object) else {
            return Ok(());
        };
        let required = self
            .schemas
            .extensions
            .iter()
            .any(|(listed, required)| *required && listed.id == extension.id);
        if required && data.values().any(is_assigned) {
            return Err(OperationError::Required {
                path: extension.id.clone(),
            });
        }
        for attribute in &extension.attributes {
            if json::get(data, &attribute.name).is_none_or(|value| !is_assigned(value)) {
                continue;
            }
            let path = format!("{}:{}", extension.id, attribute.name);
            match attribute.mutability {
                Mutability::ReadOnly => return Err(OperationError::ReadOnly { path }),
                Mutability::Immutable => return Err(OperationError::Immutable { path }),
                _ if attribute.required => return Err(OperationError::Required { path }),
                _ => {}
            }
        }
        json::remove(doc, &extension.id);
        Ok(())
    }

    fn is_external_members(&self, target: &Target<'_>) -> bool {
        self.external_members
            && target.extension.is_none()
            && target.attribute.multi_valued
            && target.attribute.name.eq_ignore_ascii_case("members")
    }

    fn write_external_members(
        &mut self,
        kind: PatchOpKind,
        target: &Target<'_>,
        value: &Value,
    ) -> Result<()> {
        if target.filter.is_some() || target.sub.is_some() {
            return Err(OperationError::MembersNeedList {
                path: target.text.clone(),
            });
        }
        if self.clears(target, value)? {
            if kind == PatchOpKind::Replace {
                self.members.remove_all();
            }
            return Ok(());
        }
        let members = self.members_of(target, value)?;
        if kind == PatchOpKind::Replace {
            self.members.remove_all();
        }
        for member in members {
            self.members.add(member);
        }
        Ok(())
    }

    fn remove_external_members(
        &mut self,
        target: &Target<'_>,
        listed: Option<&Value>,
    ) -> Result<()> {
        let needs_list = || OperationError::MembersNeedList {
            path: target.text.clone(),
        };
        if target.sub.is_some() {
            return Err(needs_list());
        }
        match (&target.filter, listed) {
            (Some(filter), _) => {
                let ids = member_ids(filter).ok_or_else(needs_list)?;
                for id in ids {
                    self.members.remove(id);
                }
            }
            (None, Some(values)) => {
                if !self.policy.patch_members_remove_value_list {
                    return Err(OperationError::RemoveValueList {
                        path: target.attribute_path(),
                    });
                }
                for member in self.members_of(target, values)? {
                    self.members.remove(&member.value);
                }
            }
            (None, None) => self.members.remove_all(),
        }
        Ok(())
    }

    fn members_of(&self, target: &Target<'_>, value: &Value) -> Result<Vec<Member>> {
        let elements = self
            .check
            .elements(target.attribute, value, &target.attribute_path())?;
        elements
            .iter()
            .map(|element| Member::from_element(element).ok_or(OperationError::MemberWithoutValue))
            .collect()
    }

    /// Keeps `schemas` in step with the extension data: an extension that gained data
    /// is listed, one whose data this PATCH removed entirely is unlisted, and empty
    /// extension objects are dropped.
    pub(crate) fn finish(&self, doc: &mut Map<String, Value>, original: &Map<String, Value>) {
        for (extension, _) in &self.schemas.extensions {
            let before = json::get(original, &extension.id);
            let after = json::get(doc, &extension.id);
            if before == after {
                continue;
            }
            let has_data = |value: Option<&Value>| value.is_some_and(is_assigned);
            if has_data(after) {
                list_schema(doc, &self.schemas.core.id, &extension.id);
            } else {
                json::remove(doc, &extension.id);
                if has_data(before) {
                    unlist_schema(doc, &extension.id);
                }
            }
        }
    }
}

/// Refuses writes to read-only attributes and sub-attributes.
fn check_writable(target: &Target<'_>) -> Result<()> {
    if target.attribute.mutability == Mutability::ReadOnly {
        return Err(OperationError::ReadOnly {
            path: target.attribute_path(),
        });
    }
    if target
        .sub
        .is_some_and(|sub| sub.mutability == Mutability::ReadOnly)
    {
        return Err(OperationError::ReadOnly {
            path: target.leaf_path(),
        });
    }
    Ok(())
}

/// The object holding the target's attribute: the resource, or its extension
/// object.
fn container<'d>(
    doc: &'d Map<String, Value>,
    extension: Option<&Schema>,
) -> Option<&'d Map<String, Value>> {
    match extension {
        None => Some(doc),
        Some(extension) => json::get(doc, &extension.id).and_then(Value::as_object),
    }
}

/// The elements of the target's multi-valued attribute, copied.
fn existing_elements(doc: &Map<String, Value>, target: &Target<'_>) -> Vec<Value> {
    match container(doc, target.extension)
        .and_then(|object| json::get(object, &target.attribute.name))
    {
        Some(Value::Array(items)) => items.clone(),
        Some(Value::Null) | None => Vec::new(),
        Some(single) => vec![single.clone()],
    }
}

/// Stores `new` as the whole value of the target's attribute (`None` unassigns
/// it), enforcing `immutable` and `required`.
fn put(doc: &mut Map<String, Value>, target: &Target<'_>, new: Option<Value>) -> Result<()> {
    let attribute = target.attribute;
    let old = container(doc, target.extension)
        .and_then(|object| json::get(object, &attribute.name))
        .filter(|old| is_assigned(old));
    match (old, &new) {
        (None, None) => return Ok(()),
        (Some(old), Some(new)) if old == new => return Ok(()),
        (Some(old), Some(new))
            if attribute.mutability == Mutability::Immutable && same(attribute, old, new) =>
        {
            return Ok(());
        }
        (Some(_), _) if attribute.mutability == Mutability::Immutable => {
            return Err(OperationError::Immutable {
                path: target.attribute_path(),
            });
        }
        (Some(_), None) if attribute.required => {
            return Err(OperationError::Required {
                path: target.attribute_path(),
            });
        }
        (_, Some(Value::String(text))) if attribute.required && text.trim().is_empty() => {
            return Err(OperationError::Blank {
                path: target.attribute_path(),
            });
        }
        _ => {}
    }
    let object = match target.extension {
        None => doc,
        Some(extension) => {
            let key = json::find_key(doc, &extension.id)
                .unwrap_or(&extension.id)
                .to_string();
            let slot = doc.entry(key).or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            match slot {
                Value::Object(object) => object,
                _ => return Ok(()),
            }
        }
    };
    match new {
        Some(new) => json::set(object, &attribute.name, new),
        None => {
            json::remove(object, &attribute.name);
        }
    }
    Ok(())
}

/// Merges a partial object into `object` (an element or a single complex value):
/// sent sub-attributes replace or add, `null` ones are cleared, others are left
/// alone. Immutable sub-attributes may be set but not changed; required ones not
/// cleared.
fn merge(
    object: &mut Map<String, Value>,
    partial: Map<String, Value>,
    attribute: &Attribute,
    path: &str,
) -> Result<()> {
    for (name, new) in partial {
        let sub = attribute.sub_attribute(&name);
        let old = json::get(object, &name).filter(|old| is_assigned(old));
        let sub_path = || format!("{path}.{name}");
        if let (Some(sub), Some(old)) = (sub, old) {
            let unchanged = !new.is_null() && same(sub, old, &new);
            if sub.mutability == Mutability::Immutable && !unchanged {
                return Err(OperationError::Immutable { path: sub_path() });
            }
            if sub.required && new.is_null() {
                return Err(OperationError::Required { path: sub_path() });
            }
            if sub.mutability == Mutability::Immutable {
                continue;
            }
        }
        if new.is_null() {
            json::remove(object, &name);
        } else {
            json::set(object, &name, new);
        }
    }
    Ok(())
}

/// A partial object that clears `sub`.
fn clearing(sub: &Attribute) -> Map<String, Value> {
    Map::from_iter([(sub.name.clone(), Value::Null)])
}

/// After elements `touched` were written: at most one of them may be primary, and
/// if one is, every other element stops being primary (RFC 7644 §3.5.2).
fn settle_primary(elements: &mut [Value], touched: &[usize], path: &str) -> Result<()> {
    let primaries: Vec<usize> = touched
        .iter()
        .copied()
        .filter(|&index| elements.get(index).is_some_and(is_primary))
        .collect();
    match primaries.as_slice() {
        [] => Ok(()),
        [primary] => {
            for (index, element) in elements.iter_mut().enumerate() {
                if index != *primary && is_primary(element) {
                    if let Some(flag) = element
                        .as_object_mut()
                        .and_then(|o| json::get_mut(o, "primary"))
                    {
                        *flag = Value::Bool(false);
                    }
                }
            }
            Ok(())
        }
        _ => Err(OperationError::MultiplePrimary { path: path.into() }),
    }
}

/// Whether elements of `attribute` are references identified by their `value`
/// alone (`members`, `groups`: anything with a `$ref` sub-attribute), so that a
/// member sent again with another `display` is still the same member.
fn identified_by_value(attribute: &Attribute) -> bool {
    attribute.sub_attribute("$ref").is_some() && attribute.sub_attribute("value").is_some()
}

fn element_id(element: &Value) -> Option<String> {
    element
        .as_object()
        .and_then(|object| json::get(object, "value"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Whether `element` has every sub-attribute `listed` has, with the same value (a
/// listed `{"value": "x"}` designates the element whose value is x).
fn contains_all(attribute: &Attribute, element: &Value, listed: &Value) -> bool {
    match (element, listed) {
        (Value::Object(element), Value::Object(listed)) => listed.iter().all(|(name, value)| {
            json::get(element, name).is_some_and(|found| match attribute.sub_attribute(name) {
                Some(sub) => same(sub, found, value),
                None => found == value,
            })
        }),
        _ => same(attribute, element, listed),
    }
}

fn list_schema(doc: &mut Map<String, Value>, core: &str, urn: &str) {
    let schemas = doc
        .entry("schemas")
        .or_insert_with(|| Value::Array(vec![Value::String(core.to_string())]));
    if let Value::Array(items) = schemas {
        let listed = items
            .iter()
            .filter_map(Value::as_str)
            .any(|item| item.eq_ignore_ascii_case(urn));
        if !listed {
            items.push(Value::String(urn.to_string()));
        }
    }
}

fn unlist_schema(doc: &mut Map<String, Value>, urn: &str) {
    if let Some(Value::Array(items)) = doc.get_mut("schemas") {
        items.retain(|item| {
            !item
                .as_str()
                .is_some_and(|item| item.eq_ignore_ascii_case(urn))
        });
    }
}

/// Member operations collected when members are stored apart from the resource.
#[derive(Debug, Default)]
pub(crate) struct MemberDelta {
    pub(crate) replaced: bool,
    pub(crate) added: Vec<Member>,
    pub(crate) removed: Vec<String>,
}

impl MemberDelta {
    fn add(&mut self, member: Member) {
        self.removed.retain(|id| *id != member.value);
        if !self.added.iter().any(|added| added.value == member.value) {
            self.added.push(member);
        }
    }

    fn remove(&mut self, id: &str) {
        self.added.retain(|added| added.value != id);
        // After a replace the new list is complete; removals need no record.
        if !self.replaced && !self.removed.iter().any(|removed| removed == id) {
            self.removed.push(id.to_string());
        }
    }

    fn remove_all(&mut self) {
        self.replaced = true;
        self.added.clear();
        self.removed.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_delta_nets_out() {
        let mut delta = MemberDelta::default();
        delta.add(Member::new("a"));
        delta.add(Member::new("a"));
        delta.remove("b");
        delta.add(Member::new("b"));
        delta.remove("c");
        delta.remove("c");
        assert_eq!(delta.added, [Member::new("a"), Member::new("b")]);
        assert_eq!(delta.removed, ["c"]);
        delta.remove("a");
        assert_eq!(delta.removed, ["c", "a"]);
        delta.remove_all();
        delta.add(Member::new("d"));
        delta.remove("e");
        assert!(delta.replaced);
        assert_eq!(delta.added, [Member::new("d")]);
        assert!(delta.removed.is_empty());
    }
}
