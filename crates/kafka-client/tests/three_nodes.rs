//! A three-node cluster: the brokers, the active controller, offsets from each partition's
//! leader and group's coordinator, and routing around a broker that died.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{bootstrap, eventually, plain_client, start, wire};
use kafka_client::{NewTopic, OffsetSpec};
use testenv::kafka::{KafkaOptions, Listener};

#[tokio::test]
async fn three_nodes_survive_one_dead_broker() {
    let mut kafka = start(KafkaOptions {
        nodes: 3,
        config: [
            // Fence a dead broker in seconds rather than the default 9.
            ("broker.session.timeout.ms", "3000"),
            ("broker.heartbeat.interval.ms", "500"),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect(),
        ..KafkaOptions::default()
    })
    .await;
    let client = plain_client(&kafka).await;

    let cluster = client.describe_cluster().await.unwrap();
    let mut ids: Vec<i32> = cluster.brokers.iter().map(|b| b.id).collect();
    ids.sort();
    assert_eq!(ids, [0, 1, 2]);
    assert!(ids.contains(&cluster.controller_id));
    let controller = client.active_controller().await.unwrap();
    assert!(ids.contains(&controller), "{controller}");

    let topic = |name: &str| NewTopic {
        name: name.into(),
        partitions: Some(3),
        replication_factor: Some(3),
        configs: Default::default(),
    };
    let created = client.create_topics(&[topic("replicated")]).await.unwrap();
    assert_eq!(
        created["replicated"].as_ref().unwrap().replication_factor,
        3
    );
    let names = vec!["replicated".to_string()];
    eventually(
        "every replica is in sync",
        Duration::from_secs(60),
        || async {
            let described = client.describe_topics(&names).await.unwrap();
            let topic = described["replicated"].as_ref().ok()?;
            topic
                .partitions
                .iter()
                .all(|p| p.replicas.len() == 3 && p.isr.len() == 3)
                .then_some(())
        },
    )
    .await;

    // Each partition's offsets come from its leader, whichever broker that is.
    let partitions: Vec<(String, i32)> = (0..3).map(|p| ("replicated".to_string(), p)).collect();
    let latest = client
        .list_offsets(&partitions, OffsetSpec::Latest)
        .await
        .unwrap();
    assert_eq!(latest, partitions.iter().map(|p| (p.clone(), 0)).collect());

    // A group on every broker: each broker lists only the groups it coordinates, and only the
    // coordinator has a group's offsets.
    let address = &bootstrap(&kafka, Listener::Plain)[0];
    let mut coordinated: BTreeMap<i32, (String, String)> = BTreeMap::new();
    for i in 0..1000 {
        if coordinated.len() == 3 {
            break;
        }
        let group = format!("group-{i}");
        let (node, coordinator) = eventually(
            "the group has a coordinator",
            Duration::from_secs(60),
            || async { wire::find_coordinator(address, &group).await.ok() },
        )
        .await;
        coordinated.entry(node).or_insert((group, coordinator));
    }
    assert_eq!(coordinated.len(), 3, "{coordinated:?}");
    for (group, coordinator) in coordinated.values() {
        eventually(
            "the group's offset is committed",
            Duration::from_secs(60),
            || async {
                wire::commit_offsets(coordinator, group, &[("replicated", 1, 0)])
                    .await
                    .ok()
            },
        )
        .await;
        assert_eq!(
            client.consumer_group_offsets(group).await.unwrap(),
            BTreeMap::from([(("replicated".to_string(), 1), 0)])
        );
    }
    let mut groups: Vec<String> = coordinated.into_values().map(|(group, _)| group).collect();
    groups.sort();
    assert_eq!(client.list_consumer_groups().await.unwrap(), groups);

    // Kill the broker Metadata names as the controller: the client must go elsewhere.
    let victim = cluster.controller_id;
    kafka.stop_node(victim as usize);

    let created = client
        .create_topics(&[topic("after-the-crash")])
        .await
        .unwrap();
    assert!(created["after-the-crash"].is_ok(), "{created:?}");
    eventually(
        "the dead broker leaves every ISR",
        Duration::from_secs(60),
        || async {
            let described = client.describe_topics(&names).await.unwrap();
            let topic = described["replicated"].as_ref().ok()?;
            topic
                .partitions
                .iter()
                .all(|p| p.isr.len() == 2 && !p.isr.contains(&victim) && p.leader != Some(victim))
                .then_some(())
        },
    )
    .await;
    eventually(
        "the metadata drops the dead broker",
        Duration::from_secs(60),
        || async {
            let cluster = client.describe_cluster().await.unwrap();
            (cluster.brokers.len() == 2).then_some(())
        },
    )
    .await;
    let controller = client.active_controller().await.unwrap();
    assert_ne!(controller, victim);

    let restart =
        tokio::task::spawn_blocking(move || kafka.restart_node(victim as usize).map(|()| kafka));
    let kafka = restart.await.unwrap().expect("the node restarts");
    eventually("the broker is back", Duration::from_secs(60), || async {
        let cluster = client.describe_cluster().await.unwrap();
        (cluster.brokers.len() == 3).then_some(())
    })
    .await;
    eventually(
        "the broker is back in every ISR",
        Duration::from_secs(60),
        || async {
            let described = client.describe_topics(&names).await.unwrap();
            let topic = described["replicated"].as_ref().ok()?;
            topic
                .partitions
                .iter()
                .all(|p| p.isr.contains(&victim))
                .then_some(())
        },
    )
    .await;
    drop(kafka);
}
