//! The cluster is Ready when every node's pod exists and is Ready: the pods as the rolling
//! update, which goes on only when none is outdated, listed them.

use futures::future::BoxFuture;
use runtime::pods::is_ready;
use runtime::{Error, Flow, Readiness};

use super::WAIT_FOR_PODS;
use super::state::KafkaReconcile;

pub fn observe(state: &mut KafkaReconcile) -> BoxFuture<'_, Result<Flow, Error>> {
    Box::pin(async move {
        let expected = state.model.nodes().count();
        let ready = state.pods.iter().filter(|pod| is_ready(pod)).count();
        if ready == expected && state.pods.len() == expected {
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
