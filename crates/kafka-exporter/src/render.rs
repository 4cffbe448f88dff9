//! A snapshot as Prometheus text, with `kafka_exporter`'s metric and label names.

use std::collections::BTreeMap;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::snapshot::Snapshot;

type Labels = Vec<(&'static str, String)>;

/// The gauges of one scrape, registered as they are first set.
struct Gauges {
    registry: Registry,
    families: BTreeMap<&'static str, Family<Labels, Gauge>>,
}

impl Gauges {
    /// A gauge without labels.
    fn set_one(&mut self, name: &'static str, help: &str, value: i64) {
        let gauge = Gauge::<i64>::default();
        gauge.set(value);
        self.registry.register(name, help, gauge);
    }

    fn set(&mut self, name: &'static str, help: &str, labels: Labels, value: i64) {
        let registry = &mut self.registry;
        let family = self.families.entry(name).or_insert_with(|| {
            let family = Family::<Labels, Gauge>::default();
            registry.register(name, help, family.clone());
            family
        });
        family.get_or_create(&labels).set(value);
    }
}

pub fn render(snapshot: &Snapshot) -> String {
    let mut gauges = Gauges {
        registry: Registry::default(),
        families: BTreeMap::new(),
    };
    let brokers = i64::try_from(snapshot.brokers.len()).unwrap_or(i64::MAX);
    gauges.set_one("kafka_brokers", "Brokers in the cluster", brokers);
    for (id, address) in &snapshot.brokers {
        let labels = vec![("id", id.to_string()), ("address", address.clone())];
        gauges.set("kafka_broker_info", "A broker's ID and address", labels, 1);
    }
    // Newest offsets by partition, for the groups' lag.
    let mut newest = BTreeMap::new();
    for topic in &snapshot.topics {
        let count = i64::try_from(topic.partitions.len()).unwrap_or(i64::MAX);
        let labels = vec![("topic", topic.name.clone())];
        gauges.set(
            "kafka_topic_partitions",
            "Partitions of the topic",
            labels,
            count,
        );
        for partition in &topic.partitions {
            let labels = || {
                vec![
                    ("topic", topic.name.clone()),
                    ("partition", partition.partition.to_string()),
                ]
            };
            let leader = partition.leader.map_or(-1, i64::from);
            gauges.set(
                "kafka_topic_partition_leader",
                "The partition's leader (-1: none)",
                labels(),
                leader,
            );
            let replicas = i64::try_from(partition.replicas).unwrap_or(i64::MAX);
            let in_sync = i64::try_from(partition.in_sync).unwrap_or(i64::MAX);
            gauges.set(
                "kafka_topic_partition_replicas",
                "Replicas of the partition",
                labels(),
                replicas,
            );
            gauges.set(
                "kafka_topic_partition_in_sync_replica",
                "In-sync replicas of the partition",
                labels(),
                in_sync,
            );
            let under = i64::from(in_sync < replicas);
            gauges.set(
                "kafka_topic_partition_under_replicated_partition",
                "1 when a replica is out of sync",
                labels(),
                under,
            );
            if let Some(offset) = partition.newest {
                gauges.set(
                    "kafka_topic_partition_current_offset",
                    "The partition's newest offset",
                    labels(),
                    offset,
                );
                newest.insert((topic.name.as_str(), partition.partition), offset);
            }
            if let Some(offset) = partition.oldest {
                gauges.set(
                    "kafka_topic_partition_oldest_offset",
                    "The partition's oldest offset",
                    labels(),
                    offset,
                );
            }
        }
    }
    for group in &snapshot.groups {
        let mut sums: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
        for ((topic, partition), committed) in &group.committed {
            let labels = || {
                vec![
                    ("consumergroup", group.name.clone()),
                    ("topic", topic.clone()),
                    ("partition", partition.to_string()),
                ]
            };
            gauges.set(
                "kafka_consumergroup_current_offset",
                "The group's committed offset",
                labels(),
                *committed,
            );
            let sum = sums.entry(topic).or_default();
            sum.0 += committed;
            if let Some(newest) = newest.get(&(topic.as_str(), *partition)) {
                let lag = (newest - committed).max(0);
                gauges.set(
                    "kafka_consumergroup_lag",
                    "Records the group has yet to read",
                    labels(),
                    lag,
                );
                sum.1 += lag;
            }
        }
        for (topic, (offsets, lag)) in sums {
            let labels = || {
                vec![
                    ("consumergroup", group.name.clone()),
                    ("topic", topic.to_string()),
                ]
            };
            gauges.set(
                "kafka_consumergroup_current_offset_sum",
                "The group's committed offsets, summed over the topic",
                labels(),
                offsets,
            );
            gauges.set(
                "kafka_consumergroup_lag_sum",
                "The group's lag, summed over the topic",
                labels(),
                lag,
            );
        }
    }
    let mut text = String::new();
    encode(&mut text, &gauges.registry).expect("writing to a String");
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{GroupState, PartitionState, TopicState};

    fn snapshot() -> Snapshot {
        let partition = |partition, oldest, newest| PartitionState {
            partition,
            leader: Some(0),
            replicas: 3,
            in_sync: 2,
            oldest: Some(oldest),
            newest: Some(newest),
        };
        Snapshot {
            brokers: vec![(0, "b-0:9091".into()), (1, "b-1:9091".into())],
            topics: vec![TopicState {
                name: "orders".into(),
                partitions: vec![partition(0, 5, 40), partition(1, 0, 10)],
            }],
            groups: vec![GroupState {
                name: "billing".into(),
                committed: BTreeMap::from([(("orders".into(), 0), 30), (("orders".into(), 1), 10)]),
            }],
        }
    }

    #[test]
    fn offsets_and_lag_are_named_as_kafka_exporter_names_them() {
        let text = render(&snapshot());
        for line in [
            "kafka_brokers 2",
            r#"kafka_topic_partitions{topic="orders"} 2"#,
            r#"kafka_topic_partition_current_offset{topic="orders",partition="0"} 40"#,
            r#"kafka_topic_partition_oldest_offset{topic="orders",partition="0"} 5"#,
            r#"kafka_topic_partition_under_replicated_partition{topic="orders",partition="1"} 1"#,
            r#"kafka_consumergroup_current_offset{consumergroup="billing",topic="orders",partition="0"} 30"#,
            r#"kafka_consumergroup_lag{consumergroup="billing",topic="orders",partition="0"} 10"#,
            r#"kafka_consumergroup_lag{consumergroup="billing",topic="orders",partition="1"} 0"#,
            r#"kafka_consumergroup_lag_sum{consumergroup="billing",topic="orders"} 10"#,
            r#"kafka_consumergroup_current_offset_sum{consumergroup="billing",topic="orders"} 40"#,
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
        }
    }

    #[test]
    fn a_partition_without_a_leader_has_no_offsets() {
        let mut snapshot = snapshot();
        let partition = &mut snapshot.topics[0].partitions[1];
        (partition.leader, partition.oldest, partition.newest) = (None, None, None);
        let text = render(&snapshot);
        assert!(text.contains(r#"kafka_topic_partition_leader{topic="orders",partition="1"} -1"#));
        assert!(
            !text.contains(r#"kafka_topic_partition_current_offset{topic="orders",partition="1"}"#)
        );
        // No lag can be known for it.
        assert!(!text.contains(
            r#"kafka_consumergroup_lag{consumergroup="billing",topic="orders",partition="1"}"#
        ));
    }
}
