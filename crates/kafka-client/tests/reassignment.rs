//! Moving a partition on a three-node cluster: reassigned from one replica to three under a
//! replication throttle, followed until done, its preferred leader elected, its data found in
//! every broker's log directory; and the KRaft quorum that the three nodes form, made dynamic
//! (kraft.version 1), one voter removed and added back. One cluster for all of it.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{eventually, plain_client, start, wire};
use kafka_client::{
    AdminClient, ConfigResource, ConfigSource, Error, FOLLOWER_THROTTLED_RATE,
    FOLLOWER_THROTTLED_REPLICAS, KRAFT_VERSION_FEATURE, KafkaError, LEADER_THROTTLED_RATE,
    LEADER_THROTTLED_REPLICAS, NewTopic, PartitionInfo,
};
use testenv::kafka::{KafkaOptions, Listener};

const TOPIC: &str = "moving";

/// The topic's partition, once the broker asked knows it.
async fn partition(client: &AdminClient) -> Option<PartitionInfo> {
    let described = client.describe_topics(&[TOPIC.to_string()]).await.unwrap();
    let topic = described[TOPIC].as_ref().ok()?;
    topic.partitions.first().cloned()
}

/// The value of `name` set on `resource` itself (not inherited), if any.
async fn own_config(client: &AdminClient, resource: &ConfigResource, name: &str) -> Option<String> {
    let configs = client
        .describe_configs(std::slice::from_ref(resource))
        .await
        .unwrap();
    let entries = configs[resource].as_ref().unwrap();
    entries
        .iter()
        .find(|entry| entry.name == name)
        .filter(|entry| {
            matches!(
                entry.source,
                ConfigSource::DynamicTopic | ConfigSource::DynamicBroker
            )
        })
        .and_then(|entry| entry.value.clone())
}

/// Waits until `resource`'s own value of `name` is `expected`: brokers apply configuration
/// changes a moment after the controller committed them.
async fn wait_config(
    client: &AdminClient,
    resource: &ConfigResource,
    name: &str,
    expected: Option<&str>,
) {
    let what = format!("{name} of {resource:?} is {expected:?}");
    eventually(&what, Duration::from_secs(30), || async {
        (own_config(client, resource, name).await.as_deref() == expected).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_partition_moves_to_three_brokers_and_a_controller_leaves_the_quorum_and_returns() {
    let kafka = start(KafkaOptions::nodes(3)).await;
    let client = plain_client(&kafka).await;
    let brokers = [0, 1, 2];

    // The quorum: all three nodes vote, one leads.
    let quorum = client.describe_quorum().await.unwrap();
    let mut voters: Vec<i32> = quorum.voters.iter().map(|voter| voter.id).collect();
    voters.sort();
    assert_eq!(voters, brokers);
    let leader = quorum.leader_id.expect("the quorum has a leader");
    assert!(brokers.contains(&leader), "{leader}");
    assert_eq!(client.active_controller().await.unwrap(), leader);

    let created = client
        .create_topics(&[NewTopic {
            name: TOPIC.into(),
            partitions: Some(1),
            replication_factor: Some(1),
            configs: Default::default(),
        }])
        .await
        .unwrap();
    assert!(created[TOPIC].is_ok(), "{created:?}");
    let before = eventually(
        "the partition has a leader",
        Duration::from_secs(60),
        || async {
            let partition = partition(&client).await?;
            partition.leader.is_some().then_some(partition)
        },
    )
    .await;
    assert_eq!(before.replicas.len(), 1);
    let origin = before.replicas[0];
    let address = kafka.address(origin as usize, Listener::Plain).to_string();
    eventually("records are produced", Duration::from_secs(60), || async {
        wire::produce(&address, TOPIC, 0, 5).await.ok()
    })
    .await;

    // Only the origin holds the partition, with the records in it.
    for broker in brokers {
        let dirs = client.describe_log_dirs(broker).await.unwrap();
        assert!(!dirs.is_empty());
        for dir in &dirs {
            assert_eq!(dir.error, None, "{dir:?}");
            assert!(dir.total_bytes.is_some_and(|total| total > 0), "{dir:?}");
            assert!(dir.usable_bytes.is_some(), "{dir:?}");
        }
        let held: Vec<_> = dirs
            .iter()
            .flat_map(|dir| &dir.partitions)
            .filter(|p| p.topic == TOPIC && p.partition == 0)
            .collect();
        match broker == origin {
            true => assert!(held.len() == 1 && held[0].size > 0, "{held:?}"),
            false => assert!(held.is_empty(), "broker {broker}: {held:?}"),
        }
    }

    // Throttle the copy: the origin sends, the two new replicas receive.
    let targets: Vec<i32> = vec![(origin + 1) % 3, (origin + 2) % 3, origin];
    let throttled = client
        .set_replication_throttle(&brokers, 10_000_000)
        .await
        .unwrap();
    assert!(throttled.values().all(Result::is_ok), "{throttled:?}");
    client
        .set_throttled_replicas(TOPIC, &[(0, origin)], &[(0, targets[0]), (0, targets[1])])
        .await
        .unwrap();
    let topic = ConfigResource::Topic(TOPIC.into());
    let leaders = format!("0:{origin}");
    let followers = format!("0:{},0:{}", targets[0], targets[1]);
    wait_config(&client, &topic, LEADER_THROTTLED_REPLICAS, Some(&leaders)).await;
    wait_config(
        &client,
        &topic,
        FOLLOWER_THROTTLED_REPLICAS,
        Some(&followers),
    )
    .await;
    for broker in brokers {
        for name in [LEADER_THROTTLED_RATE, FOLLOWER_THROTTLED_RATE] {
            let broker = ConfigResource::Broker(broker);
            wait_config(&client, &broker, name, Some("10000000")).await;
        }
    }

    // Move to three replicas with the origin last: it keeps leading, but is not preferred.
    let key = (TOPIC.to_string(), 0);
    let moves = BTreeMap::from([
        (key.clone(), Some(targets.clone())),
        (("no-such-topic".to_string(), 0), Some(vec![0])),
    ]);
    let results = client.alter_partition_reassignments(&moves).await.unwrap();
    assert_eq!(results[&key], Ok(()));
    assert_eq!(
        results[&("no-such-topic".to_string(), 0)]
            .as_ref()
            .unwrap_err()
            .code,
        KafkaError::UNKNOWN_TOPIC_OR_PARTITION
    );
    let only = [key.clone()];
    eventually(
        "the reassignment completes",
        Duration::from_secs(60),
        || async {
            let moving = client
                .list_partition_reassignments(Some(&only))
                .await
                .unwrap();
            if let Some(reassignment) = moving.get(&key) {
                assert!(reassignment.replicas.contains(&origin), "{reassignment:?}");
            }
            moving.is_empty().then_some(())
        },
    )
    .await;
    assert!(
        client
            .list_partition_reassignments(None)
            .await
            .unwrap()
            .is_empty()
    );
    let moved = eventually(
        "every replica is in sync",
        Duration::from_secs(60),
        || async {
            let partition = partition(&client).await?;
            (partition.isr.len() == 3).then_some(partition)
        },
    )
    .await;
    assert_eq!(moved.replicas, targets);
    assert_eq!(moved.leader, Some(origin));

    // The copies hold the records too.
    for broker in brokers {
        eventually(
            "the replica holds the records",
            Duration::from_secs(30),
            || async {
                let dirs = client.describe_log_dirs(broker).await.unwrap();
                dirs.iter()
                    .flat_map(|dir| &dir.partitions)
                    .any(|p| p.topic == TOPIC && p.partition == 0 && p.size > 0 && !p.is_future)
                    .then_some(())
            },
        )
        .await;
    }

    // Nothing left to cancel.
    let cancel = BTreeMap::from([(key.clone(), None)]);
    let cancelled = client.alter_partition_reassignments(&cancel).await.unwrap();
    assert_eq!(
        cancelled[&key].as_ref().unwrap_err().code,
        KafkaError::NO_REASSIGNMENT_IN_PROGRESS
    );

    // Leadership goes to the preferred replica, the first of the new list.
    let elected = client.elect_leaders(&only).await.unwrap();
    assert_eq!(elected[&key], Ok(()));
    eventually(
        "the preferred replica leads",
        Duration::from_secs(30),
        || async { (partition(&client).await?.leader == Some(targets[0])).then_some(()) },
    )
    .await;
    let again = client
        .elect_leaders(&[key.clone(), ("no-such-topic".to_string(), 0)])
        .await
        .unwrap();
    assert_eq!(again[&key], Ok(()), "ELECTION_NOT_NEEDED is success");
    assert!(
        again[&("no-such-topic".to_string(), 0)].is_err(),
        "{again:?}"
    );

    // The throttles go.
    let cleared = client
        .clear_replication_throttles(&brokers, &[TOPIC.to_string()])
        .await
        .unwrap();
    assert_eq!(cleared.len(), 4);
    assert!(cleared.values().all(Result::is_ok), "{cleared:?}");
    wait_config(&client, &topic, LEADER_THROTTLED_REPLICAS, None).await;
    wait_config(&client, &topic, FOLLOWER_THROTTLED_REPLICAS, None).await;
    for broker in brokers {
        for name in [LEADER_THROTTLED_RATE, FOLLOWER_THROTTLED_RATE] {
            wait_config(&client, &ConfigResource::Broker(broker), name, None).await;
        }
    }

    // The static quorum (controller.quorum.voters) becomes dynamic with kraft.version 1; the
    // voters' directory IDs are then known.
    client
        .upgrade_feature(KRAFT_VERSION_FEATURE, 1)
        .await
        .unwrap();
    let quorum = eventually(
        "the voters have directory IDs",
        Duration::from_secs(30),
        || async {
            let quorum = client.describe_quorum().await.unwrap();
            let known = quorum.voters.iter().all(|v| v.directory_id.is_some());
            (quorum.voters.len() == 3 && known).then_some(quorum)
        },
    )
    .await;
    let leader = quorum.leader_id.expect("the quorum has a leader");
    let voter = quorum
        .voters
        .iter()
        .find(|voter| voter.id != leader)
        .expect("a voter besides the leader")
        .clone();
    let directory = voter.directory_id.expect("a directory ID");
    assert_eq!(voter.endpoints.len(), 1, "{voter:?}");
    assert_eq!(voter.endpoints[0].listener, "CONTROLLER");

    // Removed, the node stays as an observer; added back, it votes again.
    client.remove_raft_voter(voter.id, directory).await.unwrap();
    eventually(
        "the voter is an observer",
        Duration::from_secs(30),
        || async {
            let quorum = client.describe_quorum().await.unwrap();
            let votes = quorum.voters.iter().any(|v| v.id == voter.id);
            let observes = quorum.observers.iter().any(|o| o.id == voter.id);
            (quorum.voters.len() == 2 && !votes && observes).then_some(())
        },
    )
    .await;
    client
        .add_raft_voter(voter.id, directory, &voter.endpoints)
        .await
        .unwrap();
    eventually("the node votes again", Duration::from_secs(30), || async {
        let quorum = client.describe_quorum().await.unwrap();
        let back = quorum.voters.iter().find(|v| v.id == voter.id)?;
        (back.directory_id == Some(directory) && back.endpoints == voter.endpoints).then_some(())
    })
    .await;
    let duplicate = client
        .add_raft_voter(voter.id, directory, &voter.endpoints)
        .await
        .unwrap_err();
    assert!(
        matches!(&duplicate, Error::Kafka(error) if error.code == KafkaError::DUPLICATE_VOTER),
        "{duplicate}"
    );
}
