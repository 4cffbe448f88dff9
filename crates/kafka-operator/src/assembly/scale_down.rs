//! What runs now, from the cluster's StatefulSets, and which brokers a change to the node pools
//! removes (the node-removal step drains them before they go). Pure: the node-removal step
//! lists the StatefulSets, then asks this.

use std::collections::BTreeSet;

use k8s_openapi::api::apps::v1::StatefulSet;
use kube::ResourceExt;
use runtime::labels::{STRIMZI_BROKER_ROLE, STRIMZI_CONTROLLER_ROLE};

use super::model::KafkaModel;

/// `"true"` on a Kafka: remove brokers without checking that they are empty, as in Strimzi.
pub const SKIP_BROKER_SCALEDOWN_CHECK_ANNOTATION: &str = "strimzi.io/skip-broker-scaledown-check";

/// The nodes that run now, by role, read from the cluster's StatefulSets (ordinals are node IDs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunningNodes {
    pub brokers: BTreeSet<i32>,
    pub controllers: BTreeSet<i32>,
}

impl RunningNodes {
    pub fn of<'a>(statefulsets: impl IntoIterator<Item = &'a StatefulSet>) -> RunningNodes {
        let mut running = RunningNodes::default();
        for set in statefulsets {
            let Some(spec) = &set.spec else { continue };
            let start = spec
                .ordinals
                .as_ref()
                .and_then(|ordinals| ordinals.start)
                .unwrap_or(0);
            let ids = start..start.saturating_add(spec.replicas.unwrap_or(1).max(0));
            let role = |label: &str| set.labels().get(label).is_some_and(|value| value == "true");
            if role(STRIMZI_BROKER_ROLE) {
                running.brokers.extend(ids.clone());
            }
            if role(STRIMZI_CONTROLLER_ROLE) {
                running.controllers.extend(ids);
            }
        }
        running
    }

    /// Running brokers the model has no broker for: scaled down, in a removed or relabelled
    /// pool, or no longer brokers.
    pub fn leaving_brokers(&self, model: &KafkaModel) -> BTreeSet<i32> {
        let staying: BTreeSet<i32> = model
            .nodes()
            .filter(|node| node.roles.broker)
            .map(|node| node.id)
            .collect();
        self.brokers.difference(&staying).copied().collect()
    }
}

/// Node IDs as a person reads them: `[0, 1, 2]`.
pub fn id_list(ids: &BTreeSet<i32>) -> String {
    format!("{:?}", ids.iter().collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::assembly::testing;

    fn statefulset(
        name: &str,
        start: i32,
        replicas: i32,
        broker: bool,
        controller: bool,
    ) -> StatefulSet {
        serde_json::from_value(json!({
            "metadata": {"name": name, "labels": {
                STRIMZI_BROKER_ROLE: broker.to_string(),
                STRIMZI_CONTROLLER_ROLE: controller.to_string(),
            }},
            "spec": {"replicas": replicas, "ordinals": {"start": start},
                     "selector": {}, "template": {}, "serviceName": "x"},
        }))
        .unwrap()
    }

    #[test]
    fn running_nodes_come_from_ordinals_and_role_labels() {
        let running = RunningNodes::of(&[
            statefulset("c-controller", 0, 3, false, true),
            statefulset("c-broker", 3, 2, true, false),
            statefulset("c-dual", 10, 1, true, true),
        ]);
        assert_eq!(running.controllers, BTreeSet::from([0, 1, 2, 10]));
        assert_eq!(running.brokers, BTreeSet::from([3, 4, 10]));
    }

    #[test]
    fn brokers_the_model_drops_are_leaving() {
        // One dual-role node, 0.
        let model = testing::example_model("ephemeral-single-node");
        let running = RunningNodes {
            brokers: BTreeSet::from([0, 1, 2]),
            controllers: BTreeSet::from([0]),
        };
        assert_eq!(running.leaving_brokers(&model), BTreeSet::from([1, 2]));
    }
}
