//! The rolling update: the StatefulSets use `OnDelete`, so the operator decides when each broker
//! restarts: one at a time, followers before masters, each only while every other broker is
//! Ready (see [`crate::assembly::rolling`]). In controller mode the masters are those the
//! controllers elected, and before a master restarts the controllers elect an in-sync replica
//! in its place.
//! `strimzi.io/manual-rolling-update` on a broker's pod or StatefulSet restarts it the same way. With `allowRestart: false` nothing restarts: a condition
//! names the brokers waiting for a restart.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use runtime::{Error, Flow, Readiness};

use super::WAIT_FOR_PODS;
use runtime::pods::is_ready;

use super::observe;
use super::state::BrokerReconcile;
use crate::assembly::annotations::{
    CONFIGURATION_HASH, MANUAL_ROLLING_UPDATE, annotation, is_true,
};
use crate::assembly::rolling::{BrokerPod, next_restart};

pub fn restart_outdated_pods(state: &mut BrokerReconcile) -> BoxFuture<'_, Result<Flow, Error>> {
    Box::pin(async move {
        state.pods = observe::pods(state.applier.client(), &state.model).await?;
        hand_asked_restarts_to_pods(state).await?;
        // What each StatefulSet's pod should have been started with.
        let desired: BTreeMap<String, String> = state
            .desired
            .statefulsets
            .iter()
            .filter_map(|set| {
                let template = set.spec.as_ref()?.template.metadata.as_ref()?;
                let hash = annotation(template, CONFIGURATION_HASH)?;
                Some((format!("{}-0", set.name_any()), hash.to_string()))
            })
            .collect();
        let mut pods: Vec<BrokerPod> = state
            .pods
            .iter()
            .filter_map(|pod| {
                let node = state.model.node_of_pod(&pod.name_any())?;
                let started_with = annotation(&pod.metadata, CONFIGURATION_HASH);
                Some(BrokerPod {
                    node,
                    leads: node.is_master(),
                    ready: is_ready(pod),
                    outdated: started_with != desired.get(&pod.name_any()).map(String::as_str),
                    restart_asked: is_true(&pod.metadata, MANUAL_ROLLING_UPDATE),
                })
            })
            .collect();
        let allow_restart = state.model.allow_restart;
        let names = |chosen: &dyn Fn(&BrokerPod) -> bool| -> Vec<String> {
            let pods = pods.iter().filter(|pod| chosen(pod));
            pods.map(|pod| state.model.pod_name(&pod.node)).collect()
        };
        let held = names(&|pod| pod.outdated && !pod.due(allow_restart));
        let due = names(&|pod| pod.due(allow_restart));
        if !held.is_empty() {
            state.progress.warn(
                "RestartPending",
                format!(
                    "{} must restart to apply the configuration; allowRestart is false, so delete \
                     the pods yourself when convenient (one at a time, replicas first), or \
                     annotate them {MANUAL_ROLLING_UPDATE}=true",
                    held.join(", ")
                ),
            );
        }
        if due.is_empty() {
            return Ok(Flow::Continue);
        }
        state.progress.readiness = Readiness::Rolling(format!(
            "restarting brokers one at a time: {}",
            due.join(", ")
        ));
        if let Some(elected) = &state.elected {
            for pod in &mut pods {
                let name = state.model.pod_name(&pod.node);
                pod.leads = (elected.groups.iter()).any(|group| group.master == Some(name.clone()));
            }
        }
        let Some(node) = next_restart(&pods, allow_restart) else {
            return Ok(Flow::Requeue(WAIT_FOR_PODS));
        };
        let name = state.model.pod_name(&node);
        if hand_mastership_over(state, &name).await {
            return Ok(Flow::Requeue(WAIT_FOR_PODS));
        }
        // A pod being deleted is restarting already.
        let running = state
            .pods
            .iter()
            .find(|pod| pod.name_any() == name && pod.metadata.deletion_timestamp.is_none());
        if let Some(pod) = running {
            tracing::info!(pod = %name, "restarting a broker");
            state
                .progress
                .event("RollingRestart", format!("restarting pod {name}"));
            state.applier.delete(pod).await?;
        }
        Ok(Flow::Requeue(WAIT_FOR_PODS))
    })
}

/// In controller mode, before the master in `pod` restarts, asks the controllers to elect an
/// in-sync replica, so that the group keeps taking writes; the pod restarts on a later pass,
/// once it follows. Whether it asked: when there is no replica to take over, or the election
/// fails, the master restarts as it is and the controllers elect another when it goes.
async fn hand_mastership_over(state: &mut BrokerReconcile, pod: &str) -> bool {
    let Some(elected) = &state.elected else {
        return false;
    };
    let Some(group) = (elected.groups.iter()).find(|group| group.master.as_deref() == Some(pod))
    else {
        return false;
    };
    let Some((successor, broker_id)) = group.handover() else {
        return false;
    };
    let cluster_name = state.admins.cluster_name(&state.model.cluster_ref());
    let elected_now = (state.admins.controllers())
        .elect_master(
            &elected.leader,
            &cluster_name,
            &group.broker_name,
            broker_id,
        )
        .await;
    match elected_now {
        Ok(()) => {
            state.progress.event(
                "MastershipMoved",
                format!(
                    "{successor} leads {} while {pod} restarts",
                    group.broker_name
                ),
            );
            true
        }
        Err(error) => {
            tracing::warn!(%error, %pod, "the controllers did not elect another master first");
            false
        }
    }
}

/// A restart asked on a StatefulSet is handed to its one pod, whose replacement then comes
/// without it, and removed from the StatefulSet, so it is done once. A StatefulSet without a
/// pod yet needs none: its pod will start with the current configuration.
async fn hand_asked_restarts_to_pods(state: &mut BrokerReconcile) -> Result<(), Error> {
    let namespace = &state.model.namespace;
    let asked = state
        .existing
        .values()
        .filter(|set| is_true(&set.metadata, MANUAL_ROLLING_UPDATE));
    for set in asked {
        let pod_name = format!("{}-0", set.name_any());
        if let Some(pod) = state.pods.iter_mut().find(|pod| pod.name_any() == pod_name) {
            state
                .applier
                .annotate::<Pod>(namespace, &pod_name, MANUAL_ROLLING_UPDATE, Some("true"))
                .await?;
            pod.annotations_mut()
                .insert(MANUAL_ROLLING_UPDATE.into(), "true".into());
        }
        state
            .applier
            .annotate::<StatefulSet>(namespace, &set.name_any(), MANUAL_ROLLING_UPDATE, None)
            .await?;
    }
    Ok(())
}
