//! The user's Secret, named after the KafkaUser, with the keys Strimzi's clients read: `password`
//! and `sasl.jaas.config` for SCRAM users; `ca.crt`, `user.crt`, `user.key`, `user.p12` and
//! `user.password` for TLS users. Pure.

use std::collections::BTreeMap;

use api::kafka::KafkaUser;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::ObjectMeta;
use kube::{Resource, ResourceExt};
use runtime::labels::Labels;
use serde_json::Value;

pub const PASSWORD: &str = "password";
pub const JAAS_CONFIG: &str = "sasl.jaas.config";
pub const CA_CRT: &str = "ca.crt";
pub const USER_CRT: &str = "user.crt";
pub const USER_KEY: &str = "user.key";
pub const USER_P12: &str = "user.p12";
pub const USER_PASSWORD: &str = "user.password";

/// The keys of a SCRAM user's Secret.
pub fn scram_data(username: &str, password: &str) -> BTreeMap<String, Vec<u8>> {
    let jaas = format!(
        "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"{username}\" password=\"{password}\";"
    );
    BTreeMap::from([
        (PASSWORD.to_string(), password.as_bytes().to_vec()),
        (JAAS_CONFIG.to_string(), jaas.into_bytes()),
    ])
}

/// The Secret of `user` in `cluster` with `data` and the operator's `annotations`, owned by the
/// user so that it goes with it. `spec.template.secret.metadata` adds labels and annotations,
/// but never replaces the operator's own: those find the Secret and tell which password Kafka
/// has.
pub fn build_secret(
    user: &KafkaUser,
    cluster: &str,
    data: BTreeMap<String, Vec<u8>>,
    annotations: BTreeMap<String, String>,
) -> Secret {
    let name = user.name_any();
    let template = user
        .spec
        .template
        .as_ref()
        .and_then(|template| template.get("secret"));
    let metadata = template.and_then(|secret| secret.get("metadata"));
    let mut labels = string_map(metadata.and_then(|metadata| metadata.get("labels")));
    labels.extend(Labels::new("KafkaUser", cluster, &name).into_map());
    let mut all_annotations = string_map(metadata.and_then(|metadata| metadata.get("annotations")));
    all_annotations.extend(annotations);
    let annotations = all_annotations;
    Secret {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: user.namespace(),
            labels: Some(labels),
            annotations: (!annotations.is_empty()).then_some(annotations),
            owner_references: user.controller_owner_ref(&()).map(|owner| vec![owner]),
            ..ObjectMeta::default()
        },
        data: Some(
            data.into_iter()
                .map(|(key, value)| (key, ByteString(value)))
                .collect(),
        ),
        ..Secret::default()
    }
}

fn string_map(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(key, value)| Some((key.clone(), value.as_str()?.to_string())))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::users::testing::user;

    #[test]
    fn a_scram_secret_holds_the_password_and_jaas_config() {
        let data = scram_data("app", "secret");
        assert_eq!(data[PASSWORD], b"secret");
        assert_eq!(
            String::from_utf8(data[JAAS_CONFIG].clone()).unwrap(),
            "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"app\" password=\"secret\";"
        );
    }

    #[test]
    fn the_secret_is_owned_labelled_and_templated() {
        let mut user = user(
            "app",
            json!({"template": {"secret": {"metadata": {"labels": {"team": "a"}, "annotations": {"note": "x"}}}}}),
        );
        user.metadata.uid = Some("uid-1".into());
        let secret = build_secret(
            &user,
            "my-cluster",
            scram_data("app", "pw"),
            BTreeMap::new(),
        );
        assert_eq!(secret.metadata.name.as_deref(), Some("app"));
        let labels = secret.metadata.labels.unwrap();
        assert_eq!(labels["strimzi.io/kind"], "KafkaUser");
        assert_eq!(labels["strimzi.io/cluster"], "my-cluster");
        assert_eq!(labels["team"], "a");
        assert_eq!(secret.metadata.annotations.unwrap()["note"], "x");
        let owner = &secret.metadata.owner_references.unwrap()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.uid.as_str()),
            ("KafkaUser", "uid-1")
        );
    }

    #[test]
    fn a_template_cannot_replace_the_operators_labels_or_annotations() {
        let digest = crate::users::plan::PASSWORD_DIGEST_ANNOTATION;
        let user = user(
            "app",
            json!({"template": {"secret": {"metadata": {
                "labels": {"strimzi.io/kind": "Other", "strimzi.io/cluster": "elsewhere"},
                "annotations": {digest: "forged"},
            }}}}),
        );
        let operator = BTreeMap::from([(digest.to_string(), "real".to_string())]);
        let secret = build_secret(&user, "my-cluster", scram_data("app", "pw"), operator);
        let labels = secret.metadata.labels.unwrap();
        assert_eq!(labels["strimzi.io/kind"], "KafkaUser");
        assert_eq!(labels["strimzi.io/cluster"], "my-cluster");
        assert_eq!(secret.metadata.annotations.unwrap()[digest], "real");
    }
}
