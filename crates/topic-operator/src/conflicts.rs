//! Two KafkaTopics for one Kafka topic: the older resource owns it, as in Strimzi, so adding a
//! second resource never takes a topic away from the first.

use std::collections::HashMap;

use api::kafka::KafkaTopic;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;

use crate::model::{is_managed, topic_name};

/// The owning resource of every managed Kafka topic of one cluster.
pub struct Owners(HashMap<String, (Option<Timestamp>, String)>);

impl Owners {
    /// Indexes the KafkaTopics of one cluster. A resource being deleted still owns its topic
    /// until the operator has deleted it in Kafka; an unmanaged one never touches Kafka, so it
    /// owns nothing.
    pub fn index<'a>(topics: impl IntoIterator<Item = &'a KafkaTopic>) -> Owners {
        let mut owners: HashMap<String, (Option<Timestamp>, String)> = HashMap::new();
        for topic in topics.into_iter().filter(|topic| is_managed(topic)) {
            // The name breaks ties: creation times have one-second precision.
            let age = (
                topic
                    .metadata
                    .creation_timestamp
                    .as_ref()
                    .map(|time| time.0),
                topic.name_any(),
            );
            owners
                .entry(topic_name(topic))
                .and_modify(|owner| *owner = (*owner).clone().min(age.clone()))
                .or_insert(age);
        }
        Owners(owners)
    }

    /// The older resource that owns this resource's Kafka topic, if it is not this one.
    pub fn conflicting_owner(&self, topic: &KafkaTopic) -> Option<&str> {
        let (_, owner) = self.0.get(&topic_name(topic))?;
        (*owner != topic.name_any()).then_some(owner.as_str())
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use serde_json::json;

    use super::*;
    use crate::model::MANAGED_ANNOTATION;
    use crate::testing::topic;

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
