//! Steps that apply what the model built, removing what it no longer wants.

use std::time::Duration;

use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use kube::ResourceExt;
use runtime::labels::Labels;
use runtime::{Error, Flow, Readiness};

use super::state::KafkaReconcile;
use crate::assembly::names;

type StepResult<'a> = BoxFuture<'a, Result<Flow, Error>>;

pub fn network_policy(state: &mut KafkaReconcile) -> StepResult<'_> {
    Box::pin(async move {
        state.applier.apply(&state.desired.network_policy).await?;
        Ok(Flow::Continue)
    })
}

pub fn service_account(state: &mut KafkaReconcile) -> StepResult<'_> {
    Box::pin(async move {
        state.applier.apply(&state.desired.service_account).await?;
        Ok(Flow::Continue)
    })
}

pub fn services(state: &mut KafkaReconcile) -> StepResult<'_> {
    Box::pin(async move {
        for service in &state.desired.services {
            state.applier.apply(service).await?;
        }
        let keep: Vec<String> = state
            .desired
            .services
            .iter()
            .map(|s| s.name_any())
            .collect();
        delete_unwanted::<Service>(state, &keep).await?;
        // Brokers advertise the node ports Kubernetes assigns: build their configuration once
        // those are known, rather than roll the pods when they become known.
        let pending = state.model.unobserved_external_services();
        if !pending.is_empty() {
            state.progress.readiness = Readiness::WaitingForAddresses(pending);
            return Ok(Flow::Requeue(Duration::from_secs(1)));
        }
        Ok(Flow::Continue)
    })
}

pub fn config_maps(state: &mut KafkaReconcile) -> StepResult<'_> {
    Box::pin(async move {
        for config_map in &state.desired.config_maps {
            state.applier.apply(config_map).await?;
        }
        // The discovery ConfigMap is the discovery step's.
        let discovery = names::bootstrap_info_config_map(&state.model.cluster);
        let keep: Vec<String> = state
            .desired
            .config_maps
            .iter()
            .map(|c| c.name_any())
            .chain([discovery])
            .collect();
        delete_unwanted::<ConfigMap>(state, &keep).await?;
        Ok(Flow::Continue)
    })
}

pub fn pod_disruption_budget(state: &mut KafkaReconcile) -> StepResult<'_> {
    Box::pin(async move {
        state
            .applier
            .apply(&state.desired.pod_disruption_budget)
            .await?;
        Ok(Flow::Continue)
    })
}

/// Deletes this cluster's objects of kind `K` that are not in `keep` (a removed listener's
/// Services, a removed pool's ConfigMap).
pub async fn delete_unwanted<K>(state: &KafkaReconcile, keep: &[String]) -> Result<(), Error>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>,
    K: serde::de::DeserializeOwned + Clone + std::fmt::Debug,
{
    let selector = Labels::owned_by("Kafka", &state.model.cluster);
    state
        .applier
        .delete_unwanted::<K>(&state.model.namespace, &selector, &state.model.uid, keep)
        .await?;
    Ok(())
}
