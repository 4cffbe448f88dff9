use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ClusterRef;
use crate::Condition;

/// A RocketMQ topic on every broker group of one Broker cluster.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "rocketmq.apache.org",
    version = "v1alpha1",
    kind = "RocketMQTopic",
    plural = "rocketmqtopics",
    namespaced,
    status = "RocketMQTopicStatus",
    derive = "PartialEq",
    shortname = "rmqt",
    doc = "A RocketMQ topic: queues, permission and message type."
)]
#[serde(rename_all = "camelCase")]
pub struct RocketMQTopicSpec {
    pub cluster_ref: ClusterRef,
    /// Topic name in RocketMQ, for names that are not valid resource names; defaults to `metadata.name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_name: Option<String>,
    /// Read queues per broker group, at most 1024.
    #[serde(default = "default_queue_nums")]
    #[schemars(range(min = 1, max = 1024))]
    pub read_queue_nums: i32,
    /// Write queues per broker group, at most 1024.
    #[serde(default = "default_queue_nums")]
    #[schemars(range(min = 1, max = 1024))]
    pub write_queue_nums: i32,
    /// RocketMQ permission bits: 2 write-only, 4 read-only, 6 read-write.
    #[serde(default = "default_perm")]
    #[schemars(extend("enum" = [2, 4, 6]))]
    pub perm: i32,
    /// Whether the topic is ordered (RocketMQ's `order` flag).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<bool>,
    /// The topic's `message.type` attribute; defaults to `NORMAL`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_type: Option<MessageType>,
}

pub const DEFAULT_QUEUE_NUMS: i32 = 8;
/// Read and write.
pub const DEFAULT_PERM: i32 = 6;

fn default_queue_nums() -> i32 {
    DEFAULT_QUEUE_NUMS
}

fn default_perm() -> i32 {
    DEFAULT_PERM
}

/// RocketMQ 5 topic message types.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MessageType {
    #[default]
    Normal,
    Fifo,
    Delay,
    Transaction,
    Mixed,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RocketMQTopicStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Name of the topic in RocketMQ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_name: Option<String>,
}
