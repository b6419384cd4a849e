//! MemoryStore costs at the sizes identity providers produce: a 10,000-user tenant
//! and a 100,000-member group.
//!
//! `cargo bench -p scimitar-store --bench memory -- --warm-up-time 1 --measurement-time 3`

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use scimitar_filter::ast::AttrPath;
use scimitar_store::schema::{PatchOpKind, PatchOperation};
use scimitar_store::{
    MemberStore, MemoryStore, PatchRequest, Policy, Projection, Query, Registry, Scope, Store,
};
use serde_json::{json, Value};

const USERS: usize = 10_000;
const MEMBERS: usize = 100_000;

fn user(user_name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "displayName": user_name,
        "active": true,
        "emails": [{"value": user_name, "type": "work", "primary": true}],
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
}

fn users(c: &mut Criterion) {
    let rt = runtime();
    let registry = Registry::builtin();
    let policy = Policy::default();
    let scope = Scope::new("bench", &registry, &policy);
    let store = MemoryStore::new();
    let mut last_id = String::new();
    for i in 0..USERS {
        let created = rt
            .block_on(store.create(&scope, "User", user(&format!("user-{i}@example.com"))))
            .expect("create");
        last_id = created["id"].as_str().unwrap_or_default().to_owned();
    }
    let by_name = Query::default().filter(
        scimitar_filter::parse_filter(r#"userName eq "USER-5000@example.com""#).expect("filter"),
    );
    c.bench_function("memory/query userName eq, 10k users", |b| {
        b.iter(|| {
            let page = rt
                .block_on(store.query(&scope, "User", &by_name))
                .expect("query");
            assert_eq!(page.total_results, 1);
        })
    });
    c.bench_function("memory/get user, 10k users", |b| {
        b.iter(|| rt.block_on(store.get(&scope, "User", &last_id, &Projection::default())))
    });
    let mut n = 0;
    c.bench_function("memory/create user, 10k+ users", |b| {
        b.iter(|| {
            n += 1;
            rt.block_on(store.create(&scope, "User", user(&format!("new-{n}@example.com"))))
                .expect("create")
        })
    });
}

fn big_group(c: &mut Criterion) {
    let rt = runtime();
    let registry = Registry::builtin();
    let policy = Policy::default();
    let scope = Scope::new("bench-group", &registry, &policy);
    let store = MemoryStore::new();
    let mut ids = Vec::with_capacity(MEMBERS + 1);
    for i in 0..=MEMBERS {
        let created = rt
            .block_on(store.create(
                &scope,
                "User",
                json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": format!("member-{i}"),
                }),
            ))
            .expect("create");
        ids.push(created["id"].as_str().unwrap_or_default().to_owned());
    }
    let spare = ids.pop().unwrap_or_default();
    let group = rt
        .block_on(store.create(
            &scope,
            "Group",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": "Everyone",
            }),
        ))
        .expect("create group");
    let group_id = group["id"].as_str().unwrap_or_default().to_owned();
    rt.block_on(store.add_members(&scope, &group_id, &ids))
        .expect("add members");

    c.bench_function("memory/add + remove one member, 100k-member group", |b| {
        b.iter(|| {
            rt.block_on(store.add_members(&scope, &group_id, std::slice::from_ref(&spare)))
                .expect("add");
            rt.block_on(store.remove_members(&scope, &group_id, std::slice::from_ref(&spare)))
                .expect("remove")
        })
    });
    let no_members = Projection {
        excluded_attributes: vec![AttrPath::new("members")],
        ..Projection::default()
    };
    let mut flip = false;
    c.bench_function("memory/PATCH rename, 100k-member group", |b| {
        b.iter(|| {
            flip = !flip;
            let name = if flip { "Everyone!" } else { "Everyone" };
            let request = PatchRequest::new(vec![PatchOperation {
                op: PatchOpKind::Replace,
                path: Some("displayName".into()),
                value: Some(json!(name)),
            }]);
            rt.block_on(store.patch(&scope, "Group", &group_id, &request, None, &no_members))
                .expect("patch")
        })
    });
    let entra_lookup = Query::default()
        .filter(scimitar_filter::parse_filter(r#"displayName eq "Everyone""#).expect("filter"))
        .project(no_members.clone());
    c.bench_function(
        "memory/Entra group lookup (excludedAttributes=members), 100k-member group",
        |b| {
            b.iter(|| {
                rt.block_on(store.query(&scope, "Group", &entra_lookup))
                    .expect("query")
            })
        },
    );
    c.bench_function("memory/get with members, 100k-member group", |b| {
        b.iter(|| {
            rt.block_on(store.get(&scope, "Group", &group_id, &Projection::default()))
                .expect("get")
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = users, big_group
}
criterion_main!(benches);
