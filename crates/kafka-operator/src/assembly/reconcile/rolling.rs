//! The rolling update: the StatefulSets use `OnDelete`, so the operator decides when each pod
//! restarts. This step gathers the pods, their StatefulSets' revisions and Kafka's answer, and
//! carries out what [`crate::assembly::rolling`] decides.

use std::collections::BTreeMap;

use api::kafka::annotations::MANUAL_ROLLING_UPDATE_ANNOTATION;
use futures::future::BoxFuture;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::Api;
use runtime::{Error, Flow, Readiness};

use runtime::pods::{self, is_ready};

use super::WAIT_FOR_PODS;
use super::state::KafkaReconcile;
use crate::admin::{AdminError, observe_availability};
use crate::assembly::availability::Availability;
use crate::assembly::config_maps::node_config_hash;
use crate::assembly::model::Node;
use crate::assembly::rolling::{
    CONFIGURATION_HASH_ANNOTATION, OutdatedNode, PodConfig, RollStep, next_restart, pod_config,
    restart_asked,
};
use operator_common::cluster_ref::ClusterRef;

pub fn restart_outdated_pods(state: &mut KafkaReconcile) -> BoxFuture<'_, Result<Flow, Error>> {
    Box::pin(async move {
        // The pods are listed once; readiness, the next step, reads them too.
        let mut pods = list_pods(state).await?;
        let revisions = update_revisions(state, &mut pods).await?;
        let nodes: BTreeMap<String, Node> = state
            .model
            .nodes()
            .map(|node| (state.model.pod_name(&node), node))
            .collect();
        let mut outdated = BTreeMap::new();
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
            match pod_config(pod, &desired_hash, &revisions) {
                PodConfig::Unstamped => {
                    let (namespace, key) = (&state.model.namespace, CONFIGURATION_HASH_ANNOTATION);
                    state
                        .applier
                        .annotate::<Pod>(namespace, &pod.name_any(), key, Some(&desired_hash))
                        .await?
                }
                PodConfig::Outdated => {
                    let roles = node.roles;
                    let candidate = OutdatedNode {
                        id: node.id,
                        controller: roles.controller,
                        ready: is_ready(pod),
                    };
                    outdated.insert(node.id, (candidate, pod));
                }
                PodConfig::Current => {}
            }
        }
        if outdated.is_empty() {
            state.pods = pods;
            return Ok(Flow::Continue);
        }
        let availability = observe_cluster(state).await;
        let candidates: Vec<OutdatedNode> = outdated.values().map(|(node, _)| *node).collect();
        let all_ready = pods.iter().all(is_ready);
        match next_restart(
            &candidates,
            all_ready,
            availability.as_ref().map_err(String::as_str),
        ) {
            RollStep::Restart(id) => {
                let pod = outdated[&id].1;
                tracing::info!(pod = %pod.name_any(), "restarting an outdated Kafka pod");
                state.progress.event(
                    "RollingRestart",
                    format!("restarting pod {}", pod.name_any()),
                );
                state.applier.delete(pod).await?;
            }
            RollStep::Wait(Some(reason)) => {
                tracing::info!(%reason, "waiting before a restart");
                state.progress.readiness = Readiness::Rolling(reason);
            }
            RollStep::Wait(None) => {}
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
/// StatefulSet is handed to its `pods` (each restart then clears it with the pod) and removed.
async fn update_revisions(
    state: &KafkaReconcile,
    pods: &mut [Pod],
) -> Result<BTreeMap<String, String>, Error> {
    let namespace = &state.model.namespace;
    let api: Api<StatefulSet> = Api::namespaced(state.applier.client().clone(), namespace);
    let mut revisions = BTreeMap::new();
    for desired in &state.desired.statefulsets {
        let Some(live) = api.get_opt(&desired.name_any()).await? else {
            continue;
        };
        if restart_asked(&live) {
            let key = MANUAL_ROLLING_UPDATE_ANNOTATION;
            for pod in pods.iter_mut() {
                let owned = pod
                    .owner_references()
                    .iter()
                    .any(|owner| owner.name == live.name_any());
                if owned {
                    state
                        .applier
                        .annotate::<Pod>(namespace, &pod.name_any(), key, Some("true"))
                        .await?;
                    pod.annotations_mut().insert(key.into(), "true".into());
                }
            }
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

/// The pods of every node of the cluster.
async fn list_pods(state: &KafkaReconcile) -> Result<Vec<Pod>, Error> {
    let (client, model) = (state.applier.client(), &state.model);
    pods::list_selected(client, &model.namespace, &model.node_selector()).await
}
