//! A KafkaTopic's status from the outcome of its reconcile. Pure.

use api::kafka::{KafkaTopic, KafkaTopicStatus};
use k8s_openapi::jiff::Timestamp;
use runtime::batched::{self, outcome_conditions};

use crate::TopicError;

/// What a Ready KafkaTopic's status records: the Kafka topic it manages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topic {
    pub topic_name: String,
    pub topic_id: Option<String>,
}

/// How one KafkaTopic's reconcile ended.
pub type Outcome = batched::Outcome<Topic, TopicError>;

/// The status a topic should have after `outcome`; `None` leaves it as it is. The topic name
/// and ID are the ones of the Kafka topic the resource manages, so they change only on success.
pub fn desired_status(
    topic: &KafkaTopic,
    outcome: &Outcome,
    now: Timestamp,
) -> Option<KafkaTopicStatus> {
    let current = topic.status.clone().unwrap_or_default();
    let conflict = |owner: &str| {
        format!(
            "the Kafka topic is managed by the KafkaTopic {owner}, which is older; delete this \
             resource or give it another spec.topicName"
        )
    };
    let conditions = outcome_conditions(
        outcome,
        Vec::new(),
        conflict,
        current.conditions.as_deref(),
        now,
    )?;
    let (topic_name, topic_id) = match outcome {
        Outcome::Ready(ready) => (
            Some(ready.topic_name.clone()),
            ready.topic_id.clone().or(current.topic_id),
        ),
        _ => (current.topic_name, current.topic_id),
    };
    Some(KafkaTopicStatus {
        conditions: Some(conditions),
        observed_generation: topic.metadata.generation,
        topic_name,
        topic_id,
        replicas_change: None,
    })
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
        let ready = Outcome::Ready(Topic {
            topic_name: "orders".into(),
            topic_id: Some("id-1".into()),
        });
        let status = desired_status(&topic, &ready, now).unwrap();
        assert_eq!(status.topic_name.as_deref(), Some("orders"));
        assert_eq!(status.topic_id.as_deref(), Some("id-1"));
        assert_eq!(status.observed_generation, Some(1));
        assert_eq!(status.conditions.as_ref().unwrap()[0].type_, "Ready");

        topic.status = Some(status);
        let down = Outcome::Failed(TopicError::Kafka("down".into()));
        let failed = desired_status(&topic, &down, now).unwrap();
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
        )
        .unwrap();
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
        let ready = Outcome::Ready(Topic {
            topic_name: "orders".into(),
            topic_id: None,
        });
        topic.status = desired_status(&topic, &ready, Timestamp::UNIX_EPOCH);
        let later = Timestamp::UNIX_EPOCH + std::time::Duration::from_secs(60);
        assert_eq!(desired_status(&topic, &ready, later), topic.status);
        assert_eq!(desired_status(&topic, &Outcome::LookAgain, later), None);
    }
}
