//! A KafkaTopic as the operator understands it: which cluster, which Kafka topic, and what the
//! topic should look like. Pure: no client, no clock.

use std::collections::BTreeMap;

use api::kafka::KafkaTopic;
use operator_common::cluster_ref::ClusterRef;
use runtime::labels::STRIMZI_CLUSTER;
use serde_json::Value;

use operator_common::topics::conflicts::TopicResource;

/// Present while the operator still has to delete the topic in Kafka.
pub const FINALIZER: &str = "strimzi.io/topic-operator";

/// The desired topic, fully read from a valid KafkaTopic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicModel {
    pub topic_name: String,
    /// `None`: the broker's `num.partitions` on creation, and never changed afterwards.
    pub partitions: Option<i32>,
    /// `None`: the broker's `default.replication.factor`.
    pub replicas: Option<i16>,
    /// Topic configuration with every value as Kafka spells it.
    pub config: BTreeMap<String, String>,
}

/// Reads a KafkaTopic, or says in words a user can act on what is wrong with it.
pub fn validate(topic: &KafkaTopic) -> Result<TopicModel, String> {
    if ClusterRef::of(topic).is_none() {
        return Err(format!(
            "the label {STRIMZI_CLUSTER} must name the Kafka cluster this topic belongs to"
        ));
    }
    let topic_name = topic.topic_name();
    check_topic_name(&topic_name)?;
    let replicas = match topic.spec.replicas {
        Some(replicas) => Some(i16::try_from(replicas).map_err(|_| {
            format!(
                "spec.replicas is {replicas}; Kafka allows at most {}",
                i16::MAX
            )
        })?),
        None => None,
    };
    let mut config = BTreeMap::new();
    for (key, value) in topic.spec.config.iter().flatten() {
        let value = config_value(value).ok_or_else(|| {
            format!("spec.config.{key} must be a string, number, boolean or a list of them")
        })?;
        config.insert(key.clone(), value);
    }
    Ok(TopicModel {
        topic_name,
        partitions: topic.spec.partitions,
        replicas,
        config,
    })
}

/// The Kafka topic deleting `topic` deletes: only the one the operator recorded as this
/// resource's (never one a later edit of `topicName` names), and never an internal topic.
pub fn topic_to_delete(topic: &KafkaTopic) -> Option<String> {
    topic
        .recorded_topic_name()
        .filter(|name| !is_internal_topic(name))
}

/// Kafka keeps its own topics under names starting with `__` (`__consumer_offsets`,
/// `__transaction_state`, `__share_group_state`, `__cluster_metadata`, and those of tools such
/// as `__remote_log_metadata`); a resource must never change or delete one.
fn is_internal_topic(name: &str) -> bool {
    name.starts_with("__")
}

/// Kafka's own rule for topic names, and no internal topic.
fn check_topic_name(name: &str) -> Result<(), String> {
    if is_internal_topic(name) {
        return Err(format!(
            "{name} is an internal Kafka topic (names starting with __ are Kafka's own), \
             which Kafka manages itself; set spec.topicName"
        ));
    }
    const MAX_LENGTH: usize = 249;
    let legal = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if name.is_empty() || name == "." || name == ".." {
        return Err(format!("{name:?} is not a valid Kafka topic name"));
    }
    if name.len() > MAX_LENGTH {
        return Err(format!(
            "the topic name {name:?} is longer than Kafka's limit of {MAX_LENGTH} characters"
        ));
    }
    if !name.chars().all(legal) {
        return Err(format!(
            "the topic name {name:?} may contain only ASCII letters, digits, '.', '_' and '-'; \
             set spec.topicName"
        ));
    }
    Ok(())
}

/// A config value as Kafka takes it: lists (such as `cleanup.policy: [compact, delete]`) become
/// comma-separated.
fn config_value(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::Array(_) => None,
                item => config_value(item),
            })
            .collect::<Option<Vec<_>>>()
            .map(|items| items.join(",")),
        Value::Null | Value::Object(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topics::testing::topic;
    use serde_json::json;

    #[test]
    fn a_topic_reads_its_cluster_name_and_config() {
        let topic = topic(
            "orders",
            json!({"partitions": 3, "replicas": 2, "config": {
                "retention.ms": 7200000, "cleanup.policy": ["compact", "delete"],
                "unclean.leader.election.enable": false, "compression.type": "zstd"}}),
        );
        let model = validate(&topic).unwrap();
        assert_eq!(model.topic_name, "orders");
        assert_eq!((model.partitions, model.replicas), (Some(3), Some(2)));
        assert_eq!(
            model.config,
            BTreeMap::from([
                ("cleanup.policy".into(), "compact,delete".into()),
                ("compression.type".into(), "zstd".into()),
                ("retention.ms".into(), "7200000".into()),
                ("unclean.leader.election.enable".into(), "false".into()),
            ])
        );
        assert_eq!(
            ClusterRef::of(&topic),
            Some(ClusterRef {
                namespace: "team-a".into(),
                name: "my-cluster".into()
            })
        );
    }

    #[test]
    fn spec_topic_name_overrides_the_resource_name() {
        let topic = topic("orders-v2", json!({"topicName": "Orders_V2"}));
        assert_eq!(validate(&topic).unwrap().topic_name, "Orders_V2");
    }

    #[test]
    fn invalid_topics_say_what_to_fix() {
        let mut unlabelled = topic("orders", json!({}));
        unlabelled.metadata.labels = None;
        assert!(
            validate(&unlabelled)
                .unwrap_err()
                .contains("strimzi.io/cluster")
        );

        let bad_name = topic("orders", json!({"topicName": "orders/eu"}));
        assert!(validate(&bad_name).unwrap_err().contains("spec.topicName"));

        let long = topic("orders", json!({"topicName": "x".repeat(250)}));
        assert!(validate(&long).unwrap_err().contains("249"));

        let object = topic("orders", json!({"config": {"retention.ms": {"days": 1}}}));
        assert!(
            validate(&object)
                .unwrap_err()
                .contains("spec.config.retention.ms")
        );

        let replicas = topic("orders", json!({"replicas": 40000}));
        assert!(validate(&replicas).unwrap_err().contains("spec.replicas"));
    }

    #[test]
    fn internal_topics_are_refused() {
        for name in [
            "__consumer_offsets",
            "__transaction_state",
            "__cluster_metadata",
        ] {
            let internal = topic("offsets", json!({ "topicName": name }));
            let message = validate(&internal).unwrap_err();
            assert!(message.contains("internal Kafka topic"), "{message}");
        }
    }

    #[test]
    fn only_the_recorded_topic_is_deleted() {
        let mut renamed = topic("orders", json!({"topicName": "payments"}));
        assert_eq!(topic_to_delete(&renamed), None, "nothing was created yet");
        renamed.status = Some(api::kafka::KafkaTopicStatus {
            topic_name: Some("orders".into()),
            ..Default::default()
        });
        assert_eq!(topic_to_delete(&renamed).as_deref(), Some("orders"));
        renamed.status.as_mut().unwrap().topic_name = Some("__consumer_offsets".into());
        assert_eq!(topic_to_delete(&renamed), None);
    }

    #[test]
    fn only_managed_false_unmanages() {
        let mut topic = topic("orders", json!({}));
        assert!(topic.is_managed());
        topic.metadata.annotations =
            Some([(runtime::managed::MANAGED_ANNOTATION.into(), "false".into())].into());
        assert!(!topic.is_managed());
    }
}

#[cfg(test)]
/// Which of two resources owns a topic (`operator_common::topics::conflicts`), on KafkaTopics.
mod claim_tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use serde_json::json;

    use api::kafka::KafkaTopic;

    use std::sync::Arc;

    use runtime::batched::claim_owners;

    use crate::topics::testing::topic;
    use operator_common::topics::conflicts::claimed_topic;
    use runtime::managed::MANAGED_ANNOTATION;

    fn created(name: &str, topic_name: &str, at: &str) -> Arc<KafkaTopic> {
        let mut topic = topic(name, json!({"topicName": topic_name}));
        topic.metadata.creation_timestamp = Some(Time(at.parse().unwrap()));
        Arc::new(topic)
    }

    #[test]
    fn a_renamed_resource_keeps_its_recorded_topic_and_takes_no_other() {
        let mut renamed = created("a", "payments", "2026-01-01T00:00:00Z");
        Arc::make_mut(&mut renamed).status = Some(api::kafka::KafkaTopicStatus {
            topic_name: Some("orders".into()),
            ..Default::default()
        });
        let payments = created("payments", "payments", "2026-01-02T00:00:00Z");
        let newcomer = created("orders-2", "orders", "2026-01-03T00:00:00Z");
        let owners = claim_owners(&[renamed, payments, newcomer], claimed_topic);
        assert_eq!(owners["payments"], "payments");
        assert_eq!(owners["orders"], "a");
    }

    #[test]
    fn unmanaged_resources_own_nothing() {
        let second = created("b", "orders", "2026-01-01T00:00:00Z");
        let mut unmanaged = created("a", "orders", "2026-01-01T00:00:00Z");
        Arc::make_mut(&mut unmanaged).metadata.annotations =
            Some([(MANAGED_ANNOTATION.into(), "false".into())].into());
        let owners = claim_owners(&[unmanaged, second], claimed_topic);
        assert_eq!(owners["orders"], "b");
    }
}
