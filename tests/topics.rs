//! The topic operator against real Kafka and the real local cluster: topics are created, grown,
//! reconfigured and deleted; drift made in Kafka is reverted; unsupported changes, conflicts,
//! pauses and unmanaged topics behave as documented; an unreachable or restarting Kafka is
//! retried until every topic is Ready; a full reconciliation of unchanged topics writes nothing;
//! a topic or user whose cluster is never reachable lets go when marked unmanaged; a Kafka that
//! never answers delays only its own topics; a namespace with a Kafka, its topics and users is
//! deleted in full.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use api::kafka::{Kafka, KafkaTopic, KafkaUser};
use brokerage_e2e::operators::{KafkaTopics, KafkaUsers, Operators};
use brokerage_e2e::{counter, setup, topic_in_kafka};
use k8s_openapi::api::events::v1::Event;
use kafka_client::{AdminClient, ClientConfig, ConfigOp, ConfigResource};
use kafka_operator::admin::AdminOverride;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::{Client, ResourceExt};
use operator_common::topics::TopicSettings;
use runtime::Metrics;
use serde_json::json;
use testenv::kafka::{KafkaCluster, KafkaOptions, Listener};
use tokio::sync::OnceCell;

const WAIT: Duration = Duration::from_secs(60);
/// Short, so that tests see periodic full reconciliations.
const RESYNC: Duration = Duration::from_secs(2);

/// One real Kafka for the tests that do not stop it.
async fn shared_kafka() -> Result<&'static KafkaCluster> {
    static KAFKA: OnceCell<KafkaCluster> = OnceCell::const_new();
    KAFKA
        .get_or_try_init(|| async {
            tokio::task::spawn_blocking(|| KafkaCluster::start(&KafkaOptions::default())).await?
        })
        .await
}

/// A test's namespace, with a topic operator that reaches `my-cluster` at `bootstrap`.
struct Harness {
    namespace: String,
    topics: Api<KafkaTopic>,
    admin: AdminClient,
    metrics: Arc<Metrics>,
}

impl Harness {
    /// A harness whose operator reaches the Kafka the tests share.
    async fn on_shared_kafka(prefix: &str, settings: TopicSettings) -> Result<Harness> {
        let kafka = shared_kafka().await?;
        Harness::start(prefix, kafka.bootstrap(Listener::Plain), settings).await
    }

    async fn start(prefix: &str, bootstrap: String, settings: TopicSettings) -> Result<Harness> {
        let (client, namespace) = setup(prefix).await?;
        let config = ClientConfig::new([bootstrap]);
        let overrides = vec![AdminOverride {
            namespace: Some(namespace.clone()),
            cluster: "my-cluster".into(),
            config: config.clone(),
        }];
        let metrics = Operators::watching(&client, &[&namespace])
            .resync(RESYNC)
            .kafka(overrides)
            .topics(settings)
            .start(&[KafkaTopics]);
        let admin = AdminClient::connect(config).await?;
        Ok(Harness {
            topics: Api::namespaced(client, &namespace),
            namespace,
            admin,
            metrics,
        })
    }

    /// A Kafka topic name of this test's own, since the tests share one Kafka.
    fn kafka_name(&self, name: &str) -> String {
        format!("{}.{name}", self.namespace)
    }

    async fn apply(
        &self,
        name: &str,
        annotations: serde_json::Value,
        spec: serde_json::Value,
    ) -> Result<()> {
        let topic = json!({
            "apiVersion": "kafka.strimzi.io/v1",
            "kind": "KafkaTopic",
            "metadata": {"name": name, "labels": {"strimzi.io/cluster": "my-cluster"}, "annotations": annotations},
            "spec": spec,
        });
        let params = PatchParams::apply("topics-test").force();
        self.topics
            .patch(name, &params, &Patch::Apply(&topic))
            .await?;
        Ok(())
    }

    async fn wait_condition(
        &self,
        name: &str,
        type_: &str,
        reason: Option<&str>,
    ) -> Result<api::Condition> {
        let deadline = std::time::Instant::now() + WAIT;
        while std::time::Instant::now() < deadline {
            let topic = self.topics.get(name).await?;
            let generation = topic.metadata.generation;
            let status = topic.status.unwrap_or_default();
            let found = status
                .conditions
                .unwrap_or_default()
                .into_iter()
                .find(|c| c.type_ == type_ && c.reason.as_deref() == reason);
            if let Some(found) = found.filter(|_| status.observed_generation == generation) {
                return Ok(found);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("timed out waiting until KafkaTopic {name} has {type_} {reason:?}")
    }

    async fn wait_ready(&self, name: &str) -> Result<()> {
        self.wait_condition(name, "Ready", None).await.map(|_| ())
    }

    /// The topic's partition count and topic-level config in Kafka, `None` when it does not exist.
    async fn in_kafka(&self, topic: &str) -> Result<Option<(usize, BTreeMap<String, String>)>> {
        topic_in_kafka(&self.admin, topic).await
    }

    async fn wait_in_kafka(
        &self,
        topic: &str,
        what: &str,
        expected: impl Fn(Option<&(usize, BTreeMap<String, String>)>) -> bool,
    ) -> Result<()> {
        testenv::eventually(&format!("{topic} in Kafka {what}"), WAIT, || async {
            Ok(expected(self.in_kafka(topic).await?.as_ref()))
        })
        .await
    }

    async fn delete(&self, name: &str) -> Result<()> {
        self.topics.delete(name, &DeleteParams::default()).await?;
        testenv::eventually(&format!("KafkaTopic {name} is gone"), WAIT, || async {
            Ok(self.topics.get_opt(name).await?.is_none())
        })
        .await
    }
}

fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_is_created_grown_reconfigured_reverted_and_deleted() -> Result<()> {
    let test = Harness::on_shared_kafka("topics-life", TopicSettings::default()).await?;
    let name = test.kafka_name("orders");
    test.apply(
        "orders",
        json!({}),
        json!({
            "topicName": name, "partitions": 3, "replicas": 1, "config": {"retention.ms": 7200000}
        }),
    )
    .await?;
    test.wait_ready("orders").await?;
    // The broker asked may learn of the new topic a moment after the controller made it.
    let created = Some((3, config(&[("retention.ms", "7200000")])));
    test.wait_in_kafka(&name, "exists as created", |found| {
        found == created.as_ref()
    })
    .await?;
    let topic = test.topics.get("orders").await?;
    let status = topic.status.clone().unwrap_or_default();
    assert_eq!(status.topic_name.as_deref(), Some(name.as_str()));
    let described = test
        .admin
        .describe_topics(std::slice::from_ref(&name))
        .await?;
    let topic_id = described[&name]
        .as_ref()
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .topic_id
        .clone();
    assert!(topic_id.is_some());
    assert_eq!(status.topic_id, topic_id);
    assert!(
        topic
            .finalizers()
            .iter()
            .any(|f| f == kafka_operator::topics::FINALIZER)
    );

    // More partitions and more config.
    test.apply(
        "orders",
        json!({}),
        json!({
            "topicName": name, "partitions": 5, "replicas": 1,
            "config": {"retention.ms": 7200000, "cleanup.policy": "compact"}
        }),
    )
    .await?;
    let expected = config(&[("retention.ms", "7200000"), ("cleanup.policy", "compact")]);
    test.wait_in_kafka(&name, "has 5 partitions and the new config", |found| {
        found == Some(&(5, expected.clone()))
    })
    .await?;

    // Changed in Kafka behind the operator's back: the next full reconciliation reverts it.
    let resource = ConfigResource::Topic(name.clone());
    let drift = vec![
        ConfigOp::Set {
            name: "retention.ms".into(),
            value: "1000".into(),
        },
        ConfigOp::Set {
            name: "segment.bytes".into(),
            value: "1048576".into(),
        },
    ];
    let altered = test
        .admin
        .incremental_alter_configs(&[(resource, drift)])
        .await?;
    assert!(altered.values().all(Result::is_ok), "{altered:?}");
    // Seen by the broker first (unless reverted already), so the revert is not mistaken for
    // the change not having arrived yet.
    let drifted = testenv::eventually("the drift shows", RESYNC, || async {
        let found = test.in_kafka(&name).await?;
        Ok(found.is_some_and(|(_, config)| config.contains_key("segment.bytes")))
    });
    // Not seen within a resync period: it came and was reverted.
    let _ = drifted.await;
    test.wait_in_kafka(&name, "has its drift reverted", |found| {
        found == Some(&(5, expected.clone()))
    })
    .await?;

    // Fewer partitions, or more replicas than there are brokers: a condition, and Kafka
    // unchanged.
    test.apply(
        "orders",
        json!({}),
        json!({"topicName": name, "partitions": 2, "replicas": 1, "config": {"retention.ms": 1}}),
    )
    .await?;
    let condition = test
        .wait_condition("orders", "NotReady", Some("NotSupported"))
        .await?;
    assert!(
        condition
            .message
            .unwrap_or_default()
            .contains("cannot decrease from 5 to 2")
    );
    assert_eq!(test.in_kafka(&name).await?, Some((5, expected.clone())));
    test.apply(
        "orders",
        json!({}),
        // More replicas than the shared Kafka has brokers; the rest of the spec as it is.
        json!({"topicName": name, "partitions": 5, "replicas": 3,
               "config": {"retention.ms": 7200000, "cleanup.policy": "compact"}}),
    )
    .await?;
    let condition = test
        .wait_condition("orders", "NotReady", Some("NotSupported"))
        .await?;
    assert!(
        condition
            .message
            .unwrap_or_default()
            .contains("cannot have 3 replicas: there are only")
    );
    assert_eq!(test.in_kafka(&name).await?, Some((5, expected)));

    // Deleting the resource deletes the topic.
    test.delete("orders").await?;
    test.wait_in_kafka(&name, "is gone", |found| found.is_none())
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unmanaged_and_outside_topics_are_left_alone() -> Result<()> {
    let test = Harness::on_shared_kafka("topics-unmanaged", TopicSettings::default()).await?;
    let outsider = test.kafka_name("outsider");
    let created = test
        .admin
        .create_topics(&[kafka_client::NewTopic {
            name: outsider.clone(),
            partitions: Some(1),
            replication_factor: Some(1),
            configs: config(&[("retention.ms", "60000")]),
        }])
        .await?;
    assert!(created.values().all(Result::is_ok), "{created:?}");

    // A resource for an existing topic, unmanaged from the start: Kafka is not touched.
    test.apply(
        "hands-off",
        json!({"strimzi.io/managed": "false"}),
        json!({
            "topicName": outsider, "partitions": 4, "config": {"retention.ms": 1}
        }),
    )
    .await?;
    test.wait_ready("hands-off").await?;
    // A managed one, then handed back to its users.
    let kept = test.kafka_name("kept");
    test.apply(
        "kept",
        json!({}),
        json!({"topicName": kept, "partitions": 1}),
    )
    .await?;
    test.wait_ready("kept").await?;
    test.apply(
        "kept",
        json!({"strimzi.io/managed": "false"}),
        json!({"topicName": kept, "partitions": 1}),
    )
    .await?;
    testenv::eventually(
        "the unmanaged resource loses its finalizer",
        WAIT,
        || async { Ok(test.topics.get("kept").await?.finalizers().is_empty()) },
    )
    .await?;

    test.delete("hands-off").await?;
    test.delete("kept").await?;
    // Several full reconciliations later, both topics are as they were.
    tokio::time::sleep(RESYNC * 2).await;
    assert_eq!(
        test.in_kafka(&outsider).await?,
        Some((1, config(&[("retention.ms", "60000")])))
    );
    assert!(test.in_kafka(&kept).await?.is_some());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_older_resource_wins_a_conflict_and_the_newer_takes_over_after_it() -> Result<()> {
    let test = Harness::on_shared_kafka("topics-conflict", TopicSettings::default()).await?;
    let name = test.kafka_name("shared");
    test.apply(
        "first",
        json!({}),
        json!({"topicName": name, "partitions": 1}),
    )
    .await?;
    test.wait_ready("first").await?;
    // Creation times have one-second precision: make sure the second is younger.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    test.apply(
        "second",
        json!({}),
        json!({"topicName": name, "partitions": 2}),
    )
    .await?;
    let conflict = test
        .wait_condition("second", "NotReady", Some("ResourceConflict"))
        .await?;
    assert!(
        conflict
            .message
            .unwrap_or_default()
            .contains("KafkaTopic first")
    );
    test.wait_in_kafka(&name, "has the owner's partition", |found| {
        found.is_some_and(|(partitions, _)| *partitions == 1)
    })
    .await?;

    // The owner goes, and its topic with it; the other resource then owns (and recreates) it.
    test.delete("first").await?;
    test.wait_ready("second").await?;
    test.wait_in_kafka(&name, "has the new owner's partitions", |found| {
        found.is_some_and(|(partitions, _)| *partitions == 2)
    })
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_resource_deletes_only_the_topic_it_created_and_never_an_internal_one()
-> Result<()> {
    let test = Harness::on_shared_kafka("topics-renamed", TopicSettings::default()).await?;
    let (mine, theirs) = (test.kafka_name("mine"), test.kafka_name("theirs"));
    test.apply("mine", json!({}), json!({"topicName": mine}))
        .await?;
    test.apply("theirs", json!({}), json!({"topicName": theirs}))
        .await?;
    test.wait_ready("mine").await?;
    test.wait_ready("theirs").await?;

    // The rename is refused, and deleting the renamed resource deletes the topic it created,
    // not the other team's topic its spec now names.
    test.apply("mine", json!({}), json!({"topicName": theirs}))
        .await?;
    test.wait_condition("mine", "NotReady", Some("NotSupported"))
        .await?;
    test.wait_ready("theirs").await?;
    test.delete("mine").await?;
    test.wait_in_kafka(&mine, "is gone", |found| found.is_none())
        .await?;
    tokio::time::sleep(RESYNC * 2).await;
    assert!(test.in_kafka(&theirs).await?.is_some());
    test.wait_ready("theirs").await?;

    // An internal topic is refused, and deleting the resource leaves it in Kafka.
    test.apply(
        "offsets",
        json!({}),
        json!({"topicName": "__consumer_offsets"}),
    )
    .await?;
    let refused = test
        .wait_condition("offsets", "NotReady", Some("InvalidSpec"))
        .await?;
    assert!(
        refused
            .message
            .unwrap_or_default()
            .contains("internal Kafka topic")
    );
    let offsets_before = test
        .admin
        .list_topics()
        .await?
        .contains_key("__consumer_offsets");
    test.delete("offsets").await?;
    assert_eq!(
        test.admin
            .list_topics()
            .await?
            .contains_key("__consumer_offsets"),
        offsets_before
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_and_invalid_topics_get_conditions_while_others_reconcile() -> Result<()> {
    let test = Harness::on_shared_kafka("topics-states", TopicSettings::default()).await?;
    let paused = test.kafka_name("paused");
    test.apply(
        "paused",
        json!({"strimzi.io/pause-reconciliation": "true"}),
        json!({"topicName": paused}),
    )
    .await?;
    test.apply("invalid", json!({}), json!({"topicName": "orders/eu"}))
        .await?;
    let good = test.kafka_name("good");
    test.apply("good", json!({}), json!({"topicName": good}))
        .await?;

    test.wait_ready("good").await?;
    test.wait_condition(
        "paused",
        "ReconciliationPaused",
        Some("ReconciliationPaused"),
    )
    .await?;
    let invalid = test
        .wait_condition("invalid", "NotReady", Some("InvalidSpec"))
        .await?;
    assert!(
        invalid
            .message
            .unwrap_or_default()
            .contains("spec.topicName")
    );
    assert_eq!(test.in_kafka(&paused).await?, None);

    // Unpaused, it is created.
    test.apply("paused", json!({}), json!({"topicName": paused}))
        .await?;
    test.wait_ready("paused").await?;
    test.wait_in_kafka(&paused, "exists", |found| found.is_some())
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_topic_deletion_off_a_deleted_resource_keeps_its_topic() -> Result<()> {
    let settings = TopicSettings {
        delete_topics: false,
    };
    let test = Harness::on_shared_kafka("topics-keep", settings).await?;
    let name = test.kafka_name("kept");
    test.apply("kept", json!({}), json!({"topicName": name}))
        .await?;
    test.wait_ready("kept").await?;
    assert!(test.topics.get("kept").await?.finalizers().is_empty());
    test.delete("kept").await?;
    assert!(test.in_kafka(&name).await?.is_some());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_reconciliation_of_unchanged_topics_is_batched_and_writes_nothing() -> Result<()> {
    const TOPICS: usize = 200;
    let test = Harness::on_shared_kafka("topics-batch", TopicSettings::default()).await?;
    for index in 0..TOPICS {
        let name = format!("batch-{index}");
        test.apply(
            &name,
            json!({}),
            json!({"topicName": test.kafka_name(&name)}),
        )
        .await?;
    }
    testenv::eventually(&format!("{TOPICS} topics are Ready"), WAIT, || async {
        let listed = test.topics.list(&ListParams::default()).await?;
        Ok(listed.items.iter().filter(|topic| ready(topic)).count() == TOPICS)
    })
    .await?;
    let versions = |topics: Vec<KafkaTopic>| -> BTreeMap<String, String> {
        topics
            .into_iter()
            .map(|t| (t.name_any(), t.resource_version().unwrap_or_default()))
            .collect()
    };
    // The last status writes cause one more batch each; then only full reconciliations run.
    let series = "brokerage_reconciliations_total{kind=\"KafkaTopic\"}";
    let (mut last, mut since) = (counter(&test.metrics, series), std::time::Instant::now());
    while since.elapsed() < RESYNC * 3 / 4 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if counter(&test.metrics, series) != last {
            (last, since) = (counter(&test.metrics, series), std::time::Instant::now());
        }
    }
    let before = versions(test.topics.list(&ListParams::default()).await?.items);
    let requests_series = "brokerage_broker_requests_total{kind=\"KafkaTopic\"}";
    let requests_before = counter(&test.metrics, requests_series);
    let batches_before = counter(
        &test.metrics,
        "brokerage_reconciliations_total{kind=\"KafkaTopic\"}",
    );
    tokio::time::sleep(RESYNC * 3).await;
    let after = versions(test.topics.list(&ListParams::default()).await?.items);
    let batches = counter(
        &test.metrics,
        "brokerage_reconciliations_total{kind=\"KafkaTopic\"}",
    ) - batches_before;
    assert_eq!(
        before, after,
        "a full reconciliation of unchanged topics wrote to them"
    );
    // Each full reconciliation of all 200 topics is one batch, of one Metadata and one
    // DescribeConfigs request.
    let requests = counter(&test.metrics, requests_series) - requests_before;
    assert!(
        requests <= batches * 3.0,
        "{requests} Kafka requests in {batches} batches"
    );
    assert!(
        (2.0..=4.0).contains(&batches),
        "{batches} batches in three resync periods"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_or_restarting_kafka_is_retried_until_every_topic_is_ready() -> Result<()> {
    let mut kafka =
        tokio::task::spawn_blocking(|| KafkaCluster::start(&KafkaOptions::default())).await??;
    let bootstrap = kafka.bootstrap(Listener::Plain);
    let test = Harness::start("topics-outage", bootstrap, TopicSettings::default()).await?;

    kafka = tokio::task::spawn_blocking(move || {
        kafka.stop_node(0);
        kafka
    })
    .await?;
    test.apply(
        "during-outage",
        json!({}),
        json!({"topicName": "during-outage"}),
    )
    .await?;
    let condition = test
        .wait_condition("during-outage", "NotReady", Some("KafkaError"))
        .await?;
    assert!(!condition.message.unwrap_or_default().is_empty());
    kafka = tokio::task::spawn_blocking(move || kafka.restart_node(0).map(|()| kafka)).await??;
    test.wait_ready("during-outage").await?;
    test.wait_in_kafka("during-outage", "exists", |found| found.is_some())
        .await?;

    // A broker restart in the middle of a burst of topics loses none of them.
    for index in 0..100 {
        let name = format!("burst-{index}");
        test.apply(&name, json!({}), json!({})).await?;
    }
    let kafka = tokio::task::spawn_blocking(move || {
        kafka.stop_node(0);
        kafka.restart_node(0).map(|()| kafka)
    })
    .await??;
    testenv::eventually("every burst topic is Ready", WAIT * 2, || async {
        let listed = test.topics.list(&ListParams::default()).await?;
        Ok(listed.items.iter().filter(|topic| ready(topic)).count() == 101)
    })
    .await?;
    let all = test.admin.list_topics().await.context("listing topics")?;
    assert!((0..100).all(|index| all.contains_key(&format!("burst-{index}"))));
    drop(kafka);
    Ok(())
}

fn ready(topic: &KafkaTopic) -> bool {
    let status = topic.status.clone().unwrap_or_default();
    status.observed_generation == topic.metadata.generation
        && status
            .conditions
            .unwrap_or_default()
            .iter()
            .any(|c| c.type_ == "Ready")
}

/// Runs the topic and user operators over `namespace`, reaching clusters through `overrides`
/// or, for the others, as the cluster operator would.
fn start_topic_and_user_operators(client: &Client, namespace: &str, overrides: Vec<AdminOverride>) {
    Operators::watching(client, &[namespace])
        .resync(RESYNC)
        .kafka(overrides)
        .start(&[KafkaTopics, KafkaUsers]);
}

/// The way out of a finalizer that can never run: a topic and a user whose cluster (here, a
/// connections-file entry) stopped answering after they were made wait while deleted, and let
/// go once the user marks them `strimzi.io/managed: "false"`; the broker keeps what they made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_of_an_unreachable_cluster_let_go_when_marked_unmanaged() -> Result<()> {
    let kafka =
        tokio::task::spawn_blocking(|| KafkaCluster::start(&KafkaOptions::default())).await??;
    let (client, namespace) = setup("topics-let-go").await?;
    let overrides = vec![AdminOverride {
        namespace: Some(namespace.clone()),
        cluster: "my-cluster".into(),
        config: ClientConfig::new([kafka.bootstrap(Listener::Plain)]),
    }];
    start_topic_and_user_operators(&client, &namespace, overrides);

    let topics: Api<KafkaTopic> = Api::namespaced(client.clone(), &namespace);
    let users: Api<KafkaUser> = Api::namespaced(client, &namespace);
    let labels = json!({"strimzi.io/cluster": "my-cluster"});
    let params = PatchParams::apply("topics-test");
    let topic = json!({"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic",
        "metadata": {"name": "stuck", "labels": labels}, "spec": {}});
    topics
        .patch("stuck", &params, &Patch::Apply(&topic))
        .await?;
    let user = json!({"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaUser",
        "metadata": {"name": "stuck", "labels": labels},
        "spec": {"authentication": {"type": "scram-sha-512"}}});
    users.patch("stuck", &params, &Patch::Apply(&user)).await?;
    testenv::eventually("both are Ready", WAIT, || async {
        let user = users.get("stuck").await?;
        let user_ready = user
            .status
            .and_then(|status| status.conditions)
            .into_iter()
            .flatten();
        Ok(
            ready(&topics.get("stuck").await?)
                && user_ready.into_iter().any(|c| c.type_ == "Ready"),
        )
    })
    .await?;
    let mut kafka = tokio::task::spawn_blocking(move || {
        let mut kafka = kafka;
        kafka.stop_node(0);
        kafka
    })
    .await?;

    topics.delete("stuck", &DeleteParams::default()).await?;
    users.delete("stuck", &DeleteParams::default()).await?;
    tokio::time::sleep(RESYNC * 3).await;
    assert!(
        topics.get_opt("stuck").await?.is_some(),
        "the topic waits for Kafka"
    );
    assert!(
        users.get_opt("stuck").await?.is_some(),
        "the user waits for Kafka"
    );

    let unmanaged =
        Patch::Merge(json!({"metadata": {"annotations": {"strimzi.io/managed": "false"}}}));
    topics
        .patch("stuck", &PatchParams::default(), &unmanaged)
        .await?;
    users
        .patch("stuck", &PatchParams::default(), &unmanaged)
        .await?;
    testenv::eventually("both are gone", WAIT, || async {
        Ok(topics.get_opt("stuck").await?.is_none() && users.get_opt("stuck").await?.is_none())
    })
    .await?;
    kafka = tokio::task::spawn_blocking(move || kafka.restart_node(0).map(|()| kafka)).await??;
    let admin = AdminClient::connect(ClientConfig::new([kafka.bootstrap(Listener::Plain)])).await?;
    assert!(
        admin.list_topics().await?.contains_key("stuck"),
        "the topic was kept"
    );
    Ok(())
}

/// A Kafka that accepts connections and never answers holds up only its own cluster's topics:
/// each request has a time-out, and every cluster has its own worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_kafka_delays_only_its_own_topics() -> Result<()> {
    let hung = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hung_address = hung.local_addr()?.to_string();
    // Accepts, holds every connection open, and never writes a byte.
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((connection, _)) = hung.accept().await {
            held.push(connection);
        }
    });
    let kafka = shared_kafka().await?;
    let (client, namespace) = setup("topics-hung").await?;
    let overrides = [
        ("hung", hung_address),
        ("my-cluster", kafka.bootstrap(Listener::Plain)),
    ]
    .into_iter()
    .map(|(cluster, bootstrap)| AdminOverride {
        namespace: Some(namespace.clone()),
        cluster: cluster.into(),
        config: ClientConfig::new([bootstrap]),
    })
    .collect();
    Operators::watching(&client, &[&namespace])
        .resync(RESYNC)
        .kafka(overrides)
        .start(&[KafkaTopics]);

    let topics: Api<KafkaTopic> = Api::namespaced(client, &namespace);
    let params = PatchParams::apply("topics-test");
    for (name, cluster) in [("stuck", "hung"), ("served", "my-cluster")] {
        let topic = json!({"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic",
            "metadata": {"name": name, "labels": {"strimzi.io/cluster": cluster}},
            "spec": {"topicName": format!("{namespace}.{name}")}});
        topics.patch(name, &params, &Patch::Apply(&topic)).await?;
    }
    let began = std::time::Instant::now();
    testenv::eventually("the served cluster's topic is Ready", WAIT, || async {
        Ok(ready(&topics.get("served").await?))
    })
    .await?;
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "the served topic waited {:?} for the hung cluster",
        began.elapsed()
    );
    testenv::eventually("the hung cluster's topic says why", WAIT, || async {
        let stuck = topics.get("stuck").await?;
        let conditions = stuck.status.and_then(|status| status.conditions);
        Ok(conditions.into_iter().flatten().any(|condition| {
            condition.reason.as_deref() == Some("KafkaError")
                && condition.message.is_some_and(|message| !message.is_empty())
        }))
    })
    .await
}

/// Strimzi's finalizer complaint: a namespace holding a Kafka, its KafkaTopics and KafkaUsers
/// is deleted in full without anyone editing a finalizer. The Kafka (never reachable here) goes
/// with the namespace; its topics and users then let go, since no Kafka is left to delete from.
/// Deleted one by one, Kafka first, each of them says so in a Warning Event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namespace_with_a_kafka_its_topics_and_users_is_deleted_in_full() -> Result<()> {
    let (client, namespace) = setup("topics-namespace").await?;
    start_topic_and_user_operators(&client, &namespace, Vec::new());

    let yaml = std::fs::read_to_string(brokerage_e2e::repo_path(
        "examples/kafka/ephemeral-single-node.yaml",
    ))?;
    testenv::apply_yaml(&client, &yaml, &namespace).await?;
    let topics: Api<KafkaTopic> = Api::namespaced(client.clone(), &namespace);
    let users: Api<KafkaUser> = Api::namespaced(client.clone(), &namespace);
    let params = PatchParams::apply("topics-test");
    let labels = json!({"strimzi.io/cluster": "my-cluster"});
    let topic = json!({"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic",
        "metadata": {"name": "orders", "labels": labels}, "spec": {}});
    topics
        .patch("orders", &params, &Patch::Apply(&topic))
        .await?;
    let user = json!({"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaUser",
        "metadata": {"name": "app", "labels": labels},
        "spec": {"authentication": {"type": "scram-sha-512"}}});
    users.patch("app", &params, &Patch::Apply(&user)).await?;
    testenv::eventually("both carry their finalizers", WAIT, || async {
        let topic = topics.get("orders").await?;
        let user = users.get("app").await?;
        Ok(!topic.finalizers().is_empty() && !user.finalizers().is_empty())
    })
    .await?;

    // As if the topic had been made in Kafka before the Kafka became unreachable.
    let made = json!({"status": {"topicName": "orders"}});
    topics
        .patch_status("orders", &PatchParams::default(), &Patch::Merge(&made))
        .await?;
    // The Kafka goes first: the topic and user then let go, each with a Warning saying why.
    let kafkas: Api<Kafka> = Api::namespaced(client.clone(), &namespace);
    kafkas
        .delete("my-cluster", &DeleteParams::default())
        .await?;
    topics.delete("orders", &DeleteParams::default()).await?;
    users.delete("app", &DeleteParams::default()).await?;
    let events: Api<Event> = Api::namespaced(client.clone(), &namespace);
    testenv::eventually(
        "both are gone, each with a ClusterGone warning",
        WAIT,
        || async {
            let warned: Vec<String> = events
                .list(&Default::default())
                .await?
                .into_iter()
                .filter(|event| event.reason.as_deref() == Some("ClusterGone"))
                .filter(|event| event.type_.as_deref() == Some("Warning"))
                .filter(|event| {
                    event
                        .note
                        .as_deref()
                        .is_some_and(|n| n.contains("my-cluster"))
                })
                .filter_map(|event| event.regarding?.name)
                .collect();
            Ok(topics.get_opt("orders").await?.is_none()
                && users.get_opt("app").await?.is_none()
                && warned.contains(&"orders".to_string())
                && warned.contains(&"app".to_string()))
        },
    )
    .await?;

    // And a namespace holding them all is deleted in full.
    topics
        .patch("orders", &params, &Patch::Apply(&topic))
        .await?;
    users.patch("app", &params, &Patch::Apply(&user)).await?;
    testenv::eventually("both carry their finalizers again", WAIT, || async {
        let topic = topics.get("orders").await?;
        let user = users.get("app").await?;
        Ok(!topic.finalizers().is_empty() && !user.finalizers().is_empty())
    })
    .await?;
    testenv::apply_yaml(&client, &yaml, &namespace).await?;
    let all: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client);
    all.delete(&namespace, &DeleteParams::default()).await?;
    testenv::eventually("the namespace is gone", WAIT * 2, || async {
        Ok(all.get_opt(&namespace).await?.is_none())
    })
    .await
}
