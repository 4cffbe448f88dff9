use k8s_openapi::api::core::v1::ResourceRequirements;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{JvmOptions, Storage};
use crate::Condition;
use crate::schema::{FreeFormObject, free_form_object};

/// A group of Kafka nodes with the same roles, storage and resources, as Strimzi's `KafkaNodePool`.
/// It joins the Kafka named by its `strimzi.io/cluster` label.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "kafka.strimzi.io",
    version = "v1",
    kind = "KafkaNodePool",
    plural = "kafkanodepools",
    namespaced,
    status = "KafkaNodePoolStatus",
    derive = "PartialEq",
    shortname = "knp",
    doc = "A pool of Kafka nodes sharing roles, storage and resources.",
    scale(
        spec_replicas_path = ".spec.replicas",
        status_replicas_path = ".status.replicas",
        label_selector_path = ".status.labelSelector"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct KafkaNodePoolSpec {
    /// Number of nodes, at most 1000.
    #[schemars(range(min = 0, max = crate::MAX_REPLICAS))]
    pub replicas: i32,
    /// `controller`, `broker` or both.
    #[schemars(length(min = 1))]
    pub roles: Vec<ProcessRole>,
    pub storage: Storage,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jvm_options: Option<JvmOptions>,
    /// Strimzi's pod, PVC and container templates, kept as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub template: Option<FreeFormObject>,
}

/// A KRaft `process.roles` entry.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum ProcessRole {
    #[serde(rename = "controller")]
    Controller,
    #[serde(rename = "broker")]
    Broker,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KafkaNodePoolStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Node IDs assigned to the pool's nodes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_ids: Option<Vec<i32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<ProcessRole>>,
    /// Current number of nodes, for the scale subresource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    /// Selector of the pool's pods, for the scale subresource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<String>,
}

impl KafkaNodePoolSpec {
    pub fn has_role(&self, role: ProcessRole) -> bool {
        self.roles.contains(&role)
    }
}
