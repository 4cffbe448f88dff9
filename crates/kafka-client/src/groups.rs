//! Consumer groups, for consumer lag: which groups there are (ListGroups, from every broker,
//! since each lists only the groups it coordinates) and the offsets a group committed
//! (OffsetFetch, from the group's coordinator, which FindCoordinator names).

use std::collections::{BTreeMap, BTreeSet};

use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestGroup;
use kafka_protocol::messages::{
    FindCoordinatorRequest, GroupId, ListGroupsRequest, OffsetFetchRequest, OffsetFetchResponse,
};
use kafka_protocol::protocol::StrBytes;
use tracing::debug;

use crate::client::AdminClient;
use crate::cluster::Target;
use crate::error::{Error, KafkaError};
use crate::offsets::{Partition, partition_error};

/// FindCoordinator's key type for a group (1 is a transactional ID).
const GROUP_KEY_TYPE: i8 = 0;

/// The protocol types of consumer groups: `consumer`, or none for a group that only holds
/// offsets committed without joining (by consumers that assign partitions themselves).
const CONSUMER_PROTOCOL_TYPES: [&str; 2] = ["consumer", ""];

/// A group's offsets, or the error that says its coordinator is elsewhere.
type Committed = Result<BTreeMap<Partition, i64>, KafkaError>;

impl AdminClient {
    /// Every consumer group's ID, sorted: ListGroups asked of every broker, since each lists
    /// only the groups it coordinates. As in Kafka's Java admin client, groups of other
    /// protocols (Kafka Connect's workers, share groups) are left out.
    pub async fn list_consumer_groups(&self) -> Result<Vec<String>, Error> {
        let metadata = self.cluster.fetch_metadata(Some(&[])).await?;
        let mut groups = BTreeSet::new();
        for broker in &metadata.brokers {
            let listed = self
                .cluster
                .call(
                    Target::Node(broker.node_id.0),
                    |_version| ListGroupsRequest::default(),
                    |response| {
                        KafkaError::check(response.error_code, None)?;
                        Ok(response.groups)
                    },
                )
                .await?;
            groups.extend(
                listed
                    .into_iter()
                    .filter(|group| CONSUMER_PROTOCOL_TYPES.contains(&group.protocol_type.as_str()))
                    .map(|group| group.group_id.to_string()),
            );
        }
        Ok(groups.into_iter().collect())
    }

    /// The offsets `group` committed, per partition, as its coordinator knows them. Partitions
    /// without a committed offset are left out; a group that does not exist has none. While the
    /// group moves to another coordinator (or one is still loading it), it is looked up again
    /// until the request timeout.
    pub async fn consumer_group_offsets(
        &self,
        group: &str,
    ) -> Result<BTreeMap<(String, i32), i64>, Error> {
        let mut rounds = self.cluster.rounds();
        loop {
            let coordinator = self.group_coordinator(group).await?;
            let moved = match self.committed_offsets(coordinator, group).await? {
                Ok(offsets) => return Ok(offsets),
                Err(moved) => moved,
            };
            if !rounds.pause().await {
                return Err(moved.into());
            }
            debug!("broker {coordinator} does not coordinate group {group}, asking again: {moved}");
        }
    }

    /// The node ID of the broker that coordinates `group`.
    async fn group_coordinator(&self, group: &str) -> Result<i32, Error> {
        let key = || StrBytes::from_string(group.to_string());
        let request = |version: i16| {
            let request = FindCoordinatorRequest::default().with_key_type(GROUP_KEY_TYPE);
            // v4 and later take a list of keys.
            if version >= 4 {
                request.with_coordinator_keys(vec![key()])
            } else {
                request.with_key(key())
            }
        };
        self.cluster
            .call(Target::Any, request, |response| {
                // v4 and later answer per key; earlier versions at the top level.
                let (code, message, node_id) = if response.coordinators.is_empty() {
                    (
                        response.error_code,
                        response.error_message,
                        response.node_id,
                    )
                } else {
                    let coordinator = response
                        .coordinators
                        .into_iter()
                        .find(|coordinator| coordinator.key.as_str() == group)
                        .ok_or_else(|| {
                            Error::Protocol(format!("FindCoordinator did not answer for {group}"))
                        })?;
                    (
                        coordinator.error_code,
                        coordinator.error_message,
                        coordinator.node_id,
                    )
                };
                KafkaError::check(code, message.as_deref())?;
                match node_id.0 {
                    id if id < 0 => {
                        Err(KafkaError::new(KafkaError::COORDINATOR_NOT_AVAILABLE, None).into())
                    }
                    id => Ok(id),
                }
            })
            .await
    }

    /// OffsetFetch for all of `group`'s partitions from broker `coordinator`.
    async fn committed_offsets(&self, coordinator: i32, group: &str) -> Result<Committed, Error> {
        let group_id = || GroupId(StrBytes::from_string(group.to_string()));
        let request = |version: i16| {
            // v8 and later take a list of groups; no topics (null) asks for all of them.
            if version >= 8 {
                OffsetFetchRequest::default().with_groups(vec![
                    OffsetFetchRequestGroup::default()
                        .with_group_id(group_id())
                        .with_topics(None),
                ])
            } else {
                OffsetFetchRequest::default()
                    .with_group_id(group_id())
                    .with_topics(None)
            }
        };
        self.cluster
            .call(Target::Node(coordinator), request, |response| {
                committed(group, response)
            })
            .await
    }
}

/// The offsets in an OffsetFetch response for `group`. That the group moved is a value, not an
/// error: `call` would retry it on the same broker.
fn committed(group: &str, response: OffsetFetchResponse) -> Result<Committed, Error> {
    // v8 and later answer per group; earlier versions at the top level.
    let (code, partitions): (i16, Vec<(Partition, i64, i16)>) = if response.groups.is_empty() {
        let partitions = response.topics.iter().flat_map(|topic| {
            topic.partitions.iter().map(|partition| {
                (
                    (topic.name.to_string(), partition.partition_index),
                    partition.committed_offset,
                    partition.error_code,
                )
            })
        });
        (response.error_code, partitions.collect())
    } else {
        let answer = response
            .groups
            .iter()
            .find(|answer| answer.group_id.as_str() == group)
            .ok_or_else(|| Error::Protocol(format!("OffsetFetch did not answer for {group}")))?;
        let partitions = answer.topics.iter().flat_map(|topic| {
            topic.partitions.iter().map(|partition| {
                (
                    (topic.name.to_string(), partition.partition_index),
                    partition.committed_offset,
                    partition.error_code,
                )
            })
        });
        (answer.error_code, partitions.collect())
    };
    if let Err(error) = KafkaError::check(code, None) {
        return match error.code {
            KafkaError::NOT_COORDINATOR | KafkaError::COORDINATOR_NOT_AVAILABLE => Ok(Err(error)),
            _ => Err(error.into()),
        };
    }
    let mut offsets = BTreeMap::new();
    for (partition, offset, code) in partitions {
        if let Err(error) = KafkaError::check(code, None) {
            return Err(partition_error(&partition, error));
        }
        // -1: nothing committed.
        if offset >= 0 {
            offsets.insert(partition, offset);
        }
    }
    Ok(Ok(offsets))
}

#[cfg(test)]
mod tests {
    use kafka_protocol::messages::TopicName;
    use kafka_protocol::messages::offset_fetch_response::{
        OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
        OffsetFetchResponseTopic, OffsetFetchResponseTopics,
    };

    use super::*;

    fn name(topic: &str) -> TopicName {
        TopicName(StrBytes::from_string(topic.into()))
    }

    /// v8 and later: per group; an offset of -1 means none was committed.
    #[test]
    fn offsets_come_per_group_and_uncommitted_partitions_are_left_out() {
        let partition = |index, offset| {
            OffsetFetchResponsePartitions::default()
                .with_partition_index(index)
                .with_committed_offset(offset)
        };
        let response = OffsetFetchResponse::default().with_groups(vec![
            OffsetFetchResponseGroup::default()
                .with_group_id(GroupId(StrBytes::from_static_str("readers")))
                .with_topics(vec![
                    OffsetFetchResponseTopics::default()
                        .with_name(name("events"))
                        .with_partitions(vec![partition(0, 42), partition(1, -1)]),
                ]),
        ]);
        let offsets = committed("readers", response).unwrap().unwrap();
        assert_eq!(offsets, BTreeMap::from([(("events".to_string(), 0), 42)]));
    }

    /// Before v8: at the top level. A group elsewhere is a value, other errors fail the call.
    #[test]
    fn a_moved_group_is_a_value_and_other_errors_fail() {
        let response = OffsetFetchResponse::default().with_error_code(KafkaError::NOT_COORDINATOR);
        let moved = committed("readers", response).unwrap().unwrap_err();
        assert_eq!(moved.code, KafkaError::NOT_COORDINATOR);

        let response = OffsetFetchResponse::default().with_topics(vec![
            OffsetFetchResponseTopic::default()
                .with_name(name("events"))
                .with_partitions(vec![
                    OffsetFetchResponsePartition::default()
                        .with_partition_index(2)
                        .with_error_code(KafkaError::TOPIC_AUTHORIZATION_FAILED),
                ]),
        ]);
        let error = committed("readers", response).unwrap_err();
        assert_eq!(error.to_string(), "TOPIC_AUTHORIZATION_FAILED: events-2");

        let response = OffsetFetchResponse::default().with_groups(vec![
            OffsetFetchResponseGroup::default()
                .with_group_id(GroupId(StrBytes::from_static_str("others"))),
        ]);
        assert!(matches!(
            committed("readers", response),
            Err(Error::Protocol(_))
        ));
    }
}
