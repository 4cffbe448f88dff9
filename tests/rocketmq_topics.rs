//! The RocketMQTopic operator against a real RocketMQ name server and two master brokers and the
//! real local cluster: topics appear in the route table of both with their queues, change, and
//! are deleted;
//! invalid and paused resources and an unknown cluster say so while others reconcile. And a
//! TopicTransfer from those two masters to a broker of another cluster.

use std::time::Duration;

use anyhow::Result;
use api::rocketmq::{RocketMQTopic, TopicTransfer};
use brokerage_e2e::operators::{Operators, RocketMQTopics};
use brokerage_e2e::{setup, wait_condition};
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use rocketmq_client::{AdminClient, ClientConfig, SubscriptionGroup, TopicConfig, TopicRoute};
use rocketmq_operator::admin::RocketMQOverride;
use serde_json::json;
use testenv::operator::Operator;
use testenv::rocketmq::{Broker, BrokerOptions, RocketMQCluster, RocketMQOptions};
use tokio::sync::OnceCell;

const WAIT: Duration = Duration::from_secs(60);
const RESYNC: Duration = Duration::from_secs(5);

/// One real RocketMQ for every test here; each test uses topic names of its own.
async fn shared_rocketmq() -> Result<&'static RocketMQCluster> {
    static ROCKETMQ: OnceCell<RocketMQCluster> = OnceCell::const_new();
    ROCKETMQ
        .get_or_try_init(|| async {
            let options = RocketMQOptions {
                brokers: 2,
                ..RocketMQOptions::default()
            };
            tokio::task::spawn_blocking(move || RocketMQCluster::start(&options)).await?
        })
        .await
}

/// A test's namespace, with a RocketMQTopic operator that reaches the shared RocketMQ as the
/// Broker `broker`.
struct Harness {
    topics: Api<RocketMQTopic>,
    admin: AdminClient,
    brokers: Vec<String>,
}

impl Harness {
    async fn start(prefix: &str) -> Result<Harness> {
        let rocketmq = shared_rocketmq().await?;
        let (client, namespace) = setup(prefix).await?;
        let overrides = vec![RocketMQOverride {
            namespace: Some(namespace.clone()),
            cluster: "broker".into(),
            cluster_name: Some("DefaultCluster".into()),
            name_servers: rocketmq.name_server_addr(),
            ..RocketMQOverride::default()
        }];
        Operators::watching(&client, &[&namespace])
            .resync(RESYNC)
            .rocketmq(overrides)
            .start(&[RocketMQTopics]);
        Ok(Harness {
            topics: Api::namespaced(client, &namespace),
            admin: AdminClient::new(ClientConfig::new(&rocketmq.name_server_addr())),
            brokers: rocketmq
                .brokers()
                .iter()
                .map(|broker| broker.addr())
                .collect(),
        })
    }

    async fn apply(
        &self,
        name: &str,
        annotations: serde_json::Value,
        spec: serde_json::Value,
    ) -> Result<()> {
        let mut spec = spec;
        spec["clusterRef"] = json!({"name": "broker"});
        let topic = json!({
            "apiVersion": "rocketmq.apache.org/v1alpha1",
            "kind": "RocketMQTopic",
            "metadata": {"name": name, "annotations": annotations},
            "spec": spec,
        });
        let params = PatchParams::apply("rocketmq-topics-test").force();
        self.topics
            .patch(name, &params, &Patch::Apply(&topic))
            .await?;
        Ok(())
    }

    async fn wait_ready(&self, name: &str) -> Result<()> {
        wait_condition(&self.topics, name, "Ready", None, WAIT)
            .await
            .map(|_| ())
    }

    /// Waits until the name server's route for `topic` satisfies `expected`.
    async fn wait_route(
        &self,
        topic: &str,
        what: &str,
        expected: impl Fn(Option<&TopicRoute>) -> bool,
    ) -> Result<()> {
        testenv::eventually(&format!("the route of {topic} {what}"), WAIT, || async {
            Ok(expected(self.admin.topic_route(topic).await?.as_ref()))
        })
        .await
    }
}

/// Read and write queues and permission, when both broker groups route the topic alike.
fn queues(route: Option<&TopicRoute>) -> Option<(i32, i32, i32)> {
    let [a, b] = route?.queues.as_slice() else {
        return None;
    };
    let settings = |queue: &rocketmq_client::QueueData| {
        (queue.read_queue_nums, queue.write_queue_nums, queue.perm)
    };
    (a.broker_name != b.broker_name && settings(a) == settings(b)).then(|| settings(a))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_is_routed_changed_and_deleted() -> Result<()> {
    let test = Harness::start("rmq-topics-life").await?;
    test.apply(
        "orders",
        json!({}),
        json!({"topicName": "Orders_FIFO", "readQueueNums": 4, "writeQueueNums": 4, "perm": 6,
               "order": true, "messageType": "FIFO"}),
    )
    .await?;
    test.wait_ready("orders").await?;
    test.wait_route("Orders_FIFO", "has 4 queues", |route| {
        queues(route) == Some((4, 4, 6))
    })
    .await?;
    for broker in &test.brokers {
        let on_broker = test.admin.topic_configs(broker).await?;
        let config = &on_broker["Orders_FIFO"];
        assert_eq!(
            config.attributes.get("message.type").map(String::as_str),
            Some("FIFO")
        );
        assert!(config.order);
    }
    let status = test.topics.get("orders").await?.status.unwrap();
    assert_eq!(status.topic_name.as_deref(), Some("Orders_FIFO"));

    test.apply(
        "orders",
        json!({}),
        json!({"topicName": "Orders_FIFO", "readQueueNums": 8, "writeQueueNums": 8, "perm": 4,
               "order": true, "messageType": "FIFO"}),
    )
    .await?;
    test.wait_route("Orders_FIFO", "has 8 read-only queues", |route| {
        queues(route) == Some((8, 8, 4))
    })
    .await?;
    test.wait_ready("orders").await?;

    test.topics
        .delete("orders", &DeleteParams::default())
        .await?;
    test.wait_route("Orders_FIFO", "is gone", |route| route.is_none())
        .await?;
    testenv::eventually("the RocketMQTopic is gone", WAIT, || async {
        Ok(test.topics.get_opt("orders").await?.is_none())
    })
    .await?;
    for broker in &test.brokers {
        assert!(
            !test
                .admin
                .topic_configs(broker)
                .await?
                .contains_key("Orders_FIFO")
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_and_paused_topics_say_so_while_others_reconcile() -> Result<()> {
    let test = Harness::start("rmq-topics-bad").await?;
    test.apply("dotted", json!({}), json!({"topicName": "payments.fifo"}))
        .await?;
    test.apply(
        "paused",
        json!({"strimzi.io/pause-reconciliation": "true"}),
        json!({"topicName": "Paused_Topic"}),
    )
    .await?;
    test.apply("good", json!({}), json!({"topicName": "Good_Topic"}))
        .await?;
    test.wait_ready("good").await?;
    test.wait_route("Good_Topic", "exists with 8 queues", |route| {
        queues(route) == Some((8, 8, 6))
    })
    .await?;
    let invalid = wait_condition(
        &test.topics,
        "dotted",
        "NotReady",
        Some("InvalidSpec"),
        WAIT,
    )
    .await?;
    assert!(invalid.message.unwrap_or_default().contains("'.'"));
    wait_condition(
        &test.topics,
        "paused",
        "ReconciliationPaused",
        Some("ReconciliationPaused"),
        WAIT,
    )
    .await?;
    assert!(test.admin.topic_route("Paused_Topic").await?.is_none());

    // A second resource for the same topic conflicts with the older one.
    test.apply(
        "good-copy",
        json!({}),
        json!({"topicName": "Good_Topic", "readQueueNums": 2}),
    )
    .await?;
    let conflict = wait_condition(
        &test.topics,
        "good-copy",
        "NotReady",
        Some("ResourceConflict"),
        WAIT,
    )
    .await?;
    assert!(
        conflict
            .message
            .unwrap_or_default()
            .contains("RocketMQTopic good,")
    );
    assert_eq!(
        queues(test.admin.topic_route("Good_Topic").await?.as_ref()),
        Some((8, 8, 6))
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_resource_deletes_only_its_own_topic_and_never_a_system_one() -> Result<()> {
    let test = Harness::start("rmq-topics-renamed").await?;
    test.apply("mine", json!({}), json!({"topicName": "Mine_Topic"}))
        .await?;
    test.wait_ready("mine").await?;

    // Renamed to a system topic: refused, and deleting the resource deletes the topic it
    // created, not the one its spec now names.
    test.apply(
        "mine",
        json!({}),
        json!({"topicName": "SCHEDULE_TOPIC_XXXX"}),
    )
    .await?;
    wait_condition(&test.topics, "mine", "NotReady", Some("InvalidSpec"), WAIT).await?;
    test.topics.delete("mine", &DeleteParams::default()).await?;
    test.wait_route("Mine_Topic", "is gone", |route| route.is_none())
        .await?;
    testenv::eventually("the RocketMQTopic is gone", WAIT, || async {
        Ok(test.topics.get_opt("mine").await?.is_none())
    })
    .await?;
    for broker in &test.brokers {
        let topics = test.admin.topic_configs(broker).await?;
        assert!(topics.contains_key("SCHEDULE_TOPIC_XXXX"), "{broker}");
    }

    // The topic a broker keeps for its cluster is the brokers' own too.
    test.apply("cluster", json!({}), json!({"topicName": "DefaultCluster"}))
        .await?;
    let refused = wait_condition(
        &test.topics,
        "cluster",
        "NotReady",
        Some("InvalidSpec"),
        WAIT,
    )
    .await?;
    assert!(
        refused
            .message
            .unwrap_or_default()
            .contains("cluster DefaultCluster")
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_of_an_unknown_cluster_waits_and_is_released_on_deletion() -> Result<()> {
    let test = Harness::start("rmq-topics-nocluster").await?;
    let topic = json!({
        "apiVersion": "rocketmq.apache.org/v1alpha1",
        "kind": "RocketMQTopic",
        "metadata": {"name": "lost"},
        "spec": {"clusterRef": {"name": "no-such-broker"}},
    });
    let params = PatchParams::apply("rocketmq-topics-test").force();
    test.topics
        .patch("lost", &params, &Patch::Apply(&topic))
        .await?;
    let waiting = wait_condition(
        &test.topics,
        "lost",
        "NotReady",
        Some("RocketMQError"),
        WAIT,
    )
    .await?;
    assert!(
        waiting
            .message
            .unwrap_or_default()
            .contains("no-such-broker")
    );
    test.topics.delete("lost", &DeleteParams::default()).await?;
    testenv::eventually(
        "the RocketMQTopic of a cluster that never existed is gone",
        WAIT,
        || async { Ok(test.topics.get_opt("lost").await?.is_none()) },
    )
    .await
}

/// A TopicTransfer moves a topic from the shared cluster's two masters to a third broker of a
/// cluster of its own, registered with the same name server: created there with its consumer
/// group, read-only on the source, then held while the group has not consumed everything on
/// the source, and deleted from the source only once it has. The operator (the release binary)
/// is killed with SIGKILL in every phase the test sees and started again: the transfer goes on
/// from where the clusters are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_transfer_survives_kills_and_waits_for_its_consumers() -> Result<()> {
    let rocketmq = shared_rocketmq().await?;
    let names = rocketmq.name_server_addr();
    let target = target_cluster(&names, "elsewhere").await?;
    let (client, namespace) = setup("rmq-transfer").await?;
    let start = || TransferOperator::start(&namespace, &names, "elsewhere");
    let mut operator = start().await?;

    // Messages on both source masters, of which the group `billing` consumed none yet.
    let admin = AdminClient::new(ClientConfig::new(&names));
    let sources: Vec<String> = rocketmq.brokers().iter().map(|b| b.addr()).collect();
    let billing = SubscriptionGroup {
        name: "billing".into(),
        config: json!({"retryMaxTimes": 5}),
    };
    for source in &sources {
        admin.update_subscription_group(source, &billing).await?;
        admin
            .create_topic(source, &TopicConfig::new("moving"))
            .await?;
        for body in ["a", "b", "c"] {
            admin
                .send_message(source, "moving", body.as_bytes())
                .await?;
        }
        admin
            .commit_offset(source, "billing", "moving", 0, 0)
            .await?;
    }
    let transfers: Api<TopicTransfer> = Api::namespaced(client.clone(), &namespace);
    let transfer = json!({
        "apiVersion": "rocketmq.apache.org/v1alpha1", "kind": "TopicTransfer",
        "metadata": {"name": "moving"},
        "spec": {"topic": "moving", "sourceCluster": "source", "targetCluster": "target"},
    });
    testenv::apply_yaml(&client, &serde_yaml::to_string(&transfer)?, &namespace).await?;

    let mut phases: Vec<String> = Vec::new();
    while phases.last().map(String::as_str) != Some("Done") {
        // Twice WAIT: a transfer waits a minute for producers with old routes.
        let deadline = std::time::Instant::now() + 2 * WAIT;
        let phase = loop {
            let status = transfers.get("moving").await?.status.unwrap_or_default();
            if let Some(next) = status.phase.filter(|now| phases.last() != Some(now)) {
                break next;
            }
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "the transfer stayed in {:?}: {:?}",
                phases.last(),
                status.conditions
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        operator.kill().await?;
        if phase == "WaitingForConsumers" {
            held_until_consumed(&admin, &transfers, &sources, &target.addr()).await?;
        }
        phases.push(phase);
        operator = start().await?;
    }
    // In order; a phase the operator passed while it was being started again goes unseen
    // (its own status write wakes it at once), but the wait for the consumers never does.
    let order = [
        "CreatingOnTarget",
        "StoppingWrites",
        "WaitingForProducers",
        "WaitingForConsumers",
        "DeletingFromSource",
        "Done",
    ];
    let positions: Vec<Option<usize>> = (phases.iter())
        .map(|phase| order.iter().position(|known| known == phase))
        .collect();
    assert!(
        positions.iter().all(Option::is_some) && positions.is_sorted(),
        "{phases:?}"
    );
    assert!(phases.iter().any(|phase| phase == "WaitingForConsumers"));
    wait_condition(&transfers, "moving", "Ready", None, WAIT).await?;
    let status = transfers.get("moving").await?.status.unwrap_or_default();
    assert_eq!(status.consumer_groups, Some(vec!["billing".to_string()]));
    for source in &sources {
        assert!(!admin.topic_configs(source).await?.contains_key("moving"));
    }
    let route = admin.topic_route("moving").await?.unwrap_or_default();
    let brokers: Vec<&str> = route
        .queues
        .iter()
        .map(|q| q.broker_name.as_str())
        .collect();
    assert_eq!(brokers, ["elsewhere-0"]);
    operator.kill().await?;
    Ok(())
}

/// A master broker `<cluster>-0` of the cluster `cluster`, registered with `names`.
async fn target_cluster(names: &str, cluster: &str) -> Result<Broker> {
    let mut options = BrokerOptions::new(names);
    (options.cluster_name, options.broker_name) = (cluster.into(), format!("{cluster}-0"));
    tokio::task::spawn_blocking(move || Broker::start(&options)).await?
}

/// The release operator (resyncing every 5 s) for a namespace whose Broker `source` is the shared
/// RocketMQ cluster and `target` the cluster `target_cluster` of the same name server.
struct TransferOperator;

impl TransferOperator {
    async fn start(namespace: &str, names: &str, target_cluster: &str) -> Result<Operator> {
        // The operator's files, under the temporary directory (its namespace names it uniquely).
        let dir = std::env::temp_dir().join(format!("brokerage-{namespace}"));
        std::fs::create_dir_all(&dir)?;
        let connections = dir.join("rocketmq-connections.yaml");
        std::fs::write(
            &connections,
            format!(
                "- cluster: source\n  clusterName: DefaultCluster\n  nameServers: {names}\n\
                 - cluster: target\n  clusterName: {target_cluster}\n  nameServers: {names}\n"
            ),
        )?;
        let args = [
            "--rocketmq-connections",
            &connections.display().to_string(),
            "--watch-namespaces",
            namespace,
            "--resync-seconds",
            "5",
        ];
        let log = dir.join("operator.log");
        Operator::start(testenv::shared().await.kubeconfig(), &log, &args).await
    }
}

/// A RocketMQTopic keeps the topic on the source: the transfer touches neither cluster until the
/// RocketMQTopic points at the target (its operator creates the topic there), then moves the
/// rest, and the topic operator does not bring the topic back to the source.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_waits_for_the_rocketmq_topic_that_keeps_the_topic_on_the_source() -> Result<()>
{
    let rocketmq = shared_rocketmq().await?;
    let names = rocketmq.name_server_addr();
    let target = target_cluster(&names, "handover").await?;
    let (client, namespace) = setup("rmq-handover").await?;
    let operator = TransferOperator::start(&namespace, &names, "handover").await?;
    let topic = json!({
        "apiVersion": "rocketmq.apache.org/v1alpha1", "kind": "RocketMQTopic",
        "metadata": {"name": "kept"},
        "spec": {"clusterRef": {"name": "source"}, "readQueueNums": 4, "writeQueueNums": 4},
    });
    testenv::apply_yaml(&client, &serde_yaml::to_string(&topic)?, &namespace).await?;
    let topics: Api<RocketMQTopic> = Api::namespaced(client.clone(), &namespace);
    wait_condition(&topics, "kept", "Ready", None, WAIT).await?;
    let transfer = json!({
        "apiVersion": "rocketmq.apache.org/v1alpha1", "kind": "TopicTransfer",
        "metadata": {"name": "kept"},
        "spec": {"topic": "kept", "sourceCluster": "source", "targetCluster": "target"},
    });
    testenv::apply_yaml(&client, &serde_yaml::to_string(&transfer)?, &namespace).await?;
    let transfers: Api<TopicTransfer> = Api::namespaced(client.clone(), &namespace);
    let held = wait_condition(
        &transfers,
        "kept",
        "NotReady",
        Some("WaitingForTopicHandOver"),
        WAIT,
    )
    .await?;
    let message = held.message.unwrap_or_default();
    assert!(
        message.contains("RocketMQTopic kept")
            && message.contains("spec.clusterRef.name to target"),
        "{message}"
    );
    let status = transfers.get("kept").await?.status.unwrap_or_default();
    assert_eq!(status.phase.as_deref(), Some("WaitingForTopicHandOver"));
    let admin = AdminClient::new(ClientConfig::new(&names));
    let sources: Vec<String> = rocketmq.brokers().iter().map(|b| b.addr()).collect();
    for source in &sources {
        assert_eq!(admin.topic_configs(source).await?["kept"].perm, 6);
    }
    assert!(
        !admin
            .topic_configs(&target.addr())
            .await?
            .contains_key("kept")
    );

    let hand_over = json!({"spec": {"clusterRef": {"name": "target"}}});
    (topics.patch("kept", &PatchParams::default(), &Patch::Merge(&hand_over))).await?;
    wait_condition(&transfers, "kept", "Ready", None, WAIT).await?;
    wait_condition(&topics, "kept", "Ready", None, WAIT).await?;
    // Two of the operator's resyncs: the topic operator keeps the topic on the target alone.
    tokio::time::sleep(Duration::from_secs(10)).await;
    for source in &sources {
        assert!(!admin.topic_configs(source).await?.contains_key("kept"));
    }
    let route = admin.topic_route("kept").await?.unwrap_or_default();
    let brokers: Vec<&str> = (route.queues.iter())
        .map(|q| q.broker_name.as_str())
        .collect();
    assert_eq!(brokers, ["handover-0"]);
    operator.kill().await?;
    Ok(())
}

/// In `WaitingForConsumers` (the operator killed): the topic and the group are on the target,
/// the source takes no more writes and keeps the topic while `billing` has messages left there,
/// with an operator running or not; then `billing` consumes everything.
async fn held_until_consumed(
    admin: &AdminClient,
    transfers: &Api<TopicTransfer>,
    sources: &[String],
    target: &str,
) -> Result<()> {
    let status = transfers.get("moving").await?.status.unwrap_or_default();
    let held = status.conditions.unwrap_or_default();
    assert!(
        held.iter()
            .any(|c| c.reason.as_deref() == Some("WaitingForConsumers")
                && c.message
                    .as_deref()
                    .is_some_and(|m| m.contains("billing (6)"))),
        "{held:?}"
    );
    let on_target = admin.topic_configs(target).await?;
    assert_eq!(on_target["moving"].perm, 6);
    assert!(on_target.contains_key("%RETRY%billing"));
    // The group as it was on the source.
    let groups = admin.subscription_groups(target).await?;
    let billing = groups.iter().find(|group| group.name == "billing");
    assert_eq!(
        billing.map(|group| &group.config["retryMaxTimes"]),
        Some(&json!(5))
    );
    for source in sources {
        let on_source = admin.topic_configs(source).await?;
        assert_eq!(on_source["moving"].perm, 4);
        admin
            .commit_offset(source, "billing", "moving", 0, 3)
            .await?;
    }
    Ok(())
}
