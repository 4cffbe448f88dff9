use k8s_openapi::api::core::v1::ResourceRequirements;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    CertificateAuthority, EntityOperatorSpec, JvmOptions, KafkaListener, Probe, Storage,
    ZookeeperClusterSpec,
};
use crate::Condition;
use crate::schema::{FreeFormObject, free_form_object};

/// A Kafka cluster, as Strimzi's `Kafka` kind.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "kafka.strimzi.io",
    version = "v1",
    kind = "Kafka",
    plural = "kafkas",
    namespaced,
    status = "KafkaStatus",
    derive = "PartialEq",
    shortname = "k",
    doc = "A Kafka cluster: its listeners, broker configuration and supporting operators."
)]
#[serde(rename_all = "camelCase")]
pub struct KafkaSpec {
    pub kafka: KafkaClusterSpec,
    /// Pre-KRaft clusters only; accepted so that old manifests apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zookeeper: Option<ZookeeperClusterSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_operator: Option<EntityOperatorSpec>,
    /// The CA that signs broker and controller certificates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_ca: Option<CertificateAuthority>,
    /// The CA that signs the certificates of `tls` KafkaUsers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clients_ca: Option<CertificateAuthority>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub cruise_control: Option<FreeFormObject>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub kafka_exporter: Option<FreeFormObject>,
    /// Removed from Strimzi long ago; accepted so that old manifests apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub jmx_trans: Option<FreeFormObject>,
    /// Cron expressions of the windows in which certificate renewal may roll pods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maintenance_time_windows: Option<Vec<String>>,
}

/// The Kafka brokers and controllers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {
        "rule": "self.listeners.all(l, self.listeners.exists_one(m, m.name == l.name))",
        "message": "listener names must be unique",
        "fieldPath": ".listeners",
    },
    {
        "rule": "self.listeners.all(l, self.listeners.exists_one(m, m.port == l.port))",
        "message": "listener ports must be unique",
        "fieldPath": ".listeners",
    },
]))]
pub struct KafkaClusterSpec {
    /// Kafka version; defaults to the newest the operator supports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// KRaft `metadata.version`, such as `4.1-IV1` or `4.1`; defaults to the one matching
    /// `version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]+\.[0-9]+(-IV[0-9]+)?$"))]
    pub metadata_version: Option<String>,
    /// Number of nodes when node pools are not used.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub replicas: Option<i32>,
    /// Container image; defaults to the image for `version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^\S+$"))]
    pub image: Option<String>,
    #[schemars(length(min = 1, max = 64))]
    pub listeners: Vec<KafkaListener>,
    /// Broker configuration (`server.properties`); values may be strings, numbers or booleans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub config: Option<FreeFormObject>,
    /// Storage when node pools are not used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<Storage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization: Option<KafkaAuthorization>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rack: Option<Rack>,
    /// Image of the init container that reads the node's rack label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broker_rack_init_image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liveness_probe: Option<Probe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<Probe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jvm_options: Option<JvmOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub jmx_options: Option<FreeFormObject>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub metrics_config: Option<FreeFormObject>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub logging: Option<FreeFormObject>,
    /// Strimzi's pod, Service and container templates, kept as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub template: Option<FreeFormObject>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub tiered_storage: Option<FreeFormObject>,
    /// Broker-wide quotas plugin settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub quotas: Option<FreeFormObject>,
}

/// Broker authorization. Like Strimzi's schema this is one flat object keyed by `type`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KafkaAuthorization {
    #[serde(rename = "type")]
    pub type_: KafkaAuthorizationType,
    /// Principals with unlimited access, such as `CN=admin` or `admin`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub super_users: Option<Vec<String>>,
    /// Options of the `opa`, `keycloak` and `custom` types, kept as written; the operator reports the
    /// ones it does not implement.
    #[serde(flatten)]
    pub other: FreeFormObject,
}

/// `simple` is Kafka's built-in ACL authorizer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum KafkaAuthorizationType {
    #[serde(rename = "simple")]
    Simple,
    #[serde(rename = "opa")]
    Opa,
    #[serde(rename = "keycloak")]
    Keycloak,
    #[serde(rename = "custom")]
    Custom,
}

/// Rack awareness: each broker's `broker.rack` from a label of its node (`topology-label`, the
/// default) or from an environment variable of its container (`environment-variable`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {
        "rule": "(has(self.type) && self.type == 'environment-variable') || has(self.topologyKey)",
        "message": "a topology-label rack needs topologyKey",
    },
    {
        "rule": "!has(self.type) || self.type != 'environment-variable' || has(self.envVarName)",
        "message": "an environment-variable rack needs envVarName",
    },
]))]
pub struct Rack {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<RackType>,
    /// Node label such as `topology.kubernetes.io/zone`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topology_key: Option<String>,
    /// The container's environment variable that holds the rack.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env_var_name: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum RackType {
    #[serde(rename = "topology-label")]
    TopologyLabel,
    #[serde(rename = "environment-variable")]
    EnvironmentVariable,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KafkaStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Where clients connect, per listener.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listeners: Option<Vec<ListenerStatus>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kafka_node_pools: Option<Vec<UsedNodePoolStatus>>,
    /// Node IDs currently registered with the cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registered_node_ids: Option<Vec<i32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kafka_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kafka_metadata_version: Option<String>,
    /// Version of the operator that last reconciled the cluster successfully.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator_last_successful_version: Option<String>,
    /// Where `spec.cruiseControl.autoRebalance` stands.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_rebalance: Option<AutoRebalanceStatus>,
    /// How the KRaft controllers agree on who votes, and who does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller_quorum: Option<ControllerQuorumStatus>,
}

/// The KRaft controller quorum (a Brokerage addition to Strimzi's status).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ControllerQuorumStatus {
    pub mode: QuorumMode,
    /// The voters' node IDs as Kafka last reported them; absent until a dynamic quorum formed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voters: Option<Vec<i32>>,
}

/// `Static`: the voters are fixed in every node's configuration (`controller.quorum.voters`),
/// as on clusters made before Kafka 4.1. `Dynamic` (KIP-853): the voters live in the metadata
/// log, so controllers are added and removed while the cluster runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum QuorumMode {
    #[default]
    Static,
    Dynamic,
}

/// Strimzi's `status.autoRebalance`: whether partitions are being moved after a scaling, and
/// onto or off which brokers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AutoRebalanceStatus {
    pub state: AutoRebalanceState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modes: Option<Vec<AutoRebalanceModeBrokers>>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AutoRebalanceState {
    #[default]
    Idle,
    RebalanceOnScaleUp,
    RebalanceOnScaleDown,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AutoRebalanceModeBrokers {
    /// `add-brokers` or `remove-brokers`.
    pub mode: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brokers: Option<Vec<i32>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListenerStatus {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addresses: Option<Vec<ListenerAddress>>,
    /// Comma-separated `host:port` pairs, ready for `bootstrap.servers`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap_servers: Option<String>,
    /// PEM certificates that verify the listener's server certificate (TLS listeners only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificates: Option<Vec<String>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ListenerAddress {
    pub host: String,
    pub port: i32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UsedNodePoolStatus {
    pub name: String,
}
