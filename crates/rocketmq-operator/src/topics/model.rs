//! A RocketMQTopic as the operator understands it: which cluster, which topic, and what the
//! topic should look like on every master broker. Pure: no client, no clock.

use api::rocketmq::{MessageType, RocketMQTopic};
use kube::ResourceExt;
use operator_common::cluster_ref::ClusterRef;
use rocketmq_client::TopicConfig;

use operator_common::topics::conflicts::TopicResource;

/// Present while the operator still has to delete the topic in RocketMQ.
pub const FINALIZER: &str = "rocketmq.apache.org/topic-operator";
/// The topic attribute RocketMQ 5 keeps the message type in.
pub const MESSAGE_TYPE_ATTRIBUTE: &str = "message.type";
/// RocketMQ's longest topic name.
const MAX_TOPIC_NAME_LENGTH: usize = 127;
/// Topics the brokers make and use themselves (RocketMQ's `TopicValidator`); a resource must
/// never take one over or delete it.
const SYSTEM_TOPICS: &[&str] = &[
    "TBW102",
    "SCHEDULE_TOPIC_XXXX",
    "BenchmarkTest",
    "OFFSET_MOVED_EVENT",
    "SELF_TEST_TOPIC",
    "CHECKPOINT_TOPIC",
    "TRANS_CHECK_MAX_TIME_TOPIC",
];
/// `RMQ_SYS_` covers the transaction, trace, RocksDB and sync topics; retry and dead-letter
/// topics belong to consumer groups.
const SYSTEM_TOPIC_PREFIXES: &[&str] = &["rmq_sys_", "RMQ_SYS_", "%RETRY%", "%DLQ%", "%LMQ%"];

/// The topic deleting `topic` deletes: only the one the operator recorded as this resource's
/// (never one a later edit of `topicName` names), and never a system topic.
pub fn topic_to_delete(topic: &RocketMQTopic) -> Option<String> {
    topic
        .recorded_topic_name()
        .filter(|name| system_topic(name).is_none())
}

/// Why `name` is a topic of the brokers themselves: each broker makes one named after its
/// cluster and one after its broker name.
pub fn broker_topic(name: &str, cluster_name: &str, broker_names: &[String]) -> Option<String> {
    if name == cluster_name {
        return Some(format!(
            "{name} is the topic RocketMQ keeps for the cluster {cluster_name}; set spec.topicName"
        ));
    }
    broker_names.iter().any(|broker| broker == name).then(|| {
        format!("{name} is the topic RocketMQ keeps for the broker {name}; set spec.topicName")
    })
}

/// Why `name` is one of RocketMQ's system topics, if it is.
fn system_topic(name: &str) -> Option<String> {
    let system = SYSTEM_TOPICS.contains(&name)
        || SYSTEM_TOPIC_PREFIXES
            .iter()
            .any(|prefix| name.starts_with(prefix));
    system
        .then(|| format!("{name} is a RocketMQ system topic, which the brokers manage themselves"))
}

/// The cluster a RocketMQTopic belongs to: the Broker its `clusterRef` names, in its namespace.
pub fn cluster_of(topic: &RocketMQTopic) -> ClusterRef {
    ClusterRef {
        namespace: topic.namespace().unwrap_or_default(),
        name: topic.spec.cluster_ref.name.clone(),
    }
}

/// Reads a RocketMQTopic into the topic every master should have, or says in words a user can
/// act on what is wrong with it.
pub fn validate(topic: &RocketMQTopic) -> Result<TopicConfig, String> {
    let name = topic.topic_name();
    check_topic_name(&name)?;
    let spec = &topic.spec;
    let message_type = spec.message_type.unwrap_or_default();
    let mut config = TopicConfig::new(&name);
    config.read_queue_nums = spec.read_queue_nums;
    config.write_queue_nums = spec.write_queue_nums;
    config.perm = spec.perm;
    config.order = spec.order.unwrap_or(false);
    config.attributes.insert(
        MESSAGE_TYPE_ATTRIBUTE.into(),
        message_type_name(message_type).into(),
    );
    Ok(config)
}

/// As RocketMQ spells the message type in the topic attribute.
fn message_type_name(message_type: MessageType) -> &'static str {
    match message_type {
        MessageType::Normal => "NORMAL",
        MessageType::Fifo => "FIFO",
        MessageType::Delay => "DELAY",
        MessageType::Transaction => "TRANSACTION",
        MessageType::Mixed => "MIXED",
    }
}

/// RocketMQ's own rule for topic names (`TopicValidator`): letters, digits, `%`, `|`, `-` and
/// `_`, at most 127 characters, and not one of the brokers' system topics.
fn check_topic_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_TOPIC_NAME_LENGTH {
        return Err(format!(
            "the topic name {name:?} must be 1 to {MAX_TOPIC_NAME_LENGTH} characters long"
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '%' | '|' | '-' | '_')))
    {
        return Err(format!(
            "the topic name {name:?} contains {bad:?}; RocketMQ allows only letters, digits, '%', '|', '-' and '_' (set spec.topicName)"
        ));
    }
    match system_topic(name) {
        Some(message) => Err(message),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::topics::testing::topic;

    #[test]
    fn a_topic_takes_its_settings_and_defaults() {
        let config = validate(&topic("orders", json!({}))).unwrap();
        assert_eq!(config.topic_name, "orders");
        assert_eq!((config.read_queue_nums, config.write_queue_nums), (8, 8));
        assert_eq!((config.perm, config.order), (6, false));
        assert_eq!(config.attributes[MESSAGE_TYPE_ATTRIBUTE], "NORMAL");

        let fifo = topic(
            "payments",
            json!({"topicName": "Payments_FIFO", "readQueueNums": 2, "writeQueueNums": 4,
                   "perm": 4, "order": true, "messageType": "FIFO"}),
        );
        let config = validate(&fifo).unwrap();
        assert_eq!(config.topic_name, "Payments_FIFO");
        assert_eq!((config.read_queue_nums, config.write_queue_nums), (2, 4));
        assert_eq!((config.perm, config.order), (4, true));
        assert_eq!(config.attributes[MESSAGE_TYPE_ATTRIBUTE], "FIFO");
        assert_eq!(cluster_of(&fifo).to_string(), "team-a/broker");
    }

    #[test]
    fn names_rocketmq_refuses_are_invalid() {
        let dotted = validate(&topic("a", json!({"topicName": "payments.fifo"}))).unwrap_err();
        assert!(dotted.contains("'.'"), "{dotted}");
        let system = validate(&topic("a", json!({"topicName": "rmq_sys_wheel"}))).unwrap_err();
        assert!(system.contains("system topic"), "{system}");
        let long = "x".repeat(128);
        assert!(validate(&topic("a", json!({ "topicName": long }))).is_err());
        for name in [
            "SCHEDULE_TOPIC_XXXX",
            "RMQ_SYS_TRANS_HALF_TOPIC",
            "CHECKPOINT_TOPIC",
            "%DLQ%orders",
        ] {
            let message = validate(&topic("a", json!({ "topicName": name }))).unwrap_err();
            assert!(message.contains("system topic"), "{name}: {message}");
        }
    }

    #[test]
    fn cluster_and_broker_topics_are_the_brokers() {
        let brokers = ["broker-0".to_string(), "broker-1".to_string()];
        assert!(broker_topic("broker", "broker", &brokers).is_some());
        assert!(broker_topic("broker-1", "broker", &brokers).is_some());
        assert_eq!(broker_topic("orders", "broker", &brokers), None);
    }

    #[test]
    fn only_the_recorded_topic_is_deleted() {
        let mut renamed = topic("orders", json!({"topicName": "TBW102"}));
        assert_eq!(topic_to_delete(&renamed), None, "nothing was created yet");
        renamed.status = Some(api::rocketmq::RocketMQTopicStatus {
            topic_name: Some("orders".into()),
            ..Default::default()
        });
        assert_eq!(topic_to_delete(&renamed).as_deref(), Some("orders"));
        renamed.status.as_mut().unwrap().topic_name = Some("SCHEDULE_TOPIC_XXXX".into());
        assert_eq!(topic_to_delete(&renamed), None);
    }
}
