//! Which Kafka pod restarts next, as Strimzi rolls: one at a time; a pod that is down first (it
//! serves nothing); otherwise only while every pod is Ready, brokers before controllers and the
//! active controller last of all, each only once Kafka says no partition would drop below
//! `min.insync.replicas`. Pure: the rolling-update step gathers the pods and Kafka's answer.

use std::collections::BTreeMap;

use api::kafka::annotations::MANUAL_ROLLING_UPDATE_ANNOTATION;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;

use super::availability::Availability;

/// What a pod was started with: the hash of its `server.properties` and the fingerprint of its
/// certificate.
pub const CONFIGURATION_HASH_ANNOTATION: &str = "brokerage.io/configuration-hash";

/// How a running pod compares with what the model wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodConfig {
    /// Created after its configuration was applied, so it runs it; not stamped with it yet.
    Unstamped,
    /// Started with another configuration or template, or a restart was asked for it.
    Outdated,
    Current,
}

/// Compares `pod` with `desired_hash` and with its StatefulSet's current template `revisions`
/// (by StatefulSet name).
pub fn pod_config(
    pod: &Pod,
    desired_hash: &str,
    revisions: &BTreeMap<String, String>,
) -> PodConfig {
    match pod.annotations().get(CONFIGURATION_HASH_ANNOTATION) {
        None => PodConfig::Unstamped,
        Some(started_with) if started_with != desired_hash => PodConfig::Outdated,
        Some(_) if old_template(pod, revisions) || restart_asked(pod) => PodConfig::Outdated,
        Some(_) => PodConfig::Current,
    }
}

/// Whether a pod runs an old template of its StatefulSet.
fn old_template(pod: &Pod, revisions: &BTreeMap<String, String>) -> bool {
    let owner = pod
        .owner_references()
        .iter()
        .find(|owner| owner.kind == "StatefulSet");
    let revision = owner.and_then(|owner| revisions.get(&owner.name));
    let pod_revision = pod.labels().get("controller-revision-hash");
    revision.is_some() && pod_revision.is_some() && pod_revision != revision
}

/// Whether a user asked for a restart (`strimzi.io/manual-rolling-update`) on `object`.
pub fn restart_asked<K: kube::Resource>(object: &K) -> bool {
    object
        .meta()
        .annotations
        .as_ref()
        .and_then(|annotations| annotations.get(MANUAL_ROLLING_UPDATE_ANNOTATION))
        .is_some_and(|value| value == "true")
}

/// One node whose pod is outdated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutdatedNode {
    pub id: i32,
    pub controller: bool,
    pub ready: bool,
}

/// What the roll does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RollStep {
    /// Restart the pod of this node.
    Restart(i32),
    /// Restart nothing now; the reason, when there is one worth a condition.
    Wait(Option<String>),
}

/// Which of the `outdated` nodes restarts next, given whether every pod of the cluster is Ready
/// and what Kafka said (or why it could not be asked: a changed certificate, say; then only a
/// pod that is down restarts, since the others still serve).
pub fn next_restart(
    outdated: &[OutdatedNode],
    all_ready: bool,
    availability: Result<&Availability, &str>,
) -> RollStep {
    let mut order: Vec<&OutdatedNode> = outdated.iter().collect();
    order.sort_by_key(|node| {
        let active = availability.is_ok_and(|availability| availability.restarts_last(node.id));
        (node.controller, active, node.id)
    });
    if let Some(down) = order.iter().find(|node| !node.ready) {
        return RollStep::Restart(down.id);
    }
    if order.is_empty() || !all_ready {
        return RollStep::Wait(None);
    }
    let availability = match availability {
        Ok(availability) => availability,
        Err(error) => {
            return RollStep::Wait(Some(format!(
                "waiting to restart nodes {:?}: Kafka cannot be asked whether a restart keeps \
                 every partition available: {error}",
                order.iter().map(|node| node.id).collect::<Vec<_>>()
            )));
        }
    };
    let mut blockers = Vec::new();
    for node in order {
        match availability.restart_blocker(node.id) {
            None => return RollStep::Restart(node.id),
            Some(blocker) => blockers.push(blocker),
        }
    }
    RollStep::Wait(Some(blockers.join("; ")))
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
    use kube::api::ObjectMeta;

    use super::*;
    use crate::assembly::availability::one_partition as availability;

    fn node(id: i32, controller: bool, ready: bool) -> OutdatedNode {
        OutdatedNode {
            id,
            controller,
            ready,
        }
    }

    #[test]
    fn brokers_restart_before_controllers_and_the_active_controller_last() {
        let kafka = availability(&[0, 1, 2], &[0, 1, 2], 1);
        let mut outdated = vec![
            node(3, true, true),
            node(4, true, true),
            node(1, false, true),
            node(0, false, true),
        ];
        let mut order = Vec::new();
        while let RollStep::Restart(id) = next_restart(&outdated, true, Ok(&kafka)) {
            order.push(id);
            outdated.retain(|node| node.id != id);
        }
        assert_eq!(order, [0, 1, 4, 3]);
    }

    #[test]
    fn without_an_answer_from_kafka_only_pods_that_are_down_restart() {
        let unreachable = Err("connection refused");
        let all_up = [node(0, false, true), node(1, false, true)];
        let RollStep::Wait(Some(reason)) = next_restart(&all_up, true, unreachable) else {
            panic!("a roll without availability checks");
        };
        assert!(
            reason.contains("[0, 1]") && reason.contains("connection refused"),
            "{reason}"
        );
        // A pod that is down serves nothing: it restarts whatever Kafka says.
        let down = [node(0, false, true), node(1, false, false)];
        assert_eq!(
            next_restart(&down, false, unreachable),
            RollStep::Restart(1)
        );
    }

    #[test]
    fn the_first_node_kafka_lets_go_restarts_while_all_are_ready() {
        let shrunk = availability(&[0, 1], &[0, 1, 2], 2);
        let outdated = [node(0, false, true), node(2, false, true)];
        assert_eq!(
            next_restart(&outdated, true, Ok(&shrunk)),
            RollStep::Restart(2)
        );
        assert_eq!(
            next_restart(&outdated, false, Ok(&shrunk)),
            RollStep::Wait(None)
        );
        let only_needed = [node(0, false, true)];
        let RollStep::Wait(Some(reason)) = next_restart(&only_needed, true, Ok(&shrunk)) else {
            panic!("node 0 is needed");
        };
        assert!(reason.contains("orders-0"), "{reason}");
        assert_eq!(next_restart(&[], true, Ok(&shrunk)), RollStep::Wait(None));
    }

    fn pod(hash: Option<&str>, revision: &str, asked: bool) -> Pod {
        let mut annotations = BTreeMap::new();
        if let Some(hash) = hash {
            annotations.insert(CONFIGURATION_HASH_ANNOTATION.to_string(), hash.to_string());
        }
        if asked {
            annotations.insert(MANUAL_ROLLING_UPDATE_ANNOTATION.to_string(), "true".into());
        }
        Pod {
            metadata: ObjectMeta {
                name: Some("c-pool-0".into()),
                annotations: Some(annotations),
                labels: Some([("controller-revision-hash".into(), revision.into())].into()),
                owner_references: Some(vec![OwnerReference {
                    kind: "StatefulSet".into(),
                    name: "c-pool".into(),
                    ..OwnerReference::default()
                }]),
                ..ObjectMeta::default()
            },
            ..Pod::default()
        }
    }

    #[test]
    fn a_pod_is_outdated_by_its_configuration_its_template_or_a_request() {
        let revisions = BTreeMap::from([("c-pool".to_string(), "r2".to_string())]);
        let config = |pod: &Pod| pod_config(pod, "h1", &revisions);
        assert_eq!(config(&pod(None, "r2", false)), PodConfig::Unstamped);
        assert_eq!(config(&pod(Some("h1"), "r2", false)), PodConfig::Current);
        assert_eq!(config(&pod(Some("h0"), "r2", false)), PodConfig::Outdated);
        assert_eq!(config(&pod(Some("h1"), "r1", false)), PodConfig::Outdated);
        assert_eq!(config(&pod(Some("h1"), "r2", true)), PodConfig::Outdated);
        // A StatefulSet whose revision is unknown outdates nothing.
        let unknown = pod_config(&pod(Some("h1"), "r1", false), "h1", &BTreeMap::new());
        assert_eq!(unknown, PodConfig::Current);
    }
}
