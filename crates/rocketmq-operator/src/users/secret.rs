//! The user's Secret, named after the RocketMQUser: `username` and `password`, the access key
//! and secret key RocketMQ clients sign with. Pure.

use std::collections::BTreeMap;

use api::rocketmq::RocketMQUser;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::ObjectMeta;
use kube::{Resource, ResourceExt};
use runtime::labels::Labels;

use super::plan::PASSWORD_DIGEST_ANNOTATION;

pub const USERNAME: &str = "username";
pub const PASSWORD: &str = "password";
/// The kind label of users' Secrets, to list them.
pub const KIND: &str = "RocketMQUser";

/// The Secret of `user` in `cluster`, owned by the user so that it goes with it. The digest
/// records which password the brokers have.
pub fn build_secret(
    user: &RocketMQUser,
    cluster: &str,
    username: &str,
    password: &str,
    digest: &str,
) -> Secret {
    let name = user.name_any();
    Secret {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: user.namespace(),
            labels: Some(Labels::new(KIND, cluster, &name).into_map()),
            annotations: Some(BTreeMap::from([(
                PASSWORD_DIGEST_ANNOTATION.to_string(),
                digest.to_string(),
            )])),
            owner_references: user.controller_owner_ref(&()).map(|owner| vec![owner]),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([
            (
                USERNAME.to_string(),
                ByteString(username.as_bytes().to_vec()),
            ),
            (
                PASSWORD.to_string(),
                ByteString(password.as_bytes().to_vec()),
            ),
        ])),
        ..Secret::default()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::users::testing::user;

    #[test]
    fn the_secret_holds_the_credentials_and_goes_with_the_user() {
        let mut user = user("app", json!({}));
        user.metadata.uid = Some("uid-1".into());
        let secret = build_secret(&user, "broker", "app", "pw", "d1");
        let data = secret.data.unwrap();
        assert_eq!(data[USERNAME].0, b"app");
        assert_eq!(data[PASSWORD].0, b"pw");
        assert_eq!(secret.metadata.owner_references.unwrap()[0].uid, "uid-1");
        assert_eq!(
            secret.metadata.annotations.unwrap()[PASSWORD_DIGEST_ANNOTATION],
            "d1"
        );
        assert_eq!(secret.metadata.labels.unwrap()["strimzi.io/kind"], KIND);
    }
}
