//! RocketMQ's controller mode on the real node, with the operator installed: the example
//! Controller's three controllers and a Broker group of a master and two replicas; the master's
//! pod is deleted, and the figure is the time until a replica, elected master by the
//! controllers and listed as master by the name servers, stores a message.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use api::rocketmq::{Broker, Controller, NameService};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams};
use kube::{Client, ResourceExt};
use rocketmq_client::{AdminClient, ClientConfig, TopicConfig};

use crate::real_node::{TIMEOUT, wait_ready};

const TOPIC: &str = "failover";
const BROKER_PORT: u16 = 10911;

/// Seconds from the master's pod deleted to a message stored by the new master.
pub async fn master_failover(client: &Client, namespace: &str, repo: &Path) -> Result<f64> {
    for example in ["name-service.yaml", "controller.yaml"] {
        let yaml = std::fs::read_to_string(repo.join("examples/rocketmq").join(example))?;
        testenv::apply_yaml(client, &yaml, namespace).await?;
    }
    let broker = serde_json::json!({
        "apiVersion": "rocketmq.apache.org/v1alpha1",
        "kind": "Broker",
        "metadata": {"name": "broker"},
        "spec": {
            "size": 1, "replicaPerGroup": 2, "clusterMode": "CONTROLLER",
            "storageMode": "EmptyDir",
            "resources": {"requests": {"memory": "1Gi", "cpu": "100m"}, "limits": {"memory": "1Gi"}},
        },
    });
    testenv::apply_yaml(client, &serde_json::to_string(&broker)?, namespace).await?;
    let controllers: Api<Controller> = Api::namespaced(client.clone(), namespace);
    let name_services: Api<NameService> = Api::namespaced(client.clone(), namespace);
    let brokers: Api<Broker> = Api::namespaced(client.clone(), namespace);
    wait_ready(&controllers, "controller").await?;
    wait_ready(&name_services, "name-service").await?;
    wait_ready(&brokers, "broker").await?;

    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let name_server = pod_ip(&pods, "name-service-0").await?;
    let names = AdminClient::new(ClientConfig::new(&format!("{name_server}:9876")));
    testenv::eventually("the name servers list a master", TIMEOUT, || async {
        Ok(master_of(&names).await?.is_some())
    })
    .await?;
    let master = master_of(&names).await?.context("no master")?;
    names
        .create_topic(&master, &TopicConfig::new(TOPIC))
        .await?;
    // The replica elected next must know the topic.
    testenv::eventually("every broker has the topic", TIMEOUT, || async {
        let listed = names.cluster_info().await?;
        let group = listed
            .brokers
            .get("broker-0")
            .context("no group broker-0")?;
        for address in group.addresses.values() {
            if !names.topic_configs(address).await?.contains_key(TOPIC) {
                return Ok(false);
            }
        }
        Ok(true)
    })
    .await?;

    let master_pod = pod_at(&pods, &master).await?;
    let deleted = Instant::now();
    pods.delete(&master_pod, &DeleteParams::default()).await?;
    testenv::eventually("a new master stores a message", TIMEOUT, || async {
        Ok(match master_of(&names).await? {
            Some(now) if now != master => names.send_message(&now, TOPIC, b"after").await.is_ok(),
            _ => false,
        })
    })
    .await?;
    Ok(deleted.elapsed().as_secs_f64())
}

/// The address the name servers list as group `broker-0`'s master (broker id 0).
async fn master_of(names: &AdminClient) -> Result<Option<String>> {
    let listed = names.cluster_info().await?;
    Ok((listed.brokers.get("broker-0")).and_then(|group| group.addresses.get(&0).cloned()))
}

async fn pod_ip(pods: &Api<Pod>, pod: &str) -> Result<String> {
    (pods.get(pod).await?.status)
        .and_then(|status| status.pod_ip)
        .with_context(|| format!("{pod} has no IP"))
}

/// The pod whose IP serves the broker `address` (`ip:10911`).
async fn pod_at(pods: &Api<Pod>, address: &str) -> Result<String> {
    let listed = pods.list(&ListParams::default()).await?;
    (listed.items.iter())
        .find(|pod| {
            let ip = pod
                .status
                .as_ref()
                .and_then(|status| status.pod_ip.as_deref());
            ip.is_some_and(|ip| format!("{ip}:{BROKER_PORT}") == address)
        })
        .map(|pod| pod.name_any())
        .with_context(|| format!("no pod serves {address}"))
}
