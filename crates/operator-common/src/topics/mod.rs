//! What the Kafka and RocketMQ topic operators share: which resource owns a broker-side topic
//! ([`conflicts`]), why a topic's work failed ([`TopicError`]), and the settings.

pub mod conflicts;
mod error;

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
