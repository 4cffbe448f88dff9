//! The topic and user operators' benchmarks share one real Kafka, with the ACL authorizer, and
//! one operator process that reaches it as the cluster `bench` through a connections file. The
//! floors of the same work come first, before that operator starts; the memory figure under
//! the whole load comes last, on that operator, then one edit's latency under that load, and
//! what restarting the operator costs.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use kafka_client::{AdminClient, ClientConfig};
use testenv::kafka::{KafkaCluster, KafkaOptions, Listener};

use crate::{Figure, floor, load, scale, topics, users};
use testenv::operator::Operator;

/// Short enough that the benchmark sees a full reconciliation without waiting long.
const RESYNC_SECONDS: &str = "60";

pub async fn run(cluster: &testenv::Cluster, out: &Path) -> Result<Vec<Figure>> {
    let options = KafkaOptions {
        config: BTreeMap::from([
            (
                "authorizer.class.name".into(),
                "org.apache.kafka.metadata.authorizer.StandardAuthorizer".into(),
            ),
            // The plain listener: the brokers' own and the operator's.
            ("super.users".into(), "User:ANONYMOUS".into()),
        ]),
        // Eleven thousand topics, and ten thousand users with their ACLs.
        max_heap_mb: 2048,
        ..KafkaOptions::default()
    };
    let kafka = tokio::task::spawn_blocking(move || KafkaCluster::start(&options)).await??;
    let bootstrap = kafka.bootstrap(Listener::Plain);
    let connections = out.join("kafka-connections.yaml");
    std::fs::write(
        &connections,
        format!("- cluster: bench\n  bootstrapServers: {bootstrap}\n"),
    )?;
    let connections = connections.display().to_string();
    let admin = AdminClient::connect(ClientConfig::new([bootstrap])).await?;
    let client = cluster.client().await?;
    let floors = floor::run(&client, &admin).await?;

    let args = [
        "--kafka-connections",
        &connections,
        "--resync-seconds",
        RESYNC_SECONDS,
    ];
    let operator = Operator::start(
        cluster.kubeconfig(),
        &out.join("operator-brokers.log"),
        &args,
    )
    .await?;

    let mut figures = users::run(&client, &operator, &admin).await?;
    figures.extend(topics::run(&client, &operator, &admin).await?);
    figures.extend(floors);
    figures.extend(floor::ratios(&figures));
    figures.extend(load::run(&client, &operator).await?);
    figures.extend(scale::edit_latencies(&client, &admin).await?);
    let restarted_log = out.join("operator-brokers-restarted.log");
    let start_again = || Operator::start(cluster.kubeconfig(), &restarted_log, &args);
    let (restarted, _operator) = scale::restart(&client, operator, start_again).await?;
    figures.extend(restarted);
    drop(kafka);
    Ok(figures)
}
