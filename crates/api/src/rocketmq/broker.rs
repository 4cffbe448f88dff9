use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::PodSettings;
use crate::Condition;

/// A RocketMQ broker cluster, as apache/rocketmq-operator's `Broker`: `size` broker groups, each a
/// master and `replicaPerGroup` replicas.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "rocketmq.apache.org",
    version = "v1alpha1",
    kind = "Broker",
    plural = "brokers",
    namespaced,
    status = "BrokerStatus",
    derive = "PartialEq",
    shortname = "rmqbroker",
    doc = "A RocketMQ broker cluster of master/replica broker groups."
)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{
    "rule": "self.size * ((has(self.replicaPerGroup) ? self.replicaPerGroup : 0) + 1) <= 1000",
    "message": "size times (replicaPerGroup + 1) brokers must be at most 1000",
    "fieldPath": ".size",
}]))]
pub struct BrokerSpec {
    /// Number of broker groups, at most 1000; groups times (`replicaPerGroup` + 1) is at most
    /// 1000 pods.
    #[schemars(range(min = 0, max = crate::MAX_REPLICAS))]
    pub size: i32,
    /// `;`-separated `host:port` name servers; when empty, those of the NameService in the namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_servers: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_mode: Option<ClusterMode>,
    /// How masters replicate to their replicas; defaults to `ASYNC`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replication_mode: Option<ReplicationMode>,
    /// Replicas of each group's master.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = crate::MAX_REPLICAS))]
    pub replica_per_group: Option<i32>,
    /// Container image; defaults to the operator's RocketMQ image.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^\S+$"))]
    pub broker_image: Option<String>,
    /// Whether the operator may restart brokers to apply changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_restart: Option<bool>,
    /// Pod whose topic and subscription metadata new broker groups copy when scaling out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_pod_name: Option<String>,
    #[serde(flatten)]
    pub pod: PodSettings,
}

/// How broker roles are assigned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ClusterMode {
    /// Fixed master and replica roles.
    #[default]
    Static,
    /// Roles elected by the controllers of the namespace's `Controller` (RocketMQ 5.0 and later).
    Controller,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReplicationMode {
    #[default]
    Async,
    Sync,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BrokerStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Names of the broker pods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodes: Option<Vec<String>>,
    /// Number of broker groups running.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<i32>,
    /// In controller mode, each group as the controllers elected it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<BrokerGroupStatus>>,
}

/// A broker group in controller mode, as its controllers see it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BrokerGroupStatus {
    pub broker_name: String,
    /// The pod of the elected master; none while the group has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master: Option<String>,
    /// The pods whose brokers are in sync with the master (the master among them): those a new
    /// master may be elected from.
    #[serde(default)]
    pub in_sync_replicas: Vec<String>,
}
