//! Once the cluster is Ready, where clients connect: the listener addresses (with the cluster
//! CA for TLS listeners), for the status and the `<c>-kafka-bootstrap-info` ConfigMap.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use kube::ResourceExt;
use runtime::{Error, Flow};

use super::state::KafkaReconcile;
use crate::assembly::status::{build_bootstrap_info, listener_statuses};

pub fn publish(state: &mut KafkaReconcile) -> BoxFuture<'_, Result<Flow, Error>> {
    Box::pin(async move {
        let model = &state.model;
        // The address of the Kubernetes node each broker runs on, for NodePort listeners.
        let broker_hosts: BTreeMap<i32, String> = state
            .pods
            .iter()
            .filter_map(|pod| {
                let node = model
                    .nodes()
                    .find(|node| model.pod_name(node) == pod.name_any())?;
                Some((node.id, pod.status.as_ref()?.host_ip.clone()?))
            })
            .collect();
        state.listeners = listener_statuses(model, &broker_hosts, state.cluster_ca_cert.as_deref());
        state
            .applier
            .apply(&build_bootstrap_info(model, &state.listeners))
            .await?;
        Ok(Flow::Continue)
    })
}
