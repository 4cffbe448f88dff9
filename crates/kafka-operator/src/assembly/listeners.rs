//! The listeners of a cluster: the two the operator owns (controller and replication) and the
//! users', with the names Kafka knows them by and the address each node advertises on them.

use std::collections::BTreeMap;

use api::kafka::{ListenerConfiguration, ListenerType};
use k8s_openapi::api::networking::v1::NetworkPolicyPeer;

use super::model::{KafkaModel, Node};
use super::names;

/// The KRaft controller listener, on every node (brokers use its settings to reach controllers).
pub const CONTROL_PLANE_PORT: i32 = 9090;
pub const CONTROL_PLANE_LISTENER: &str = "CONTROLPLANE-9090";
/// The listener brokers replicate over, which the operator also uses; on brokers only.
pub const REPLICATION_PORT: i32 = 9091;
pub const REPLICATION_LISTENER: &str = "REPLICATION-9091";

/// Environment variable with the address of the Kubernetes node a pod runs on; `nodeport`
/// listeners advertise it when no `advertisedHost` is given.
pub const NODE_HOST_ENV: &str = "BROKERAGE_NODE_HOST";

/// One user listener that the cluster exposes.
#[derive(Clone, Debug, PartialEq)]
pub struct Listener {
    pub name: String,
    pub port: i32,
    /// `internal`, `cluster-ip`, `nodeport` or `loadbalancer`: the others are refused or skipped.
    pub type_: ListenerType,
    pub tls: bool,
    pub authentication: Option<Authentication>,
    pub configuration: ListenerConfiguration,
    /// Empty means everyone may connect.
    pub network_policy_peers: Vec<NetworkPolicyPeer>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Authentication {
    /// Mutual TLS with client certificates signed by the clients CA.
    Tls,
    ScramSha512,
}

/// A host and port a client connects to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub host: String,
    pub port: i32,
}

/// What Kubernetes assigned to the external Services, observed after they were applied. The
/// advertised addresses of `nodeport` and `loadbalancer` listeners depend on it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExternalAddresses {
    /// The `nodePort` of each NodePort Service, by Service name.
    pub node_ports: BTreeMap<String, i32>,
    /// The ingress hostname or IP of each LoadBalancer Service, by Service name.
    pub load_balancer_hosts: BTreeMap<String, String>,
}

impl Listener {
    /// Kafka's name for the listener, `<NAME>-<PORT>` as Strimzi names it.
    pub fn identifier(&self) -> String {
        format!("{}-{}", self.name.to_uppercase(), self.port)
    }

    /// The prefix of this listener's settings in `server.properties`.
    pub fn config_prefix(&self) -> String {
        format!("listener.name.{}.", self.identifier().to_lowercase())
    }

    pub fn security_protocol(&self) -> &'static str {
        let sasl = self.authentication == Some(Authentication::ScramSha512);
        match (self.tls, sasl) {
            (false, false) => "PLAINTEXT",
            (true, false) => "SSL",
            (false, true) => "SASL_PLAINTEXT",
            (true, true) => "SASL_SSL",
        }
    }

    /// Whether the listener has Services of its own besides the shared bootstrap Service.
    pub fn is_external(&self) -> bool {
        self.type_ != ListenerType::Internal
    }

    fn broker_override(&self, node_id: i32) -> Option<&api::kafka::BrokerListenerConfiguration> {
        self.configuration
            .brokers
            .iter()
            .flatten()
            .find(|broker| broker.broker == node_id)
    }

    /// The port `advertisedPortTemplate` gives a broker: `Ok(None)` without a template, an
    /// error naming what it made when that is not a port.
    pub fn templated_port(&self, node_id: i32, pod: &str) -> Result<Option<i32>, String> {
        let Some(template) = &self.configuration.advertised_port_template else {
            return Ok(None);
        };
        let text = per_broker(template, node_id, pod);
        match text.parse::<i32>() {
            Ok(port) if (1..=65535).contains(&port) => Ok(Some(port)),
            _ => Err(format!(
                "{template:?} makes {text:?} for node {node_id}, not a port"
            )),
        }
    }

    /// `perBrokerLabelsTemplate` or `perBrokerAnnotationsTemplate` for one broker.
    pub fn per_broker_metadata(
        template: Option<&BTreeMap<String, String>>,
        node_id: i32,
        pod: &str,
    ) -> BTreeMap<String, String> {
        (template.into_iter().flatten())
            .map(|(key, value)| {
                (
                    per_broker(key, node_id, pod),
                    per_broker(value, node_id, pod),
                )
            })
            .collect()
    }
}

/// A per-broker template with Strimzi's placeholders filled in: `{nodeId}` and `{nodePodName}`.
fn per_broker(template: &str, node_id: i32, pod: &str) -> String {
    template
        .replace("{nodeId}", &node_id.to_string())
        .replace("{nodePodName}", pod)
}

impl KafkaModel {
    /// The address `node` advertises on `listener`.
    pub fn advertised_address(&self, listener: &Listener, node: &Node) -> Address {
        let pod = self.pod_name(node);
        let service = names::per_broker_service(&self.cluster, &node.pool, &listener.name, node.id);
        // A broker's own override, else the listener's per-broker template.
        let override_ = listener.broker_override(node.id);
        let templated_host = (listener.configuration.advertised_host_template.as_deref())
            .map(|template| per_broker(template, node.id, &pod));
        let host = (override_.and_then(|broker| broker.advertised_host.clone())).or(templated_host);
        // `validate` refused a template that makes no port.
        let templated_port = listener.templated_port(node.id, &pod).ok().flatten();
        let port = override_
            .and_then(|broker| broker.advertised_port)
            .or(templated_port);
        match listener.type_ {
            ListenerType::NodePort => Address {
                // The node's address is known only inside the pod; Kafka reads it from the
                // environment through its env config provider.
                host: host.unwrap_or_else(|| format!("${{env:{NODE_HOST_ENV}}}")),
                port: port
                    .or_else(|| self.node_port(listener, &service, node.id))
                    .unwrap_or(listener.port),
            },
            ListenerType::LoadBalancer => Address {
                host: host
                    .or_else(|| {
                        self.external_addresses
                            .load_balancer_hosts
                            .get(&service)
                            .cloned()
                    })
                    .unwrap_or_else(|| names::service_dns(&service, &self.namespace)),
                port: port.unwrap_or(listener.port),
            },
            ListenerType::ClusterIp => Address {
                host: host.unwrap_or_else(|| names::service_dns(&service, &self.namespace)),
                port: port.unwrap_or(listener.port),
            },
            _ => Address {
                host: host.unwrap_or_else(|| names::pod_dns(&self.cluster, &self.namespace, &pod)),
                port: port.unwrap_or(listener.port),
            },
        }
    }

    /// The node port of a broker's Service: fixed in the spec, or as Kubernetes assigned it.
    fn node_port(&self, listener: &Listener, service: &str, node_id: i32) -> Option<i32> {
        listener
            .broker_override(node_id)
            .and_then(|broker| broker.node_port)
            .or_else(|| self.external_addresses.node_ports.get(service).copied())
    }

    /// External Services whose assigned address the configuration needs but that has not been
    /// observed yet; until it is, those brokers advertise a stand-in (the listener's own port, or
    /// the Service's in-cluster name), so the config-map step should wait for them.
    pub fn unobserved_external_services(&self) -> Vec<String> {
        let mut missing = Vec::new();
        for listener in &self.listeners {
            for node in self.nodes().filter(|node| node.roles.broker) {
                let service =
                    names::per_broker_service(&self.cluster, &node.pool, &listener.name, node.id);
                let override_ = listener.broker_override(node.id);
                let observed = match listener.type_ {
                    ListenerType::NodePort => {
                        override_
                            .and_then(|broker| broker.advertised_port)
                            .is_some()
                            || self.node_port(listener, &service, node.id).is_some()
                    }
                    ListenerType::LoadBalancer => {
                        override_
                            .and_then(|broker| broker.advertised_host.as_ref())
                            .is_some()
                            || self
                                .external_addresses
                                .load_balancer_hosts
                                .contains_key(&service)
                    }
                    _ => true,
                };
                if !observed {
                    missing.push(service);
                }
            }
        }
        missing
    }
}
