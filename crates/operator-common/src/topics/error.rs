//! Why a topic's work in its broker failed: the condition's reason says which broker.

use runtime::batched::Failure;

/// Retried with backoff.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TopicError {
    /// Kafka refused a change or could not be reached.
    #[error("{0}")]
    Kafka(String),
    /// RocketMQ refused a change or could not be reached.
    #[error("{0}")]
    RocketMQ(String),
}

impl Failure for TopicError {
    fn reason(&self) -> &'static str {
        match self {
            TopicError::Kafka(_) => "KafkaError",
            TopicError::RocketMQ(_) => "RocketMQError",
        }
    }
}
