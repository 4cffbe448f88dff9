//! Two resources for one broker-side topic: the older resource owns it, as in Strimzi, so adding
//! a second resource never takes a topic away from the first. Shared by KafkaTopic and
//! RocketMQTopic.

use kube::Resource;
use runtime::managed;

/// A topic resource, as far as ownership goes.
pub trait TopicResource: Resource {
    /// The topic in the broker that the spec names.
    fn topic_name(&self) -> String;
    /// The topic the operator created or took on for this resource, as its status records it.
    fn recorded_topic_name(&self) -> Option<String>;
    /// The topic the resource manages: the recorded one, since a changed `topicName` is refused
    /// and never takes another topic over; the spec's until one is recorded.
    fn managed_topic_name(&self) -> String {
        self.recorded_topic_name()
            .unwrap_or_else(|| self.topic_name())
    }
    /// Whether the operator manages that topic at all: `strimzi.io/managed` is not `"false"`.
    fn is_managed(&self) -> bool {
        managed::is_managed(self.meta())
    }
}

/// The broker-side topic a resource claims: the one it manages, unless it is unmanaged (then
/// it never touches the broker, so it owns nothing). A resource being deleted still claims its
/// topic until the operator has deleted it in the broker.
pub fn claimed_topic<T: TopicResource>(topic: &T) -> Option<String> {
    topic.is_managed().then(|| topic.managed_topic_name())
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use serde_json::json;

    use api::kafka::KafkaTopic;

    use std::sync::Arc;

    use runtime::batched::claim_owners;

    use super::*;
    use crate::kafka::testing::topic;
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
