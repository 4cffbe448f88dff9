//! Steps that apply what the model built, and the last one, which removes what no step applied
//! (a removed group's StatefulSets and ConfigMaps; never its claims).

use kube::ResourceExt;
use runtime::labels::Labels;
use runtime::{Flow, Readiness};

use super::StepResult;
use super::state::BrokerReconcile;
use crate::assembly::annotations::{METADATA_COPY, METADATA_COPY_PENDING, annotation};
use crate::assembly::scaling::node_of_statefulset;
use operator_common::claim_templates::{claim_templates_changed, refusal};

pub fn services(state: &mut BrokerReconcile) -> StepResult<'_> {
    Box::pin(async move {
        state.applier.apply(&state.desired.service).await?;
        Ok(Flow::Continue)
    })
}

pub fn config_maps(state: &mut BrokerReconcile) -> StepResult<'_> {
    Box::pin(async move {
        for config_map in &state.desired.config_maps {
            state.applier.apply(config_map).await?;
        }
        Ok(Flow::Continue)
    })
}

/// The StatefulSets, after everything they mount. A new group's master created while others
/// already ran is a scale-out: it is created marked to receive the cluster's metadata, in the
/// same write, so that no crash can leave it unmarked. The mark is applied again while it is
/// pending; the metadata step's own annotation replaces it once the copy is done. A storage change
/// an existing StatefulSet cannot take stops the reconcile before any is applied: applying the
/// others would restart their pods with a configuration the refused ones do not have.
pub fn statefulsets(state: &mut BrokerReconcile) -> StepResult<'_> {
    Box::pin(async move {
        let changed: Vec<String> = state
            .desired
            .statefulsets
            .iter()
            .filter(|desired| {
                let live = state.existing.get(&desired.name_any());
                live.is_some_and(|live| claim_templates_changed(live, desired))
            })
            .map(|desired| desired.name_any())
            .collect();
        if !changed.is_empty() {
            let fields = "spec.storageMode and spec.volumeClaimTemplates";
            state.progress.readiness = Readiness::NotSupported(refusal(&changed, fields));
            return Ok(Flow::Stop);
        }
        let cluster = state.model.cluster.clone();
        let masters_before = state
            .existing
            .keys()
            .filter_map(|name| node_of_statefulset(&cluster, name))
            .any(|node| node.is_master());
        for desired in &state.desired.statefulsets {
            let name = desired.name_any();
            let live = state.existing.get(&name);
            let group = node_of_statefulset(&cluster, &name)
                .filter(|node| node.is_master())
                .map(|node| node.group);
            let pending = group.is_some()
                && match live {
                    Some(live) => {
                        annotation(&live.metadata, METADATA_COPY) == Some(METADATA_COPY_PENDING)
                    }
                    None => masters_before,
                };
            let mut statefulset = desired.clone();
            if pending {
                statefulset
                    .annotations_mut()
                    .insert(METADATA_COPY.into(), METADATA_COPY_PENDING.into());
            }
            state.applier.apply_over(&statefulset, live).await?;
            if let Some(group) = group.filter(|_| pending) {
                state.metadata_pending.insert(group);
            }
        }
        Ok(Flow::Continue)
    })
}

/// Deletes the Broker's Services, ConfigMaps and StatefulSets that no step applied in this
/// reconcile: a removed group's. Last, so it runs only when every step went through, and owned
/// by the Broker's UID, never by label alone.
pub fn sweep(state: &mut BrokerReconcile) -> StepResult<'_> {
    Box::pin(async move {
        let model = &state.model;
        let selector = Labels::owned_by("Broker", &model.cluster);
        (state.applier)
            .sweep_assembly(&model.namespace, &selector, &model.uid)
            .await?;
        Ok(Flow::Continue)
    })
}
