//! Steps that apply what the model built, and the last one, which removes what no step applied.

use std::time::Duration;

use futures::future::BoxFuture;
use k8s_openapi::api::apps::v1::Deployment;
use kube::ResourceExt;
use runtime::labels::Labels;
use runtime::{Error, Flow, Readiness};

use super::state::KafkaReconcile;

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
            let live = state.services.get(&service.name_any());
            state.applier.apply_over(service, live).await?;
        }
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

/// Deletes the cluster's Services, ConfigMaps and StatefulSets that no step applied in this
/// reconcile: a removed listener's Services, a removed pool's ConfigMap and StatefulSet. Last, so
/// it runs only when every step went through, and owned by the Kafka's UID, never by label alone.
pub fn kafka_exporter(state: &mut KafkaReconcile) -> StepResult<'_> {
    Box::pin(async move {
        if let Some(deployment) = &state.desired.kafka_exporter {
            state.applier.apply(deployment).await?;
        }
        Ok(Flow::Continue)
    })
}

pub fn sweep(state: &mut KafkaReconcile) -> StepResult<'_> {
    Box::pin(async move {
        let model = &state.model;
        let selector = Labels::owned_by("Kafka", &model.cluster);
        (state.applier)
            .sweep_assembly(&model.namespace, &selector, &model.uid)
            .await?;
        // A removed exporter's Deployment.
        (state.applier)
            .sweep::<Deployment>(&model.namespace, &selector, &model.uid)
            .await?;
        Ok(Flow::Continue)
    })
}
