//! Spreading replicas, then preferred leaders, evenly. First every partition with two replicas
//! on one rack moves one to an unused rack where a broker there can take it; then replicas move
//! one at a time from the most loaded broker to the least loaded, only while the two differ by
//! two or more (so no replica moves that evenness does not need) and never onto a rack the
//! partition uses already unless it left one; last, leadership passes along chains of replicas
//! from the brokers leading the most to those leading the fewest, which copies no data.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use super::PlanError;
use super::layout::{Layout, Load};

pub(super) fn balance(
    layout: &mut Layout,
    only_onto: Option<&BTreeSet<i32>>,
) -> Result<(), PlanError> {
    let onto: BTreeSet<i32> = layout
        .brokers()
        .filter(|id| only_onto.is_none_or(|only| only.contains(id)))
        .collect();
    if let (true, Some(only)) = (onto.is_empty(), only_onto) {
        return Err(PlanError::NoBrokersToBalanceOnto(only.clone()));
    }
    for index in 0..layout.partitions.len() {
        while let Some((from, to)) = rack_repair(layout, index, &onto) {
            layout.replace(index, from, to);
        }
    }
    // Giver and taker pairs no partition can move between; one opens up again only through a
    // partition that has just changed.
    let mut blocked = BTreeSet::new();
    while let Some((index, from, to)) = replica_move(layout, &onto, &mut blocked) {
        layout.replace(index, from, to);
        let replicas = &layout.partitions[index].now;
        blocked.retain(|(giver, taker)| {
            !(replicas.contains(giver) && may_move(layout, index, *giver, *taker))
        });
    }
    while let Some(handovers) = leadership_chain(layout, &onto) {
        for (index, to) in handovers {
            layout.lead(index, to);
        }
    }
    Ok(())
}

/// A replica of partition `index` that shares its rack with another, and a broker of an unused
/// rack to take it: a follower before the leader, the most loaded first.
fn rack_repair(layout: &Layout, index: usize, onto: &BTreeSet<i32>) -> Option<(i32, i32)> {
    let replicas = &layout.partitions[index].now;
    let (_, from) = replicas
        .iter()
        .enumerate()
        .filter(|(_, id)| layout.shares_rack(index, **id))
        .max_by_key(|(slot, id)| (*slot != 0, layout.load(**id), **id))?;
    let to = layout.destination(index, &[*from], |id| onto.contains(&id))?;
    let spreads = !replicas
        .iter()
        .any(|id| id != from && layout.rack(*id) == layout.rack(to));
    spreads.then_some((*from, to))
}

/// The next replica to move, as (partition, from, to): from the most loaded broker that can give
/// one to a broker of `onto` holding at least two fewer, to the least loaded such broker; a
/// follower before a leader, so leadership moves as little as it can.
fn replica_move(
    layout: &Layout,
    onto: &BTreeSet<i32>,
    blocked: &mut BTreeSet<(i32, i32)>,
) -> Option<(usize, i32, i32)> {
    let mut givers: Vec<(i32, Load)> = layout.brokers().map(|id| (id, layout.load(id))).collect();
    givers.sort_by_key(|(id, load)| (Reverse(*load), *id));
    let mut takers: Vec<(i32, Load)> = givers
        .iter()
        .copied()
        .filter(|(id, _)| onto.contains(id))
        .collect();
    takers.sort_by_key(|(id, load)| (*load, *id));
    for (from, from_load) in &givers {
        for (to, to_load) in &takers {
            if to_load.replicas + 2 > from_load.replicas {
                break;
            }
            if blocked.contains(&(*from, *to)) {
                continue;
            }
            let movable = |index: &usize| may_move(layout, *index, *from, *to);
            let leads = |index: &usize| layout.partitions[*index].now[0] == *from;
            let follower = layout
                .hosted(*from)
                .filter(|index| !leads(index))
                .find(movable);
            if let Some(index) = follower.or_else(|| layout.hosted(*from).find(movable)) {
                return Some((index, *from, *to));
            }
            blocked.insert((*from, *to));
        }
    }
    None
}

/// Whether a replica of partition `index` may move from `from` to `to` without covering fewer
/// racks: it stays on its rack, goes to a rack the others do not use, or leaves a rack another
/// replica keeps covered.
fn may_move(layout: &Layout, index: usize, from: i32, to: i32) -> bool {
    let replicas = &layout.partitions[index].now;
    if replicas.contains(&to) {
        return false;
    }
    let (from_rack, to_rack) = (layout.rack(from), layout.rack(to));
    let mut others = replicas
        .iter()
        .filter(|id| **id != from)
        .map(|id| layout.rack(*id));
    from_rack == to_rack
        || !others.clone().any(|rack| rack == to_rack)
        || others.any(|rack| rack == from_rack)
}

/// Leadership handovers, as (partition, new leader), that take one leadership from the broker
/// leading the most that can give one away to a broker of `onto` leading at least two fewer:
/// the shortest chain in which each broker hands one of the partitions it leads to another of
/// their replicas, so every broker between the two ends leads as many as before.
fn leadership_chain(layout: &Layout, onto: &BTreeSet<i32>) -> Option<Vec<(usize, i32)>> {
    let fewest = onto.iter().map(|id| layout.load(*id).leaders).min()?;
    let mut givers: Vec<(i32, usize)> = layout
        .brokers()
        .map(|id| (id, layout.load(id).leaders))
        .collect();
    givers.sort_by_key(|(id, leaders)| (Reverse(*leaders), *id));
    givers
        .into_iter()
        .take_while(|(_, leaders)| *leaders >= fewest + 2)
        .find_map(|(giver, leaders)| chain_from(layout, onto, giver, leaders, fewest))
}

/// A breadth-first search from `giver` over "leads a partition another replica of which is on",
/// ending at the level where the first brokers leading few enough are reached, at the one of
/// them leading the fewest; at once at a broker leading the `fewest` of all.
fn chain_from(
    layout: &Layout,
    onto: &BTreeSet<i32>,
    giver: i32,
    leaders: usize,
    fewest: usize,
) -> Option<Vec<(usize, i32)>> {
    // How each broker was reached: the partition its predecessor hands it, and the predecessor.
    let mut reached: BTreeMap<i32, Option<(usize, i32)>> = BTreeMap::from([(giver, None)]);
    let mut level = vec![giver];
    while !level.is_empty() {
        let mut next = Vec::new();
        'level: for from in level {
            for index in layout.hosted(from) {
                let replicas = &layout.partitions[index].now;
                if replicas[0] != from {
                    continue;
                }
                for to in &replicas[1..] {
                    if onto.contains(to) && !reached.contains_key(to) {
                        reached.insert(*to, Some((index, from)));
                        next.push(*to);
                        if layout.load(*to).leaders == fewest {
                            break 'level;
                        }
                    }
                }
            }
        }
        let taker = next
            .iter()
            .map(|id| (layout.load(*id).leaders, *id))
            .filter(|(led, _)| led + 2 <= leaders)
            .min();
        if let Some((_, taker)) = taker {
            let mut chain = Vec::new();
            let mut at = taker;
            while let Some(Some((index, previous))) = reached.get(&at) {
                chain.push((*index, at));
                at = *previous;
            }
            return Some(chain);
        }
        level = next;
    }
    None
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::super::testing::{apply, assignment, brokers, leader_counts, replica_counts};
    use super::super::{Goal, PlanError, plan};

    const BALANCE: Goal = Goal::Balance { only_onto: None };

    #[test]
    fn a_new_broker_takes_its_share_and_nothing_else_moves() {
        // Four partitions of two replicas on brokers 0 and 1; broker 2 is new.
        let cluster = assignment(
            brokers(&["", "", ""]),
            &[("orders", 1, &[&[0, 1], &[1, 0], &[0, 1], &[1, 0]])],
        );
        let plan = plan(&cluster, &BALANCE).unwrap();
        // Eight replicas over three brokers: 3, 3, 2. Broker 2 takes two, a follower each from 0
        // and 1, and then leads one partition.
        assert_eq!(plan.replicas_moved(), 2);
        let balanced = apply(&cluster, &plan);
        let replicas: Vec<usize> = replica_counts(&balanced).into_values().collect();
        assert_eq!(replicas, [3, 3, 2]);
        let leaders: Vec<usize> = leader_counts(&balanced).into_values().collect();
        assert_eq!(leaders, [1, 2, 1]);
        assert_eq!(super::super::plan(&balanced, &BALANCE).unwrap().moves, []);
    }

    #[test]
    fn leadership_evens_out_by_reordering_alone() {
        let cluster = assignment(
            brokers(&["", "", ""]),
            &[(
                "orders",
                1,
                &[&[0, 1], &[0, 2], &[0, 1], &[1, 2], &[0, 2], &[1, 2]],
            )],
        );
        let plan = plan(&cluster, &BALANCE).unwrap();
        assert_eq!(plan.replicas_moved(), 0);
        let to: Vec<_> = plan.moves.iter().map(|step| step.to.clone()).collect();
        // Broker 0 led four of six, broker 2 none: two of the partitions they share change leader.
        assert_eq!(to, [vec![2, 0], vec![2, 0]]);
    }

    #[test]
    fn a_partition_doubled_on_a_rack_moves_to_an_unused_one() {
        let cluster = assignment(
            brokers(&["a", "a", "b", "b"]),
            &[("orders", 1, &[&[0, 1], &[2, 3]])],
        );
        let plan = plan(&cluster, &BALANCE).unwrap();
        let to: Vec<_> = plan.moves.iter().map(|step| step.to.clone()).collect();
        // Broker 3 leads nothing, so it takes orders-0's follower; broker 1, left empty, then
        // takes orders-1's.
        assert_eq!(to, [vec![0, 3], vec![2, 1]]);
    }

    #[test]
    fn only_onto_moves_replicas_onto_those_brokers_alone() {
        // Broker 0 is busy and 1 idle, but only broker 2 may take replicas.
        let cluster = assignment(
            brokers(&["", "", ""]),
            &[("orders", 1, &[&[0], &[0], &[0], &[0], &[0], &[0]])],
        );
        let onto = |ids: &[i32]| Goal::Balance {
            only_onto: Some(ids.iter().copied().collect()),
        };
        let plan = plan(&cluster, &onto(&[2])).unwrap();
        assert!(plan.moves.iter().all(|step| step.to == [2]));
        assert_eq!(plan.replicas_moved(), 3);
        assert_eq!(
            super::super::plan(&cluster, &onto(&[7])),
            Err(PlanError::NoBrokersToBalanceOnto(BTreeSet::from([7])))
        );
    }
}
