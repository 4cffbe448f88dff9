//! The topic operator, run as the real binary against a real Kafka: N KafkaTopics created at
//! once until every one is Ready and exists in Kafka, for N = 100, 1,000 and 10,000; the
//! operator's memory then; and what one periodic full reconciliation of all those unchanged
//! topics costs in Kafka requests and Kubernetes writes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Result;
use api::kafka::KafkaTopic;
use kafka_client::AdminClient;
use kube::api::{Api, ListParams};
use kube::{Client, ResourceExt};

use crate::Figure;
use crate::resources::{self, create_all};
use crate::timeline::Phases;
use testenv::operator::Operator;

const SIZES: [usize; 3] = [100, 1_000, 10_000];
const READY_TIMEOUT: Duration = Duration::from_secs(600);
const RECONCILIATIONS: &str = "brokerage_reconciliations_total{kind=\"KafkaTopic\"}";
const KAFKA_REQUESTS: &str = "brokerage_broker_requests_total{kind=\"KafkaTopic\"}";

/// Runs against `operator`, which reaches the Kafka `admin` talks to as the cluster `bench`.
pub async fn run(client: &Client, operator: &Operator, admin: &AdminClient) -> Result<Vec<Figure>> {
    let mut figures = Vec::new();
    let mut namespaces = Vec::new();
    for size in SIZES {
        let namespace = testenv::fresh_namespace(client, &format!("bench-topics-{size}")).await?;
        let took = create_until_ready(client, operator, admin, &namespace, size).await?;
        let (ready, per_second): (&'static str, &'static str) = match size {
            100 => ("topics_100_ready", "topics_100_per_second"),
            1_000 => ("topics_1000_ready", "topics_1000_per_second"),
            _ => ("topics_10000_ready", "topics_10000_per_second"),
        };
        figures.push(Figure {
            name: ready,
            value: took.as_secs_f64(),
            unit: "s",
        });
        figures.push(Figure {
            name: per_second,
            value: size as f64 / took.as_secs_f64(),
            unit: "topics/s",
        });
        namespaces.push(namespace);
    }
    figures.push(Figure {
        name: "operator_rss_11100_topics",
        value: operator.resident_mib()?,
        unit: "MiB",
    });

    let (requests, writes, took) = full_reconciliation(client, operator, &namespaces).await?;
    figures.push(Figure {
        name: "topics_resync_kafka_requests",
        value: requests,
        unit: "requests",
    });
    figures.push(Figure {
        name: "topics_resync_api_writes",
        value: writes,
        unit: "writes",
    });
    figures.push(Figure {
        name: "topics_resync_duration",
        value: took.as_secs_f64(),
        unit: "s",
    });
    Ok(figures)
}

/// Creates `size` KafkaTopics as fast as the API server takes them, and returns how long it was
/// until every one was Ready and its topic existed in Kafka.
async fn create_until_ready(
    client: &Client,
    operator: &Operator,
    admin: &AdminClient,
    namespace: &str,
    size: usize,
) -> Result<Duration> {
    let topics: Api<KafkaTopic> = Api::namespaced(client.clone(), namespace);
    let kafka_name = |index: usize| kafka_name(namespace, index);
    let phases = Phases::read(operator, "KafkaTopic").await?;
    let began = Instant::now();
    create_all(&topics, (0..size).map(|index| manifest(namespace, index))).await?;
    resources::until_all_ready(&topics, size, is_ready, READY_TIMEOUT).await?;
    operator.check_running()?;
    // A broker learns of new topics a moment after the controller made them.
    operator
        .poll(
            &format!("{size} Ready topics exist in Kafka"),
            Duration::from_millis(100),
            || async {
                let in_kafka = admin.list_topics().await?;
                Ok((0..size).all(|index| in_kafka.contains_key(&kafka_name(index))))
            },
        )
        .await?;
    let took = began.elapsed();
    Phases::read(operator, "KafkaTopic").await?.print_since(
        &phases,
        &format!("{size} KafkaTopics"),
        took.as_secs_f64(),
    );
    Ok(took)
}

/// Waits for the next periodic full reconciliation to run and finish, and returns the Kafka
/// requests it sent, the KafkaTopics it wrote to, and how long it took.
async fn full_reconciliation(
    client: &Client,
    operator: &Operator,
    namespaces: &[String],
) -> Result<(f64, f64, Duration)> {
    let versions = async || -> Result<BTreeMap<String, String>> {
        let mut versions = BTreeMap::new();
        for namespace in namespaces {
            let topics: Api<KafkaTopic> = Api::namespaced(client.clone(), namespace);
            for topic in topics.list(&ListParams::default()).await? {
                versions.insert(
                    format!("{namespace}/{}", topic.name_any()),
                    topic.resource_version().unwrap_or_default(),
                );
            }
        }
        Ok(versions)
    };
    // Settle: the last statuses written cause one more (empty) batch each.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = versions().await?;
    let requests_before = operator.counter(KAFKA_REQUESTS).await?;
    let batches_before = operator.counter(RECONCILIATIONS).await?;
    operator
        .poll(
            "a full reconciliation starts",
            Duration::from_millis(50),
            || async { Ok(operator.counter(RECONCILIATIONS).await? > batches_before) },
        )
        .await?;
    let began = Instant::now();
    // One batch per namespace (each is a cluster of its own here): done when all have run and
    // nothing more followed for two seconds.
    let (mut last, mut last_change) = (operator.counter(RECONCILIATIONS).await?, Instant::now());
    while last - batches_before < namespaces.len() as f64
        || last_change.elapsed() < Duration::from_secs(2)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = operator.counter(RECONCILIATIONS).await?;
        if now != last {
            (last, last_change) = (now, Instant::now());
        }
    }
    let took = last_change - began;
    let after = versions().await?;
    let writes = before
        .iter()
        .filter(|(name, version)| after.get(*name) != Some(*version))
        .count();
    let requests = operator.counter(KAFKA_REQUESTS).await? - requests_before;
    Ok((requests, writes as f64, took))
}

/// The benchmark's KafkaTopic number `index` in `namespace`: one partition, one replica, in
/// the cluster `bench`.
pub fn manifest(namespace: &str, index: usize) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaTopic",
        "metadata": {"name": format!("topic-{index}"), "labels": {"strimzi.io/cluster": "bench"}},
        "spec": {"topicName": kafka_name(namespace, index), "partitions": 1, "replicas": 1},
    })
}

/// Unique across the namespaces, which share one Kafka.
fn kafka_name(namespace: &str, index: usize) -> String {
    format!("{namespace}.topic-{index}")
}

pub fn is_ready(topic: &KafkaTopic) -> bool {
    let status = topic.status.as_ref();
    let conditions = status.and_then(|status| status.conditions.as_deref());
    let observed = status.and_then(|status| status.observed_generation);
    resources::is_ready(conditions, observed, topic.metadata.generation)
}
