use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Condition;
use crate::schema::{FreeFormObject, free_form_list, free_form_object};

/// A request to move partitions between the brokers of a Kafka, as Strimzi's `KafkaRebalance`.
/// It belongs to the Kafka named by its `strimzi.io/cluster` label. Brokerage plans the moves
/// itself, without Cruise Control: the fields that only tune Cruise Control are accepted and
/// ignored with a warning.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "kafka.strimzi.io",
    version = "v1",
    kind = "KafkaRebalance",
    plural = "kafkarebalances",
    namespaced,
    status = "KafkaRebalanceStatus",
    derive = "PartialEq",
    shortname = "kr",
    doc = "A partition rebalance of a Kafka cluster: proposed, approved, then carried out."
)]
#[serde(rename_all = "camelCase")]
pub struct KafkaRebalanceSpec {
    /// What to balance; `full` when not set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<RebalanceMode>,
    /// The brokers added (`add-brokers`) or to be removed (`remove-brokers`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brokers: Option<Vec<i32>>,
    /// Cruise Control goals; not implemented here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goals: Option<Vec<String>>,
    /// Cruise Control's hard goal check; not implemented here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_hard_goal_check: Option<bool>,
    /// Balancing between the disks of each broker; not implemented here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rebalance_disk: Option<bool>,
    /// A regular expression of topics to leave where they are; not implemented here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excluded_topics: Option<String>,
    /// Not implemented here: Brokerage bounds the partitions moving at once cluster-wide.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub concurrent_partition_movements_per_broker: Option<i32>,
    /// Not implemented here.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub concurrent_intra_broker_partition_movements: Option<i32>,
    /// Not implemented here.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub concurrent_leader_movements: Option<i32>,
    /// Bytes per second; not implemented here: Brokerage throttles every move the same way.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub replication_throttle: Option<i64>,
    /// Cruise Control's ordering of moves; not implemented here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replica_movement_strategies: Option<Vec<String>>,
    /// The volumes to empty in `remove-disks` mode, which is not implemented here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_list")]
    pub move_replicas_off_volumes: Option<Vec<FreeFormObject>>,
}

/// Strimzi's rebalance modes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum RebalanceMode {
    /// Spread replicas and leaders evenly over every broker.
    #[default]
    #[serde(rename = "full")]
    Full,
    /// Move replicas onto the `brokers` just added, and onto no other.
    #[serde(rename = "add-brokers")]
    AddBrokers,
    /// Move every replica off the `brokers`, before they are removed.
    #[serde(rename = "remove-brokers")]
    RemoveBrokers,
    /// Move replicas between the disks of a broker.
    #[serde(rename = "remove-disks")]
    RemoveDisks,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KafkaRebalanceStatus {
    /// The state is the type of the one `True` condition among `PendingProposal`,
    /// `ProposalReady`, `Rebalancing`, `Ready`, `Stopped`, `NotReady` and
    /// `ReconciliationPaused`; a `Warning` may accompany it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Cruise Control's task ID in Strimzi; Brokerage has no such task and leaves it unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The proposal: how many replicas and leaders move, how much data, and the balance before
    /// and after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub optimization_result: Option<FreeFormObject>,
}

impl KafkaRebalanceSpec {
    /// The mode asked for, Strimzi's default when none is.
    pub fn mode(&self) -> RebalanceMode {
        self.mode.unwrap_or_default()
    }
}
