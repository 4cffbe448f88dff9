//! Partition offsets, for consumer lag and topic sizes: a partition's earliest and latest
//! offsets (ListOffsets), which only the partition's leader can tell.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::{BrokerId, ListOffsetsRequest, MetadataResponse, TopicName};
use kafka_protocol::protocol::StrBytes;
use tracing::debug;

use crate::client::AdminClient;
use crate::cluster::{ItemResults, Target};
use crate::error::{Error, KafkaError};

/// A topic partition: the topic's name and the partition's index.
pub(crate) type Partition = (String, i32);

/// Which offset of a partition [`AdminClient::list_offsets`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OffsetSpec {
    /// The first offset still in the log (the log start offset).
    Earliest,
    /// The offset the next record will get, as far as consumers can read: the high watermark.
    Latest,
}

impl OffsetSpec {
    /// The timestamp ListOffsets takes for it.
    fn timestamp(self) -> i64 {
        match self {
            OffsetSpec::Earliest => -2,
            OffsetSpec::Latest => -1,
        }
    }
}

/// ListOffsets' replica ID for a client rather than a follower replica.
const CLIENT_REPLICA_ID: i32 = -1;
/// The high watermark, whether or not transactions are open (READ_COMMITTED would stop at the
/// last stable offset).
const READ_UNCOMMITTED: i8 = 0;

/// What a partition answers while its leadership moves (or metadata says so).
const LEADER_MOVED: [i16; 3] = [
    KafkaError::LEADER_NOT_AVAILABLE,
    KafkaError::NOT_LEADER_OR_FOLLOWER,
    // A new leader until its high watermark caught up.
    KafkaError::OFFSET_NOT_AVAILABLE,
];

/// A partition's error as the call's error, with the partition in the message.
pub(crate) fn partition_error((topic, partition): &Partition, error: KafkaError) -> Error {
    let message = match error.message {
        Some(message) => format!("{topic}-{partition}: {message}"),
        None => format!("{topic}-{partition}"),
    };
    KafkaError::new(error.code, Some(message)).into()
}

/// Each partition's leader as `metadata` names it, or why it has none.
fn leaders(
    metadata: &MetadataResponse,
    partitions: &BTreeSet<Partition>,
) -> ItemResults<Partition, i32> {
    let mut topic_errors: HashMap<&str, i16> = HashMap::new();
    let mut leader_ids: HashMap<(&str, i32), i32> = HashMap::new();
    for topic in &metadata.topics {
        let Some(name) = &topic.name else { continue };
        // LEADER_NOT_AVAILABLE still lists the partitions: those without a leader say so.
        match topic.error_code {
            0 | KafkaError::LEADER_NOT_AVAILABLE => {
                leader_ids.extend(topic.partitions.iter().map(|partition| {
                    (
                        (name.as_str(), partition.partition_index),
                        partition.leader_id.0,
                    )
                }))
            }
            code => {
                topic_errors.insert(name.as_str(), code);
            }
        }
    }
    partitions
        .iter()
        .map(|partition @ (topic, index)| {
            let leader = match topic_errors.get(topic.as_str()) {
                Some(code) => Err(KafkaError::new(*code, None)),
                None => match leader_ids.get(&(topic.as_str(), *index)) {
                    Some(id) if *id >= 0 => Ok(*id),
                    Some(_) => Err(KafkaError::new(KafkaError::LEADER_NOT_AVAILABLE, None)),
                    None => Err(KafkaError::new(
                        KafkaError::UNKNOWN_TOPIC_OR_PARTITION,
                        None,
                    )),
                },
            };
            (partition.clone(), leader)
        })
        .collect()
}

impl AdminClient {
    /// The `spec` offset of each of `partitions`, asked of each partition's leader (one request
    /// per leader). Partitions whose leader moved are asked again, after fresh metadata, until
    /// the request timeout; a partition that fails otherwise (or still) fails the call, named in
    /// the error's message.
    pub async fn list_offsets(
        &self,
        partitions: &[(String, i32)],
        spec: OffsetSpec,
    ) -> Result<BTreeMap<(String, i32), i64>, Error> {
        let mut pending: BTreeSet<Partition> = partitions.iter().cloned().collect();
        let mut offsets = BTreeMap::new();
        let mut rounds = self.cluster.rounds();
        while !pending.is_empty() {
            let mut moved = Vec::new();
            for (partition, result) in self.list_offsets_once(&pending, spec).await? {
                match result {
                    Ok(offset) => {
                        offsets.insert(partition, offset);
                    }
                    Err(error) if LEADER_MOVED.contains(&error.code) => {
                        moved.push((partition, error));
                    }
                    Err(error) => return Err(partition_error(&partition, error)),
                }
            }
            if let Some((partition, error)) = moved.first() {
                if !rounds.pause().await {
                    return Err(partition_error(partition, error.clone()));
                }
                debug!(
                    "{} partitions have no leader or a new one, asking again",
                    moved.len()
                );
            }
            pending = moved.into_iter().map(|(partition, _)| partition).collect();
        }
        Ok(offsets)
    }

    /// One round: the partitions' leaders from fresh metadata, then ListOffsets to each leader.
    async fn list_offsets_once(
        &self,
        partitions: &BTreeSet<Partition>,
        spec: OffsetSpec,
    ) -> Result<ItemResults<Partition, i64>, Error> {
        let topics: BTreeSet<&String> = partitions.iter().map(|(topic, _)| topic).collect();
        let topics: Vec<String> = topics.into_iter().cloned().collect();
        let metadata = self.cluster.fetch_metadata(Some(&topics)).await?;
        let mut results = Vec::with_capacity(partitions.len());
        let mut by_leader: BTreeMap<i32, Vec<Partition>> = BTreeMap::new();
        for (partition, leader) in leaders(&metadata, partitions) {
            match leader {
                Ok(leader) => by_leader.entry(leader).or_default().push(partition),
                Err(error) => results.push((partition, Err(error))),
            }
        }
        for (leader, partitions) in by_leader {
            results.extend(self.list_offsets_on(leader, &partitions, spec).await?);
        }
        Ok(results)
    }

    /// ListOffsets for `partitions`, all led by broker `leader`.
    async fn list_offsets_on(
        &self,
        leader: i32,
        partitions: &[Partition],
        spec: OffsetSpec,
    ) -> Result<ItemResults<Partition, i64>, Error> {
        let mut by_topic: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
        for (topic, partition) in partitions {
            by_topic.entry(topic).or_default().push(*partition);
        }
        // v10 and later: how long the broker may wait on remote (tiered) storage.
        let timeout_ms = self.cluster.broker_timeout_ms();
        let request = |_version| {
            let topics = by_topic
                .iter()
                .map(|(topic, indexes)| {
                    ListOffsetsTopic::default()
                        .with_name(TopicName(StrBytes::from_string(topic.to_string())))
                        .with_partitions(
                            indexes
                                .iter()
                                .map(|index| {
                                    ListOffsetsPartition::default()
                                        .with_partition_index(*index)
                                        .with_timestamp(spec.timestamp())
                                })
                                .collect(),
                        )
                })
                .collect();
            ListOffsetsRequest::default()
                .with_replica_id(BrokerId(CLIENT_REPLICA_ID))
                .with_isolation_level(READ_UNCOMMITTED)
                .with_timeout_ms(timeout_ms)
                .with_topics(topics)
        };
        self.cluster
            .call(Target::Node(leader), request, |response| {
                let mut answered: BTreeMap<Partition, Result<i64, KafkaError>> = BTreeMap::new();
                for topic in &response.topics {
                    for partition in &topic.partitions {
                        answered.insert(
                            (topic.name.to_string(), partition.partition_index),
                            KafkaError::check(partition.error_code, None)
                                .map(|()| partition.offset),
                        );
                    }
                }
                Ok(partitions
                    .iter()
                    .map(|partition| {
                        let result = answered.remove(partition).unwrap_or_else(|| {
                            Err(KafkaError::new(
                                KafkaError::UNKNOWN_SERVER_ERROR,
                                Some("the broker's response did not mention it".into()),
                            ))
                        });
                        (partition.clone(), result)
                    })
                    .collect())
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use kafka_protocol::messages::metadata_response::{
        MetadataResponsePartition, MetadataResponseTopic,
    };

    use super::*;

    fn topic(name: &str, error_code: i16, leaders: &[(i32, i32)]) -> MetadataResponseTopic {
        MetadataResponseTopic::default()
            .with_name(Some(TopicName(StrBytes::from_string(name.into()))))
            .with_error_code(error_code)
            .with_partitions(
                leaders
                    .iter()
                    .map(|(index, leader)| {
                        MetadataResponsePartition::default()
                            .with_partition_index(*index)
                            .with_leader_id(BrokerId(*leader))
                    })
                    .collect(),
            )
    }

    #[test]
    fn partitions_without_a_leader_say_why() {
        let metadata = MetadataResponse::default().with_topics(vec![
            topic("led", 0, &[(0, 2), (1, -1)]),
            topic("electing", KafkaError::LEADER_NOT_AVAILABLE, &[(0, 1)]),
            topic("gone", KafkaError::UNKNOWN_TOPIC_OR_PARTITION, &[]),
        ]);
        let unknown = Err(KafkaError::UNKNOWN_TOPIC_OR_PARTITION);
        let expected: BTreeMap<Partition, Result<i32, i16>> = [
            ("electing", 0, Ok(1)),
            ("gone", 0, unknown),
            ("led", 0, Ok(2)),
            ("led", 1, Err(KafkaError::LEADER_NOT_AVAILABLE)),
            ("led", 2, unknown),
            ("never-heard-of", 0, unknown),
        ]
        .into_iter()
        .map(|(topic, index, leader)| ((topic.to_string(), index), leader))
        .collect();
        let asked: BTreeSet<Partition> = expected.keys().cloned().collect();
        let found: BTreeMap<Partition, Result<i32, i16>> = leaders(&metadata, &asked)
            .into_iter()
            .map(|(partition, leader)| (partition, leader.map_err(|error| error.code)))
            .collect();
        assert_eq!(found, expected);
    }

    #[test]
    fn a_partition_error_names_the_partition() {
        let partition = ("events".to_string(), 3);
        let error = partition_error(&partition, KafkaError::new(6, None));
        assert_eq!(error.to_string(), "NOT_LEADER_OR_FOLLOWER: events-3");
        let error = partition_error(&partition, KafkaError::new(29, Some("denied".into())));
        assert_eq!(
            error.to_string(),
            "TOPIC_AUTHORIZATION_FAILED: events-3: denied"
        );
    }
}
