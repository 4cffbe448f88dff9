//! A RocketMQTopic's status from the outcome of its reconcile. Pure.

use api::rocketmq::{RocketMQTopic, RocketMQTopicStatus};
use k8s_openapi::jiff::Timestamp;
use runtime::batched::{self, outcome_conditions};

use crate::TopicError;

/// What a Ready RocketMQTopic's status records: the topic it manages on every master.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topic {
    pub topic_name: String,
}

/// How one RocketMQTopic's reconcile ended.
pub type Outcome = batched::Outcome<Topic, TopicError>;

/// The status a topic should have after `outcome`; `None` leaves it as it is. The topic name is
/// the one of the topic the resource manages, so it changes only on success.
pub fn desired_status(
    topic: &RocketMQTopic,
    outcome: &Outcome,
    now: Timestamp,
) -> Option<RocketMQTopicStatus> {
    let current = topic.status.clone().unwrap_or_default();
    let conflict = |owner: &str| {
        format!(
            "the RocketMQ topic is managed by the RocketMQTopic {owner}, which is older; delete \
             this resource or give it another spec.topicName"
        )
    };
    let conditions = outcome_conditions(
        outcome,
        Vec::new(),
        conflict,
        current.conditions.as_deref(),
        now,
    )?;
    let topic_name = match outcome {
        Outcome::Ready(ready) => Some(ready.topic_name.clone()),
        _ => current.topic_name,
    };
    Some(RocketMQTopicStatus {
        conditions: Some(conditions),
        observed_generation: topic.metadata.generation,
        topic_name,
    })
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
        let ready = Outcome::Ready(Topic {
            topic_name: "orders".into(),
        });
        topic.status = desired_status(&topic, &ready, now);
        let later = now + std::time::Duration::from_secs(60);
        assert_eq!(desired_status(&topic, &ready, later), topic.status);

        let down = Outcome::Failed(TopicError::RocketMQ("down".into()));
        let failed = desired_status(&topic, &down, now).unwrap();
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
        let status = desired_status(&topic, &outcome, Timestamp::UNIX_EPOCH).unwrap();
        let message = status.conditions.unwrap()[0].message.clone().unwrap();
        assert!(message.contains("RocketMQTopic orders,"), "{message}");
    }
}
