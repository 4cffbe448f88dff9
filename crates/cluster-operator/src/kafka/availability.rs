//! Whether a node can restart without hurting clients, by Strimzi's rules: never take a
//! partition below `min.insync.replicas`, and restart the active controller last. Pure: the
//! rolling update observes the cluster through the admin client and asks this.

use std::collections::BTreeMap;

use kafka_client::TopicDescription;

/// What the cluster said about itself before a restart.
#[derive(Clone, Debug, PartialEq)]
pub struct Availability {
    /// The node leading the KRaft metadata quorum.
    pub active_controller: Option<i32>,
    pub topics: BTreeMap<String, TopicDescription>,
    /// Each topic's `min.insync.replicas`.
    pub min_in_sync_replicas: BTreeMap<String, usize>,
}

impl Availability {
    /// Why restarting `node` now would make a partition unavailable to `acks=all` producers,
    /// or `None` if it would not.
    pub fn restart_blocker(&self, node: i32) -> Option<String> {
        for (name, topic) in &self.topics {
            let min = self.min_in_sync_replicas.get(name).copied().unwrap_or(1);
            for partition in &topic.partitions {
                // A partition with no more replicas than its minimum loses availability whenever
                // any replica restarts; waiting for it would block the roll forever.
                if partition.replicas.len() <= min || !partition.isr.contains(&node) {
                    continue;
                }
                if partition.isr.len() <= min {
                    return Some(format!(
                        "restarting node {node} would leave partition {name}-{} with fewer than \
                         min.insync.replicas ({min}) in-sync replicas",
                        partition.partition
                    ));
                }
            }
        }
        None
    }

    /// Whether `node` should restart after every other node that needs it.
    pub fn restarts_last(&self, node: i32) -> bool {
        self.active_controller == Some(node)
    }
}

/// What the roll does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RollStep {
    /// Restart the outdated pod at this index.
    Restart(usize),
    /// Restart nothing now; the reason, when there is one worth a condition.
    Wait(Option<String>),
}

/// Which of the `outdated` nodes (`(node ID, pod Ready)`, in roll order) restarts next. A pod
/// that is not Ready serves nothing, so it goes first without checks. Otherwise only while every
/// pod is Ready, and only a node Kafka says can restart: when Kafka cannot be asked (a changed
/// certificate, say), nothing restarts, since some pods still serve.
pub fn next_restart(
    outdated: &[(i32, bool)],
    all_ready: bool,
    availability: Result<&Availability, &str>,
) -> RollStep {
    if let Some(index) = outdated.iter().position(|(_, ready)| !ready) {
        return RollStep::Restart(index);
    }
    if outdated.is_empty() || !all_ready {
        return RollStep::Wait(None);
    }
    let availability = match availability {
        Ok(availability) => availability,
        Err(error) => {
            return RollStep::Wait(Some(format!(
                "waiting to restart nodes {:?}: Kafka cannot be asked whether a restart keeps \
                 every partition available: {error}",
                outdated.iter().map(|(id, _)| *id).collect::<Vec<_>>()
            )));
        }
    };
    let mut blockers = Vec::new();
    for (index, (node, _)) in outdated.iter().enumerate() {
        match availability.restart_blocker(*node) {
            None => return RollStep::Restart(index),
            Some(blocker) => blockers.push(blocker),
        }
    }
    RollStep::Wait(Some(blockers.join("; ")))
}

#[cfg(test)]
mod tests {
    use kafka_client::PartitionInfo;

    use super::*;

    fn availability(isr: &[i32], replicas: &[i32], min: usize) -> Availability {
        let topic = TopicDescription {
            name: "orders".into(),
            topic_id: None,
            internal: false,
            partitions: vec![PartitionInfo {
                partition: 0,
                leader: isr.first().copied(),
                replicas: replicas.to_vec(),
                isr: isr.to_vec(),
            }],
        };
        Availability {
            active_controller: Some(1),
            topics: [("orders".into(), topic)].into(),
            min_in_sync_replicas: [("orders".into(), min)].into(),
        }
    }

    #[test]
    fn a_node_in_a_minimal_isr_must_wait() {
        let full = availability(&[0, 1, 2], &[0, 1, 2], 2);
        assert_eq!(full.restart_blocker(0), None);
        let shrunk = availability(&[0, 1], &[0, 1, 2], 2);
        let blocker = shrunk.restart_blocker(0).expect("node 0 is needed");
        assert!(blocker.contains("orders-0"), "{blocker}");
        // The node outside the ISR serves nothing: it may restart.
        assert_eq!(shrunk.restart_blocker(2), None);
    }

    #[test]
    fn partitions_that_can_never_tolerate_a_restart_do_not_block() {
        assert_eq!(availability(&[0], &[0], 1).restart_blocker(0), None);
        assert_eq!(availability(&[0, 1], &[0, 1], 2).restart_blocker(0), None);
    }

    #[test]
    fn without_an_answer_from_kafka_only_pods_that_are_down_restart() {
        let unreachable = Err("connection refused");
        let RollStep::Wait(Some(reason)) = next_restart(&[(0, true), (1, true)], true, unreachable)
        else {
            panic!("a roll without availability checks");
        };
        assert!(
            reason.contains("[0, 1]") && reason.contains("connection refused"),
            "{reason}"
        );
        // A pod that is down serves nothing: it restarts whatever Kafka says.
        let down = [(0, true), (1, false)];
        assert_eq!(
            next_restart(&down, false, unreachable),
            RollStep::Restart(1)
        );
    }

    #[test]
    fn the_first_node_kafka_lets_go_restarts_while_all_are_ready() {
        let shrunk = availability(&[0, 1], &[0, 1, 2], 2);
        let outdated = [(0, true), (2, true)];
        assert_eq!(
            next_restart(&outdated, true, Ok(&shrunk)),
            RollStep::Restart(1)
        );
        assert_eq!(
            next_restart(&outdated, false, Ok(&shrunk)),
            RollStep::Wait(None)
        );
        let RollStep::Wait(Some(reason)) = next_restart(&[(0, true)], true, Ok(&shrunk)) else {
            panic!("node 0 is needed");
        };
        assert!(reason.contains("orders-0"), "{reason}");
    }

    #[test]
    fn the_active_controller_restarts_last() {
        let availability = availability(&[0], &[0], 1);
        assert!(availability.restarts_last(1));
        assert!(!availability.restarts_last(0));
    }
}
