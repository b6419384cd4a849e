//! `scimitar import TENANT FILE`: a first sync of users from a file, through the
//! store's batch create (every validation, uniqueness and event rule of a SCIM
//! create, in fewer commits).
//!
//! The file holds SCIM User resources one per line (JSON lines), or a CSV whose
//! header names the attributes of each column ([`Column`]).

use std::io::BufRead;
use std::time::Instant;

use futures_util::stream::{self, StreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use scimitar_diesel::DieselStore;
use scimitar_schema::Policy;
use scimitar_store::{Created, Scope, Store, StoreError};
use serde_json::{json, Map, Value};

use crate::admin::tenant_parts;
use crate::Failure;

const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The most failures printed one by one.
const SHOWN_FAILURES: usize = 20;

/// Why an import could not start or read its file.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ImportFailure {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: the CSV header names `{column}`, which is not an attribute this import maps; the columns are {}", Column::NAMES.join(", "))]
    UnknownColumn { path: String, column: String },
    #[error("{path}: {source}")]
    Csv { path: String, source: csv::Error },
    #[error("{failed} of {total} users were not imported (see above)")]
    SomeFailed { failed: usize, total: usize },
}

/// The file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// One SCIM User (JSON) per line.
    Jsonl,
    /// A header of attribute names, then one user per row.
    Csv,
}

/// A CSV column: where its value goes in the SCIM User.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    /// A core attribute (`userName`, `displayName`...).
    Core(&'static str),
    /// A sub-attribute of `name`.
    Name(&'static str),
    /// `active`: true or false.
    Active,
    /// The work email, primary.
    Email,
    /// The work phone.
    Phone,
    /// An Enterprise User attribute.
    Enterprise(&'static str),
    /// The manager's SCIM id.
    Manager,
}

impl Column {
    const NAMES: [&'static str; 22] = [
        "userName",
        "externalId",
        "displayName",
        "nickName",
        "title",
        "userType",
        "preferredLanguage",
        "locale",
        "timezone",
        "active",
        "givenName",
        "familyName",
        "middleName",
        "formatted",
        "email",
        "phone",
        "employeeNumber",
        "costCenter",
        "organization",
        "division",
        "department",
        "manager",
    ];

    /// The column named `header` (any case, `name.` and `enterprise.` prefixes
    /// allowed).
    fn parse(header: &str) -> Option<Column> {
        let header = header.trim();
        let bare = header
            .strip_prefix("name.")
            .or_else(|| header.strip_prefix("enterprise."))
            .unwrap_or(header);
        let name = Column::NAMES
            .iter()
            .find(|name| name.eq_ignore_ascii_case(bare))?;
        Some(match *name {
            "active" => Column::Active,
            "givenName" | "familyName" | "middleName" | "formatted" => Column::Name(name),
            "email" => Column::Email,
            "phone" => Column::Phone,
            "manager" => Column::Manager,
            "employeeNumber" | "costCenter" | "organization" | "division" | "department" => {
                Column::Enterprise(name)
            }
            core => Column::Core(core),
        })
    }

    fn set(self, user: &mut Map<String, Value>, value: &str) -> Result<(), String> {
        match self {
            Column::Core(name) => {
                user.insert(name.into(), json!(value));
            }
            Column::Active => {
                let active = match value.to_ascii_lowercase().as_str() {
                    "true" | "yes" | "1" => true,
                    "false" | "no" | "0" => false,
                    _ => return Err(format!("active is {value:?}, not true or false")),
                };
                user.insert("active".into(), json!(active));
            }
            Column::Name(part) => {
                nested(user, "name").insert(part.into(), json!(value));
            }
            Column::Email => {
                user.insert(
                    "emails".into(),
                    json!([{"value": value, "type": "work", "primary": true}]),
                );
            }
            Column::Phone => {
                user.insert(
                    "phoneNumbers".into(),
                    json!([{"value": value, "type": "work"}]),
                );
            }
            Column::Enterprise(attribute) => {
                nested(user, ENTERPRISE_USER).insert(attribute.into(), json!(value));
            }
            Column::Manager => {
                nested(user, ENTERPRISE_USER).insert("manager".into(), json!({"value": value}));
            }
        }
        Ok(())
    }
}

/// The object under `key`, made if missing.
fn nested<'a>(user: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let entry = user.entry(key.to_owned()).or_insert_with(|| json!({}));
    if !entry.is_object() {
        *entry = json!({});
    }
    match entry {
        Value::Object(object) => object,
        _ => unreachable!("made an object just above"),
    }
}

/// One record of the file: its line (or row) number and the user, or why it
/// does not read.
type Record = (usize, Result<Value, String>);

/// The records of a JSON-lines file; blank lines are skipped.
fn json_lines(path: &str) -> Result<Vec<Record>, ImportFailure> {
    let read = |source| ImportFailure::Read {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read)?;
    let mut records = Vec::new();
    for (index, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(read)?;
        if line.trim().is_empty() {
            continue;
        }
        let user = serde_json::from_str::<Value>(&line)
            .map_err(|error| format!("not JSON: {error}"))
            .and_then(|user| {
                if user.is_object() {
                    Ok(user)
                } else {
                    Err("not a JSON object".to_owned())
                }
            });
        records.push((index + 1, user));
    }
    Ok(records)
}

/// The records of a CSV file, one user per row after the header; empty cells
/// are left out.
fn csv_rows(path: &str) -> Result<Vec<Record>, ImportFailure> {
    let csv = |source| ImportFailure::Csv {
        path: path.to_owned(),
        source,
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(csv)?;
    let columns = reader
        .headers()
        .map_err(csv)?
        .iter()
        .map(|header| {
            Column::parse(header).ok_or_else(|| ImportFailure::UnknownColumn {
                path: path.to_owned(),
                column: header.to_owned(),
            })
        })
        .collect::<Result<Vec<Column>, ImportFailure>>()?;
    let mut records = Vec::new();
    for (index, row) in reader.records().enumerate() {
        // The header is line 1.
        let line = index + 2;
        let user = row.map_err(|error| error.to_string()).and_then(|row| {
            let mut user = Map::new();
            user.insert("schemas".into(), json!([CORE_USER]));
            for (column, value) in columns.iter().zip(row.iter()) {
                if !value.is_empty() {
                    column.set(&mut user, value)?;
                }
            }
            if user.contains_key(ENTERPRISE_USER) {
                user.insert("schemas".into(), json!([CORE_USER, ENTERPRISE_USER]));
            }
            Ok(Value::Object(user))
        });
        records.push((line, user));
    }
    Ok(records)
}

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Imported {
    pub(crate) created: usize,
    /// Already there: a repeated create of the same client (rule 10).
    pub(crate) existing: usize,
    /// Line numbers and reasons.
    pub(crate) failed: Vec<(usize, String)>,
}

/// `scimitar import`.
pub(crate) async fn import(
    store: &DieselStore,
    tenant: &str,
    path: &str,
    format: Option<Format>,
    batch: usize,
    parallel: usize,
    policy: &Policy,
) -> Result<(), Failure> {
    let format = format.unwrap_or(if path.ends_with(".csv") {
        Format::Csv
    } else {
        Format::Jsonl
    });
    let records = match format {
        Format::Jsonl => json_lines(path)?,
        Format::Csv => csv_rows(path)?,
    };
    let (registry, policy, settings) = tenant_parts(store, tenant, policy).await?;
    let total = records.len();
    let progress = ProgressBar::new(u64::try_from(total).unwrap_or(u64::MAX));
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} users, {per_sec}, {eta} left")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let scope = Scope::new(tenant, &registry, &policy)
        .with_settings(&settings)
        .with_client("import");
    let imported = load(store, &scope, records, batch, parallel, &progress).await;
    progress.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let rate = if seconds > 0.0 {
        (imported.created + imported.existing) as f64 / seconds
    } else {
        0.0
    };
    for (line, reason) in imported.failed.iter().take(SHOWN_FAILURES) {
        eprintln!("{path}:{line}: {reason}");
    }
    if imported.failed.len() > SHOWN_FAILURES {
        eprintln!("... and {} more", imported.failed.len() - SHOWN_FAILURES);
    }
    println!(
        "imported {} users into tenant {tenant} ({} created, {} already there) in {seconds:.1} s ({rate:.0} users/s); {} failed",
        imported.created + imported.existing,
        imported.created,
        imported.existing,
        imported.failed.len()
    );
    if imported.failed.is_empty() {
        Ok(())
    } else {
        Err(ImportFailure::SomeFailed {
            failed: imported.failed.len(),
            total,
        }
        .into())
    }
}

/// Creates the users of `records` in batches of `batch`, `parallel` at once.
pub(crate) async fn load<S: Store>(
    store: &S,
    scope: &Scope<'_>,
    records: Vec<Record>,
    batch: usize,
    parallel: usize,
    progress: &ProgressBar,
) -> Imported {
    let mut imported = Imported::default();
    let mut batches = Vec::new();
    let mut current = Vec::new();
    for (line, user) in records {
        match user {
            Ok(user) => current.push((line, user)),
            Err(reason) => {
                imported.failed.push((line, reason));
                progress.inc(1);
            }
        }
        if current.len() >= batch.max(1) {
            batches.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        batches.push(current);
    }
    let mut done = stream::iter(batches)
        .map(|batch| async move {
            let (lines, users): (Vec<usize>, Vec<Value>) = batch.into_iter().unzip();
            let outcomes = store.create_many(scope, "User", users).await;
            (lines, outcomes)
        })
        .buffer_unordered(parallel.max(1));
    while let Some((lines, outcomes)) = done.next().await {
        progress.inc(u64::try_from(lines.len()).unwrap_or(u64::MAX));
        for (line, outcome) in lines.into_iter().zip(outcomes) {
            match outcome {
                Ok(Created::New(_)) => imported.created += 1,
                Ok(Created::Existing(_)) => imported.existing += 1,
                Err(error) => imported.failed.push((line, reason(&error))),
            }
        }
    }
    imported.failed.sort_unstable();
    imported
}

fn reason(error: &StoreError) -> String {
    scimitar_protocol::error_chain(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_columns_map_to_attributes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.csv");
        std::fs::write(
            &path,
            "userName,name.givenName,familyName,email,active,department,manager\n\
             adele@contoso.com,Adele,Vance,adele@contoso.com,true,Sales,m1\n\
             nestor@contoso.com,,,,maybe,,\n",
        )
        .unwrap();
        let records = csv_rows(path.to_str().unwrap()).unwrap();
        assert_eq!(records.len(), 2);
        let (line, adele) = &records[0];
        let adele = adele.as_ref().unwrap();
        assert_eq!(*line, 2);
        assert_eq!(adele["name"]["givenName"], "Adele");
        assert_eq!(adele["name"]["familyName"], "Vance");
        assert_eq!(adele["emails"][0]["value"], "adele@contoso.com");
        assert_eq!(adele["active"], true);
        assert_eq!(adele[ENTERPRISE_USER]["department"], "Sales");
        assert_eq!(adele[ENTERPRISE_USER]["manager"]["value"], "m1");
        assert_eq!(adele["schemas"][1], ENTERPRISE_USER);
        let (line, nestor) = &records[1];
        assert_eq!(*line, 3);
        assert!(nestor.as_ref().unwrap_err().contains("maybe"));
        std::fs::write(&path, "userName,shoeSize\nx,42\n").unwrap();
        let refused = csv_rows(path.to_str().unwrap()).unwrap_err().to_string();
        assert!(
            refused.contains("shoeSize") && refused.contains("department"),
            "{refused}"
        );
    }

    #[test]
    fn json_lines_skip_blanks_and_name_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.jsonl");
        std::fs::write(&path, "{\"userName\": \"a\"}\n\n[1]\n{oops\n").unwrap();
        let records = json_lines(path.to_str().unwrap()).unwrap();
        let lines: Vec<usize> = records.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [1, 3, 4]);
        assert!(records[0].1.is_ok());
        assert!(records[1].1.as_ref().unwrap_err().contains("object"));
        assert!(records[2].1.as_ref().unwrap_err().contains("JSON"));
    }
}
