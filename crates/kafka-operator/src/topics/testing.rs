//! KafkaTopics for unit tests.

use api::kafka::{KafkaTopic, KafkaTopicSpec};
use runtime::labels::STRIMZI_CLUSTER;

/// A KafkaTopic in `team-a` of `my-cluster`, with the spec given as JSON.
pub fn topic(name: &str, spec: serde_json::Value) -> KafkaTopic {
    let spec: KafkaTopicSpec = serde_json::from_value(spec).expect("a KafkaTopic spec");
    let mut topic = KafkaTopic::new(name, spec);
    topic.metadata.namespace = Some("team-a".into());
    topic.metadata.labels = Some([(STRIMZI_CLUSTER.into(), "my-cluster".into())].into());
    topic.metadata.generation = Some(1);
    topic
}
