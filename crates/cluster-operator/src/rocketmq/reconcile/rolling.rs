//! The rolling update: the StatefulSets use `OnDelete`, so the operator decides when each broker
//! restarts: one at a time, replicas before masters, each only while every other broker is Ready
//! (see [`crate::rocketmq::rolling`]). With `allowRestart: false` nothing restarts: a condition
//! names the brokers waiting for a restart.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use runtime::{Error, Flow};

use super::WAIT_FOR_PODS;
use runtime::pods::is_ready;

use super::observe;
use super::state::BrokerReconcile;
use crate::rocketmq::annotations::{CONFIGURATION_HASH, annotation};
use crate::rocketmq::rolling::{BrokerPod, next_restart};

pub fn restart_outdated_pods(state: &mut BrokerReconcile) -> BoxFuture<'_, Result<Flow, Error>> {
    Box::pin(async move {
        state.pods = observe::pods(state.applier.client(), &state.model).await?;
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
        let pods: Vec<BrokerPod> = state
            .pods
            .iter()
            .filter_map(|pod| {
                let node = state.model.node_of_pod(&pod.name_any())?;
                let started_with = annotation(&pod.metadata, CONFIGURATION_HASH);
                Some(BrokerPod {
                    node,
                    ready: is_ready(pod),
                    outdated: started_with != desired.get(&pod.name_any()).map(String::as_str),
                })
            })
            .collect();
        let outdated: Vec<String> = pods
            .iter()
            .filter(|pod| pod.outdated)
            .map(|pod| state.model.pod_name(&pod.node))
            .collect();
        if outdated.is_empty() {
            return Ok(Flow::Continue);
        }
        if !state.model.allow_restart {
            state.warn(
                "RestartPending",
                format!(
                    "{} must restart to apply the configuration; allowRestart is false, so delete \
                     the pods yourself when convenient (one at a time, replicas first)",
                    outdated.join(", ")
                ),
            );
            return Ok(Flow::Continue);
        }
        state.not_ready = Some((
            "RollingUpdate".into(),
            format!("restarting brokers one at a time: {}", outdated.join(", ")),
        ));
        let Some(node) = next_restart(&pods) else {
            return Ok(Flow::Requeue(WAIT_FOR_PODS));
        };
        let pod = state.model.pod_name(&node);
        tracing::info!(%pod, "restarting an outdated broker");
        state
            .events
            .push(("RollingRestart", format!("restarting pod {pod}")));
        state
            .applier
            .delete::<Pod>(&state.model.namespace, &pod)
            .await?;
        Ok(Flow::Requeue(WAIT_FOR_PODS))
    })
}
