//! The `listeners` part of a Kafka's status: where clients connect, per listener.

use std::collections::{BTreeMap, BTreeSet};

use api::kafka::{ListenerAddress, ListenerStatus, ListenerType};
use k8s_openapi::api::core::v1::ConfigMap;

use super::listeners::Listener;
use super::model::KafkaModel;
use super::names;

/// The address of every user listener. `broker_hosts` maps each broker's node ID to the address
/// of the Kubernetes node it runs on (for `nodeport` listeners); `cluster_ca_cert` is the PEM
/// certificate TLS listeners report so clients can trust them.
pub fn listener_statuses(
    model: &KafkaModel,
    broker_hosts: &BTreeMap<i32, String>,
    cluster_ca_cert: Option<&str>,
) -> Vec<ListenerStatus> {
    model
        .listeners
        .iter()
        .map(|listener| {
            let addresses = addresses(model, listener, broker_hosts);
            let bootstrap_servers: Vec<String> = addresses
                .iter()
                .map(|address| format!("{}:{}", address.host, address.port))
                .collect();
            ListenerStatus {
                name: listener.name.clone(),
                bootstrap_servers: Some(bootstrap_servers.join(",")).filter(|s| !s.is_empty()),
                addresses: Some(addresses).filter(|a| !a.is_empty()),
                certificates: cluster_ca_cert
                    .filter(|_| listener.tls)
                    .map(|cert| vec![cert.to_string()]),
            }
        })
        .collect()
}

/// The discovery ConfigMap: `<listener>.bootstrap.servers` for each listener with an address.
pub fn build_bootstrap_info(model: &KafkaModel, listeners: &[ListenerStatus]) -> ConfigMap {
    let name = names::bootstrap_info_config_map(&model.cluster);
    ConfigMap {
        metadata: model.metadata(&name, model.labels(&name)),
        data: Some(
            listeners
                .iter()
                .filter_map(|listener| {
                    let servers = listener.bootstrap_servers.clone()?;
                    Some((format!("{}.bootstrap.servers", listener.name), servers))
                })
                .collect(),
        ),
        ..ConfigMap::default()
    }
}

fn addresses(
    model: &KafkaModel,
    listener: &Listener,
    broker_hosts: &BTreeMap<i32, String>,
) -> Vec<ListenerAddress> {
    let bootstrap = names::external_bootstrap_service(&model.cluster, &listener.name);
    let address = |host: String, port: i32| ListenerAddress { host, port };
    match listener.type_ {
        ListenerType::Internal => vec![address(
            names::service_dns(&names::bootstrap_service(&model.cluster), &model.namespace),
            listener.port,
        )],
        ListenerType::ClusterIp => vec![address(
            names::service_dns(&bootstrap, &model.namespace),
            listener.port,
        )],
        ListenerType::LoadBalancer => model
            .external_addresses
            .load_balancer_hosts
            .get(&bootstrap)
            .map(|host| vec![address(host.clone(), listener.port)])
            .unwrap_or_default(),
        // The bootstrap node port on every node that runs a broker, under the host the broker
        // advertises when the user overrode it.
        _ => {
            let node_port = listener
                .configuration
                .bootstrap
                .as_ref()
                .and_then(|bootstrap| bootstrap.node_port)
                .or_else(|| model.external_addresses.node_ports.get(&bootstrap).copied());
            let Some(node_port) = node_port else {
                return Vec::new();
            };
            let hosts: BTreeSet<String> = model
                .nodes()
                .filter(|node| node.roles.broker)
                .filter_map(|node| {
                    let advertised = listener
                        .configuration
                        .brokers
                        .iter()
                        .flatten()
                        .find(|broker| broker.broker == node.id)
                        .and_then(|broker| broker.advertised_host.clone());
                    advertised.or_else(|| broker_hosts.get(&node.id).cloned())
                })
                .collect();
            hosts
                .into_iter()
                .map(|host| address(host, node_port))
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::testing::{NODEPORT_CLUSTER, example_model, inputs, parse};
    use crate::assembly::validate;

    #[test]
    fn internal_listeners_report_the_bootstrap_service() {
        let model = example_model("ephemeral-single-node");
        let statuses = listener_statuses(&model, &BTreeMap::new(), Some("PEM"));
        assert_eq!(statuses[0].name, "plain");
        assert_eq!(
            statuses[0].bootstrap_servers.as_deref(),
            Some("my-cluster-kafka-bootstrap.kafka.svc:9092")
        );
        assert_eq!(statuses[0].certificates, None);
        assert_eq!(
            statuses[1].bootstrap_servers.as_deref(),
            Some("my-cluster-kafka-bootstrap.kafka.svc:9093")
        );
        assert_eq!(statuses[1].certificates, Some(vec!["PEM".to_string()]));

        let info = build_bootstrap_info(&model, &statuses);
        assert_eq!(
            info.metadata.name.as_deref(),
            Some("my-cluster-kafka-bootstrap-info")
        );
        let data = info.data.unwrap();
        assert_eq!(
            data["plain.bootstrap.servers"],
            "my-cluster-kafka-bootstrap.kafka.svc:9092"
        );
        assert_eq!(
            data["tls.bootstrap.servers"],
            "my-cluster-kafka-bootstrap.kafka.svc:9093"
        );
    }

    #[test]
    fn nodeport_listeners_report_the_nodes_with_the_bootstrap_node_port() {
        let (kafka, pools) = parse(NODEPORT_CLUSTER);
        let model = validate(&kafka, &pools, &inputs()).unwrap();
        let hosts = BTreeMap::from([(0, "10.0.0.1".to_string()), (1, "10.0.0.2".to_string())]);
        let statuses = listener_statuses(&model, &hosts, None);
        assert_eq!(statuses[2].name, "external");
        assert_eq!(
            statuses[2].bootstrap_servers.as_deref(),
            Some("10.0.0.2:32094,203.0.113.10:32094")
        );
    }
}
