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

/// Kafka's view for tests: one topic, `orders`, with one partition over `replicas` and `isr`
/// in sync, `min.insync.replicas` `min`; node 3 is the active controller.
#[cfg(test)]
pub fn one_partition(isr: &[i32], replicas: &[i32], min: usize) -> Availability {
    let topic = TopicDescription {
        name: "orders".into(),
        topic_id: None,
        internal: false,
        partitions: vec![kafka_client::PartitionInfo {
            partition: 0,
            leader: isr.first().copied(),
            replicas: replicas.to_vec(),
            isr: isr.to_vec(),
        }],
    };
    Availability {
        active_controller: Some(3),
        topics: [("orders".into(), topic)].into(),
        min_in_sync_replicas: [("orders".into(), min)].into(),
    }
}

#[cfg(test)]
mod tests {
    use super::one_partition as availability;

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
    fn the_active_controller_restarts_last() {
        let availability = availability(&[0], &[0], 1);
        assert!(availability.restarts_last(3));
        assert!(!availability.restarts_last(0));
    }
}
