//! A RocketMQTopic's status from the outcome of its reconcile. Pure.

use api::Condition;
use api::rocketmq::{RocketMQTopic, RocketMQTopicStatus};
use runtime::batched;

use operator_common::topics::TopicError;

/// What a Ready RocketMQTopic's status records: the topic it manages on every master.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topic {
    pub topic_name: String,
}

/// How one RocketMQTopic's reconcile ended.
pub type Outcome = batched::Outcome<Topic, TopicError>;

/// What an older RocketMQTopic, `owner`, holding the same topic means for this one.
pub fn conflict(owner: &str) -> String {
    format!(
        "the RocketMQ topic is managed by the RocketMQTopic {owner}, which is older; delete this \
         resource or give it another spec.topicName"
    )
}

/// The status with `conditions`. The topic name is the one of the topic the resource manages,
/// so it changes only on success (`ready`).
pub fn status(
    topic: &RocketMQTopic,
    ready: Option<&Topic>,
    conditions: Vec<Condition>,
) -> RocketMQTopicStatus {
    let current = topic.status.clone().unwrap_or_default();
    RocketMQTopicStatus {
        conditions: Some(conditions),
        observed_generation: topic.metadata.generation,
        topic_name: ready
            .map(|ready| ready.topic_name.clone())
            .or(current.topic_name),
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::jiff::Timestamp;
    use serde_json::json;

    use super::*;
    use crate::topics::batch::TopicReconciler;

    fn desired(
        resource: &RocketMQTopic,
        outcome: &Outcome,
        now: Timestamp,
    ) -> Option<RocketMQTopicStatus> {
        batched::desired_status::<RocketMQTopic, TopicReconciler>(resource, outcome, now)
    }
    use crate::topics::testing::topic;

    #[test]
    fn the_topic_name_is_kept_through_failures_and_a_repeat_is_equal() {
        let now = Timestamp::UNIX_EPOCH;
        let mut topic = topic("orders", json!({}));
        let ready = Outcome::Ready(Topic {
            topic_name: "orders".into(),
        });
        topic.status = desired(&topic, &ready, now);
        let later = now + std::time::Duration::from_secs(60);
        assert_eq!(desired(&topic, &ready, later), topic.status);

        let down = Outcome::Failed(TopicError::RocketMQ("down".into()));
        let failed = desired(&topic, &down, now).unwrap();
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
        let status = desired(&topic, &outcome, Timestamp::UNIX_EPOCH).unwrap();
        let message = status.conditions.unwrap()[0].message.clone().unwrap();
        assert!(message.contains("RocketMQTopic orders,"), "{message}");
    }
}
