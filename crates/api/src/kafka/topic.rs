use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Condition;
use crate::schema::{FreeFormObject, free_form_object};

/// A Kafka topic, as Strimzi's `KafkaTopic`. It belongs to the Kafka named by its `strimzi.io/cluster` label.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "kafka.strimzi.io",
    version = "v1",
    kind = "KafkaTopic",
    plural = "kafkatopics",
    namespaced,
    status = "KafkaTopicStatus",
    derive = "PartialEq",
    shortname = "kt",
    doc = "A Kafka topic: partitions, replication factor and topic configuration."
)]
#[serde(rename_all = "camelCase")]
pub struct KafkaTopicSpec {
    /// Topic name in Kafka, for names that are not valid resource names; defaults to `metadata.name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_name: Option<String>,
    /// Defaults to the broker's `num.partitions`; can grow, never shrink. At most 10000, as many as
    /// Kafka creates in one request.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10000))]
    pub partitions: Option<i32>,
    /// Replication factor; defaults to the broker's `default.replication.factor`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 32767))]
    pub replicas: Option<i32>,
    /// Topic configuration; values may be strings, numbers or booleans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub config: Option<FreeFormObject>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KafkaTopicStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Name of the topic in Kafka.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_name: Option<String>,
    /// Kafka's topic ID; it changes only if the topic is deleted and recreated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas_change: Option<ReplicasChangeStatus>,
}

/// Progress of a replication factor change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplicasChangeStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_replicas: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<ReplicasChangeState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ReplicasChangeState {
    #[serde(rename = "pending")]
    Pending,
    #[serde(rename = "ongoing")]
    Ongoing,
}
