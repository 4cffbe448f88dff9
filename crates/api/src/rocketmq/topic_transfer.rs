use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Condition;

/// Moves a topic from one RocketMQ cluster to another, as apache/rocketmq-operator's
/// `TopicTransfer`.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "rocketmq.apache.org",
    version = "v1alpha1",
    kind = "TopicTransfer",
    plural = "topictransfers",
    namespaced,
    status = "TopicTransferStatus",
    derive = "PartialEq",
    shortname = "rmqtransfer",
    doc = "Moves a topic between two RocketMQ clusters (Brokers) of one namespace's name servers: \
           created on the target, made read-only on the source, deleted from the source once \
           every consumer group has consumed it there."
)]
#[serde(rename_all = "camelCase")]
pub struct TopicTransferSpec {
    /// The topic to move.
    #[schemars(length(min = 1, max = 127))]
    pub topic: String,
    /// The Broker (cluster) the topic leaves.
    #[schemars(length(min = 1))]
    pub source_cluster: String,
    /// The Broker (cluster) the topic moves to.
    #[schemars(length(min = 1))]
    pub target_cluster: String,
    /// A consumer group to carry over even if it has not consumed the topic yet; the groups that
    /// have are found on the source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumer_group: Option<String>,
    /// Upstream's name of the RocketMQ deployment; the Brokers are named directly here.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(rename = "rocketMQName")]
    pub rocketmq_name: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TopicTransferStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `CreatingOnTarget`, `StoppingWrites`, `WaitingForConsumers`, `DeletingFromSource`,
    /// `Done`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// The consumer groups carried over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumer_groups: Option<Vec<String>>,
    /// Messages on the source that a consumer group has not consumed yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unconsumed_messages: Option<u64>,
}
