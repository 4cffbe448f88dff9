//! A TopicTransfer on real pods, between two Brokers of one namespace, while a remoting producer
//! sends and a push consumer consumes across the switch: every acknowledged message is consumed,
//! each only from the cluster that stored it, and the topic ends on the target alone.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use api::rocketmq::{Broker, NameService, TopicTransfer};
use brokerage_e2e::real_pods::{
    one_heavy_test_at_a_time, rocketmq_remoting_client, setup_on_real_node,
};
use brokerage_e2e::wait_condition;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use rocketmq_client::TopicConfig;
use serde_json::json;

use crate::rocketmq::{READY, example, name_server_admin};

const TOPIC: &str = "moving";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_transfer_under_a_producer_and_a_consumer_loses_nothing() -> Result<()> {
    let _alone = one_heavy_test_at_a_time().await;
    let (client, namespace) = setup_on_real_node("rocketmq-transfer").await?;
    testenv::apply_yaml(&client, &example("name-service.yaml")?, &namespace).await?;
    for name in ["broker", "broker-next"] {
        let broker = json!({
            "apiVersion": "rocketmq.apache.org/v1alpha1", "kind": "Broker",
            "metadata": {"name": name},
            "spec": {
                "size": 1, "replicaPerGroup": 0, "storageMode": "EmptyDir",
                "resources": {"requests": {"memory": "768Mi", "cpu": "100m"}, "limits": {"memory": "768Mi"}},
            },
        });
        testenv::apply_yaml(&client, &serde_yaml::to_string(&broker)?, &namespace).await?;
    }
    let name_services: Api<NameService> = Api::namespaced(client.clone(), &namespace);
    wait_condition(&name_services, "name-service", "Ready", None, READY).await?;
    let brokers: Api<Broker> = Api::namespaced(client.clone(), &namespace);
    for name in ["broker", "broker-next"] {
        wait_condition(&brokers, name, "Ready", None, READY).await?;
    }
    // The topic on the source, as an application made it there.
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let names = name_server_admin(&pods, "name-service-0").await?;
    let master_of_source = || async {
        let mut cluster = names.cluster_info().await?;
        anyhow::Ok(
            cluster
                .brokers
                .remove("broker-0")
                .and_then(|mut group| group.addresses.remove(&0)),
        )
    };
    testenv::eventually("the name server lists broker-0's master", READY, || async {
        Ok(master_of_source().await?.is_some())
    })
    .await?;
    let master = master_of_source().await?.context("no master of broker-0")?;
    names
        .create_topic(&master, &TopicConfig::new(TOPIC))
        .await?;

    let name_servers = format!("name-service-0.name-service.{namespace}.svc:9876");
    let run = |name: &'static str, arguments: String| {
        let (client, namespace) = (client.clone(), namespace.to_string());
        tokio::spawn(async move {
            rocketmq_remoting_client(&client, &namespace, name, &arguments).await
        })
    };
    let before = run(
        "before",
        format!("produce {name_servers} {TOPIC} 50 before 0"),
    )
    .await??;
    // The consumer reads from the first offset until nothing came for 45 s; the producer sends
    // for a minute, the transfer starting meanwhile.
    let consumer = run(
        "consumer",
        format!("consume {name_servers} {TOPIC} billing 45"),
    );
    let during = run(
        "during",
        format!("produce {name_servers} {TOPIC} 300 during 200"),
    );
    tokio::time::sleep(Duration::from_secs(10)).await;
    let transfer = json!({
        "apiVersion": "rocketmq.apache.org/v1alpha1", "kind": "TopicTransfer",
        "metadata": {"name": TOPIC},
        "spec": {
            "topic": TOPIC, "sourceCluster": "broker", "targetCluster": "broker-next",
            "consumerGroup": "billing",
        },
    });
    testenv::apply_yaml(&client, &serde_yaml::to_string(&transfer)?, &namespace).await?;
    let transfers: Api<TopicTransfer> = Api::namespaced(client.clone(), &namespace);
    wait_condition(&transfers, TOPIC, "Ready", None, READY).await?;
    let during = during.await??;
    let consumed = consumer.await??;

    // Every acknowledged message, by the broker that stored it.
    let stored: BTreeMap<&str, &str> = (before.lines().chain(during.lines()))
        .filter_map(|line| {
            let mut words = line.strip_prefix("SENT ")?.split(' ');
            Some((words.next()?, words.next()?))
        })
        .collect();
    let mut received: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for line in consumed.lines() {
        let mut words = line
            .strip_prefix("RECEIVED ")
            .unwrap_or_default()
            .split(' ');
        if let (Some(body), Some(broker)) = (words.next(), words.next()) {
            received.entry(body).or_default().insert(broker);
        }
    }
    let stores: BTreeSet<&str> = stored.values().copied().collect();
    ensure!(
        stores == BTreeSet::from(["broker-0", "broker-next-0"]),
        "the producer did not move over to the target: {stores:?}"
    );
    for (body, broker) in &stored {
        ensure!(
            received.get(body) == Some(&BTreeSet::from([*broker])),
            "{body}, stored on {broker}, was received from {:?}",
            received.get(body)
        );
    }
    let route = names.topic_route(TOPIC).await?.unwrap_or_default();
    let routed: BTreeSet<&str> = (route.queues.iter())
        .map(|queue| queue.broker_name.as_str())
        .collect();
    ensure!(routed == BTreeSet::from(["broker-next-0"]), "{routed:?}");
    let failed = during
        .lines()
        .filter(|line| line.starts_with("FAILED"))
        .count();
    eprintln!(
        "rocketmq transfer: {} messages acknowledged ({failed} sends failed), all consumed from the cluster that stored them",
        stored.len()
    );
    Ok(())
}
