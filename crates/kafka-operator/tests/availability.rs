//! The rolling update's Kafka checks against a real three-node Kafka: what the cluster reports
//! lets every node restart while all replicas are in sync, holds back the nodes a shrunken ISR
//! depends on, and names the active controller, which restarts last.

use std::time::Duration;

use anyhow::{Result, anyhow};
use kafka_client::{AdminClient, ClientConfig, NewTopic};
use kafka_operator::admin::observe_availability;
use testenv::kafka::{KafkaCluster, KafkaOptions, Listener};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_wait_for_in_sync_replicas_and_the_active_controller_goes_last() -> Result<()> {
    let mut kafka =
        tokio::task::spawn_blocking(|| KafkaCluster::start(&KafkaOptions::nodes(3))).await??;
    let admin = AdminClient::connect(ClientConfig::new([kafka.bootstrap(Listener::Plain)])).await?;
    let topic = NewTopic {
        name: "payments".into(),
        partitions: Some(3),
        replication_factor: Some(3),
        configs: [("min.insync.replicas".to_string(), "2".to_string())].into(),
    };
    let created = admin.create_topics(&[topic]).await?;
    created["payments"]
        .as_ref()
        .map_err(|error| anyhow!("{error}"))?;

    let in_sync = wait_for(&admin, "every replica is in sync", |availability| {
        availability.topics.get("payments").is_some_and(|topic| {
            topic.partitions.len() == 3 && topic.partitions.iter().all(|p| p.isr.len() == 3)
        })
    })
    .await?;
    assert_eq!(in_sync.min_in_sync_replicas.get("payments"), Some(&2));
    for node in 0..3 {
        assert_eq!(in_sync.restart_blocker(node), None, "node {node}");
    }
    let active = in_sync.active_controller.expect("an active controller");
    assert!((0..3).contains(&active));
    assert!(in_sync.restarts_last(active));

    // One node down: each partition is left with exactly min.insync.replicas in sync, so
    // neither remaining node may restart; the stopped one may.
    let stopped = (active + 1) % 3;
    kafka = tokio::task::spawn_blocking(move || {
        kafka.stop_node(stopped as usize);
        kafka
    })
    .await?;
    let shrunk = wait_for(
        &admin,
        "the stopped node leaves every ISR",
        |availability| {
            availability.topics.get("payments").is_some_and(|topic| {
                topic
                    .partitions
                    .iter()
                    .all(|p| p.isr.len() == 2 && !p.isr.contains(&stopped))
            })
        },
    )
    .await?;
    for node in (0..3).filter(|node| *node != stopped) {
        let blocker = shrunk.restart_blocker(node).expect("the node is needed");
        assert!(blocker.contains("min.insync.replicas (2)"), "{blocker}");
    }
    assert_eq!(shrunk.restart_blocker(stopped), None);
    drop(kafka);
    Ok(())
}

/// Observes the cluster until `check` holds.
async fn wait_for(
    admin: &AdminClient,
    what: &str,
    check: impl Fn(&kafka_operator::assembly::availability::Availability) -> bool,
) -> Result<kafka_operator::assembly::availability::Availability> {
    for _ in 0..600 {
        if let Ok(availability) = observe_availability(admin).await
            && check(&availability)
        {
            return Ok(availability);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("timed out waiting until {what}")
}
