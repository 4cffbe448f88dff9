//! A RocketMQUser's status from the outcome of its reconcile. Pure.

use api::rocketmq::{RocketMQUser, RocketMQUserStatus};
use k8s_openapi::jiff::Timestamp;
use runtime::conditions;

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
    /// RocketMQ refused a change or could not be reached, or the referenced password is
    /// missing; retried with backoff.
    RocketMQError(String),
}

pub const ROCKETMQ_ERROR: &str = "RocketMQError";

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
}
