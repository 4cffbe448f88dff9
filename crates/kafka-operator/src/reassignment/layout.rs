//! The assignment as the planner reshapes it: every partition's replicas, with each broker's load
//! and the partitions it hosts kept in step, so that each choice sees the moves made before it.

use std::collections::{BTreeMap, BTreeSet};

use super::{Assignment, Move, Plan};

/// Where a broker stands for rack spreading: a broker without a rack shares one with no other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Rack<'a> {
    Named(&'a str),
    Alone(i32),
}

/// What a broker carries; ordered least loaded first: by replicas, then by leaders.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Load {
    pub replicas: usize,
    pub leaders: usize,
}

impl Load {
    /// What a broker the assignment does not list counts as carrying.
    const FULL: Load = Load {
        replicas: usize::MAX,
        leaders: usize::MAX,
    };
}

/// One partition: where it started and where it is now.
pub(super) struct Replicas<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub before: &'a [i32],
    pub isr: &'a BTreeSet<i32>,
    pub now: Vec<i32>,
}

pub(super) struct Layout<'a> {
    pub partitions: Vec<Replicas<'a>>,
    racks: BTreeMap<i32, Rack<'a>>,
    loads: BTreeMap<i32, Load>,
    /// Indexes into `partitions`, by broker.
    hosted: BTreeMap<i32, BTreeSet<usize>>,
}

impl<'a> Layout<'a> {
    pub fn new(assignment: &'a Assignment) -> Self {
        let racks = assignment
            .brokers
            .iter()
            .map(|broker| {
                let rack = match &broker.rack {
                    Some(rack) => Rack::Named(rack),
                    None => Rack::Alone(broker.id),
                };
                (broker.id, rack)
            })
            .collect();
        let mut layout = Layout {
            partitions: Vec::new(),
            racks,
            loads: assignment
                .brokers
                .iter()
                .map(|broker| (broker.id, Load::default()))
                .collect(),
            hosted: assignment
                .brokers
                .iter()
                .map(|broker| (broker.id, BTreeSet::new()))
                .collect(),
        };
        for (topic, described) in &assignment.topics {
            for (partition, replicas) in &described.partitions {
                let index = layout.partitions.len();
                for (slot, broker) in replicas.replicas.iter().enumerate() {
                    layout.gain(index, *broker, slot == 0);
                }
                layout.partitions.push(Replicas {
                    topic,
                    partition: *partition,
                    before: &replicas.replicas,
                    isr: &replicas.isr,
                    now: replicas.replicas.clone(),
                });
            }
        }
        layout
    }

    /// The listed brokers, by id.
    pub fn brokers(&self) -> impl Iterator<Item = i32> + '_ {
        self.loads.keys().copied()
    }

    pub fn load(&self, broker: i32) -> Load {
        self.loads.get(&broker).copied().unwrap_or(Load::FULL)
    }

    pub fn rack(&self, broker: i32) -> Rack<'a> {
        self.racks
            .get(&broker)
            .copied()
            .unwrap_or(Rack::Alone(broker))
    }

    /// Whether another replica of partition `index` is on `broker`'s rack.
    pub fn shares_rack(&self, index: usize, broker: i32) -> bool {
        let rack = self.rack(broker);
        let replicas = &self.partitions[index].now;
        replicas
            .iter()
            .any(|other| *other != broker && self.rack(*other) == rack)
    }

    /// The partitions with a replica on `broker`.
    pub fn hosted(&self, broker: i32) -> impl Iterator<Item = usize> + '_ {
        self.hosted.get(&broker).into_iter().flatten().copied()
    }

    /// The broker that best takes a replica of partition `index` in place of the `leaving` ones
    /// (none when adding one): one of those `allowed` that does not hold the partition yet, on a
    /// rack no staying replica uses whenever there is such a broker, then the least loaded, then
    /// the lowest id, so that the same assignment always gives the same plan.
    pub fn destination(
        &self,
        index: usize,
        leaving: &[i32],
        allowed: impl Fn(i32) -> bool,
    ) -> Option<i32> {
        let replicas = &self.partitions[index].now;
        let used: BTreeSet<Rack> = replicas
            .iter()
            .filter(|id| !leaving.contains(id))
            .map(|id| self.rack(*id))
            .collect();
        self.loads
            .iter()
            .filter(|(id, _)| allowed(**id) && !replicas.contains(id))
            .min_by_key(|(id, load)| (used.contains(&self.rack(**id)), **load, **id))
            .map(|(id, _)| *id)
    }

    /// Adds a replica on `broker` after the others.
    pub fn add(&mut self, index: usize, broker: i32) {
        let leads = self.partitions[index].now.is_empty();
        self.partitions[index].now.push(broker);
        self.gain(index, broker, leads);
    }

    pub fn remove(&mut self, index: usize, broker: i32) {
        let replicas = &mut self.partitions[index].now;
        let Some(slot) = replicas.iter().position(|id| *id == broker) else {
            return;
        };
        replicas.remove(slot);
        self.lose(index, broker, slot == 0);
        if slot == 0 {
            self.elect(index);
        }
    }

    /// Puts `to` in the place of `from`, so the other replicas keep their order.
    pub fn replace(&mut self, index: usize, from: i32, to: i32) {
        let replicas = &mut self.partitions[index].now;
        let Some(slot) = replicas.iter().position(|id| *id == from) else {
            return;
        };
        replicas[slot] = to;
        self.lose(index, from, slot == 0);
        self.gain(index, to, false);
        if slot == 0 {
            self.elect(index);
        }
    }

    /// Makes the replica on `broker` the preferred leader; the others keep their order.
    pub fn lead(&mut self, index: usize, broker: i32) {
        let replicas = &mut self.partitions[index].now;
        let Some(slot) = replicas.iter().position(|id| *id == broker) else {
            return;
        };
        let leader = replicas[0];
        let new = replicas.remove(slot);
        replicas.insert(0, new);
        self.count_leader(leader, false);
        self.count_leader(broker, true);
    }

    /// The moves from where every partition started to where it is now.
    pub fn into_plan(self) -> Plan {
        let moves = self
            .partitions
            .into_iter()
            .filter(|replicas| replicas.now != replicas.before)
            .map(|replicas| Move {
                topic: replicas.topic.to_string(),
                partition: replicas.partition,
                from: replicas.before.to_vec(),
                to: replicas.now,
            })
            .collect();
        Plan { moves }
    }

    /// After the preferred leader left, the replica leading the fewest partitions leads, the
    /// earlier one of equals: leadership evens out, and the order changes as little as it can.
    fn elect(&mut self, index: usize) {
        let replicas = &self.partitions[index].now;
        let Some(slot) = (0..replicas.len()).min_by_key(|slot| self.load(replicas[*slot]).leaders)
        else {
            return;
        };
        let replicas = &mut self.partitions[index].now;
        let leader = replicas.remove(slot);
        replicas.insert(0, leader);
        self.count_leader(leader, true);
    }

    fn gain(&mut self, index: usize, broker: i32, leads: bool) {
        if let Some(load) = self.loads.get_mut(&broker) {
            load.replicas += 1;
            self.hosted.entry(broker).or_default().insert(index);
        }
        if leads {
            self.count_leader(broker, true);
        }
    }

    fn lose(&mut self, index: usize, broker: i32, led: bool) {
        if let Some(load) = self.loads.get_mut(&broker) {
            load.replicas -= 1;
            self.hosted.entry(broker).or_default().remove(&index);
        }
        if led {
            self.count_leader(broker, false);
        }
    }

    fn count_leader(&mut self, broker: i32, leads: bool) {
        if let Some(load) = self.loads.get_mut(&broker) {
            if leads {
                load.leaders += 1;
            } else {
                load.leaders -= 1;
            }
        }
    }
}
