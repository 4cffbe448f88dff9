//! A KafkaUser's status from the outcome of its reconcile. Pure.

use api::Condition;
use api::kafka::{KafkaUser, KafkaUserStatus};
use runtime::batched;
use runtime::conditions;

use operator_common::users::UserError;

/// What a Ready KafkaUser's status records, and what it is warned of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub username: String,
    /// The Secret with its credentials, for users that have one.
    pub secret: Option<String>,
    /// Why part of the spec could not be applied (its ACLs without an authorizer).
    pub warning: Option<String>,
}

/// How one KafkaUser's reconcile ended.
pub type Outcome = batched::Outcome<User, UserError>;

/// The reason of the Warning on a user whose ACLs a cluster without an authorizer cannot keep.
pub const AUTHORIZATION_DISABLED: &str = "AuthorizationDisabled";

/// What an older KafkaUser, `owner`, claiming the same principal means for this one.
pub fn conflict(owner: &str) -> String {
    format!(
        "the KafkaUser {owner} is older and claims the same principal; this one changes nothing \
         in Kafka until that one is gone or one of them is renamed"
    )
}

/// The Warning beside `Ready` on a user whose ACLs a cluster without an authorizer cannot keep.
pub fn warnings(ready: &User) -> Vec<Condition> {
    let warning = ready.warning.iter();
    warning
        .map(|message| conditions::warning(AUTHORIZATION_DISABLED, message))
        .collect()
}

/// The status with `conditions`; the username and Secret change only on success (`ready`).
pub fn status(
    user: &KafkaUser,
    ready: Option<&User>,
    conditions: Vec<Condition>,
) -> KafkaUserStatus {
    let current = user.status.clone().unwrap_or_default();
    let (username, secret) = match ready {
        Some(ready) => (Some(ready.username.clone()), ready.secret.clone()),
        None => (current.username, current.secret),
    };
    KafkaUserStatus {
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

    fn desired(resource: &KafkaUser, outcome: &Outcome, now: Timestamp) -> Option<KafkaUserStatus> {
        batched::desired_status::<KafkaUser, UserReconciler>(resource, outcome, now)
    }
    use crate::users::testing::user;

    #[test]
    fn success_records_the_username_and_secret_and_failures_keep_them() {
        let mut user = user("app", json!({}));
        let ready = Outcome::Ready(User {
            username: "app".into(),
            secret: Some("app".into()),
            warning: None,
        });
        let status = desired(&user, &ready, Timestamp::UNIX_EPOCH).unwrap();
        assert_eq!(
            (status.username.as_deref(), status.secret.as_deref()),
            (Some("app"), Some("app"))
        );
        assert_eq!(status.observed_generation, Some(1));
        user.status = Some(status.clone());
        let later = Timestamp::UNIX_EPOCH + std::time::Duration::from_secs(5);
        assert_eq!(desired(&user, &ready, later), Some(status));

        let down = Outcome::Failed(UserError::Kafka("down".into()));
        let failed = desired(&user, &down, later).unwrap();
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
        let ready = Outcome::Ready(User {
            username: "app".into(),
            secret: Some("app".into()),
            warning: Some("no authorizer".into()),
        });
        let conditions = desired(&user, &ready, Timestamp::UNIX_EPOCH)
            .unwrap()
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
        let conflict = Outcome::ResourceConflict("first".into());
        let status = desired(&user, &conflict, now).unwrap();
        let condition = &status.conditions.unwrap()[0];
        assert_eq!(condition.reason.as_deref(), Some("ResourceConflict"));
        assert!(
            condition
                .message
                .as_deref()
                .unwrap()
                .contains("KafkaUser first")
        );
        let taken = Outcome::Failed(UserError::SecretConflict("the Secret x".into()));
        let status = desired(&user, &taken, now).unwrap();
        let condition = &status.conditions.unwrap()[0];
        assert_eq!(condition.reason.as_deref(), Some("SecretConflict"));
    }
}
