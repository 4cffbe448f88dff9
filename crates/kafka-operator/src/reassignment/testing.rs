//! Fixtures shared by the planner's unit tests: assignments by hand or generated from a seed, and
//! a plan applied as Kafka would.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;

use super::{Assignment, Broker, Partition, Plan, Topic};

/// Brokers 0, 1, … on these racks; `""` is no rack.
pub fn brokers(racks: &[&str]) -> Vec<Broker> {
    racks
        .iter()
        .zip(0..)
        .map(|(rack, id)| Broker {
            id,
            rack: (!rack.is_empty()).then(|| rack.to_string()),
        })
        .collect()
}

/// Topics as (name, `min.insync.replicas`, replicas of partitions 0, 1, …), all in sync.
pub fn assignment(brokers: Vec<Broker>, topics: &[(&str, usize, &[&[i32]])]) -> Assignment {
    let topics = topics
        .iter()
        .map(|(name, min_insync_replicas, partitions)| {
            let partitions = partitions
                .iter()
                .zip(0..)
                .map(|(replicas, number)| (number, in_sync(replicas.to_vec())))
                .collect();
            let topic = Topic {
                min_insync_replicas: *min_insync_replicas,
                partitions,
            };
            (name.to_string(), topic)
        })
        .collect();
    Assignment { brokers, topics }
}

fn in_sync(replicas: Vec<i32>) -> Partition {
    Partition {
        isr: replicas.iter().copied().collect(),
        replicas,
    }
}

/// The assignment once Kafka has carried out `plan` and every new replica caught up.
pub fn apply(assignment: &Assignment, plan: &Plan) -> Assignment {
    let mut after = assignment.clone();
    for step in &plan.moves {
        let topic = after.topics.get_mut(&step.topic).expect("a known topic");
        let partition = topic.partitions.get_mut(&step.partition).expect("known");
        assert_eq!(
            partition.replicas, step.from,
            "{}-{}",
            step.topic, step.partition
        );
        *partition = in_sync(step.to.clone());
    }
    after
}

fn partitions(assignment: &Assignment) -> impl Iterator<Item = &Partition> {
    assignment
        .topics
        .values()
        .flat_map(|topic| topic.partitions.values())
}

/// Replicas by broker, every listed broker included.
pub fn replica_counts(assignment: &Assignment) -> BTreeMap<i32, usize> {
    counts(assignment, |partition| partition.replicas.clone())
}

/// Preferred leaderships by broker, every listed broker included.
pub fn leader_counts(assignment: &Assignment) -> BTreeMap<i32, usize> {
    counts(assignment, |partition| partition.replicas[..1].to_vec())
}

fn counts(assignment: &Assignment, held: impl Fn(&Partition) -> Vec<i32>) -> BTreeMap<i32, usize> {
    let mut counts: BTreeMap<i32, usize> = assignment
        .brokers
        .iter()
        .map(|broker| (broker.id, 0))
        .collect();
    for partition in partitions(assignment) {
        for id in held(partition) {
            *counts.entry(id).or_default() += 1;
        }
    }
    counts
}

/// How many partitions have two replicas on one rack while fewer than `replicas` racks exist
/// for them: none, when placement spreads as well as the racks allow.
pub fn crowded_partitions(assignment: &Assignment) -> usize {
    let rack = |id: i32| {
        let broker = assignment.brokers.iter().find(|broker| broker.id == id);
        broker
            .and_then(|broker| broker.rack.clone())
            .unwrap_or(id.to_string())
    };
    let racks: BTreeSet<String> = assignment
        .brokers
        .iter()
        .map(|broker| rack(broker.id))
        .collect();
    partitions(assignment)
        .filter(|partition| {
            let used: BTreeSet<String> = partition.replicas.iter().map(|id| rack(*id)).collect();
            used.len() < partition.replicas.len().min(racks.len())
        })
        .count()
}

/// SplitMix64: a small, seeded, deterministic generator.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// A number in `0..bound`.
    pub fn below(&mut self, bound: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) % bound as u64) as usize
    }

    pub fn pick(&mut self, range: RangeInclusive<usize>) -> usize {
        range.start() + self.below(range.end() - range.start() + 1)
    }
}

/// The shape of a generated cluster.
#[derive(Clone, Debug)]
pub struct Shape {
    /// 0 for brokers without racks.
    pub racks: usize,
    /// Brokers that hold the partitions to begin with, a multiple of `racks`.
    pub old_brokers: usize,
    /// Brokers that hold nothing yet, a multiple of `racks`.
    pub new_brokers: usize,
    pub topics: usize,
    pub partitions: RangeInclusive<usize>,
    pub replicas: RangeInclusive<usize>,
}

impl Shape {
    /// A small cluster: up to three racks, nine old and three new brokers, four topics.
    pub fn small(rng: &mut Rng) -> Shape {
        let racks = [0, 2, 3][rng.below(3)];
        let per_rack = racks.max(1);
        let old_brokers = per_rack * rng.pick(1..=9 / per_rack);
        Shape {
            racks,
            old_brokers,
            new_brokers: per_rack * rng.pick(0..=3 / per_rack),
            topics: rng.pick(1..=4),
            partitions: 1..=40,
            replicas: 1..=old_brokers.min(3),
        }
    }
}

/// A cluster of `shape` whose partitions sit on the old brokers as Kafka places them when a topic
/// is created: replicas on consecutive brokers, racks alternating, from a random first broker.
pub fn generate(rng: &mut Rng, shape: &Shape) -> Assignment {
    let ids = 0..(shape.old_brokers + shape.new_brokers) as i32;
    let brokers = ids
        .map(|id| Broker {
            id,
            rack: (shape.racks > 0).then(|| format!("rack-{}", id as usize % shape.racks)),
        })
        .collect();
    let topics = (0..shape.topics)
        .map(|number| {
            let replicas = rng.pick(shape.replicas.clone());
            let min_insync_replicas = rng.pick(1..=replicas);
            let partitions = (0..rng.pick(shape.partitions.clone()) as i32)
                .map(|partition| {
                    let first = rng.below(shape.old_brokers);
                    let replicas = (first..first + replicas)
                        .map(|id| (id % shape.old_brokers) as i32)
                        .collect();
                    (partition, in_sync(replicas))
                })
                .collect();
            let topic = Topic {
                min_insync_replicas,
                partitions,
            };
            (format!("topic-{number}"), topic)
        })
        .collect();
    Assignment { brokers, topics }
}
