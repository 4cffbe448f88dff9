//! Steps that apply what the model built, removing what it no longer wants (a removed group's
//! StatefulSets and ConfigMaps; never its claims).

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use kube::ResourceExt;
use runtime::labels::Labels;
use runtime::{Error, Flow, Readiness};

use super::StepResult;
use super::state::BrokerReconcile;
use crate::assembly::annotations::{METADATA_COPY, METADATA_COPY_PENDING, annotation};
use crate::assembly::scaling::node_of_statefulset;
use operator_common::claim_templates::{claim_templates_changed, refusal};

pub fn services(state: &mut BrokerReconcile) -> StepResult<'_> {
    Box::pin(async move {
        state.applier.apply(&state.desired.service).await?;
        let keep = [state.desired.service.name_any()];
        delete_unwanted::<Service>(state, &keep).await?;
        Ok(Flow::Continue)
    })
}

pub fn config_maps(state: &mut BrokerReconcile) -> StepResult<'_> {
    Box::pin(async move {
        for config_map in &state.desired.config_maps {
            state.applier.apply(config_map).await?;
        }
        let keep: Vec<String> = state
            .desired
            .config_maps
            .iter()
            .map(|c| c.name_any())
            .collect();
        delete_unwanted::<ConfigMap>(state, &keep).await?;
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

/// Deletes this Broker's objects of kind `K` that are not in `keep`.
async fn delete_unwanted<K>(state: &BrokerReconcile, keep: &[String]) -> Result<(), Error>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>,
    K: serde::de::DeserializeOwned + Clone + std::fmt::Debug,
{
    let selector = Labels::owned_by("Broker", &state.model.cluster);
    state
        .applier
        .delete_unwanted::<K>(&state.model.namespace, &selector, &state.model.uid, keep)
        .await?;
    Ok(())
}
