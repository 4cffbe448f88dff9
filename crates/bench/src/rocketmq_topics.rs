//! The RocketMQTopic operator, run as the real binary against a real RocketMQ name server and
//! broker: 1,000 RocketMQTopics created at once until every one is Ready and on the broker, and
//! the operator's memory then. The operator process is its own, so its memory is RocketMQ's alone.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;
use api::rocketmq::RocketMQTopic;
use kube::api::{Api, ListParams};
use rocketmq_client::{AdminClient, ClientConfig};
use testenv::rocketmq::{RocketMQCluster, RocketMQOptions};

use crate::Figure;
use crate::resources::{self, create_all};
use testenv::operator::Operator;

const TOPICS: usize = 1_000;
/// The brokers' cluster name in the test environment.
const CLUSTER_NAME: &str = "DefaultCluster";

pub async fn run(cluster: &testenv::Cluster, out: &Path) -> Result<Vec<Figure>> {
    let rocketmq =
        tokio::task::spawn_blocking(|| RocketMQCluster::start(&RocketMQOptions::default()))
            .await??;
    let name_server = rocketmq.name_server_addr();
    let connections = out.join("rocketmq-connections.yaml");
    std::fs::write(
        &connections,
        format!("- cluster: bench\n  clusterName: {CLUSTER_NAME}\n  nameServers: {name_server}\n"),
    )?;
    let connections = connections.display().to_string();
    let client = cluster.client().await?;
    let namespace = testenv::fresh_namespace(&client, "bench-rocketmq-topics").await?;
    // Only this namespace: the Kafka benchmarks' thousands of resources are not this figure's.
    let operator = Operator::start(
        cluster.kubeconfig(),
        &out.join("operator-rocketmq.log"),
        &[
            "--rocketmq-connections",
            &connections,
            "--watch-namespaces",
            &namespace,
        ],
    )
    .await?;
    let admin = AdminClient::new(ClientConfig::new(&name_server));
    let broker = rocketmq.brokers()[0].addr();

    let topics: Api<RocketMQTopic> = Api::namespaced(client.clone(), &namespace);
    let began = Instant::now();
    let manifests = (0..TOPICS).map(|index| {
        serde_json::json!({
            "apiVersion": "rocketmq.apache.org/v1alpha1",
            "kind": "RocketMQTopic",
            "metadata": {"name": format!("topic-{index}")},
            "spec": {"clusterRef": {"name": "bench"}, "readQueueNums": 4, "writeQueueNums": 4},
        })
    });
    create_all(&topics, manifests).await?;
    operator
        .poll(
            &format!("{TOPICS} RocketMQTopics are Ready"),
            Duration::from_millis(250),
            || async {
                let listed = topics.list(&ListParams::default()).await?;
                Ok(listed.items.iter().filter(|topic| is_ready(topic)).count() == TOPICS)
            },
        )
        .await?;
    operator
        .poll(
            &format!("{TOPICS} topics exist on the broker"),
            Duration::from_millis(100),
            || async {
                let on_broker = admin.topic_configs(&broker).await?;
                Ok((0..TOPICS).all(|index| on_broker.contains_key(&format!("topic-{index}"))))
            },
        )
        .await?;
    let took = began.elapsed();
    let figures = vec![
        Figure {
            name: "rocketmq_topics_1000_ready",
            value: took.as_secs_f64(),
            unit: "s",
        },
        Figure {
            name: "rocketmq_topics_1000_per_second",
            value: TOPICS as f64 / took.as_secs_f64(),
            unit: "topics/s",
        },
        Figure {
            name: "operator_rss_rocketmq_1000_topics",
            value: operator.resident_mib()?,
            unit: "MiB",
        },
    ];
    drop(rocketmq);
    Ok(figures)
}

fn is_ready(topic: &RocketMQTopic) -> bool {
    let status = topic.status.as_ref();
    let conditions = status.and_then(|status| status.conditions.as_deref());
    let observed = status.and_then(|status| status.observed_generation);
    resources::is_ready(conditions, observed, topic.metadata.generation)
}
