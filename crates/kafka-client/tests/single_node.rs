//! Topics, configurations, quotas and offsets against one real Kafka node on its plain listener.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{bootstrap, eventually, plain_client, start, wire};
use kafka_client::{
    ConfigOp, ConfigResource, ConfigSource, Error, KafkaError, NewTopic, OffsetSpec,
    QuotaAlteration, QuotaEntity, QuotaFilter, QuotaMatch,
};
use testenv::kafka::{KafkaCluster, KafkaOptions, Listener};
use tokio::sync::OnceCell;

static KAFKA: OnceCell<KafkaCluster> = OnceCell::const_new();

async fn kafka() -> &'static KafkaCluster {
    KAFKA.get_or_init(|| start(KafkaOptions::default())).await
}

fn new_topic(name: &str, partitions: i32, configs: &[(&str, &str)]) -> NewTopic {
    NewTopic {
        name: name.to_string(),
        partitions: Some(partitions),
        replication_factor: Some(1),
        configs: configs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect(),
    }
}

#[tokio::test]
async fn fifty_topics_are_created_described_grown_and_deleted() {
    let client = plain_client(kafka().await).await;
    let names: Vec<String> = (0..50).map(|i| format!("bulk-{i:02}")).collect();
    let topics: Vec<NewTopic> = names
        .iter()
        .map(|name| new_topic(name, 2, &[("retention.ms", "3600000")]))
        .collect();

    let created = client.create_topics(&topics).await.unwrap();
    assert_eq!(created.len(), 50);
    for (name, result) in &created {
        let created = result.as_ref().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(created.partitions, 2);
        assert_eq!(created.replication_factor, 1);
        assert!(created.topic_id.is_some(), "{name} has a topic ID");
    }

    let described = eventually(
        "all 50 topics are described",
        Duration::from_secs(30),
        || async {
            let described = client.describe_topics(&names).await.unwrap();
            described.values().all(Result::is_ok).then_some(described)
        },
    )
    .await;
    for name in &names {
        let topic = described[name].as_ref().unwrap();
        assert_eq!(&topic.name, name);
        assert!(!topic.internal);
        assert_eq!(topic.topic_id, created[name].as_ref().unwrap().topic_id);
        let partitions: Vec<i32> = topic.partitions.iter().map(|p| p.partition).collect();
        assert_eq!(partitions, [0, 1]);
        assert!(topic.partitions.iter().all(|p| p.replicas == [0]));
    }
    let listed = client.list_topics().await.unwrap();
    assert!(names.iter().all(|name| listed.contains_key(name)));

    // Creating them again fails per topic.
    let again = client.create_topics(&topics).await.unwrap();
    for (name, result) in &again {
        let error = result.as_ref().expect_err(name);
        assert_eq!(
            error.code,
            KafkaError::TOPIC_ALREADY_EXISTS,
            "{name}: {error}"
        );
        assert_eq!(error.name(), "TOPIC_ALREADY_EXISTS");
    }

    // Grow one; shrinking another is refused for that topic only.
    let grown = client
        .create_partitions(&[(names[0].clone(), 5), (names[1].clone(), 1)])
        .await
        .unwrap();
    assert_eq!(grown[&names[0]], Ok(()));
    assert_eq!(
        grown[&names[1]].as_ref().unwrap_err().code,
        KafkaError::INVALID_PARTITIONS
    );
    eventually(
        "the topic has 5 partitions",
        Duration::from_secs(30),
        || async {
            let described = client.describe_topics(&names[..1]).await.unwrap();
            let topic = described[&names[0]].as_ref().ok()?;
            (topic.partitions.len() == 5).then_some(())
        },
    )
    .await;

    let deleted = client.delete_topics(&names).await.unwrap();
    assert_eq!(deleted.len(), 50);
    assert!(deleted.values().all(Result::is_ok), "{deleted:?}");
    eventually("the topics are gone", Duration::from_secs(30), || async {
        let described = client.describe_topics(&names).await.unwrap();
        described
            .values()
            .all(|result| {
                matches!(result, Err(e) if e.code == KafkaError::UNKNOWN_TOPIC_OR_PARTITION)
            })
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn missing_topics_are_reported_per_topic() {
    let client = plain_client(kafka().await).await;
    let names = vec!["never-created".to_string()];
    let described = client.describe_topics(&names).await.unwrap();
    let error = described["never-created"].as_ref().unwrap_err();
    assert_eq!(error.code, KafkaError::UNKNOWN_TOPIC_OR_PARTITION);

    let deleted = client.delete_topics(&names).await.unwrap();
    assert_eq!(
        deleted["never-created"].as_ref().unwrap_err().code,
        KafkaError::UNKNOWN_TOPIC_OR_PARTITION
    );
    let configs = client
        .describe_configs(&[ConfigResource::Topic("never-created".into())])
        .await
        .unwrap();
    assert_eq!(
        configs[&ConfigResource::Topic("never-created".into())]
            .as_ref()
            .unwrap_err()
            .code,
        KafkaError::UNKNOWN_TOPIC_OR_PARTITION
    );
}

#[tokio::test]
async fn topic_configs_are_described_and_changed_key_by_key() {
    let client = plain_client(kafka().await).await;
    let topic = ConfigResource::Topic("configured".into());
    let created = client
        .create_topics(&[new_topic(
            "configured",
            1,
            &[("retention.ms", "7200000"), ("cleanup.policy", "compact")],
        )])
        .await
        .unwrap();
    assert!(created["configured"].is_ok(), "{created:?}");

    let entry = |configs: &Vec<kafka_client::ConfigEntry>, name: &str| {
        configs
            .iter()
            .find(|entry| entry.name == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} is described"))
    };
    let configs = eventually("the topic's configs", Duration::from_secs(30), || async {
        let described = client
            .describe_configs(std::slice::from_ref(&topic))
            .await
            .unwrap();
        described[&topic].as_ref().ok().cloned()
    })
    .await;
    let retention = entry(&configs, "retention.ms");
    assert_eq!(retention.value.as_deref(), Some("7200000"));
    assert_eq!(retention.source, ConfigSource::DynamicTopic);
    assert_eq!(
        entry(&configs, "cleanup.policy").source,
        ConfigSource::DynamicTopic
    );
    assert_ne!(
        entry(&configs, "segment.bytes").source,
        ConfigSource::DynamicTopic
    );

    let changed = client
        .incremental_alter_configs(&[(
            topic.clone(),
            vec![
                ConfigOp::Set {
                    name: "segment.bytes".into(),
                    value: "2097152".into(),
                },
                ConfigOp::Delete {
                    name: "cleanup.policy".into(),
                },
            ],
        )])
        .await
        .unwrap();
    assert_eq!(changed[&topic], Ok(()));
    eventually("the changes show", Duration::from_secs(30), || async {
        let described = client
            .describe_configs(std::slice::from_ref(&topic))
            .await
            .unwrap();
        let configs = described[&topic].as_ref().ok()?;
        let segment = entry(configs, "segment.bytes");
        let cleanup = entry(configs, "cleanup.policy");
        let retention = entry(configs, "retention.ms");
        (segment.value.as_deref() == Some("2097152")
            && segment.source == ConfigSource::DynamicTopic
            && cleanup.source != ConfigSource::DynamicTopic
            && cleanup.value.as_deref() == Some("delete")
            && retention.value.as_deref() == Some("7200000"))
        .then_some(())
    })
    .await;

    // A bad value fails that resource only.
    let refused = client
        .incremental_alter_configs(&[(
            topic.clone(),
            vec![ConfigOp::Set {
                name: "retention.ms".into(),
                value: "soon".into(),
            }],
        )])
        .await
        .unwrap();
    assert_eq!(
        refused[&topic].as_ref().unwrap_err().code,
        KafkaError::INVALID_CONFIG
    );

    // The broker's own configuration comes from that broker.
    let broker = ConfigResource::Broker(0);
    let described = client
        .describe_configs(std::slice::from_ref(&broker))
        .await
        .unwrap();
    let configs = described[&broker].as_ref().unwrap();
    assert_eq!(
        entry(configs, "node.id").value.as_deref(),
        Some("0"),
        "{configs:?}"
    );
    assert_eq!(entry(configs, "node.id").source, ConfigSource::StaticBroker);
}

#[tokio::test]
async fn client_quotas_are_set_and_removed() {
    let client = plain_client(kafka().await).await;
    let entity = QuotaEntity(vec![("user".into(), Some("quota-user".into()))]);
    let filter = QuotaFilter {
        components: vec![("user".into(), QuotaMatch::Exact("quota-user".into()))],
        strict: true,
    };
    assert_eq!(client.describe_client_quotas(&filter).await.unwrap(), []);

    let set = client
        .alter_client_quotas(&[QuotaAlteration {
            entity: entity.clone(),
            ops: vec![
                ("producer_byte_rate".into(), Some(1024.0)),
                ("consumer_byte_rate".into(), Some(2048.0)),
            ],
        }])
        .await
        .unwrap();
    assert_eq!(set, [(entity.clone(), Ok(()))]);
    let expected = BTreeMap::from([
        ("consumer_byte_rate".to_string(), 2048.0),
        ("producer_byte_rate".to_string(), 1024.0),
    ]);
    eventually("the quotas show", Duration::from_secs(30), || async {
        let quotas = client.describe_client_quotas(&filter).await.unwrap();
        (quotas == [(entity.clone(), expected.clone())]).then_some(())
    })
    .await;

    let removed = client
        .alter_client_quotas(&[QuotaAlteration {
            entity: entity.clone(),
            ops: vec![("producer_byte_rate".into(), None)],
        }])
        .await
        .unwrap();
    assert_eq!(removed, [(entity.clone(), Ok(()))]);
    let expected = BTreeMap::from([("consumer_byte_rate".to_string(), 2048.0)]);
    eventually("one quota is left", Duration::from_secs(30), || async {
        let quotas = client.describe_client_quotas(&filter).await.unwrap();
        (quotas == [(entity.clone(), expected.clone())]).then_some(())
    })
    .await;

    // An unknown quota key fails that entity.
    let refused = client
        .alter_client_quotas(&[QuotaAlteration {
            entity: entity.clone(),
            ops: vec![("no_such_quota".into(), Some(1.0))],
        }])
        .await
        .unwrap();
    assert!(refused[0].1.is_err(), "{refused:?}");
}

#[tokio::test]
async fn concurrent_calls_share_the_client() {
    let client = plain_client(kafka().await).await;
    let calls = (0..40).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.describe_cluster().await })
    });
    for call in calls.collect::<Vec<_>>() {
        let cluster = call.await.unwrap().unwrap();
        assert_eq!(cluster.brokers.len(), 1);
        assert_eq!(cluster.brokers[0].id, 0);
        assert_eq!(
            cluster.cluster_id.as_deref(),
            Some(kafka().await.cluster_id())
        );
    }
    assert_eq!(client.active_controller().await.unwrap(), 0);
}

#[tokio::test]
async fn partition_offsets_and_a_groups_committed_offsets_are_read() {
    let kafka = kafka().await;
    let client = plain_client(kafka).await;
    let address = &bootstrap(kafka, Listener::Plain)[0];
    let topic = "offsets";
    let created = client
        .create_topics(&[new_topic(topic, 2, &[])])
        .await
        .unwrap();
    assert!(created[topic].is_ok(), "{created:?}");
    let partitions = vec![(topic.to_string(), 0), (topic.to_string(), 1)];
    let offsets = |pairs: [i64; 2]| -> BTreeMap<(String, i32), i64> {
        partitions.iter().cloned().zip(pairs).collect()
    };

    // A different count per partition, so that mixed-up partitions show. Produce is retried
    // until the new partitions have their leader; the first offset 0 says nothing went twice.
    for (partition, count) in [(0, 3), (1, 5)] {
        let first = eventually(
            "the records are produced",
            Duration::from_secs(30),
            || async move { wire::produce(address, topic, partition, count).await.ok() },
        )
        .await;
        assert_eq!(first, 0);
    }
    let earliest = client
        .list_offsets(&partitions, OffsetSpec::Earliest)
        .await
        .unwrap();
    assert_eq!(earliest, offsets([0, 0]));
    let latest = client
        .list_offsets(&partitions, OffsetSpec::Latest)
        .await
        .unwrap();
    assert_eq!(latest, offsets([3, 5]));
    // Deleting records moves the earliest offset and leaves the latest.
    assert_eq!(wire::delete_records(address, topic, 1, 2).await, Ok(2));
    let earliest = client
        .list_offsets(&partitions, OffsetSpec::Earliest)
        .await
        .unwrap();
    assert_eq!(earliest, offsets([0, 2]));
    let latest = client
        .list_offsets(&partitions, OffsetSpec::Latest)
        .await
        .unwrap();
    assert_eq!(latest, offsets([3, 5]));

    let missing = client
        .list_offsets(&[(topic.to_string(), 7)], OffsetSpec::Latest)
        .await
        .unwrap_err();
    match missing {
        Error::Kafka(error) => {
            assert_eq!(error.code, KafkaError::UNKNOWN_TOPIC_OR_PARTITION);
            assert_eq!(error.message.as_deref(), Some("offsets-7"));
        }
        other => panic!("expected UNKNOWN_TOPIC_OR_PARTITION, got {other}"),
    }
    assert_eq!(
        client.list_offsets(&[], OffsetSpec::Latest).await.unwrap(),
        BTreeMap::new()
    );

    // Before any commit the group has no offsets. (Its FindCoordinator also makes the broker
    // create __consumer_offsets, which the commit below needs.)
    let group = "offsets-reader";
    assert_eq!(
        client.consumer_group_offsets(group).await.unwrap(),
        BTreeMap::new()
    );
    assert!(
        !client
            .list_consumer_groups()
            .await
            .unwrap()
            .contains(&group.to_string())
    );
    eventually(
        "the offsets are committed",
        Duration::from_secs(30),
        || async {
            wire::commit_offsets(address, group, &[(topic, 0, 2), (topic, 1, 4)])
                .await
                .ok()
        },
    )
    .await;

    let groups = client.list_consumer_groups().await.unwrap();
    assert!(groups.contains(&group.to_string()), "{groups:?}");
    assert!(
        groups.windows(2).all(|pair| pair[0] < pair[1]),
        "{groups:?}"
    );
    assert_eq!(
        client.consumer_group_offsets(group).await.unwrap(),
        offsets([2, 4])
    );
}
