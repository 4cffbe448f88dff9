//! A KafkaUser's status from the outcome of its reconcile. Pure.

use api::kafka::{KafkaUser, KafkaUserStatus};
use k8s_openapi::jiff::Timestamp;
use runtime::conditions;

use crate::secrets;

/// How one KafkaUser's reconcile ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Kafka and the Secret match the spec, but for what `warning` says.
    Ready {
        username: String,
        secret: Option<String>,
        warning: Option<String>,
    },
    Paused,
    InvalidSpec(String),
    /// An older KafkaUser, named here, claims the same principal.
    ResourceConflict(String),
    /// The Secret the user's credentials go in belongs to something else; the message says
    /// which. Retried with backoff, as it may be deleted.
    SecretConflict(String),
    /// Kafka refused a change or could not be reached, or what the user needs (a password
    /// Secret, the clients CA) is missing; retried with backoff.
    KafkaError(String),
}

pub const KAFKA_ERROR: &str = "KafkaError";
pub const RESOURCE_CONFLICT: &str = "ResourceConflict";
/// The reason of the Warning on a user whose ACLs a cluster without an authorizer cannot keep.
pub const AUTHORIZATION_DISABLED: &str = "AuthorizationDisabled";

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
    let mut desired = match outcome {
        Outcome::Ready {
            username,
            secret,
            warning,
        } => {
            status.username = Some(username.clone());
            status.secret = secret.clone();
            let warning = warning
                .iter()
                .map(|message| conditions::warning(AUTHORIZATION_DISABLED, message));
            std::iter::once(conditions::ready())
                .chain(warning)
                .collect()
        }
        Outcome::Paused => vec![conditions::paused()],
        Outcome::InvalidSpec(message) => {
            vec![conditions::not_ready(conditions::INVALID_SPEC, message)]
        }
        Outcome::ResourceConflict(owner) => vec![conditions::not_ready(
            RESOURCE_CONFLICT,
            &format!(
                "the KafkaUser {owner} is older and claims the same principal; this one \
                 changes nothing in Kafka until that one is gone or one of them is renamed"
            ),
        )],
        Outcome::SecretConflict(message) => {
            vec![conditions::not_ready(secrets::SECRET_CONFLICT, message)]
        }
        Outcome::KafkaError(message) => vec![conditions::not_ready(KAFKA_ERROR, message)],
    };
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
            warning: None,
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

    #[test]
    fn a_user_without_its_acls_is_ready_with_a_warning() {
        let user = user("app", json!({}));
        let ready = Outcome::Ready {
            username: "app".into(),
            secret: Some("app".into()),
            warning: Some("no authorizer".into()),
        };
        let conditions = desired_status(&user, &ready, Timestamp::UNIX_EPOCH)
            .conditions
            .unwrap();
        let kinds: Vec<_> = conditions
            .iter()
            .map(|c| (c.type_.as_str(), c.reason.as_deref()))
            .collect();
        assert_eq!(
            kinds,
            [("Ready", None), ("Warning", Some(AUTHORIZATION_DISABLED))]
        );
    }

    #[test]
    fn conflicts_name_the_older_user_or_the_secret() {
        let user = user("app", json!({}));
        let now = Timestamp::UNIX_EPOCH;
        let status = desired_status(&user, &Outcome::ResourceConflict("first".into()), now);
        let condition = &status.conditions.unwrap()[0];
        assert_eq!(condition.reason.as_deref(), Some(RESOURCE_CONFLICT));
        assert!(
            condition
                .message
                .as_deref()
                .unwrap()
                .contains("KafkaUser first")
        );
        let status = desired_status(&user, &Outcome::SecretConflict("the Secret x".into()), now);
        let condition = &status.conditions.unwrap()[0];
        assert_eq!(condition.reason.as_deref(), Some("SecretConflict"));
    }
}
