//! Validation and projection of a full RFC 7643 enterprise user, and attribute
//! resolution: the per-request costs this crate adds.
//!
//! `cargo bench -p scimitar-schema --bench schema -- --warm-up-time 1 --measurement-time 3`

// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use scimitar_filter::ast::AttrPath;
use scimitar_schema::{urn, Mode, Policy, Projection, Registry};
use serde_json::Value;

const ENTERPRISE_USER: &str = include_str!("../tests/fixtures/rfc7643_8_3_enterprise_user.json");

fn benches(c: &mut Criterion) {
    let registry = Registry::builtin();
    let policy = Policy::compatible();
    let user: Value = serde_json::from_str(ENTERPRISE_USER).unwrap_or(Value::Null);

    c.bench_function("validate full enterprise user (create)", |b| {
        b.iter(|| registry.validate("User", black_box(&user), Mode::Create, &policy))
    });
    c.bench_function("validate full enterprise user (response)", |b| {
        b.iter(|| registry.validate("User", black_box(&user), Mode::Response, &policy))
    });

    let default = Projection::default();
    c.bench_function("project full enterprise user (default)", |b| {
        b.iter(|| registry.project("User", black_box(&user), &default))
    });
    // Excludes nothing the user has, but is not the default: the general path.
    let general = Projection::parse(None, Some("noSuchAttribute")).unwrap_or_default();
    c.bench_function(
        "project full enterprise user (general path, same output)",
        |b| b.iter(|| registry.project("User", black_box(&user), &general)),
    );
    let narrow = Projection::parse(Some("userName,emails.value"), None).unwrap_or_default();
    c.bench_function(
        "project full enterprise user (attributes=userName,emails.value)",
        |b| b.iter(|| registry.project("User", black_box(&user), &narrow)),
    );

    let path = AttrPath::new("manager")
        .with_schema(urn::ENTERPRISE_USER)
        .with_sub_attr("value");
    c.bench_function("resolve urn-qualified enterprise manager.value", |b| {
        b.iter(|| registry.resolve("User", black_box(&path)).is_some())
    });
}

criterion_group!(schema, benches);
criterion_main!(schema);
