//! Cluster info, topics, broker configuration, subscription groups and unconsumed messages
//! against a real RocketMQ 5.5.0 name server with two master brokers.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::{client, eventually, start};
use rocketmq_client::{SubscriptionGroup, TopicConfig};
use testenv::rocketmq::{Broker, BrokerOptions, NameServer, RocketMQCluster, RocketMQOptions};
use tokio::sync::OnceCell;

static ROCKETMQ: OnceCell<RocketMQCluster> = OnceCell::const_new();

async fn rocketmq() -> &'static RocketMQCluster {
    ROCKETMQ
        .get_or_init(|| {
            start(RocketMQOptions {
                brokers: 2,
                ..RocketMQOptions::default()
            })
        })
        .await
}

/// The master addresses, `broker-a` first.
fn masters(rocketmq: &RocketMQCluster) -> Vec<String> {
    rocketmq.brokers().iter().map(Broker::addr).collect()
}

fn fifo(name: &str) -> TopicConfig {
    let mut topic = TopicConfig::new(name);
    topic
        .attributes
        .insert("message.type".into(), "FIFO".into());
    topic
}

#[tokio::test]
async fn cluster_info_lists_both_brokers() {
    let rocketmq = rocketmq().await;
    let client = client(&rocketmq.name_server_addr());
    let info = client.cluster_info().await.unwrap();
    assert_eq!(
        info.clusters["DefaultCluster"],
        BTreeSet::from(["broker-a".to_string(), "broker-b".to_string()])
    );
    let masters = masters(rocketmq);
    assert_eq!(
        info.masters("DefaultCluster"),
        [
            ("broker-a".to_string(), masters[0].clone()),
            ("broker-b".to_string(), masters[1].clone()),
        ]
    );
    assert_eq!(info.addresses("DefaultCluster"), masters);
    assert_eq!(info.brokers["broker-b"].cluster, "DefaultCluster");
    assert_eq!(client.requests_sent(), 1);
}

#[tokio::test]
async fn topics_are_created_routed_updated_and_deleted() {
    let rocketmq = rocketmq().await;
    let client = client(&rocketmq.name_server_addr());
    let masters = masters(rocketmq);
    let mut single = TopicConfig::new("single");
    single.read_queue_nums = 4;
    single.write_queue_nums = 4;
    let listed = [
        fifo("listed-fifo-1"),
        fifo("listed-fifo-2"),
        TopicConfig::new("listed-plain"),
    ];
    for master in &masters {
        client.create_topic(master, &single).await.unwrap();
        client.create_topics(master, &listed).await.unwrap();
    }

    let route = eventually("the route of single", Duration::from_secs(30), || async {
        let route = client.topic_route("single").await.unwrap()?;
        (route.queues.len() == 2).then_some(route)
    })
    .await;
    let brokers: BTreeSet<&str> = route
        .queues
        .iter()
        .map(|q| q.broker_name.as_str())
        .collect();
    assert_eq!(brokers, BTreeSet::from(["broker-a", "broker-b"]));
    for queue in &route.queues {
        assert_eq!(
            (queue.read_queue_nums, queue.write_queue_nums, queue.perm),
            (4, 4, 6)
        );
    }
    assert_eq!(route.brokers.len(), 2);
    let route = client.topic_route("listed-fifo-2").await.unwrap().unwrap();
    assert_eq!(route.queues[0].read_queue_nums, 8);

    for master in &masters {
        let configs = client.topic_configs(master).await.unwrap();
        assert_eq!(configs["single"], single);
        assert_eq!(configs["listed-fifo-1"].attributes["message.type"], "FIFO");
        assert_eq!(configs["listed-fifo-2"], fifo("listed-fifo-2"));
        assert!(configs["listed-plain"].attributes.is_empty());
        assert!(
            configs.contains_key("TBW102"),
            "system topics are listed too"
        );
    }

    // Topics already configured as sent, with new ones: a 5.3 broker would skip the whole list
    // for the unchanged plain topic, so the client must not send them together.
    let again = [
        TopicConfig::new("listed-plain"),
        TopicConfig::new("listed-plain-2"),
        fifo("listed-fifo-1"),
        fifo("listed-fifo-3"),
    ];
    client.create_topics(&masters[0], &again).await.unwrap();
    let configs = client.topic_configs(&masters[0]).await.unwrap();
    for topic in &again {
        assert_eq!(&configs[&topic.topic_name], topic);
    }

    // Updated in place: fewer write queues, read-only.
    let mut updated = single.clone();
    updated.write_queue_nums = 2;
    updated.perm = 4;
    for master in &masters {
        client.create_topic(master, &updated).await.unwrap();
        assert_eq!(
            client.topic_configs(master).await.unwrap()["single"],
            updated
        );
    }
    eventually(
        "the route shows the update",
        Duration::from_secs(30),
        || async {
            let route = client.topic_route("single").await.unwrap()?;
            route
                .queues
                .iter()
                .all(|q| (q.write_queue_nums, q.perm) == (2, 4))
                .then_some(())
        },
    )
    .await;

    for master in &masters {
        client
            .delete_topic_in_broker(master, "single")
            .await
            .unwrap();
        assert!(
            !client
                .topic_configs(master)
                .await
                .unwrap()
                .contains_key("single")
        );
    }
    client
        .delete_topic_in_name_servers("single", "DefaultCluster")
        .await
        .unwrap();
    eventually("the route is gone", Duration::from_secs(30), || async {
        client
            .topic_route("single")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    // Deleting what is gone is not an error.
    client
        .delete_topic_in_broker(&masters[0], "single")
        .await
        .unwrap();
}

#[tokio::test]
async fn broker_config_is_read() {
    let rocketmq = rocketmq().await;
    let client = client(&rocketmq.name_server_addr());
    let broker = &rocketmq.brokers()[1];
    let config = client.broker_config(&broker.addr()).await.unwrap();
    assert_eq!(config["brokerName"], "broker-b");
    assert_eq!(config["brokerClusterName"], "DefaultCluster");
    assert_eq!(config["namesrvAddr"], rocketmq.name_server_addr());
    assert_eq!(
        Some(config["listenPort"].as_str()),
        broker.addr().rsplit(':').next()
    );
    assert!(config.len() > 100, "every setting: {}", config.len());
}

#[tokio::test]
async fn subscription_groups_are_read_and_copied_to_another_broker() {
    let rocketmq = rocketmq().await;
    let client = client(&rocketmq.name_server_addr());
    let masters = masters(rocketmq);
    let group = SubscriptionGroup {
        name: "orders-app".into(),
        config: serde_json::json!({"retryMaxTimes": 3, "consumeBroadcastEnable": false}),
    };
    client
        .update_subscription_group(&masters[0], &group)
        .await
        .unwrap();
    let on_a = client.subscription_groups(&masters[0]).await.unwrap();
    let created = on_a
        .iter()
        .find(|group| group.name == "orders-app")
        .expect("the group is on broker-a");
    assert_eq!(created.config["retryMaxTimes"], 3);
    assert_eq!(created.config["consumeBroadcastEnable"], false);
    assert_eq!(created.config["consumeEnable"], true, "a broker default");
    assert!(
        on_a.iter().any(|group| group.name == "TOOLS_CONSUMER"),
        "built-in groups are listed too"
    );

    client
        .update_subscription_group(&masters[1], created)
        .await
        .unwrap();
    let on_b = client.subscription_groups(&masters[1]).await.unwrap();
    let copied = on_b
        .iter()
        .find(|group| group.name == "orders-app")
        .expect("the group is on broker-b");
    assert_eq!(copied, created);
}

#[tokio::test]
async fn unconsumed_messages_count_what_was_sent() {
    let rocketmq = rocketmq().await;
    let client = client(&rocketmq.name_server_addr());
    // Only this test sends messages to this cluster.
    let broker = &rocketmq.brokers()[0].addr();
    assert_eq!(client.unconsumed_messages(broker).await.unwrap(), 0);
    client
        .create_topic(broker, &TopicConfig::new("backlog"))
        .await
        .unwrap();
    for body in ["one", "two", "three"] {
        client
            .send_message(broker, "backlog", body.as_bytes())
            .await
            .unwrap();
    }
    assert_eq!(client.unconsumed_messages(broker).await.unwrap(), 3);
}

/// A broker takes a new `namesrvAddr` into its name server list on a timer
/// (`updateNameServerAddrPeriod`, 2 minutes by default, 1 s here) and registers with the list
/// on another (`registerNameServerPeriod`, 10 s in testenv).
#[tokio::test]
async fn a_new_name_server_address_takes_effect_live() {
    let (first, second, broker) = tokio::task::spawn_blocking(|| {
        let first = NameServer::start().expect("a name server starts");
        let second = NameServer::start().expect("a name server starts");
        let options = BrokerOptions {
            config: BTreeMap::from([(
                "updateNameServerAddrPeriod".to_string(),
                "1000".to_string(),
            )]),
            ..BrokerOptions::new(&first.addr())
        };
        let broker = Broker::start(&options).expect("a broker starts");
        (first, second, broker)
    })
    .await
    .unwrap();
    let registered = |name_server: String, broker: String| async move {
        client(&name_server)
            .cluster_info()
            .await
            .is_ok_and(|info| info.addresses("DefaultCluster").contains(&broker))
            .then_some(())
    };
    eventually("registered with the first", Duration::from_secs(60), || {
        registered(first.addr(), broker.addr())
    })
    .await;

    let client = client(&first.addr());
    let changes = BTreeMap::from([("namesrvAddr".to_string(), second.addr())]);
    client
        .update_broker_config(&broker.addr(), &changes)
        .await
        .unwrap();
    let started = Instant::now();
    let config = client.broker_config(&broker.addr()).await.unwrap();
    assert_eq!(config["namesrvAddr"], second.addr());
    eventually(
        "registered with the second",
        Duration::from_secs(60),
        || registered(second.addr(), broker.addr()),
    )
    .await;
    let took = started.elapsed();
    eprintln!("the broker registered with the new name server after {took:?}");
    assert!(took < Duration::from_secs(30), "{took:?}");
}
