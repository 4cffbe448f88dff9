//! The node-removal step, before anything is applied: controllers about to be removed leave a
//! dynamic quorum's voters first, one at a time; brokers about to be removed (a pool scaled
//! down, removed or relabelled) are drained of their partitions, one throttled batch at a
//! time; the StatefulSets shrink only once Kafka says they neither vote nor hold anything. A
//! change of a static quorum, or of a running node's roles, is refused. Nothing is applied
//! while any of these holds.

use std::time::Duration;

use futures::future::BoxFuture;
use k8s_openapi::api::apps::v1::StatefulSet;
use kube::api::ListParams;
use kube::{Api, ResourceExt};
use runtime::labels::Labels;
use runtime::{Error, Flow, Readiness};

use super::added_brokers;
use super::controller_quorum::{self, CHANGING_QUORUM};
use super::state::KafkaReconcile;
use crate::assembly::quorum;
use crate::assembly::scale_down::{RunningNodes, SKIP_BROKER_SCALEDOWN_CHECK_ANNOTATION, id_list};
use crate::moves::{self, MoveError, Progress};
use crate::reassignment::Goal;
use operator_common::cluster_ref::ClusterRef;

/// The reason of the condition that refuses to remove brokers still holding partitions.
pub const SCALE_DOWN_REFUSED: &str = "ScaleDownRefused";

/// How soon Kafka is asked again whether refused brokers are empty.
const REMOVAL_RETRY: Duration = Duration::from_secs(30);

/// How soon a drain is looked at again while partitions move off leaving brokers.
const DRAIN_POLL: Duration = Duration::from_secs(5);

/// The reason of the condition while leaving brokers are drained before their pods go.
pub const DRAINING_BROKERS: &str = "DrainingBrokers";

/// Holds everything (nothing is applied, the pools keep their node IDs) while the model would
/// change the controller quorum in a way it cannot, drop controllers that still vote, or drop
/// brokers that still hold partitions: those are drained first, one batch of partitions at a
/// time, and go once Kafka says they hold nothing. When they cannot be drained (too few
/// brokers would be left) or Kafka cannot answer, they stay.
pub fn hold_unsafe_removal(state: &mut KafkaReconcile) -> BoxFuture<'_, Result<Flow, Error>> {
    Box::pin(async move {
        let model = &state.model;
        let api: Api<StatefulSet> =
            Api::namespaced(state.applier.client().clone(), &model.namespace);
        let selector = Labels::owned_by("Kafka", &model.cluster);
        let live = api.list(&ListParams::default().labels(&selector)).await?;
        state.statefulsets = live.into_iter().map(|set| (set.name_any(), set)).collect();
        added_brokers::note(state);
        let Some(held) = removal_refusal(state).await? else {
            return Ok(Flow::Continue);
        };
        tracing::info!(kafka = %state.kafka.name_any(), message = %held.message(), "holding the removal of nodes");
        let again = match held.reason() {
            Some(DRAINING_BROKERS) => DRAIN_POLL,
            Some(CHANGING_QUORUM) => controller_quorum::POLL,
            _ => REMOVAL_RETRY,
        };
        state.progress.readiness = held;
        Ok(Flow::Requeue(again))
    })
}

async fn removal_refusal(state: &mut KafkaReconcile) -> Result<Option<Readiness>, Error> {
    let running = RunningNodes::of(state.statefulsets.values());
    if let Some(message) = quorum::refused_change(&running, &state.model) {
        return Ok(Some(Readiness::NotSupported(message)));
    }
    if let Some(held) = controller_quorum::remove_leaving(state, &running.controllers).await {
        return Ok(Some(held));
    }
    let model = &state.model;
    let leaving = running.leaving_brokers(model);
    let skip = state
        .kafka
        .annotations()
        .get(SKIP_BROKER_SCALEDOWN_CHECK_ANNOTATION)
        .is_some_and(|value| value == "true");
    if leaving.is_empty() || skip {
        return Ok(None);
    }
    let cluster = ClusterRef {
        namespace: model.namespace.clone(),
        name: model.cluster.clone(),
    };
    let refused = |message: String| Readiness::Held {
        reason: SCALE_DOWN_REFUSED,
        message,
    };
    let admin = match state.admins.admin(&cluster).await {
        Ok(admin) => admin,
        Err(error) => {
            return Ok(Some(refused(format!(
                "cannot remove brokers {} before they are drained, and Kafka cannot be asked: \
                 {error}",
                id_list(&leaving)
            ))));
        }
    };
    let goal = Goal::Drain {
        brokers: leaving.clone(),
    };
    Ok(match moves::advance(&admin, &goal, None).await {
        Ok(Progress::Done) => None,
        Ok(progress) => Some(Readiness::Held {
            reason: DRAINING_BROKERS,
            message: format!(
                "moving every partition off brokers {} before removing them: {}",
                id_list(&leaving),
                progress.message()
            ),
        }),
        Err(MoveError::Plan(error)) => Some(refused(format!(
            "cannot remove brokers {}: {error}; add brokers or lower the topic's replication \
             factor, or annotate the Kafka with {SKIP_BROKER_SCALEDOWN_CHECK_ANNOTATION}: \
             \"true\" to remove them anyway",
            id_list(&leaving)
        ))),
        Err(error) => Some(refused(format!(
            "cannot remove brokers {} before they are drained, and draining them failed: {error}",
            id_list(&leaving)
        ))),
    })
}
