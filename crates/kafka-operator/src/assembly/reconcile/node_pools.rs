//! One StatefulSet per node pool, applied after everything its pods mount; the StatefulSet of a
//! pool that is gone is deleted (its PVCs follow the pool's retention policy). A storage change
//! a pool's StatefulSet cannot take is refused with `NotSupported`. Before anything is applied,
//! brokers about to be removed are drained of their partitions, and a change of the controller
//! quorum is refused.

use std::time::Duration;

use api::Condition;
use api::kafka::KafkaNodePool;
use futures::future::BoxFuture;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use kube::api::ListParams;
use kube::{Api, ResourceExt};
use runtime::labels::Labels;
use runtime::status::write_status;
use runtime::{Error, Flow, Readiness, conditions};

use super::added_brokers;
use super::observe;
use super::state::KafkaReconcile;
use super::status::node_pool_status;
use crate::assembly::identity::{CLUSTER_ID_ANNOTATION, unrecorded};
use crate::assembly::scale_down::{RunningNodes, SKIP_BROKER_SCALEDOWN_CHECK_ANNOTATION, id_list};
use crate::moves::{self, MoveError, Progress};
use crate::reassignment::Goal;
use operator_common::claim_templates::{claim_templates_changed, refusal};
use operator_common::cluster_ref::ClusterRef;

/// The reason of the condition that refuses to remove brokers still holding partitions.
pub const SCALE_DOWN_REFUSED: &str = "ScaleDownRefused";

/// Records the cluster ID on every claim of the cluster, so that it outlives the Kafka's status.
/// Claims the StatefulSets have not made yet are recorded at a later reconcile, before their
/// pods have served anything.
async fn record_cluster_id(state: &KafkaReconcile) -> Result<(), Error> {
    let claims = observe::claims(state.applier.client(), &state.kafka).await?;
    for claim in unrecorded(&claims, &state.model.cluster_id) {
        state
            .applier
            .annotate::<PersistentVolumeClaim>(
                &state.model.namespace,
                &claim,
                CLUSTER_ID_ANNOTATION,
                Some(&state.model.cluster_id),
            )
            .await?;
    }
    Ok(())
}

/// How soon Kafka is asked again whether refused brokers are empty.
const REMOVAL_RETRY: Duration = Duration::from_secs(30);

/// How soon a drain is looked at again while partitions move off leaving brokers.
const DRAIN_POLL: Duration = Duration::from_secs(5);

/// The reason of the condition while leaving brokers are drained before their pods go.
pub const DRAINING_BROKERS: &str = "DrainingBrokers";

/// Holds everything (nothing is applied, the pools keep their node IDs) while the model would
/// change the controller quorum, or drop brokers that still hold partitions: those are drained
/// first, one batch of partitions at a time, and go once Kafka says they hold nothing. When
/// they cannot be drained (too few brokers would be left) or Kafka cannot answer, they stay.
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
            _ => REMOVAL_RETRY,
        };
        state.progress.readiness = held;
        Ok(Flow::Requeue(again))
    })
}

async fn removal_refusal(state: &KafkaReconcile) -> Result<Option<Readiness>, Error> {
    let model = &state.model;
    let running = RunningNodes::of(state.statefulsets.values());
    if let Some(message) = running.quorum_change(model) {
        return Ok(Some(Readiness::NotSupported(message)));
    }
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

/// Records each pool's node IDs (and roles) in its status, now that its StatefulSet has them,
/// keeping the readiness condition the readiness step last gave it.
async fn record_node_ids(state: &KafkaReconcile) -> Result<(), Error> {
    write_pool_statuses(state, |pool| {
        let current = pool.status.as_ref()?.conditions.as_ref()?;
        let readiness = [conditions::READY, conditions::NOT_READY];
        (current.iter())
            .find(|c| readiness.contains(&c.type_.as_str()))
            .cloned()
    })
    .await
}

/// Writes each modelled pool's status, with the readiness condition `condition` gives it, where
/// it changed.
pub async fn write_pool_statuses(
    state: &KafkaReconcile,
    condition: impl Fn(&KafkaNodePool) -> Option<Condition>,
) -> Result<(), Error> {
    for pool in &state.pools {
        if let Some(modelled) = state.model.pool(&pool.name_any()) {
            let generation = pool.metadata.generation;
            let desired = node_pool_status(&state.model, modelled, generation, condition(pool));
            write_status(state.applier.client(), pool, pool.status.as_ref(), &desired).await?;
        }
    }
    Ok(())
}

pub fn apply(state: &mut KafkaReconcile) -> BoxFuture<'_, Result<Flow, Error>> {
    Box::pin(async move {
        // As the node-removal step listed them.
        let live: Vec<Option<StatefulSet>> = (state.desired.statefulsets.iter())
            .map(|desired| state.statefulsets.get(&desired.name_any()).cloned())
            .collect();
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
            state.progress.readiness = Readiness::NotSupported(refusal(&changed, fields));
            return Ok(Flow::Stop);
        }
        for (desired, live) in state.desired.statefulsets.iter().zip(&live) {
            state.applier.apply_over(desired, live.as_ref()).await?;
        }
        record_cluster_id(state).await?;
        record_node_ids(state).await?;
        Ok(Flow::Continue)
    })
}
