//! Moving data, on a real four-node Kafka and the operator binary: a KafkaRebalance
//! (`remove-brokers`, auto-approved) drains a broker holding 300 partitions (time); a
//! 100-partition topic holding 100 MiB goes from replication factor 1 to 3 (time, and bytes the
//! brokers copied); and the planner balances a generated 5,000-partition, 12-broker cluster.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;
use api::kafka::{KafkaRebalance, KafkaTopic};
use kafka_client::{AdminClient, ClientConfig};
use kafka_operator::reassignment::{self, Assignment, Broker, Goal, Partition, Topic};
use kube::api::{Api, Patch, PatchParams};
use testenv::kafka::{KafkaCluster, KafkaOptions, Listener};
use testenv::operator::Operator;

use crate::Figure;
use crate::resources::{create_all, is_ready};

const PARTITIONS: usize = 100;
const RECORDS: u64 = 102_400;
const RECORD_SIZE: u32 = 1024;

pub async fn run(cluster: &testenv::Cluster, out: &Path) -> Result<Vec<Figure>> {
    let mut figures = vec![planner()?];
    let options = KafkaOptions::nodes(4);
    let kafka = tokio::task::spawn_blocking(move || KafkaCluster::start(&options)).await??;
    let bootstrap = kafka.bootstrap(Listener::Plain);
    let connections = out.join("kafka-connections-moves.yaml");
    std::fs::write(
        &connections,
        format!("- cluster: moves\n  bootstrapServers: {bootstrap}\n"),
    )?;
    let connections = connections.display().to_string();
    let operator = Operator::start(
        cluster.kubeconfig(),
        &out.join("operator-moves.log"),
        &["--kafka-connections", &connections],
    )
    .await?;
    let admin = AdminClient::connect(ClientConfig::new([bootstrap])).await?;
    let client = cluster.client().await?;
    let namespace = testenv::fresh_namespace(&client, "bench-moves").await?;
    figures.push(drain(&client, &operator, &admin, &namespace).await?);
    let topics: Api<KafkaTopic> = Api::namespaced(client, &namespace);
    let name = format!("{namespace}.rf");
    let manifest = serde_json::json!({
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaTopic",
        "metadata": {"name": "rf", "labels": {"strimzi.io/cluster": "moves"}},
        "spec": {"topicName": name, "partitions": PARTITIONS, "replicas": 1},
    });
    create_all(&topics, std::iter::once(manifest)).await?;
    wait_ready(&operator, &topics, "rf").await?;
    let produced = name.clone();
    let kafka = tokio::task::spawn_blocking(move || {
        kafka.produce(&produced, RECORDS, RECORD_SIZE)?;
        anyhow::Ok(kafka)
    })
    .await??;
    let before = bytes_on_disk(&admin, &name).await?;

    let began = Instant::now();
    let change = serde_json::json!({"spec": {"replicas": 3}});
    topics
        .patch("rf", &PatchParams::default(), &Patch::Merge(&change))
        .await?;
    wait_ready(&operator, &topics, "rf").await?;
    let took = began.elapsed();
    let moved = bytes_on_disk(&admin, &name).await? - before;
    figures.push(Figure {
        name: "replication_factor_100_partitions_1_to_3",
        value: took.as_secs_f64(),
        unit: "s",
    });
    figures.push(Figure {
        name: "replication_factor_100_partitions_bytes_moved",
        value: moved as f64 / (1024.0 * 1024.0),
        unit: "MiB",
    });
    drop(kafka);
    Ok(figures)
}

/// Broker 3 holds every partition of a 300-partition topic; a KafkaRebalance removing it is
/// created auto-approved, and the figure is the time until it is Ready, the broker empty.
async fn drain(
    client: &kube::Client,
    operator: &Operator,
    admin: &AdminClient,
    namespace: &str,
) -> Result<Figure> {
    const DRAINED: i32 = 3;
    let topics: Api<KafkaTopic> = Api::namespaced(client.clone(), namespace);
    let name = format!("{namespace}.drain");
    let manifest = serde_json::json!({
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaTopic",
        "metadata": {"name": "drain", "labels": {"strimzi.io/cluster": "moves"}},
        "spec": {"topicName": name, "partitions": 300, "replicas": 1},
    });
    create_all(&topics, std::iter::once(manifest)).await?;
    wait_ready(operator, &topics, "drain").await?;
    let onto_one = (0..300)
        .map(|partition| ((name.clone(), partition), Some(vec![DRAINED])))
        .collect();
    admin.alter_partition_reassignments(&onto_one).await?;
    operator
        .poll(
            "the partitions are on one broker",
            Duration::from_millis(250),
            || async { Ok(admin.list_partition_reassignments(None).await?.is_empty()) },
        )
        .await?;

    let rebalances: Api<KafkaRebalance> = Api::namespaced(client.clone(), namespace);
    let manifest = serde_json::json!({
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaRebalance",
        "metadata": {
            "name": "drain",
            "labels": {"strimzi.io/cluster": "moves"},
            "annotations": {"strimzi.io/rebalance-auto-approval": "true"},
        },
        "spec": {"mode": "remove-brokers", "brokers": [DRAINED]},
    });
    let began = Instant::now();
    create_all(&rebalances, std::iter::once(manifest)).await?;
    operator
        .poll(
            "the KafkaRebalance is Ready",
            Duration::from_millis(250),
            || async {
                let rebalance = rebalances.get("drain").await?;
                let conditions = rebalance.status.and_then(|status| status.conditions);
                Ok((conditions.into_iter().flatten())
                    .any(|c| c.type_ == "Ready" && c.status == "True"))
            },
        )
        .await?;
    let took = began.elapsed();
    let held = (admin.list_topics().await?.values())
        .flat_map(|topic| &topic.partitions)
        .filter(|partition| partition.replicas.contains(&DRAINED))
        .count();
    anyhow::ensure!(held == 0, "broker {DRAINED} still holds {held} partitions");
    Ok(Figure {
        name: "drain_broker_300_partitions",
        value: took.as_secs_f64(),
        unit: "s",
    })
}

/// Waits until the KafkaTopic `name` is Ready for its current generation.
async fn wait_ready(operator: &Operator, topics: &Api<KafkaTopic>, name: &str) -> Result<()> {
    operator
        .poll(
            "the KafkaTopic is Ready",
            Duration::from_millis(250),
            || async {
                let topic = topics.get(name).await?;
                let status = topic.status.as_ref();
                Ok(is_ready(
                    status.and_then(|s| s.conditions.as_deref()),
                    status.and_then(|s| s.observed_generation),
                    topic.metadata.generation,
                ))
            },
        )
        .await
}

/// Bytes `topic` takes on every broker's disks, all replicas counted.
async fn bytes_on_disk(admin: &AdminClient, topic: &str) -> Result<i64> {
    let mut total = 0;
    for broker in admin.describe_cluster().await?.brokers {
        for dir in admin.describe_log_dirs(broker.id).await? {
            let partitions = dir.partitions.iter().filter(|p| p.topic == topic);
            total += partitions.map(|p| p.size).sum::<i64>();
        }
    }
    Ok(total)
}

/// The planner's time to balance 5,000 partitions (50 topics of 100, three replicas each) that
/// sit on 8 of 12 brokers in 3 racks.
fn planner() -> Result<Figure> {
    let brokers: Vec<Broker> = (0..12)
        .map(|id| Broker {
            id,
            rack: Some(format!("rack-{}", id % 3)),
        })
        .collect();
    let topics = (0..50)
        .map(|index| {
            let partitions = (0..100)
                .map(|partition: i32| {
                    // Three consecutive brokers of the first eight: one per rack.
                    let first = (index * 100 + partition) % 8;
                    let replicas: Vec<i32> = (0..3).map(|offset| (first + offset) % 8).collect();
                    let isr: BTreeSet<i32> = replicas.iter().copied().collect();
                    (partition, Partition { replicas, isr })
                })
                .collect::<BTreeMap<_, _>>();
            let topic = Topic {
                min_insync_replicas: 2,
                partitions,
            };
            (format!("topic-{index}"), topic)
        })
        .collect();
    let assignment = Assignment { brokers, topics };
    let began = Instant::now();
    let plan = reassignment::plan(&assignment, &Goal::Balance { only_onto: None });
    let took = began.elapsed();
    anyhow::ensure!(!plan?.moves.is_empty(), "a skewed cluster needs moves");
    Ok(Figure {
        name: "planner_5000_partitions_12_brokers",
        value: took.as_secs_f64(),
        unit: "s",
    })
}
