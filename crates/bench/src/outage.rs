//! Recovery from an API-server outage: 1,000 KafkaTopics and 1,000 KafkaUsers created at once,
//! the API server made unreachable for 30 s once a fifth of them are Ready (every request
//! held, as a stopped server or a cut network leaves them, by testenv's proxy between the
//! operator and the API server), then the time from its return until every one is Ready.

use std::path::Path;
use std::time::Duration;

use anyhow::{Result, bail};
use api::kafka::{KafkaTopic, KafkaUser};
use kube::Client;
use kube::api::{Api, ListParams};
use serde_json::json;
use testenv::ApiProxy;
use testenv::kafka::{KafkaCluster, KafkaOptions, Listener};
use testenv::operator::Operator;
use tokio::time::Instant;

use crate::Figure;
use crate::resources::create_all;
use crate::{topics, users};

const COUNT: usize = 1_000;
const OUTAGE: Duration = Duration::from_secs(30);

/// A Kafka of its own, and an operator watching only its namespace through the proxy, which
/// reaches that Kafka as the cluster `bench`.
pub async fn run(cluster: &testenv::Cluster, out: &Path) -> Result<Vec<Figure>> {
    let kafka =
        tokio::task::spawn_blocking(|| KafkaCluster::start(&KafkaOptions::default())).await??;
    let connections = out.join("kafka-connections-outage.yaml");
    std::fs::write(
        &connections,
        format!(
            "- cluster: bench\n  bootstrapServers: {}\n",
            kafka.bootstrap(Listener::Plain)
        ),
    )?;
    let connections = connections.display().to_string();
    let client = cluster.client().await?;
    let namespace = testenv::fresh_namespace(&client, "bench-outage").await?;
    let proxy = ApiProxy::start(client.clone()).await?;
    let kubeconfig = out.join("kubeconfig-outage");
    proxy.write_kubeconfig(&kubeconfig)?;
    let args = [
        "--watch-namespaces",
        &namespace,
        "--kafka-connections",
        &connections,
    ];
    let operator = Operator::start(&kubeconfig, &out.join("operator-outage.log"), &args).await?;

    let topics: Api<KafkaTopic> = Api::namespaced(client.clone(), &namespace);
    let users: Api<KafkaUser> = Api::namespaced(client.clone(), &namespace);
    let labels = json!({"strimzi.io/cluster": "bench"});
    create_all(
        &topics,
        (0..COUNT).map(|index| {
            json!({"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic",
                "metadata": {"name": format!("outage-topic-{index}"), "labels": labels},
                "spec": {"partitions": 1, "replicas": 1}})
        }),
    )
    .await?;
    create_all(
        &users,
        (0..COUNT).map(|index| {
            json!({"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaUser",
                "metadata": {"name": format!("outage-user-{index}"), "labels": labels},
                "spec": {"authentication": {"type": "scram-sha-512"}}})
        }),
    )
    .await?;
    let ready = || ready_count(&client, &namespace);
    operator
        .poll(
            "a fifth of the resources are Ready",
            Duration::from_millis(200),
            || async { Ok(ready().await? >= 2 * COUNT / 5) },
        )
        .await?;
    if ready().await? == 2 * COUNT {
        bail!("everything was Ready before the outage: it would measure nothing");
    }

    proxy.set_stalled(true);
    tokio::time::sleep(OUTAGE).await;
    operator.check_running()?;
    proxy.set_stalled(false);
    let back = Instant::now();
    operator
        .poll(
            "every resource is Ready after the outage",
            Duration::from_millis(250),
            || async { Ok(ready().await? == 2 * COUNT) },
        )
        .await?;
    let recovered = back.elapsed();
    operator.kill().await?;
    drop(kafka);
    Ok(vec![Figure {
        name: "recovery_after_api_outage_30s",
        value: recovered.as_secs_f64(),
        unit: "s",
    }])
}

/// Topics and users of `namespace` Ready for their current generation.
async fn ready_count(client: &Client, namespace: &str) -> Result<usize> {
    let topics_api: Api<KafkaTopic> = Api::namespaced(client.clone(), namespace);
    let users_api: Api<KafkaUser> = Api::namespaced(client.clone(), namespace);
    let ready_topics = topics_api.list(&ListParams::default()).await?.items;
    let ready_users = users_api.list(&ListParams::default()).await?.items;
    Ok(ready_topics.iter().filter(|t| topics::is_ready(t)).count()
        + ready_users.iter().filter(|u| users::is_ready(u)).count())
}
