//! Runs every benchmark, prints a table and writes `target/bench/results.json`
//! (a list of `{"name", "value", "unit"}`). Figure names are stable: dashboards key on them.

mod brokers;
mod control_plane;
mod failover;
mod floor;
mod kafka_cluster;
mod load;
mod moves;
mod outage;
mod real_node;
mod resources;
mod rocketmq_failover;
mod rocketmq_topics;
mod scale;
mod timeline;
mod topic_transfer;
mod topics;
mod users;

use std::path::Path;

use anyhow::Result;
use serde::Serialize;

#[derive(Serialize)]
pub struct Figure {
    pub name: &'static str,
    pub value: f64,
    pub unit: &'static str,
}

#[tokio::main]
async fn main() -> Result<()> {
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    std::fs::create_dir_all(&out)?;
    // `bench real-node brokers` runs those alone (after the control plane); no names, all.
    let only: Vec<String> = std::env::args().skip(1).collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|given| given == name);
    let (cluster, mut figures) = control_plane::run().await?;
    // First, while no other operator runs: the installed operator watches every namespace.
    if wanted("real-node") {
        figures.extend(real_node::run(&cluster).await?);
    }
    if wanted("failover") {
        figures.extend(failover::run(&cluster, &out).await?);
    }
    if wanted("kafka-cluster") {
        figures.extend(kafka_cluster::run(&cluster, &out).await?);
    }
    if wanted("brokers") {
        figures.extend(brokers::run(&cluster, &out).await?);
    }
    if wanted("moves") {
        figures.extend(moves::run(&cluster, &out).await?);
    }
    if wanted("rocketmq-topics") {
        figures.extend(rocketmq_topics::run(&cluster, &out).await?);
    }
    if wanted("topic-transfer") {
        figures.extend(topic_transfer::run(&cluster, &out).await?);
    }
    if wanted("outage") {
        figures.extend(outage::run(&cluster, &out).await?);
    }
    println!("{:<48} {:>12}  unit", "figure", "value");
    for figure in &figures {
        println!(
            "{:<48} {:>12.3}  {}",
            figure.name, figure.value, figure.unit
        );
    }
    std::fs::write(
        out.join("results.json"),
        serde_json::to_string_pretty(&figures)?,
    )?;
    Ok(())
}
