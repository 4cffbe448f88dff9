//! What the model needs from the cluster before it can be built: the node pools, the cluster ID,
//! and what Kubernetes assigned to external Services (node ports, load balancer addresses).

use api::kafka::{Kafka, KafkaNodePool};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Service};
use kube::api::{Api, ListParams};
use kube::{Client, ResourceExt};
use runtime::Error;
use runtime::labels::{Labels, STRIMZI_CLUSTER};

use crate::assembly::Inputs;
use crate::assembly::identity::{kept_cluster_id, restore_node_ids};
use crate::assembly::listeners::ExternalAddresses;
use operator_common::pod_security::PodPolicy;

/// What `validate` takes besides the Kafka.
pub struct Observed {
    pub pools: Vec<KafkaNodePool>,
    pub inputs: Inputs,
}

pub async fn observe(client: &Client, kafka: &Kafka, pods: PodPolicy) -> Result<Observed, Error> {
    let mut pools = node_pools(client, kafka).await?;
    let without_ids = pools.iter().any(|pool| {
        let ids = pool
            .status
            .as_ref()
            .and_then(|status| status.node_ids.as_ref());
        ids.is_none_or(Vec::is_empty)
    });
    let known_id = kafka.status.as_ref().and_then(|s| s.cluster_id.clone());
    // A Kafka or pool re-created over kept volumes finds its IDs on their claims.
    let claims = if without_ids || known_id.is_none() {
        claims(client, kafka).await?
    } else {
        Vec::new()
    };
    if without_ids {
        restore_node_ids(&mut pools, &claims, &kafka.name_any());
    }
    let new_cluster_id = known_id
        .or_else(|| kept_cluster_id(&claims))
        .unwrap_or_else(new_cluster_id);
    let inputs = Inputs {
        new_cluster_id,
        external_addresses: external_addresses(client, kafka).await?,
        pods,
    };
    Ok(Observed { pools, inputs })
}

/// The KafkaNodePools labelled for this Kafka.
async fn node_pools(client: &Client, kafka: &Kafka) -> Result<Vec<KafkaNodePool>, Error> {
    let api: Api<KafkaNodePool> = Api::namespaced(client.clone(), &namespace(kafka));
    let selector = format!("{STRIMZI_CLUSTER}={}", kafka.name_any());
    Ok(api
        .list(&ListParams::default().labels(&selector))
        .await?
        .items)
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
async fn external_addresses(client: &Client, kafka: &Kafka) -> Result<ExternalAddresses, Error> {
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
fn new_cluster_id() -> String {
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
