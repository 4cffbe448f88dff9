//! A RocketMQUser's status from the outcome of its reconcile. Pure.

use api::Condition;
use api::rocketmq::{RocketMQUser, RocketMQUserStatus};
use runtime::batched;

use operator_common::users::UserError;

/// What a Ready RocketMQUser's status records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub username: String,
    pub secret: String,
}

/// How one RocketMQUser's reconcile ended.
pub type Outcome = batched::Outcome<User, UserError>;

/// What an older RocketMQUser, `owner`, claiming the same user name means for this one.
pub fn conflict(owner: &str) -> String {
    format!(
        "the RocketMQUser {owner} is older and claims the same user name in this cluster; this \
         one changes nothing in RocketMQ until that one is gone or one of them is renamed"
    )
}

/// The status with `conditions`; the username and Secret change only on success (`ready`).
pub fn status(
    user: &RocketMQUser,
    ready: Option<&User>,
    conditions: Vec<Condition>,
) -> RocketMQUserStatus {
    let current = user.status.clone().unwrap_or_default();
    let (username, secret) = match ready {
        Some(ready) => (Some(ready.username.clone()), Some(ready.secret.clone())),
        None => (current.username, current.secret),
    };
    RocketMQUserStatus {
        conditions: Some(conditions),
        observed_generation: user.metadata.generation,
        username,
        secret,
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::jiff::Timestamp;
    use serde_json::json;

    use super::*;
    use crate::users::batch::UserReconciler;

    fn desired(
        resource: &RocketMQUser,
        outcome: &Outcome,
        now: Timestamp,
    ) -> Option<RocketMQUserStatus> {
        batched::desired_status::<RocketMQUser, UserReconciler>(resource, outcome, now)
    }
    use crate::users::testing::user;

    #[test]
    fn success_names_the_user_and_secret_and_a_failure_keeps_them() {
        let now = Timestamp::UNIX_EPOCH;
        let mut user = user("app", json!({}));
        let ready = Outcome::Ready(User {
            username: "app".into(),
            secret: "app".into(),
        });
        user.status = desired(&user, &ready, now);
        assert_eq!(desired(&user, &ready, now), user.status);
        let down = Outcome::Failed(UserError::RocketMQ("down".into()));
        let failed = desired(&user, &down, now).unwrap();
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
        let status = desired(&user, &outcome, Timestamp::UNIX_EPOCH).unwrap();
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
