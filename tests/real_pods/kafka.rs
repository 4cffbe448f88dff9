//! Kafka clusters on real pods, and the topic and user operators in the operator's pod.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use api::kafka::{AutoRebalanceState, Kafka, KafkaNodePool, KafkaTopic, QuorumMode};
use brokerage_e2e::real_pods::{
    BackgroundProducer, KafkaConnection, consume, one_heavy_test_at_a_time, produce, scrape,
    setup_on_real_node,
};
use brokerage_e2e::{repo_path, wait_condition};

use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kafka_client::{
    AdminClient, ClientConfig, ConfigResource, ConfigSource, KRAFT_VERSION_FEATURE,
};
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};

use crate::pod_security::{enforce_restricted, ensure_restricted_pods};

/// A cold Kafka pod on a busy two-core machine: scheduling, storage format, JVM start.
const KAFKA_READY: Duration = Duration::from_secs(300);
const TOPIC_READY: Duration = Duration::from_secs(120);
/// Three brokers restarted one at a time, each waited for until its partitions are in sync.
const ROLL: Duration = Duration::from_secs(600);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_single_node_example_serves_producers_and_consumers() -> Result<()> {
    let (client, namespace) = setup_on_real_node("single-node").await?;
    enforce_restricted(&client, &namespace, true).await?;
    for example in ["ephemeral-single-node.yaml", "topic.yaml"] {
        let yaml = std::fs::read_to_string(repo_path("examples/kafka").join(example))?;
        testenv::apply_yaml(&client, &yaml, &namespace).await?;
    }
    let kafkas: Api<Kafka> = Api::namespaced(client.clone(), &namespace);
    wait_condition(&kafkas, "my-cluster", "Ready", None, KAFKA_READY).await?;
    ensure_restricted_pods(&client, &namespace, "my-cluster").await?;
    // The producer and consumer pods are the test's own, and not restricted.
    enforce_restricted(&client, &namespace, false).await?;
    let topics: Api<KafkaTopic> = Api::namespaced(client.clone(), &namespace);
    wait_condition(&topics, "orders", "Ready", None, TOPIC_READY).await?;

    let plain = KafkaConnection::plain("my-cluster-kafka-bootstrap:9092".into());
    let produced = produce(&client, &namespace, "producer", &plain, "orders", 20, "").await?;
    ensure!(
        produced.acked == 20 && produced.errors.is_empty(),
        "{produced:?}"
    );
    let values = consume(&client, &namespace, "consumer", &plain, "orders", 20).await?;
    ensure!(values.len() == 20, "consumed {values:?}");
    Ok(())
}

/// The seed's ZooKeeper-era Kafka, applied unchanged: it runs as two dual-role KRaft nodes of
/// Kafka 3.9.0, the oldest release (its 3.4.0 has no image), named as Strimzi named them before
/// node pools, says so in Warning conditions, and serves a producer and a consumer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_zookeeper_era_seed_runs_on_the_oldest_release_and_serves_clients() -> Result<()> {
    let (client, namespace) = setup_on_real_node("zookeeper-era").await?;
    let fixture = repo_path("tests/fixtures/legacy-zookeeper-kafka.yaml");
    testenv::apply_yaml(&client, &std::fs::read_to_string(fixture)?, &namespace).await?;
    let topic = r#"
apiVersion: kafka.strimzi.io/v1
kind: KafkaTopic
metadata: {name: legacy, labels: {strimzi.io/cluster: my-cluster}}
spec: {partitions: 2, replicas: 2}
"#;
    testenv::apply_yaml(&client, topic, &namespace).await?;
    let kafkas: Api<Kafka> = Api::namespaced(client.clone(), &namespace);
    wait_condition(&kafkas, "my-cluster", "Ready", None, KAFKA_READY).await?;
    let status = kafkas.get("my-cluster").await?.status.unwrap_or_default();
    ensure!(
        status.kafka_version.as_deref() == Some("3.9.0"),
        "{status:?}"
    );
    let warnings: Vec<&str> = (status.conditions.iter().flatten())
        .filter(|condition| condition.type_ == "Warning")
        .filter_map(|condition| condition.reason.as_deref())
        .collect();
    for reason in ["ZooKeeperNotRun", "KafkaVersion", "IgnoredField"] {
        ensure!(warnings.contains(&reason), "{reason} not in {warnings:?}");
    }
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    for name in ["my-cluster-kafka-0", "my-cluster-kafka-1"] {
        let pod = pods.get(name).await?;
        let image = pod
            .spec
            .and_then(|spec| spec.containers.into_iter().next()?.image);
        ensure!(
            image.as_deref() == Some("apache/kafka:3.9.0"),
            "{name}: {image:?}"
        );
    }

    let topics: Api<KafkaTopic> = Api::namespaced(client.clone(), &namespace);
    wait_condition(&topics, "legacy", "Ready", None, TOPIC_READY).await?;
    let plain = KafkaConnection::plain("my-cluster-kafka-bootstrap:9092".into());
    let produced = produce(&client, &namespace, "producer", &plain, "legacy", 20, "").await?;
    ensure!(
        produced.acked == 20 && produced.errors.is_empty(),
        "{produced:?}"
    );
    let values = consume(&client, &namespace, "consumer", &plain, "legacy", 20).await?;
    ensure!(values.len() == 20, "consumed {values:?}");
    Ok(())
}

/// A controller pool and three brokers on the oldest release: the upgrade to the newest rolls
/// the brokers one at a time while a producer with `acks=all` never fails, then moves the
/// metadata version up; messages produced before the roll are read after it from the
/// persistent volumes; the NodePort listener answers on the node's address as the status
/// advertises; each broker's rack is its node's zone; the broker pool scales up and the new
/// broker is given partitions (autoRebalance), a topic's
/// replication factor moves up and down under a producer, and the pool scales down only once
/// the leaving broker is drained; deleting the Kafka removes what it owns and keeps the claims.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_pool_rolls_without_failing_a_producer_and_scales() -> Result<()> {
    let _alone = one_heavy_test_at_a_time().await;
    let (client, namespace) = setup_on_real_node("pools").await?;
    let fixture = std::fs::read_to_string(repo_path("tests/fixtures/real-kafka-pools.yaml"))?;
    testenv::apply_yaml(&client, &fixture, &namespace).await?;
    let kafkas: Api<Kafka> = Api::namespaced(client.clone(), &namespace);
    wait_condition(&kafkas, "pools", "Ready", None, KAFKA_READY).await?;
    let topics: Api<KafkaTopic> = Api::namespaced(client.clone(), &namespace);
    wait_condition(&topics, "events", "Ready", None, TOPIC_READY).await?;
    let plain = KafkaConnection::plain("pools-kafka-bootstrap:9092".into());
    let before = produce(
        &client,
        &namespace,
        "before-roll",
        &plain,
        "events",
        100,
        "",
    )
    .await?;
    ensure!(
        before.acked == 100 && before.errors.is_empty(),
        "{before:?}"
    );

    // From the host: the NodePort listener's advertised addresses are the node's.
    let kafka = kafkas.get("pools").await?;
    let external = kafka
        .status
        .as_ref()
        .and_then(|status| status.listeners.as_ref())
        .and_then(|listeners| listeners.iter().find(|l| l.name == "external"))
        .and_then(|listener| listener.bootstrap_servers.clone())
        .context("the status lists the external listener")?;
    ensure!(
        external.starts_with(&format!("{}:", testenv::node::BRIDGE_ADDRESS)),
        "{external}"
    );
    let admin = AdminClient::connect(ClientConfig::new([external.as_str()])).await?;
    let cluster = admin.describe_cluster().await?;
    ensure!(cluster.brokers.len() == 3, "{cluster:?}");
    // Each broker's rack is its node's zone, read from the pod's labels.
    ensure!(
        (cluster.brokers.iter()).all(|b| b.rack.as_deref() == Some(testenv::node::NODE_ZONE)),
        "{cluster:?}"
    );
    ensure!(admin.list_topics().await?.contains_key("events"));

    // A change every broker must restart for, under a producer that runs through the roll.
    let brokers = broker_pods(&client, &namespace).await?;
    let producer =
        BackgroundProducer::start(&client, &namespace, "during-roll", &plain, "events", 25).await?;
    let change = serde_json::json!({"spec": {"kafka": {
        "version": testenv::tools::KAFKA_VERSION,
        "config": {"auto.create.topics.enable": false},
    }}});
    kafkas
        .patch("pools", &PatchParams::default(), &Patch::Merge(&change))
        .await?;
    let fewest_ready = AtomicUsize::new(usize::MAX);
    testenv::eventually("every broker restarted", ROLL, || async {
        let now = broker_pods(&client, &namespace).await?;
        let ready = now.values().filter(|(_, ready)| *ready).count();
        fewest_ready.fetch_min(ready, Ordering::Relaxed);
        Ok(now.len() == 3
            && now.iter().all(|(name, (uid, ready))| {
                *ready && brokers.get(name).is_some_and(|(old, _)| old != uid)
            }))
    })
    .await?;
    let fewest_ready = fewest_ready.into_inner();
    ensure!(
        fewest_ready >= 2,
        "only {fewest_ready} brokers were ready at one point"
    );
    ensure!(
        producer.is_running(),
        "the producer ended before the roll did"
    );
    let during = producer.stop().await?;
    ensure!(during.acked > 0 && during.errors.is_empty(), "{during:?}");
    // Then the metadata version moves to the new release's, in Kafka and in the status.
    let newest_metadata = "4.4-IV2";
    testenv::eventually("the metadata version moved", KAFKA_READY, || async {
        let status = kafkas.get("pools").await?.status.unwrap_or_default();
        Ok(status.kafka_metadata_version.as_deref() == Some(newest_metadata))
    })
    .await?;
    // A broker learns the finalized level from the metadata log, a moment after the controller
    // took it.
    let admin = AdminClient::connect(ClientConfig::new([external.as_str()])).await?;
    testenv::eventually("Kafka reports 4.4-IV2", KAFKA_READY, || async {
        let finalized = admin
            .finalized_feature_level(kafka_client::METADATA_VERSION_FEATURE)
            .await?;
        Ok(finalized == Some(33))
    })
    .await?;
    // Each node serves Kafka's own metrics to Prometheus through the exporter's agent.
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let now = broker_pods(&client, &namespace).await?;
    let broker = pods.get(now.keys().next().context("a broker pod")?).await?;
    let ip = broker
        .status
        .and_then(|status| status.pod_ip)
        .context("a pod IP")?;
    let metrics = scrape(&format!("{ip}:9404")).await?;
    ensure!(
        metrics.contains("kafka_server_brokertopicmetrics"),
        "no broker metrics in {} bytes: {}",
        metrics.len(),
        &metrics[..metrics.len().min(500)]
    );
    // Every message, from before the roll (kept on the persistent volumes) and during it.
    let total = before.acked + during.acked;
    let values = consume(&client, &namespace, "after-roll", &plain, "events", total).await?;
    ensure!(
        values.len() == total,
        "consumed {} of {total}",
        values.len()
    );

    // The broker pool grows to four; a topic's replication factor moves from 1 to 3 and
    // back to 2 under a producer; the scale-down drains the leaving broker before its pod goes.
    let pools: Api<KafkaNodePool> = Api::namespaced(client.clone(), &namespace);
    scale_brokers(&client, &namespace, &pools, 4).await?;
    wait_condition(&kafkas, "pools", "Ready", None, KAFKA_READY).await?;
    // spec.cruiseControl.autoRebalance (add-brokers) gives the new broker partitions.
    let brokers: Vec<i32> = (admin.describe_cluster().await?.brokers.iter())
        .map(|broker| broker.id)
        .collect();
    let added = brokers.iter().max().copied().context("a broker")?;
    testenv::eventually(
        "partitions moved onto the added broker",
        KAFKA_READY,
        || async {
            let status = kafkas.get("pools").await?.status.unwrap_or_default();
            let idle = status
                .auto_rebalance
                .is_some_and(|rebalance| rebalance.state == AutoRebalanceState::Idle);
            let topics = admin.list_topics().await?;
            let held = (topics.values().flat_map(|topic| &topic.partitions))
                .filter(|partition| partition.replicas.contains(&added))
                .count();
            Ok(idle && held > 0)
        },
    )
    .await?;
    let moving: KafkaTopic = serde_yaml::from_str(MOVING_TOPIC)?;
    topics.create(&Default::default(), &moving).await?;
    wait_condition(&topics, "moving", "Ready", None, TOPIC_READY).await?;
    let producer =
        BackgroundProducer::start(&client, &namespace, "during-moves", &plain, "moving", 25)
            .await?;
    for replicas in [3, 2] {
        set_replicas(&topics, replicas).await?;
        let counts = replica_counts(&admin, "moving").await?;
        ensure!(counts == BTreeMap::from([(replicas, 6)]), "{counts:?}");
    }
    ensure!(producer.is_running(), "the producer ended during the moves");
    let during_moves = producer.stop().await?;
    ensure!(
        during_moves.acked > 0 && during_moves.errors.is_empty(),
        "{during_moves:?}"
    );
    // The moves' replication throttle is gone from the brokers.
    let resources: Vec<ConfigResource> = brokers
        .iter()
        .map(|id| ConfigResource::Broker(*id))
        .collect();
    let broker_configs = admin.describe_configs(&resources).await?;
    let throttles = (broker_configs.values().flatten().flatten())
        .filter(|entry| entry.name.ends_with("replication.throttled.rate"))
        .filter(|entry| entry.source == ConfigSource::DynamicBroker)
        .count();
    ensure!(throttles == 0, "{broker_configs:?}");

    // The leaving broker is drained, then removed (a scale-down that cannot drain is refused:
    // tests/kafka.rs).
    scale_brokers(&client, &namespace, &pools, 3).await?;
    wait_condition(&kafkas, "pools", "Ready", None, KAFKA_READY).await?;
    for (name, topic) in admin.list_topics().await? {
        for partition in &topic.partitions {
            ensure!(
                !partition.replicas.contains(&added),
                "{name}-{} is still on the removed broker: {partition:?}",
                partition.partition
            );
        }
    }
    let values = consume(
        &client,
        &namespace,
        "after-moves",
        &plain,
        "moving",
        during_moves.acked,
    )
    .await?;
    ensure!(
        values.len() == during_moves.acked,
        "consumed {} of {}",
        values.len(),
        during_moves.acked
    );

    // Deleting the cluster removes its pods and keeps its claims (deleteClaim: false).
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &namespace);
    let claims_before = claims.list(&ListParams::default()).await?.items.len();
    ensure!(claims_before >= 5, "{claims_before} claims");
    kafkas.delete("pools", &DeleteParams::default()).await?;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    testenv::eventually(
        "the cluster's pods are gone",
        Duration::from_secs(180),
        || async {
            Ok(pods
                .list(&ListParams::default().labels("strimzi.io/cluster=pools"))
                .await?
                .items
                .is_empty())
        },
    )
    .await?;
    let claims_after = claims.list(&ListParams::default()).await?.items.len();
    ensure!(
        claims_after == claims_before,
        "claims {claims_before} → {claims_after}"
    );
    Ok(())
}

/// A new cluster's controller quorum is dynamic: three controllers grow to five and shrink back
/// to three, each voter added or removed in turn, while a producer with `acks=all` runs without
/// an error and every message it wrote is read back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dynamic_controller_quorum_grows_and_shrinks_under_a_producer() -> Result<()> {
    let _alone = one_heavy_test_at_a_time().await;
    let (client, namespace) = setup_on_real_node("quorum").await?;
    let fixture =
        std::fs::read_to_string(repo_path("tests/fixtures/real-kafka-dynamic-quorum.yaml"))?;
    testenv::apply_yaml(&client, &fixture, &namespace).await?;
    let kafkas: Api<Kafka> = Api::namespaced(client.clone(), &namespace);
    wait_condition(&kafkas, "quorum", "Ready", None, KAFKA_READY).await?;
    let topics: Api<KafkaTopic> = Api::namespaced(client.clone(), &namespace);
    wait_condition(&topics, "events", "Ready", None, TOPIC_READY).await?;
    let external = external_bootstrap(&kafkas, "quorum").await?;
    // kube-proxy may open the NodePort a moment after the brokers are Ready.
    testenv::eventually("the external bootstrap answers", KAFKA_READY, || async {
        Ok(AdminClient::connect(ClientConfig::new([external.as_str()]))
            .await
            .is_ok())
    })
    .await?;
    let admin = AdminClient::connect(ClientConfig::new([external.as_str()])).await?;
    let voters = || async {
        let quorum = admin.describe_quorum().await?;
        anyhow::Ok(
            quorum
                .voters
                .iter()
                .map(|voter| voter.id)
                .collect::<Vec<_>>(),
        )
    };
    ensure!(voters().await? == [0, 1, 2], "{:?}", voters().await?);
    ensure!(
        admin.finalized_feature_level(KRAFT_VERSION_FEATURE).await? == Some(1),
        "the quorum was formatted dynamic"
    );
    let recorded = || async {
        let status = kafkas.get("quorum").await?.status.unwrap_or_default();
        let quorum = status.controller_quorum.unwrap_or_default();
        anyhow::Ok((quorum.mode, quorum.voters.unwrap_or_default()))
    };
    ensure!(recorded().await? == (QuorumMode::Dynamic, vec![0, 1, 2]));

    let plain = KafkaConnection::plain("quorum-kafka-bootstrap:9092".into());
    let producer =
        BackgroundProducer::start(&client, &namespace, "during-quorum", &plain, "events", 25)
            .await?;
    let pools: Api<KafkaNodePool> = Api::namespaced(client.clone(), &namespace);
    for (replicas, expected) in [(5, vec![0, 1, 2, 3, 4]), (3, vec![0, 1, 2])] {
        let scale = serde_json::json!({"spec": {"replicas": replicas}});
        pools
            .patch("controller", &PatchParams::default(), &Patch::Merge(&scale))
            .await?;
        testenv::eventually(&format!("voters {expected:?}"), KAFKA_READY, || async {
            Ok(voters().await? == expected && recorded().await?.1 == expected)
        })
        .await?;
        wait_condition(&kafkas, "quorum", "Ready", None, KAFKA_READY).await?;
        let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
        let selector = "strimzi.io/cluster=quorum,strimzi.io/pool-name=controller";
        let running = pods.list(&ListParams::default().labels(selector)).await?;
        let live = (running.items.iter()).filter(|pod| pod.metadata.deletion_timestamp.is_none());
        ensure!(live.count() == replicas, "{replicas} controller pods");
    }
    ensure!(
        producer.is_running(),
        "the producer ended before the quorum changes did"
    );
    let during = producer.stop().await?;
    ensure!(during.acked > 0 && during.errors.is_empty(), "{during:?}");
    let values = consume(
        &client,
        &namespace,
        "after-quorum",
        &plain,
        "events",
        during.acked,
    )
    .await?;
    ensure!(values.len() == during.acked, "consumed {}", values.len());
    Ok(())
}

/// The bootstrap servers of the Kafka's `external` listener, as its status gives them.
async fn external_bootstrap(kafkas: &Api<Kafka>, name: &str) -> Result<String> {
    let kafka = kafkas.get(name).await?;
    let listeners = kafka
        .status
        .as_ref()
        .and_then(|status| status.listeners.as_ref());
    listeners
        .and_then(|listeners| listeners.iter().find(|l| l.name == "external"))
        .and_then(|listener| listener.bootstrap_servers.clone())
        .context("the status lists the external listener")
}

/// A topic whose replication factor the pools test changes.
const MOVING_TOPIC: &str = r#"
apiVersion: kafka.strimzi.io/v1
kind: KafkaTopic
metadata:
  name: moving
  labels: {strimzi.io/cluster: pools}
spec:
  partitions: 6
  replicas: 1
  config: {min.insync.replicas: 1}
"#;

/// Sets the `moving` topic's replication factor and waits until it is Ready with it.
async fn set_replicas(topics: &Api<KafkaTopic>, replicas: usize) -> Result<()> {
    let change = serde_json::json!({"spec": {"replicas": replicas}});
    topics
        .patch("moving", &PatchParams::default(), &Patch::Merge(&change))
        .await?;
    wait_condition(topics, "moving", "Ready", None, KAFKA_READY).await?;
    Ok(())
}

/// How many of `topic`'s partitions have each replica count.
async fn replica_counts(admin: &AdminClient, topic: &str) -> Result<BTreeMap<usize, usize>> {
    let described = admin.describe_topics(&[topic.to_string()]).await?;
    let description = described
        .get(topic)
        .context("the topic is described")?
        .as_ref()
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    let mut counts = BTreeMap::new();
    for partition in &description.partitions {
        *counts.entry(partition.replicas.len()).or_default() += 1;
    }
    Ok(counts)
}

/// Scales the broker pool and waits until it has that many ready pods.
async fn scale_brokers(
    client: &kube::Client,
    namespace: &str,
    pools: &Api<KafkaNodePool>,
    replicas: usize,
) -> Result<()> {
    let scale = serde_json::json!({"spec": {"replicas": replicas}});
    pools
        .patch("broker", &PatchParams::default(), &Patch::Merge(&scale))
        .await?;
    testenv::eventually(
        &format!("{replicas} brokers ready"),
        KAFKA_READY,
        || async {
            let now = broker_pods(client, namespace).await?;
            Ok(now.len() == replicas && now.values().all(|(_, ready)| *ready))
        },
    )
    .await
}

/// The broker pool's pods by name: their UIDs (a restarted pod has a new one) and readiness.
async fn broker_pods(
    client: &kube::Client,
    namespace: &str,
) -> Result<BTreeMap<String, (String, bool)>> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let selector = "strimzi.io/cluster=pools,strimzi.io/pool-name=broker";
    Ok(pods
        .list(&ListParams::default().labels(selector))
        .await?
        .items
        .into_iter()
        .filter(|pod| pod.metadata.deletion_timestamp.is_none())
        .map(|pod| {
            let ready = runtime::pods::is_ready(&pod);
            (pod.name_any(), (pod.uid().unwrap_or_default(), ready))
        })
        .collect())
}
