//! A KafkaUser's status from the outcome of its reconcile. Pure.

use api::kafka::{KafkaUser, KafkaUserStatus};
use k8s_openapi::jiff::Timestamp;
use runtime::conditions;

/// How one KafkaUser's reconcile ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Kafka and the Secret match the spec.
    Ready {
        username: String,
        secret: Option<String>,
    },
    Paused,
    InvalidSpec(String),
    /// Kafka refused a change or could not be reached, or what the user needs (a password
    /// Secret, the clients CA) is missing; retried with backoff.
    KafkaError(String),
}

pub const KAFKA_ERROR: &str = "KafkaError";

/// The status a user should have after `outcome`; the username and Secret change only on
/// success.
pub fn desired_status(user: &KafkaUser, outcome: &Outcome, now: Timestamp) -> KafkaUserStatus {
    let current = user.status.clone().unwrap_or_default();
    let mut status = KafkaUserStatus {
        conditions: None,
        observed_generation: user.metadata.generation,
        username: current.username.clone(),
        secret: current.secret.clone(),
    };
    let condition = match outcome {
        Outcome::Ready { username, secret } => {
            status.username = Some(username.clone());
            status.secret = secret.clone();
            conditions::ready()
        }
        Outcome::Paused => conditions::paused(),
        Outcome::InvalidSpec(message) => conditions::not_ready(conditions::INVALID_SPEC, message),
        Outcome::KafkaError(message) => conditions::not_ready(KAFKA_ERROR, message),
    };
    let mut desired = vec![condition];
    let previous = current.conditions.as_deref().unwrap_or_default();
    conditions::stamp_transitions(&mut desired, previous, now);
    status.conditions = Some(desired);
    status
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::kafka::testing::user;

    #[test]
    fn success_records_the_username_and_secret_and_failures_keep_them() {
        let mut user = user("app", json!({}));
        let ready = Outcome::Ready {
            username: "app".into(),
            secret: Some("app".into()),
        };
        let status = desired_status(&user, &ready, Timestamp::UNIX_EPOCH);
        assert_eq!(
            (status.username.as_deref(), status.secret.as_deref()),
            (Some("app"), Some("app"))
        );
        assert_eq!(status.observed_generation, Some(1));
        user.status = Some(status.clone());
        let later = Timestamp::UNIX_EPOCH + std::time::Duration::from_secs(5);
        assert_eq!(desired_status(&user, &ready, later), status);

        let failed = desired_status(&user, &Outcome::KafkaError("down".into()), later);
        assert_eq!(failed.username.as_deref(), Some("app"));
        let condition = &failed.conditions.unwrap()[0];
        assert_eq!(
            (condition.type_.as_str(), condition.reason.as_deref()),
            ("NotReady", Some("KafkaError"))
        );
    }
}
