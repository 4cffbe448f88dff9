//! The cluster-ID step: a new cluster's KRaft ID and quorum mode (or, for a Kafka re-created over
//! kept volumes, those they were formatted with) are recorded in its status before anything is
//! made with them.

use api::kafka::Kafka;
use futures::future::BoxFuture;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use runtime::{Error, Flow};
use serde_json::json;

use super::state::KafkaReconcile;

/// Writes the ID only over the version of the Kafka the reconcile read, which the API server
/// refuses if anything changed since: one cluster never gets two IDs.
pub fn record(state: &mut KafkaReconcile) -> BoxFuture<'_, Result<Flow, Error>> {
    Box::pin(async move {
        if state.identity_recorded {
            return Ok(Flow::Continue);
        }
        let kafka = &state.kafka;
        let patch = json!({
            "metadata": {"resourceVersion": kafka.resource_version()},
            "status": {
                "clusterId": state.model.cluster_id,
                "controllerQuorum": {"mode": state.model.quorum.mode()},
            },
        });
        let api: Api<Kafka> =
            Api::namespaced(state.applier.client().clone(), &state.model.namespace);
        api.patch_status(
            &kafka.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await?;
        state.identity_recorded = true;
        Ok(Flow::Continue)
    })
}
