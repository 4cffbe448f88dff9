//! The labels every object Brokerage creates carries: Kubernetes' recommended
//! `app.kubernetes.io/*` set plus Strimzi's `strimzi.io/*` set, which clients and tools select on.

use std::collections::BTreeMap;

pub const NAME: &str = "app.kubernetes.io/name";
pub const INSTANCE: &str = "app.kubernetes.io/instance";
pub const PART_OF: &str = "app.kubernetes.io/part-of";
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const STRIMZI_CLUSTER: &str = "strimzi.io/cluster";
pub const STRIMZI_KIND: &str = "strimzi.io/kind";
pub const STRIMZI_NAME: &str = "strimzi.io/name";
pub const STRIMZI_POOL_NAME: &str = "strimzi.io/pool-name";
/// Strimzi's marker that a pod or pool runs Kafka brokers / controllers.
pub const STRIMZI_BROKER_ROLE: &str = "strimzi.io/broker-role";
pub const STRIMZI_CONTROLLER_ROLE: &str = "strimzi.io/controller-role";

pub const OPERATOR: &str = "brokerage";

/// The labels of one object that belongs to a custom resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Labels(BTreeMap<String, String>);

impl Labels {
    /// `kind` is the owning custom resource's kind (`Kafka`, `NameService`, …), `cluster` its
    /// name, and `name` the component (`my-cluster-kafka`, `my-cluster-broker`, …), as Strimzi
    /// sets `strimzi.io/name`.
    pub fn new(kind: &str, cluster: &str, name: &str) -> Labels {
        let component = name
            .strip_prefix(cluster)
            .map(|rest| rest.trim_start_matches('-'));
        Labels(BTreeMap::from([
            (
                NAME.into(),
                component.filter(|c| !c.is_empty()).unwrap_or(name).into(),
            ),
            (INSTANCE.into(), cluster.into()),
            (PART_OF.into(), format!("{OPERATOR}-{cluster}")),
            (MANAGED_BY.into(), OPERATOR.into()),
            (STRIMZI_CLUSTER.into(), cluster.into()),
            (STRIMZI_KIND.into(), kind.into()),
            (STRIMZI_NAME.into(), name.into()),
        ]))
    }

    /// Adds one more label.
    pub fn with(mut self, key: &str, value: &str) -> Labels {
        self.0.insert(key.into(), value.into());
        self
    }

    /// The subset that selects this component's pods (one node pool's, when the labels name a
    /// pool): stable for the life of a StatefulSet, whose selector cannot change.
    pub fn selector(&self) -> BTreeMap<String, String> {
        [
            STRIMZI_CLUSTER,
            STRIMZI_KIND,
            STRIMZI_NAME,
            STRIMZI_POOL_NAME,
        ]
        .iter()
        .filter_map(|key| {
            self.0
                .get(*key)
                .map(|value| (key.to_string(), value.clone()))
        })
        .collect()
    }

    /// Selects every object of one custom resource, for finding orphans.
    pub fn owned_by(kind: &str, cluster: &str) -> String {
        format!("{STRIMZI_KIND}={kind},{STRIMZI_CLUSTER}={cluster},{MANAGED_BY}={OPERATOR}")
    }

    pub fn into_map(self) -> BTreeMap<String, String> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_kubernetes_and_strimzi_conventions() {
        let labels = Labels::new("Kafka", "my-cluster", "my-cluster-kafka")
            .with(STRIMZI_POOL_NAME, "brokers");
        let map = labels.clone().into_map();
        assert_eq!(map[NAME], "kafka");
        assert_eq!(map[INSTANCE], "my-cluster");
        assert_eq!(map[MANAGED_BY], "brokerage");
        assert_eq!(map[STRIMZI_CLUSTER], "my-cluster");
        assert_eq!(map[STRIMZI_KIND], "Kafka");
        assert_eq!(map[STRIMZI_NAME], "my-cluster-kafka");
        assert_eq!(map[STRIMZI_POOL_NAME], "brokers");
        assert_eq!(labels.selector().len(), 4);
        assert!(!labels.selector().contains_key(NAME));
    }
}
