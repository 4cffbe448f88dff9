//! Emptying brokers before they are removed: each of their replicas moves, in its place in the
//! replica list, to the least loaded remaining broker of a rack the partition does not use yet.
//! Only the drained replicas move, so spreading only gets worse where the drained brokers take
//! the last broker of a rack with them.

use std::collections::BTreeSet;

use super::PlanError;
use super::layout::Layout;

pub(super) fn drain(layout: &mut Layout, drained: &BTreeSet<i32>) -> Result<(), PlanError> {
    let remaining = layout.brokers().filter(|id| !drained.contains(id)).count();
    let too_few = |index: usize, layout: &Layout| PlanError::DrainLeavesTooFew {
        drained: drained.clone(),
        topic: layout.partitions[index].topic.to_string(),
        replicas: layout.partitions[index].now.len(),
        remaining,
    };
    let held: Vec<usize> = (0..layout.partitions.len())
        .filter(|index| {
            let replicas = &layout.partitions[*index].now;
            replicas.iter().any(|id| drained.contains(id))
        })
        .collect();
    if let Some(index) = held
        .iter()
        .find(|index| layout.partitions[**index].now.len() > remaining)
    {
        return Err(too_few(*index, layout));
    }
    for index in held {
        let leaving: Vec<i32> = layout.partitions[index]
            .now
            .iter()
            .copied()
            .filter(|id| drained.contains(id))
            .collect();
        for from in &leaving {
            let to = layout
                .destination(index, &leaving, |id| !drained.contains(&id))
                .ok_or_else(|| too_few(index, layout))?;
            layout.replace(index, *from, to);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::super::testing::{assignment, brokers};
    use super::super::{Goal, PlanError, plan};

    fn drain(ids: &[i32]) -> Goal {
        Goal::Drain {
            brokers: ids.iter().copied().collect(),
        }
    }

    #[test]
    fn only_the_drained_replicas_move_and_a_lost_leader_goes_to_the_least_led() {
        // Racks a, b, a, b, c; broker 4 (rack c) leaves.
        let cluster = assignment(
            brokers(&["a", "b", "a", "b", "c"]),
            &[
                ("orders", 2, &[&[4, 0, 1], &[0, 4, 3], &[1, 3]]),
                ("payments", 1, &[&[0]]),
            ],
        );
        let plan = plan(&cluster, &drain(&[4])).unwrap();
        let moves: Vec<_> = plan
            .moves
            .iter()
            .map(|step| (step.partition, step.to.clone()))
            .collect();
        // No broker is left on rack c, so any will do for orders-0: 2 holds nothing. Leading
        // nothing, it leads too. orders-1 takes 2 again, still the least loaded, in 4's place.
        assert_eq!(moves, [(0, vec![2, 0, 1]), (1, vec![0, 2, 3])]);
        assert_eq!(plan.replicas_moved(), 2);
    }

    #[test]
    fn a_drain_prefers_a_remaining_broker_on_an_unused_rack() {
        let cluster = assignment(
            brokers(&["a", "b", "c", "c", "b"]),
            &[("orders", 2, &[&[0, 2], &[1, 2]])],
        );
        let plan = plan(&cluster, &drain(&[2])).unwrap();
        let to: Vec<_> = plan.moves.iter().map(|step| step.to.clone()).collect();
        // Broker 4 holds nothing, but shares rack b with broker 1.
        assert_eq!(to, [vec![0, 3], vec![1, 3]]);
    }

    #[test]
    fn a_drain_leaving_fewer_brokers_than_replicas_names_the_topic() {
        let cluster = assignment(
            brokers(&["", "", ""]),
            &[("orders", 1, &[&[0]]), ("payments", 2, &[&[1, 2, 0]])],
        );
        let error = plan(&cluster, &drain(&[0])).unwrap_err();
        assert_eq!(
            error,
            PlanError::DrainLeavesTooFew {
                drained: BTreeSet::from([0]),
                topic: "payments".into(),
                replicas: 3,
                remaining: 2,
            }
        );
        assert!(error.to_string().contains("topic payments"), "{error}");
        assert_eq!(plan(&cluster, &drain(&[5])).unwrap().moves, []);
    }
}
