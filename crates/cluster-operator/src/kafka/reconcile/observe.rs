//! What the model needs from the cluster before it can be built: the node pools, the cluster ID,
//! and what Kubernetes assigned to external Services (node ports, load balancer addresses).

use api::kafka::{Kafka, KafkaNodePool};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Service};
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::{Client, ResourceExt};
use runtime::Error;
use runtime::labels::{Labels, STRIMZI_CLUSTER};
use serde_json::json;

use crate::kafka::identity::kept_cluster_id;
use crate::kafka::listeners::ExternalAddresses;

/// The KafkaNodePools labelled for this Kafka.
pub async fn node_pools(client: &Client, kafka: &Kafka) -> Result<Vec<KafkaNodePool>, Error> {
    let api: Api<KafkaNodePool> = Api::namespaced(client.clone(), &namespace(kafka));
    let selector = format!("{STRIMZI_CLUSTER}={}", kafka.name_any());
    Ok(api
        .list(&ListParams::default().labels(&selector))
        .await?
        .items)
}

/// The cluster's ID, handed out once. `kafka` is as read at the start of the reconcile; a new
/// ID (or, for a Kafka re-created over kept volumes, the one they were formatted with) is
/// written only over that version, which the API server refuses if anything changed since: one
/// cluster never gets two IDs.
pub async fn cluster_id(client: &Client, kafka: &Kafka) -> Result<String, Error> {
    if let Some(known) = kafka.status.as_ref().and_then(|s| s.cluster_id.clone()) {
        return Ok(known);
    }
    let new = kept_cluster_id(&claims(client, kafka).await?).unwrap_or_else(new_cluster_id);
    let patch = json!({
        "metadata": {"resourceVersion": kafka.resource_version()},
        "status": {"clusterId": new},
    });
    let api: Api<Kafka> = Api::namespaced(client.clone(), &namespace(kafka));
    api.patch_status(
        &kafka.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await?;
    Ok(new)
}

/// The cluster's volume claims, kept or in use: what a re-created Kafka or pool finds its
/// cluster ID and node IDs on.
pub async fn claims(client: &Client, kafka: &Kafka) -> Result<Vec<PersistentVolumeClaim>, Error> {
    let api: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &namespace(kafka));
    let selector = Labels::owned_by("Kafka", &kafka.name_any());
    Ok(api
        .list(&ListParams::default().labels(&selector))
        .await?
        .items)
}

/// Node ports and load balancer addresses of the cluster's Services, by Service name.
pub async fn external_addresses(
    client: &Client,
    kafka: &Kafka,
) -> Result<ExternalAddresses, Error> {
    let api: Api<Service> = Api::namespaced(client.clone(), &namespace(kafka));
    let selector = Labels::owned_by("Kafka", &kafka.name_any());
    let mut addresses = ExternalAddresses::default();
    for service in api.list(&ListParams::default().labels(&selector)).await? {
        let name = service.name_any();
        let node_port = service
            .spec
            .as_ref()
            .and_then(|spec| spec.ports.as_ref())
            .and_then(|ports| ports.first())
            .and_then(|port| port.node_port);
        if let Some(port) = node_port {
            addresses.node_ports.insert(name.clone(), port);
        }
        let ingress = service
            .status
            .and_then(|status| status.load_balancer)
            .and_then(|balancer| balancer.ingress)
            .and_then(|ingress| ingress.into_iter().next());
        if let Some(host) = ingress.and_then(|ingress| ingress.hostname.or(ingress.ip)) {
            addresses.load_balancer_hosts.insert(name, host);
        }
    }
    Ok(addresses)
}

/// A new KRaft cluster ID: 16 random bytes, base64url without padding, as `kafka-storage.sh
/// random-uuid` makes them, and like Kafka never starting with `-`, which the pods'
/// `kafka-storage.sh format --cluster-id` would take for an option.
pub fn new_cluster_id() -> String {
    loop {
        let id = URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes());
        if !id.starts_with('-') {
            return id;
        }
    }
}

fn namespace(kafka: &Kafka) -> String {
    kafka.namespace().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn cluster_ids_are_kafka_uuids_that_never_look_like_an_option() {
        for _ in 0..2000 {
            let id = super::new_cluster_id();
            assert_eq!(id.len(), 22);
            assert!(!id.starts_with('-'), "{id}");
        }
    }
}
