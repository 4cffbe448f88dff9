//! The cluster is Ready when every node's pod exists and is Ready: the pods as the rolling
//! update, which goes on only when none is outdated, listed them. A removed pool's pods do not
//! count: the sweep, after this step, deletes their StatefulSet.

use std::collections::BTreeSet;

use futures::future::BoxFuture;
use kube::ResourceExt;
use runtime::pods::is_ready;
use runtime::{Error, Flow, Readiness};

use super::WAIT_FOR_PODS;
use super::state::KafkaReconcile;

pub fn observe(state: &mut KafkaReconcile) -> BoxFuture<'_, Result<Flow, Error>> {
    Box::pin(async move {
        let model = &state.model;
        let wanted: BTreeSet<String> = model.nodes().map(|node| model.pod_name(&node)).collect();
        let expected = wanted.len();
        let ready = (state.pods.iter())
            .filter(|pod| wanted.contains(&pod.name_any()) && is_ready(pod))
            .count();
        if ready == expected {
            state.progress.readiness = Readiness::Ready;
            return Ok(Flow::Continue);
        }
        state.progress.readiness = Readiness::PodsNotReady {
            ready,
            expected,
            what: "Kafka",
        };
        Ok(Flow::Requeue(WAIT_FOR_PODS))
    })
}
