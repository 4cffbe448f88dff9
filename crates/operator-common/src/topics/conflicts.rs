//! Two resources for one broker-side topic: the older resource owns it, as in Strimzi, so adding
//! a second resource never takes a topic away from the first. Shared by KafkaTopic and
//! RocketMQTopic.

use api::kafka::KafkaTopic;
use api::rocketmq::RocketMQTopic;
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

/// KafkaTopic and RocketMQTopic name their topic alike: `spec.topicName`, else the resource's
/// name; the status records the one taken on as `status.topicName`.
macro_rules! topic_resource {
    ($($kind:ty),*) => {$(
        impl TopicResource for $kind {
            fn topic_name(&self) -> String {
                self.spec
                    .topic_name
                    .clone()
                    .unwrap_or_else(|| self.name_any())
            }

            fn recorded_topic_name(&self) -> Option<String> {
                self.status.as_ref()?.topic_name.clone()
            }
        }
    )*};
}

topic_resource!(KafkaTopic, RocketMQTopic);

/// The broker-side topic a resource claims: the one it manages, unless it is unmanaged (then
/// it never touches the broker, so it owns nothing). A resource being deleted still claims its
/// topic until the operator has deleted it in the broker.
pub fn claimed_topic<T: TopicResource>(topic: &T) -> Option<String> {
    topic.is_managed().then(|| topic.managed_topic_name())
}
