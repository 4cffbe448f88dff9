//! Topics: list, describe, create, add partitions, delete.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::metadata_response::MetadataResponseTopic;
use kafka_protocol::messages::{
    CreatePartitionsRequest, CreateTopicsRequest, DeleteTopicsRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use uuid::Uuid;

use crate::client::AdminClient;
use crate::cluster::{ItemResults, Target};
use crate::error::{Error, KafkaError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicDescription {
    pub name: String,
    /// As Kafka prints topic IDs (URL-safe base64 of the UUID, as `kafka-topics --describe`
    /// shows); `None` when the broker sent none (all zeros).
    pub topic_id: Option<String>,
    /// Kafka's own topics, such as `__consumer_offsets`.
    pub internal: bool,
    pub partitions: Vec<PartitionInfo>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionInfo {
    pub partition: i32,
    /// `None` while the partition has no leader.
    pub leader: Option<i32>,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTopic {
    pub name: String,
    /// `None`: the broker's `num.partitions`.
    pub partitions: Option<i32>,
    /// `None`: the broker's `default.replication.factor`.
    pub replication_factor: Option<i16>,
    pub configs: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatedTopic {
    pub topic_id: Option<String>,
    pub partitions: i32,
    pub replication_factor: i16,
}

/// Kafka's string form of a topic ID; the all-zero ID means none.
pub(crate) fn topic_id(id: Uuid) -> Option<String> {
    (!id.is_nil()).then(|| URL_SAFE_NO_PAD.encode(id.as_bytes()))
}

fn topic_name(name: &str) -> TopicName {
    TopicName(StrBytes::from_string(name.to_string()))
}

fn describe(topic: &MetadataResponseTopic) -> Option<TopicDescription> {
    let name = topic.name.as_ref()?.to_string();
    let mut partitions: Vec<PartitionInfo> = topic
        .partitions
        .iter()
        .map(|partition| PartitionInfo {
            partition: partition.partition_index,
            leader: Some(partition.leader_id.0).filter(|id| *id >= 0),
            replicas: partition.replica_nodes.iter().map(|id| id.0).collect(),
            isr: partition.isr_nodes.iter().map(|id| id.0).collect(),
        })
        .collect();
    partitions.sort_by_key(|partition| partition.partition);
    Some(TopicDescription {
        name,
        topic_id: topic_id(topic.topic_id),
        internal: topic.is_internal,
        partitions,
    })
}

/// Items the broker did not answer for get an error of their own rather than vanishing.
fn complete<T>(
    names: &[String],
    results: ItemResults<String, T>,
) -> BTreeMap<String, Result<T, KafkaError>> {
    let mut map: BTreeMap<String, Result<T, KafkaError>> = results.into_iter().collect();
    for name in names {
        map.entry(name.clone()).or_insert_with(|| {
            Err(KafkaError::new(
                KafkaError::UNKNOWN_SERVER_ERROR,
                Some("the broker's response did not mention it".into()),
            ))
        });
    }
    map
}

impl AdminClient {
    /// Every topic (Metadata with all topics), internal ones included and flagged.
    pub async fn list_topics(&self) -> Result<BTreeMap<String, TopicDescription>, Error> {
        let metadata = self.cluster.fetch_metadata(None).await?;
        Ok(metadata
            .topics
            .iter()
            .filter(|topic| topic.error_code == 0)
            .filter_map(describe)
            .map(|topic| (topic.name.clone(), topic))
            .collect())
    }

    /// Named topics; a missing one is Err(KafkaError UNKNOWN_TOPIC_OR_PARTITION) in the map.
    pub async fn describe_topics(
        &self,
        names: &[String],
    ) -> Result<BTreeMap<String, Result<TopicDescription, KafkaError>>, Error> {
        if names.is_empty() {
            return Ok(BTreeMap::new());
        }
        let metadata = self.cluster.fetch_metadata(Some(names)).await?;
        let results = metadata
            .topics
            .iter()
            .filter_map(|topic| {
                let name = topic.name.as_ref()?.to_string();
                // LEADER_NOT_AVAILABLE still describes the topic: its partitions lack leaders.
                let result = match topic.error_code {
                    0 | KafkaError::LEADER_NOT_AVAILABLE => describe(topic)
                        .ok_or_else(|| KafkaError::new(KafkaError::UNKNOWN_SERVER_ERROR, None)),
                    code => Err(KafkaError::new(code, None)),
                };
                Some((name, result))
            })
            .collect();
        Ok(complete(names, results))
    }

    pub async fn create_topics(
        &self,
        topics: &[NewTopic],
    ) -> Result<BTreeMap<String, Result<CreatedTopic, KafkaError>>, Error> {
        let names: Vec<String> = topics.iter().map(|topic| topic.name.clone()).collect();
        let by_name: BTreeMap<&str, &NewTopic> = topics
            .iter()
            .map(|topic| (topic.name.as_str(), topic))
            .collect();
        let timeout_ms = self.cluster.broker_timeout_ms();
        let results = self
            .cluster
            .call_per_item(
                Target::Controller,
                names.clone(),
                |pending, _version| {
                    let creatable = pending
                        .iter()
                        .filter_map(|name| by_name.get(name.as_str()))
                        .map(|topic| {
                            CreatableTopic::default()
                                .with_name(topic_name(&topic.name))
                                .with_num_partitions(topic.partitions.unwrap_or(-1))
                                .with_replication_factor(topic.replication_factor.unwrap_or(-1))
                                .with_configs(
                                    topic
                                        .configs
                                        .iter()
                                        .map(|(name, value)| {
                                            CreatableTopicConfig::default()
                                                .with_name(StrBytes::from_string(name.clone()))
                                                .with_value(Some(StrBytes::from_string(
                                                    value.clone(),
                                                )))
                                        })
                                        .collect(),
                                )
                        })
                        .collect();
                    CreateTopicsRequest::default()
                        .with_topics(creatable)
                        .with_timeout_ms(timeout_ms)
                },
                |_pending, response| {
                    Ok(response
                        .topics
                        .into_iter()
                        .map(|topic| {
                            let result =
                                KafkaError::check(topic.error_code, topic.error_message.as_deref())
                                    .map(|()| CreatedTopic {
                                        topic_id: topic_id(topic.topic_id),
                                        partitions: topic.num_partitions,
                                        replication_factor: topic.replication_factor,
                                    });
                            (topic.name.to_string(), result)
                        })
                        .collect())
                },
            )
            .await?;
        Ok(complete(&names, results))
    }

    /// (topic, new total partition count)
    pub async fn create_partitions(
        &self,
        increases: &[(String, i32)],
    ) -> Result<BTreeMap<String, Result<(), KafkaError>>, Error> {
        let names: Vec<String> = increases.iter().map(|(name, _)| name.clone()).collect();
        let counts: BTreeMap<&str, i32> = increases
            .iter()
            .map(|(name, count)| (name.as_str(), *count))
            .collect();
        let timeout_ms = self.cluster.broker_timeout_ms();
        let results = self
            .cluster
            .call_per_item(
                Target::Controller,
                names.clone(),
                |pending, _version| {
                    let topics = pending
                        .iter()
                        .filter_map(|name| {
                            let count = counts.get(name.as_str())?;
                            Some(
                                CreatePartitionsTopic::default()
                                    .with_name(topic_name(name))
                                    .with_count(*count)
                                    // None: the controller places the new partitions.
                                    .with_assignments(None),
                            )
                        })
                        .collect();
                    CreatePartitionsRequest::default()
                        .with_topics(topics)
                        .with_timeout_ms(timeout_ms)
                },
                |_pending, response| {
                    Ok(response
                        .results
                        .into_iter()
                        .map(|result| {
                            let outcome = KafkaError::check(
                                result.error_code,
                                result.error_message.as_deref(),
                            );
                            (result.name.to_string(), outcome)
                        })
                        .collect())
                },
            )
            .await?;
        Ok(complete(&names, results))
    }

    pub async fn delete_topics(
        &self,
        names: &[String],
    ) -> Result<BTreeMap<String, Result<(), KafkaError>>, Error> {
        let timeout_ms = self.cluster.broker_timeout_ms();
        let results = self
            .cluster
            .call_per_item(
                Target::Controller,
                names.to_vec(),
                |pending, version| {
                    let request = DeleteTopicsRequest::default().with_timeout_ms(timeout_ms);
                    // v6 names topics in `topics` (which may use IDs instead); before, in
                    // `topic_names`.
                    if version >= 6 {
                        request.with_topics(
                            pending
                                .iter()
                                .map(|name| {
                                    DeleteTopicState::default().with_name(Some(topic_name(name)))
                                })
                                .collect(),
                        )
                    } else {
                        request
                            .with_topic_names(pending.iter().map(|name| topic_name(name)).collect())
                    }
                },
                |_pending, response| {
                    Ok(response
                        .responses
                        .into_iter()
                        .filter_map(|result| {
                            let outcome = KafkaError::check(
                                result.error_code,
                                result.error_message.as_deref(),
                            );
                            Some((result.name?.to_string(), outcome))
                        })
                        .collect())
                },
            )
            .await?;
        Ok(complete(names, results))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_ids_print_as_kafka_does() {
        assert_eq!(topic_id(Uuid::nil()), None);
        // Kafka's Uuid.toString() of this ID; the UUID's bytes in URL-safe base64.
        let id = Uuid::from_u128(0x7c5c_3b5a_1d5e_4c2f_9f6a_0b1c_2d3e_4f50);
        assert_eq!(topic_id(id).as_deref(), Some("fFw7Wh1eTC-fagscLT5PUA"));
    }
}
