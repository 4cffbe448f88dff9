//! RocketMQTopics for unit tests.

use api::rocketmq::{RocketMQTopic, RocketMQTopicSpec};

/// A RocketMQTopic in `team-a` of the Broker `broker`, with more of the spec given as JSON.
pub fn topic(name: &str, mut spec: serde_json::Value) -> RocketMQTopic {
    spec["clusterRef"] = serde_json::json!({"name": "broker"});
    let spec: RocketMQTopicSpec = serde_json::from_value(spec).expect("a RocketMQTopic spec");
    let mut topic = RocketMQTopic::new(name, spec);
    topic.metadata.namespace = Some("team-a".into());
    topic.metadata.generation = Some(1);
    topic
}
