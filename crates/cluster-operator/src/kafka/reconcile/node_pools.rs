//! One StatefulSet per node pool, applied after everything its pods mount; the StatefulSet of a
//! pool that is gone is deleted (its PVCs follow the pool's retention policy). A storage change
//! a pool's StatefulSet cannot take is refused with `NotSupported`.

use futures::future::BoxFuture;
use k8s_openapi::api::apps::v1::StatefulSet;
use kube::{Api, ResourceExt};
use runtime::conditions::NOT_SUPPORTED;
use runtime::{Error, Flow};

use super::apply::delete_unwanted;
use super::state::KafkaReconcile;
use crate::claim_templates::{claim_templates_changed, refusal};

pub fn apply(state: &mut KafkaReconcile) -> BoxFuture<'_, Result<Flow, Error>> {
    Box::pin(async move {
        let api: Api<StatefulSet> =
            Api::namespaced(state.applier.client().clone(), &state.model.namespace);
        let mut live = Vec::new();
        for desired in &state.desired.statefulsets {
            live.push(api.get_opt(&desired.name_any()).await?);
        }
        let changed: Vec<String> = state
            .desired
            .statefulsets
            .iter()
            .zip(&live)
            .filter(|(desired, live)| {
                live.as_ref()
                    .is_some_and(|live| claim_templates_changed(live, desired))
            })
            .map(|(desired, _)| desired.name_any())
            .collect();
        if !changed.is_empty() {
            // Nothing is applied: the rest of the cluster would roll onto a configuration the
            // refused pools cannot have.
            let fields = "the storage (the KafkaNodePool's or the Kafka's spec.storage)";
            state.not_ready = Some((NOT_SUPPORTED.into(), refusal(&changed, fields)));
            return Ok(Flow::Stop);
        }
        for (desired, live) in state.desired.statefulsets.iter().zip(&live) {
            state.applier.apply_over(desired, live.as_ref()).await?;
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
