//! KafkaRebalance against a real three-node Kafka and the real local cluster, with no Cruise
//! Control: a skewed cluster gets a proposal, which moves nothing until approved and then
//! evens the replicas out; `remove-brokers` empties a broker; `stop` ends a rebalance in flight
//! and lifts its throttles, and `refresh` starts over. A rebalance of no Kafka, or in a mode not
//! implemented, is NotReady.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, ensure};
use api::kafka::KafkaRebalance;
use brokerage_e2e::{connector, setup, wait_condition};
use kafka_client::{
    AdminClient, ClientConfig, ConfigResource, ConfigSource, LEADER_THROTTLED_RATE, NewTopic,
};
use kafka_operator::admin::{AdminOverride, KafkaAdmins};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use runtime::{Context, Metrics, Namespaces};
use serde_json::json;
use testenv::kafka::{KafkaCluster, KafkaOptions, Listener};

const WAIT: Duration = Duration::from_secs(60);
const TOPICS: usize = 4;
const PARTITIONS: i32 = 6;

/// Runs the KafkaRebalance controller in this test's runtime, watching `namespace`, reaching
/// `my-cluster` at `bootstrap` (when given).
fn start_operator(client: &Client, namespace: &str, bootstrap: Option<String>) {
    let overrides = (bootstrap.into_iter())
        .map(|bootstrap| AdminOverride {
            namespace: Some(namespace.to_string()),
            cluster: "my-cluster".into(),
            config: ClientConfig::new([bootstrap]),
        })
        .collect();
    let metrics = Arc::new(Metrics::default());
    let context = Arc::new(Context::new(
        client.clone(),
        metrics,
        Duration::from_secs(120),
    ));
    let admins = Arc::new(KafkaAdmins::new(client.clone(), overrides, &connector()));
    let namespaces = Namespaces::Only(vec![namespace.to_string()]);
    tokio::spawn(async move { kafka_operator::rebalance::run(&namespaces, context, admins).await });
}

async fn create(
    rebalances: &Api<KafkaRebalance>,
    name: &str,
    cluster: &str,
    annotations: serde_json::Value,
    spec: serde_json::Value,
) -> Result<()> {
    let rebalance: KafkaRebalance = serde_json::from_value(json!({
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaRebalance",
        "metadata": {
            "name": name,
            "labels": {"strimzi.io/cluster": cluster},
            "annotations": annotations,
        },
        "spec": spec,
    }))?;
    rebalances
        .create(&PostParams::default(), &rebalance)
        .await?;
    Ok(())
}

async fn annotate(rebalances: &Api<KafkaRebalance>, name: &str, request: &str) -> Result<()> {
    let patch = json!({"metadata": {"annotations": {"strimzi.io/rebalance": request}}});
    rebalances
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    Ok(())
}

/// Every partition's replicas, by topic and partition.
async fn layout(admin: &AdminClient) -> Result<BTreeMap<(String, i32), Vec<i32>>> {
    let topics = admin.list_topics().await?;
    Ok((topics.into_iter())
        .flat_map(|(name, topic)| {
            (topic.partitions.into_iter()).map(move |p| ((name.clone(), p.partition), p.replicas))
        })
        .collect())
}

/// The replicas each broker holds.
async fn replicas_per_broker(admin: &AdminClient) -> Result<BTreeMap<i32, usize>> {
    let mut counts: BTreeMap<i32, usize> = (0..3).map(|id| (id, 0)).collect();
    for replicas in layout(admin).await?.values() {
        for broker in replicas {
            *counts.entry(*broker).or_default() += 1;
        }
    }
    Ok(counts)
}

async fn nothing_moving(admin: &AdminClient) -> Result<bool> {
    Ok(admin.list_partition_reassignments(None).await?.is_empty())
}

/// Topics whose every replica is on brokers 0 and 1, leaders alternating.
async fn skewed_topics(admin: &AdminClient) -> Result<()> {
    let topics: Vec<NewTopic> = (0..TOPICS)
        .map(|n| NewTopic {
            name: format!("skewed-{n}"),
            partitions: Some(PARTITIONS),
            replication_factor: Some(2),
            configs: Default::default(),
        })
        .collect();
    for (name, created) in admin.create_topics(&topics).await? {
        ensure!(created.is_ok(), "creating {name}: {created:?}");
    }
    let wanted: BTreeMap<(String, i32), Option<Vec<i32>>> = (0..TOPICS)
        .flat_map(|n| (0..PARTITIONS).map(move |p| (format!("skewed-{n}"), p)))
        .map(|(topic, p)| {
            let replicas = if p % 2 == 0 { vec![0, 1] } else { vec![1, 0] };
            ((topic, p), Some(replicas))
        })
        .collect();
    testenv::eventually("the topics are known to every broker", WAIT, || async {
        Ok(layout(admin).await?.len() == wanted.len())
    })
    .await?;
    for (partition, result) in admin.alter_partition_reassignments(&wanted).await? {
        ensure!(result.is_ok(), "moving {partition:?}: {result:?}");
    }
    testenv::eventually("the skew is in place", WAIT, || async {
        let counts = replicas_per_broker(admin).await?;
        Ok(nothing_moving(admin).await? && counts[&2] == 0)
    })
    .await
}

/// Whether `broker` has a replication throttle of its own.
async fn throttled(admin: &AdminClient, broker: i32) -> Result<bool> {
    let resource = ConfigResource::Broker(broker);
    let configs = admin
        .describe_configs(std::slice::from_ref(&resource))
        .await?;
    let entries = configs[&resource]
        .clone()
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    Ok(entries.iter().any(|entry| {
        entry.name == LEADER_THROTTLED_RATE && entry.source == ConfigSource::DynamicBroker
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_skewed_cluster_is_proposed_approved_drained_stopped_and_refreshed() -> Result<()> {
    let kafka =
        tokio::task::spawn_blocking(|| KafkaCluster::start(&KafkaOptions::nodes(3))).await??;
    let bootstrap = kafka.bootstrap(Listener::Plain);
    let (client, namespace) = setup("rebalance").await?;
    start_operator(&client, &namespace, Some(bootstrap.clone()));
    let rebalances: Api<KafkaRebalance> = Api::namespaced(client, &namespace);
    let admin = AdminClient::connect(ClientConfig::new([bootstrap])).await?;
    skewed_topics(&admin).await?;

    // A proposal, and nothing moves until it is approved.
    create(&rebalances, "full", "my-cluster", json!({}), json!({})).await?;
    wait_condition(&rebalances, "full", "ProposalReady", None, WAIT).await?;
    let proposed = rebalances.get("full").await?.status.unwrap_or_default();
    let result = proposed.optimization_result.unwrap_or_default();
    ensure!(
        result["numReplicaMovements"].as_u64() > Some(0),
        "{result:?}"
    );
    ensure!(
        result["replicasPerBrokerBefore"] == json!({"0": 24, "1": 24, "2": 0}),
        "{result:?}"
    );
    let before = layout(&admin).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    ensure!(nothing_moving(&admin).await?, "moving before approval");
    ensure!(layout(&admin).await? == before, "moved before approval");
    let state = wait_condition(&rebalances, "full", "ProposalReady", None, WAIT).await;
    ensure!(state.is_ok(), "still a proposal: {state:?}");

    annotate(&rebalances, "full", "approve").await?;
    wait_condition(&rebalances, "full", "Ready", None, WAIT).await?;
    let counts = replicas_per_broker(&admin).await?;
    let mean = counts.values().sum::<usize>() / counts.len();
    ensure!(
        counts.values().all(|n| n.abs_diff(mean) <= 1),
        "not balanced: {counts:?}"
    );
    let done = rebalances.get("full").await?;
    ensure!(
        !done.annotations().contains_key("strimzi.io/rebalance"),
        "the request stays: {:?}",
        done.annotations()
    );

    // Emptying broker 2, approved in advance.
    let auto = json!({"strimzi.io/rebalance-auto-approval": "true"});
    let drain = json!({"mode": "remove-brokers", "brokers": [2]});
    create(&rebalances, "drain", "my-cluster", auto.clone(), drain).await?;
    wait_condition(&rebalances, "drain", "Ready", None, WAIT).await?;
    let counts = replicas_per_broker(&admin).await?;
    ensure!(counts[&2] == 0, "broker 2 still holds replicas: {counts:?}");

    // Stopped while it moves partitions onto the empty broker: it moves no more, and the
    // throttles go.
    create(&rebalances, "stopped", "my-cluster", auto, json!({})).await?;
    wait_condition(&rebalances, "stopped", "Rebalancing", None, WAIT).await?;
    annotate(&rebalances, "stopped", "stop").await?;
    wait_condition(&rebalances, "stopped", "Stopped", None, WAIT).await?;
    ensure!(
        nothing_moving(&admin).await?,
        "reassignments left in flight"
    );
    testenv::eventually("the throttles are lifted", WAIT, || async {
        for broker in 0..3 {
            if throttled(&admin, broker).await? {
                return Ok(false);
            }
        }
        Ok(true)
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(6)).await;
    let still = rebalances.get("stopped").await?.status.unwrap_or_default();
    let types: Vec<String> = (still.conditions.unwrap_or_default().into_iter())
        .map(|condition| condition.type_)
        .collect();
    ensure!(types.contains(&"Stopped".to_string()), "{types:?}");

    // Refreshed: a new proposal, approved in advance, and carried out.
    annotate(&rebalances, "stopped", "refresh").await?;
    wait_condition(&rebalances, "stopped", "Ready", None, WAIT).await?;
    let counts = replicas_per_broker(&admin).await?;
    ensure!(
        counts.values().all(|n| n.abs_diff(mean) <= 1),
        "not balanced after the refresh: {counts:?}"
    );
    drop(kafka);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebalance_of_no_kafka_or_of_disks_is_not_ready() -> Result<()> {
    let (client, namespace) = setup("rebalance-refused").await?;
    start_operator(&client, &namespace, None);
    let rebalances: Api<KafkaRebalance> = Api::namespaced(client, &namespace);
    create(&rebalances, "orphan", "no-such-kafka", json!({}), json!({})).await?;
    let condition = wait_condition(
        &rebalances,
        "orphan",
        "NotReady",
        Some("ClusterNotFound"),
        WAIT,
    )
    .await?;
    let message = condition.message.unwrap_or_default();
    ensure!(message.contains("no-such-kafka"), "{message}");

    let disks = json!({"mode": "remove-disks", "moveReplicasOffVolumes": [{"brokerId": 0, "volumeIds": [1]}]});
    create(&rebalances, "disks", "my-cluster", json!({}), disks).await?;
    wait_condition(&rebalances, "disks", "NotReady", Some("NotSupported"), WAIT).await?;
    let adding = json!({"mode": "add-brokers", "goals": ["RackAwareGoal"]});
    create(&rebalances, "adding", "my-cluster", json!({}), adding).await?;
    wait_condition(&rebalances, "adding", "NotReady", Some("InvalidSpec"), WAIT).await?;
    let warning = wait_condition(
        &rebalances,
        "adding",
        "Warning",
        Some("UnsupportedFields"),
        WAIT,
    )
    .await?;
    ensure!(
        warning.message.unwrap_or_default().contains("goals"),
        "no warning about goals"
    );
    Ok(())
}
