//! What the model needs from the cluster before it can be built: the node pools, the cluster ID,
//! and what Kubernetes assigned to external Services (node ports, load balancer addresses).

use std::collections::BTreeMap;

use api::kafka::{Kafka, KafkaNodePool};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Service};
use kube::api::{Api, ListParams};
use kube::{Client, ResourceExt};
use runtime::Error;
use runtime::labels::{Labels, STRIMZI_CLUSTER};

use crate::assembly::Inputs;
use crate::assembly::identity::{kept_identity, restore_node_ids};
use crate::assembly::listeners::ExternalAddresses;
use operator_common::pod_security::PodPolicy;

/// What `validate` takes besides the Kafka, and the Services it was read from.
pub struct Observed {
    pub pools: Vec<KafkaNodePool>,
    pub inputs: Inputs,
    /// The cluster's Services, by name: the services step applies over them.
    pub services: BTreeMap<String, Service>,
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
    let kept = kept_identity(&claims);
    let new_cluster_id = known_id
        .or_else(|| kept.as_ref().map(|kept| kept.cluster_id.clone()))
        .unwrap_or_else(new_cluster_id);
    let services = services(client, kafka).await?;
    let inputs = Inputs {
        new_cluster_id,
        kept_quorum: kept.map(|kept| kept.quorum),
        external_addresses: external_addresses(services.values()),
        pods,
    };
    Ok(Observed {
        pools,
        inputs,
        services,
    })
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

/// The cluster's Services, by name.
async fn services(client: &Client, kafka: &Kafka) -> Result<BTreeMap<String, Service>, Error> {
    let api: Api<Service> = Api::namespaced(client.clone(), &namespace(kafka));
    let selector = Labels::owned_by("Kafka", &kafka.name_any());
    let services = api.list(&ListParams::default().labels(&selector)).await?;
    Ok(services
        .into_iter()
        .map(|service| (service.name_any(), service))
        .collect())
}

/// Node ports and load balancer addresses of the cluster's Services, by Service name.
fn external_addresses<'a>(services: impl Iterator<Item = &'a Service>) -> ExternalAddresses {
    let mut addresses = ExternalAddresses::default();
    for service in services {
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
        let ingress = (service.status.clone())
            .and_then(|status| status.load_balancer)
            .and_then(|balancer| balancer.ingress)
            .and_then(|ingress| ingress.into_iter().next());
        if let Some(host) = ingress.and_then(|ingress| ingress.hostname.or(ingress.ip)) {
            addresses.load_balancer_hosts.insert(name, host);
        }
    }
    addresses
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
