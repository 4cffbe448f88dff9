//! The topic operator: KafkaTopics become topics in Kafka ([`kafka`]) and RocketMQTopics topics
//! on every master broker of a RocketMQ cluster ([`rocketmq`]). Kubernetes is the source of truth;
//! both run on the runtime's batched controller, one batch per cluster.

pub mod conflicts;
mod error;
pub mod kafka;
pub mod rocketmq;

pub use error::TopicError;

/// How the topic operator behaves, from the operator's configuration.
#[derive(Clone, Debug)]
pub struct TopicSettings {
    /// Whether deleting a topic resource deletes its topic in the broker (through the finalizer
    /// `strimzi.io/topic-operator`). Off, resources carry no finalizer and topics stay.
    pub delete_topics: bool,
}

impl Default for TopicSettings {
    fn default() -> TopicSettings {
        TopicSettings {
            delete_topics: true,
        }
    }
}
