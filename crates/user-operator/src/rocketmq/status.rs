//! A RocketMQUser's status from the outcome of its reconcile. Pure.

use api::rocketmq::{RocketMQUser, RocketMQUserStatus};
use k8s_openapi::jiff::Timestamp;
use runtime::conditions;

use crate::secrets;

/// How one RocketMQUser's reconcile ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every broker and the Secret match the spec.
    Ready {
        username: String,
        secret: String,
    },
    Paused,
    InvalidSpec(String),
    /// An older RocketMQUser, named here, claims the same user name in the cluster.
    ResourceConflict(String),
    /// The Secret the credentials go in belongs to something else; the message says which.
    /// Retried with backoff, as it may be deleted.
    SecretConflict(String),
    /// RocketMQ refused a change or could not be reached, or the referenced password is
    /// missing; retried with backoff.
    RocketMQError(String),
}

pub const ROCKETMQ_ERROR: &str = "RocketMQError";
pub const RESOURCE_CONFLICT: &str = "ResourceConflict";

/// The status a user should have after `outcome`; the username and Secret change only on
/// success.
pub fn desired_status(
    user: &RocketMQUser,
    outcome: &Outcome,
    now: Timestamp,
) -> RocketMQUserStatus {
    let current = user.status.clone().unwrap_or_default();
    let mut status = RocketMQUserStatus {
        conditions: None,
        observed_generation: user.metadata.generation,
        username: current.username.clone(),
        secret: current.secret.clone(),
    };
    let condition = match outcome {
        Outcome::Ready { username, secret } => {
            status.username = Some(username.clone());
            status.secret = Some(secret.clone());
            conditions::ready()
        }
        Outcome::Paused => conditions::paused(),
        Outcome::InvalidSpec(message) => conditions::not_ready(conditions::INVALID_SPEC, message),
        Outcome::ResourceConflict(owner) => conditions::not_ready(
            RESOURCE_CONFLICT,
            &format!(
                "the RocketMQUser {owner} is older and claims the same user name in this \
                 cluster; this one changes nothing in RocketMQ until that one is gone or one of \
                 them is renamed"
            ),
        ),
        Outcome::SecretConflict(message) => {
            conditions::not_ready(secrets::SECRET_CONFLICT, message)
        }
        Outcome::RocketMQError(message) => conditions::not_ready(ROCKETMQ_ERROR, message),
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
    use crate::rocketmq::testing::user;

    #[test]
    fn success_names_the_user_and_secret_and_a_failure_keeps_them() {
        let now = Timestamp::UNIX_EPOCH;
        let mut user = user("app", json!({}));
        let ready = Outcome::Ready {
            username: "app".into(),
            secret: "app".into(),
        };
        user.status = Some(desired_status(&user, &ready, now));
        assert_eq!(Some(desired_status(&user, &ready, now)), user.status);
        let failed = desired_status(&user, &Outcome::RocketMQError("down".into()), now);
        assert_eq!(
            (failed.username.as_deref(), failed.secret.as_deref()),
            (Some("app"), Some("app"))
        );
        let condition = &failed.conditions.unwrap()[0];
        assert_eq!(condition.reason.as_deref(), Some(ROCKETMQ_ERROR));
    }

    #[test]
    fn a_conflict_names_the_older_user() {
        let user = user("second", json!({}));
        let outcome = Outcome::ResourceConflict("first".into());
        let status = desired_status(&user, &outcome, Timestamp::UNIX_EPOCH);
        let condition = &status.conditions.unwrap()[0];
        assert_eq!(condition.reason.as_deref(), Some(RESOURCE_CONFLICT));
        assert!(
            condition
                .message
                .as_deref()
                .unwrap()
                .contains("RocketMQUser first")
        );
    }
}
