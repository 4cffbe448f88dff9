//! The rolling update: the StatefulSets use `OnDelete`, so the operator decides when each broker
//! restarts: one at a time, followers before masters (in controller mode, the masters the name
//! servers list), each only while every other broker is Ready (see [`crate::assembly::rolling`]).
//! `strimzi.io/manual-rolling-update` on a broker's pod or StatefulSet restarts it the same way. With `allowRestart: false` nothing restarts: a condition
//! names the brokers waiting for a restart.

use std::collections::{BTreeMap, BTreeSet};

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
use crate::assembly::names;
use crate::assembly::rolling::{BrokerPod, leading_pods, next_restart};

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
        // Asked only when a restart is due: which brokers lead decides the order, nothing else.
        if let Some(leading) = elected_masters(state).await {
            for pod in &mut pods {
                pod.leads = leading.contains(&state.model.pod_name(&pod.node));
            }
        }
        let Some(node) = next_restart(&pods, allow_restart) else {
            return Ok(Flow::Requeue(WAIT_FOR_PODS));
        };
        let name = state.model.pod_name(&node);
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

/// In controller mode, the pods of the brokers the controllers elected, as the name servers list
/// them; `None` (the pods' names decide) in STATIC mode or when the name servers cannot say.
async fn elected_masters(state: &BrokerReconcile) -> Option<BTreeSet<String>> {
    state.model.controllers.as_ref()?;
    let cluster = state.model.cluster_ref();
    let admin = state.admins.admin(&cluster).await.ok()?;
    let info = admin.cluster_info().await.ok()?;
    let name = state.admins.cluster_name(&cluster);
    let masters: Vec<String> = info.masters(&name).into_iter().map(|(_, at)| at).collect();
    let pods: Vec<(String, String)> = (state.pods.iter())
        .filter_map(|pod| Some((pod.name_any(), pod.status.as_ref()?.pod_ip.clone()?)))
        .collect();
    Some(leading_pods(&masters, &pods, names::BROKER_PORT)).filter(|found| !found.is_empty())
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
