//! State-transition sequences, as Acto drives operators: generated changes to a Kafka, its
//! node pool, a KafkaTopic and a KafkaUser (valid ones and near-valid ones), each applied with
//! the cluster, topic and user operators running, each followed by its undo, and after every
//! step oracles that need no hand-written expectation:
//!
//! - the changed resource is Ready for its generation, or NotReady with a message a person can
//!   act on;
//! - Ready, the pool's ConfigMap is what `render` builds for the same spec, the topic in Kafka
//!   has the partitions and config its spec declares, and the user has in Kafka exactly the
//!   ACLs and quotas the user operator's model of its spec gives, and its Secret's password
//!   logs in;
//! - a refused topic or user change leaves what Kafka holds (the topic, the user's ACLs, quotas
//!   and credential) as it was, and every undo brings it back;
//! - an invalid change leaves the running cluster untouched: no pod restarted, no object gone;
//! - a change and its undo make the operator restart each pod at most twice (once each way),
//!   never more, and return the ConfigMap to where it was; a topic or user change restarts
//!   none.
//!
//! The seed is printed and `SEQUENCE_SEED` replays it; `SEQUENCE_STEPS` sets the length (10 in
//! `make test`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail, ensure};
use api::kafka::{
    Kafka, KafkaNodePool, KafkaNodePoolSpec, KafkaSpec, KafkaTopic, KafkaTopicSpec, KafkaUser,
    KafkaUserSpec,
};
use brokerage_e2e::operators::{Clusters, KafkaTopics, KafkaUsers, Operators};
use brokerage_e2e::{repo_path, secured_kafka_options, setup, topic_in_kafka};
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret};
use kafka_client::{
    AclBinding, AclBindingFilter, AdminClient, ClientConfig, QuotaFilter, QuotaMatch, SaslConfig,
};
use kafka_operator::admin::AdminOverride;
use kafka_operator::assembly::{Inputs, render};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Value, json};
use testenv::ApiProxy;
use testenv::kafka::{KafkaCluster, Listener};

const CLUSTER: &str = "my-cluster";
const POOL: &str = "dual-role";
const WAIT: Duration = Duration::from_secs(90);
/// The reasons of a change the operator refuses.
const REFUSALS: [&str; 2] = ["InvalidSpec", "NotSupported"];

const TOPIC: &str = "sequence-topic";
/// The reasons of a topic change the operator or Kafka refuses.
const TOPIC_REFUSALS: [&str; 3] = ["InvalidSpec", "NotSupported", "KafkaError"];

const USER: &str = "sequence-user";
/// The reasons of a user change the operator refuses (a missing password Secret is a
/// `KafkaError`, retried until it appears).
const USER_REFUSALS: [&str; 2] = ["InvalidSpec", "KafkaError"];

/// One generated change: a merge patch of the Kafka, its pool, the topic or the user, and
/// whether it is valid.
#[derive(Clone, Debug)]
enum Change {
    Kafka(Value, bool),
    Pool(Value, bool),
    Topic(Value, bool),
    User(Value, bool),
}

impl Change {
    fn valid(&self) -> bool {
        let (Change::Kafka(_, valid)
        | Change::Pool(_, valid)
        | Change::Topic(_, valid)
        | Change::User(_, valid)) = self;
        *valid
    }

    /// Whether the change is to the Kafka or its pool, the only ones that may restart pods.
    fn to_the_cluster(&self) -> bool {
        matches!(self, Change::Kafka(..) | Change::Pool(..))
    }
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        (1..200i64).prop_map(|hours| Change::Kafka(
            json!({"spec": {"kafka": {"config": {"log.retention.hours": hours}}}}),
            true
        )),
        // The pool is dual-role: on a static quorum, changing its size changes the controllers,
        // which is refused; the same size is no change at all.
        (1..4i64).prop_map(|replicas| Change::Pool(
            json!({"spec": {"replicas": replicas}}),
            replicas == 1
        )),
        (9100..9200i32).prop_map(|port| Change::Kafka(
            json!({"spec": {"kafka": {"listeners": [
                {"name": "plain", "port": 9092, "type": "internal", "tls": false},
                {"name": "extra", "port": port, "type": "internal", "tls": false}]}}}),
            true
        )),
        // Near-valid: each is refused with a condition, and must touch nothing.
        Just(Change::Kafka(
            json!({"spec": {"kafka": {"listeners": [
                {"name": "plain", "port": 9092, "type": "route", "tls": false}]}}}),
            false
        )),
        Just(Change::Kafka(
            json!({"spec": {"kafka": {"version": "3.2.0"}}}),
            false
        )),
        Just(Change::Kafka(
            json!({"spec": {"kafka": {"listeners": [
                {"name": "plain", "port": 9092, "type": "internal", "tls": false},
                {"name": "again", "port": 9092, "type": "internal", "tls": false}]}}}),
            false
        )),
        Just(Change::Pool(json!({"spec": {"roles": ["broker"]}}), false)),
        (60_000..1_000_000_000i64)
            .prop_map(|ms| Change::Topic(json!({"spec": {"config": {"retention.ms": ms}}}), true)),
        Just(Change::Topic(
            json!({"spec": {"config": {"cleanup.policy": "compact"}}}),
            true
        )),
        // Near-valid: fewer partitions, another replication factor (one broker), a value
        // Kafka refuses, a rename.
        Just(Change::Topic(json!({"spec": {"partitions": 1}}), false)),
        Just(Change::Topic(json!({"spec": {"replicas": 2}}), false)),
        Just(Change::Topic(
            json!({"spec": {"config": {"retention.ms": "soon"}}}),
            false
        )),
        Just(Change::Topic(
            json!({"spec": {"topicName": "another-teams-topic"}}),
            false
        )),
        prop::collection::vec(acl_rule(), 0..3).prop_map(|acls| Change::User(
            json!({"spec": {"authorization": {"type": "simple", "acls": acls}}}),
            true
        )),
        (1024..10_000_000i64, 1024..10_000_000i64).prop_map(|(produce, fetch)| Change::User(
            json!({"spec": {"quotas": {"producerByteRate": produce, "consumerByteRate": fetch}}}),
            true
        )),
        (1..=100i32).prop_map(|percent| Change::User(
            json!({"spec": {"quotas": {"requestPercentage": percent}}}),
            true
        )),
        // Near-valid: a rule without operations or without a topic name, a host Kafka would
        // never match, a quota out of range, a password for a certificate user, a password
        // Secret that does not exist.
        Just(Change::User(
            json!({"spec": {"authorization": {"type": "simple", "acls": [
                {"resource": {"type": "topic", "name": "orders"}, "operations": []}]}}}),
            false
        )),
        Just(Change::User(
            json!({"spec": {"authorization": {"type": "simple", "acls": [
                {"resource": {"type": "topic"}, "operations": ["Read"]}]}}}),
            false
        )),
        Just(Change::User(
            json!({"spec": {"authorization": {"type": "simple", "acls": [
                {"resource": {"type": "topic", "name": "orders"}, "operations": ["Read"],
                 "host": "10.0.0.0/8"}]}}}),
            false
        )),
        Just(Change::User(
            json!({"spec": {"quotas": {"requestPercentage": 101}}}),
            false
        )),
        Just(Change::User(
            json!({"spec": {"authentication": {"type": "tls",
                "password": {"valueFrom": {"secretKeyRef": {"name": USER, "key": "password"}}}}}}),
            false
        )),
        Just(Change::User(
            json!({"spec": {"authentication": {"type": "scram-sha-512",
                "password": {"valueFrom": {"secretKeyRef": {"name": "no-such-secret",
                    "key": "password"}}}}}}),
            false
        )),
    ]
}

/// One ACL rule, with operations that Kafka takes for its resource type.
fn acl_rule() -> impl Strategy<Value = Value> {
    let resources = vec![
        (
            json!({"type": "topic", "name": "orders"}),
            vec!["Read", "Write", "Describe"],
        ),
        (
            json!({"type": "topic", "name": "team-", "patternType": "prefix"}),
            vec!["Read", "Create", "Describe"],
        ),
        (
            json!({"type": "group", "name": "app"}),
            vec!["Read", "Describe"],
        ),
        (
            json!({"type": "cluster"}),
            vec!["Describe", "IdempotentWrite"],
        ),
    ];
    prop::sample::select(resources)
        .prop_flat_map(|(resource, operations)| {
            (
                Just(resource),
                prop::sample::subsequence(operations, 1..=2),
                prop::bool::ANY,
            )
        })
        .prop_map(|(resource, operations, allow)| {
            let rule = if allow { "allow" } else { "deny" };
            json!({"resource": resource, "operations": operations, "type": rule})
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_change_sequences_keep_the_kafka_in_its_declared_state() -> Result<()> {
    let seed: u64 = match std::env::var("SEQUENCE_SEED") {
        Ok(seed) => seed.parse().context("SEQUENCE_SEED is a number")?,
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_nanos() as u64,
    };
    let steps: usize = std::env::var("SEQUENCE_STEPS")
        .ok()
        .and_then(|steps| steps.parse().ok())
        .unwrap_or(10);
    eprintln!("sequences: {steps} changes, SEQUENCE_SEED={seed}");
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    );
    let changes = prop::collection::vec(change(), steps)
        .new_tree(&mut runner)
        .map_err(|reason| anyhow::anyhow!("{reason}"))?
        .current();

    let kafka =
        tokio::task::spawn_blocking(|| KafkaCluster::start(&secured_kafka_options())).await??;
    let (client, namespace) = setup("sequences").await?;
    // The operator's way to the API server, which records each pod it deletes.
    let proxy = ApiProxy::start(client.clone()).await?;
    start_operator(
        &proxy.client()?,
        &namespace,
        kafka.bootstrap(Listener::Plain),
    );
    // On Kafka 4.0, so that the quorum is static and resizing the dual-role pool is refused:
    // there are no real controllers here for a dynamic quorum to add.
    let yaml = std::fs::read_to_string(repo_path("examples/kafka/ephemeral-single-node.yaml"))?
        .replacen(
            "spec:\n  kafka:\n",
            "spec:\n  kafka:\n    version: 4.0.0\n",
            1,
        );
    ensure!(
        yaml.contains("version: 4.0.0"),
        "the example's spec.kafka moved"
    );
    testenv::apply_yaml(&client, &yaml, &namespace).await?;
    let world = World::new(&client, &namespace, &kafka, proxy).await?;
    world.create_topic().await?;
    world.create_user().await?;
    world.ready().await?;

    let mut refused_at_admission = 0;
    for (step, change) in changes.iter().enumerate() {
        let context = || format!("step {step} ({change:?}) of SEQUENCE_SEED={seed}");
        let before = world.specs().await?;
        let before_config = world.config_map().await?;
        let before_objects = world.objects().await?;
        let before_held = world.held_by_kafka().await?;
        let restarts = world.restarts();

        let valid = change.valid();
        if !world.apply(change).await.with_context(context)? {
            if valid {
                bail!("{}: the API server refused a valid change", context());
            }
            refused_at_admission += 1;
            continue;
        }
        let ready = match change {
            Change::Topic(..) => world.topic_settled().await,
            Change::User(..) => world.user_settled().await,
            Change::Kafka(..) | Change::Pool(..) => world.settled().await,
        };
        let ready = ready.with_context(context)?;
        if ready != valid {
            bail!("{}: expected Ready {valid}, got Ready {ready}", context());
        }
        if valid {
            match change {
                Change::Topic(..) => world.topic_matches_spec().await,
                Change::User(..) => world.user_matches_spec().await,
                Change::Kafka(..) | Change::Pool(..) => world.matches_render().await,
            }
            .with_context(context)?;
        } else {
            let held = world.held_by_kafka().await?;
            if held != before_held {
                bail!(
                    "{}: a refused change altered what Kafka holds: {held:?}, not {before_held:?}",
                    context()
                );
            }
            if world.objects().await? != before_objects {
                bail!("{}: an invalid change deleted or added objects", context());
            }
            if world.config_map().await? != before_config {
                bail!("{}: an invalid change changed the configuration", context());
            }
        }

        // The undo: the previous specs again.
        world.restore(&before).await?;
        world.ready().await.with_context(context)?;
        if world.config_map().await? != before_config {
            bail!("{}: the undo did not restore the configuration", context());
        }
        let held = world.held_by_kafka().await?;
        if held != before_held {
            bail!(
                "{}: the undo left Kafka holding {held:?}, not {before_held:?}",
                context()
            );
        }
        let restarted = world.restarts_since(&restarts);
        if !change.to_the_cluster() && !restarted.is_empty() {
            bail!(
                "{}: a topic or user change restarted pods: {restarted:?}",
                context()
            );
        }
        if let Some((pod, times)) = restarted.iter().find(|(_, times)| **times > 2) {
            bail!(
                "{}: {pod} restarted {times} times for a change and its undo",
                context()
            );
        }
        if !valid && restarted.values().any(|times| *times > 0) {
            bail!(
                "{}: an invalid change restarted pods: {restarted:?}",
                context()
            );
        }
    }
    let count = |of: fn(&Change) -> bool| changes.iter().filter(|change| of(change)).count();
    let topic_changes = count(|change| matches!(change, Change::Topic(..)));
    let user_changes = count(|change| matches!(change, Change::User(..)));
    eprintln!(
        "sequences: {steps} changes run ({topic_changes} to the topic, {user_changes} to the \
         user), {refused_at_admission} refused at admission"
    );
    Ok(())
}

/// Runs the cluster, topic and user operators in this test's runtime, reaching the Kafka through
/// `bootstrap` (no Kafka runs behind kwok's pods; rolls ask the real one whether they are safe,
/// and the topic and the user are made there).
fn start_operator(client: &Client, namespace: &str, bootstrap: String) {
    let overrides = vec![AdminOverride {
        namespace: Some(namespace.to_string()),
        cluster: CLUSTER.into(),
        config: ClientConfig::new([bootstrap]),
    }];
    Operators::watching(client, &[namespace])
        .kafka(overrides)
        .start(&[Clusters, KafkaTopics, KafkaUsers]);
}

struct World {
    kafkas: Api<Kafka>,
    pools: Api<KafkaNodePool>,
    topics: Api<KafkaTopic>,
    users: Api<KafkaUser>,
    secrets: Api<Secret>,
    config_maps: Api<ConfigMap>,
    pods: Api<Pod>,
    /// The real Kafka, where the topic and the user are looked at, as a super user.
    admin: AdminClient,
    /// Where the user logs in with its Secret's password.
    scram_bootstrap: String,
    /// The topic's name in Kafka: the namespace's own, as other tests share the Kafka.
    topic_name: String,
    proxy: ApiProxy,
    namespace: String,
}

/// The specs a step may change, to put back after it.
struct Specs {
    kafka: KafkaSpec,
    pool: KafkaNodePoolSpec,
    topic: KafkaTopicSpec,
    user: KafkaUserSpec,
}

/// What Kafka holds for the topic and the user, which a refused change must leave and an undo
/// must bring back.
#[derive(Debug, PartialEq)]
struct HeldByKafka {
    /// The topic's partition count and its topic-level config.
    topic: (usize, BTreeMap<String, String>),
    acls: BTreeSet<AclBinding>,
    quotas: BTreeMap<String, f64>,
    /// The password in the user's Secret, and whether it logs in.
    password: String,
    logs_in: bool,
}

impl World {
    async fn new(
        client: &Client,
        namespace: &str,
        kafka: &KafkaCluster,
        proxy: ApiProxy,
    ) -> Result<World> {
        let bootstrap = kafka.bootstrap(Listener::Plain);
        Ok(World {
            kafkas: Api::namespaced(client.clone(), namespace),
            pools: Api::namespaced(client.clone(), namespace),
            topics: Api::namespaced(client.clone(), namespace),
            users: Api::namespaced(client.clone(), namespace),
            secrets: Api::namespaced(client.clone(), namespace),
            config_maps: Api::namespaced(client.clone(), namespace),
            pods: Api::namespaced(client.clone(), namespace),
            admin: AdminClient::connect(ClientConfig::new([bootstrap])).await?,
            scram_bootstrap: kafka.bootstrap(Listener::Scram),
            topic_name: format!("{namespace}.sequence"),
            proxy,
            namespace: namespace.to_string(),
        })
    }

    /// The KafkaTopic the topic changes apply to: two partitions, one replica, one config key.
    async fn create_topic(&self) -> Result<()> {
        let topic = json!({"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic",
            "metadata": {"name": TOPIC, "labels": {"strimzi.io/cluster": CLUSTER}},
            "spec": {"topicName": self.topic_name, "partitions": 2, "replicas": 1,
                "config": {"retention.ms": 3_600_000}}});
        let params = PatchParams::apply("sequences");
        self.topics
            .patch(TOPIC, &params, &Patch::Apply(&topic))
            .await?;
        Ok(())
    }

    /// The KafkaUser the user changes apply to: SCRAM, with a generated password, allowed to
    /// read one topic.
    async fn create_user(&self) -> Result<()> {
        let user = json!({"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaUser",
            "metadata": {"name": USER, "labels": {"strimzi.io/cluster": CLUSTER}},
            "spec": {"authentication": {"type": "scram-sha-512"},
                "authorization": {"type": "simple", "acls": [
                    {"resource": {"type": "topic", "name": "orders"}, "operations": ["Read"]}]}}});
        let params = PatchParams::apply("sequences");
        self.users
            .patch(USER, &params, &Patch::Apply(&user))
            .await?;
        Ok(())
    }

    /// Waits until the topic's status is of its generation and Ready, or NotReady refusing the
    /// change with a message; returns whether it is Ready.
    async fn topic_settled(&self) -> Result<bool> {
        settled(&self.topics, TOPIC, &TOPIC_REFUSALS, topic_status).await
    }

    /// As [`topic_settled`](Self::topic_settled), for the user.
    async fn user_settled(&self) -> Result<bool> {
        settled(&self.users, USER, &USER_REFUSALS, user_status).await
    }

    /// The user has in Kafka exactly the ACLs and quotas the user operator's model of its spec
    /// gives, and its Secret's password logs in.
    async fn user_matches_spec(&self) -> Result<()> {
        let user = self.users.get(USER).await?;
        let model =
            kafka_operator::users::model::validate(&user).map_err(|error| anyhow!(error))?;
        let held = self.held_by_kafka().await?;
        if held.acls != model.acls || held.quotas != model.quotas {
            bail!(
                "the user has in Kafka {:?} and {:?}; its spec says {:?} and {:?}",
                held.acls,
                held.quotas,
                model.acls,
                model.quotas
            );
        }
        if !held.logs_in {
            bail!("the password in the user's Secret does not log in");
        }
        Ok(())
    }

    async fn held_by_kafka(&self) -> Result<HeldByKafka> {
        let principal = format!("User:{USER}");
        let acls = self
            .admin
            .describe_acls(&AclBindingFilter::principal(&principal))
            .await?;
        let quotas = QuotaFilter {
            components: vec![("user".into(), QuotaMatch::Exact(USER.into()))],
            strict: true,
        };
        let quotas = self.admin.describe_client_quotas(&quotas).await?;
        let secret = self.secrets.get(USER).await?;
        let password = secret
            .data
            .and_then(|mut data| data.remove("password"))
            .map(|password| String::from_utf8_lossy(&password.0).into_owned())
            .unwrap_or_default();
        let mut login = ClientConfig::new([self.scram_bootstrap.clone()]);
        login.sasl = Some(SaslConfig::ScramSha512 {
            username: USER.into(),
            password: password.clone(),
        });
        Ok(HeldByKafka {
            topic: self.topic_in_kafka().await?,
            acls: acls.into_iter().collect(),
            quotas: quotas
                .into_iter()
                .next()
                .map(|(_, quotas)| quotas)
                .unwrap_or_default(),
            logs_in: AdminClient::connect(login).await.is_ok(),
            password,
        })
    }

    /// The topic's partition count and its topic-level config in Kafka.
    async fn topic_in_kafka(&self) -> Result<(usize, BTreeMap<String, String>)> {
        topic_in_kafka(&self.admin, &self.topic_name)
            .await?
            .context("the topic is in Kafka")
    }

    /// The topic in Kafka has the partitions and exactly the config its spec declares.
    async fn topic_matches_spec(&self) -> Result<()> {
        let spec = self.topics.get(TOPIC).await?.spec;
        let declared: BTreeMap<String, String> = serde_json::to_value(&spec.config)?
            .as_object()
            .into_iter()
            .flatten()
            .map(|(key, value)| match value {
                Value::String(text) => (key.clone(), text.clone()),
                other => (key.clone(), other.to_string()),
            })
            .collect();
        let (partitions, config) = self.topic_in_kafka().await?;
        let expected = usize::try_from(spec.partitions.unwrap_or_default()).unwrap_or_default();
        if partitions != expected || config != declared {
            bail!(
                "the topic in Kafka has {partitions} partitions and {config:?}; its spec says \
                 {expected} and {declared:?}"
            );
        }
        Ok(())
    }

    /// Applies `change`. Returns whether the API server admitted it: a change its schema
    /// refuses never reaches the operator.
    async fn apply(&self, change: &Change) -> Result<bool> {
        let applied = match change {
            Change::Kafka(patch, _) => merge(&self.kafkas, CLUSTER, patch).await,
            Change::Pool(patch, _) => merge(&self.pools, POOL, patch).await,
            Change::Topic(patch, _) => merge(&self.topics, TOPIC, patch).await,
            Change::User(patch, _) => merge(&self.users, USER, patch).await,
        };
        match applied {
            Ok(()) => Ok(true),
            Err(kube::Error::Api(status)) if status.code == 422 => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    async fn specs(&self) -> Result<Specs> {
        Ok(Specs {
            kafka: self.kafkas.get(CLUSTER).await?.spec,
            pool: self.pools.get(POOL).await?.spec,
            topic: self.topics.get(TOPIC).await?.spec,
            user: self.users.get(USER).await?.spec,
        })
    }

    /// Puts the specs back as they were, whole, retrying when a status write got in between.
    async fn restore(&self, specs: &Specs) -> Result<()> {
        replace_spec(&self.kafkas, CLUSTER, |live| {
            live.spec = specs.kafka.clone()
        })
        .await?;
        replace_spec(&self.pools, POOL, |live| live.spec = specs.pool.clone()).await?;
        replace_spec(&self.topics, TOPIC, |live| live.spec = specs.topic.clone()).await?;
        replace_spec(&self.users, USER, |live| live.spec = specs.user.clone()).await
    }

    /// Waits until the Kafka's status is of its generation and either Ready (the pool's status
    /// of its generation too, every pod Ready), or NotReady refusing the change with a message;
    /// returns whether it is Ready. Called when the Kafka was Ready before, so a refusal seen
    /// is this change's.
    async fn settled(&self) -> Result<bool> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let (current, pool_current, conditions) = self.kafka_state().await?;
            if current {
                if pool_current
                    && conditions.iter().any(|c| c.type_ == "Ready")
                    && self.pods_ready().await?
                {
                    return Ok(true);
                }
                // Other reasons (Creating, RollingUpdate, PodsNotReady...) pass.
                if refused(&conditions, &REFUSALS)? {
                    return Ok(false);
                }
            }
            if tokio::time::Instant::now() > deadline {
                bail!("the Kafka did not settle within {WAIT:?}: {conditions:?}");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Whether the Kafka's and the pool's statuses are for their current generations, and the
    /// Kafka's conditions.
    async fn kafka_state(&self) -> Result<(bool, bool, Vec<api::Condition>)> {
        let kafka = self.kafkas.get(CLUSTER).await?;
        let pool = self.pools.get(POOL).await?;
        let status = kafka.status.as_ref();
        let current = status.and_then(|s| s.observed_generation) == kafka.metadata.generation;
        let pool_current =
            pool.status.as_ref().and_then(|s| s.observed_generation) == pool.metadata.generation;
        let conditions = status
            .and_then(|s| s.conditions.clone())
            .unwrap_or_default();
        Ok((current, pool_current, conditions))
    }

    /// Waits until the Kafka, its pool, the topic and the user are Ready for their generations,
    /// every pod Ready.
    async fn ready(&self) -> Result<()> {
        // No refusal ends the wait: a valid spec may meet a passing error first.
        settled(&self.topics, TOPIC, &[], topic_status).await?;
        settled(&self.users, USER, &[], user_status).await?;
        testenv::eventually("the Kafka is Ready again", WAIT, || async {
            let (current, pool_current, conditions) = self.kafka_state().await?;
            let ready = conditions.iter().any(|c| c.type_ == "Ready");
            Ok(current && pool_current && ready && self.pods_ready().await?)
        })
        .await
    }

    async fn pods_ready(&self) -> Result<bool> {
        let replicas = self.pools.get(POOL).await?.spec.replicas;
        let pods = self.pods.list(&cluster_pods()).await?.items;
        Ok(pods.len() == usize::try_from(replicas).unwrap_or_default()
            && pods.iter().all(|pod| {
                pod.metadata.deletion_timestamp.is_none() && runtime::pods::is_ready(pod)
            }))
    }

    /// The pool's ConfigMap equals what `render` builds from the live specs.
    async fn matches_render(&self) -> Result<()> {
        let kafka = self.kafkas.get(CLUSTER).await?;
        let pools = vec![self.pools.get(POOL).await?];
        let inputs = Inputs {
            new_cluster_id: kafka
                .status
                .as_ref()
                .and_then(|s| s.cluster_id.clone())
                .unwrap_or_default(),
            ..Inputs::default()
        };
        let (_, desired) = render(&kafka, &pools, &inputs)?;
        let rendered = desired
            .config_maps
            .into_iter()
            .next()
            .and_then(|config_map| config_map.data)
            .unwrap_or_default();
        let live = self.config_map().await?;
        if live != rendered {
            bail!("the live ConfigMap differs from the rendered one");
        }
        Ok(())
    }

    async fn config_map(&self) -> Result<BTreeMap<String, String>> {
        let name = format!("{CLUSTER}-{POOL}");
        Ok(self.config_maps.get(&name).await?.data.unwrap_or_default())
    }

    /// Every object the operator manages here, by kind and name.
    async fn objects(&self) -> Result<BTreeSet<String>> {
        let managed = ListParams::default().labels("app.kubernetes.io/managed-by=brokerage");
        let mut objects = BTreeSet::new();
        for config_map in self.config_maps.list_metadata(&managed).await? {
            objects.insert(format!("ConfigMap/{}", config_map.name_any()));
        }
        for pod in self.pods.list_metadata(&managed).await? {
            objects.insert(format!("Pod/{}", pod.name_any()));
        }
        Ok(objects)
    }

    /// Per pod, how many times the operator has restarted it so far: the pods (by UID) it
    /// deleted. A StatefulSet controller may replace a pod on its own, which is not the
    /// operator's doing, so pods are not counted by the UIDs seen.
    fn restarts(&self) -> BTreeMap<String, usize> {
        let pods = format!("/api/v1/namespaces/{}/pods/", self.namespace);
        self.proxy.deletions(&pods)
    }

    /// The restarts since `before`, per pod that had any.
    fn restarts_since(&self, before: &BTreeMap<String, usize>) -> BTreeMap<String, usize> {
        self.restarts()
            .into_iter()
            .map(|(pod, times)| {
                let earlier = before.get(&pod).copied().unwrap_or_default();
                (pod, times - earlier)
            })
            .filter(|(_, times)| *times > 0)
            .collect()
    }
}

/// Whether `conditions` refuse a change: `NotReady` for one of `reasons`. A refusal without a
/// message a person can act on fails.
fn refused(conditions: &[api::Condition], reasons: &[&str]) -> Result<bool> {
    let refusal = conditions.iter().find(|condition| {
        let reason = condition.reason.as_deref().unwrap_or_default();
        condition.type_ == "NotReady" && reasons.contains(&reason)
    });
    match refusal {
        Some(refusal)
            if refusal
                .message
                .as_deref()
                .unwrap_or_default()
                .trim()
                .is_empty() =>
        {
            bail!("NotReady without a message: {refusal:?}")
        }
        found => Ok(found.is_some()),
    }
}

fn topic_status(topic: &KafkaTopic) -> (Option<i64>, Option<Vec<api::Condition>>) {
    let status = topic.status.clone().unwrap_or_default();
    (status.observed_generation, status.conditions)
}

fn user_status(user: &KafkaUser) -> (Option<i64>, Option<Vec<api::Condition>>) {
    let status = user.status.clone().unwrap_or_default();
    (status.observed_generation, status.conditions)
}

/// Waits until `name`'s status (observed generation, conditions) is of its generation and
/// Ready, or NotReady for one of `refusals` with a message; returns whether it is Ready.
async fn settled<K>(
    api: &Api<K>,
    name: &str,
    refusals: &[&str],
    status: impl Fn(&K) -> (Option<i64>, Option<Vec<api::Condition>>),
) -> Result<bool>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let live = api.get(name).await?;
        let (observed_generation, conditions) = status(&live);
        let conditions = conditions.unwrap_or_default();
        if observed_generation == live.meta().generation {
            if conditions.iter().any(|c| c.type_ == "Ready") {
                return Ok(true);
            }
            if refused(&conditions, refusals)? {
                return Ok(false);
            }
        }
        if tokio::time::Instant::now() > deadline {
            bail!("{name} did not settle within {WAIT:?}: {conditions:?}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Sets the spec of `name` with `set`, whole, retrying when a status write got in between.
async fn replace_spec<K>(api: &Api<K>, name: &str, set: impl Fn(&mut K)) -> Result<()>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    loop {
        let mut live = api.get(name).await?;
        set(&mut live);
        match api.replace(name, &PostParams::default(), &live).await {
            Err(kube::Error::Api(status)) if status.code == 409 => continue,
            replaced => return Ok(replaced.map(drop)?),
        }
    }
}

fn cluster_pods() -> ListParams {
    ListParams::default().labels(&format!("strimzi.io/cluster={CLUSTER}"))
}

/// A merge patch of `name`'s spec, the answer dropped.
async fn merge<K>(api: &Api<K>, name: &str, patch: &Value) -> kube::Result<()>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.patch(name, &PatchParams::default(), &Patch::Merge(patch))
        .await
        .map(drop)
}
