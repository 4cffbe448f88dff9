//! The proposal a KafkaRebalance shows before it is approved, in the keys of Strimzi's
//! `optimizationResult` that have a meaning without Cruise Control, plus the replicas each
//! broker holds before and after. Pure.
//!
//! The balancedness score is ours, not Cruise Control's: 100 × (1 − (most − fewest) / most)
//! replicas per broker, over the brokers meant to hold replicas (all of them but those being
//! emptied); 100 when every such broker holds as many, or none holds any.

use std::collections::{BTreeMap, BTreeSet};

use api::FreeFormObject;
use kafka_client::LogDir;
use serde_json::{Value, json};

use crate::reassignment::{Assignment, Goal, Plan};

/// The bytes of each partition, by topic and partition number.
pub type Sizes = BTreeMap<(String, i32), i64>;

/// Each partition's size from the log directories of every broker: the largest replica, which
/// is the leader's or one as complete, and so what a new replica copies.
pub fn partition_sizes<'a>(dirs: impl IntoIterator<Item = &'a LogDir>) -> Sizes {
    let mut sizes = Sizes::new();
    let current = (dirs.into_iter())
        .filter(|dir| dir.error.is_none())
        .flat_map(|dir| &dir.partitions)
        .filter(|replica| !replica.is_future);
    for replica in current {
        let size = sizes
            .entry((replica.topic.clone(), replica.partition))
            .or_default();
        *size = (*size).max(replica.size);
    }
    sizes
}

/// The replicas each broker holds: every broker of the cluster, and any other a replica names.
pub fn replicas_per_broker(assignment: &Assignment) -> BTreeMap<i32, usize> {
    let mut counts: BTreeMap<i32, usize> = assignment.brokers.iter().map(|b| (b.id, 0)).collect();
    let partitions = assignment
        .topics
        .values()
        .flat_map(|t| t.partitions.values());
    for broker in partitions.flat_map(|p| &p.replicas) {
        *counts.entry(*broker).or_default() += 1;
    }
    counts
}

/// The counts once `plan` is carried out.
fn after(before: &BTreeMap<i32, usize>, plan: &Plan) -> BTreeMap<i32, usize> {
    let mut counts = before.clone();
    for step in &plan.moves {
        for broker in &step.from {
            let count = counts.entry(*broker).or_default();
            *count = count.saturating_sub(1);
        }
        for broker in &step.to {
            *counts.entry(*broker).or_default() += 1;
        }
    }
    counts
}

/// The score described above, to two decimals.
pub fn balancedness(counts: &BTreeMap<i32, usize>, brokers: &BTreeSet<i32>) -> f64 {
    let held = brokers
        .iter()
        .map(|id| counts.get(id).copied().unwrap_or(0));
    let (most, fewest) = held.fold((0, usize::MAX), |(most, fewest), count| {
        (most.max(count), fewest.min(count))
    });
    if most == 0 {
        return 100.0;
    }
    let score = 100.0 * (1.0 - (most - fewest) as f64 / most as f64);
    (score * 100.0).round() / 100.0
}

/// The brokers no replica moves onto (first) and the brokers that are to lead no partition
/// (second), by the goal.
fn excluded(assignment: &Assignment, goal: &Goal) -> (BTreeSet<i32>, BTreeSet<i32>) {
    match goal {
        Goal::Drain { brokers } => (brokers.clone(), brokers.clone()),
        Goal::Balance {
            only_onto: Some(onto),
        } => {
            let others = assignment.brokers.iter().map(|b| b.id);
            (others.filter(|id| !onto.contains(id)).collect(), [].into())
        }
        Goal::Balance { only_onto: None } | Goal::ReplicationFactor { .. } => {
            ([].into(), [].into())
        }
    }
}

/// Strimzi's `optimizationResult` for `plan`, made from `assignment` toward `goal`.
pub fn summary(assignment: &Assignment, goal: &Goal, plan: &Plan, sizes: &Sizes) -> FreeFormObject {
    const MB: i64 = 1024 * 1024;
    let leader_moves = (plan.moves.iter())
        .filter(|step| step.from.first() != step.to.first())
        .count();
    let bytes: i64 = (plan.moves.iter())
        .map(|step| {
            let size = sizes.get(&(step.topic.clone(), step.partition));
            step.replicas_moved() as i64 * size.copied().unwrap_or(0)
        })
        .sum();
    let before = replicas_per_broker(assignment);
    let after = after(&before, plan);
    let (no_replicas, no_leaders) = excluded(assignment, goal);
    let kept = match goal {
        Goal::Drain { brokers } => brokers.clone(),
        _ => BTreeSet::new(),
    };
    let holding: BTreeSet<i32> = (assignment.brokers.iter())
        .map(|b| b.id)
        .filter(|id| !kept.contains(id))
        .collect();
    let by_broker = |counts: &BTreeMap<i32, usize>| -> Value {
        let counts = counts.iter().map(|(id, n)| (id.to_string(), json!(n)));
        Value::Object(counts.collect())
    };
    [
        ("numReplicaMovements", json!(plan.replicas_moved())),
        ("numLeaderMovements", json!(leader_moves)),
        // Rounded up: a move of a few bytes is not nothing.
        ("dataToMoveMB", json!((bytes + MB - 1) / MB)),
        ("numIntraBrokerReplicaMovements", json!(0)),
        ("intraBrokerDataToMoveMB", json!(0)),
        ("excludedTopics", json!([])),
        ("excludedBrokersForReplicaMove", json!(no_replicas)),
        ("excludedBrokersForLeadership", json!(no_leaders)),
        (
            "onDemandBalancednessScoreBefore",
            json!(balancedness(&before, &holding)),
        ),
        (
            "onDemandBalancednessScoreAfter",
            json!(balancedness(&after, &holding)),
        ),
        ("replicasPerBrokerBefore", by_broker(&before)),
        ("replicasPerBrokerAfter", by_broker(&after)),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_string(), value))
    .collect()
}

#[cfg(test)]
mod tests {
    use kafka_client::LogDirPartition;

    use super::*;
    use crate::reassignment::{Broker, Move, Partition, Topic, plan};

    /// Brokers 0, 1 and 2; topic `t` with a partition per replica list.
    fn cluster(partitions: &[&[i32]]) -> Assignment {
        let partitions = (partitions.iter().enumerate())
            .map(|(number, replicas)| {
                let partition = Partition {
                    replicas: replicas.to_vec(),
                    isr: replicas.iter().copied().collect(),
                };
                (number as i32, partition)
            })
            .collect();
        Assignment {
            brokers: (0..3).map(|id| Broker { id, rack: None }).collect(),
            topics: [(
                "t".to_string(),
                Topic {
                    min_insync_replicas: 1,
                    partitions,
                },
            )]
            .into(),
        }
    }

    fn replica(partition: i32, size: i64, is_future: bool) -> LogDirPartition {
        LogDirPartition {
            topic: "t".into(),
            partition,
            size,
            offset_lag: 0,
            is_future,
        }
    }

    #[test]
    fn a_partition_is_as_large_as_its_largest_current_replica() {
        let dir = |partitions| LogDir {
            path: "/data".into(),
            error: None,
            total_bytes: None,
            usable_bytes: None,
            partitions,
        };
        let leader = dir(vec![replica(0, 300, false), replica(1, 10, false)]);
        let follower = dir(vec![replica(0, 200, false), replica(1, 900, true)]);
        let sizes = partition_sizes([&leader, &follower]);
        assert_eq!(sizes[&("t".to_string(), 0)], 300);
        assert_eq!(
            sizes[&("t".to_string(), 1)],
            10,
            "a future replica is not one yet"
        );
    }

    #[test]
    fn balancedness_is_100_when_even_and_falls_with_the_spread() {
        let brokers: BTreeSet<i32> = [0, 1, 2].into();
        let counts = |held: [usize; 3]| (0..3).zip(held).collect::<BTreeMap<i32, usize>>();
        assert_eq!(balancedness(&counts([4, 4, 4]), &brokers), 100.0);
        assert_eq!(balancedness(&counts([0, 0, 0]), &brokers), 100.0);
        assert_eq!(balancedness(&counts([6, 6, 0]), &brokers), 0.0);
        assert_eq!(balancedness(&counts([3, 4, 2]), &brokers), 50.0);
        assert_eq!(balancedness(&counts([6, 6, 0]), &[0, 1].into()), 100.0);
    }

    #[test]
    fn a_full_rebalance_counts_replicas_leaders_and_data() {
        let skewed = cluster(&[&[0, 1], &[1, 0], &[0, 1]]);
        let goal = Goal::Balance { only_onto: None };
        let plan = plan(&skewed, &goal).unwrap();
        let sizes: Sizes = (0..3)
            .map(|p| (("t".to_string(), p), 3 * 1024 * 1024))
            .collect();
        let result = summary(&skewed, &goal, &plan, &sizes);
        let moved = plan.replicas_moved();
        assert_eq!(moved, 2, "{plan:?}");
        assert_eq!(result["numReplicaMovements"], json!(moved));
        assert_eq!(result["dataToMoveMB"], json!(3 * moved));
        assert_eq!(result["numIntraBrokerReplicaMovements"], json!(0));
        assert_eq!(result["excludedTopics"], json!([]));
        assert_eq!(result["excludedBrokersForReplicaMove"], json!([]));
        assert_eq!(
            result["replicasPerBrokerBefore"],
            json!({"0": 3, "1": 3, "2": 0})
        );
        assert_eq!(
            result["replicasPerBrokerAfter"],
            json!({"0": 2, "1": 2, "2": 2})
        );
        assert_eq!(result["onDemandBalancednessScoreBefore"], json!(0.0));
        assert_eq!(result["onDemandBalancednessScoreAfter"], json!(100.0));
    }

    #[test]
    fn leader_movements_are_moves_that_change_the_first_replica() {
        let skewed = cluster(&[&[0, 1], &[0, 1]]);
        let plan = Plan {
            moves: vec![
                Move {
                    topic: "t".into(),
                    partition: 0,
                    from: vec![0, 1],
                    to: vec![1, 0],
                },
                Move {
                    topic: "t".into(),
                    partition: 1,
                    from: vec![0, 1],
                    to: vec![0, 2],
                },
            ],
        };
        let goal = Goal::Balance { only_onto: None };
        let result = summary(&skewed, &goal, &plan, &Sizes::new());
        assert_eq!(result["numLeaderMovements"], json!(1));
        assert_eq!(result["numReplicaMovements"], json!(1));
        assert_eq!(result["dataToMoveMB"], json!(0), "no sizes known");
    }

    #[test]
    fn removing_a_broker_excludes_it_and_scores_the_others() {
        let held = cluster(&[&[0, 2], &[1, 2], &[2, 0]]);
        let goal = Goal::Drain {
            brokers: [2].into(),
        };
        let plan = plan(&held, &goal).unwrap();
        let result = summary(&held, &goal, &plan, &Sizes::new());
        assert_eq!(result["excludedBrokersForReplicaMove"], json!([2]));
        assert_eq!(result["excludedBrokersForLeadership"], json!([2]));
        assert_eq!(result["replicasPerBrokerAfter"]["2"], json!(0));
        assert_eq!(result["onDemandBalancednessScoreAfter"], json!(100.0));
        let adding = Goal::Balance {
            only_onto: Some([2].into()),
        };
        let result = summary(&held, &adding, &Plan::default(), &Sizes::new());
        assert_eq!(result["excludedBrokersForReplicaMove"], json!([0, 1]));
    }
}
