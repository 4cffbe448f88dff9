//! What the certificates step needs that is pure: the CA settings from the spec, every address
//! a node's certificate must name, and the Secrets that hold the material.

use std::collections::BTreeSet;

use api::kafka::{CertificateAuthority as CaSpec, CertificateExpirationPolicy};
use certs::{CaConfig, CaKind, ExpirationPolicy, SecretContent};
use k8s_openapi::api::core::v1::Secret;

use super::model::{KafkaModel, Node};
use super::names;
use operator_common::secret_content::secret_holding;

/// The Secret holding the operator's own client certificate for this cluster, as Strimzi names it.
pub fn operator_certificate_secret(cluster: &str) -> String {
    format!("{cluster}-cluster-operator-certs")
}

/// Every Secret the certificates step writes for the cluster: the two CAs' key and certificate
/// Secrets, the nodes' certificates, the operator's and the Kafka exporter's.
pub fn certificate_secrets(model: &KafkaModel) -> Vec<String> {
    let cluster = &model.cluster;
    let mut secrets = Vec::new();
    for kind in [CaKind::Cluster, CaKind::Clients] {
        secrets.push(kind.key_secret_name(cluster));
        secrets.push(kind.cert_secret_name(cluster));
    }
    secrets.push(names::node_certificates_secret(cluster));
    secrets.push(operator_certificate_secret(cluster));
    if model.kafka_exporter.is_some() {
        secrets.push(names::kafka_exporter_certificate_secret(cluster));
    }
    secrets
}

/// `spec.clusterCa` / `spec.clientsCa` as the certs crate takes them.
pub fn ca_config(spec: Option<&CaSpec>) -> CaConfig {
    let defaults = CaConfig::default();
    let days = |value: Option<i32>, default: u32| {
        value.and_then(|v| u32::try_from(v).ok()).unwrap_or(default)
    };
    CaConfig {
        validity_days: days(spec.and_then(|s| s.validity_days), defaults.validity_days),
        renewal_days: days(spec.and_then(|s| s.renewal_days), defaults.renewal_days),
        expiration_policy: match spec.and_then(|s| s.certificate_expiration_policy) {
            Some(CertificateExpirationPolicy::ReplaceKey) => ExpirationPolicy::ReplaceKey,
            _ => ExpirationPolicy::RenewCertificate,
        },
    }
}

/// Every name a client or another node may use for `node`: its pod DNS names, the bootstrap and
/// brokers Services, and the addresses it advertises on external listeners.
pub fn node_subject_alt_names(model: &KafkaModel, node: &Node) -> Vec<String> {
    let namespace = &model.namespace;
    let pod = model.pod_name(node);
    let mut names = BTreeSet::new();
    for service in [
        names::bootstrap_service(&model.cluster),
        names::brokers_service(&model.cluster),
    ] {
        names.insert(service.clone());
        names.insert(format!("{service}.{namespace}"));
        names.insert(format!("{service}.{namespace}.svc"));
        names.insert(format!("{service}.{namespace}.svc.cluster.local"));
    }
    let pod_dns = names::pod_dns(&model.cluster, namespace, &pod);
    names.insert(format!("{pod_dns}.cluster.local"));
    names.insert(pod_dns);
    if node.roles.broker {
        for listener in &model.listeners {
            let host = model.advertised_address(listener, node).host;
            // A host only known inside the pod (a NodePort's node address) cannot be named here.
            if !host.starts_with("${") {
                names.insert(host);
            }
            // Names a user routes to the listener's bootstrap (a DNS alias, a proxy).
            let bootstrap = listener.configuration.bootstrap.as_ref();
            let alternatives = bootstrap.and_then(|b| b.alternative_names.as_ref());
            names.extend(alternatives.into_iter().flatten().cloned());
        }
    }
    names.into_iter().collect()
}

/// A Secret of the cluster holding `content`. CA Secrets are owned by the Kafka only when the
/// spec allows (`generateSecretOwnerReference`), so that deleting the Kafka can keep the CA.
pub fn build_secret(
    model: &KafkaModel,
    name: &str,
    content: &SecretContent,
    owned: bool,
) -> Secret {
    let mut metadata = model.metadata(name, model.labels(name));
    if !owned {
        metadata.owner_references = None;
    }
    secret_holding(metadata, content)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use kube::ResourceExt;

    use super::*;
    use crate::assembly::testing::example_model;
    use operator_common::secret_content::without_annotation;

    #[test]
    fn a_forced_renewal_is_written_without_its_annotation_and_keeps_what_others_set() {
        let model = example_model("ephemeral-single-node");
        let mut live = build_secret(&model, "c-cluster-ca-cert", &SecretContent::default(), true);
        live.metadata.resource_version = Some("7".into());
        let others = BTreeMap::from([
            ("strimzi.io/force-renew".to_string(), "true".to_string()),
            ("team".to_string(), "payments".to_string()),
        ]);
        live.metadata.annotations = Some(others);
        let content = SecretContent {
            data: BTreeMap::from([("ca.crt".to_string(), b"new".to_vec())]),
            annotations: BTreeMap::from([(
                "strimzi.io/ca-cert-generation".to_string(),
                "1".to_string(),
            )]),
        };
        let desired = build_secret(&model, "c-cluster-ca-cert", &content, true);
        let replaced = without_annotation(&live, &desired, "strimzi.io/force-renew");
        assert_eq!(replaced.metadata.resource_version.as_deref(), Some("7"));
        assert_eq!(replaced.data, desired.data);
        let annotations = replaced.annotations();
        assert!(!annotations.contains_key("strimzi.io/force-renew"));
        assert_eq!(annotations["team"], "payments");
        assert_eq!(annotations["strimzi.io/ca-cert-generation"], "1");
    }

    #[test]
    fn node_certificates_name_every_address_clients_use() {
        let model = example_model("tls-scram-listeners");
        let node = model.nodes().next().unwrap();
        let names = node_subject_alt_names(&model, &node);
        let namespace = &model.namespace;
        for expected in [
            format!("secure-cluster-kafka-bootstrap.{namespace}.svc"),
            format!("secure-cluster-nodes-0.secure-cluster-kafka-brokers.{namespace}.svc"),
            // The nodeport listener's advertisedHost.
            "localhost".to_string(),
        ] {
            assert!(
                names.contains(&expected),
                "{expected} missing from {names:?}"
            );
        }
        assert!(names.iter().all(|name| !name.contains("${")));

        // A listener's bootstrap alternative names are in every broker's certificate.
        let mut model = model;
        model.listeners[0].configuration.bootstrap = Some(api::kafka::BootstrapConfiguration {
            alternative_names: Some(vec!["kafka.example.com".into()]),
            ..Default::default()
        });
        let names = node_subject_alt_names(&model, &node);
        assert!(
            names.contains(&"kafka.example.com".to_string()),
            "{names:?}"
        );
    }

    #[test]
    fn ca_settings_follow_the_spec() {
        let spec = CaSpec {
            validity_days: Some(100),
            renewal_days: Some(10),
            certificate_expiration_policy: Some(CertificateExpirationPolicy::ReplaceKey),
            ..CaSpec::default()
        };
        let config = ca_config(Some(&spec));
        assert_eq!((config.validity_days, config.renewal_days), (100, 10));
        assert_eq!(config.expiration_policy, ExpirationPolicy::ReplaceKey);
        assert_eq!(ca_config(None), CaConfig::default());
    }
}
