//! Partition reassignment planning: which replicas move where so that a topic gets the
//! replication factor asked for, brokers about to be removed hold nothing, or replicas and
//! preferred leaders are spread evenly. Pure: plain data in, a [`Plan`] out; a later step carries
//! the plan out, batch by batch, through Kafka's AlterPartitionReassignments.

mod balance;
mod drain;
mod layout;
mod plan;
mod replication_factor;
#[cfg(test)]
mod testing;

use std::collections::{BTreeMap, BTreeSet};

pub use plan::{Move, Plan, PlanError, plan};

/// A broker replicas can be placed on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broker {
    pub id: i32,
    /// `broker.rack`; a broker without one shares a rack with no other.
    pub rack: Option<String>,
}

/// One partition as Kafka describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Partition {
    /// The replicas in order: the first is the preferred leader.
    pub replicas: Vec<i32>,
    /// The in-sync replicas.
    pub isr: BTreeSet<i32>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Topic {
    /// `min.insync.replicas`: no partition is planned with fewer replicas than this.
    pub min_insync_replicas: usize,
    /// By partition number.
    pub partitions: BTreeMap<i32, Partition>,
}

/// The cluster's brokers and where every replica is now. Replicas on brokers that are not
/// listed count as on full brokers: nothing is placed there, and they are the first given up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Assignment {
    pub brokers: Vec<Broker>,
    /// By topic name.
    pub topics: BTreeMap<String, Topic>,
}

/// What a plan achieves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Goal {
    /// Every partition of `topic` gets `replicas` replicas.
    ReplicationFactor { topic: String, replicas: usize },
    /// No replica stays on these brokers (they are about to be removed); the others take them
    /// over, least loaded first.
    Drain { brokers: BTreeSet<i32> },
    /// Replicas, then preferred leaders, spread evenly over the brokers. With `only_onto` (new
    /// brokers) nothing moves onto any other broker, so existing brokers only give load away.
    Balance { only_onto: Option<BTreeSet<i32>> },
}
