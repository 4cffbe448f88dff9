//! Growing or shrinking one topic's replication factor: new replicas go after the others on the
//! least loaded brokers of unused racks; a shrink gives up the replicas the partition needs
//! least.

use super::layout::Layout;
use super::{Assignment, PlanError};

pub(super) fn change(
    layout: &mut Layout,
    assignment: &Assignment,
    topic: &str,
    replicas: usize,
) -> Result<(), PlanError> {
    let Some(described) = assignment.topics.get(topic) else {
        return Err(PlanError::UnknownTopic(topic.to_string()));
    };
    if replicas < described.min_insync_replicas.max(1) {
        return Err(PlanError::BelowMinInsyncReplicas {
            topic: topic.to_string(),
            replicas,
            min_insync_replicas: described.min_insync_replicas,
        });
    }
    let too_few_brokers = |brokers| PlanError::TooFewBrokers {
        topic: topic.to_string(),
        replicas,
        brokers,
    };
    let brokers = layout.brokers().count();
    if replicas > brokers {
        return Err(too_few_brokers(brokers));
    }
    let of_topic: Vec<usize> = (0..layout.partitions.len())
        .filter(|index| layout.partitions[*index].topic == topic)
        .collect();
    for index in of_topic {
        while layout.partitions[index].now.len() < replicas {
            let to = layout
                .destination(index, &[], |_| true)
                .ok_or_else(|| too_few_brokers(brokers))?;
            layout.add(index, to);
        }
        while layout.partitions[index].now.len() > replicas {
            let from = least_needed(layout, index);
            layout.remove(index, from);
        }
    }
    Ok(())
}

/// The replica partition `index` does best without: one whose rack another replica shares (so
/// spreading holds), then one out of sync (so the in-sync ones stay), then a follower (so the
/// leader stays), then the one on the most loaded broker, then the highest id.
fn least_needed(layout: &Layout, index: usize) -> i32 {
    let partition = &layout.partitions[index];
    let (_, broker) = partition
        .now
        .iter()
        .enumerate()
        .max_by_key(|(slot, broker)| {
            (
                layout.shares_rack(index, **broker),
                !partition.isr.contains(broker),
                *slot != 0,
                layout.load(**broker),
                **broker,
            )
        })
        .expect("a partition that shrinks has replicas");
    *broker
}

#[cfg(test)]
mod tests {
    use super::super::testing::{apply, assignment, brokers};
    use super::super::{Goal, Move, PlanError, plan};

    fn replication_factor(topic: &str, replicas: usize) -> Goal {
        Goal::ReplicationFactor {
            topic: topic.into(),
            replicas,
        }
    }

    #[test]
    fn a_grown_partition_gains_the_least_loaded_broker_of_an_unused_rack() {
        // Racks a, b, c; broker 2 (rack c) is busier than broker 5 (rack c too).
        let cluster = assignment(
            brokers(&["a", "b", "c", "a", "b", "c"]),
            &[
                ("orders", 2, &[&[0, 1], &[4, 3]]),
                ("busy", 1, &[&[2], &[2]]),
            ],
        );
        let plan = plan(&cluster, &replication_factor("orders", 3)).unwrap();
        assert_eq!(
            plan.moves,
            [
                Move {
                    topic: "orders".into(),
                    partition: 0,
                    from: vec![0, 1],
                    to: vec![0, 1, 5],
                },
                // Broker 5 holds one replica now, broker 2 still two.
                Move {
                    topic: "orders".into(),
                    partition: 1,
                    from: vec![4, 3],
                    to: vec![4, 3, 5],
                },
            ]
        );
        assert_eq!(plan.replicas_moved(), 2);
    }

    #[test]
    fn a_shrunk_partition_gives_up_a_doubled_rack_then_an_out_of_sync_replica() {
        let mut cluster = assignment(
            brokers(&["a", "a", "b", "c"]),
            &[("orders", 2, &[&[0, 1, 2], &[3, 2, 0]])],
        );
        let lagging = cluster.topics.get_mut("orders").unwrap();
        lagging.partitions.get_mut(&1).unwrap().isr.remove(&2);
        let plan = plan(&cluster, &replication_factor("orders", 2)).unwrap();
        let to: Vec<_> = plan.moves.iter().map(|step| step.to.clone()).collect();
        // Broker 1 shares rack a with the leader 0; broker 2 lags.
        assert_eq!(to, [vec![0, 2], vec![3, 0]]);
        assert_eq!(plan.replicas_moved(), 0);
        let shrunk = apply(&cluster, &plan);
        assert_eq!(plan_of(&shrunk, 2), Ok(0), "already there");
    }

    fn plan_of(cluster: &super::super::Assignment, replicas: usize) -> Result<usize, PlanError> {
        plan(cluster, &replication_factor("orders", replicas)).map(|plan| plan.moves.len())
    }

    #[test]
    fn a_replication_factor_needs_enough_brokers_and_min_insync_replicas() {
        let cluster = assignment(brokers(&["", "", ""]), &[("orders", 2, &[&[0, 1, 2]])]);
        assert_eq!(
            plan_of(&cluster, 4),
            Err(PlanError::TooFewBrokers {
                topic: "orders".into(),
                replicas: 4,
                brokers: 3,
            })
        );
        let below = plan_of(&cluster, 1).unwrap_err();
        assert_eq!(
            below,
            PlanError::BelowMinInsyncReplicas {
                topic: "orders".into(),
                replicas: 1,
                min_insync_replicas: 2,
            }
        );
        assert!(below.to_string().contains("topic orders"), "{below}");
        let unknown = plan(&cluster, &replication_factor("payments", 3));
        assert_eq!(unknown, Err(PlanError::UnknownTopic("payments".into())));
    }
}
