//! One StatefulSet per node pool, applied after everything its pods mount; the StatefulSet of a
//! pool that is gone is deleted (its PVCs follow the pool's retention policy). A larger storage
//! size grows the pool's claims and re-creates its StatefulSet with the larger templates, its
//! pods left running; any other storage change is refused with `NotSupported`, and so is a size
//! whose StorageClass cannot expand. Nodes leave only after the node-removal step let them.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use api::Condition;
use api::kafka::KafkaNodePool;
use futures::future::BoxFuture;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::api::{DeleteParams, Patch, PatchParams, Preconditions, PropagationPolicy};
use kube::runtime::wait::{await_condition, conditions::is_deleted};
use kube::{Api, ResourceExt};
use runtime::Applier;
use runtime::labels::STRIMZI_POOL_NAME;
use runtime::status::write_status;
use runtime::{Error, Flow, Readiness, conditions};

use super::observe;
use super::state::KafkaReconcile;
use super::status::node_pool_status;
use crate::assembly::identity::{identity_annotations, unrecorded};
use operator_common::volume_resize::{
    ClaimResize, Growth, TemplateChange, claim_resize, claim_sizes, expansion_refusals,
    template_change,
};

/// The reason of the condition that waits for claims to reach their new size.
const VOLUME_RESIZING: &str = "VolumeResizing";

/// How soon claims being resized are looked at again: nothing watches them.
const RESIZE_RETRY: Duration = Duration::from_secs(10);

/// Records the cluster ID and quorum mode on every claim of the cluster, so that they outlive
/// the Kafka's status.
/// Claims the StatefulSets have not made yet are recorded at a later reconcile, before their
/// pods have served anything.
async fn record_cluster_id(
    state: &KafkaReconcile,
    claims: &[PersistentVolumeClaim],
) -> Result<(), Error> {
    let model = &state.model;
    let quorum = model.quorum.mode();
    for claim in unrecorded(claims, &model.cluster_id, quorum) {
        for (key, value) in identity_annotations(&model.cluster_id, quorum) {
            (state.applier)
                .annotate::<PersistentVolumeClaim>(&model.namespace, &claim, key, Some(value))
                .await?;
        }
    }
    Ok(())
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

/// What each pool's claim templates would do, by StatefulSet name: those that only grew, or the
/// `NotSupported` message of those no StatefulSet can take.
fn template_changes(
    state: &KafkaReconcile,
    live: &[Option<StatefulSet>],
) -> Result<BTreeMap<String, BTreeMap<String, Quantity>>, String> {
    let mut grown = BTreeMap::new();
    let mut refused = Vec::new();
    for (desired, live) in state.desired.statefulsets.iter().zip(live) {
        let Some(live) = live else { continue };
        match template_change(live, desired) {
            TemplateChange::Unchanged => {}
            TemplateChange::Grown(sizes) => {
                grown.insert(desired.name_any(), sizes);
            }
            TemplateChange::Refused(reasons) => {
                refused.push(format!("{}: {}", pool(desired), reasons.join(", ")))
            }
        }
    }
    match refused.is_empty() {
        true => Ok(grown),
        false => Err(format!(
            "the volume claim templates of a StatefulSet cannot change once it exists, but for \
             larger sizes: {}; put the storage (the KafkaNodePool's or the Kafka's spec.storage) \
             back as it was; nothing else changes until then",
            refused.join("; ")
        )),
    }
}

/// How a message names the pool of StatefulSet `set`.
fn pool(set: &StatefulSet) -> String {
    let name = set.labels().get(STRIMZI_POOL_NAME).cloned();
    format!(
        "node pool {} (StatefulSet {})",
        name.unwrap_or_default(),
        set.name_any()
    )
}

/// What the cluster's claims need to reach the sizes of the desired templates, each pool's
/// checked against its StorageClasses: the `NotSupported` message when some cannot expand.
async fn claims_to_resize(
    state: &KafkaReconcile,
    claims: &[PersistentVolumeClaim],
) -> Result<Result<ClaimResize, String>, Error> {
    let mut resize = ClaimResize::default();
    let mut refused = Vec::new();
    let classes: Api<StorageClass> = Api::all(state.applier.client().clone());
    for desired in &state.desired.statefulsets {
        let pool_resize = claim_resize(claims, &claim_sizes(desired));
        let growing = [&pool_resize.grow[..], &pool_resize.unbound[..]].concat();
        let names: BTreeSet<&str> = (growing.iter())
            .filter_map(|growth| growth.class.as_deref())
            .filter(|name| !name.is_empty())
            .collect();
        let mut found = Vec::new();
        for name in names {
            found.extend(classes.get_opt(name).await?);
        }
        let reasons = expansion_refusals(&growing, &found);
        if !reasons.is_empty() {
            refused.push(format!("{}: {}", pool(desired), reasons.join("; ")));
        }
        resize.grow.extend(pool_resize.grow);
        resize.resizing.extend(pool_resize.resizing);
    }
    Ok(match refused.is_empty() {
        true => Ok(resize),
        false => Err(format!(
            "the storage cannot grow: {}; put the size back as it was; nothing else changes \
             until then",
            refused.join("; ")
        )),
    })
}

/// Asks Kubernetes to grow a claim; its StorageClass's resizer then grows the volume.
async fn grow(state: &KafkaReconcile, growth: &Growth) -> Result<(), Error> {
    let api: Api<PersistentVolumeClaim> =
        Api::namespaced(state.applier.client().clone(), &state.model.namespace);
    let patch = serde_json::json!({"spec": {"resources": {"requests": {"storage": growth.size}}}});
    api.patch(
        &growth.claim,
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await?;
    Ok(())
}

/// Replaces `live`, whose claim templates are immutable, with `desired`: it is deleted leaving
/// its pods running (`Orphan`), and the new one, created once Kubernetes has let go of the old,
/// adopts them; its pod template is the same, so none restarts. It is created in the same
/// reconcile, as the node-removal step would take the pool's nodes for gone meanwhile.
async fn recreate(
    applier: &Applier,
    live: &StatefulSet,
    desired: &StatefulSet,
) -> Result<(), Error> {
    let uid = live.uid().unwrap_or_default();
    let api: Api<StatefulSet> = Api::namespaced(
        applier.client().clone(),
        &live.namespace().unwrap_or_default(),
    );
    let params = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Orphan),
        preconditions: Some(Preconditions {
            uid: Some(uid.clone()),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    api.delete(&live.name_any(), &params).await?;
    await_condition(api, &live.name_any(), is_deleted(&uid))
        .await
        .map_err(|error| {
            Error::transient(format!("waiting for {} to go: {error}", live.name_any()))
        })?;
    applier.apply_over(desired, None).await?;
    Ok(())
}

pub fn apply(state: &mut KafkaReconcile) -> BoxFuture<'_, Result<Flow, Error>> {
    Box::pin(async move {
        // As the node-removal step listed them.
        let live: Vec<Option<StatefulSet>> = (state.desired.statefulsets.iter())
            .map(|desired| state.statefulsets.get(&desired.name_any()).cloned())
            .collect();
        // Nothing is applied while a change is refused: the rest of the cluster would roll onto
        // a configuration the refused pools cannot have.
        let grown = match template_changes(state, &live) {
            Ok(grown) => grown,
            Err(refusal) => {
                state.progress.readiness = Readiness::NotSupported(refusal);
                return Ok(Flow::Stop);
            }
        };
        let claims = observe::claims(state.applier.client(), &state.kafka).await?;
        let resize = match claims_to_resize(state, &claims).await? {
            Ok(resize) => resize,
            Err(refusal) => {
                state.progress.readiness = Readiness::NotSupported(refusal);
                return Ok(Flow::Stop);
            }
        };
        for growth in &resize.grow {
            tracing::info!(claim = %growth.claim, size = %growth.size.0, "growing a volume");
            grow(state, growth).await?;
        }
        for (desired, live) in state.desired.statefulsets.iter().zip(&live) {
            match (grown.get(&desired.name_any()), live) {
                (Some(sizes), Some(live)) => {
                    let sizes: Vec<String> = (sizes.iter())
                        .map(|(volume, size)| format!("{volume} to {}", size.0))
                        .collect();
                    state.progress.event(
                        "VolumesGrown",
                        format!(
                            "re-creating StatefulSet {} with larger volumes ({}), its pods left \
                             running",
                            desired.name_any(),
                            sizes.join(", ")
                        ),
                    );
                    recreate(&state.applier, live, desired).await?;
                }
                _ => {
                    state.applier.apply_over(desired, live.as_ref()).await?;
                }
            }
        }
        record_cluster_id(state, &claims).await?;
        record_node_ids(state).await?;
        if !resize.resizing.is_empty() {
            state.progress.readiness = Readiness::Held {
                reason: VOLUME_RESIZING,
                message: format!(
                    "waiting for Kubernetes to resize the volumes of claims {}",
                    resize.resizing.join(", ")
                ),
            };
            return Ok(Flow::Requeue(RESIZE_RETRY));
        }
        Ok(Flow::Continue)
    })
}
