//! The rolling update: the StatefulSets use `OnDelete`, so the operator decides when each pod
//! restarts. One pod at a time, brokers before controllers, each only while every other pod is
//! Ready.

use std::collections::BTreeMap;

use api::kafka::annotations::MANUAL_ROLLING_UPDATE_ANNOTATION;
use futures::future::BoxFuture;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::Api;
use runtime::{Error, Flow, Readiness};

use super::WAIT_FOR_PODS;
use runtime::pods::is_ready;

use super::readiness::list_pods;
use super::state::KafkaReconcile;
use crate::admin::{AdminError, ClusterRef, observe_availability};
use crate::kafka::availability::{Availability, RollStep, next_restart};
use crate::kafka::config_maps::node_config_hash;
use crate::kafka::model::Node;

/// What a pod was started with: the hash of its `server.properties` and the fingerprint of its
/// certificate.
pub const CONFIGURATION_HASH_ANNOTATION: &str = "brokerage.io/configuration-hash";

pub fn restart_outdated_pods(state: &mut KafkaReconcile) -> BoxFuture<'_, Result<Flow, Error>> {
    Box::pin(async move {
        let revisions = update_revisions(state).await?;
        let pods = list_pods(state).await?;
        let nodes: BTreeMap<String, Node> = state
            .model
            .nodes()
            .map(|node| (state.model.pod_name(&node), node))
            .collect();

        let mut outdated = Vec::new();
        // A pod being deleted is restarting already.
        let running = pods
            .iter()
            .filter(|pod| pod.metadata.deletion_timestamp.is_none());
        for pod in running {
            let Some(node) = nodes.get(&pod.name_any()) else {
                continue;
            };
            let certificate = state
                .node_certificates
                .get(&pod.name_any())
                .map_or("", String::as_str);
            let desired_hash = format!("{}.{certificate}", node_config_hash(&state.model, node));
            match pod.annotations().get(CONFIGURATION_HASH_ANNOTATION) {
                // A new pod was created after its ConfigMap was applied: it runs this config.
                None => {
                    state
                        .applier
                        .annotate::<Pod>(
                            &state.model.namespace,
                            &pod.name_any(),
                            CONFIGURATION_HASH_ANNOTATION,
                            Some(&desired_hash),
                        )
                        .await?
                }
                Some(started_with) if *started_with != desired_hash => {
                    tracing::debug!(pod = %pod.name_any(), %started_with, desired = %desired_hash, "outdated");
                    outdated.push((node, pod))
                }
                Some(_) if needs_restart(pod, &revisions) => outdated.push((node, pod)),
                Some(_) => {}
            }
        }
        if outdated.is_empty() {
            return Ok(Flow::Continue);
        }
        let availability = observe_cluster(state).await;
        // Brokers first, controllers (and dual-role nodes) last, the active controller last of
        // all, as Strimzi rolls.
        outdated.sort_by_key(|(node, _)| {
            let active = availability
                .as_ref()
                .is_ok_and(|availability| availability.restarts_last(node.id));
            (node.roles.controller, active, node.id)
        });

        let candidates: Vec<(i32, bool)> = outdated
            .iter()
            .map(|(node, pod)| (node.id, is_ready(pod)))
            .collect();
        let all_ready = pods.iter().all(is_ready);
        match next_restart(
            &candidates,
            all_ready,
            availability.as_ref().map_err(String::as_str),
        ) {
            RollStep::Restart(index) => {
                let pod = outdated[index].1;
                tracing::info!(pod = %pod.name_any(), "restarting an outdated Kafka pod");
                state.progress.event(
                    "RollingRestart",
                    format!("restarting pod {}", pod.name_any()),
                );
                state.applier.delete(pod).await?;
            }
            RollStep::Wait(reason) => {
                if let Some(reason) = reason {
                    tracing::info!(%reason, "waiting before a restart");
                    state.progress.readiness = Readiness::Rolling(reason);
                }
            }
        }
        Ok(Flow::Requeue(WAIT_FOR_PODS))
    })
}

/// What Kafka says restarts must respect, or why it cannot be asked.
async fn observe_cluster(state: &KafkaReconcile) -> Result<Availability, String> {
    let cluster = ClusterRef {
        namespace: state.model.namespace.clone(),
        name: state.model.cluster.clone(),
    };
    let observed = match state.admins.admin(&cluster).await {
        Ok(admin) => observe_availability(&admin).await.map_err(AdminError::from),
        Err(error) => Err(error),
    };
    observed.map_err(|error| {
        tracing::info!(%cluster, %error, "Kafka cannot be asked whether a restart is safe");
        error.to_string()
    })
}

/// Each StatefulSet's current template revision. A manual rolling update asked on a
/// StatefulSet is handed to its pods (each restart then clears it with the pod) and removed.
async fn update_revisions(state: &KafkaReconcile) -> Result<BTreeMap<String, String>, Error> {
    let namespace = &state.model.namespace;
    let api: Api<StatefulSet> = Api::namespaced(state.applier.client().clone(), namespace);
    let mut revisions = BTreeMap::new();
    for desired in &state.desired.statefulsets {
        let Some(live) = api.get_opt(&desired.name_any()).await? else {
            continue;
        };
        if manual_rolling_update(&live) {
            for pod in list_pods(state).await? {
                let owned = pod
                    .owner_references()
                    .iter()
                    .any(|owner| owner.name == live.name_any());
                if owned {
                    let key = MANUAL_ROLLING_UPDATE_ANNOTATION;
                    state
                        .applier
                        .annotate::<Pod>(namespace, &pod.name_any(), key, Some("true"))
                        .await?;
                }
            }
            let key = MANUAL_ROLLING_UPDATE_ANNOTATION;
            state
                .applier
                .annotate::<StatefulSet>(namespace, &live.name_any(), key, None)
                .await?;
        }
        if let Some(revision) = live.status.and_then(|status| status.update_revision) {
            revisions.insert(desired.name_any(), revision);
        }
    }
    Ok(revisions)
}

/// Whether a pod runs an old template of its StatefulSet, or a restart was asked for it.
fn needs_restart(pod: &Pod, revisions: &BTreeMap<String, String>) -> bool {
    let owner = pod
        .owner_references()
        .iter()
        .find(|owner| owner.kind == "StatefulSet");
    let revision = owner.and_then(|owner| revisions.get(&owner.name));
    let pod_revision = pod.labels().get("controller-revision-hash");
    let old_template = revision.is_some() && pod_revision.is_some() && pod_revision != revision;
    old_template || manual_rolling_update(pod)
}

fn manual_rolling_update<K: kube::Resource>(object: &K) -> bool {
    object
        .meta()
        .annotations
        .as_ref()
        .and_then(|annotations| annotations.get(MANUAL_ROLLING_UPDATE_ANNOTATION))
        .is_some_and(|value| value == "true")
}
