use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Affinity, EnvVar, LocalObjectReference, PersistentVolumeClaim, PodSecurityContext,
    ResourceRequirements, SecurityContext, Toleration, Volume,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Pod and storage settings that NameService and Broker share, with apache/rocketmq-operator's field names.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PodSettings {
    /// `Always`, `IfNotPresent` or `Never`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["Always", "IfNotPresent", "Never"]))]
    pub image_pull_policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_pull_secrets: Option<Vec<LocalObjectReference>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_network: Option<bool>,
    /// Pod DNS policy: `ClusterFirst`, `ClusterFirstWithHostNet` (the usual choice with
    /// `hostNetwork`), `Default` or `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"]))]
    pub dns_policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    /// Where data is kept; defaults to `EmptyDir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_mode: Option<StorageMode>,
    /// `HostPath` storage: the directory on the node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_path: Option<String>,
    /// `StorageClass` storage: the claims of each pod.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_claim_templates: Option<Vec<PersistentVolumeClaim>>,
    /// Extra environment of the container, such as `JAVA_OPT_EXT`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<EnvVar>>,
    /// Extra pod volumes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volumes: Option<Vec<Volume>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_annotations: Option<BTreeMap<String, String>>,
    /// Pod security context (upstream calls the Go field `PodSecurityContext`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_context: Option<PodSecurityContext>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_security_context: Option<SecurityContext>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tolerations: Option<Vec<Toleration>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum StorageMode {
    /// An `emptyDir`: data is lost with the pod.
    #[default]
    EmptyDir,
    /// A directory on the node, from `hostPath`.
    HostPath,
    /// PersistentVolumeClaims from `volumeClaimTemplates`.
    StorageClass,
    /// Older upstream name of `StorageClass`, accepted so that old manifests apply.
    #[serde(rename = "NFS")]
    Nfs,
}

impl StorageMode {
    /// Whether pods get PersistentVolumeClaims from `volumeClaimTemplates`.
    pub fn uses_volume_claims(self) -> bool {
        matches!(self, Self::StorageClass | Self::Nfs)
    }
}
