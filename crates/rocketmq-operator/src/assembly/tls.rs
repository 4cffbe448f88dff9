//! TLS on the brokers' ports. Every Broker has a CA of its own (`<b>-broker-ca` and
//! `<b>-broker-ca-cert`, kept and renewed as a Kafka's cluster CA is), which signs the one
//! certificate all its brokers serve (`<b>-broker-tls`), for the names of their headless
//! Service: brokers register by pod IP, which no certificate issued before the pod started
//! could name, so the operator verifies them for the Service's name instead.
//!
//! The brokers run RocketMQ's `permissive` mode: TLS for those who ask for it (the operator,
//! always, so that the secret keys of RocketMQUsers it sends never cross the pod network in
//! clear), plain TCP as before for clients and the brokers' own connections. Name servers stay
//! plain: they hold routes, never credentials. RocketMQ watches the certificate files and
//! reloads them when kubelet updates the mounted Secret, so a renewal restarts nothing.

use certs::SecretContent;
use k8s_openapi::api::core::v1::Secret;

use super::model::BrokerModel;
use super::names;
use operator_common::secret_content::secret_holding;

/// Where the brokers mount `<b>-broker-tls`.
pub const TLS_DIR: &str = "/home/rocketmq/brokerage/tls";
/// The Kubernetes names for a TLS Secret's certificate and key.
pub const CERT_FILE: &str = "tls.crt";
pub const KEY_FILE: &str = "tls.key";
/// The leaf's name in the Secret: its entries are `<LEAF>.crt` and `<LEAF>.key`.
pub const LEAF: &str = "tls";

/// The JVM options that make a broker serve its certificate beside plain TCP.
pub fn jvm_options() -> Vec<String> {
    let path = |file: &str| format!("{TLS_DIR}/{file}");
    [
        ("tls.server.mode", "permissive".to_string()),
        // Otherwise RocketMQ serves a self-signed certificate of its own.
        ("tls.test.mode.enable", "false".into()),
        ("tls.server.need.client.auth", "none".into()),
        ("tls.server.certPath", path(CERT_FILE)),
        ("tls.server.keyPath", path(KEY_FILE)),
        // Watched with the other two, so a new CA is picked up as well.
        ("tls.server.trustCertPath", path(certs::CA_CRT)),
        // A file that never exists: the settings come from here only, never from a
        // `/etc/rocketmq/tls.properties` an image might carry.
        ("tls.config.file", path("tls.properties")),
    ]
    .into_iter()
    .map(|(key, value)| format!("-D{key}={value}"))
    .collect()
}

/// The name the brokers' certificate is verified for: their headless Service's.
pub fn server_name(namespace: &str, broker: &str) -> String {
    format!("{}.{namespace}.svc", names::brokers_service(broker))
}

/// The Service's name and every broker's name under it, short and with the cluster domain.
pub fn subject_alt_names(namespace: &str, broker: &str) -> Vec<String> {
    let service = server_name(namespace, broker);
    [
        service.clone(),
        format!("*.{service}"),
        format!("{service}.cluster.local"),
        format!("*.{service}.cluster.local"),
    ]
    .into()
}

/// A Secret of the Broker holding `content`, owned by it.
pub fn build_secret(model: &BrokerModel, name: &str, content: &SecretContent) -> Secret {
    secret_holding(model.metadata(name, model.labels(name)), content)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::assembly::testing::example_model;

    #[test]
    fn the_certificate_names_the_service_and_every_broker_under_it() {
        assert_eq!(server_name("mq", "broker"), "broker-brokers.mq.svc");
        let sans = subject_alt_names("mq", "broker");
        assert!(sans.contains(&server_name("mq", "broker")));
        assert!(sans.contains(&"*.broker-brokers.mq.svc".to_string()));
        assert!(sans.contains(&"*.broker-brokers.mq.svc.cluster.local".to_string()));
    }

    #[test]
    fn brokers_serve_the_mounted_certificate_beside_plain_tcp() {
        let options = jvm_options();
        for expected in [
            "-Dtls.server.mode=permissive",
            "-Dtls.test.mode.enable=false",
            "-Dtls.server.certPath=/home/rocketmq/brokerage/tls/tls.crt",
            "-Dtls.server.keyPath=/home/rocketmq/brokerage/tls/tls.key",
        ] {
            assert!(options.contains(&expected.to_string()), "{options:?}");
        }
        // The broker's own client side (towards name servers and masters) stays plain.
        assert!(
            !options
                .iter()
                .any(|option| option.starts_with("-Dtls.enable"))
        );
    }

    #[test]
    fn secrets_are_owned_by_the_broker() {
        let model = example_model();
        let content = SecretContent {
            data: BTreeMap::from([("tls.crt".to_string(), b"pem".to_vec())]),
            annotations: BTreeMap::new(),
        };
        let secret = build_secret(&model, "b-broker-tls", &content);
        let owner = &secret.metadata.owner_references.unwrap()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.uid.as_str()),
            ("Broker", model.uid.as_str())
        );
        assert_eq!(secret.data.unwrap()["tls.crt"].0, b"pem");
    }
}
