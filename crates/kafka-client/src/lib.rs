//! An async Kafka admin client: topics, configurations, ACLs, SCRAM credentials, client
//! quotas and feature levels, partition reassignments, leader elections, log directories,
//! replication throttles and the KRaft controller quorum, and the partition and consumer group offsets a metrics exporter
//! reads, over plain TCP or TLS, with SASL PLAIN or SCRAM-SHA-512. See `docs/kafka-client.md`.
//!
//! ```no_run
//! # async fn example() -> Result<(), kafka_client::Error> {
//! use kafka_client::{AdminClient, ClientConfig};
//! let client = AdminClient::connect(ClientConfig::new(["127.0.0.1:9092"])).await?;
//! let topics = client.list_topics().await?;
//! # Ok(()) }
//! ```

mod acls;
mod client;
mod cluster;
mod config;
mod configs;
mod connection;
mod error;
mod features;
mod frame;
mod groups;
mod offsets;
mod quorum;
mod quotas;
mod reassignments;
mod scram;
mod scram_credentials;
mod throttles;
mod tls;
mod topics;

pub use acls::{
    AclBinding, AclBindingFilter, AclOperation, AclPermission, PatternType, ResourceType,
};
pub use client::{AdminClient, BrokerInfo, ClusterDescription};
pub use config::{ClientCertificate, ClientConfig, Connector, SaslConfig, TlsConfig};
pub use configs::{ConfigEntry, ConfigOp, ConfigResource, ConfigSource};
pub use error::{Error, KafkaError};
pub use features::{KRAFT_VERSION_FEATURE, METADATA_VERSION_FEATURE};
pub use offsets::OffsetSpec;
pub use quorum::{QuorumInfo, QuorumMember, RaftEndpoint};
pub use quotas::{QuotaAlteration, QuotaEntity, QuotaFilter, QuotaMatch};
pub use reassignments::{LogDir, LogDirPartition, Reassignment};
pub use scram_credentials::{ScramAlteration, ScramCredentialInfo, ScramMechanism};
pub use throttles::{
    FOLLOWER_THROTTLED_RATE, FOLLOWER_THROTTLED_REPLICAS, LEADER_THROTTLED_RATE,
    LEADER_THROTTLED_REPLICAS,
};
pub use topics::{CreatedTopic, NewTopic, PartitionInfo, TopicDescription};
/// The UUID type of directory IDs ([`QuorumMember::directory_id`]).
pub use uuid::Uuid;
