//! A RocketMQUser's status from the outcome of its reconcile. Pure.

use api::rocketmq::{RocketMQUser, RocketMQUserStatus};
use k8s_openapi::jiff::Timestamp;
use runtime::batched::{self, outcome_conditions};

use crate::UserError;

/// What a Ready RocketMQUser's status records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub username: String,
    pub secret: String,
}

/// How one RocketMQUser's reconcile ended.
pub type Outcome = batched::Outcome<User, UserError>;

/// The status a user should have after `outcome`; the username and Secret change only on
/// success.
pub fn desired_status(
    user: &RocketMQUser,
    outcome: &Outcome,
    now: Timestamp,
) -> Option<RocketMQUserStatus> {
    let current = user.status.clone().unwrap_or_default();
    let conflict = |owner: &str| {
        format!(
            "the RocketMQUser {owner} is older and claims the same user name in this cluster; \
             this one changes nothing in RocketMQ until that one is gone or one of them is \
             renamed"
        )
    };
    let conditions = outcome_conditions(
        outcome,
        Vec::new(),
        conflict,
        current.conditions.as_deref(),
        now,
    )?;
    let (username, secret) = match outcome {
        Outcome::Ready(ready) => (Some(ready.username.clone()), Some(ready.secret.clone())),
        _ => (current.username, current.secret),
    };
    Some(RocketMQUserStatus {
        conditions: Some(conditions),
        observed_generation: user.metadata.generation,
        username,
        secret,
    })
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
        let ready = Outcome::Ready(User {
            username: "app".into(),
            secret: "app".into(),
        });
        user.status = desired_status(&user, &ready, now);
        assert_eq!(desired_status(&user, &ready, now), user.status);
        let down = Outcome::Failed(UserError::RocketMQ("down".into()));
        let failed = desired_status(&user, &down, now).unwrap();
        assert_eq!(
            (failed.username.as_deref(), failed.secret.as_deref()),
            (Some("app"), Some("app"))
        );
        let condition = &failed.conditions.unwrap()[0];
        assert_eq!(condition.reason.as_deref(), Some("RocketMQError"));
    }

    #[test]
    fn a_conflict_names_the_older_user() {
        let user = user("second", json!({}));
        let outcome = Outcome::ResourceConflict("first".into());
        let status = desired_status(&user, &outcome, Timestamp::UNIX_EPOCH).unwrap();
        let condition = &status.conditions.unwrap()[0];
        assert_eq!(condition.reason.as_deref(), Some("ResourceConflict"));
        assert!(
            condition
                .message
                .as_deref()
                .unwrap()
                .contains("RocketMQUser first")
        );
    }
}
