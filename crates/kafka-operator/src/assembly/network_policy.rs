//! The NetworkPolicy of the Kafka pods: each listener admits its `networkPolicyPeers` (everyone
//! when none are given); the controller and replication ports admit only the cluster's own
//! nodes and the operator (and the replication port the Kafka exporter).

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use runtime::labels;

use super::listeners::{CONTROL_PLANE_PORT, REPLICATION_PORT};
use super::metrics::METRICS_PORT;
use super::model::KafkaModel;
use super::names;

pub fn build_network_policy(model: &KafkaModel) -> NetworkPolicy {
    let name = names::network_policy(&model.cluster);
    let selector = |labels: BTreeMap<String, String>| LabelSelector {
        match_labels: Some(labels),
        ..LabelSelector::default()
    };
    let kafka_nodes = NetworkPolicyPeer {
        pod_selector: Some(selector(model.node_selector())),
        ..NetworkPolicyPeer::default()
    };
    // The operator may run in any namespace.
    let operator = NetworkPolicyPeer {
        pod_selector: Some(selector(BTreeMap::from([(
            labels::NAME.to_string(),
            labels::OPERATOR.to_string(),
        )]))),
        namespace_selector: Some(LabelSelector::default()),
        ..NetworkPolicyPeer::default()
    };
    let rule = |port: i32, from: Vec<NetworkPolicyPeer>| NetworkPolicyIngressRule {
        ports: Some(vec![NetworkPolicyPort {
            port: Some(IntOrString::Int(port)),
            protocol: Some("TCP".into()),
            ..NetworkPolicyPort::default()
        }]),
        from: Some(from).filter(|from| !from.is_empty()),
    };

    let mut replication = vec![kafka_nodes.clone(), operator.clone()];
    if model.kafka_exporter.is_some() {
        let exporter = names::kafka_exporter(&model.cluster);
        replication.push(NetworkPolicyPeer {
            pod_selector: Some(selector(model.labels(&exporter).selector())),
            ..NetworkPolicyPeer::default()
        });
    }
    let mut ingress = vec![
        rule(CONTROL_PLANE_PORT, vec![kafka_nodes, operator]),
        rule(REPLICATION_PORT, replication),
    ];
    for listener in &model.listeners {
        ingress.push(rule(listener.port, listener.network_policy_peers.clone()));
    }
    // Prometheus may run anywhere.
    if model.metrics.is_some() {
        ingress.push(rule(METRICS_PORT, Vec::new()));
    }
    NetworkPolicy {
        metadata: model.metadata(&name, model.labels(&name)),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(selector(model.node_selector())),
            policy_types: Some(vec!["Ingress".into()]),
            ingress: Some(ingress),
            ..NetworkPolicySpec::default()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::testing::example_model;

    #[test]
    fn operator_ports_admit_nodes_and_operator_and_listeners_admit_everyone() {
        let policy = build_network_policy(&example_model("ephemeral-single-node"));
        assert_eq!(
            policy.metadata.name.as_deref(),
            Some("my-cluster-network-policy-kafka")
        );
        let ingress = policy.spec.unwrap().ingress.unwrap();
        assert_eq!(ingress.len(), 4);
        assert_eq!(ingress[0].from.as_ref().unwrap().len(), 2);
        assert_eq!(ingress[1].from.as_ref().unwrap().len(), 2);
        assert_eq!(ingress[2].from, None);
        assert_eq!(ingress[3].from, None);
    }
}
