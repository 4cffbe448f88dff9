//! Moving partitions between brokers: reassigning their replicas (AlterPartitionReassignments),
//! following the moves until done (ListPartitionReassignments), handing leadership back to the
//! preferred replica afterwards (ElectLeaders), and what each broker's log directories hold
//! (DescribeLogDirs), to check sizes before and after a move.

use std::collections::BTreeMap;

use kafka_protocol::messages::alter_partition_reassignments_request::{
    ReassignablePartition, ReassignableTopic,
};
use kafka_protocol::messages::elect_leaders_request::TopicPartitions;
use kafka_protocol::messages::list_partition_reassignments_request::ListPartitionReassignmentsTopics;
use kafka_protocol::messages::{
    AlterPartitionReassignmentsRequest, BrokerId, DescribeLogDirsRequest, ElectLeadersRequest,
    ListPartitionReassignmentsRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use crate::client::AdminClient;
use crate::cluster::{ItemResults, Target};
use crate::error::{Error, KafkaError};
use crate::offsets::Partition;

/// ElectLeaders' election type for the preferred replica (the first of the replica list); 1
/// would be an unclean election, which may lose records.
const PREFERRED: i8 = 0;

/// A reassignment in progress, as the controller reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reassignment {
    /// The partition's current replicas: the old ones and the new ones, until it completes.
    pub replicas: Vec<i32>,
    /// Replicas being added, still catching up.
    pub adding: Vec<i32>,
    /// Replicas to remove once the added ones are in sync.
    pub removing: Vec<i32>,
}

/// One log directory of a broker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogDir {
    pub path: String,
    /// Why the directory is unusable (`KAFKA_STORAGE_ERROR` when its disk failed).
    pub error: Option<KafkaError>,
    /// The size of the directory's volume; `None` from brokers that do not report it (before
    /// DescribeLogDirs v4).
    pub total_bytes: Option<i64>,
    /// What is left of it; `None` as for `total_bytes`.
    pub usable_bytes: Option<i64>,
    pub partitions: Vec<LogDirPartition>,
}

/// A replica a log directory holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogDirPartition {
    pub topic: String,
    pub partition: i32,
    /// Bytes on disk.
    pub size: i64,
    /// How far the replica is behind the partition's high watermark (or, for a future replica,
    /// behind the current one), in offsets.
    pub offset_lag: i64,
    /// A replica being moved here from another directory of the broker, not yet the current one.
    pub is_future: bool,
}

fn topic_name(name: &str) -> TopicName {
    TopicName(StrBytes::from_string(name.to_string()))
}

/// The partitions by topic, in order, for requests that list partitions under their topic.
fn by_topic(partitions: &[Partition]) -> BTreeMap<&str, Vec<i32>> {
    let mut topics: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for (topic, partition) in partitions {
        topics.entry(topic.as_str()).or_default().push(*partition);
    }
    topics
}

/// Partitions the broker did not answer for get an error of their own rather than vanishing.
fn complete(
    partitions: impl IntoIterator<Item = Partition>,
    results: ItemResults<Partition, ()>,
) -> BTreeMap<Partition, Result<(), KafkaError>> {
    let mut map: BTreeMap<Partition, Result<(), KafkaError>> = results.into_iter().collect();
    for partition in partitions {
        map.entry(partition).or_insert_with(|| {
            Err(KafkaError::new(
                KafkaError::UNKNOWN_SERVER_ERROR,
                Some("the broker's response did not mention it".into()),
            ))
        });
    }
    map
}

fn broker_ids(ids: &[BrokerId]) -> Vec<i32> {
    ids.iter().map(|id| id.0).collect()
}

impl AdminClient {
    /// Starts moving each partition to its new replica list (the first replica is the preferred
    /// leader), or with `None` cancels the partition's reassignment in progress (reverting to
    /// its replicas from before). The controller only records the targets: the new replicas then
    /// copy the data, which [`list_partition_reassignments`](Self::list_partition_reassignments)
    /// follows. A replica list of another length changes the replication factor.
    pub async fn alter_partition_reassignments(
        &self,
        moves: &BTreeMap<(String, i32), Option<Vec<i32>>>,
    ) -> Result<BTreeMap<(String, i32), Result<(), KafkaError>>, Error> {
        let timeout_ms = self.cluster.broker_timeout_ms();
        let partitions: Vec<Partition> = moves.keys().cloned().collect();
        let results = self
            .cluster
            .call_per_item(
                Target::Controller,
                partitions.clone(),
                |pending, _version| {
                    let topics = by_topic(pending)
                        .into_iter()
                        .map(|(topic, indexes)| {
                            let partitions = indexes
                                .into_iter()
                                .map(|index| {
                                    let replicas = moves
                                        .get(&(topic.to_string(), index))
                                        .and_then(Option::as_ref)
                                        .map(|ids| ids.iter().copied().map(BrokerId).collect());
                                    ReassignablePartition::default()
                                        .with_partition_index(index)
                                        .with_replicas(replicas)
                                })
                                .collect();
                            ReassignableTopic::default()
                                .with_name(topic_name(topic))
                                .with_partitions(partitions)
                        })
                        .collect();
                    // v1's allowReplicationFactorChange keeps its default, true: v0 allows it too.
                    AlterPartitionReassignmentsRequest::default()
                        .with_timeout_ms(timeout_ms)
                        .with_topics(topics)
                },
                |_pending, response| {
                    KafkaError::check(response.error_code, response.error_message.as_deref())?;
                    Ok(response
                        .responses
                        .iter()
                        .flat_map(|topic| {
                            topic.partitions.iter().map(|partition| {
                                let outcome = KafkaError::check(
                                    partition.error_code,
                                    partition.error_message.as_deref(),
                                );
                                ((topic.name.to_string(), partition.partition_index), outcome)
                            })
                        })
                        .collect())
                },
            )
            .await?;
        Ok(complete(partitions, results))
    }

    /// The reassignments in progress, of `partitions` or (with `None`) of every partition. A
    /// partition that is not moving is not in the map: an empty map means every move is done.
    pub async fn list_partition_reassignments(
        &self,
        partitions: Option<&[(String, i32)]>,
    ) -> Result<BTreeMap<(String, i32), Reassignment>, Error> {
        if partitions.is_some_and(<[_]>::is_empty) {
            return Ok(BTreeMap::new());
        }
        let timeout_ms = self.cluster.broker_timeout_ms();
        let topics: Option<Vec<ListPartitionReassignmentsTopics>> = partitions.map(|partitions| {
            by_topic(partitions)
                .into_iter()
                .map(|(topic, indexes)| {
                    ListPartitionReassignmentsTopics::default()
                        .with_name(topic_name(topic))
                        .with_partition_indexes(indexes)
                })
                .collect()
        });
        let request = |_version| {
            ListPartitionReassignmentsRequest::default()
                .with_timeout_ms(timeout_ms)
                .with_topics(topics.clone())
        };
        self.cluster
            .call(Target::Controller, request, |response| {
                KafkaError::check(response.error_code, response.error_message.as_deref())?;
                Ok(response
                    .topics
                    .iter()
                    .flat_map(|topic| {
                        topic.partitions.iter().map(|partition| {
                            let reassignment = Reassignment {
                                replicas: broker_ids(&partition.replicas),
                                adding: broker_ids(&partition.adding_replicas),
                                removing: broker_ids(&partition.removing_replicas),
                            };
                            (
                                (topic.name.to_string(), partition.partition_index),
                                reassignment,
                            )
                        })
                    })
                    .collect())
            })
            .await
    }

    /// Makes each partition's preferred replica (the first of its replica list) its leader, as
    /// after a reassignment or a broker's restart left leadership elsewhere. A partition already
    /// led by it (ELECTION_NOT_NEEDED) succeeds; one whose preferred replica is not in sync fails
    /// with PREFERRED_LEADER_NOT_AVAILABLE.
    pub async fn elect_leaders(
        &self,
        partitions: &[(String, i32)],
    ) -> Result<BTreeMap<(String, i32), Result<(), KafkaError>>, Error> {
        let timeout_ms = self.cluster.broker_timeout_ms();
        let results = self
            .cluster
            .call_per_item(
                Target::Controller,
                partitions.to_vec(),
                |pending, _version| {
                    let topics = by_topic(pending)
                        .into_iter()
                        .map(|(topic, indexes)| {
                            TopicPartitions::default()
                                .with_topic(topic_name(topic))
                                .with_partitions(indexes)
                        })
                        .collect();
                    // Never null: that would elect the preferred leader of every partition.
                    ElectLeadersRequest::default()
                        .with_election_type(PREFERRED)
                        .with_timeout_ms(timeout_ms)
                        .with_topic_partitions(Some(topics))
                },
                |_pending, response| {
                    KafkaError::check(response.error_code, None)?;
                    Ok(response
                        .replica_election_results
                        .iter()
                        .flat_map(|topic| {
                            topic.partition_result.iter().map(|partition| {
                                let outcome = match partition.error_code {
                                    KafkaError::ELECTION_NOT_NEEDED => Ok(()),
                                    code => {
                                        KafkaError::check(code, partition.error_message.as_deref())
                                    }
                                };
                                ((topic.topic.to_string(), partition.partition_id), outcome)
                            })
                        })
                        .collect())
                },
            )
            .await?;
        Ok(complete(partitions.iter().cloned(), results))
    }

    /// The log directories of `broker` and the replicas each holds, asked of that broker: where
    /// a partition's data is, and how big, before and after moving it.
    pub async fn describe_log_dirs(&self, broker: i32) -> Result<Vec<LogDir>, Error> {
        // Null topics: every replica of every directory.
        let request = |_version| DescribeLogDirsRequest::default().with_topics(None);
        self.cluster
            .call(Target::Node(broker), request, |response| {
                KafkaError::check(response.error_code, None)?;
                Ok(response
                    .results
                    .iter()
                    .map(|dir| LogDir {
                        path: dir.log_dir.to_string(),
                        error: KafkaError::check(dir.error_code, None).err(),
                        total_bytes: Some(dir.total_bytes).filter(|bytes| *bytes >= 0),
                        usable_bytes: Some(dir.usable_bytes).filter(|bytes| *bytes >= 0),
                        partitions: dir
                            .topics
                            .iter()
                            .flat_map(|topic| {
                                topic.partitions.iter().map(|partition| LogDirPartition {
                                    topic: topic.name.to_string(),
                                    partition: partition.partition_index,
                                    size: partition.partition_size,
                                    offset_lag: partition.offset_lag,
                                    is_future: partition.is_future_key,
                                })
                            })
                            .collect(),
                    })
                    .collect())
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_grouped_by_topic_and_missing_answers_are_errors() {
        let partitions: Vec<Partition> = [("b", 1), ("a", 2), ("b", 0)]
            .into_iter()
            .map(|(topic, index)| (topic.to_string(), index))
            .collect();
        let grouped = by_topic(&partitions);
        assert_eq!(grouped, BTreeMap::from([("a", vec![2]), ("b", vec![1, 0])]));
        let answered = vec![(partitions[0].clone(), Ok(()))];
        let results = complete(partitions.clone(), answered);
        assert_eq!(results[&partitions[0]], Ok(()));
        assert_eq!(
            results[&partitions[1]].as_ref().unwrap_err().code,
            KafkaError::UNKNOWN_SERVER_ERROR
        );
        assert_eq!(results.len(), 3);
    }
}
