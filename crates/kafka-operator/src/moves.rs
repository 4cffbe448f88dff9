//! Carrying a reassignment out in Kafka: the I/O around the pure [`reassignment`] planner. Each
//! call starts from what Kafka says now (what is in flight, where every replica is), so an
//! operator restart loses nothing, and moves at most one bounded batch, under a replication
//! throttle, before it is called again.
//!
//! [`reassignment`]: crate::reassignment

use std::collections::{BTreeMap, BTreeSet};

use kafka_client::{AdminClient, ConfigResource, TopicDescription};

use crate::reassignment::{self, Assignment, Broker, Goal, Move, Partition, PlanError, Topic};

/// Partitions moving at once, cluster-wide: enough that a hundred move in two rounds, few
/// enough that the copying stays well under the throttle's reach of each broker.
pub const MAX_PARTITIONS_IN_FLIGHT: usize = 50;

/// Bytes per second each broker may spend copying moving replicas, as leader and as follower:
/// a 1 Gbit/s link keeps more than half its capacity for producers and consumers.
pub const REPLICATION_THROTTLE: i64 = 50 * 1024 * 1024;

/// Where a move toward a goal stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Nothing is left to move and the throttles are gone.
    Done,
    /// Partitions are moving; `planned` more moves were left when this was asked.
    Moving { in_flight: usize, planned: usize },
}

impl Progress {
    pub fn message(&self) -> String {
        match self {
            Progress::Done => "no partition is left to move".into(),
            Progress::Moving { in_flight, planned } => {
                format!("{in_flight} partitions are moving, {planned} more to go after them")
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    #[error(transparent)]
    Kafka(#[from] kafka_client::Error),
    /// The goal cannot be met; nothing was moved.
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("Kafka refused to move {partition}: {error}")]
    Refused { partition: String, error: String },
}

/// One step toward `goal` for `topics` (every topic with `None`): while any partition of the
/// cluster moves, only waits, so that goals never race each other over one partition; else
/// plans from where the replicas are now and starts the first batch; with nothing left to
/// move, clears the throttles this left.
pub async fn advance(
    admin: &AdminClient,
    goal: &Goal,
    topics: Option<&[String]>,
) -> Result<Progress, MoveError> {
    let in_flight = admin.list_partition_reassignments(None).await?.len();
    let assignment = observe(admin, topics).await?;
    if in_flight > 0 {
        let planned = reassignment::plan(&assignment, goal).map_or(0, |plan| plan.moves.len());
        return Ok(Progress::Moving { in_flight, planned });
    }
    let plan = reassignment::plan(&assignment, goal)?;
    let Some(batch) = plan.batches(MAX_PARTITIONS_IN_FLIGHT).next() else {
        clear_throttles(admin, &assignment).await?;
        return Ok(Progress::Done);
    };
    start(admin, batch).await?;
    Ok(Progress::Moving {
        in_flight: batch.len(),
        planned: plan.moves.len() - batch.len(),
    })
}

/// The brokers and, of `topics` (all with `None`), every partition's replicas and the
/// `min.insync.replicas` each topic must keep.
pub async fn observe(
    admin: &AdminClient,
    topics: Option<&[String]>,
) -> Result<Assignment, kafka_client::Error> {
    let brokers = admin.describe_cluster().await?.brokers;
    let described: BTreeMap<String, TopicDescription> = match topics {
        None => admin.list_topics().await?,
        Some(names) => (admin.describe_topics(names).await?.into_iter())
            .filter_map(|(name, description)| Some((name, description.ok()?)))
            .collect(),
    };
    let resources: Vec<ConfigResource> = described
        .keys()
        .map(|name| ConfigResource::Topic(name.clone()))
        .collect();
    let configs = admin.describe_configs(&resources).await?;
    let min_insync_replicas = |name: &String| {
        let entries = configs
            .get(&ConfigResource::Topic(name.clone()))?
            .as_ref()
            .ok()?;
        let entry = entries.iter().find(|e| e.name == "min.insync.replicas")?;
        entry.value.as_ref()?.parse().ok()
    };
    Ok(Assignment {
        brokers: (brokers.into_iter())
            .map(|broker| Broker {
                id: broker.id,
                rack: broker.rack,
            })
            .collect(),
        topics: (described.iter())
            .map(|(name, description)| {
                let topic = Topic {
                    min_insync_replicas: min_insync_replicas(name).unwrap_or(1),
                    partitions: (description.partitions.iter())
                        .map(|p| {
                            let isr = p.isr.iter().copied().collect();
                            let replicas = p.replicas.clone();
                            (p.partition, Partition { replicas, isr })
                        })
                        .collect(),
                };
                (name.clone(), topic)
            })
            .collect(),
    })
}

/// Throttles the batch's copying, then asks Kafka to move its partitions.
async fn start(admin: &AdminClient, batch: &[Move]) -> Result<(), MoveError> {
    let brokers: BTreeSet<i32> = (batch.iter())
        .flat_map(|m| m.from.iter().chain(&m.to).copied())
        .collect();
    let brokers: Vec<i32> = brokers.into_iter().collect();
    admin
        .set_replication_throttle(&brokers, REPLICATION_THROTTLE)
        .await?;
    for (topic, (leader, follower)) in throttled_replicas(batch) {
        admin
            .set_throttled_replicas(&topic, &leader, &follower)
            .await?;
    }
    let moves = (batch.iter())
        .map(|m| ((m.topic.clone(), m.partition), Some(m.to.clone())))
        .collect();
    let results = admin.alter_partition_reassignments(&moves).await?;
    for ((topic, partition), result) in results {
        if let Err(error) = result {
            let partition = format!("{topic}-{partition}");
            let error = error.to_string();
            return Err(MoveError::Refused { partition, error });
        }
    }
    tracing::info!(partitions = batch.len(), "started moving partitions");
    Ok(())
}

/// Per topic, the (partition, broker) pairs throttled as leaders (the replicas a moving
/// partition has now, which send) and as followers (the new ones, which receive).
type ThrottledReplicas = (Vec<(i32, i32)>, Vec<(i32, i32)>);

fn throttled_replicas(batch: &[Move]) -> BTreeMap<String, ThrottledReplicas> {
    let mut topics: BTreeMap<String, ThrottledReplicas> = BTreeMap::new();
    for m in batch {
        let (leader, follower) = topics.entry(m.topic.clone()).or_default();
        leader.extend(m.from.iter().map(|broker| (m.partition, *broker)));
        let added = m.to.iter().filter(|broker| !m.from.contains(broker));
        follower.extend(added.map(|broker| (m.partition, *broker)));
    }
    topics
}

/// Removes the throttle from every broker, and the throttled replica lists from the topics
/// that have one.
async fn clear_throttles(
    admin: &AdminClient,
    assignment: &Assignment,
) -> Result<(), kafka_client::Error> {
    let brokers: Vec<i32> = assignment.brokers.iter().map(|b| b.id).collect();
    let topics: Vec<String> = assignment.topics.keys().cloned().collect();
    admin.clear_replication_throttles(&brokers, &topics).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copying_is_throttled_from_the_current_replicas_to_the_new_ones() {
        let batch = [
            Move {
                topic: "orders".into(),
                partition: 0,
                from: vec![1],
                to: vec![1, 2, 3],
            },
            Move {
                topic: "orders".into(),
                partition: 1,
                from: vec![2, 3],
                to: vec![3, 1],
            },
        ];
        let throttled = throttled_replicas(&batch);
        let (leader, follower) = &throttled["orders"];
        assert_eq!(leader, &[(0, 1), (1, 2), (1, 3)]);
        assert_eq!(follower, &[(0, 2), (0, 3), (1, 1)]);
    }
}
