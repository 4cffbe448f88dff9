//! TopicTransfer, run by the real binary against a real RocketMQ name server and brokers on
//! loopback: a topic holding 10,000 messages moves from one cluster to another. Two figures:
//! from the TopicTransfer's creation to Done when its consumer group had consumed every message
//! (the operator's own steps), and, for a topic whose group had consumed none, from the group's
//! last commit to Done (how soon a transfer held for its consumers notices they are through).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;
use api::rocketmq::TopicTransfer;
use futures::{StreamExt, TryStreamExt};
use kube::api::{Api, PostParams};
use rocketmq_client::{AdminClient, ClientConfig, SubscriptionGroup, TopicConfig};
use testenv::operator::Operator;
use testenv::rocketmq::{Broker, BrokerOptions, RocketMQCluster, RocketMQOptions};

use crate::Figure;

const MESSAGES: i64 = 10_000;
const GROUP: &str = "billing";
/// Sends in flight at once while filling a topic.
const SENDS_IN_FLIGHT: usize = 64;

pub async fn run(cluster: &testenv::Cluster, out: &Path) -> Result<Vec<Figure>> {
    let rocketmq =
        tokio::task::spawn_blocking(|| RocketMQCluster::start(&RocketMQOptions::default()))
            .await??;
    let names = rocketmq.name_server_addr();
    let mut options = BrokerOptions::new(&names);
    (options.cluster_name, options.broker_name) = ("elsewhere".into(), "elsewhere-0".into());
    let target = tokio::task::spawn_blocking(move || Broker::start(&options)).await??;
    let connections = out.join("rocketmq-transfer-connections.yaml");
    std::fs::write(
        &connections,
        format!(
            "- cluster: source\n  clusterName: DefaultCluster\n  nameServers: {names}\n\
             - cluster: target\n  clusterName: elsewhere\n  nameServers: {names}\n"
        ),
    )?;
    let client = cluster.client().await?;
    let namespace = testenv::fresh_namespace(&client, "bench-topic-transfer").await?;
    let operator = Operator::start(
        cluster.kubeconfig(),
        &out.join("operator-topic-transfer.log"),
        &[
            "--rocketmq-connections",
            &connections.display().to_string(),
            "--watch-namespaces",
            &namespace,
        ],
    )
    .await?;
    let admin = AdminClient::new(ClientConfig::new(&names));
    let source = rocketmq.brokers()[0].addr();
    let transfers: Api<TopicTransfer> = Api::namespaced(client, &namespace);

    fill(&admin, &source, "consumed", MESSAGES).await?;
    let began = Instant::now();
    start_transfer(&transfers, "consumed").await?;
    reached(&operator, &transfers, "consumed", "Done").await?;
    let consumed = began.elapsed();

    fill(&admin, &source, "unconsumed", 0).await?;
    start_transfer(&transfers, "unconsumed").await?;
    reached(&operator, &transfers, "unconsumed", "WaitingForConsumers").await?;
    let committed = Instant::now();
    (admin.commit_offset(&source, GROUP, "unconsumed", 0, MESSAGES)).await?;
    reached(&operator, &transfers, "unconsumed", "Done").await?;
    let after_commit = committed.elapsed();

    drop((rocketmq, target));
    Ok(vec![
        Figure {
            name: "rocketmq_topic_transfer_10000_messages",
            value: consumed.as_secs_f64(),
            unit: "s",
        },
        Figure {
            name: "rocketmq_topic_transfer_done_after_consumed",
            value: after_commit.as_secs_f64(),
            unit: "s",
        },
    ])
}

/// `topic` on the source broker with [`MESSAGES`] messages on queue 0, of which the group has
/// consumed `consumed`.
async fn fill(admin: &AdminClient, broker: &str, topic: &str, consumed: i64) -> Result<()> {
    let group = SubscriptionGroup {
        name: GROUP.into(),
        config: serde_json::json!({}),
    };
    admin.update_subscription_group(broker, &group).await?;
    admin.create_topic(broker, &TopicConfig::new(topic)).await?;
    futures::stream::iter(0..MESSAGES)
        .map(|index| async move {
            let body = format!("{topic}-{index}");
            admin.send_message(broker, topic, body.as_bytes()).await
        })
        .buffer_unordered(SENDS_IN_FLIGHT)
        .try_collect::<()>()
        .await?;
    admin
        .commit_offset(broker, GROUP, topic, 0, consumed)
        .await?;
    Ok(())
}

async fn start_transfer(transfers: &Api<TopicTransfer>, topic: &str) -> Result<()> {
    let transfer = serde_json::from_value(serde_json::json!({
        "apiVersion": "rocketmq.apache.org/v1alpha1", "kind": "TopicTransfer",
        "metadata": {"name": topic},
        "spec": {"topic": topic, "sourceCluster": "source", "targetCluster": "target"},
    }))?;
    transfers.create(&PostParams::default(), &transfer).await?;
    Ok(())
}

/// Waits until the transfer's status shows `phase`, polling every 50 ms.
async fn reached(
    operator: &Operator,
    transfers: &Api<TopicTransfer>,
    name: &str,
    phase: &str,
) -> Result<()> {
    let what = format!("TopicTransfer {name} reached {phase}");
    operator
        .poll(&what, Duration::from_millis(50), || async {
            let status = transfers.get(name).await?.status.unwrap_or_default();
            Ok(status.phase.as_deref() == Some(phase))
        })
        .await
}
