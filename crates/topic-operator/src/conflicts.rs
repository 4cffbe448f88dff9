//! Two resources for one broker-side topic: the older resource owns it, as in Strimzi, so adding
//! a second resource never takes a topic away from the first. Shared by KafkaTopic and
//! RocketMQTopic.

use std::collections::HashMap;

use k8s_openapi::jiff::Timestamp;
use kube::{Resource, ResourceExt};
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

/// The owning resource of every managed topic of one cluster.
pub struct Owners(HashMap<String, (Option<Timestamp>, String)>);

impl Owners {
    /// Indexes the topic resources of one cluster. A resource being deleted still owns its
    /// topic until the operator has deleted it in the broker; an unmanaged one never touches the
    /// broker, so it owns nothing.
    pub fn index<'a, T: TopicResource + 'a>(topics: impl IntoIterator<Item = &'a T>) -> Owners {
        let mut owners: HashMap<String, (Option<Timestamp>, String)> = HashMap::new();
        for topic in topics.into_iter().filter(|topic| topic.is_managed()) {
            // The name breaks ties: creation times have one-second precision.
            let age = (
                topic.meta().creation_timestamp.as_ref().map(|time| time.0),
                topic.name_any(),
            );
            owners
                .entry(topic.managed_topic_name())
                .and_modify(|owner| *owner = (*owner).clone().min(age.clone()))
                .or_insert(age);
        }
        Owners(owners)
    }

    /// The older resource that owns this resource's topic, if it is not this one.
    pub fn conflicting_owner(&self, topic: &impl TopicResource) -> Option<&str> {
        let (_, owner) = self.0.get(&topic.managed_topic_name())?;
        (*owner != topic.name_any()).then_some(owner.as_str())
    }
}

/// The names of the resources that name the same topic as `deleted`: when an older resource
/// that conflicted with them is gone, one of them may own the topic now.
pub fn sharing_topic<T: TopicResource>(deleted: &T, members: &[std::sync::Arc<T>]) -> Vec<String> {
    let name = deleted.managed_topic_name();
    members
        .iter()
        .filter(|topic| topic.managed_topic_name() == name)
        .map(|topic| topic.name_any())
        .collect()
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use serde_json::json;

    use api::kafka::KafkaTopic;

    use super::*;
    use crate::kafka::testing::topic;
    use runtime::managed::MANAGED_ANNOTATION;

    fn created(name: &str, topic_name: &str, at: &str) -> KafkaTopic {
        let mut topic = topic(name, json!({"topicName": topic_name}));
        topic.metadata.creation_timestamp = Some(Time(at.parse().unwrap()));
        topic
    }

    #[test]
    fn the_older_resource_owns_the_topic() {
        let older = created("orders-b", "orders", "2026-01-01T00:00:00Z");
        let newer = created("orders-a", "orders", "2026-01-02T00:00:00Z");
        let other = created("payments", "payments", "2026-01-03T00:00:00Z");
        let owners = Owners::index([&newer, &older, &other]);
        assert_eq!(owners.conflicting_owner(&older), None);
        assert_eq!(owners.conflicting_owner(&newer), Some("orders-b"));
        assert_eq!(owners.conflicting_owner(&other), None);
    }

    #[test]
    fn a_renamed_resource_keeps_its_recorded_topic_and_takes_no_other() {
        let mut renamed = created("a", "payments", "2026-01-01T00:00:00Z");
        renamed.status = Some(api::kafka::KafkaTopicStatus {
            topic_name: Some("orders".into()),
            ..Default::default()
        });
        let payments = created("payments", "payments", "2026-01-02T00:00:00Z");
        let owners = Owners::index([&renamed, &payments]);
        assert_eq!(owners.conflicting_owner(&payments), None);
        let newcomer = created("orders-2", "orders", "2026-01-03T00:00:00Z");
        let owners = Owners::index([&renamed, &newcomer]);
        assert_eq!(owners.conflicting_owner(&newcomer), Some("a"));
    }

    #[test]
    fn the_name_breaks_a_tie_and_unmanaged_resources_own_nothing() {
        let first = created("a", "orders", "2026-01-01T00:00:00Z");
        let second = created("b", "orders", "2026-01-01T00:00:00Z");
        let owners = Owners::index([&second, &first]);
        assert_eq!(owners.conflicting_owner(&second), Some("a"));

        let mut unmanaged = created("a", "orders", "2026-01-01T00:00:00Z");
        unmanaged.metadata.annotations = Some([(MANAGED_ANNOTATION.into(), "false".into())].into());
        let owners = Owners::index([&unmanaged, &second]);
        assert_eq!(owners.conflicting_owner(&second), None);
    }
}
