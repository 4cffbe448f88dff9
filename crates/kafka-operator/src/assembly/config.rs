//! The user's `spec.kafka.config`: values turned into `server.properties` text, and the keys the
//! operator owns taken out (and reported), following Strimzi's list so the same manifests behave
//! the same way.

use std::collections::BTreeMap;

use api::FreeFormObject;
use serde_json::Value;

use operator_common::properties::is_plain_key;
use operator_common::validation::{InvalidSpec, Warning};

/// The user's broker settings, sorted so the rendered file is byte-identical for the same spec.
pub type UserConfig = BTreeMap<String, String>;

/// Key prefixes the operator sets itself (Strimzi's `FORBIDDEN_PREFIXES`, plus the KRaft and
/// quota-plugin keys of newer Strimzi versions, plus `config.providers`, which the operator
/// uses to read certificates and the node address).
const OPERATOR_OWNED_PREFIXES: &[&str] = &[
    "listeners",
    "advertised.",
    "broker.",
    "listener.",
    "host.name",
    "port",
    "inter.broker.listener.name",
    "sasl.",
    "ssl.",
    "security.",
    "password.",
    "log.dir",
    "zookeeper.connect",
    "zookeeper.set.acl",
    "zookeeper.ssl",
    "zookeeper.clientCnxnSocket",
    "authorizer.",
    "super.user",
    "cruise.control.metrics.topic",
    "cruise.control.metrics.reporter.bootstrap.servers",
    "node.id",
    "process.roles",
    "controller.",
    "metadata.log.dir",
    "zookeeper.metadata.migration.enable",
    "client.quota.callback.static.kafka.admin.",
    "client.quota.callback.static.produce",
    "client.quota.callback.static.fetch",
    "client.quota.callback.static.storage.per.volume.limit.min.available.",
    "client.quota.callback.static.excluded.principal.name.list",
    "config.providers",
];

/// Keys under those prefixes that users may still set (Strimzi's `FORBIDDEN_PREFIX_EXCEPTIONS`).
const USER_SETTABLE_EXCEPTIONS: &[&str] = &[
    "sasl.server.max.receive.size",
    "ssl.cipher.suites",
    "ssl.protocol",
    "ssl.enabled.protocols",
    "ssl.secure.random.implementation",
    "cruise.control.metrics.topic.num.partitions",
    "cruise.control.metrics.topic.replication.factor",
    "cruise.control.metrics.topic.retention.ms",
    "cruise.control.metrics.topic.auto.create.retries",
    "cruise.control.metrics.topic.auto.create.timeout.ms",
    "cruise.control.metrics.topic.min.insync.replicas",
    "controller.quorum.election.backoff.max.ms",
    "controller.quorum.election.timeout.ms",
    "controller.quorum.fetch.timeout.ms",
];

/// Settings of ZooKeeper-era clusters that a KRaft cluster has no use for (the metadata version
/// replaces the protocol and message-format versions): old manifests carry them, so they are
/// dropped, each with a warning, rather than handed to a broker that would refuse or ignore them.
fn is_zookeeper_era(key: &str) -> bool {
    matches!(
        key,
        "inter.broker.protocol.version" | "log.message.format.version"
    ) || key.starts_with("zookeeper.")
}

pub fn is_operator_owned(key: &str) -> bool {
    !USER_SETTABLE_EXCEPTIONS.contains(&key)
        && OPERATOR_OWNED_PREFIXES
            .iter()
            .any(|prefix| key.starts_with(prefix))
}

/// The user's settings as text, without operator-owned keys, keys no Kafka setting has, and
/// values that would expand a config provider; each dropped key is a warning.
pub fn user_config(
    config: Option<&FreeFormObject>,
    warnings: &mut Vec<Warning>,
) -> Result<UserConfig, InvalidSpec> {
    let mut user_config = UserConfig::new();
    for (key, value) in config.into_iter().flatten() {
        if !is_plain_key(key) {
            warnings.push(Warning {
                reason: "ForbiddenConfig",
                message: format!(
                    "spec.kafka.config: {key:?} is not a Kafka setting (their names are letters, \
                     digits, '.', '_' and '-'); it is ignored"
                ),
            });
            continue;
        }
        if is_zookeeper_era(key) {
            warnings.push(Warning {
                reason: "IgnoredField",
                message: format!(
                    "spec.kafka.config.{key} is a ZooKeeper-era setting that a KRaft cluster does \
                     not use (spec.kafka.metadataVersion takes its place); it is dropped"
                ),
            });
            continue;
        }
        if is_operator_owned(key) {
            warnings.push(Warning {
                reason: "ForbiddenConfig",
                message: format!(
                    "spec.kafka.config.{key} is set by the operator; the value given is ignored"
                ),
            });
            continue;
        }
        let Some(text) = as_property(key, value)? else {
            continue;
        };
        if text.contains("${") {
            warnings.push(Warning {
                reason: "ForbiddenConfig",
                message: format!(
                    "spec.kafka.config.{key} refers to a config provider (${{...}}), which would \
                     read files or variables of the broker; the operator's providers are its own, \
                     so the value is ignored"
                ),
            });
            continue;
        }
        user_config.insert(key.clone(), text);
    }
    Ok(user_config)
}

/// Strings, numbers and booleans as written; lists joined with commas, as Kafka's list settings
/// expect; `null` leaves the key out.
fn as_property(key: &str, value: &Value) -> Result<Option<String>, InvalidSpec> {
    let scalar = |value: &Value| match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    };
    let invalid = || {
        InvalidSpec::new(
            format!("spec.kafka.config.{key}"),
            "the value must be a string, a number, a boolean or a list of those",
        )
    };
    match value {
        Value::Null => Ok(None),
        Value::Array(items) => {
            let items: Option<Vec<String>> = items.iter().map(scalar).collect();
            items.map(|items| Some(items.join(","))).ok_or_else(invalid)
        }
        other => scalar(other).map(Some).ok_or_else(invalid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operator_owned_keys_are_dropped_and_reported() {
        let config: FreeFormObject = serde_json::from_value(json!({
            "listeners": "PLAINTEXT://:9092",
            "advertised.listeners": "x",
            "log.dirs": "/tmp",
            "node.id": 5,
            "ssl.keystore.location": "/x",
            "ssl.cipher.suites": "TLS_AES_256_GCM_SHA384",
            "controller.quorum.election.timeout.ms": 2000,
            "log.retention.hours": 24,
            "auto.create.topics.enable": false,
            "min.insync.replicas": 2,
        }))
        .unwrap();
        let mut warnings = Vec::new();
        let config = user_config(Some(&config), &mut warnings).unwrap();
        assert_eq!(
            config,
            UserConfig::from([
                ("auto.create.topics.enable".into(), "false".into()),
                (
                    "controller.quorum.election.timeout.ms".into(),
                    "2000".into()
                ),
                ("log.retention.hours".into(), "24".into()),
                ("min.insync.replicas".into(), "2".into()),
                ("ssl.cipher.suites".into(), "TLS_AES_256_GCM_SHA384".into()),
            ])
        );
        let dropped: Vec<&str> = warnings
            .iter()
            .map(|warning| warning.message.split(' ').next().unwrap())
            .collect();
        assert_eq!(
            dropped,
            [
                "spec.kafka.config.advertised.listeners",
                "spec.kafka.config.listeners",
                "spec.kafka.config.log.dirs",
                "spec.kafka.config.node.id",
                "spec.kafka.config.ssl.keystore.location",
            ]
        );
        assert!(
            warnings
                .iter()
                .all(|warning| warning.reason == "ForbiddenConfig")
        );
    }

    #[test]
    fn values_of_every_type_become_text() {
        let config: FreeFormObject = serde_json::from_value(json!({
            "a": "text", "b": 1, "c": 2.5, "d": true, "e": ["x", 1], "f": null,
        }))
        .unwrap();
        let config = user_config(Some(&config), &mut Vec::new()).unwrap();
        assert_eq!(config["a"], "text");
        assert_eq!(config["b"], "1");
        assert_eq!(config["c"], "2.5");
        assert_eq!(config["d"], "true");
        assert_eq!(config["e"], "x,1");
        assert!(!config.contains_key("f"));
        let nested: FreeFormObject = serde_json::from_value(json!({"g": {"h": 1}})).unwrap();
        let error = user_config(Some(&nested), &mut Vec::new()).unwrap_err();
        assert_eq!(error.field, "spec.kafka.config.g");
    }

    #[test]
    fn keys_that_could_hide_an_owned_key_are_dropped_and_named() {
        let config: FreeFormObject = serde_json::from_value(json!({
            " super.users": "User:mallory",
            "super.users\n": "User:mallory",
            "\\u0073uper.users": "User:mallory",
            "authorizer.class.name ": "x",
            "log.retention.hours": 24,
        }))
        .unwrap();
        let mut warnings = Vec::new();
        let config = user_config(Some(&config), &mut warnings).unwrap();
        assert_eq!(
            config,
            UserConfig::from([("log.retention.hours".into(), "24".into())])
        );
        assert_eq!(warnings.len(), 4);
        for (warning, key) in warnings.iter().zip([
            r#"" super.users""#,
            r#""\\u0073uper.users""#,
            r#""authorizer.class.name ""#,
            r#""super.users\n""#,
        ]) {
            assert_eq!(warning.reason, "ForbiddenConfig");
            assert!(
                warning
                    .message
                    .starts_with(&format!("spec.kafka.config: {key} is not")),
                "{}",
                warning.message
            );
        }
    }

    #[test]
    fn config_provider_references_are_dropped_and_named() {
        let config: FreeFormObject = serde_json::from_value(json!({
            "log.retention.ms": "${directory:/opt/kafka/node-certs:pod.key}",
            "num.io.threads": ["${env:HOME}"],
            "message.max.bytes": "$1000",
        }))
        .unwrap();
        let mut warnings = Vec::new();
        let config = user_config(Some(&config), &mut warnings).unwrap();
        assert_eq!(
            config,
            UserConfig::from([("message.max.bytes".into(), "$1000".into())])
        );
        assert_eq!(warnings.len(), 2);
        assert!(
            warnings[0]
                .message
                .starts_with("spec.kafka.config.log.retention.ms refers to a config provider")
        );
    }
}
