//! A KafkaTopic's status from the outcome of its reconcile. Pure.

use api::kafka::{KafkaTopic, KafkaTopicStatus};
use k8s_openapi::jiff::Timestamp;
use runtime::conditions;

/// How one KafkaTopic's reconcile ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The Kafka topic matches the spec.
    Ready {
        topic_name: String,
        topic_id: Option<String>,
    },
    /// `strimzi.io/managed: "false"`: the operator leaves the topic alone.
    Unmanaged,
    Paused,
    InvalidSpec(String),
    /// An older KafkaTopic (named) manages the same Kafka topic.
    ResourceConflict(String),
    NotSupported(String),
    /// Kafka refused a change or could not be reached; retried with backoff.
    KafkaError(String),
    /// Kafka's answers disagreed (a broker had not learned of a new topic yet): the status
    /// stays as it is, and the topic is looked at again shortly.
    LookAgain,
}

pub const RESOURCE_CONFLICT: &str = "ResourceConflict";
pub use runtime::conditions::NOT_SUPPORTED;
pub const KAFKA_ERROR: &str = "KafkaError";

/// The status a topic should have after `outcome`. The topic name and ID are the ones of the
/// Kafka topic the resource manages, so they change only on success.
pub fn desired_status(topic: &KafkaTopic, outcome: &Outcome, now: Timestamp) -> KafkaTopicStatus {
    let current = topic.status.clone().unwrap_or_default();
    let mut status = KafkaTopicStatus {
        conditions: None,
        observed_generation: topic.metadata.generation,
        topic_name: current.topic_name.clone(),
        topic_id: current.topic_id.clone(),
        replicas_change: None,
    };
    let condition = match outcome {
        Outcome::Ready {
            topic_name,
            topic_id,
        } => {
            status.topic_name = Some(topic_name.clone());
            status.topic_id = topic_id.clone().or(current.topic_id);
            conditions::ready()
        }
        Outcome::Unmanaged => conditions::ready(),
        Outcome::Paused => conditions::paused(),
        Outcome::InvalidSpec(message) => conditions::not_ready(conditions::INVALID_SPEC, message),
        Outcome::ResourceConflict(owner) => conditions::not_ready(
            RESOURCE_CONFLICT,
            &format!(
                "the Kafka topic is managed by the KafkaTopic {owner}, which is older; \
                 delete this resource or give it another spec.topicName"
            ),
        ),
        Outcome::NotSupported(message) => conditions::not_ready(NOT_SUPPORTED, message),
        Outcome::KafkaError(message) => conditions::not_ready(KAFKA_ERROR, message),
        Outcome::LookAgain => return current,
    };
    let mut desired = vec![condition];
    conditions::stamp_transitions(
        &mut desired,
        current.conditions.as_deref().unwrap_or_default(),
        now,
    );
    status.conditions = Some(desired);
    status
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::kafka::testing::topic;

    #[test]
    fn success_records_the_topic_and_keeps_it_through_failures() {
        let now = Timestamp::UNIX_EPOCH;
        let mut topic = topic("orders", json!({}));
        let ready = Outcome::Ready {
            topic_name: "orders".into(),
            topic_id: Some("id-1".into()),
        };
        let status = desired_status(&topic, &ready, now);
        assert_eq!(status.topic_name.as_deref(), Some("orders"));
        assert_eq!(status.topic_id.as_deref(), Some("id-1"));
        assert_eq!(status.observed_generation, Some(1));
        assert_eq!(status.conditions.as_ref().unwrap()[0].type_, "Ready");

        topic.status = Some(status);
        let failed = desired_status(&topic, &Outcome::KafkaError("down".into()), now);
        assert_eq!(failed.topic_id.as_deref(), Some("id-1"));
        let condition = &failed.conditions.unwrap()[0];
        assert_eq!(
            (condition.type_.as_str(), condition.reason.as_deref()),
            ("NotReady", Some("KafkaError"))
        );
    }

    #[test]
    fn a_conflict_names_the_owner() {
        let topic = topic("orders-2", json!({}));
        let status = desired_status(
            &topic,
            &Outcome::ResourceConflict("orders".into()),
            Timestamp::UNIX_EPOCH,
        );
        let condition = &status.conditions.unwrap()[0];
        assert_eq!(condition.reason.as_deref(), Some("ResourceConflict"));
        assert!(
            condition
                .message
                .as_ref()
                .unwrap()
                .contains("KafkaTopic orders,")
        );
        assert_eq!(status.topic_name, None);
    }

    #[test]
    fn an_unchanged_outcome_gives_an_equal_status() {
        let mut topic = topic("orders", json!({}));
        let ready = Outcome::Ready {
            topic_name: "orders".into(),
            topic_id: None,
        };
        topic.status = Some(desired_status(&topic, &ready, Timestamp::UNIX_EPOCH));
        let later = Timestamp::UNIX_EPOCH + std::time::Duration::from_secs(60);
        assert_eq!(Some(desired_status(&topic, &ready, later)), topic.status);
    }
}
