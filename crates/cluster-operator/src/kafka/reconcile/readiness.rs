//! The cluster is Ready when every node's pod exists and is Ready.

use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::Pod;
use runtime::pods::{self, is_ready};
use runtime::{Error, Flow, Readiness};

use super::WAIT_FOR_PODS;
use super::state::KafkaReconcile;

pub fn observe(state: &mut KafkaReconcile) -> BoxFuture<'_, Result<Flow, Error>> {
    Box::pin(async move {
        state.pods = list_pods(state).await?;
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

/// The pods of every node of the cluster.
pub async fn list_pods(state: &KafkaReconcile) -> Result<Vec<Pod>, Error> {
    let (client, model) = (state.applier.client(), &state.model);
    pods::list_selected(client, &model.namespace, &model.node_selector()).await
}
