//! The Kafka assembly on the real local cluster: examples reach Ready with the expected objects,
//! a no-op reconcile writes nothing, a bad resource gets a clear condition while others keep
//! working, pausing stops changes, a config change rolls the pods, deletion collects everything.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use api::kafka::{Kafka, KafkaNodePool, KafkaTopic, QuorumMode};
use brokerage_e2e::operators::{Clusters, KafkaTopics, Operators};
use brokerage_e2e::wait_ready;
use brokerage_e2e::{counter, repo_path, setup, wait_condition};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Pod, Secret, Service};
use k8s_openapi::api::storage::v1::StorageClass;
use kafka_client::{AdminClient, ClientConfig, NewTopic};
use kafka_operator::admin::AdminOverride;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use runtime::Metrics;
use serde_json::json;
use testenv::kafka::{KafkaCluster, KafkaOptions, Listener};
use tokio::sync::OnceCell;

/// How long the cluster may take to do what a test waits for.
const WAIT: Duration = Duration::from_secs(60);

/// One real Kafka on loopback (node 0) for every test here.
async fn shared_kafka() -> Result<&'static KafkaCluster> {
    static KAFKA: OnceCell<KafkaCluster> = OnceCell::const_new();
    KAFKA
        .get_or_try_init(|| async {
            tokio::task::spawn_blocking(|| KafkaCluster::start(&KafkaOptions::default())).await?
        })
        .await
}

/// The clusters of the examples, answered by the shared real Kafka: no Kafka runs behind kwok's
/// pods, and rolls and scale-downs wait until Kafka says they are safe.
async fn admin_overrides(namespace: &str) -> Result<Vec<AdminOverride>> {
    let bootstrap = shared_kafka().await?.bootstrap(Listener::Plain);
    Ok(["my-cluster", "persistent-cluster", "np", "pools"]
        .into_iter()
        .map(|cluster| AdminOverride {
            namespace: Some(namespace.to_string()),
            cluster: cluster.into(),
            config: ClientConfig::new([bootstrap.clone()]),
        })
        .collect())
}

/// Runs the cluster operator in this test's runtime, watching `namespace` only, asking the
/// shared real Kafka what restarts and scale-downs must respect.
async fn start_operator(client: &Client, namespace: &str) -> Result<Arc<Metrics>> {
    let overrides = admin_overrides(namespace).await?;
    Ok(start_operator_with(client, namespace, overrides))
}

/// Runs the cluster operator with `overrides` for reaching Kafka.
fn start_operator_with(
    client: &Client,
    namespace: &str,
    overrides: Vec<AdminOverride>,
) -> Arc<Metrics> {
    Operators::watching(client, &[namespace])
        .kafka(overrides)
        .start(&[Clusters])
}

async fn apply_example(client: &Client, namespace: &str, example: &str) -> Result<()> {
    let yaml = std::fs::read_to_string(repo_path("examples/kafka").join(example))?;
    testenv::apply_yaml(client, &yaml, namespace).await?;
    Ok(())
}

fn condition(kafka: &Kafka, type_: &str) -> Option<api::Condition> {
    kafka
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
        .cloned()
}

/// Waits for an Event with `reason` about the object named `name`.
async fn wait_event(client: &Client, namespace: &str, name: &str, reason: &str) -> Result<()> {
    let events: Api<k8s_openapi::api::events::v1::Event> =
        Api::namespaced(client.clone(), namespace);
    testenv::eventually(&format!("an Event {reason} about {name}"), WAIT, || async {
        Ok(events
            .list(&Default::default())
            .await?
            .items
            .iter()
            .any(|event| {
                event.reason.as_deref() == Some(reason)
                    && event.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name)
            }))
    })
    .await
}

/// `name -> resourceVersion` of every object the cluster operator manages in `namespace`.
async fn resource_versions(client: &Client, namespace: &str) -> Result<BTreeMap<String, String>> {
    let selector = ListParams::default().labels("app.kubernetes.io/managed-by=brokerage");
    let mut versions = BTreeMap::new();
    let mut record = |kind: &str, name: String, version: Option<String>| {
        versions.insert(format!("{kind}/{name}"), version.unwrap_or_default());
    };
    for object in Api::<StatefulSet>::namespaced(client.clone(), namespace)
        .list(&selector)
        .await?
    {
        record("StatefulSet", object.name_any(), object.resource_version());
    }
    for object in Api::<Service>::namespaced(client.clone(), namespace)
        .list(&selector)
        .await?
    {
        record("Service", object.name_any(), object.resource_version());
    }
    for object in Api::<ConfigMap>::namespaced(client.clone(), namespace)
        .list(&selector)
        .await?
    {
        record("ConfigMap", object.name_any(), object.resource_version());
    }
    for object in Api::<Secret>::namespaced(client.clone(), namespace)
        .list(&selector)
        .await?
    {
        record("Secret", object.name_any(), object.resource_version());
    }
    for object in Api::<KafkaNodePool>::namespaced(client.clone(), namespace)
        .list(&Default::default())
        .await?
    {
        record(
            "KafkaNodePool",
            object.name_any(),
            object.resource_version(),
        );
    }
    Ok(versions)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ephemeral_cluster_becomes_ready_and_a_noop_reconcile_writes_nothing() -> Result<()> {
    let (client, namespace) = setup("kafka-ready").await?;
    let metrics = start_operator(&client, &namespace).await?;
    apply_example(&client, &namespace, "ephemeral-single-node.yaml").await?;
    let kafkas: Api<Kafka> = Api::namespaced(client.clone(), &namespace);
    wait_ready(&kafkas, "my-cluster", WAIT).await?;

    // The children Strimzi clients depend on, labelled and owned by the Kafka.
    let kafka = kafkas.get("my-cluster").await?;
    let services: Api<Service> = Api::namespaced(client.clone(), &namespace);
    for name in ["my-cluster-kafka-bootstrap", "my-cluster-kafka-brokers"] {
        let service = services.get(name).await?;
        assert_eq!(service.labels()["strimzi.io/cluster"], "my-cluster");
        assert_eq!(service.owner_references()[0].uid, kafka.uid().unwrap());
    }
    let sets: Api<StatefulSet> = Api::namespaced(client.clone(), &namespace);
    let set = sets.get("my-cluster-dual-role").await?;
    assert_eq!(set.owner_references()[0].kind, "Kafka");
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let pod = pods.get("my-cluster-dual-role-0").await?;
    assert_eq!(pod.labels()["strimzi.io/pool-name"], "dual-role");
    // The pool is as ready as its cluster (its printer column reads this condition).
    let pools: Api<KafkaNodePool> = Api::namespaced(client.clone(), &namespace);
    let pool_status = pools.get("dual-role").await?.status.unwrap_or_default();
    let ready = pool_status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Ready");
    assert_eq!(ready.map(|c| c.status.as_str()), Some("True"));

    // Certificates as Strimzi keeps them.
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    let keys = |secret: Secret| {
        secret
            .data
            .unwrap_or_default()
            .into_keys()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        keys(secrets.get("my-cluster-cluster-ca").await?),
        ["ca.key"]
    );
    assert_eq!(
        keys(secrets.get("my-cluster-cluster-ca-cert").await?),
        ["ca.crt", "ca.p12", "ca.password"]
    );
    assert_eq!(
        keys(secrets.get("my-cluster-clients-ca").await?),
        ["ca.key"]
    );
    assert_eq!(
        keys(secrets.get("my-cluster-kafka-brokers").await?),
        ["my-cluster-dual-role-0.crt", "my-cluster-dual-role-0.key"]
    );
    assert_eq!(
        keys(secrets.get("my-cluster-cluster-operator-certs").await?),
        ["ca.crt", "cluster-operator.crt", "cluster-operator.key"]
    );

    let status = kafka.status.clone().unwrap();
    assert!(
        status.cluster_id.as_ref().is_some_and(|id| id.len() == 22),
        "{status:?}"
    );
    let plain = status
        .listeners
        .clone()
        .unwrap()
        .into_iter()
        .find(|l| l.name == "plain")
        .unwrap();
    assert_eq!(
        plain.bootstrap_servers.as_deref(),
        Some(format!("my-cluster-kafka-bootstrap.{namespace}.svc:9092").as_str())
    );
    let tls = status
        .listeners
        .clone()
        .unwrap()
        .into_iter()
        .find(|l| l.name == "tls")
        .unwrap();
    assert!(
        tls.certificates.unwrap()[0].contains("BEGIN CERTIFICATE"),
        "no CA for the TLS listener"
    );
    let info = Api::<ConfigMap>::namespaced(client.clone(), &namespace)
        .get("my-cluster-kafka-bootstrap-info")
        .await?;
    assert_eq!(
        info.data.unwrap()["plain.bootstrap.servers"],
        plain.bootstrap_servers.clone().unwrap()
    );
    let pool = Api::<KafkaNodePool>::namespaced(client.clone(), &namespace)
        .get("dual-role")
        .await?;
    assert_eq!(pool.status.unwrap().node_ids, Some(vec![0]));

    wait_event(&client, &namespace, "my-cluster", "Ready").await?;
    // The reconcile after the quorum formed stops offering the initial voters; then nothing
    // changes.
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    testenv::eventually("the quorum formed", WAIT, || async {
        let data = (config_maps.get("my-cluster-dual-role").await?.data).unwrap_or_default();
        Ok(data.get("controller-quorum-format").map(String::as_str)
            == Some("--no-initial-controllers"))
    })
    .await?;

    // Nothing changed, so another reconcile must not write anything at all.
    let before = resource_versions(&client, &namespace).await?;
    let kafka_version = kafka.resource_version();
    let reconciled = counter(&metrics, "brokerage_reconciliations_total{kind=\"Kafka\"}");
    let touch = json!({"metadata": {"annotations": {"test/touch": "1"}}});
    kafkas
        .patch("my-cluster", &PatchParams::default(), &Patch::Merge(&touch))
        .await?;
    testenv::eventually("the Kafka is reconciled again", WAIT, || async {
        Ok(
            counter(&metrics, "brokerage_reconciliations_total{kind=\"Kafka\"}")
                >= reconciled + 1.0,
        )
    })
    .await?;
    let touched = kafkas.get("my-cluster").await?;
    assert_ne!(touched.resource_version(), kafka_version);
    assert_eq!(touched.status, kafkas.get("my-cluster").await?.status);
    assert_eq!(
        resource_versions(&client, &namespace).await?,
        before,
        "a no-op reconcile wrote"
    );
    assert_eq!(
        touched.status.unwrap().conditions,
        kafka.status.unwrap().conditions,
        "the status was rewritten"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_kafka_gets_a_clear_condition_while_others_reconcile() -> Result<()> {
    let (client, namespace) = setup("kafka-invalid").await?;
    let overrides = admin_overrides(&namespace).await?;
    Operators::watching(&client, &[namespace.as_str()])
        .kafka(overrides)
        .start(&[Clusters, KafkaTopics]);
    // A Kafka with no node pool at all cannot be built.
    let lonely = json!({
        "apiVersion": "kafka.strimzi.io/v1", "kind": "Kafka", "metadata": {"name": "lonely"},
        "spec": {"kafka": {"listeners": [{"name": "plain", "port": 9092, "type": "internal", "tls": false}]}}
    });
    testenv::apply_yaml(&client, &serde_yaml::to_string(&lonely)?, &namespace).await?;
    apply_example(&client, &namespace, "ephemeral-single-node.yaml").await?;
    let kafkas: Api<Kafka> = Api::namespaced(client.clone(), &namespace);
    testenv::eventually("the lonely Kafka is NotReady", WAIT, || async {
        Ok(condition(&kafkas.get("lonely").await?, "NotReady").is_some())
    })
    .await?;
    let not_ready = condition(&kafkas.get("lonely").await?, "NotReady").unwrap();
    assert_eq!(not_ready.reason.as_deref(), Some("InvalidSpec"));
    assert!(not_ready.message.unwrap().contains("KafkaNodePool"));
    wait_event(&client, &namespace, "lonely", "InvalidSpec").await?;
    // Its topics say what is wrong with it, not which of its Secrets is missing.
    let topic = json!({
        "apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic",
        "metadata": {"name": "stranded", "labels": {"strimzi.io/cluster": "lonely"}},
        "spec": {"partitions": 1, "replicas": 1}
    });
    testenv::apply_yaml(&client, &serde_yaml::to_string(&topic)?, &namespace).await?;
    let topics: Api<KafkaTopic> = Api::namespaced(client.clone(), &namespace);
    testenv::eventually("the topic names the Kafka's problem", WAIT, || async {
        let topic = topics.get("stranded").await?;
        let conditions = topic.status.and_then(|status| status.conditions);
        Ok(conditions.iter().flatten().any(|c| {
            (c.message.as_deref()).is_some_and(|m| {
                m.contains("the Kafka is InvalidSpec") && m.contains("KafkaNodePool")
            })
        }))
    })
    .await?;

    // A pool whose next-node-ids annotation names two billion IDs is refused, not walked.
    let greedy = json!([
        {"apiVersion": "kafka.strimzi.io/v1", "kind": "Kafka", "metadata": {"name": "greedy"},
         "spec": {"kafka": {"listeners": [{"name": "plain", "port": 9092, "type": "internal", "tls": false}]}}},
        {"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaNodePool",
         "metadata": {"name": "greedy", "labels": {"strimzi.io/cluster": "greedy"},
                      "annotations": {"strimzi.io/next-node-ids": "[0-2000000000]"}},
         "spec": {"replicas": 1, "roles": ["controller", "broker"], "storage": {"type": "ephemeral"}}},
    ]);
    for object in greedy.as_array().unwrap() {
        testenv::apply_yaml(&client, &serde_yaml::to_string(object)?, &namespace).await?;
    }
    // Until its pool is seen, the Kafka is invalid for want of one.
    testenv::eventually("the greedy pool is refused", WAIT, || async {
        let not_ready = condition(&kafkas.get("greedy").await?, "NotReady");
        Ok(not_ready.is_some_and(|not_ready| {
            not_ready.reason.as_deref() == Some("InvalidSpec")
                && (not_ready.message.as_deref())
                    .is_some_and(|m| m.contains("more than 10000 node IDs"))
        }))
    })
    .await?;
    wait_ready(&kafkas, "my-cluster", WAIT).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pausing_stops_changes_and_a_config_change_rolls_brokers_before_controllers() -> Result<()>
{
    let (client, namespace) = setup("kafka-roll").await?;
    start_operator(&client, &namespace).await?;
    apply_example(&client, &namespace, "persistent-dual-pool.yaml").await?;
    let kafkas: Api<Kafka> = Api::namespaced(client.clone(), &namespace);
    wait_ready(&kafkas, "persistent-cluster", WAIT).await?;
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    let broker_config = || async {
        let data = config_maps
            .get("persistent-cluster-broker")
            .await?
            .data
            .unwrap_or_default();
        // Every node's file; the pool's logging configuration and the quorum's addresses are
        // the same for all.
        anyhow::Ok(
            data.iter()
                .filter(|(key, _)| {
                    key.ends_with(".properties") && key.as_str() != "log4j2.properties"
                })
                .all(|(_, file)| file.contains("log.retention.hours=1")),
        )
    };
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let uids = || async {
        let list = pods
            .list(&ListParams::default().labels("strimzi.io/cluster=persistent-cluster"))
            .await?;
        anyhow::Ok(
            list.items
                .iter()
                .map(|pod| (pod.name_any(), pod.uid().unwrap_or_default()))
                .collect::<BTreeMap<_, _>>(),
        )
    };
    let original = uids().await?;
    assert_eq!(original.len(), 6);

    // Paused: the change waits.
    let pause = json!({"metadata": {"annotations": {"strimzi.io/pause-reconciliation": "true"}}});
    kafkas
        .patch(
            "persistent-cluster",
            &PatchParams::default(),
            &Patch::Merge(&pause),
        )
        .await?;
    testenv::eventually("the Kafka reports ReconciliationPaused", WAIT, || async {
        Ok(condition(
            &kafkas.get("persistent-cluster").await?,
            "ReconciliationPaused",
        )
        .is_some())
    })
    .await?;
    let change = json!({"spec": {"kafka": {"config": {"log.retention.hours": 1}}}});
    kafkas
        .patch(
            "persistent-cluster",
            &PatchParams::default(),
            &Patch::Merge(&change),
        )
        .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!broker_config().await?, "a paused Kafka was changed");

    // Unpaused: the new config arrives and every pod restarts, one at a time.
    let resume = json!({"metadata": {"annotations": {"strimzi.io/pause-reconciliation": null}}});
    let mut deletions = Vec::new();
    let mut watch = kube::runtime::watcher::watcher(
        pods.clone(),
        kube::runtime::watcher::Config::default().labels("strimzi.io/cluster=persistent-cluster"),
    )
    .boxed();
    kafkas
        .patch(
            "persistent-cluster",
            &PatchParams::default(),
            &Patch::Merge(&resume),
        )
        .await?;
    use futures::{StreamExt, TryStreamExt};
    let watched = tokio::time::timeout(Duration::from_secs(120), async {
        while deletions.len() < 6 {
            if let Some(kube::runtime::watcher::Event::Apply(pod)) = watch.try_next().await? {
                let name = pod.name_any();
                if pod.metadata.deletion_timestamp.is_some() && !deletions.contains(&name) {
                    deletions.push(name);
                }
            }
        }
        anyhow::Ok(())
    })
    .await;
    watched??;
    assert!(broker_config().await?);
    let (brokers, controllers) = deletions.split_at(3);
    assert!(
        brokers.iter().all(|pod| pod.contains("-broker-")),
        "restart order: {deletions:?}"
    );
    assert!(
        controllers.iter().all(|pod| pod.contains("-controller-")),
        "restart order: {deletions:?}"
    );
    wait_ready(&kafkas, "persistent-cluster", WAIT).await?;
    wait_event(&client, &namespace, "persistent-cluster", "RollingRestart").await?;
    let restarted = uids().await?;
    assert!(
        original
            .iter()
            .all(|(name, uid)| restarted.get(name) != Some(uid)),
        "not every pod restarted"
    );

    // Deleting the Kafka collects everything it owns.
    kafkas
        .delete("persistent-cluster", &DeleteParams::foreground())
        .await?;
    let sets: Api<StatefulSet> = Api::namespaced(client.clone(), &namespace);
    testenv::eventually("the StatefulSets are collected", WAIT, || async {
        Ok(sets.list(&Default::default()).await?.items.is_empty())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_scales_up_and_down_through_the_scale_subresource_keeping_claims() -> Result<()> {
    let (client, namespace) = setup("kafka-scale").await?;
    start_operator(&client, &namespace).await?;
    apply_example(&client, &namespace, "persistent-dual-pool.yaml").await?;
    let kafkas: Api<Kafka> = Api::namespaced(client.clone(), &namespace);
    wait_ready(&kafkas, "persistent-cluster", WAIT).await?;
    let pools: Api<KafkaNodePool> = Api::namespaced(client.clone(), &namespace);
    let node_ids = || async {
        anyhow::Ok(
            pools
                .get("broker")
                .await?
                .status
                .and_then(|s| s.node_ids)
                .unwrap_or_default(),
        )
    };
    let before = node_ids().await?;
    assert_eq!(before.len(), 3);
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let uid = |name: String| {
        let pods = pods.clone();
        async move { anyhow::Ok(pods.get(&name).await?.uid()) }
    };
    let first_broker = format!("persistent-cluster-broker-{}", before[0]);
    let first_uid = uid(first_broker.clone()).await?;

    // Up by one, as `kubectl scale knp broker --replicas 4` does it.
    let scale = |replicas: i32| json!({"spec": {"replicas": replicas}});
    pools
        .patch_scale("broker", &PatchParams::default(), &Patch::Merge(&scale(4)))
        .await?;
    testenv::eventually("the broker pool has 4 node IDs", WAIT, || async {
        Ok(node_ids().await?.len() == 4)
    })
    .await?;
    let grown = node_ids().await?;
    assert_eq!(&grown[..3], &before[..], "existing node IDs changed");
    let added = format!("persistent-cluster-broker-{}", grown[3]);
    testenv::eventually("the new broker's pod is Ready", WAIT, || async {
        Ok(pods.get_opt(&added).await?.is_some_and(|pod| {
            pod.status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True")
        }))
    })
    .await?;
    wait_ready(&kafkas, "persistent-cluster", WAIT).await?;
    assert_eq!(
        uid(first_broker.clone()).await?,
        first_uid,
        "scaling up restarted an existing broker"
    );

    // Down to two: the highest IDs go, their claims stay (deleteClaim: false).
    pools
        .patch_scale("broker", &PatchParams::default(), &Patch::Merge(&scale(2)))
        .await?;
    testenv::eventually("the removed brokers' pods are gone", WAIT, || async {
        Ok(pods.get_opt(&added).await?.is_none() && node_ids().await?.len() == 2)
    })
    .await?;
    let claims: Api<k8s_openapi::api::core::v1::PersistentVolumeClaim> =
        Api::namespaced(client.clone(), &namespace);
    let claim_names: Vec<String> = claims
        .list(&Default::default())
        .await?
        .items
        .iter()
        .map(|c| c.name_any())
        .collect();
    assert!(
        claim_names.iter().any(|name| name.ends_with(&added)),
        "the claim of {added} was deleted: {claim_names:?}"
    );
    assert_eq!(
        uid(first_broker.clone()).await?,
        first_uid,
        "scaling down restarted a remaining broker"
    );

    Ok(())
}

/// A one-node cluster whose claim's StorageClass (`CLASS`) cannot expand. The local provisioner
/// binds no claim of it: the claim stays pending, which is enough for a larger size to be refused.
const FIXED_STORAGE: &str = r#"
apiVersion: kafka.strimzi.io/v1
kind: KafkaNodePool
metadata:
  name: fixed
  labels: {strimzi.io/cluster: np}
spec:
  replicas: 1
  roles: [controller, broker]
  storage: {type: persistent-claim, size: 1Gi, class: CLASS, deleteClaim: true}
---
apiVersion: kafka.strimzi.io/v1
kind: Kafka
metadata:
  name: np
  annotations: {strimzi.io/node-pools: enabled, strimzi.io/kraft: enabled}
spec:
  kafka:
    listeners: [{name: plain, port: 9092, type: internal, tls: false}]
"#;

/// A larger size grows every claim of the pool in place, as in Strimzi, restarting no pod: the
/// StatefulSet is re-created with the larger template, and the Kafka is not Ready until each
/// volume has its new capacity (which a CSI resizer reports; on kwok, the test). A smaller size,
/// or a larger one on a StorageClass that cannot expand, is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_larger_volume_grows_the_claims_in_place_and_a_smaller_one_is_refused() -> Result<()> {
    let (client, namespace) = setup("kafka-resize").await?;
    start_operator(&client, &namespace).await?;
    apply_example(&client, &namespace, "persistent-dual-pool.yaml").await?;
    // A class of the local provisioner that does not allow expansion.
    let classes: Api<StorageClass> = Api::all(client.clone());
    let provisioner = classes.get("standard").await?.provisioner;
    let fixed = format!("{namespace}-fixed");
    let class = json!({"metadata": {"name": fixed}, "provisioner": provisioner,
                       "allowVolumeExpansion": false});
    classes
        .create(&PostParams::default(), &serde_json::from_value(class)?)
        .await?;
    let yaml = FIXED_STORAGE.replace("CLASS", &fixed);
    testenv::apply_yaml(&client, &yaml, &namespace).await?;
    let kafkas: Api<Kafka> = Api::namespaced(client.clone(), &namespace);
    wait_ready(&kafkas, "persistent-cluster", WAIT).await?;

    let pools: Api<KafkaNodePool> = Api::namespaced(client.clone(), &namespace);
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &namespace);
    let sets: Api<StatefulSet> = Api::namespaced(client.clone(), &namespace);
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let claims_of = |prefix: &'static str| {
        let claims = claims.clone();
        async move {
            let list = claims.list(&ListParams::default()).await?.items;
            anyhow::Ok(
                (list.into_iter())
                    .filter(|claim| claim.name_any().starts_with(prefix))
                    .collect::<Vec<_>>(),
            )
        }
    };
    let broker_pods = || async {
        let selector = ListParams::default().labels("strimzi.io/pool-name=broker");
        anyhow::Ok(pods.list(&selector).await?.items)
    };
    let uids = |pods: Vec<Pod>| -> BTreeMap<String, Option<String>> {
        pods.iter().map(|pod| (pod.name_any(), pod.uid())).collect()
    };
    let before = uids(broker_pods().await?);
    assert_eq!(before.len(), 3);
    let old_set = sets.get("persistent-cluster-broker").await?.uid();
    let size = |size: &str| {
        json!({"spec": {"storage": {"type": "jbod", "volumes": [{"id": 0,
            "type": "persistent-claim", "size": size, "kraftMetadata": "shared",
            "deleteClaim": false}]}}})
    };
    let params = PatchParams::default();
    pools
        .patch("broker", &params, &Patch::Merge(&size("200Gi")))
        .await?;
    let resizing = wait_condition(
        &kafkas,
        "persistent-cluster",
        "NotReady",
        Some("VolumeResizing"),
        WAIT,
    )
    .await?;
    let message = resizing.message.unwrap_or_default();
    assert!(
        message.contains("data-0-persistent-cluster-broker-"),
        "{message}"
    );
    let storage = |spec: Option<k8s_openapi::api::core::v1::PersistentVolumeClaimSpec>| {
        let requests = spec.and_then(|s| s.resources).and_then(|r| r.requests);
        requests
            .and_then(|r| r.get("storage").cloned())
            .map(|q| q.0)
    };
    let grown = claims_of("data-0-persistent-cluster-broker-").await?;
    assert_eq!(grown.len(), 3);
    for claim in &grown {
        assert_eq!(storage(claim.spec.clone()).as_deref(), Some("200Gi"));
    }
    let set = sets.get("persistent-cluster-broker").await?;
    assert_ne!(set.uid(), old_set, "the StatefulSet was not re-created");
    let template = set.spec.and_then(|s| s.volume_claim_templates).unwrap();
    assert_eq!(storage(template[0].spec.clone()).as_deref(), Some("200Gi"));
    assert_eq!(uids(broker_pods().await?), before, "a broker restarted");

    // What the volumes' resizer reports once they are grown.
    for claim in &grown {
        let capacity = json!({"status": {"capacity": {"storage": "200Gi"}}});
        claims
            .patch_status(&claim.name_any(), &params, &Patch::Merge(&capacity))
            .await?;
    }
    wait_ready(&kafkas, "persistent-cluster", WAIT).await?;
    assert_eq!(uids(broker_pods().await?), before, "a broker restarted");
    testenv::eventually("the new StatefulSet adopted the pods", WAIT, || async {
        Ok(broker_pods().await?.iter().all(|pod| {
            let owner = pod.owner_references().first().map(|o| o.uid.clone());
            owner == set.metadata.uid
        }))
    })
    .await?;

    // Smaller again: refused.
    pools
        .patch("broker", &params, &Patch::Merge(&size("100Gi")))
        .await?;
    let refused = wait_condition(
        &kafkas,
        "persistent-cluster",
        "NotReady",
        Some("NotSupported"),
        WAIT,
    )
    .await?;
    let message = refused.message.unwrap_or_default();
    assert!(
        message.contains("node pool broker")
            && message.contains("cannot shrink from 200Gi to 100Gi"),
        "{message}"
    );

    // Larger on a class that cannot expand: refused, naming the class.
    testenv::eventually("the pending claim of np exists", WAIT, || async {
        Ok(claims_of("data-np-fixed-").await?.len() == 1)
    })
    .await?;
    let larger = json!({"spec": {"storage": {"type": "persistent-claim", "size": "2Gi",
                                             "class": fixed, "deleteClaim": true}}});
    pools
        .patch("fixed", &params, &Patch::Merge(&larger))
        .await?;
    let refused = wait_condition(&kafkas, "np", "NotReady", Some("NotSupported"), WAIT).await?;
    let message = refused.message.unwrap_or_default();
    assert!(
        message.contains(&format!(
            "StorageClass {fixed} does not allow volume expansion"
        )),
        "{message}"
    );
    classes.delete(&fixed, &DeleteParams::default()).await?;
    Ok(())
}

/// The NodePort listener from the documents the project started from, as written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nodeport_listener_gets_its_services_and_advertised_host() -> Result<()> {
    let (client, namespace) = setup("kafka-nodeport").await?;
    start_operator(&client, &namespace).await?;
    let yaml = std::fs::read_to_string(repo_path("tests/fixtures/nodeport-kafka.yaml"))?;
    testenv::apply_yaml(&client, &yaml, &namespace).await?;
    let kafkas: Api<Kafka> = Api::namespaced(client.clone(), &namespace);
    wait_ready(&kafkas, "np", WAIT).await?;
    let services: Api<Service> = Api::namespaced(client.clone(), &namespace);
    let bootstrap = services
        .get("np-kafka-external-bootstrap")
        .await?
        .spec
        .unwrap();
    assert_eq!(bootstrap.type_.as_deref(), Some("NodePort"));
    assert_eq!(bootstrap.ports.unwrap()[0].node_port, Some(32094));
    let broker = services.get("np-brokers-external-0").await?.spec.unwrap();
    let node_port = broker.ports.unwrap()[0]
        .node_port
        .expect("a node port was assigned");
    let config = Api::<ConfigMap>::namespaced(client.clone(), &namespace)
        .get("np-brokers")
        .await?;
    let properties = &config.data.unwrap()["np-brokers-0.properties"];
    assert!(
        properties.contains(&format!("EXTERNAL-9094://203.0.113.10:{node_port}")),
        "advertised.listeners lacks the external address:\n{properties}"
    );
    let status = kafkas.get("np").await?.status.unwrap();
    let external = status
        .listeners
        .unwrap()
        .into_iter()
        .find(|l| l.name == "external")
        .unwrap();
    // Clients bootstrap through the bootstrap Service's node port: on broker 0's advertised
    // host, and on the node address of broker 1.
    let servers = external.bootstrap_servers.unwrap_or_default();
    let servers: Vec<&str> = servers.split(',').collect();
    assert_eq!(servers.len(), 2, "{servers:?}");
    assert!(servers.contains(&"203.0.113.10:32094"), "{servers:?}");
    assert!(
        servers.iter().all(|server| server.ends_with(":32094")),
        "{servers:?}"
    );
    Ok(())
}

/// A roll on a cluster Kafka cannot be asked about waits with a condition saying why, rather
/// than restarting pods without the min-ISR and quorum checks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_roll_waits_while_kafka_cannot_be_asked_whether_a_restart_is_safe() -> Result<()> {
    let (client, namespace) = setup("kafka-roll-blind").await?;
    // Nothing listens on port 1.
    let unreachable = vec![AdminOverride {
        namespace: Some(namespace.clone()),
        cluster: "my-cluster".into(),
        config: ClientConfig::new(["127.0.0.1:1"]),
    }];
    start_operator_with(&client, &namespace, unreachable);
    apply_example(&client, &namespace, "ephemeral-single-node.yaml").await?;
    let kafkas: Api<Kafka> = Api::namespaced(client.clone(), &namespace);
    wait_ready(&kafkas, "my-cluster", WAIT).await?;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let pod = "my-cluster-dual-role-0";
    let before = pods.get(pod).await?.uid();

    let change = json!({"spec": {"kafka": {"config": {"log.retention.hours": 1}}}});
    kafkas
        .patch(
            "my-cluster",
            &PatchParams::default(),
            &Patch::Merge(&change),
        )
        .await?;
    let waiting = wait_condition(
        &kafkas,
        "my-cluster",
        "NotReady",
        Some("RollingUpdate"),
        WAIT,
    )
    .await?;
    let message = waiting.message.unwrap_or_default();
    assert!(message.contains("Kafka cannot be asked"), "{message}");
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(pods.get(pod).await?.uid(), before, "the pod was restarted");
    Ok(())
}

/// Three pools with node IDs chosen so that the leaving broker is node 0, the real Kafka's
/// only node: what it holds there, the operator sees.
const POOLS: &str = r#"
apiVersion: kafka.strimzi.io/v1
kind: KafkaNodePool
metadata:
  name: controllers
  labels: {strimzi.io/cluster: pools}
  annotations: {strimzi.io/next-node-ids: "[10]"}
spec: {replicas: 1, roles: [controller], storage: {type: ephemeral}}
---
apiVersion: kafka.strimzi.io/v1
kind: KafkaNodePool
metadata:
  name: stay
  labels: {strimzi.io/cluster: pools}
  annotations: {strimzi.io/next-node-ids: "[20]"}
spec: {replicas: 1, roles: [broker], storage: {type: ephemeral}}
---
apiVersion: kafka.strimzi.io/v1
kind: KafkaNodePool
metadata:
  name: leave
  labels: {strimzi.io/cluster: pools}
  annotations: {strimzi.io/next-node-ids: "[0]"}
spec: {replicas: 1, roles: [broker], storage: {type: ephemeral}}
---
apiVersion: kafka.strimzi.io/v1
kind: Kafka
metadata:
  name: pools
  annotations: {strimzi.io/node-pools: enabled, strimzi.io/kraft: enabled}
spec:
  kafka:
    # Before Kafka 4.1, so that the controller quorum is static.
    version: 4.0.0
    listeners: [{name: plain, port: 9092, type: internal, tls: false}]
"#;

/// A removed pool whose broker holds partitions no other broker can take is kept, with a
/// condition saying why, until `strimzi.io/skip-broker-scaledown-check`; a changed controller
/// quorum is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn brokers_holding_partitions_and_controllers_are_not_removed() -> Result<()> {
    let (client, namespace) = setup("kafka-scaledown").await?;
    start_operator(&client, &namespace).await?;
    let admin = AdminClient::connect(ClientConfig::new([shared_kafka()
        .await?
        .bootstrap(Listener::Plain)]))
    .await?;
    let topic = format!("{namespace}.held");
    let created = admin
        .create_topics(&[NewTopic {
            name: topic.clone(),
            partitions: Some(1),
            replication_factor: Some(1),
            configs: BTreeMap::new(),
        }])
        .await?;
    assert!(created.values().all(Result::is_ok), "{created:?}");
    testenv::apply_yaml(&client, POOLS, &namespace).await?;
    let kafkas: Api<Kafka> = Api::namespaced(client.clone(), &namespace);
    wait_ready(&kafkas, "pools", WAIT).await?;
    let (pools, sets): (Api<KafkaNodePool>, Api<StatefulSet>) = (
        Api::namespaced(client.clone(), &namespace),
        Api::namespaced(client.clone(), &namespace),
    );
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    assert!(pods.get_opt("pools-leave-0").await?.is_some());

    // The pool goes; its broker holds partitions and no other broker could take them, so it
    // stays.
    pools.delete("leave", &DeleteParams::default()).await?;
    let refused =
        wait_condition(&kafkas, "pools", "NotReady", Some("ScaleDownRefused"), WAIT).await?;
    let message = refused.message.unwrap_or_default();
    assert!(
        message.contains("cannot move every replica off brokers {0}: 0 brokers would be left"),
        "{message}"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(sets.get_opt("pools-leave").await?.is_some());
    assert!(pods.get_opt("pools-leave-0").await?.is_some());

    // Adding a controller to the static quorum is refused too.
    let scale = json!({"spec": {"replicas": 2}});
    pools
        .patch(
            "controllers",
            &PatchParams::default(),
            &Patch::Merge(&scale),
        )
        .await?;
    testenv::eventually("the quorum change is refused", WAIT, || async {
        let kafka = kafkas.get("pools").await?;
        Ok(condition(&kafka, "NotReady")
            .and_then(|c| c.message)
            .is_some_and(|message| message.contains("controller quorum")))
    })
    .await?;
    let controllers = sets.get("pools-controllers").await?;
    assert_eq!(controllers.spec.and_then(|spec| spec.replicas), Some(1));
    let scale = json!({"spec": {"replicas": 1}});
    pools
        .patch(
            "controllers",
            &PatchParams::default(),
            &Patch::Merge(&scale),
        )
        .await?;

    // With Strimzi's annotation, the broker goes anyway.
    let skip =
        json!({"metadata": {"annotations": {"strimzi.io/skip-broker-scaledown-check": "true"}}});
    kafkas
        .patch("pools", &PatchParams::default(), &Patch::Merge(&skip))
        .await?;
    testenv::eventually("the pool's StatefulSet is deleted", WAIT, || async {
        Ok(sets.get_opt("pools-leave").await?.is_none())
    })
    .await?;
    wait_ready(&kafkas, "pools", WAIT).await
}

/// A Kafka and its pools deleted and applied again (from Git, a backup) over the claims they
/// kept take up the cluster ID and node IDs the volumes were formatted with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recreated_kafka_finds_its_cluster_id_and_node_ids_on_its_kept_claims() -> Result<()> {
    let (client, namespace) = setup("kafka-identity").await?;
    start_operator(&client, &namespace).await?;
    apply_example(&client, &namespace, "persistent-dual-pool.yaml").await?;
    let kafkas: Api<Kafka> = Api::namespaced(client.clone(), &namespace);
    wait_ready(&kafkas, "persistent-cluster", WAIT).await?;
    let pools: Api<KafkaNodePool> = Api::namespaced(client.clone(), &namespace);
    let broker_ids = || async {
        let pool = pools.get("broker").await?;
        anyhow::Ok(pool.status.and_then(|status| status.node_ids))
    };
    let cluster_id = || async {
        let kafka = kafkas.get("persistent-cluster").await?;
        anyhow::Ok(kafka.status.and_then(|status| status.cluster_id))
    };
    let (original_id, original_brokers) = (cluster_id().await?, broker_ids().await?);
    assert!(original_id.is_some() && original_brokers.is_some());
    let claims: Api<k8s_openapi::api::core::v1::PersistentVolumeClaim> =
        Api::namespaced(client.clone(), &namespace);
    testenv::eventually(
        "every claim records the cluster ID and quorum",
        WAIT,
        || async {
            let list = claims.list(&Default::default()).await?.items;
            Ok(list.len() == 6
                && list.iter().all(|claim| {
                    let annotations = claim.annotations();
                    annotations.get("brokerage.io/cluster-id") == original_id.as_ref()
                        && annotations
                            .get("brokerage.io/controller-quorum")
                            .map(String::as_str)
                            == Some("dynamic")
                }))
        },
    )
    .await?;
    // A new cluster on Kafka 4.4: a dynamic quorum of the three controllers, formed once Ready,
    // after which a controller with empty storage no longer formats itself as an initial voter.
    let quorum = || async {
        let status = kafkas
            .get("persistent-cluster")
            .await?
            .status
            .unwrap_or_default();
        anyhow::Ok(status.controller_quorum.unwrap_or_default())
    };
    let formed = quorum().await?;
    assert_eq!(formed.mode, QuorumMode::Dynamic);
    assert_eq!(formed.voters, Some(vec![0, 1, 2]));
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    testenv::eventually("controllers join as observers", WAIT, || async {
        let data =
            (config_maps.get("persistent-cluster-controller").await?.data).unwrap_or_default();
        Ok(data.get("controller-quorum-format").map(String::as_str)
            == Some("--no-initial-controllers"))
    })
    .await?;

    kafkas
        .delete("persistent-cluster", &DeleteParams::foreground())
        .await?;
    for pool in ["broker", "controller"] {
        pools.delete(pool, &DeleteParams::default()).await?;
    }
    let sets: Api<StatefulSet> = Api::namespaced(client.clone(), &namespace);
    testenv::eventually("the Kafka and its StatefulSets are gone", WAIT, || async {
        Ok(kafkas.get_opt("persistent-cluster").await?.is_none()
            && sets.list(&Default::default()).await?.items.is_empty())
    })
    .await?;
    assert_eq!(claims.list(&Default::default()).await?.items.len(), 6);

    // Applied again, with an annotation that would place the brokers elsewhere if the claims
    // did not say where they were.
    let yaml = std::fs::read_to_string(repo_path("examples/kafka/persistent-dual-pool.yaml"))?
        .replace(
            "  name: broker\n",
            "  name: broker\n  annotations:\n    strimzi.io/next-node-ids: \"[100]\"\n",
        );
    testenv::apply_yaml(&client, &yaml, &namespace).await?;
    wait_ready(&kafkas, "persistent-cluster", WAIT).await?;
    assert_eq!(cluster_id().await?, original_id);
    assert_eq!(broker_ids().await?, original_brokers);
    assert_eq!(quorum().await?.mode, QuorumMode::Dynamic);
    Ok(())
}

/// A cluster CA certificate supplied without its key is refused, not replaced by a new CA that
/// nothing trusting the supplied one would trust.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_certificate_without_its_key_is_refused() -> Result<()> {
    let (client, namespace) = setup("kafka-ca-nokey").await?;
    start_operator(&client, &namespace).await?;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    let supplied: Secret = serde_json::from_value(json!({
        "metadata": {"name": "my-cluster-cluster-ca-cert"},
        "stringData": {"ca.crt": "-----BEGIN CERTIFICATE-----\nsupplied\n-----END CERTIFICATE-----\n"},
    }))?;
    secrets.create(&Default::default(), &supplied).await?;
    apply_example(&client, &namespace, "ephemeral-single-node.yaml").await?;
    let kafkas: Api<Kafka> = Api::namespaced(client.clone(), &namespace);
    testenv::eventually("the Kafka refuses the CA", WAIT, || async {
        let kafka = kafkas.get("my-cluster").await?;
        Ok(condition(&kafka, "NotReady")
            .and_then(|c| c.message)
            .is_some_and(|message| message.contains("my-cluster-cluster-ca holds no ca.key")))
    })
    .await?;
    assert!(secrets.get_opt("my-cluster-cluster-ca").await?.is_none());
    let kept = secrets.get("my-cluster-cluster-ca-cert").await?;
    let data = kept.data.unwrap_or_default();
    assert!(String::from_utf8_lossy(&data["ca.crt"].0).contains("supplied"));
    Ok(())
}

/// A rack of zones: each pod carries its node's zone, which Kubernetes copies onto it as it is
/// bound, and the broker's `broker.rack` reads it from there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zone_rack_gives_each_broker_its_nodes_zone() -> Result<()> {
    let (client, namespace) = setup("kafka-rack").await?;
    start_operator(&client, &namespace).await?;
    let yaml = std::fs::read_to_string(repo_path("examples/kafka/ephemeral-single-node.yaml"))?
        .replace("  replicas: 1\n", "  replicas: 3\n")
        .replace(
            "  kafka:\n",
            "  kafka:\n    rack:\n      topologyKey: topology.kubernetes.io/zone\n",
        );
    testenv::apply_yaml(&client, &yaml, &namespace).await?;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let nodes: Api<k8s_openapi::api::core::v1::Node> = Api::all(client.clone());
    let zone = "topology.kubernetes.io/zone";
    testenv::eventually("three racked pods bound", WAIT, || async {
        let selector = ListParams::default().labels("strimzi.io/cluster=my-cluster");
        let bound = (pods.list(&selector).await?.items.iter())
            .filter(|pod| pod.spec.as_ref().is_some_and(|s| s.node_name.is_some()))
            .count();
        Ok(bound == 3)
    })
    .await?;
    for index in 0..3 {
        let pod = pods.get(&format!("my-cluster-dual-role-{index}")).await?;
        let spec = pod.spec.clone().unwrap();
        let node = nodes.get(spec.node_name.as_deref().unwrap()).await?;
        assert_eq!(pod.labels().get(zone), node.labels().get(zone), "{index}");
        assert!(pod.labels().contains_key(zone), "pod {index} has no zone");
        let variable = spec.containers[0].env.iter().flatten();
        let rack = variable
            .into_iter()
            .find(|variable| variable.name == "BROKER_RACK")
            .and_then(|variable| variable.value_from.clone()?.field_ref);
        assert_eq!(
            rack.map(|field| field.field_path),
            Some(format!("metadata.labels['{zone}']"))
        );
    }
    let config = Api::<ConfigMap>::namespaced(client.clone(), &namespace)
        .get("my-cluster-dual-role")
        .await?;
    let properties = &config.data.unwrap()["my-cluster-dual-role-0.properties"];
    assert!(
        properties.contains("broker.rack=${env:BROKER_RACK}\n"),
        "{properties}"
    );
    Ok(())
}

/// An external logging ConfigMap that is not there holds the cluster with a condition naming
/// it; once it is created, the pods mount it where the JVM reads its configuration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_external_logging_config_map_is_waited_for_then_mounted() -> Result<()> {
    let (client, namespace) = setup("kafka-logging").await?;
    start_operator(&client, &namespace).await?;
    let yaml = std::fs::read_to_string(repo_path("examples/kafka/ephemeral-single-node.yaml"))?
        .replace(
            "  kafka:\n",
            "  kafka:\n    logging:\n      type: external\n      valueFrom:\n        configMapKeyRef: {name: kafka-logging, key: log4j2.properties}\n",
        );
    testenv::apply_yaml(&client, &yaml, &namespace).await?;
    let kafkas: Api<Kafka> = Api::namespaced(client.clone(), &namespace);
    testenv::eventually("the Kafka names the missing ConfigMap", WAIT, || async {
        let kafka = kafkas.get("my-cluster").await?;
        Ok(condition(&kafka, "NotReady").is_some_and(|c| {
            c.reason.as_deref() == Some("ConfigMapMissing")
                && c.message.as_deref().is_some_and(|m| {
                    m.contains("spec.kafka.logging names key log4j2.properties of ConfigMap kafka-logging, which does not exist")
                })
        }))
    })
    .await?;
    let sets: Api<StatefulSet> = Api::namespaced(client.clone(), &namespace);
    assert!(sets.get_opt("my-cluster-dual-role").await?.is_none());

    let logging: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "kafka-logging"},
        "data": {"log4j2.properties": "rootLogger.level = DEBUG\n"},
    }))?;
    Api::<ConfigMap>::namespaced(client.clone(), &namespace)
        .create(&Default::default(), &logging)
        .await?;
    wait_ready(&kafkas, "my-cluster", WAIT).await?;
    let set = sets.get("my-cluster-dual-role").await?;
    let pod = set.spec.unwrap().template.spec.unwrap();
    let volume = pod
        .volumes
        .iter()
        .flatten()
        .find(|v| v.name == "logging-config");
    let source = volume
        .and_then(|v| v.config_map.clone())
        .expect("a logging volume");
    assert_eq!(source.name, "kafka-logging");
    let script = pod.containers[0].command.clone().unwrap().join(" ");
    assert!(
        script.contains("-Dlog4j2.configurationFile=/opt/kafka/custom-logging/log4j2.properties"),
        "{script}"
    );
    Ok(())
}

/// `spec.kafkaExporter` gives the cluster an exporter Deployment with a client certificate of
/// the cluster CA and a way through the NetworkPolicy to the replication port; removing it
/// removes the Deployment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kafka_exporter_gets_its_deployment_and_certificate_and_goes_when_removed() -> Result<()>
{
    let (client, namespace) = setup("kafka-exporter").await?;
    start_operator(&client, &namespace).await?;
    let yaml = std::fs::read_to_string(repo_path("examples/kafka/ephemeral-single-node.yaml"))?
        .replace(
            "  entityOperator:\n",
            "  kafkaExporter:\n    topicExcludeRegex: \"^__\"\n  entityOperator:\n",
        );
    testenv::apply_yaml(&client, &yaml, &namespace).await?;
    let kafkas: Api<Kafka> = Api::namespaced(client.clone(), &namespace);
    wait_ready(&kafkas, "my-cluster", WAIT).await?;
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(client.clone(), &namespace);
    let name = "my-cluster-kafka-exporter";
    testenv::eventually("the exporter's Deployment", WAIT, || async {
        Ok(deployments.get_opt(name).await?.is_some())
    })
    .await?;
    let deployment = deployments.get(name).await?;
    assert_eq!(deployment.owner_references()[0].kind, "Kafka");
    let pod = deployment.spec.unwrap().template.spec.unwrap();
    let args = pod.containers[0].args.clone().unwrap_or_default();
    assert!(
        args.contains(&"--topic-exclude-regex=^__".to_string()),
        "{args:?}"
    );

    let secret = Api::<Secret>::namespaced(client.clone(), &namespace)
        .get("my-cluster-kafka-exporter-certs")
        .await?;
    let data = secret.data.unwrap_or_default();
    let cert = String::from_utf8(data[&format!("{name}.crt")].0.clone())?;
    let principal = certs::CertInfo::from_pem(&cert)?.principal().to_string();
    assert_eq!(principal, "CN=my-cluster-kafka-exporter,O=io.strimzi");

    let policy = Api::<k8s_openapi::api::networking::v1::NetworkPolicy>::namespaced(
        client.clone(),
        &namespace,
    )
    .get("my-cluster-network-policy-kafka")
    .await?;
    let text = serde_json::to_string(&policy.spec)?;
    assert!(text.contains(name), "{text}");

    let remove = json!({"spec": {"kafkaExporter": null}});
    kafkas
        .patch(
            "my-cluster",
            &PatchParams::default(),
            &Patch::Merge(&remove),
        )
        .await?;
    testenv::eventually("the exporter's Deployment is removed", WAIT, || async {
        Ok(deployments.get_opt(name).await?.is_none())
    })
    .await?;
    Ok(())
}
