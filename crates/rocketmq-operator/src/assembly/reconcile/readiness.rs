//! The Broker is Ready when every broker's pod exists and is Ready: the pods as the rolling
//! update, which goes on only when none is due for a restart, listed them.

use futures::future::BoxFuture;
use kube::ResourceExt;
use runtime::{Error, Flow, Readiness};

use super::WAIT_FOR_PODS;
use runtime::pods::is_ready;

use super::state::BrokerReconcile;

pub fn observe(state: &mut BrokerReconcile) -> BoxFuture<'_, Result<Flow, Error>> {
    Box::pin(async move {
        let expected = state.model.nodes().count();
        let ready = state
            .pods
            .iter()
            .filter(|pod| state.model.node_of_pod(&pod.name_any()).is_some() && is_ready(pod))
            .count();
        if ready == expected {
            state.progress.readiness = Readiness::Ready;
            return Ok(Flow::Continue);
        }
        state.progress.readiness = Readiness::PodsNotReady {
            ready,
            expected,
            what: "broker",
        };
        Ok(Flow::Requeue(WAIT_FOR_PODS))
    })
}
