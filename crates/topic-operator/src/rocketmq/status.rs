//! A RocketMQTopic's status from the outcome of its reconcile. Pure.

use api::rocketmq::{RocketMQTopic, RocketMQTopicStatus};
use k8s_openapi::jiff::Timestamp;
use runtime::conditions;

/// How one RocketMQTopic's reconcile ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every master broker has the topic as the spec says.
    Ready {
        topic_name: String,
    },
    /// `strimzi.io/managed: "false"`: the operator leaves the topic alone.
    Unmanaged,
    Paused,
    InvalidSpec(String),
    /// An older RocketMQTopic (named) manages the same topic.
    ResourceConflict(String),
    NotSupported(String),
    /// RocketMQ refused a change or could not be reached; retried with backoff.
    RocketMQError(String),
}

pub const RESOURCE_CONFLICT: &str = "ResourceConflict";
pub use runtime::conditions::NOT_SUPPORTED;
pub const ROCKETMQ_ERROR: &str = "RocketMQError";

/// The status a topic should have after `outcome`. The topic name is the one of the topic the
/// resource manages, so it changes only on success.
pub fn desired_status(
    topic: &RocketMQTopic,
    outcome: &Outcome,
    now: Timestamp,
) -> RocketMQTopicStatus {
    let current = topic.status.clone().unwrap_or_default();
    let mut status = RocketMQTopicStatus {
        conditions: None,
        observed_generation: topic.metadata.generation,
        topic_name: current.topic_name.clone(),
    };
    let condition = match outcome {
        Outcome::Ready { topic_name } => {
            status.topic_name = Some(topic_name.clone());
            conditions::ready()
        }
        Outcome::Unmanaged => conditions::ready(),
        Outcome::Paused => conditions::paused(),
        Outcome::InvalidSpec(message) => conditions::not_ready(conditions::INVALID_SPEC, message),
        Outcome::ResourceConflict(owner) => conditions::not_ready(
            RESOURCE_CONFLICT,
            &format!(
                "the RocketMQ topic is managed by the RocketMQTopic {owner}, which is older; \
                 delete this resource or give it another spec.topicName"
            ),
        ),
        Outcome::NotSupported(message) => conditions::not_ready(NOT_SUPPORTED, message),
        Outcome::RocketMQError(message) => conditions::not_ready(ROCKETMQ_ERROR, message),
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
    use crate::rocketmq::testing::topic;

    #[test]
    fn the_topic_name_is_kept_through_failures_and_a_repeat_is_equal() {
        let now = Timestamp::UNIX_EPOCH;
        let mut topic = topic("orders", json!({}));
        let ready = Outcome::Ready {
            topic_name: "orders".into(),
        };
        topic.status = Some(desired_status(&topic, &ready, now));
        let later = now + std::time::Duration::from_secs(60);
        assert_eq!(Some(desired_status(&topic, &ready, later)), topic.status);

        let failed = desired_status(&topic, &Outcome::RocketMQError("down".into()), now);
        assert_eq!(failed.topic_name.as_deref(), Some("orders"));
        let condition = &failed.conditions.unwrap()[0];
        assert_eq!(
            (condition.type_.as_str(), condition.reason.as_deref()),
            ("NotReady", Some("RocketMQError"))
        );
    }

    #[test]
    fn a_conflict_names_the_owner() {
        let topic = topic("orders-2", json!({}));
        let outcome = Outcome::ResourceConflict("orders".into());
        let status = desired_status(&topic, &outcome, Timestamp::UNIX_EPOCH);
        let message = status.conditions.unwrap()[0].message.clone().unwrap();
        assert!(message.contains("RocketMQTopic orders,"), "{message}");
    }
}
