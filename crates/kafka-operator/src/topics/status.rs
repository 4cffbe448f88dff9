//! A KafkaTopic's status from the outcome of its reconcile. Pure.

use api::Condition;
use api::kafka::{KafkaTopic, KafkaTopicStatus, ReplicasChangeState, ReplicasChangeStatus};
use runtime::batched;

use crate::moves::Progress;

use operator_common::topics::TopicError;

/// What a Ready KafkaTopic's status records: the Kafka topic it manages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topic {
    pub topic_name: String,
    pub topic_id: Option<String>,
    /// While the replication factor changes: Strimzi's `status.replicasChange`.
    pub replicas_change: Option<ReplicasChangeStatus>,
}

/// The reason a KafkaTopic is not Ready while its partitions move to a new replication factor.
pub const REPLICAS_CHANGE_ONGOING: &str = "ReplicasChangeOngoing";

/// The outcome of a step of a replication factor change that has partitions moving.
pub fn replicas_changing(ready: Topic, replicas: i16, progress: &Progress) -> Outcome {
    let message = format!(
        "moving to {replicas} replicas per partition: {}",
        progress.message()
    );
    Outcome::Progressing {
        ready: Topic {
            replicas_change: Some(ReplicasChangeStatus {
                target_replicas: Some(i32::from(replicas)),
                state: Some(ReplicasChangeState::Ongoing),
                message: Some(message.clone()),
                session_id: None,
            }),
            ..ready
        },
        reason: REPLICAS_CHANGE_ONGOING,
        message,
    }
}

/// How one KafkaTopic's reconcile ended.
pub type Outcome = batched::Outcome<Topic, TopicError>;

/// What an older KafkaTopic, `owner`, holding the same Kafka topic means for this one.
pub fn conflict(owner: &str) -> String {
    format!(
        "the Kafka topic is managed by the KafkaTopic {owner}, which is older; delete this \
         resource or give it another spec.topicName"
    )
}

/// The status with `conditions`. The topic name and ID are the ones of the Kafka topic the
/// resource manages, so they change only on success (`ready`).
pub fn status(
    topic: &KafkaTopic,
    ready: Option<&Topic>,
    conditions: Vec<Condition>,
) -> KafkaTopicStatus {
    let current = topic.status.clone().unwrap_or_default();
    KafkaTopicStatus {
        conditions: Some(conditions),
        observed_generation: topic.metadata.generation,
        topic_name: ready
            .map(|ready| ready.topic_name.clone())
            .or(current.topic_name),
        topic_id: ready
            .and_then(|ready| ready.topic_id.clone())
            .or(current.topic_id),
        replicas_change: match ready {
            Some(ready) => ready.replicas_change.clone(),
            None => current.replicas_change,
        },
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::jiff::Timestamp;
    use serde_json::json;

    use super::*;
    use crate::topics::batch::TopicReconciler;

    fn desired(
        resource: &KafkaTopic,
        outcome: &Outcome,
        now: Timestamp,
    ) -> Option<KafkaTopicStatus> {
        batched::desired_status::<KafkaTopic, TopicReconciler>(resource, outcome, now)
    }
    use crate::topics::testing::topic;

    #[test]
    fn success_records_the_topic_and_keeps_it_through_failures() {
        let now = Timestamp::UNIX_EPOCH;
        let mut topic = topic("orders", json!({}));
        let ready = Outcome::Ready(Topic {
            topic_name: "orders".into(),
            topic_id: Some("id-1".into()),
            replicas_change: None,
        });
        let status = desired(&topic, &ready, now).unwrap();
        assert_eq!(status.topic_name.as_deref(), Some("orders"));
        assert_eq!(status.topic_id.as_deref(), Some("id-1"));
        assert_eq!(status.observed_generation, Some(1));
        assert_eq!(status.conditions.as_ref().unwrap()[0].type_, "Ready");

        topic.status = Some(status);
        let down = Outcome::Failed(TopicError::Kafka("down".into()));
        let failed = desired(&topic, &down, now).unwrap();
        assert_eq!(failed.topic_id.as_deref(), Some("id-1"));
        let condition = &failed.conditions.unwrap()[0];
        assert_eq!(
            (condition.type_.as_str(), condition.reason.as_deref()),
            ("NotReady", Some("KafkaError"))
        );
    }

    #[test]
    fn a_replication_factor_change_shows_its_progress_until_ready() {
        let now = Timestamp::UNIX_EPOCH;
        let mut topic = topic("orders", json!({}));
        let ready = Topic {
            topic_name: "orders".into(),
            topic_id: Some("id-1".into()),
            replicas_change: None,
        };
        let progress = Progress::Moving {
            in_flight: 6,
            planned: 0,
        };
        let moving = replicas_changing(ready.clone(), 3, &progress);
        let status = desired(&topic, &moving, now).unwrap();
        let change = status.replicas_change.clone().unwrap();
        assert_eq!(change.target_replicas, Some(3));
        assert_eq!(change.state, Some(ReplicasChangeState::Ongoing));
        let condition = &status.conditions.as_ref().unwrap()[0];
        assert_eq!(condition.type_, "NotReady");
        assert_eq!(condition.reason.as_deref(), Some(REPLICAS_CHANGE_ONGOING));
        assert!(
            condition
                .message
                .as_ref()
                .unwrap()
                .contains("6 partitions are moving")
        );

        // A failure on the way keeps the change recorded; success clears it.
        topic.status = Some(status);
        let down = Outcome::Failed(TopicError::Kafka("down".into()));
        let failed = desired(&topic, &down, now).unwrap();
        assert_eq!(failed.replicas_change, Some(change));
        let done = desired(&topic, &Outcome::Ready(ready), now).unwrap();
        assert_eq!(done.replicas_change, None);
        assert_eq!(done.conditions.unwrap()[0].type_, "Ready");
    }

    #[test]
    fn a_conflict_names_the_owner() {
        let topic = topic("orders-2", json!({}));
        let status = desired(
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
            replicas_change: None,
        });
        topic.status = desired(&topic, &ready, Timestamp::UNIX_EPOCH);
        let later = Timestamp::UNIX_EPOCH + std::time::Duration::from_secs(60);
        assert_eq!(desired(&topic, &ready, later), topic.status);
        assert_eq!(desired(&topic, &Outcome::LookAgain, later), None);
    }
}
