//! Parsing speed on realistic filters, against the other Rust SCIM filter parsers
//! (`scim_v2` and `scim-filter`) in the same run.
//!
//! `cargo bench -p scimitar-filter --bench parse -- --warm-up-time 1 --measurement-time 3`

// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::str::FromStr;

use criterion::{criterion_group, criterion_main, Criterion};

/// `(name, filter)`: what Entra ID and Okta send, the RFC 7644 examples, and long
/// compound filters.
fn corpus() -> Vec<(&'static str, String)> {
    let mut corpus: Vec<(&'static str, String)> = vec![
        ("entra_test_connection", r#"userName eq "5c6e3ab1-0f2d-4b8e-9a47-3d1f6c2b8e90""#.into()),
        ("entra_upn", r#"userName eq "alice.smith@contoso.onmicrosoft.com""#.into()),
        ("entra_external_id", r#"externalId eq "0a1b2c3d-4e5f-6789-abcd-ef0123456789""#.into()),
        ("entra_group", r#"displayName eq "Sales Team - EMEA""#.into()),
        ("okta_user", r#"userName eq "alice@example.com""#.into()),
        ("rfc_present", "title pr".into()),
        ("rfc_date", r#"meta.lastModified gt "2011-05-13T04:42:34Z""#.into()),
        (
            "rfc_urn",
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#.into(),
        ),
        (
            "rfc_and_or_group",
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#.into(),
        ),
        (
            "rfc_not",
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#.into(),
        ),
        (
            "rfc_value_paths",
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#
                .into(),
        ),
    ];
    let twenty = (1..=20)
        .map(|i| format!(r#"userName eq "user{i:02}@example.com""#))
        .collect::<Vec<_>>()
        .join(" or ");
    corpus.push(("or_20_terms", twenty));
    let fifty = (1..=10)
        .map(|i| {
            format!(
                r#"(userName sw "u{i}" and active eq true and meta.lastModified ge "2024-01-0{d}T00:00:00Z" and (title pr or emails.value ew "@example{i}.com"))"#,
                d = i % 9 + 1
            )
        })
        .collect::<Vec<_>>()
        .join(" or ");
    corpus.push(("mixed_50_terms", fifty));
    corpus
}

fn scim_filter_parses(input: &str) -> bool {
    matches!(scim_filter::parser::filter(input), Ok(("", _)))
}

fn bench(c: &mut Criterion) {
    for (name, input) in corpus() {
        let mut group = c.benchmark_group(name);
        assert!(scimitar_filter::parse_filter(&input).is_ok(), "{name}");
        group.bench_function("scimitar", |b| {
            b.iter(|| scimitar_filter::parse_filter(black_box(&input)))
        });
        if scim_v2::filter::Filter::from_str(&input).is_ok() {
            group.bench_function("scim_v2", |b| {
                b.iter(|| scim_v2::filter::Filter::from_str(black_box(&input)))
            });
        } else {
            eprintln!("{name}: scim_v2 rejects it");
        }
        if scim_filter_parses(&input) {
            group.bench_function("scim-filter", |b| {
                b.iter(|| scim_filter::parser::filter(black_box(&input)))
            });
        } else {
            eprintln!("{name}: scim-filter rejects it");
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
