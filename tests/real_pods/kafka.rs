//! Kafka clusters on real pods, and the topic and user operators in the operator's pod.

use std::time::Duration;

use anyhow::{Result, ensure};
use api::kafka::{Kafka, KafkaTopic};
use brokerage_e2e::real_pods::{KafkaConnection, consume, produce, setup_on_real_node};
use brokerage_e2e::{repo_path, wait_condition};
use kube::api::Api;

/// A cold Kafka pod on a busy two-core machine: scheduling, storage format, JVM start.
const KAFKA_READY: Duration = Duration::from_secs(300);
const TOPIC_READY: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_single_node_example_serves_producers_and_consumers() -> Result<()> {
    let (client, namespace) = setup_on_real_node("single-node").await?;
    for example in ["ephemeral-single-node.yaml", "topic.yaml"] {
        let yaml = std::fs::read_to_string(repo_path("examples/kafka").join(example))?;
        testenv::apply_yaml(&client, &yaml, &namespace).await?;
    }
    let kafkas: Api<Kafka> = Api::namespaced(client.clone(), &namespace);
    wait_condition(&kafkas, "my-cluster", "Ready", None, KAFKA_READY).await?;
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
