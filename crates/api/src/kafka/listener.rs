use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::NetworkPolicyPeer;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::schema::{FreeFormObject, free_form_list, free_form_object};

/// One Kafka listener (Strimzi's `GenericKafkaListener`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {
        "rule": "!has(self.authentication) || self.authentication.type != 'tls' || self.tls",
        "message": "authentication type tls (mutual TLS) needs tls: true",
        "fieldPath": ".authentication.type",
    },
]))]
pub struct KafkaListener {
    /// Unique within the cluster; names the listener's Services and Kafka's `listener.name.<name>.*` configs.
    #[schemars(regex(pattern = r"^[a-z0-9]{1,11}$"), length(max = 11))]
    pub name: String,
    /// Port inside Kafka, unique within the cluster. Ports below 9092 are reserved for the
    /// operator's own listeners.
    #[schemars(range(min = 9092, max = 65535))]
    pub port: i32,
    /// How clients reach the listener.
    #[serde(rename = "type")]
    pub type_: ListenerType,
    /// Whether the listener encrypts traffic with TLS.
    pub tls: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication: Option<ListenerAuthentication>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configuration: Option<ListenerConfiguration>,
    /// Peers allowed to connect; empty or absent allows everyone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_policy_peers: Option<Vec<NetworkPolicyPeer>>,
}

/// How a listener is exposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ListenerType {
    /// Inside the Kubernetes cluster only, through one headless Service.
    #[serde(rename = "internal")]
    Internal,
    /// OpenShift Routes.
    #[serde(rename = "route")]
    Route,
    /// `LoadBalancer` Services.
    #[serde(rename = "loadbalancer")]
    LoadBalancer,
    /// `NodePort` Services.
    #[serde(rename = "nodeport")]
    NodePort,
    /// Ingresses with TLS passthrough.
    #[serde(rename = "ingress")]
    Ingress,
    /// One `ClusterIP` Service per broker.
    #[serde(rename = "cluster-ip")]
    ClusterIp,
    /// Gateway API TLSRoutes attached to `configuration.parentRefs`.
    #[serde(rename = "tlsroute")]
    TlsRoute,
}

/// Client authentication on a listener. Strimzi's schema is one flat object keyed by `type`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListenerAuthentication {
    #[serde(rename = "type")]
    pub type_: ListenerAuthenticationType,
    /// `custom` only: whether the listener uses SASL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sasl: Option<bool>,
    /// `custom` only: `listener.name.<name>.*` broker configs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub listener_config: Option<FreeFormObject>,
    /// The many `oauth` options (and any other), kept as written so that existing Strimzi manifests apply;
    /// the operator reports the ones it does not implement.
    #[serde(flatten)]
    pub other: FreeFormObject,
}

/// `tls` is mutual TLS with certificates signed by the clients CA, on TLS listeners only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ListenerAuthenticationType {
    #[serde(rename = "tls")]
    Tls,
    #[serde(rename = "scram-sha-512")]
    ScramSha512,
    #[serde(rename = "oauth")]
    OAuth,
    #[serde(rename = "custom")]
    Custom,
}

/// Per-listener tuning of the Services, Routes and Ingresses that expose it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{
    "rule": "!has(self.loadBalancerSourceRanges) || self.loadBalancerSourceRanges.all(r, isCIDR(r))",
    "message": "every load balancer source range must be a CIDR range such as 10.0.0.0/8",
    "fieldPath": ".loadBalancerSourceRanges",
}]))]
pub struct ListenerConfiguration {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<BootstrapConfiguration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brokers: Option<Vec<BrokerListenerConfiguration>>,
    /// A user-provided server certificate instead of one signed by the cluster CA.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broker_cert_chain_and_key: Option<CertAndKeySecretSource>,
    /// Ingress class or load balancer class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_traffic_policy: Option<ExternalTrafficPolicy>,
    /// CIDR ranges of the clients a `loadbalancer` listener lets in.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64), inner(length(max = 64)))]
    pub load_balancer_source_ranges: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_node_port_address_type: Option<NodeAddressType>,
    /// Whether advertised internal addresses include the cluster DNS domain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub use_service_dns_domain: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_family_policy: Option<IpFamilyPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_families: Option<Vec<IpFamily>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_bootstrap_service: Option<bool>,
    /// Finalizers for `loadbalancer` Services.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finalizers: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publish_not_ready_addresses: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocate_load_balancer_node_ports: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub max_connections: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub max_connection_creation_rate: Option<i32>,
    /// Template for per-broker hosts of `route` and `ingress` listeners, such as `broker-{nodeId}.example.com`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_template: Option<String>,
    /// Template for advertised per-broker hosts, such as `{nodePodName}.example.com`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advertised_host_template: Option<String>,
    /// Template of each broker's advertised port, such as `{nodeId}` placeholders make.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advertised_port_template: Option<String>,
    /// Labels of each broker's Service, templated per broker.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_broker_labels_template: Option<BTreeMap<String, String>>,
    /// Annotations of each broker's Service, templated per broker.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_broker_annotations_template: Option<BTreeMap<String, String>>,
    /// The Gateways a `tlsroute` listener's TLSRoutes attach to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_list")]
    pub parent_refs: Option<Vec<FreeFormObject>>,
}

/// The bootstrap Service, Route or Ingress of one listener.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{
    "rule": "!has(self.alternativeNames) || self.alternativeNames.all(n, isIP(n) || n.matches(r'^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'))",
    "message": "every alternative name must be a DNS name (lower case, optionally starting with one '*.') or an IP address",
    "fieldPath": ".alternativeNames",
}]))]
pub struct BootstrapConfiguration {
    /// Extra subject alternative names for the broker certificates: DNS names or IP addresses.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64), inner(length(max = 253)))]
    pub alternative_names: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub node_port: Option<i32>,
    #[serde(rename = "loadBalancerIP", skip_serializing_if = "Option::is_none")]
    pub load_balancer_ip: Option<String>,
    #[serde(rename = "externalIPs", skip_serializing_if = "Option::is_none")]
    pub external_ips: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
}

/// The per-broker Service, Route or Ingress of one listener.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BrokerListenerConfiguration {
    /// Node ID of the broker this entry applies to.
    #[schemars(range(min = 0))]
    pub broker: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advertised_host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub advertised_port: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub node_port: Option<i32>,
    #[serde(rename = "loadBalancerIP", skip_serializing_if = "Option::is_none")]
    pub load_balancer_ip: Option<String>,
    #[serde(rename = "externalIPs", skip_serializing_if = "Option::is_none")]
    pub external_ips: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
}

/// A certificate and its private key, stored in one Secret.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertAndKeySecretSource {
    pub secret_name: String,
    /// Key of the certificate (optionally the whole chain) in the Secret.
    pub certificate: String,
    /// Key of the private key in the Secret.
    pub key: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ExternalTrafficPolicy {
    Local,
    Cluster,
}

/// Which node address a `nodeport` listener advertises first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum NodeAddressType {
    ExternalIP,
    ExternalDNS,
    InternalIP,
    InternalDNS,
    Hostname,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum IpFamilyPolicy {
    SingleStack,
    PreferDualStack,
    RequireDualStack,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum IpFamily {
    IPv4,
    IPv6,
}
