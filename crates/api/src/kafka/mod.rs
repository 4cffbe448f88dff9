//! `kafka.strimzi.io`: Strimzi's `Kafka`, `KafkaNodePool`, `KafkaTopic`, `KafkaUser` and
//! `KafkaRebalance`, served as `v1` (stored) and `v1beta2` with the same schema.

pub mod annotations;
mod certificate_authority;
mod cluster;
mod entity_operator;
mod jvm;
mod listener;
mod node_pool;
mod probe;
mod rebalance;
mod storage;
mod topic;
mod user;
mod zookeeper;

pub use certificate_authority::*;
pub use cluster::*;
pub use entity_operator::*;
pub use jvm::*;
pub use listener::*;
pub use node_pool::*;
pub use probe::*;
pub use rebalance::*;
pub use storage::*;
pub use topic::*;
pub use user::*;
pub use zookeeper::*;

/// The API group of every kind in this module.
pub const GROUP: &str = "kafka.strimzi.io";
/// The version every kind is stored as.
pub const STORAGE_VERSION: &str = "v1";
/// The older version served with the same schema, so existing Strimzi manifests apply unchanged.
pub const LEGACY_VERSION: &str = "v1beta2";
