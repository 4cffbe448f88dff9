//! The cluster is Ready when every node's pod exists and is Ready: the pods as the rolling
//! update, which goes on only when none is outdated, listed them. A removed pool's pods do not
//! count: the sweep, after this step, deletes their StatefulSet. Each pool gets the cluster's
//! readiness as its own condition.

use std::collections::BTreeSet;

use futures::future::BoxFuture;
use kube::ResourceExt;
use runtime::pods::is_ready;
use runtime::{Error, Flow, Readiness};

use super::WAIT_FOR_PODS;
use super::node_pools::write_pool_statuses;
use super::state::KafkaReconcile;

pub fn observe(state: &mut KafkaReconcile) -> BoxFuture<'_, Result<Flow, Error>> {
    Box::pin(async move {
        let model = &state.model;
        let wanted: BTreeSet<String> = model.nodes().map(|node| model.pod_name(&node)).collect();
        let expected = wanted.len();
        let ready = (state.pods.iter())
            .filter(|pod| wanted.contains(&pod.name_any()) && is_ready(pod))
            .count();
        state.progress.readiness = if ready == expected {
            Readiness::Ready
        } else {
            Readiness::PodsNotReady {
                ready,
                expected,
                what: "Kafka",
            }
        };
        let condition = state.progress.readiness.condition();
        write_pool_statuses(state, |_| Some(condition.clone())).await?;
        Ok(match ready == expected {
            true => Flow::Continue,
            false => Flow::Requeue(WAIT_FOR_PODS),
        })
    })
}
