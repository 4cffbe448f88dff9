//! Why a user's work in its brokers failed: the condition's reason says what to look at.

use runtime::batched::Failure;

use crate::users::secrets::SECRET_CONFLICT;

/// Retried with backoff.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    /// Kafka refused a change or could not be reached, or what the user needs (a password
    /// Secret, the clients CA) is missing.
    #[error("{0}")]
    Kafka(String),
    /// RocketMQ refused a change or could not be reached, or the referenced password is
    /// missing.
    #[error("{0}")]
    RocketMQ(String),
    /// The Secret the credentials go in belongs to something else; the message says which. It
    /// may be deleted.
    #[error("{0}")]
    SecretConflict(String),
}

impl Failure for UserError {
    fn reason(&self) -> &'static str {
        match self {
            UserError::Kafka(_) => "KafkaError",
            UserError::RocketMQ(_) => "RocketMQError",
            UserError::SecretConflict(_) => SECRET_CONFLICT,
        }
    }
}
