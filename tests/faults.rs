//! Faults between the operator and the API server, the way Sieve tests controllers.
//!
//! A crash after every write. The operator binary runs behind
//! the API proxy, which counts its writes. Each scenario runs once without faults, which gives
//! its number of writes and its end state; then once for every write n: right after the API
//! server has carried out write n, the operator is killed with SIGKILL before it sees the
//! answer (and started again), or it lives and sees that request fail. Either way the end state
//! must be the one of the run without faults: no lost or duplicated topic or user, no Secret
//! whose password the broker does not take, nothing left behind after the resources go.
//!
//! Scenarios: KafkaTopics created and some deleted; KafkaUsers (SCRAM and TLS) created, their
//! ACLs changed, and some deleted; a Kafka created from an example and rolled by a config
//! change; a Kafka's cluster CA renewed at the user's request (the faults only after the Kafka
//! is Ready); a RocketMQ NameService and Broker created and scaled out. `make test` runs them at a size that keeps the suite short, with the two trips taking
//! turns; `CRASH_POINTS=full` (`make crash-points`) runs both trips at every write at the sizes
//! the reliability issue names: 50 topics created and 10 deleted, 20 users created, changed and
//! 5 deleted, the six-node multi-pool example.
//!
//! Stale and missed events: a watch that loses an event, a cache that never sees an update, a
//! restart mid-roll against an API server restarted from the same etcd (time travel), and the
//! API server unreachable for 30 s under load.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use api::kafka::{Kafka, KafkaNodePool, KafkaTopic, KafkaUser};
use api::rocketmq::{Broker, NameService};
use brokerage_e2e::{install_clients_ca, repo_path, secured_kafka_options, setup};
use futures::StreamExt;
use futures::future::BoxFuture;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret, Service};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kafka_client::{AclBindingFilter, AdminClient, ClientConfig, SaslConfig};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde::Deserialize;
use serde_json::json;
use testenv::kafka::{KafkaCluster, Listener};
use testenv::operator::Operator;
use testenv::{ApiProxy, Trip};
use tokio::sync::Mutex;

const WAIT: Duration = Duration::from_secs(90);
/// The operator's periodic full reconciliation.
const RESYNC: Duration = Duration::from_secs(10);
const CLUSTER: &str = "my-cluster";

/// How big each scenario is.
struct Size {
    topics: usize,
    topics_deleted: usize,
    users: usize,
    users_deleted: usize,
    /// The example the Kafka scenario creates and rolls.
    kafka_example: &'static str,
    /// Both trips at every write; otherwise they take turns (a kill after odd writes, a
    /// failed answer after even ones).
    both_trips: bool,
}

fn size() -> Size {
    match std::env::var("CRASH_POINTS").as_deref() {
        Ok("full") => Size {
            topics: 50,
            topics_deleted: 10,
            users: 20,
            users_deleted: 5,
            kafka_example: "persistent-dual-pool.yaml",
            both_trips: true,
        },
        _ => Size {
            topics: 8,
            topics_deleted: 3,
            users: 4,
            users_deleted: 2,
            kafka_example: "ephemeral-single-node.yaml",
            both_trips: false,
        },
    }
}

/// What a scenario does as a user would, and what it leaves, in words that do not depend on
/// the namespace it ran in.
trait Scenario: Sync {
    type State: PartialEq + Debug + Send;
    /// What comes before the faults, waiting for the operator where a user would (a Kafka made
    /// Ready before its CA is renewed); its writes are not counted.
    fn prepare<'a>(&'a self, _world: &'a World) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }
    /// The changes, made with the test's own client (not through the proxy), waiting for the
    /// operator where a user would.
    fn drive<'a>(&'a self, world: &'a World) -> BoxFuture<'a, Result<()>>;
    /// Everything the operator is responsible for, once it has converged.
    fn end_state<'a>(&'a self, world: &'a World) -> BoxFuture<'a, Result<Self::State>>;
    /// Whether `state` is where the changes lead, so that a pause in the operator's writes
    /// on a busy machine is not taken for the end of the run without faults.
    fn settled(&self, _state: &Self::State) -> bool {
        true
    }
    /// Deletes what is left and checks the broker keeps nothing of it.
    fn tear_down<'a>(&'a self, world: &'a World) -> BoxFuture<'a, Result<()>>;
}

/// One attempt's namespace, its clients and the real Kafka.
struct World {
    client: Client,
    /// The operator's way to the API server, which records what it deleted.
    proxy: Arc<ApiProxy>,
    namespace: String,
    kafka: &'static KafkaCluster,
    admin: AdminClient,
    /// The operator's log, every attempt's.
    log: PathBuf,
}

/// The operator of one attempt: restarted by [`supervise`] whenever it has died.
struct Supervised {
    operator: Arc<Mutex<Option<Operator>>>,
    supervisor: tokio::task::JoinHandle<()>,
}

impl Supervised {
    async fn start(args: Vec<String>, dir: &Path) -> Result<Supervised> {
        let first = start_operator(&args, dir).await?;
        let operator = Arc::new(Mutex::new(Some(first)));
        let (slot, dir) = (operator.clone(), dir.to_path_buf());
        let supervisor = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let mut slot = slot.lock().await;
                let alive = slot.as_ref().is_some_and(|op| op.check_running().is_ok());
                if !alive {
                    // A start that fails is tried again at the next tick.
                    if let Ok(started) = start_operator(&args, &dir).await {
                        *slot = Some(started);
                    }
                }
            }
        });
        Ok(Supervised {
            operator,
            supervisor,
        })
    }

    async fn pid(&self) -> Option<u32> {
        self.operator.lock().await.as_ref().map(Operator::pid)
    }

    async fn stop(self) -> Result<()> {
        self.supervisor.abort();
        let _ = self.supervisor.await;
        if let Some(operator) = self.operator.lock().await.take() {
            operator.kill().await?;
        }
        Ok(())
    }
}

async fn start_operator(args: &[String], dir: &Path) -> Result<Operator> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let log = dir.join("operator.log");
    // Debug: the secrets check reads every line the operator logs.
    Operator::start_logging("debug", &dir.join("kubeconfig"), &log, &args).await
}

/// The proxy, the Kafka and the files every attempt shares.
struct Bench {
    proxy: Arc<ApiProxy>,
    kafka: &'static KafkaCluster,
    dir: PathBuf,
}

impl Bench {
    async fn start(name: &str) -> Result<Bench> {
        Bench::through(name, testenv::shared().await.client().await?).await
    }

    /// As [`start`](Self::start), with the proxy forwarding to `upstream`.
    async fn through(name: &str, upstream: Client) -> Result<Bench> {
        let proxy = Arc::new(ApiProxy::start(upstream).await?);
        let dir = std::env::temp_dir().join(format!(
            "brokerage-crash-points-{name}-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir)?;
        proxy.write_kubeconfig(&dir.join("kubeconfig"))?;
        let kafka = shared_kafka().await?;
        // The topics' and users' cluster (also the single-node example's Kafka) and the dual
        // pool example's: the rolls of their simulated pods ask the shared Kafka whether a
        // restart is safe, and wait while it cannot be asked.
        let clusters = [
            CLUSTER.to_string(),
            kafka_name("persistent-dual-pool.yaml")?,
        ];
        let connections: String = clusters
            .iter()
            .map(|cluster| {
                format!(
                    "- cluster: {cluster}\n  bootstrapServers: {}\n",
                    kafka.bootstrap(Listener::Plain)
                )
            })
            .collect();
        std::fs::write(dir.join("kafka-connections.yaml"), connections)?;
        Ok(Bench { proxy, kafka, dir })
    }

    /// A fresh namespace, and clients for it and the Kafka.
    async fn world(&self) -> Result<World> {
        let (client, namespace) = setup("faults").await?;
        let plain = ClientConfig::new([self.kafka.bootstrap(Listener::Plain)]);
        Ok(World {
            client,
            proxy: self.proxy.clone(),
            namespace,
            kafka: self.kafka,
            admin: AdminClient::connect(plain).await?,
            log: self.dir.join("operator.log"),
        })
    }

    /// The operator watches `namespace` only and reaches `my-cluster` in the real Kafka.
    fn operator_args(&self, namespace: &str) -> Vec<String> {
        let connections = self.dir.join("kafka-connections.yaml");
        vec![
            "--watch-namespaces".into(),
            namespace.into(),
            "--kafka-connections".into(),
            connections.display().to_string(),
            "--resync-seconds".into(),
            RESYNC.as_secs().to_string(),
        ]
    }

    /// Runs `scenario` once in a fresh namespace, tripping after write `trip` when given, until
    /// its end state is `expected` (or, without one, any state that holds) and the operator has
    /// stopped writing. Returns the operator's writes, that state, and whether the trip happened.
    async fn attempt<S: Scenario>(
        &self,
        scenario: &S,
        trip: Option<(u64, TripKind)>,
        expected: Option<&S::State>,
    ) -> Result<(u64, S::State, bool)> {
        let world = self.world().await?;
        let namespace = world.namespace.clone();
        let unasked = self.proxy.writes();
        let operator = Supervised::start(self.operator_args(&namespace), &self.dir).await?;
        if self.proxy.writes() != unasked {
            bail!("the operator wrote before anything was asked of it");
        }
        let outcome = async {
            scenario.prepare(&world).await?;
            let before = self.proxy.writes();
            if let Some((n, kind)) = trip {
                let trip = match kind {
                    TripKind::Kill => Trip::Kill {
                        pid: operator.pid().await.context("an operator")?,
                    },
                    TripKind::FailResponse => Trip::FailResponse,
                };
                self.proxy.trip_after(n, trip);
            }
            scenario.drive(&world).await?;
            // Converged: the state is the expected one (or, without faults, where the changes
            // lead) and no write came for two seconds.
            let deadline = tokio::time::Instant::now() + WAIT;
            let mut last = (self.proxy.writes(), scenario.end_state(&world).await?);
            loop {
                tokio::time::sleep(Duration::from_secs(2)).await;
                let now = (self.proxy.writes(), scenario.end_state(&world).await?);
                let arrived = match expected {
                    Some(expected) => now.1 == *expected,
                    None => scenario.settled(&now.1),
                };
                if now == last && arrived {
                    break;
                }
                if tokio::time::Instant::now() > deadline {
                    bail!(
                        "no convergence within {WAIT:?}; the last state was {:?}; the \
                         operator's notes on the namespace:\n{}",
                        now.1,
                        operator_notes(&world)
                    );
                }
                last = now;
            }
            let tripped = self.proxy.disarm();
            scenario.tear_down(&world).await?;
            Ok((last.0 - before, last.1, trip.is_none() || tripped))
        }
        .await;
        operator.stop().await?;
        let outcome = outcome.with_context(|| format!("in namespace {namespace}"))?;
        let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(world.client);
        namespaces
            .delete(&namespace, &DeleteParams::default())
            .await?;
        Ok(outcome)
    }

    /// The fault-free run, then one attempt per write and trip kind; fails at the first end
    /// state that differs. Returns the number of writes and the points tried.
    async fn every_point<S: Scenario>(
        &self,
        name: &str,
        scenario: &S,
        both_trips: bool,
    ) -> Result<(u64, usize)> {
        let (writes, expected, _) = self.attempt(scenario, None, None).await?;
        eprintln!("{name}: {writes} writes without faults; end state {expected:?}");
        if writes == 0 {
            bail!("{name} made no writes: the scenario tests nothing");
        }
        let mut tried = 0;
        // CRASH_AT=n replays one finding: only the trips after write n.
        let only: Option<u64> = std::env::var("CRASH_AT").ok().and_then(|n| n.parse().ok());
        for n in (1..=writes).filter(|n| only.is_none_or(|only| only == *n)) {
            let kinds = match (both_trips, n % 2) {
                (true, _) => vec![TripKind::Kill, TripKind::FailResponse],
                (false, 1) => vec![TripKind::Kill],
                (false, _) => vec![TripKind::FailResponse],
            };
            for kind in kinds {
                let attempt = self.attempt(scenario, Some((n, kind)), Some(&expected));
                let (_, _, tripped) = attempt
                    .await
                    .with_context(|| format!("{name}: after {kind:?} at write {n}"))?;
                tried += usize::from(tripped);
            }
        }
        eprintln!("{name}: {tried} crash points tried, every end state as without faults");
        Ok((writes, tried))
    }
}

/// Waits until `gone` holds for `scenario`'s state; on time-out the error shows what is left.
async fn until_gone<S: Scenario>(
    scenario: &S,
    world: &World,
    what: &str,
    gone: impl Fn(&S::State) -> bool,
) -> Result<()> {
    let waited = testenv::eventually(what, WAIT, || async {
        Ok(gone(&scenario.end_state(world).await?))
    })
    .await;
    match waited {
        Ok(()) => Ok(()),
        Err(error) => {
            let left = scenario.end_state(world).await?;
            Err(error.context(format!("left: {left:?}")))
        }
    }
}

/// The operator's log lines on the attempt's namespace above debug level, and its restart
/// decisions, so that a failure in CI says what the operator did.
fn operator_notes(world: &World) -> String {
    let log = std::fs::read_to_string(&world.log).unwrap_or_default();
    let notes: Vec<&str> = log
        .lines()
        .filter(|line| line.contains(&world.namespace))
        .filter(|line| !line.contains(" DEBUG ") || line.contains("outdated"))
        .collect();
    notes[notes.len().saturating_sub(40)..].join("\n")
}

#[derive(Clone, Copy, Debug)]
enum TripKind {
    Kill,
    FailResponse,
}

async fn shared_kafka() -> Result<&'static KafkaCluster> {
    static KAFKA: tokio::sync::OnceCell<KafkaCluster> = tokio::sync::OnceCell::const_new();
    KAFKA
        .get_or_try_init(|| async {
            let options = secured_kafka_options();
            tokio::task::spawn_blocking(move || KafkaCluster::start(&options)).await?
        })
        .await
}

fn is_ready(
    conditions: Option<&Vec<api::Condition>>,
    observed: Option<i64>,
    generation: Option<i64>,
) -> bool {
    observed == generation && conditions.into_iter().flatten().any(|c| c.type_ == "Ready")
}

/// KafkaTopics created, all Ready, then some deleted.
struct Topics {
    created: usize,
    deleted: usize,
}

/// Per resource: Ready, its finalizers and the topic it recorded; per topic in Kafka: its
/// partitions.
#[derive(Debug, PartialEq)]
struct TopicsState {
    resources: BTreeMap<String, (bool, Vec<String>, Option<String>)>,
    in_kafka: BTreeMap<String, usize>,
}

impl Topics {
    fn name(index: usize) -> String {
        format!("topic-{index}")
    }
}

impl Scenario for Topics {
    type State = TopicsState;

    fn drive<'a>(&'a self, world: &'a World) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let topics: Api<KafkaTopic> = Api::namespaced(world.client.clone(), &world.namespace);
            for index in 0..self.created {
                let name = Topics::name(index);
                let topic = json!({"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic",
                    "metadata": {"name": name, "labels": {"strimzi.io/cluster": CLUSTER}},
                    "spec": {"topicName": format!("{}.{name}", world.namespace), "partitions": 2}});
                topics
                    .patch(
                        &name,
                        &PatchParams::apply("crash-points"),
                        &Patch::Apply(&topic),
                    )
                    .await?;
            }
            testenv::eventually("every KafkaTopic is Ready", WAIT, || async {
                let listed = topics.list(&ListParams::default()).await?.items;
                Ok(listed.iter().filter(|t| topic_ready(t)).count() == self.created)
            })
            .await?;
            for index in 0..self.deleted {
                topics
                    .delete(&Topics::name(index), &DeleteParams::default())
                    .await?;
            }
            Ok(())
        })
    }

    fn end_state<'a>(&'a self, world: &'a World) -> BoxFuture<'a, Result<TopicsState>> {
        Box::pin(async move {
            let topics: Api<KafkaTopic> = Api::namespaced(world.client.clone(), &world.namespace);
            let prefix = format!("{}.", world.namespace);
            let resources = topics
                .list(&ListParams::default())
                .await?
                .items
                .into_iter()
                .map(|topic| {
                    let recorded = topic.status.as_ref().and_then(|s| s.topic_name.clone());
                    let recorded = recorded.map(|name| name.replacen(&prefix, "", 1));
                    let state = (topic_ready(&topic), topic.finalizers().to_vec(), recorded);
                    (topic.name_any(), state)
                })
                .collect();
            let in_kafka = world
                .admin
                .list_topics()
                .await?
                .into_iter()
                .filter_map(|(name, description)| {
                    let short = name.strip_prefix(&prefix)?.to_string();
                    Some((short, description.partitions.len()))
                })
                .collect();
            Ok(TopicsState {
                resources,
                in_kafka,
            })
        })
    }

    /// The deleted ones gone, the others Ready and in Kafka.
    fn settled(&self, state: &TopicsState) -> bool {
        let left = self.created - self.deleted;
        state.resources.len() == left
            && state.resources.values().all(|(ready, ..)| *ready)
            && state.in_kafka.len() == left
    }

    fn tear_down<'a>(&'a self, world: &'a World) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let topics: Api<KafkaTopic> = Api::namespaced(world.client.clone(), &world.namespace);
            topics
                .delete_collection(&DeleteParams::default(), &ListParams::default())
                .await?;
            until_gone(
                self,
                world,
                "every KafkaTopic and its Kafka topic gone",
                |state| state.resources.is_empty() && state.in_kafka.is_empty(),
            )
            .await
        })
    }
}

fn topic_ready(topic: &KafkaTopic) -> bool {
    let status = topic.status.as_ref();
    is_ready(
        status.and_then(|s| s.conditions.as_ref()),
        status.and_then(|s| s.observed_generation),
        topic.metadata.generation,
    )
}

/// KafkaUsers, half SCRAM and half TLS, each allowed to read one topic; then every user's ACL
/// changed; then some deleted.
struct Users {
    created: usize,
    deleted: usize,
}

/// Per resource: Ready, finalizers, status user name; per Secret of a live user: whether it is
/// owned and its keys; per principal in Kafka: SCRAM mechanisms and ACLs.
#[derive(Debug, PartialEq)]
struct UsersState {
    resources: BTreeMap<String, (bool, Vec<String>, Option<String>)>,
    secrets: BTreeMap<String, (bool, Vec<String>)>,
    scram: BTreeMap<String, usize>,
    acls: BTreeMap<String, Vec<String>>,
}

impl Users {
    fn name(index: usize) -> String {
        format!("user-{index}")
    }

    fn spec(index: usize, topic: &str) -> serde_json::Value {
        let authentication = match index % 2 {
            0 => "scram-sha-512",
            _ => "tls",
        };
        json!({
            "authentication": {"type": authentication},
            "authorization": {"type": "simple", "acls": [
                {"resource": {"type": "topic", "name": topic}, "operations": ["Describe", "Read"]},
            ]},
        })
    }

    async fn apply(world: &World, index: usize, topic: &str) -> Result<()> {
        let users: Api<KafkaUser> = Api::namespaced(world.client.clone(), &world.namespace);
        let name = Users::name(index);
        let user = json!({"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaUser",
            "metadata": {"name": name, "labels": {"strimzi.io/cluster": CLUSTER}},
            "spec": Users::spec(index, topic)});
        users
            .patch(
                &name,
                &PatchParams::apply("crash-points").force(),
                &Patch::Apply(&user),
            )
            .await?;
        Ok(())
    }

    fn principal(index: usize) -> String {
        match index % 2 {
            0 => format!("User:{}", Users::name(index)),
            _ => format!("User:CN={}", Users::name(index)),
        }
    }
}

impl Scenario for Users {
    type State = UsersState;

    fn drive<'a>(&'a self, world: &'a World) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            // The real Kafka's CA as the clients CA, so the TLS users' certificates are trusted.
            let secrets: Api<Secret> = Api::namespaced(world.client.clone(), &world.namespace);
            let tls = world.kafka.tls().context("the shared Kafka has TLS")?;
            install_clients_ca(&secrets, CLUSTER, tls).await?;
            let users: Api<KafkaUser> = Api::namespaced(world.client.clone(), &world.namespace);
            for index in 0..self.created {
                Users::apply(world, index, "orders").await?;
            }
            let all_ready = || async {
                let listed = users.list(&ListParams::default()).await?.items;
                Ok(listed.iter().filter(|u| user_ready(u)).count() == self.created)
            };
            testenv::eventually("every KafkaUser is Ready", WAIT, all_ready).await?;
            for index in 0..self.created {
                Users::apply(world, index, "payments").await?;
            }
            testenv::eventually("every changed KafkaUser is Ready", WAIT, all_ready).await?;
            for index in 0..self.deleted {
                users
                    .delete(&Users::name(index), &DeleteParams::default())
                    .await?;
            }
            Ok(())
        })
    }

    fn end_state<'a>(&'a self, world: &'a World) -> BoxFuture<'a, Result<UsersState>> {
        Box::pin(async move {
            let users: Api<KafkaUser> = Api::namespaced(world.client.clone(), &world.namespace);
            let secrets: Api<Secret> = Api::namespaced(world.client.clone(), &world.namespace);
            let listed = users.list(&ListParams::default()).await?.items;
            let live: Vec<String> = listed.iter().filter_map(|user| user.uid()).collect();
            let resources = listed
                .into_iter()
                .map(|user| {
                    let username = user.status.as_ref().and_then(|s| s.username.clone());
                    let state = (user_ready(&user), user.finalizers().to_vec(), username);
                    (user.name_any(), state)
                })
                .collect();
            let secrets = secrets
                .list(&ListParams::default().labels("strimzi.io/kind=KafkaUser"))
                .await?
                .items
                .into_iter()
                // The Secret of a deleted user is the garbage collector's, in its own time.
                .filter(|secret| {
                    let owners = secret.owner_references();
                    owners.is_empty() || owners.iter().any(|owner| live.contains(&owner.uid))
                })
                .map(|secret| {
                    let owned = !secret.owner_references().is_empty();
                    let keys = secret
                        .data
                        .clone()
                        .unwrap_or_default()
                        .into_keys()
                        .collect();
                    (secret.name_any(), (owned, keys))
                })
                .collect();
            let names: Vec<String> = (0..self.created).map(Users::name).collect();
            let scram = world
                .admin
                .describe_user_scram_credentials(Some(&names))
                .await?
                .into_iter()
                .filter_map(|(user, found)| Some((user, found.ok()?.len())))
                .filter(|(_, mechanisms)| *mechanisms > 0)
                .collect();
            let mut acls = BTreeMap::new();
            for index in 0..self.created {
                let principal = Users::principal(index);
                let filter = AclBindingFilter::principal(&principal);
                let mut found: Vec<String> = world
                    .admin
                    .describe_acls(&filter)
                    .await?
                    .iter()
                    .map(|acl| {
                        format!(
                            "{:?} {} {:?}",
                            acl.resource_type, acl.resource_name, acl.operation
                        )
                    })
                    .collect();
                found.sort();
                if !found.is_empty() {
                    acls.insert(principal, found);
                }
            }
            Ok(UsersState {
                resources,
                secrets,
                scram,
                acls,
            })
        })
    }

    /// The deleted ones gone, the others Ready with their credentials and changed ACLs.
    fn settled(&self, state: &UsersState) -> bool {
        let left = self.deleted..self.created;
        let changed = |acls: &Vec<String>| acls.iter().all(|acl| acl.contains("payments"));
        state.resources.len() == left.len()
            && state.resources.values().all(|(ready, ..)| *ready)
            && state.scram.len() == left.filter(|index| index % 2 == 0).count()
            && state.acls.len() == self.created - self.deleted
            && state.acls.values().all(changed)
    }

    fn tear_down<'a>(&'a self, world: &'a World) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            no_secret_is_disclosed(world).await?;
            // Every SCRAM user left takes the password its Secret holds.
            let secrets: Api<Secret> = Api::namespaced(world.client.clone(), &world.namespace);
            for index in (self.deleted..self.created).filter(|index| index % 2 == 0) {
                let name = Users::name(index);
                let secret = secrets.get(&name).await?;
                let password = secret
                    .data
                    .and_then(|mut data| data.remove("password"))
                    .context("a password")?;
                let mut config = ClientConfig::new([world.kafka.bootstrap(Listener::Scram)]);
                config.sasl = Some(SaslConfig::ScramSha512 {
                    username: name.clone(),
                    password: String::from_utf8(password.0)?,
                });
                AdminClient::connect(config)
                    .await
                    .with_context(|| format!("{name} signs in with its Secret's password"))?;
            }
            let users: Api<KafkaUser> = Api::namespaced(world.client.clone(), &world.namespace);
            users
                .delete_collection(&DeleteParams::default(), &ListParams::default())
                .await?;
            until_gone(
                self,
                world,
                "every KafkaUser and its principal gone",
                |state| {
                    state.resources.is_empty() && state.scram.is_empty() && state.acls.is_empty()
                },
            )
            .await
        })
    }
}

/// No password, private key, keystore password or RocketMQ secret key of a Secret the operator
/// made (users', CAs', nodes', RocketMQ admin credentials) is in the operator's log (at debug
/// level), the namespace's Events or any resource's status.
async fn no_secret_is_disclosed(world: &World) -> Result<()> {
    let secrets: Api<Secret> = Api::namespaced(world.client.clone(), &world.namespace);
    let mut secret_values = Vec::new();
    for secret in secrets
        .list(&ListParams::default().labels("strimzi.io/kind"))
        .await?
    {
        for (key, value) in secret.data.unwrap_or_default() {
            let value = String::from_utf8_lossy(&value.0).into_owned();
            if key == "password" || key == "secretKey" || key.ends_with(".password") {
                secret_values.push(value);
            } else if key.ends_with(".key") {
                // A line of the key's body is as telling as the whole key.
                secret_values.extend(value.lines().nth(1).map(str::to_string));
            }
        }
    }
    if secret_values.is_empty() {
        bail!("no Secret of the operator holds a secret: the check would check nothing");
    }
    let events: Api<k8s_openapi::api::core::v1::Event> =
        Api::namespaced(world.client.clone(), &world.namespace);
    let places = [
        ("the operator's log", std::fs::read_to_string(&world.log)?),
        (
            "Events",
            serde_json::to_string(&events.list(&ListParams::default()).await?.items)?,
        ),
        ("statuses", statuses(world).await?),
    ];
    for value in secret_values.iter().filter(|value| value.len() >= 8) {
        for (place, text) in &places {
            if text.contains(value.as_str()) {
                bail!("a Secret's value appears in {place}");
            }
        }
    }
    Ok(())
}

/// Every status of every kind the operator serves in the world's namespace, as JSON.
async fn statuses(world: &World) -> Result<String> {
    async fn of<K>(world: &World) -> Result<String>
    where
        K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>,
        K: Clone + serde::de::DeserializeOwned + serde::Serialize + Debug,
    {
        let api: Api<K> = Api::namespaced(world.client.clone(), &world.namespace);
        let mut statuses = Vec::new();
        for object in api.list(&ListParams::default()).await? {
            statuses.push(serde_json::to_value(object)?["status"].take());
        }
        Ok(serde_json::to_string(&statuses)?)
    }
    Ok([
        of::<Kafka>(world).await?,
        of::<KafkaNodePool>(world).await?,
        of::<KafkaTopic>(world).await?,
        of::<KafkaUser>(world).await?,
        of::<NameService>(world).await?,
        of::<Broker>(world).await?,
    ]
    .join("\n"))
}

fn user_ready(user: &KafkaUser) -> bool {
    let status = user.status.as_ref();
    is_ready(
        status.map(|s| &s.conditions).and_then(Option::as_ref),
        status.and_then(|s| s.observed_generation),
        user.metadata.generation,
    )
}

impl World {
    /// Per pod of the attempt's namespace, how many times the operator restarted it: the pods
    /// (by UID) it deleted. A pod's StatefulSet controller may replace a pod on its own, which
    /// is not the operator's doing, so pods are not counted by the UIDs seen.
    fn restarts(&self) -> BTreeMap<String, usize> {
        let pods = format!("/api/v1/namespaces/{}/pods/", self.namespace);
        self.proxy.deletions(&pods)
    }
}

const MANAGED: &str = "app.kubernetes.io/managed-by=brokerage";

/// The operator's objects in the namespace, as `Kind/name`.
async fn managed_objects(world: &World) -> Result<BTreeSet<String>> {
    let (client, namespace) = (&world.client, world.namespace.as_str());
    let managed = ListParams::default().labels(MANAGED);
    let mut objects = BTreeSet::new();
    macro_rules! record {
        ($($kind:ty),*) => {$(
            for object in Api::<$kind>::namespaced(client.clone(), namespace)
                .list_metadata(&managed)
                .await?
            {
                let kind = std::any::type_name::<$kind>().rsplit("::").next().unwrap_or("");
                objects.insert(format!("{kind}/{}", object.name_any()));
            }
        )*};
    }
    record!(
        StatefulSet,
        Service,
        ConfigMap,
        Secret,
        Pod,
        PodDisruptionBudget,
        NetworkPolicy
    );
    Ok(objects)
}

/// Deletes every resource of kind `K` in the namespace.
async fn delete_all<K>(world: &World) -> Result<()>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + Debug
        + serde::de::DeserializeOwned,
{
    let api: Api<K> = Api::namespaced(world.client.clone(), &world.namespace);
    api.delete_collection(&DeleteParams::foreground(), &ListParams::default())
        .await?;
    Ok(())
}

/// Waits until the garbage collector has removed every StatefulSet of the namespace.
async fn statefulsets_collected(world: &World) -> Result<()> {
    let sets: Api<StatefulSet> = Api::namespaced(world.client.clone(), &world.namespace);
    testenv::eventually("the StatefulSets are collected", WAIT, || async {
        let left = sets.list_metadata(&ListParams::default()).await?.items;
        Ok(left.is_empty())
    })
    .await
}

/// A Kafka created from an example, Ready, then its config changed, which rolls every node.
struct KafkaRoll {
    example: &'static str,
    /// The Kafka's name in the example.
    name: String,
}

/// The Kafka's readiness; the operator's objects; each pod's restarts by the operator (1: the
/// roll); whether every node's configuration has the change.
#[derive(Debug, PartialEq)]
struct KafkaState {
    ready: bool,
    objects: BTreeSet<String>,
    restarts: BTreeMap<String, usize>,
    changed: bool,
}

impl KafkaRoll {
    const CHANGE: &str = "log.retention.hours=7";
}

/// The name of the Kafka in `example`.
fn kafka_name(example: &str) -> Result<String> {
    let yaml = std::fs::read_to_string(repo_path("examples/kafka").join(example))?;
    serde_yaml::Deserializer::from_str(&yaml)
        .filter_map(|document| serde_yaml::Value::deserialize(document).ok())
        .find(|object| object["kind"] == "Kafka")
        .and_then(|object| object["metadata"]["name"].as_str().map(str::to_string))
        .context("the example has a Kafka")
}

impl Scenario for KafkaRoll {
    type State = KafkaState;

    fn drive<'a>(&'a self, world: &'a World) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let name = &self.name;
            let yaml = std::fs::read_to_string(repo_path("examples/kafka").join(self.example))?;
            testenv::apply_yaml(&world.client, &yaml, &world.namespace).await?;
            let kafkas: Api<Kafka> = Api::namespaced(world.client.clone(), &world.namespace);
            testenv::eventually("the Kafka is Ready", WAIT, || async {
                Ok(kafka_ready(&kafkas.get(name).await?))
            })
            .await?;
            let (key, value) = KafkaRoll::CHANGE.split_once('=').unwrap_or_default();
            let change = json!({"spec": {"kafka": {"config": {key: value}}}});
            kafkas
                .patch(name, &PatchParams::default(), &Patch::Merge(&change))
                .await?;
            Ok(())
        })
    }

    fn end_state<'a>(&'a self, world: &'a World) -> BoxFuture<'a, Result<KafkaState>> {
        Box::pin(async move {
            let kafkas: Api<Kafka> = Api::namespaced(world.client.clone(), &world.namespace);
            let kafka = kafkas.get(&self.name).await?;
            let config_maps: Api<ConfigMap> =
                Api::namespaced(world.client.clone(), &world.namespace);
            let mut files = Vec::new();
            for config_map in config_maps
                .list(&ListParams::default().labels(MANAGED))
                .await?
            {
                for (key, file) in config_map.data.unwrap_or_default() {
                    if key.ends_with(".properties") && file.contains("process.roles") {
                        files.push(file);
                    }
                }
            }
            Ok(KafkaState {
                ready: kafka_ready(&kafka),
                objects: managed_objects(world).await?,
                restarts: world.restarts(),
                changed: !files.is_empty()
                    && files.iter().all(|file| file.contains(KafkaRoll::CHANGE)),
            })
        })
    }

    fn settled(&self, state: &KafkaState) -> bool {
        state.ready && state.changed
    }

    fn tear_down<'a>(&'a self, world: &'a World) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            no_secret_is_disclosed(world).await?;
            delete_all::<Kafka>(world).await?;
            statefulsets_collected(world).await
        })
    }
}

fn kafka_ready(kafka: &Kafka) -> bool {
    let status = kafka.status.as_ref();
    is_ready(
        status.and_then(|s| s.conditions.as_ref()),
        status.and_then(|s| s.observed_generation),
        kafka.metadata.generation,
    )
}

/// The single-node example's Kafka, Ready (before the faults), then its cluster CA renewed by
/// the user's `strimzi.io/force-renew` annotation on the certificate Secret (the CA
/// certificate's next generation), or with `replace_key` its key replaced by
/// `strimzi.io/force-replace` on the key Secret (the next key and certificate, written to two
/// Secrets); either way the node certificates issued again and the pod rolled onto them.
struct CaRenewal {
    name: String,
    replace_key: bool,
}

/// The Kafka's readiness; the operator's objects; each pod's restarts by the operator; the CA
/// key's and certificate's generations (0 made, 1 replaced or renewed once, 2 twice) and
/// whether the user's annotation is still there.
#[derive(Debug, PartialEq)]
struct CaState {
    ready: bool,
    objects: BTreeSet<String>,
    restarts: BTreeMap<String, usize>,
    generations: (Option<String>, Option<String>),
    forced: bool,
}

impl CaRenewal {
    const EXAMPLE: &str = "ephemeral-single-node.yaml";

    /// The Secret the user annotates, and the annotation.
    fn forced_secret(&self) -> (String, &'static str) {
        use kafka_operator::assembly::names;
        match self.replace_key {
            true => (
                names::cluster_ca_secret(&self.name),
                certs::FORCE_REPLACE_ANNOTATION,
            ),
            false => (
                names::cluster_ca_cert_secret(&self.name),
                certs::FORCE_RENEW_ANNOTATION,
            ),
        }
    }
}

impl Scenario for CaRenewal {
    type State = CaState;

    fn prepare<'a>(&'a self, world: &'a World) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let yaml = std::fs::read_to_string(repo_path("examples/kafka").join(Self::EXAMPLE))?;
            testenv::apply_yaml(&world.client, &yaml, &world.namespace).await?;
            let kafkas: Api<Kafka> = Api::namespaced(world.client.clone(), &world.namespace);
            testenv::eventually("the Kafka is Ready", WAIT, || async {
                Ok(kafka_ready(&kafkas.get(&self.name).await?))
            })
            .await
        })
    }

    fn drive<'a>(&'a self, world: &'a World) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let secrets: Api<Secret> = Api::namespaced(world.client.clone(), &world.namespace);
            let (name, annotation) = self.forced_secret();
            let force = json!({"metadata": {"annotations": {annotation: "true"}}});
            secrets
                .patch(&name, &PatchParams::default(), &Patch::Merge(&force))
                .await?;
            Ok(())
        })
    }

    fn end_state<'a>(&'a self, world: &'a World) -> BoxFuture<'a, Result<CaState>> {
        Box::pin(async move {
            let kafkas: Api<Kafka> = Api::namespaced(world.client.clone(), &world.namespace);
            let secrets: Api<Secret> = Api::namespaced(world.client.clone(), &world.namespace);
            use kafka_operator::assembly::names;
            let generation =
                |secret: &Secret, annotation: &str| secret.annotations().get(annotation).cloned();
            let key = secrets.get(&names::cluster_ca_secret(&self.name)).await?;
            let cert = secrets
                .get(&names::cluster_ca_cert_secret(&self.name))
                .await?;
            let (forced, annotation) = self.forced_secret();
            let forced = secrets.get(&forced).await?;
            Ok(CaState {
                ready: kafka_ready(&kafkas.get(&self.name).await?),
                objects: managed_objects(world).await?,
                restarts: world.restarts(),
                generations: (
                    generation(&key, certs::CA_KEY_GENERATION_ANNOTATION),
                    generation(&cert, certs::CA_CERT_GENERATION_ANNOTATION),
                ),
                forced: forced.annotations().contains_key(annotation),
            })
        })
    }

    fn settled(&self, state: &CaState) -> bool {
        let key = if self.replace_key { "1" } else { "0" };
        let generations = (
            state.generations.0.as_deref(),
            state.generations.1.as_deref(),
        );
        state.ready && !state.forced && generations == (Some(key), Some("1"))
    }

    fn tear_down<'a>(&'a self, world: &'a World) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            no_secret_is_disclosed(world).await?;
            delete_all::<Kafka>(world).await?;
            statefulsets_collected(world).await
        })
    }
}

/// A NameService and a Broker from the examples, Ready, then the Broker scaled out by a group.
struct RocketMQScaleOut;

/// Each kind's conditions (type and reason); the operator's objects; each pod's restarts by
/// the operator (none: scaling out restarts nothing).
#[derive(Debug, PartialEq)]
struct RocketMQState {
    conditions: BTreeMap<String, Vec<(String, Option<String>, bool)>>,
    objects: BTreeSet<String>,
    restarts: BTreeMap<String, usize>,
}

impl Scenario for RocketMQScaleOut {
    type State = RocketMQState;

    fn drive<'a>(&'a self, world: &'a World) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            for example in ["name-service.yaml", "broker.yaml"] {
                let yaml = std::fs::read_to_string(repo_path("examples/rocketmq").join(example))?;
                testenv::apply_yaml(&world.client, &yaml, &world.namespace).await?;
            }
            testenv::eventually("the NameService and the Broker are Ready", WAIT, || async {
                let state = self.end_state(world).await?;
                Ok(state.conditions.values().all(|conditions| {
                    conditions
                        .iter()
                        .any(|(type_, _, current)| type_ == "Ready" && *current)
                }) && state.conditions.len() == 2)
            })
            .await?;
            let brokers: Api<Broker> = Api::namespaced(world.client.clone(), &world.namespace);
            let out = json!({"spec": {"size": 2}});
            brokers
                .patch("broker", &PatchParams::default(), &Patch::Merge(&out))
                .await?;
            Ok(())
        })
    }

    fn end_state<'a>(&'a self, world: &'a World) -> BoxFuture<'a, Result<RocketMQState>> {
        Box::pin(async move {
            let (client, namespace) = (&world.client, world.namespace.as_str());
            let mut conditions = BTreeMap::new();
            for service in Api::<NameService>::namespaced(client.clone(), namespace)
                .list(&ListParams::default())
                .await?
            {
                let status = service.status.as_ref();
                let found = status
                    .and_then(|s| s.conditions.clone())
                    .unwrap_or_default();
                let current =
                    status.and_then(|s| s.observed_generation) == service.metadata.generation;
                conditions.insert(
                    format!("NameService/{}", service.name_any()),
                    summary(&found, current),
                );
            }
            for broker in Api::<Broker>::namespaced(client.clone(), namespace)
                .list(&ListParams::default())
                .await?
            {
                let status = broker.status.as_ref();
                let found = status
                    .and_then(|s| s.conditions.clone())
                    .unwrap_or_default();
                let current =
                    status.and_then(|s| s.observed_generation) == broker.metadata.generation;
                conditions.insert(
                    format!("Broker/{}", broker.name_any()),
                    summary(&found, current),
                );
            }
            Ok(RocketMQState {
                conditions,
                objects: managed_objects(world).await?,
                restarts: world.restarts(),
            })
        })
    }

    /// Both kinds Ready for their current generation, with the second group's pods there.
    fn settled(&self, state: &RocketMQState) -> bool {
        let ready = ("Ready".to_string(), None, true);
        state.conditions.len() == 2
            && state
                .conditions
                .values()
                .all(|found| found.contains(&ready))
            && state.objects.contains("Pod/broker-1-master-0")
    }

    fn tear_down<'a>(&'a self, world: &'a World) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            no_secret_is_disclosed(world).await?;
            delete_all::<Broker>(world).await?;
            delete_all::<NameService>(world).await?;
            statefulsets_collected(world).await
        })
    }
}

/// Conditions as (type, reason, whether the status is of the current generation), sorted.
fn summary(conditions: &[api::Condition], current: bool) -> Vec<(String, Option<String>, bool)> {
    let mut summary: Vec<_> = conditions
        .iter()
        .map(|c| (c.type_.clone(), c.reason.clone(), current))
        .collect();
    summary.sort();
    summary
}

/// Runs `scenario` with a fault after every write, on a proxy and Kafka of its own.
async fn crash_at_every_write<S: Scenario>(name: &str, scenario: S) -> Result<()> {
    let bench = Bench::start(name).await?;
    let (writes, tried) = bench
        .every_point(name, &scenario, size().both_trips)
        .await?;
    let replaying = std::env::var_os("CRASH_AT").is_some();
    assert!(
        replaying || tried as u64 * 2 >= writes,
        "most points are reached"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_converge_after_a_crash_at_every_write() -> Result<()> {
    let size = size();
    let (created, deleted) = (size.topics, size.topics_deleted);
    crash_at_every_write("topics", Topics { created, deleted }).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_converge_after_a_crash_at_every_write() -> Result<()> {
    let size = size();
    let (created, deleted) = (size.users, size.users_deleted);
    crash_at_every_write("users", Users { created, deleted }).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kafka_and_its_roll_converge_after_a_crash_at_every_write() -> Result<()> {
    let example = size().kafka_example;
    let name = kafka_name(example)?;
    crash_at_every_write("kafka", KafkaRoll { example, name }).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_renewal_converges_after_a_crash_at_every_write() -> Result<()> {
    let name = kafka_name(CaRenewal::EXAMPLE)?;
    let renewal = CaRenewal {
        name,
        replace_key: false,
    };
    crash_at_every_write("ca-renewal", renewal).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_key_replacement_converges_after_a_crash_at_every_write() -> Result<()> {
    let name = kafka_name(CaRenewal::EXAMPLE)?;
    let replacement = CaRenewal {
        name,
        replace_key: true,
    };
    crash_at_every_write("ca-key-replacement", replacement).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rocketmq_scaling_out_converges_after_a_crash_at_every_write() -> Result<()> {
    crash_at_every_write("rocketmq", RocketMQScaleOut).await
}

/// Missed events: the watch of KafkaTopics loses the event of a new topic (the connection stays
/// open, so nothing tells the operator). Every watch ends after one resync interval and resumes
/// from the last version received, so the topic is made within about one interval, not at the
/// next relist minutes later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_watch_event_is_made_up_for_within_one_resync_interval() -> Result<()> {
    let bench = Bench::start("missed-events").await?;
    let world = bench.world().await?;
    let operator = Supervised::start(bench.operator_args(&world.namespace), &bench.dir).await?;
    let topics: Api<KafkaTopic> = Api::namespaced(world.client.clone(), &world.namespace);
    // Once the operator's watch is open, so that what it misses is an event, not a list.
    tokio::time::sleep(Duration::from_secs(2)).await;
    bench.proxy.hide_watch_events(Some("/kafkatopics"));
    let name = "missed";
    let topic = json!({"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic",
        "metadata": {"name": name, "labels": {"strimzi.io/cluster": CLUSTER}},
        "spec": {"topicName": format!("{}.{name}", world.namespace)}});
    topics
        .patch(name, &PatchParams::apply("faults"), &Patch::Apply(&topic))
        .await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let unseen = topics.get(name).await?;
    assert!(
        unseen.status.is_none() && unseen.finalizers().is_empty(),
        "the operator saw the hidden event"
    );
    bench.proxy.hide_watch_events(None);
    let shown = tokio::time::Instant::now();
    testenv::eventually("the missed topic is Ready", WAIT, || async {
        Ok(topic_ready(&topics.get(name).await?))
    })
    .await?;
    let took = shown.elapsed();
    assert!(
        took < RESYNC + Duration::from_secs(5),
        "took {took:?}, more than one resync interval ({RESYNC:?})"
    );
    operator.stop().await
}

/// Sieve's stale view: the operator's cache never sees a Kafka change (every `MODIFIED` event
/// of its watch hidden), so it never sees the cluster ID it wrote. It must still hand the
/// cluster exactly one ID, since storage formatted with one ID refuses another, and go on to
/// build the cluster with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_view_never_gives_a_kafka_a_second_cluster_id() -> Result<()> {
    let bench = Bench::start("stale-view").await?;
    let world = bench.world().await?;
    let operator = Supervised::start(bench.operator_args(&world.namespace), &bench.dir).await?;
    // Once the operator's watch is open, so that it sees the Kafka come and nothing after.
    tokio::time::sleep(Duration::from_secs(2)).await;
    bench.proxy.hide_watch_updates("/kafkas");
    let kafkas: Api<Kafka> = Api::namespaced(world.client.clone(), &world.namespace);
    let ids = Arc::new(std::sync::Mutex::new(BTreeSet::new()));
    let config = watcher::Config::default().fields(&format!("metadata.name={CLUSTER}"));
    let mut watch = watcher::watcher(kafkas.clone(), config).boxed();
    let seen = ids.clone();
    let recorder = tokio::spawn(async move {
        while let Some(event) = watch.next().await {
            if let Ok(watcher::Event::Apply(kafka) | watcher::Event::InitApply(kafka)) = event
                && let Some(id) = kafka.status.and_then(|status| status.cluster_id)
            {
                seen.lock().unwrap().insert(id);
            }
        }
    });
    let yaml = std::fs::read_to_string(repo_path("examples/kafka/ephemeral-single-node.yaml"))?;
    testenv::apply_yaml(&world.client, &yaml, &world.namespace).await?;
    let sets: Api<StatefulSet> = Api::namespaced(world.client.clone(), &world.namespace);
    let made = testenv::eventually("the StatefulSet is made", WAIT, || async {
        let made = sets.list_metadata(&ListParams::default()).await?.items;
        Ok(!made.is_empty())
    })
    .await;
    if made.is_ok() {
        // Less than a resync, after which the operator reads the Kafka afresh.
        tokio::time::sleep(RESYNC / 2).await;
    }
    recorder.abort();
    let ids = ids.lock().unwrap().len();
    assert_eq!(ids, 1, "cluster IDs handed out: {ids}");
    made?;
    bench.proxy.hide_watch_events(None);
    operator.stop().await?;
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(world.client);
    namespaces
        .delete(&world.namespace, &DeleteParams::default())
        .await?;
    Ok(())
}

/// The API server unreachable for 30 s (every request held, as a stopped server or a cut
/// network leaves them) in the middle of creating 1,000 KafkaTopics and 1,000 KafkaUsers: the
/// operator keeps running and healthy, and afterwards everything converges with nothing made
/// twice: every topic exists once with its partitions, and every sampled user signs in with
/// the password its Secret holds (a credential made again would differ from its Secret).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_server_outage_under_load_is_ridden_out() -> Result<()> {
    const COUNT: usize = 1000;
    const OUTAGE: Duration = Duration::from_secs(30);
    let bench = Bench::start("outage").await?;
    let world = bench.world().await?;
    let operator = start_operator(&bench.operator_args(&world.namespace), &bench.dir).await?;
    let topics: Api<KafkaTopic> = Api::namespaced(world.client.clone(), &world.namespace);
    let users: Api<KafkaUser> = Api::namespaced(world.client.clone(), &world.namespace);
    let params = PatchParams::apply("outage");
    let creates = (0..COUNT).map(|index| {
        let (topics, users, params, namespace) = (&topics, &users, &params, &world.namespace);
        async move {
            let name = Topics::name(index);
            let topic = json!({"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic",
                "metadata": {"name": name, "labels": {"strimzi.io/cluster": CLUSTER}},
                "spec": {"topicName": format!("{namespace}.{name}"), "partitions": 2}});
            topics.patch(&name, params, &Patch::Apply(&topic)).await?;
            let name = outage_user(index);
            let user = json!({"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaUser",
                "metadata": {"name": name, "labels": {"strimzi.io/cluster": CLUSTER}},
                "spec": Users::spec(0, &name)});
            users.patch(&name, params, &Patch::Apply(&user)).await?;
            anyhow::Ok(())
        }
    });
    let created: Vec<Result<()>> = futures::stream::iter(creates)
        .buffer_unordered(16)
        .collect()
        .await;
    created.into_iter().collect::<Result<Vec<()>>>()?;
    let ready = || async {
        let topics = topics.list(&ListParams::default()).await?.items;
        let users = users.list(&ListParams::default()).await?.items;
        anyhow::Ok(
            topics.iter().filter(|t| topic_ready(t)).count()
                + users.iter().filter(|u| user_ready(u)).count(),
        )
    };
    // Mid-way: some Ready, most not.
    operator
        .poll(
            "some resources are Ready",
            Duration::from_millis(200),
            || async { Ok(ready().await? >= COUNT / 5) },
        )
        .await?;
    let before = ready().await?;
    if before >= 2 * COUNT {
        bail!("everything was Ready before the outage: it would test nothing");
    }

    bench.proxy.set_stalled(true);
    let cut = tokio::time::Instant::now();
    while cut.elapsed() < OUTAGE {
        operator.check_running()?;
        if !operator.healthy().await {
            bail!("the operator's /healthz failed during the outage");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    bench.proxy.set_stalled(false);
    let back = tokio::time::Instant::now();
    operator
        .poll(
            "everything is Ready",
            Duration::from_millis(500),
            || async { Ok(ready().await? == 2 * COUNT) },
        )
        .await?;
    eprintln!(
        "outage: {before} of {} Ready when the API server went away for {OUTAGE:?}; all Ready \
         {:.1} s after it came back",
        2 * COUNT,
        back.elapsed().as_secs_f64()
    );

    let prefix = format!("{}.", world.namespace);
    let in_kafka: BTreeMap<String, usize> = world
        .admin
        .list_topics()
        .await?
        .into_iter()
        .filter(|(name, _)| name.starts_with(&prefix))
        .map(|(name, description)| (name, description.partitions.len()))
        .collect();
    assert_eq!(in_kafka.len(), COUNT, "topics in Kafka");
    assert!(in_kafka.values().all(|partitions| *partitions == 2));
    let secrets: Api<Secret> = Api::namespaced(world.client.clone(), &world.namespace);
    for index in (0..COUNT).step_by(50) {
        let name = outage_user(index);
        let password = secrets
            .get(&name)
            .await?
            .data
            .and_then(|mut data| data.remove("password"))
            .context("a password")?;
        let mut config = ClientConfig::new([world.kafka.bootstrap(Listener::Scram)]);
        config.sasl = Some(SaslConfig::ScramSha512 {
            username: name.clone(),
            password: String::from_utf8(password.0)?,
        });
        AdminClient::connect(config)
            .await
            .with_context(|| format!("{name} signs in with its Secret's password"))?;
    }
    no_secret_is_disclosed(&world).await?;
    // The Kafka is shared with the other scenarios: the operator takes back what it made.
    delete_all::<KafkaUser>(&world).await?;
    delete_all::<KafkaTopic>(&world).await?;
    operator
        .poll(
            "every topic and user is gone",
            Duration::from_millis(500),
            || async {
                let left = topics
                    .list_metadata(&ListParams::default())
                    .await?
                    .items
                    .len()
                    + users
                        .list_metadata(&ListParams::default())
                        .await?
                        .items
                        .len();
                Ok(left == 0)
            },
        )
        .await?;
    operator.kill().await
}

/// The outage test's users: names no other scenario's users have, as they share one Kafka.
fn outage_user(index: usize) -> String {
    format!("outage-user-{index}")
}

/// Time travel: the operator killed in the middle of a roll while its API server restarts from
/// the same etcd (a new watch cache, every connection cut), then started again. Whatever it
/// reads first, it must not restart a pod the roll already restarted, nor scale either way:
/// at the end every pod of the spec is there and was restarted by the operator exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_mid_roll_against_a_restarted_api_server_restarts_each_pod_once() -> Result<()> {
    let mut server = testenv::shared().await.another_api_server().await?;
    let bench = Bench::through("time-travel", server.client().await?).await?;
    let world = bench.world().await?;
    let example = "persistent-dual-pool.yaml";
    let roll = KafkaRoll {
        example,
        name: kafka_name(example)?,
    };
    let args = bench.operator_args(&world.namespace);
    let operator = start_operator(&args, &bench.dir).await?;
    roll.drive(&world).await?;
    let pods = format!("/api/v1/namespaces/{}/pods/", world.namespace);
    testenv::eventually("the roll has restarted a pod", WAIT, || async {
        Ok(!world.proxy.deletions(&pods).is_empty())
    })
    .await?;
    operator.kill().await?;
    let mid_roll = world.restarts();
    server.restart().await?;
    let operator = start_operator(&args, &bench.dir).await?;
    operator
        .poll("the roll is done", Duration::from_millis(500), || async {
            Ok(roll.settled(&roll.end_state(&world).await?))
        })
        .await?;
    // Anything the operator still had in mind would come within a few seconds.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let state = roll.end_state(&world).await?;
    let in_spec: BTreeSet<String> = state
        .objects
        .iter()
        .filter_map(|object| object.strip_prefix("Pod/"))
        .map(str::to_string)
        .collect();
    let restarted: BTreeSet<String> = state.restarts.keys().cloned().collect();
    eprintln!(
        "time travel: killed after {mid_roll:?}; restarts at the end {:?}",
        state.restarts
    );
    assert_eq!(in_spec.len(), 6, "the example's six pods: {in_spec:?}");
    assert_eq!(restarted, in_spec, "every pod rolled");
    assert!(
        state.restarts.values().all(|times| *times == 1),
        "a pod restarted twice: {:?}",
        state.restarts
    );
    roll.tear_down(&world).await?;
    operator.kill().await?;
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(world.client);
    namespaces
        .delete(&world.namespace, &DeleteParams::default())
        .await?;
    Ok(())
}
