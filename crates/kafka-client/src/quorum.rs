//! The KRaft controller quorum: who leads it and who votes (DescribeQuorum), and, on a dynamic
//! quorum (KIP-853: Kafka 4.1 or later, `kraft.version` 1), adding and removing voters
//! (AddRaftVoter, RemoveRaftVoter) to scale the controllers or replace one.

use kafka_protocol::messages::describe_quorum_request::{PartitionData, TopicData};
use kafka_protocol::messages::describe_quorum_response::ReplicaState;
use kafka_protocol::messages::{
    AddRaftVoterRequest, DescribeQuorumRequest, DescribeQuorumResponse, RemoveRaftVoterRequest,
    TopicName, add_raft_voter_request,
};
use kafka_protocol::protocol::StrBytes;
use uuid::Uuid;

use crate::client::AdminClient;
use crate::cluster::Target;
use crate::error::{Error, KafkaError};

/// The KRaft metadata log, whose leader is the active controller.
const METADATA_TOPIC: &str = "__cluster_metadata";

/// The quorum of the KRaft metadata log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuorumInfo {
    /// The active controller; `None` during an election.
    pub leader_id: Option<i32>,
    pub leader_epoch: i32,
    pub high_watermark: i64,
    /// The controllers that vote.
    pub voters: Vec<QuorumMember>,
    /// Nodes that replicate the log without voting: brokers, and controllers not (yet) voters.
    pub observers: Vec<QuorumMember>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuorumMember {
    pub id: i32,
    /// The directory ID of the node's metadata log (KIP-853), which AddRaftVoter and
    /// RemoveRaftVoter name a voter by; `None` from a static quorum or an older broker.
    pub directory_id: Option<Uuid>,
    pub log_end_offset: i64,
    /// The controller listeners a voter is reached on; empty for observers, and from brokers
    /// before DescribeQuorum v2.
    pub endpoints: Vec<RaftEndpoint>,
}

/// A controller listener of a voter.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RaftEndpoint {
    /// The listener's name, such as `CONTROLLER`.
    pub listener: String,
    pub host: String,
    pub port: u16,
}

fn describe_quorum_request(_version: i16) -> DescribeQuorumRequest {
    DescribeQuorumRequest::default().with_topics(vec![
        TopicData::default()
            .with_topic_name(TopicName(StrBytes::from_static_str(METADATA_TOPIC)))
            .with_partitions(vec![PartitionData::default().with_partition_index(0)]),
    ])
}

fn quorum_info(response: &DescribeQuorumResponse) -> Result<QuorumInfo, Error> {
    KafkaError::check(response.error_code, response.error_message.as_deref())?;
    let partition = response
        .topics
        .iter()
        .filter(|topic| topic.topic_name.as_str() == METADATA_TOPIC)
        .flat_map(|topic| &topic.partitions)
        .find(|partition| partition.partition_index == 0)
        .ok_or_else(|| {
            Error::Protocol(format!("DescribeQuorum did not describe {METADATA_TOPIC}"))
        })?;
    KafkaError::check(partition.error_code, partition.error_message.as_deref())?;
    let member = |replica: &ReplicaState| QuorumMember {
        id: replica.replica_id.0,
        directory_id: Some(replica.replica_directory_id).filter(|id| !id.is_nil()),
        log_end_offset: replica.log_end_offset,
        endpoints: response
            .nodes
            .iter()
            .filter(|node| node.node_id == replica.replica_id)
            .flat_map(|node| &node.listeners)
            .map(|listener| RaftEndpoint {
                listener: listener.name.to_string(),
                host: listener.host.to_string(),
                port: listener.port,
            })
            .collect(),
    };
    Ok(QuorumInfo {
        leader_id: Some(partition.leader_id.0).filter(|id| *id >= 0),
        leader_epoch: partition.leader_epoch,
        high_watermark: partition.high_watermark,
        voters: partition.current_voters.iter().map(member).collect(),
        observers: partition.observers.iter().map(member).collect(),
    })
}

impl AdminClient {
    /// The metadata quorum: its leader (the active controller), its voters and its observers,
    /// with the directory IDs and endpoints that adding or removing a voter needs.
    pub async fn describe_quorum(&self) -> Result<QuorumInfo, Error> {
        self.cluster
            .call(Target::Any, describe_quorum_request, |response| {
                quorum_info(&response)
            })
            .await
    }

    /// The node id of the active KRaft controller (DescribeQuorum: leader of __cluster_metadata).
    pub async fn active_controller(&self) -> Result<i32, Error> {
        self.cluster
            .call(Target::Any, describe_quorum_request, |response| {
                match quorum_info(&response)?.leader_id {
                    Some(id) => Ok(id),
                    // No leader during an election: retriable.
                    None => Err(KafkaError::new(KafkaError::LEADER_NOT_AVAILABLE, None).into()),
                }
            })
            .await
    }

    /// Makes controller `voter_id`, whose metadata log directory is `directory_id`, a voter of a
    /// dynamic quorum, reached on `endpoints` (its controller listeners). The node must already
    /// run and replicate the log as an observer; Kafka refuses it while it lags, and refuses
    /// a static quorum (`controller.quorum.voters`) until
    /// [`KRAFT_VERSION_FEATURE`](crate::KRAFT_VERSION_FEATURE) is upgraded to 1.
    pub async fn add_raft_voter(
        &self,
        voter_id: i32,
        directory_id: Uuid,
        endpoints: &[RaftEndpoint],
    ) -> Result<(), Error> {
        let cluster_id = self.cluster.cluster_id().map(StrBytes::from_string);
        let timeout_ms = self.cluster.broker_timeout_ms();
        let listeners: Vec<add_raft_voter_request::Listener> = endpoints
            .iter()
            .map(|endpoint| {
                add_raft_voter_request::Listener::default()
                    .with_name(StrBytes::from_string(endpoint.listener.clone()))
                    .with_host(StrBytes::from_string(endpoint.host.clone()))
                    .with_port(endpoint.port)
            })
            .collect();
        let request = |_version| {
            AddRaftVoterRequest::default()
                .with_cluster_id(cluster_id.clone())
                .with_timeout_ms(timeout_ms)
                .with_voter_id(voter_id)
                .with_voter_directory_id(directory_id)
                .with_listeners(listeners.clone())
        };
        self.cluster
            .call(Target::Controller, request, |response| {
                KafkaError::check(response.error_code, response.error_message.as_deref())
                    .map_err(Error::from)
            })
            .await
    }

    /// Removes voter `voter_id` (with metadata log directory `directory_id`) from a dynamic
    /// quorum, before its controller is shut down for good or to replace its disk.
    pub async fn remove_raft_voter(&self, voter_id: i32, directory_id: Uuid) -> Result<(), Error> {
        let cluster_id = self.cluster.cluster_id().map(StrBytes::from_string);
        let request = |_version| {
            RemoveRaftVoterRequest::default()
                .with_cluster_id(cluster_id.clone())
                .with_voter_id(voter_id)
                .with_voter_directory_id(directory_id)
        };
        self.cluster
            .call(Target::Controller, request, |response| {
                KafkaError::check(response.error_code, response.error_message.as_deref())
                    .map_err(Error::from)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use kafka_protocol::messages::BrokerId;
    use kafka_protocol::messages::describe_quorum_response::{self, Listener, Node};

    use super::*;

    #[test]
    fn voters_get_their_endpoints_and_a_nil_directory_is_none() {
        let directory = Uuid::from_u128(7);
        let replica = |id: i32, directory: Uuid| {
            ReplicaState::default()
                .with_replica_id(BrokerId(id))
                .with_replica_directory_id(directory)
        };
        let response = DescribeQuorumResponse::default()
            .with_topics(vec![
                describe_quorum_response::TopicData::default()
                    .with_topic_name(TopicName(StrBytes::from_static_str(METADATA_TOPIC)))
                    .with_partitions(vec![
                        describe_quorum_response::PartitionData::default()
                            .with_leader_id(BrokerId(-1))
                            .with_current_voters(vec![replica(1, directory)])
                            .with_observers(vec![replica(4, Uuid::nil())]),
                    ]),
            ])
            .with_nodes(vec![
                Node::default()
                    .with_node_id(BrokerId(1))
                    .with_listeners(vec![
                        Listener::default()
                            .with_name(StrBytes::from_static_str("CONTROLLER"))
                            .with_host(StrBytes::from_static_str("c1"))
                            .with_port(9093),
                    ]),
            ]);
        let info = quorum_info(&response).unwrap();
        assert_eq!(info.leader_id, None);
        assert_eq!(info.voters[0].directory_id, Some(directory));
        assert_eq!(
            info.voters[0].endpoints,
            [RaftEndpoint {
                listener: "CONTROLLER".into(),
                host: "c1".into(),
                port: 9093
            }]
        );
        assert_eq!(info.observers[0].id, 4);
        assert_eq!(info.observers[0].directory_id, None);
        assert!(info.observers[0].endpoints.is_empty());

        let empty = DescribeQuorumResponse::default();
        assert!(matches!(quorum_info(&empty), Err(Error::Protocol(_))));
    }
}
