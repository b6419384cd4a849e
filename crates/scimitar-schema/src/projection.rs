//! Output shaping: `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9)
//! with each attribute's `returned` characteristic (RFC 7643 §2.4).

use scimitar_filter::ast::AttrPath;
use scimitar_filter::ParseError;
use serde_json::{Map, Value};

use crate::model::{Attribute, Returned};
use crate::registry::{Registry, ResourceSchemas};

/// Which attributes a response should carry, from the `attributes` and
/// `excludedAttributes` query parameters (or a search request's fields).
///
/// Whatever they say, `returned: always` attributes (`id`, `schemas`,
/// `meta.resourceType`) are kept and `returned: never` ones (`password`) are
/// dropped. A path names an attribute (`emails`), a sub-attribute
/// (`name.givenName`), a URN-qualified attribute
/// (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`) or a
/// whole extension (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Projection {
    /// When not empty, only these attributes (and `returned: always` ones).
    pub attributes: Vec<AttrPath>,
    /// Attributes to leave out (`returned: always` ones cannot be).
    pub excluded_attributes: Vec<AttrPath>,
}

impl Projection {
    /// Parses the comma-separated `attributes` and `excludedAttributes` query
    /// parameters; a missing or blank parameter means no constraint.
    ///
    /// # Errors
    /// A [`ParseError`] for an ill-formed attribute list (answer it with a 400).
    pub fn parse(
        attributes: Option<&str>,
        excluded_attributes: Option<&str>,
    ) -> Result<Self, ParseError> {
        let list = |text: Option<&str>| match text.map(str::trim) {
            None | Some("") => Ok(Vec::new()),
            Some(text) => scimitar_filter::parse_attr_list(text),
        };
        Ok(Projection {
            attributes: list(attributes)?,
            excluded_attributes: list(excluded_attributes)?,
        })
    }

    /// Whether this projection leaves the default attribute set unchanged.
    pub fn is_default(&self) -> bool {
        self.attributes.is_empty() && self.excluded_attributes.is_empty()
    }

    /// Whether any part of the attribute at `path` would appear in a response of
    /// `resource_type` under this projection, so a store can skip loading what is
    /// not needed (e.g. `members` under `excludedAttributes=members`). Answers
    /// `true` when unsure (unknown resource type).
    pub fn needs_attribute(
        &self,
        registry: &Registry,
        resource_type: &str,
        path: &AttrPath,
    ) -> bool {
        let Some(schemas) = registry.schemas_of(resource_type) else {
            return true;
        };
        let shaper = Shaper::new(&schemas, self);
        match schemas.resolve(path) {
            Some(resolved) => {
                let container = resolved.extension_urn().map(str::to_ascii_lowercase);
                let target = Target::of(container.as_deref(), resolved.attribute);
                match resolved.sub_attribute {
                    Some(sub) => shaper.includes(&target, Some(Target::sub(sub))),
                    None => shaper.needs(&target, resolved.attribute),
                }
            }
            None => match whole_extension(&schemas, path) {
                Some(extension) => {
                    let container = extension.id.to_ascii_lowercase();
                    extension.attributes.iter().any(|attribute| {
                        shaper.needs(&Target::of(Some(&container), attribute), attribute)
                    })
                }
                None => {
                    let unknown = Attribute::new(&path.name, crate::AttributeType::String);
                    shaper.includes(&Target::of(None, &unknown), None)
                }
            },
        }
    }
}

impl Registry {
    /// Shapes `resource` (a stored resource of `resource_type`) for a response:
    /// applies `projection` and every attribute's `returned` characteristic.
    /// Attributes no schema defines are treated as `returned: default`. A
    /// resource of an unknown type, or one that is not an object, comes back
    /// unchanged.
    pub fn project(&self, resource_type: &str, resource: &Value, projection: &Projection) -> Value {
        if projection.is_default() {
            return self.project_owned(resource_type, resource.clone(), projection);
        }
        let (Some(schemas), Some(object)) = (self.schemas_of(resource_type), resource.as_object())
        else {
            return resource.clone();
        };
        let shaper = Shaper::new(&schemas, projection);
        let mut out = Map::new();
        for (key, value) in object {
            if key.eq_ignore_ascii_case("schemas") {
                out.insert(key.clone(), value.clone());
            } else if let Some(extension) = schemas.extension(key) {
                let container = extension.id.to_ascii_lowercase();
                let Some(data) = value.as_object() else {
                    continue;
                };
                let mut kept = Map::new();
                for (name, value) in data {
                    if let Some(value) =
                        shaper.attribute(Some(&container), name, extension.attribute(name), value)
                    {
                        kept.insert(name.clone(), value);
                    }
                }
                if !kept.is_empty() {
                    out.insert(key.clone(), Value::Object(kept));
                }
            } else {
                let attribute = schemas.top_level(key).map(|(_, attribute)| attribute);
                if let Some(value) = shaper.attribute(None, key, attribute, value) {
                    out.insert(key.clone(), value);
                }
            }
        }
        Value::Object(out)
    }

    /// [`Registry::project`] of a resource the caller owns: under the default
    /// projection (the common case: no `attributes`, no `excludedAttributes`) only
    /// what must not be returned (`returned: never` or `request`) is removed, in
    /// place, instead of rebuilding the resource.
    pub fn project_owned(
        &self,
        resource_type: &str,
        mut resource: Value,
        projection: &Projection,
    ) -> Value {
        if !projection.is_default() {
            return self.project(resource_type, &resource, projection);
        }
        if let (Some(schemas), Some(object)) =
            (self.schemas_of(resource_type), resource.as_object_mut())
        {
            strip_default(&schemas, object);
        }
        resource
    }
}

/// The default projection in place; the same rules as [`Shaper`] with nothing
/// listed or excluded (`retain` keeps the order of the keys).
fn strip_default(schemas: &ResourceSchemas<'_>, object: &mut Map<String, Value>) {
    object.retain(|key, value| {
        if key.eq_ignore_ascii_case("schemas") {
            return true;
        }
        if let Some(extension) = schemas.extension(key) {
            let Some(data) = value.as_object_mut() else {
                return false;
            };
            data.retain(|name, value| strip_attribute(extension.attribute(name), value));
            return !data.is_empty();
        }
        let attribute = schemas.top_level(key).map(|(_, attribute)| attribute);
        strip_attribute(attribute, value)
    });
}

/// Whether `value` (of `attribute`, `None` when no schema defines it) stays under
/// the default projection, after removing the sub-attributes that do not.
fn strip_attribute(attribute: Option<&Attribute>, value: &mut Value) -> bool {
    let returned = attribute.map_or(Returned::Default, |attribute| attribute.returned);
    let strip_object = |object: &mut Map<String, Value>| {
        object.retain(|name, _| {
            let sub = attribute
                .and_then(|attribute| attribute.sub_attribute(name))
                .map_or(Returned::Default, |sub| sub.returned);
            returned_by_default(returned, Some(sub))
        });
        !object.is_empty()
    };
    match value {
        Value::Object(object) => strip_object(object),
        Value::Array(items) if items.iter().any(Value::is_object) => {
            items.retain_mut(|item| match item {
                Value::Object(object) => strip_object(object),
                _ => returned_by_default(returned, None),
            });
            !items.is_empty()
        }
        _ => returned_by_default(returned, None),
    }
}

/// [`Shaper::includes`] for the default projection.
fn returned_by_default(returned: Returned, sub: Option<Returned>) -> bool {
    let any = |wanted: Returned| returned == wanted || sub == Some(wanted);
    !any(Returned::Never) && (any(Returned::Always) || !any(Returned::Request))
}

/// An extension named as a whole: the parser splits its URN at the last colon,
/// so `urn:...:2.0:User` arrives as schema `urn:...:2.0`, name `User`.
fn whole_extension<'a>(
    schemas: &ResourceSchemas<'a>,
    path: &AttrPath,
) -> Option<&'a crate::model::Schema> {
    if path.sub_attr.is_some() {
        return None;
    }
    match &path.schema {
        Some(schema) => schemas.extension(&format!("{schema}:{}", path.name)),
        None => schemas.extension(&path.name),
    }
}

/// An attribute or sub-attribute name in lower case, in a container (`None` for
/// top-level keys, the lower-case extension URN for extension attributes).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    container: Option<String>,
    name: String,
    returned: Returned,
}

impl Target {
    fn of(container: Option<&str>, attribute: &Attribute) -> Self {
        Target {
            container: container.map(str::to_string),
            name: attribute.name.to_ascii_lowercase(),
            returned: attribute.returned,
        }
    }

    fn sub(sub: &Attribute) -> SubTarget {
        SubTarget {
            name: sub.name.to_ascii_lowercase(),
            returned: sub.returned,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct SubTarget {
    name: String,
    returned: Returned,
}

/// A projection path compiled against a resource type.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Named {
    Attribute {
        container: Option<String>,
        name: String,
        sub: Option<String>,
    },
    Extension(String),
}

struct Shaper {
    listed: bool,
    requested: Vec<Named>,
    excluded: Vec<Named>,
}

impl Shaper {
    fn new(schemas: &ResourceSchemas<'_>, projection: &Projection) -> Self {
        let compile =
            |paths: &[AttrPath]| paths.iter().map(|path| compile(schemas, path)).collect();
        Shaper {
            listed: !projection.attributes.is_empty(),
            requested: compile(&projection.attributes),
            excluded: compile(&projection.excluded_attributes),
        }
    }

    /// Whether `list` names the attribute as a whole (or its whole extension).
    fn names_whole(list: &[Named], target: &Target) -> bool {
        list.iter().any(|named| match named {
            Named::Attribute {
                container,
                name,
                sub: None,
            } => *container == target.container && *name == target.name,
            Named::Extension(urn) => target.container.as_deref() == Some(urn.as_str()),
            Named::Attribute { sub: Some(_), .. } => false,
        })
    }

    fn names_sub(list: &[Named], target: &Target, sub_name: &str) -> bool {
        list.iter().any(|named| {
            matches!(named, Named::Attribute { container, name, sub: Some(sub) }
                if *container == target.container && *name == target.name && sub == sub_name)
        })
    }

    fn names_any_sub(list: &[Named], target: &Target) -> bool {
        list.iter().any(|named| {
            matches!(named, Named::Attribute { container, name, sub: Some(_) }
                if *container == target.container && *name == target.name)
        })
    }

    /// The rule for one leaf: an attribute, or one sub-attribute of it.
    fn includes(&self, target: &Target, sub: Option<SubTarget>) -> bool {
        let sub_returned = sub.as_ref().map(|sub| sub.returned);
        let returned = [Some(target.returned), sub_returned];
        if returned.contains(&Some(Returned::Never)) {
            return false;
        }
        if returned.contains(&Some(Returned::Always)) {
            return true;
        }
        let names_sub = |list: &[Named]| {
            sub.as_ref()
                .is_some_and(|sub| Self::names_sub(list, target, &sub.name))
        };
        let requested = Self::names_whole(&self.requested, target) || names_sub(&self.requested);
        if self.listed && !requested {
            return false;
        }
        if !requested && returned.contains(&Some(Returned::Request)) {
            return false;
        }
        !(Self::names_whole(&self.excluded, target) || names_sub(&self.excluded))
    }

    /// Whether anything of `attribute` would be returned.
    fn needs(&self, target: &Target, attribute: &Attribute) -> bool {
        if attribute.sub_attributes.is_empty() {
            return self.includes(target, None)
                || (self.listed && Self::names_any_sub(&self.requested, target));
        }
        attribute
            .sub_attributes
            .iter()
            .any(|sub| self.includes(target, Some(Target::sub(sub))))
    }

    /// The projected value of one attribute, or `None` to leave it out.
    fn attribute(
        &self,
        container: Option<&str>,
        key: &str,
        attribute: Option<&Attribute>,
        value: &Value,
    ) -> Option<Value> {
        let target = match attribute {
            Some(attribute) => Target::of(container, attribute),
            None => Target {
                container: container.map(str::to_string),
                name: key.to_ascii_lowercase(),
                returned: Returned::Default,
            },
        };
        let sub_target = |name: &str| SubTarget {
            name: name.to_ascii_lowercase(),
            returned: attribute
                .and_then(|attribute| attribute.sub_attribute(name))
                .map_or(Returned::Default, |sub| sub.returned),
        };
        let project_object = |object: &Map<String, Value>| {
            let kept: Map<String, Value> = object
                .iter()
                .filter(|(name, _)| self.includes(&target, Some(sub_target(name))))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect();
            (!kept.is_empty()).then_some(Value::Object(kept))
        };
        match value {
            Value::Object(object) => project_object(object),
            Value::Array(items) if items.iter().any(Value::is_object) => {
                let kept: Vec<Value> = items
                    .iter()
                    .filter_map(|item| match item {
                        Value::Object(object) => project_object(object),
                        other => self.includes(&target, None).then(|| other.clone()),
                    })
                    .collect();
                (!kept.is_empty()).then_some(Value::Array(kept))
            }
            other => self.includes(&target, None).then(|| other.clone()),
        }
    }
}

fn compile(schemas: &ResourceSchemas<'_>, path: &AttrPath) -> Named {
    if let Some(resolved) = schemas.resolve(path) {
        return Named::Attribute {
            container: resolved.extension_urn().map(str::to_ascii_lowercase),
            name: resolved.attribute.name.to_ascii_lowercase(),
            sub: resolved
                .sub_attribute
                .map(|sub| sub.name.to_ascii_lowercase()),
        };
    }
    if let Some(extension) = whole_extension(schemas, path) {
        return Named::Extension(extension.id.to_ascii_lowercase());
    }
    // Not in any schema: match top-level (or extension) keys by name.
    let container = path
        .schema
        .as_deref()
        .and_then(|urn| schemas.extension(urn))
        .map(|extension| extension.id.to_ascii_lowercase());
    Named::Attribute {
        container,
        name: path.name.to_ascii_lowercase(),
        sub: path.sub_attr.as_deref().map(str::to_ascii_lowercase),
    }
}
