//! Which cluster, of either product, a resource belongs to.

use kube::Resource;
use runtime::labels::STRIMZI_CLUSTER;

/// The cluster a topic or user belongs to: the `Kafka` (or RocketMQ `Broker`) its
/// `strimzi.io/cluster` label names, in its namespace.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClusterRef {
    pub namespace: String,
    pub name: String,
}

impl ClusterRef {
    /// The cluster of a topic or user; those without a cluster label share one per namespace,
    /// whose name is empty (where they are told they lack one).
    pub fn of_or_unlabelled<K: Resource>(object: &K) -> ClusterRef {
        ClusterRef::of(object).unwrap_or_else(|| ClusterRef {
            namespace: object.meta().namespace.clone().unwrap_or_default(),
            name: String::new(),
        })
    }

    pub fn of<K: Resource>(object: &K) -> Option<ClusterRef> {
        Some(ClusterRef {
            namespace: object.meta().namespace.clone()?,
            name: object.meta().labels.as_ref()?.get(STRIMZI_CLUSTER)?.clone(),
        })
    }
}

impl std::fmt::Display for ClusterRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}
