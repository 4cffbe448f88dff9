use k8s_openapi::api::core::v1::ResourceRequirements;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{JvmOptions, Probe};
use crate::schema::{FreeFormObject, free_form_object};

/// Strimzi's per-cluster topic and user operators. Brokerage runs both inside its one binary, so these
/// sections mostly switch them on; a present `topicOperator` or `userOperator` enables it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntityOperatorSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_operator: Option<EntityTopicOperatorSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_operator: Option<EntityUserOperatorSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub tls_sidecar: Option<FreeFormObject>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub template: Option<FreeFormObject>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntityTopicOperatorSpec {
    /// Namespace whose KafkaTopics are managed; defaults to the Kafka resource's namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watched_namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Period of the full reconciliation.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub reconciliation_interval_ms: Option<i64>,
    /// Deprecated form of `reconciliationIntervalMs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub reconciliation_interval_seconds: Option<i32>,
    /// ZooKeeper-era setting, accepted and ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub zookeeper_session_timeout_seconds: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub topic_metadata_max_attempts: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub startup_probe: Option<Probe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liveness_probe: Option<Probe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<Probe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub logging: Option<FreeFormObject>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jvm_options: Option<JvmOptions>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntityUserOperatorSpec {
    /// Namespace whose KafkaUsers are managed; defaults to the Kafka resource's namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watched_namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Period of the full reconciliation.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub reconciliation_interval_ms: Option<i64>,
    /// Deprecated form of `reconciliationIntervalMs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub reconciliation_interval_seconds: Option<i32>,
    /// ZooKeeper-era setting, accepted and ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub zookeeper_session_timeout_seconds: Option<i32>,
    /// Prefix of the names of the user Secrets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liveness_probe: Option<Probe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<Probe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub logging: Option<FreeFormObject>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jvm_options: Option<JvmOptions>,
}
