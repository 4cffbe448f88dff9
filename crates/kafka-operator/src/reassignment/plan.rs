//! The plan: one reassignment per partition that changes, and why a goal cannot be met.

use std::collections::BTreeSet;

use super::layout::Layout;
use super::{Assignment, Goal, balance, drain, replication_factor};

/// One partition's reassignment. Kafka applies `to` as one step: it adds the new replicas, waits
/// until they are in sync, then removes the old ones, so the partition never has fewer in-sync
/// replicas than before while it moves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Move {
    pub topic: String,
    pub partition: i32,
    pub from: Vec<i32>,
    /// The first is the preferred leader.
    pub to: Vec<i32>,
}

impl Move {
    /// How many replicas are copied to a broker that did not hold one: 0 when only the order,
    /// and with it the preferred leader, changes.
    pub fn replicas_moved(&self) -> usize {
        self.to.iter().filter(|id| !self.from.contains(id)).count()
    }
}

/// The moves that reach a goal, by topic and partition.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub moves: Vec<Move>,
}

impl Plan {
    pub fn replicas_moved(&self) -> usize {
        self.moves.iter().map(Move::replicas_moved).sum()
    }

    /// The moves in batches of at most `max_partitions_in_flight` partitions (at least one), to
    /// be carried out one batch at a time under a replication throttle.
    pub fn batches(&self, max_partitions_in_flight: usize) -> impl Iterator<Item = &[Move]> {
        self.moves.chunks(max_partitions_in_flight.max(1))
    }
}

/// Why a goal cannot be met.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("topic {0} does not exist")]
    UnknownTopic(String),
    #[error(
        "topic {topic} cannot have {replicas} replicas: there are only {brokers} brokers to \
         hold them"
    )]
    TooFewBrokers {
        topic: String,
        replicas: usize,
        brokers: usize,
    },
    #[error(
        "topic {topic} cannot have {replicas} replicas: it needs at least one, and at least its \
         min.insync.replicas ({min_insync_replicas}) to take writes"
    )]
    BelowMinInsyncReplicas {
        topic: String,
        replicas: usize,
        min_insync_replicas: usize,
    },
    #[error(
        "cannot move every replica off brokers {drained:?}: {remaining} brokers would be left, \
         fewer than the {replicas} replicas of topic {topic}"
    )]
    DrainLeavesTooFew {
        drained: BTreeSet<i32>,
        topic: String,
        replicas: usize,
        remaining: usize,
    },
    #[error("cannot balance onto brokers {0:?}: none of them is a broker of the cluster")]
    NoBrokersToBalanceOnto(BTreeSet<i32>),
}

/// The moves that take `assignment` to `goal`, moving as few replicas as the goal needs.
pub fn plan(assignment: &Assignment, goal: &Goal) -> Result<Plan, PlanError> {
    let mut layout = Layout::new(assignment);
    match goal {
        Goal::ReplicationFactor { topic, replicas } => {
            replication_factor::change(&mut layout, assignment, topic, *replicas)?
        }
        Goal::Drain { brokers } => drain::drain(&mut layout, brokers)?,
        Goal::Balance { only_onto } => balance::balance(&mut layout, only_onto.as_ref())?,
    }
    Ok(layout.into_plan())
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::time::{Duration, Instant};

    use super::super::Topic;
    use super::super::testing::{
        Rng, Shape, apply, assignment, brokers, crowded_partitions, generate, leader_counts,
        replica_counts,
    };
    use super::*;

    const SEEDS: u64 = 300;

    /// How far apart the most and the least are.
    fn range(counts: &BTreeMap<i32, usize>) -> usize {
        let most = counts.values().max().copied().unwrap_or(0);
        let least = counts.values().min().copied().unwrap_or(0);
        most - least
    }

    /// The fewest replicas any plan moves to bring every count within one of the mean: the
    /// busiest brokers keep one above it.
    fn fewest_moves(counts: &BTreeMap<i32, usize>) -> usize {
        let mut counts: Vec<usize> = counts.values().copied().collect();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        let total: usize = counts.iter().sum();
        let (mean, above) = (total / counts.len(), total % counts.len());
        let target = |rank: usize| mean + usize::from(rank < above);
        let excess = counts.iter().enumerate();
        excess
            .map(|(rank, count)| count.saturating_sub(target(rank)))
            .sum()
    }

    /// A broker of `takers` holding at least two fewer replicas than a broker of its rack (any
    /// broker, with no racks), with their counts. A replica can always move within its rack, as
    /// the partition uses that rack already.
    fn uneven_peers(
        assignment: &Assignment,
        takers: &BTreeSet<i32>,
    ) -> Option<(i32, usize, i32, usize)> {
        let counts = replica_counts(assignment);
        let rack = |id: i32| {
            let broker = assignment.brokers.iter().find(|broker| broker.id == id);
            broker.and_then(|broker| broker.rack.clone())
        };
        takers.iter().find_map(|taker| {
            let peers = counts.iter().filter(|(id, _)| rack(**id) == rack(*taker));
            let (busiest, most) = peers.max_by_key(|(_, count)| **count)?;
            (*most > counts[taker] + 1).then_some((*busiest, *most, *taker, counts[taker]))
        })
    }

    #[test]
    fn batches_hold_at_most_the_partitions_in_flight() {
        let cluster = assignment(brokers(&["", ""]), &[("orders", 1, &[&[0][..]; 5])]);
        let plan = plan(
            &cluster,
            &Goal::Drain {
                brokers: [0].into(),
            },
        )
        .unwrap();
        let sizes: Vec<usize> = plan.batches(2).map(<[Move]>::len).collect();
        assert_eq!(sizes, [2, 2, 1]);
        assert_eq!(
            plan.batches(0).count(),
            5,
            "one partition at a time at least"
        );
        assert_eq!(Plan::default().batches(3).count(), 0);
    }

    #[test]
    fn generated_topics_get_the_replication_factor_asked_for() {
        for seed in 0..SEEDS {
            let mut rng = Rng::new(seed);
            let shape = Shape::small(&mut rng);
            let cluster = generate(&mut rng, &shape);
            let names: Vec<&String> = cluster.topics.keys().collect();
            let name = names[rng.below(names.len())];
            let topic = &cluster.topics[name];
            let replicas = rng.pick(topic.min_insync_replicas..=cluster.brokers.len());
            let goal = Goal::ReplicationFactor {
                topic: name.clone(),
                replicas,
            };
            let plan = plan(&cluster, &goal).unwrap();
            assert_eq!(
                Ok(&plan),
                super::plan(&cluster, &goal).as_ref(),
                "seed {seed}"
            );
            let after = apply(&cluster, &plan);
            let mut added = 0;
            for (number, partition) in &after.topics[name].partitions {
                let before = &topic.partitions[number].replicas;
                let distinct: BTreeSet<&i32> = partition.replicas.iter().collect();
                assert_eq!(distinct.len(), replicas, "seed {seed}: {number}");
                // Apart from a new preferred leader, staying replicas keep their order.
                let leader = partition.replicas[0];
                let stayed = |of: &Vec<i32>, in_: &Vec<i32>| {
                    let of = of.iter().filter(|id| in_.contains(id) && **id != leader);
                    of.copied().collect::<Vec<_>>()
                };
                let order = stayed(&partition.replicas, before);
                assert_eq!(stayed(before, &partition.replicas), order, "seed {seed}");
                added += replicas.saturating_sub(before.len());
            }
            assert_eq!(plan.replicas_moved(), added, "seed {seed}");
            assert!(plan.moves.iter().all(|step| &step.topic == name));
            assert_eq!(crowded_partitions(&after), 0, "seed {seed}");
        }
    }

    #[test]
    fn generated_drains_move_exactly_the_drained_replicas() {
        let mut refused = 0;
        for seed in 0..SEEDS {
            let mut rng = Rng::new(seed);
            let shape = Shape::small(&mut rng);
            let cluster = generate(&mut rng, &shape);
            let brokers = cluster.brokers.len();
            let drained: BTreeSet<i32> = (0..rng.pick(1..=2.min(brokers)))
                .map(|_| rng.below(brokers) as i32)
                .collect();
            let goal = Goal::Drain {
                brokers: drained.clone(),
            };
            let before = replica_counts(&cluster);
            let remaining = brokers - drained.len();
            let needs = cluster
                .topics
                .values()
                .flat_map(|topic| topic.partitions.values())
                .filter(|partition| partition.replicas.iter().any(|id| drained.contains(id)))
                .map(|partition| partition.replicas.len())
                .max()
                .unwrap_or(0);
            if needs > remaining {
                let error = plan(&cluster, &goal).unwrap_err();
                assert!(
                    matches!(error, PlanError::DrainLeavesTooFew { replicas, .. } if replicas > remaining),
                    "seed {seed}: {error}"
                );
                refused += 1;
                continue;
            }
            let plan = plan(&cluster, &goal).unwrap();
            let after = apply(&cluster, &plan);
            let held: usize = drained.iter().map(|id| before[id]).sum();
            assert_eq!(plan.replicas_moved(), held, "seed {seed}");
            let counts = replica_counts(&after);
            assert!(drained.iter().all(|id| counts[id] == 0), "seed {seed}");
            for step in &plan.moves {
                assert!(step.from.iter().any(|id| drained.contains(id)));
                assert_eq!(step.from.len(), step.to.len());
            }
            let mut left = after.clone();
            left.brokers.retain(|broker| !drained.contains(&broker.id));
            assert_eq!(crowded_partitions(&left), 0, "seed {seed}");
        }
        assert!(refused > 0 && refused < SEEDS / 2, "{refused} refused");
    }

    #[test]
    fn generated_balances_even_out_moving_no_more_than_needed() {
        for seed in 0..SEEDS {
            let mut rng = Rng::new(seed);
            let shape = Shape::small(&mut rng);
            let cluster = generate(&mut rng, &shape);
            let balance = Goal::Balance { only_onto: None };
            let plan = plan(&cluster, &balance).unwrap();
            let after = apply(&cluster, &plan);
            let counts = replica_counts(&after);
            let brokers: BTreeSet<i32> = counts.keys().copied().collect();
            assert_eq!(uneven_peers(&after, &brokers), None, "seed {seed}");
            let fewest = fewest_moves(&replica_counts(&cluster));
            if shape.racks == 0 {
                assert!(range(&counts) <= 1, "seed {seed}: {counts:?}");
                assert_eq!(plan.replicas_moved(), fewest, "seed {seed}");
            } else {
                // Racks can forbid a move the counts alone would make, and so force others.
                assert!(range(&counts) <= 2, "seed {seed}: {counts:?}");
            }
            // A partition with one replica cannot hand its leadership to another broker.
            let replicated =
                |topic: &Topic| topic.partitions.values().all(|p| p.replicas.len() > 1);
            if cluster.topics.values().all(replicated) {
                let leaders = leader_counts(&after);
                assert!(range(&leaders) <= 1, "seed {seed}: {leaders:?}");
            }
            assert_eq!(crowded_partitions(&after), 0, "seed {seed}");
            let again = super::plan(&after, &balance).unwrap();
            assert_eq!(again.moves, [], "seed {seed}: balanced already");
        }
    }

    #[test]
    fn generated_balances_onto_new_brokers_move_onto_them_alone() {
        for seed in 0..SEEDS {
            let mut rng = Rng::new(seed);
            let shape = Shape::small(&mut rng);
            let cluster = generate(&mut rng, &shape);
            let new: BTreeSet<i32> = (shape.old_brokers..shape.old_brokers + shape.new_brokers)
                .map(|id| id as i32)
                .collect();
            let goal = Goal::Balance {
                only_onto: Some(new.clone()),
            };
            let Ok(plan) = plan(&cluster, &goal) else {
                assert!(new.is_empty(), "seed {seed}");
                continue;
            };
            for step in &plan.moves {
                let gained = step.to.iter().filter(|id| !step.from.contains(id));
                assert!(gained.copied().all(|id| new.contains(&id)), "seed {seed}");
            }
            let after = apply(&cluster, &plan);
            assert_eq!(uneven_peers(&after, &new), None, "seed {seed}");
        }
    }

    #[test]
    fn a_large_balance_is_planned_quickly() {
        let shape = Shape {
            racks: 3,
            old_brokers: 9,
            new_brokers: 3,
            topics: 25,
            partitions: 200..=200,
            replicas: 3..=3,
        };
        let cluster = generate(&mut Rng::new(1), &shape);
        let started = Instant::now();
        let plan = plan(&cluster, &Goal::Balance { only_onto: None }).unwrap();
        let took = started.elapsed();
        let counts = replica_counts(&apply(&cluster, &plan));
        assert!(range(&counts) <= 1, "{counts:?}");
        assert!(
            took < Duration::from_secs(2),
            "5,000 partitions took {took:?}"
        );
    }
}
