//! `spec.cruiseControl.autoRebalance` with `add-brokers`: the brokers a scale-up added are noted
//! when the node-removal step sees what runs, and once the cluster is Ready (this step comes
//! after readiness) partitions move onto them, one throttled batch per reconcile, until the
//! planner finds the cluster balanced onto them. The Kafka stays Ready meanwhile, as in
//! Strimzi; `status.autoRebalance` says which brokers are being filled.

use std::collections::BTreeSet;
use std::time::Duration;

use futures::future::BoxFuture;
use runtime::{Error, Flow};

use super::state::KafkaReconcile;
use crate::assembly::auto_rebalance::brokers_to_fill;
use crate::assembly::scale_down::{RunningNodes, id_list};
use crate::moves::{self, Progress};
use crate::reassignment::Goal;
use operator_common::cluster_ref::ClusterRef;

/// How soon a rebalance is looked at again while partitions move.
const POLL: Duration = Duration::from_secs(5);
/// How soon to try again when Kafka could not be asked or refused.
const RETRY: Duration = Duration::from_secs(30);

/// Notes the brokers this reconcile adds to the running ones, from the StatefulSets as they are
/// before anything is applied.
pub fn note(state: &mut KafkaReconcile) {
    if !state.model.rebalance_on_scale_up {
        return;
    }
    let running = RunningNodes::of(state.statefulsets.values()).brokers;
    let desired: BTreeSet<i32> = (state.model.nodes())
        .filter(|node| node.roles.broker)
        .map(|node| node.id)
        .collect();
    state.filling = brokers_to_fill(&state.filling, &running, &desired);
}

pub fn fill(state: &mut KafkaReconcile) -> BoxFuture<'_, Result<Flow, Error>> {
    Box::pin(async move {
        if state.filling.is_empty() {
            return Ok(Flow::Continue);
        }
        let cluster = ClusterRef {
            namespace: state.model.namespace.clone(),
            name: state.model.cluster.clone(),
        };
        let goal = Goal::Balance {
            only_onto: Some(state.filling.clone()),
        };
        let moved = match state.admins.admin(&cluster).await {
            Ok(admin) => moves::advance(&admin, &goal, None)
                .await
                .map_err(|error| error.to_string()),
            Err(error) => Err(error.to_string()),
        };
        let brokers = id_list(&state.filling);
        match moved {
            Ok(Progress::Done) => {
                let note = format!("partitions were moved onto the added brokers {brokers}");
                state.progress.event("AutoRebalanced", note);
                state.filling.clear();
            }
            Ok(progress) => {
                tracing::info!(kafka = %state.model.cluster, brokers, progress = progress.message(), "filling added brokers");
                state.progress.retry_in(POLL);
            }
            Err(error) => {
                state.progress.warn(
                    "AutoRebalanceFailed",
                    format!(
                        "moving partitions onto brokers {brokers} failed and is retried: {error}"
                    ),
                );
                state.progress.retry_in(RETRY);
            }
        }
        Ok(Flow::Continue)
    })
}
