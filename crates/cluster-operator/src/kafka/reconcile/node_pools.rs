//! One StatefulSet per node pool, applied after everything its pods mount; the StatefulSet of a
//! pool that is gone is deleted (its PVCs follow the pool's retention policy).

use futures::future::BoxFuture;
use k8s_openapi::api::apps::v1::StatefulSet;
use kube::ResourceExt;
use runtime::{Error, Flow};

use super::apply::delete_unwanted;
use super::state::KafkaReconcile;

pub fn apply(state: &mut KafkaReconcile) -> BoxFuture<'_, Result<Flow, Error>> {
    Box::pin(async move {
        for statefulset in &state.desired.statefulsets {
            state.applier.apply(statefulset).await?;
        }
        let keep: Vec<String> = state
            .desired
            .statefulsets
            .iter()
            .map(|s| s.name_any())
            .collect();
        delete_unwanted::<StatefulSet>(state, &keep).await?;
        Ok(Flow::Continue)
    })
}
