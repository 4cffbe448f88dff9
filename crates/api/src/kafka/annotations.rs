//! Labels and annotations with a meaning in Strimzi's API, which existing tooling relies on.

/// Label on node pools, topics and users naming the Kafka cluster they belong to.
pub const CLUSTER_LABEL: &str = "strimzi.io/cluster";
/// `"true"` on a Kafka or KafkaNodePool stops reconciliation until removed.
pub const PAUSE_RECONCILIATION_ANNOTATION: &str = "strimzi.io/pause-reconciliation";
/// `"true"` on a pod or node pool asks for a rolling restart in the next reconciliation.
pub const MANUAL_ROLLING_UPDATE_ANNOTATION: &str = "strimzi.io/manual-rolling-update";
/// `"enabled"` on a Kafka when its nodes come from KafkaNodePools.
pub const NODE_POOLS_ANNOTATION: &str = "strimzi.io/node-pools";
/// `"enabled"` on a Kafka running in KRaft mode.
pub const KRAFT_ANNOTATION: &str = "strimzi.io/kraft";
