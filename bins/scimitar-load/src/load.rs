//! Seeding a server and running the scenarios against it: `connections` keep-alive
//! connections, each a task sending its next request as soon as the last one answered
//! (a closed loop, as wrk does), for a fixed time.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::data::{self, Rng};
use crate::http::{encode_query_value, Connection, RequestTemplate};
use crate::stats::{Samples, Summary};
use crate::LoadError;

/// Safety net on top of the time limit: no worker sends more requests than this.
const MAX_REQUESTS_PER_WORKER: u64 = 50_000_000;

/// One kind of request measured on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// `GET /healthz` (the peer: `GET /ServiceProviderConfig`): the client's ceiling.
    Trivial,
    /// `GET /Users/{id}` of a random user.
    GetById,
    /// `GET /Users?filter=userName eq "..."` of a random user.
    UserNameEq,
    /// `GET /Users?filter=externalId eq "..."` of a random user.
    ExternalIdEq,
    /// `GET /Users?startIndex=N&count=100` at a random start.
    Page,
    /// `GET /Users?filter=name.familyName sw "Xyz"&count=100`.
    FamilyNameSw,
    /// `PATCH /Users/{id}` replacing `name.givenName` of a random user.
    PatchGivenName,
    /// `PUT /Users/{id}` of a random user, whole, with a new `name.givenName`
    /// (how Okta updates users).
    Replace,
    /// `PATCH /Groups/{id}` adding a member, then the same group removing it.
    GroupMember,
    /// `POST /Users` of a new user.
    Create,
}

impl Scenario {
    /// Every scenario, in the order they run (reads before writes).
    pub const ALL: [Scenario; 10] = [
        Scenario::Trivial,
        Scenario::GetById,
        Scenario::UserNameEq,
        Scenario::ExternalIdEq,
        Scenario::Page,
        Scenario::FamilyNameSw,
        Scenario::PatchGivenName,
        Scenario::Replace,
        Scenario::GroupMember,
        Scenario::Create,
    ];

    /// The row label in the report.
    pub fn label(self) -> &'static str {
        match self {
            Scenario::Trivial => "trivial endpoint (client ceiling)",
            Scenario::GetById => "GET /Users/{id}",
            Scenario::UserNameEq => "filter userName eq",
            Scenario::ExternalIdEq => "filter externalId eq",
            Scenario::Page => "page of 100 (random startIndex)",
            Scenario::FamilyNameSw => "filter name.familyName sw, count 100",
            Scenario::PatchGivenName => "PATCH replace name.givenName",
            Scenario::Replace => "PUT /Users/{id}",
            Scenario::GroupMember => "group member add / remove",
            Scenario::Create => "POST /Users",
        }
    }
}

/// How to reach a server.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Where it listens (always a loopback address).
    pub addr: SocketAddr,
    /// More instances of the server, on the same database (`--instances`).
    pub more_addrs: Vec<SocketAddr>,
    /// The path of the SCIM endpoints, such as `/scim/v2` (no trailing slash).
    pub base_path: String,
    /// The bearer token to send: one per tenant (the first is the only one
    /// for a single tenant).
    pub tokens: Vec<String>,
    /// A cheap endpoint answering 200, to measure the client's ceiling.
    pub trivial_path: String,
}

/// A server to send requests to, with the request settings.
#[derive(Debug, Clone)]
pub struct Target {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The path of the SCIM endpoints, such as `/scim/v2`.
    pub base_path: String,
    /// A cheap endpoint answering 200, to measure the client's ceiling.
    pub trivial_path: String,
    /// Builds requests carrying the bearer token.
    pub template: RequestTemplate,
    /// The limit on each request.
    pub timeout: Duration,
}

impl Target {
    /// Requests to instance `instance` of `endpoint` (0: the first) with the
    /// token of its tenant `tenant`, each limited to `timeout`.
    pub fn new(endpoint: &Endpoint, tenant: usize, instance: usize, timeout: Duration) -> Self {
        let token = endpoint.tokens.get(tenant).map_or("", String::as_str);
        let addr = match instance {
            0 => endpoint.addr,
            n => endpoint
                .more_addrs
                .get(n - 1)
                .copied()
                .unwrap_or(endpoint.addr),
        };
        Self {
            addr,
            base_path: endpoint.base_path.clone(),
            trivial_path: endpoint.trivial_path.clone(),
            template: RequestTemplate::new(addr, token),
            timeout,
        }
    }
}

/// What seeding created: server ids by index.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The id of user `i` (its data comes from [`data::user`]).
    pub user_ids: Vec<String>,
    /// The id of group `g`, whose members are users `g * group_size ..`.
    pub group_ids: Vec<String>,
    /// Members per group.
    pub group_size: usize,
}

/// How long seeding took.
#[derive(Debug, Clone, Copy)]
pub struct SeedTimes {
    /// Creating the users.
    pub users: Duration,
    /// Creating the groups with their members.
    pub groups: Duration,
}

/// How seeding creates users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SeedWith {
    /// One `POST /Users` each, `--connections` at a time (what an IdP sends).
    Post,
    /// `POST /Bulk` of [`BULK_OPERATIONS`] creates each, 4 requests at a time (a
    /// first sync; for large seeds).
    Bulk,
}

/// Creates per `/Bulk` request: about 600 KB of Entra-shaped users, under the
/// server's default 1 MiB payload limit.
pub const BULK_OPERATIONS: usize = 500;

/// Concurrent `/Bulk` requests while seeding.
const BULK_CLIENTS: usize = 4;

/// Creates `users` users, then `groups` groups of `group_size` members, over
/// `connections` connections in parallel.
pub async fn seed(
    target: &Arc<Target>,
    users: usize,
    groups: usize,
    group_size: usize,
    connections: usize,
    with: SeedWith,
) -> Result<(Dataset, SeedTimes), LoadError> {
    let started = Instant::now();
    let user_ids = create_users(target, connections, 0..users, with).await?;
    let users_took = started.elapsed();

    let started = Instant::now();
    let member_ids = Arc::new(user_ids.clone());
    let group_ids = create_all(target, connections, groups, "Groups", move |index| {
        let members = member_ids
            .get(index * group_size..(index + 1) * group_size)
            .unwrap_or_default();
        data::group(index as u64, members)
    })
    .await?;
    let times = SeedTimes {
        users: users_took,
        groups: started.elapsed(),
    };
    let dataset = Dataset {
        user_ids,
        group_ids,
        group_size,
    };
    Ok((dataset, times))
}

/// Creates the users of `indices` (see [`data::user`]), returning their ids in
/// index order.
pub async fn create_users(
    target: &Arc<Target>,
    connections: usize,
    indices: std::ops::Range<usize>,
    with: SeedWith,
) -> Result<Vec<String>, LoadError> {
    let first = indices.start;
    let count = indices.len();
    let user = move |index: usize| data::user((first + index) as u64);
    match with {
        SeedWith::Post => create_all(target, connections, count, "Users", user).await,
        SeedWith::Bulk => create_all_in_bulk(target, count, "Users", user).await,
    }
}

/// Creates `count` resources built by `body` at `/{endpoint}` with `POST /Bulk`
/// requests of [`BULK_OPERATIONS`], returning their ids in index order.
async fn create_all_in_bulk<F>(
    target: &Arc<Target>,
    count: usize,
    endpoint: &'static str,
    body: F,
) -> Result<Vec<String>, LoadError>
where
    F: Fn(usize) -> Value + Send + Sync + 'static,
{
    let body = Arc::new(body);
    let chunks = count.div_ceil(BULK_OPERATIONS);
    let mut tasks = Vec::new();
    for worker in 0..BULK_CLIENTS.min(chunks.max(1)) {
        let target = Arc::clone(target);
        let body = Arc::clone(&body);
        tasks.push(tokio::spawn(async move {
            let path = format!("{}/Bulk", target.base_path);
            let mut connection = Connection::new(target.addr, target.timeout);
            let mut request = Vec::new();
            let mut created = Vec::new();
            for chunk in (worker..chunks).step_by(BULK_CLIENTS) {
                let indices = chunk * BULK_OPERATIONS..((chunk + 1) * BULK_OPERATIONS).min(count);
                let operations: Vec<Value> = indices
                    .clone()
                    .map(|index| {
                        json!({
                            "method": "POST",
                            "path": format!("/{endpoint}"),
                            "bulkId": index.to_string(),
                            "data": body(index),
                        })
                    })
                    .collect();
                let json = serde_json::to_vec(&json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                    "Operations": operations,
                }))
                .unwrap_or_default();
                target
                    .template
                    .write(&mut request, "POST", &path, Some(&json));
                let response = connection
                    .send(&request)
                    .await
                    .map_err(|error| LoadError::Seed(format!("POST {path}: {error}")))?;
                let answer = serde_json::from_slice::<Value>(response.body)
                    .ok()
                    .filter(|_| response.is_success());
                let results = answer
                    .as_ref()
                    .and_then(|answer| answer.get("Operations")?.as_array());
                let failed = || {
                    LoadError::Seed(format!(
                        "POST {path} answered {}: {}",
                        response.status,
                        snippet(response.body)
                    ))
                };
                for result in results.ok_or_else(failed)? {
                    let index = result
                        .get("bulkId")
                        .and_then(Value::as_str)
                        .and_then(|id| id.parse::<usize>().ok());
                    let id = result
                        .get("location")
                        .and_then(Value::as_str)
                        .and_then(|location| location.rsplit('/').next());
                    match (index, id, result.get("status").and_then(Value::as_str)) {
                        (Some(index), Some(id), Some("201")) => {
                            created.push((index, id.to_owned()));
                        }
                        _ => {
                            return Err(LoadError::Seed(format!(
                                "a create in POST {path} failed: {result}"
                            )))
                        }
                    }
                }
            }
            Ok::<_, LoadError>(created)
        }));
    }
    collect_ids(tasks, count).await
}

/// POSTs `count` resources built by `body` to `/{endpoint}`, returning their ids in
/// index order.
async fn create_all<F>(
    target: &Arc<Target>,
    connections: usize,
    count: usize,
    endpoint: &'static str,
    body: F,
) -> Result<Vec<String>, LoadError>
where
    F: Fn(usize) -> Value + Send + Sync + 'static,
{
    let body = Arc::new(body);
    let mut tasks = Vec::new();
    for worker in 0..connections {
        let target = Arc::clone(target);
        let body = Arc::clone(&body);
        tasks.push(tokio::spawn(async move {
            let path = format!("{}/{endpoint}", target.base_path);
            let mut connection = Connection::new(target.addr, target.timeout);
            let mut request = Vec::new();
            let mut created = Vec::new();
            for index in (worker..count).step_by(connections) {
                let json = serde_json::to_vec(&body(index)).unwrap_or_default();
                target
                    .template
                    .write(&mut request, "POST", &path, Some(&json));
                let response = connection
                    .send(&request)
                    .await
                    .map_err(|error| LoadError::Seed(format!("POST {path}: {error}")))?;
                let id = serde_json::from_slice::<Value>(response.body)
                    .ok()
                    .filter(|_| response.is_success())
                    .and_then(|value| value.get("id")?.as_str().map(str::to_owned))
                    .ok_or_else(|| {
                        LoadError::Seed(format!(
                            "POST {path} answered {}: {}",
                            response.status,
                            snippet(response.body)
                        ))
                    })?;
                created.push((index, id));
            }
            Ok::<_, LoadError>(created)
        }));
    }
    collect_ids(tasks, count).await
}

/// A seeding task: the `(index, id)` of each resource it created.
type SeedTask = tokio::task::JoinHandle<Result<Vec<(usize, String)>, LoadError>>;

/// The ids the seeding `tasks` created, in index order.
async fn collect_ids(tasks: Vec<SeedTask>, count: usize) -> Result<Vec<String>, LoadError> {
    let mut ids = vec![String::new(); count];
    for task in tasks {
        let created = task
            .await
            .map_err(|error| LoadError::Seed(error.to_string()))??;
        for (index, id) in created {
            if let Some(slot) = ids.get_mut(index) {
                *slot = id;
            }
        }
    }
    Ok(ids)
}

/// The outcome of one scenario against one server.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The figures.
    pub summary: Summary,
    /// The first failure seen, to tell what went wrong.
    pub first_error: Option<String>,
    /// CPU time the load generator itself spent (all its threads), if known.
    pub client_cpu: Option<Duration>,
    /// CPU time the server spent (all its threads), when it is our child process:
    /// per request, a figure that other work on the machine barely moves.
    pub server_cpu: Option<Duration>,
    /// What `wrk` measured on the same request right after (`--wrk`).
    pub wrk_per_second: Option<f64>,
}

impl Outcome {
    /// The server's CPU time per request, in microseconds.
    pub fn server_cpu_per_request(&self) -> Option<f64> {
        let cpu = self.server_cpu?;
        let requests = self.summary.requests;
        (requests > 0).then(|| cpu.as_secs_f64() * 1e6 / requests as f64)
    }
}

/// Runs scenarios against one seeded server.
#[derive(Debug)]
pub struct Runner {
    /// The server by tenant (each with that tenant's token), then by instance.
    pub targets: Vec<Vec<Arc<Target>>>,
    /// What was seeded, per tenant.
    pub datasets: Vec<Arc<Dataset>>,
    /// Concurrent connections, spread over the tenants and instances: connection
    /// `c` works in tenant `c % tenants`, on instance `c / tenants % instances`.
    pub connections: usize,
    /// The index of the next user the `create` scenario makes (shared by workers).
    pub creations: Arc<AtomicU64>,
}

impl Runner {
    /// Runs `scenario` on every connection for `duration`.
    pub async fn measure(
        &self,
        scenario: Scenario,
        duration: Duration,
    ) -> Result<Outcome, LoadError> {
        let cpu_before = cpu_time("self");
        let started = Instant::now();
        let deadline = started + duration;
        let mut tasks = Vec::new();
        let tenants = self.targets.len().min(self.datasets.len()).max(1);
        for worker in 0..self.connections {
            let tenant = worker % tenants;
            // The workers of one tenant split its users among themselves.
            let in_tenant = (tenant..self.connections).step_by(tenants).count();
            let instances = self.targets.get(tenant).map_or(0, Vec::len).max(1);
            let instance = worker / tenants % instances;
            let target = self
                .targets
                .get(tenant)
                .and_then(|by_instance| by_instance.get(instance));
            let (Some(target), Some(dataset)) = (target, self.datasets.get(tenant)) else {
                return Err(LoadError::Worker("no tenant to run in".into()));
            };
            let mut state = Worker {
                scenario,
                target: Arc::clone(target),
                dataset: Arc::clone(dataset),
                creations: Arc::clone(&self.creations),
                rng: Rng::new(0x5C1_u64 << 32 | worker as u64),
                index: worker / tenants,
                connections: in_tenant,
                pending_removal: None,
            };
            tasks.push(tokio::spawn(async move { state.run_until(deadline).await }));
        }
        let mut samples = Samples::default();
        let mut first_error = None;
        for task in tasks {
            let (worker_samples, error) = task
                .await
                .map_err(|error| LoadError::Worker(error.to_string()))?;
            samples.merge(worker_samples);
            first_error = first_error.or(error);
        }
        let elapsed = started.elapsed();
        let client_cpu = cpu_time("self")
            .zip(cpu_before)
            .map(|(after, before)| after.saturating_sub(before));
        Ok(Outcome {
            summary: samples.summarise(elapsed),
            first_error,
            client_cpu,
            server_cpu: None,
            wrk_per_second: None,
        })
    }
}

/// One connection's loop and the state its scenario needs.
struct Worker {
    scenario: Scenario,
    target: Arc<Target>,
    dataset: Arc<Dataset>,
    creations: Arc<AtomicU64>,
    rng: Rng,
    index: usize,
    connections: usize,
    /// A member this worker added and removes next: (group, user).
    pending_removal: Option<(usize, usize)>,
}

impl Worker {
    async fn run_until(&mut self, deadline: Instant) -> (Samples, Option<String>) {
        let mut connection = Connection::new(self.target.addr, self.target.timeout);
        let mut request = Vec::with_capacity(2048);
        let mut samples = Samples::default();
        let mut first_error = None;
        for _ in 0..MAX_REQUESTS_PER_WORKER {
            if Instant::now() >= deadline {
                break;
            }
            let description = self.write_request(&mut request);
            let sent = Instant::now();
            let failure = match connection.send(&request).await {
                Ok(response) if response.is_success() => None,
                Ok(response) => Some(format!(
                    "{description} answered {}: {}",
                    response.status,
                    snippet(response.body)
                )),
                Err(error) => Some(format!("{description}: {error}")),
            };
            samples.record(sent.elapsed(), failure.is_some());
            self.advance(failure.is_none());
            if first_error.is_none() {
                first_error = failure;
            }
        }
        (samples, first_error)
    }

    fn random_user(&mut self) -> usize {
        let users = self.dataset.user_ids.len() as u64;
        usize::try_from(self.rng.below(users)).unwrap_or_default()
    }

    /// Writes the next request into `out` and returns a short description of it.
    fn write_request(&mut self, out: &mut Vec<u8>) -> &'static str {
        // Cheap handles, so the request can borrow them while the RNG moves on.
        let target = Arc::clone(&self.target);
        let dataset = Arc::clone(&self.dataset);
        let (base, template) = (target.base_path.as_str(), &target.template);
        let user_id = |user: usize| dataset.user_ids.get(user).map_or("", String::as_str);
        let user_count = dataset.user_ids.len();
        match self.scenario {
            Scenario::Trivial => {
                template.write(out, "GET", &target.trivial_path, None);
                "GET of the trivial endpoint"
            }
            Scenario::GetById => {
                let id = user_id(self.random_user());
                template.write(out, "GET", &format!("{base}/Users/{id}"), None);
                "GET /Users/{id}"
            }
            Scenario::UserNameEq | Scenario::ExternalIdEq => {
                let user = self.random_user() as u64;
                let (filter, description) = if self.scenario == Scenario::UserNameEq {
                    let filter = format!("userName eq \"{}\"", data::user_name(user));
                    (filter, "GET /Users?filter=userName eq ...")
                } else {
                    let filter = format!("externalId eq \"{}\"", data::external_id(user));
                    (filter, "GET /Users?filter=externalId eq ...")
                };
                let path = format!("{base}/Users?filter={}", encode_query_value(&filter));
                template.write(out, "GET", &path, None);
                description
            }
            Scenario::Page => {
                let last_start = user_count.saturating_sub(100) as u64 + 1;
                let start = 1 + self.rng.below(last_start);
                let path = format!("{base}/Users?startIndex={start}&count=100");
                template.write(out, "GET", &path, None);
                "GET /Users?startIndex=N&count=100"
            }
            Scenario::FamilyNameSw => {
                let family = data::pick(data::FAMILY_NAMES, self.rng.next_u64());
                let filter = format!(
                    "name.familyName sw \"{}\"",
                    family.get(..3).unwrap_or(family)
                );
                let path = format!(
                    "{base}/Users?filter={}&count=100",
                    encode_query_value(&filter)
                );
                template.write(out, "GET", &path, None);
                "GET /Users?filter=name.familyName sw ...&count=100"
            }
            Scenario::PatchGivenName => {
                let id = user_id(self.random_user());
                let given = data::given_name(self.rng.next_u64());
                let body = data::patch(json!([
                    { "op": "replace", "path": "name.givenName", "value": given }
                ]));
                let body = serde_json::to_vec(&body).unwrap_or_default();
                template.write(out, "PATCH", &format!("{base}/Users/{id}"), Some(&body));
                "PATCH /Users/{id} name.givenName"
            }
            Scenario::Replace => {
                let user = self.random_user();
                // The seeded user of that index (its userName kept), renamed.
                let mut body = data::user(user as u64);
                body["name"]["givenName"] = json!(data::given_name(self.rng.next_u64()));
                let body = serde_json::to_vec(&body).unwrap_or_default();
                let path = format!("{base}/Users/{}", user_id(user));
                template.write(out, "PUT", &path, Some(&body));
                "PUT /Users/{id}"
            }
            Scenario::GroupMember => self.write_member_change(out, base, template, &dataset),
            Scenario::Create => {
                let index = self.creations.fetch_add(1, Ordering::Relaxed);
                let body = serde_json::to_vec(&data::user(index)).unwrap_or_default();
                template.write(out, "POST", &format!("{base}/Users"), Some(&body));
                "POST /Users"
            }
        }
    }

    /// Adds a user to a group it is not seeded in, or removes the one added last.
    /// Worker `w` only moves users whose index is `w` modulo the connection count, so
    /// no two workers ever add or remove the same membership.
    fn write_member_change(
        &mut self,
        out: &mut Vec<u8>,
        base: &str,
        template: &RequestTemplate,
        dataset: &Dataset,
    ) -> &'static str {
        let groups = dataset.group_ids.len();
        let (group, user, add) = match self.pending_removal {
            Some((group, user)) => (group, user, false),
            None => {
                let per_worker = (dataset.user_ids.len().saturating_sub(self.index))
                    .div_ceil(self.connections.max(1)) as u64;
                let user = self.index
                    + self.connections
                        * usize::try_from(self.rng.below(per_worker)).unwrap_or_default();
                let own_group = user / dataset.group_size.max(1);
                let mut group = usize::try_from(self.rng.below(groups as u64)).unwrap_or_default();
                if group == own_group && groups > 1 {
                    group = (group + 1) % groups;
                }
                (group, user, true)
            }
        };
        let group_id = dataset.group_ids.get(group).map_or("", String::as_str);
        let user_id = dataset.user_ids.get(user).map_or("", String::as_str);
        let operation = if add {
            json!({ "op": "add", "path": "members", "value": [{ "value": user_id }] })
        } else {
            json!({ "op": "remove", "path": format!("members[value eq \"{user_id}\"]") })
        };
        let body = serde_json::to_vec(&data::patch(json!([operation]))).unwrap_or_default();
        template.write(
            out,
            "PATCH",
            &format!("{base}/Groups/{group_id}"),
            Some(&body),
        );
        self.pending_removal = add.then_some((group, user));
        if add {
            "PATCH /Groups/{id} add member"
        } else {
            "PATCH /Groups/{id} remove member"
        }
    }

    /// Moves the scenario's state on after a response: a failed add has nothing to remove.
    fn advance(&mut self, succeeded: bool) {
        if !succeeded {
            self.pending_removal = None;
        }
    }
}

/// CPU time process `pid` (or `self`) has used so far: the sum over its threads
/// of the nanoseconds in `/proc/<pid>/task/*/schedstat`.
pub fn cpu_time(pid: &str) -> Option<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(total))
}

/// The start of a response body, for error messages.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    text.chars().take(300).collect()
}
