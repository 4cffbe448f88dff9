//! What one scrape gathers from the cluster: pure data, which `render` turns into metrics.

use std::collections::BTreeMap;

use anyhow::Result;
use kafka_client::{AdminClient, OffsetSpec};

use crate::filters::Filters;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Each broker's node ID and `host:port`.
    pub brokers: Vec<(i32, String)>,
    pub topics: Vec<TopicState>,
    pub groups: Vec<GroupState>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicState {
    pub name: String,
    pub partitions: Vec<PartitionState>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionState {
    pub partition: i32,
    /// `None` while the partition has no leader (its offsets are then unknown too).
    pub leader: Option<i32>,
    pub replicas: usize,
    pub in_sync: usize,
    pub oldest: Option<i64>,
    pub newest: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupState {
    pub name: String,
    /// Committed offsets by topic and partition, of the exported topics only.
    pub committed: BTreeMap<(String, i32), i64>,
}

/// Asks the cluster for what the filters let through.
pub async fn gather(admin: &AdminClient, filters: &Filters) -> Result<Snapshot> {
    let cluster = admin.describe_cluster().await?;
    let brokers = (cluster.brokers.iter())
        .map(|broker| (broker.id, broker.address()))
        .collect();
    let described = admin.list_topics().await?;
    let led: Vec<(String, i32)> = (described.values())
        .filter(|topic| filters.topic(&topic.name))
        .flat_map(|topic| {
            (topic.partitions.iter())
                .filter(|partition| partition.leader.is_some())
                .map(|partition| (topic.name.clone(), partition.partition))
        })
        .collect();
    let oldest = admin.list_offsets(&led, OffsetSpec::Earliest).await?;
    let newest = admin.list_offsets(&led, OffsetSpec::Latest).await?;
    let topics = (described.into_values())
        .filter(|topic| filters.topic(&topic.name))
        .map(|topic| TopicState {
            partitions: (topic.partitions.iter())
                .map(|partition| {
                    let key = (topic.name.clone(), partition.partition);
                    PartitionState {
                        partition: partition.partition,
                        leader: partition.leader,
                        replicas: partition.replicas.len(),
                        in_sync: partition.isr.len(),
                        oldest: oldest.get(&key).copied(),
                        newest: newest.get(&key).copied(),
                    }
                })
                .collect(),
            name: topic.name,
        })
        .collect();
    let mut groups = Vec::new();
    for name in admin.list_consumer_groups().await? {
        if !filters.group(&name) {
            continue;
        }
        let committed = (admin.consumer_group_offsets(&name).await?.into_iter())
            .filter(|((topic, _), _)| filters.topic(topic))
            .collect();
        groups.push(GroupState { name, committed });
    }
    Ok(Snapshot {
        brokers,
        topics,
        groups,
    })
}
