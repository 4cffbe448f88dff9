//! Hostile input, with every operator running: the resources of `tests/hostile-resources.yaml`
//! pass the schema (what it refuses is in `tests/invalid-resources.yaml`, which `crds.rs`
//! applies), and each must end with the condition its row expects, whose message says what to
//! change, never a panic, a crash loop, or an object the API server refuses. Next to them one
//! valid resource of every kind, applied before the hostile ones and another after them, must
//! become Ready: no hostile resource stops the others.
//!
//! The operators run in this test's runtime, as in the other end-to-end tests: the cluster
//! operator on the local cluster (Kafka and RocketMQ pods on kwok), the topic and user
//! operators against a real Kafka with SCRAM, mutual TLS and the ACL authorizer (the cluster
//! `my-cluster`) and a real RocketMQ with ACL 2.0 (the Broker `broker`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow};
use brokerage_e2e::operators::{ALL, Operators};
use brokerage_e2e::{install_clients_ca, repo_path, secured_kafka_options, setup};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kafka_client::ClientConfig;
use kafka_operator::admin::AdminOverride;
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use rocketmq_client::Credentials;
use rocketmq_operator::admin::RocketMQOverride;
use runtime::Metrics;
use serde::Deserialize;
use serde_json::{Value, json};
use testenv::kafka::{KafkaCluster, Listener};
use testenv::rocketmq::{AclAdmin, RocketMQCluster, RocketMQOptions};

/// How long every row may take to reach its condition, all rows at once.
const WAIT: Duration = Duration::from_secs(90);
/// Short, so that Secrets and ConfigMaps a resource refers to are seen soon.
const RESYNC: Duration = Duration::from_secs(5);
/// The real clusters' names, as the topics and users name them.
const KAFKA: &str = "my-cluster";
const ROCKETMQ: &str = "broker";
const ROCKETMQ_ADMIN: (&str, &str) = ("brokerage-admin", "admin-secret-1");

/// One row: resources applied in order, and the condition the first one ends with.
#[derive(Deserialize)]
struct Row {
    name: String,
    expect: Option<Expect>,
    /// Lines that no ConfigMap the operator made for the resource may hold: what an injection
    /// attempt would have put there.
    #[serde(default)]
    absent: Vec<String>,
    resources: Vec<Value>,
}

#[derive(Deserialize, Debug)]
struct Expect {
    /// `NotReady`; `Warning` for what the operator leaves out of a resource that runs; `Ready`
    /// for input the operator makes harmless (the `absent` lines say how).
    #[serde(rename = "type")]
    type_: String,
    reason: Option<String>,
    /// Words the message must contain.
    message: Option<String>,
}

/// Every panic of this process, an operator's task's included (a panicking task would end its
/// controller, and the operator as a process would crash-loop).
static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn record_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(info.to_string());
        default(info);
    }));
}

fn table() -> Result<Vec<Row>> {
    let text = std::fs::read_to_string(repo_path("tests/hostile-resources.yaml"))?;
    Ok(serde_yaml::from_str(&text)?)
}

/// The API of a resource of one of the operator's kinds (or a core kind the rows create).
fn api_of(client: &Client, namespace: &str, resource: &Value) -> Result<Api<DynamicObject>> {
    let api_version = resource["apiVersion"].as_str().context("no apiVersion")?;
    let kind = resource["kind"].as_str().context("no kind")?;
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let plural = format!("{}s", kind.to_lowercase());
    let gvk = GroupVersionKind::gvk(group, version, kind);
    let api_resource = ApiResource::from_gvk_with_plural(&gvk, &plural);
    Ok(Api::namespaced_with(
        client.clone(),
        namespace,
        &api_resource,
    ))
}

fn name_of(resource: &Value) -> String {
    resource["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The conditions of the resource's current generation; none while the status is older.
async fn conditions(api: &Api<DynamicObject>, name: &str) -> Result<Vec<api::Condition>> {
    let object = serde_json::to_value(api.get(name).await?)?;
    if object.pointer("/status/observedGeneration") != object.pointer("/metadata/generation") {
        return Ok(Vec::new());
    }
    Ok(object
        .pointer("/status/conditions")
        .map(|found| serde_json::from_value(found.clone()))
        .transpose()?
        .unwrap_or_default())
}

fn describe(conditions: &[api::Condition]) -> String {
    conditions
        .iter()
        .map(|c| {
            format!(
                "{} {} {:?}",
                c.type_,
                c.reason.as_deref().unwrap_or("-"),
                c.message.as_deref().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Whether `conditions` hold the expected one.
fn meets(expect: &Expect, conditions: &[api::Condition]) -> bool {
    conditions.iter().any(|c| {
        c.type_ == expect.type_
            && c.reason == expect.reason
            && expect
                .message
                .as_ref()
                .is_none_or(|words| c.message.as_deref().unwrap_or("").contains(words))
    })
}

/// What no status message may look like: a Rust debug dump of a client's error, or a panic.
fn raw(message: &str) -> bool {
    ["Status {", "ErrorResponse", "ApiError", "Some(", "panicked"]
        .iter()
        .any(|dump| message.contains(dump))
}

/// The `absent` lines found in the ConfigMaps labelled as the resource's.
async fn present_lines(
    client: &Client,
    namespace: &str,
    resource: &Value,
    absent: &[String],
) -> Result<Vec<String>> {
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let selector = format!("strimzi.io/cluster={}", name_of(resource));
    let listed = config_maps
        .list(&ListParams::default().labels(&selector))
        .await?;
    anyhow::ensure!(!listed.items.is_empty(), "no ConfigMap of {selector}");
    let mut found = Vec::new();
    for config_map in listed {
        for text in config_map.data.unwrap_or_default().values() {
            found.extend(
                text.lines()
                    .filter(|line| absent.iter().any(|absent| absent == line))
                    .map(|line| {
                        format!(
                            "{}: {line}",
                            config_map.metadata.name.clone().unwrap_or_default()
                        )
                    }),
            );
        }
    }
    Ok(found)
}

struct Clusters {
    kafka: KafkaCluster,
    rocketmq: RocketMQCluster,
}

async fn start_clusters() -> Result<Clusters> {
    let kafka = tokio::task::spawn_blocking(|| KafkaCluster::start(&secured_kafka_options()));
    let rocketmq = tokio::task::spawn_blocking(|| {
        RocketMQCluster::start(&RocketMQOptions {
            brokers: 1,
            acl: Some(AclAdmin {
                username: ROCKETMQ_ADMIN.0.into(),
                password: ROCKETMQ_ADMIN.1.into(),
            }),
            ..RocketMQOptions::default()
        })
    });
    let (kafka, rocketmq) = tokio::join!(kafka, rocketmq);
    Ok(Clusters {
        kafka: kafka??,
        rocketmq: rocketmq??,
    })
}

/// Every operator, watching `namespace`: the Kafka topics and users, and the Kafka `valid`'s
/// rolls, reach the real Kafka; RocketMQ topics and users the real RocketMQ.
fn start_operators(client: &Client, namespace: &str, clusters: &Clusters) -> Arc<Metrics> {
    let kafka = ClientConfig::new([clusters.kafka.bootstrap(Listener::Plain)]);
    let kafka_overrides = [KAFKA, "valid"]
        .into_iter()
        .map(|cluster| AdminOverride {
            namespace: Some(namespace.to_string()),
            cluster: cluster.into(),
            config: kafka.clone(),
        })
        .collect();
    let rocketmq_overrides = vec![RocketMQOverride {
        namespace: Some(namespace.to_string()),
        cluster: ROCKETMQ.into(),
        cluster_name: Some("DefaultCluster".into()),
        name_servers: clusters.rocketmq.name_server_addr(),
        credentials: Some(Credentials {
            access_key: ROCKETMQ_ADMIN.0.into(),
            secret_key: ROCKETMQ_ADMIN.1.into(),
        }),
        ..RocketMQOverride::default()
    }];
    Operators::watching(client, &[namespace])
        .resync(RESYNC)
        .kafka(kafka_overrides)
        .rocketmq(rocketmq_overrides)
        .start(&ALL)
}

/// One valid resource of every kind (with what it needs), named `<prefix>...`.
fn valid_resources(prefix: &str, namespace: &str) -> Vec<Value> {
    let kafka = format!("{prefix}valid");
    let names = format!("{prefix}names");
    vec![
        json!({"apiVersion": "kafka.strimzi.io/v1", "kind": "Kafka", "metadata": {"name": kafka},
               "spec": {"kafka": {"listeners": [{"name": "plain", "port": 9092, "type": "internal", "tls": false}]}}}),
        json!({"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaNodePool",
               "metadata": {"name": format!("{prefix}pool"), "labels": {"strimzi.io/cluster": kafka}},
               "spec": {"replicas": 1, "roles": ["controller", "broker"], "storage": {"type": "ephemeral"}}}),
        json!({"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic",
               "metadata": {"name": format!("{prefix}valid-topic"), "labels": {"strimzi.io/cluster": KAFKA}},
               "spec": {"partitions": 1, "replicas": 1}}),
        json!({"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaUser",
               "metadata": {"name": format!("{prefix}valid-user"), "labels": {"strimzi.io/cluster": KAFKA}},
               "spec": {"authentication": {"type": "scram-sha-512"}, "authorization": {"type": "simple",
                        "acls": [{"resource": {"type": "topic", "name": "valid"}, "operations": ["Read"]}]}}}),
        json!({"apiVersion": "rocketmq.apache.org/v1alpha1", "kind": "NameService",
               "metadata": {"name": names}, "spec": {"size": 1}}),
        json!({"apiVersion": "rocketmq.apache.org/v1alpha1", "kind": "Broker",
               "metadata": {"name": format!("{prefix}valid")},
               "spec": {"size": 1, "nameServers": format!("{names}-0.{names}.{namespace}.svc:9876")}}),
        json!({"apiVersion": "rocketmq.apache.org/v1alpha1", "kind": "RocketMQTopic",
               "metadata": {"name": format!("{prefix}valid-topic")},
               "spec": {"clusterRef": {"name": ROCKETMQ}}}),
        json!({"apiVersion": "rocketmq.apache.org/v1alpha1", "kind": "RocketMQUser",
               "metadata": {"name": format!("{prefix}valid-rocketmq-user")},
               "spec": {"clusterRef": {"name": ROCKETMQ},
                        "acls": [{"resource": "Topic:valid", "actions": ["Pub"]}]}}),
    ]
}

async fn apply(client: &Client, namespace: &str, resource: &Value) -> Result<()> {
    testenv::apply_yaml(client, &serde_yaml::to_string(resource)?, namespace).await?;
    Ok(())
}

/// What is not Ready among the operator kinds of `resources`, once all are or the time is up.
async fn not_ready(client: &Client, namespace: &str, resources: &[Value]) -> Result<Vec<String>> {
    let deadline = Instant::now() + WAIT;
    let mut missing = Vec::new();
    for resource in resources {
        if resource["kind"] == "KafkaNodePool" {
            continue;
        }
        let api = api_of(client, namespace, resource)?;
        let name = name_of(resource);
        loop {
            let found = conditions(&api, &name).await?;
            if found.iter().any(|c| c.type_ == "Ready") {
                break;
            }
            if Instant::now() > deadline {
                missing.push(format!(
                    "{} {name} next to the hostile resources is not Ready: {}",
                    resource["kind"],
                    describe(&found)
                ));
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    Ok(missing)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_resources_get_conditions_a_person_can_act_on_while_others_reconcile() -> Result<()>
{
    record_panics();
    let table = table()?;
    let (clusters, setup) = tokio::join!(start_clusters(), setup("hostile"));
    let (clusters, (client, namespace)) = (clusters?, setup?);
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    let tls = clusters.kafka.tls().ok_or_else(|| anyhow!("no TLS"))?;
    install_clients_ca(&secrets, KAFKA, tls).await?;
    start_operators(&client, &namespace, &clusters);

    let before = valid_resources("", &namespace);
    for resource in &before {
        apply(&client, &namespace, resource).await?;
    }
    let mut report = Vec::new();
    let mut applied = Vec::new();
    'rows: for row in &table {
        for resource in &row.resources {
            if let Err(error) = apply(&client, &namespace, resource).await {
                report.push(format!("{}: refused at admission: {error:#}", row.name));
                continue 'rows;
            }
        }
        applied.push(row);
    }

    // Every row at once, until each has its condition or the time is up.
    let deadline = Instant::now() + WAIT;
    let mut pending: Vec<&Row> = applied.clone();
    let mut last: BTreeMap<String, Vec<api::Condition>> = BTreeMap::new();
    while !pending.is_empty() && Instant::now() < deadline {
        let mut still = Vec::new();
        for row in pending {
            let resource = &row.resources[0];
            let found =
                conditions(&api_of(&client, &namespace, resource)?, &name_of(resource)).await?;
            let done = match &row.expect {
                Some(expect) => meets(expect, &found),
                None => {
                    !found.is_empty()
                        && found
                            .iter()
                            .all(|c| c.reason.as_deref() != Some("Creating"))
                }
            };
            last.insert(row.name.clone(), found);
            if !done {
                still.push(row);
            }
        }
        pending = still;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    for row in applied {
        let found = &last[&row.name];
        let ok = row
            .expect
            .as_ref()
            .is_some_and(|expect| meets(expect, found));
        if !ok {
            report.push(format!(
                "{}: expected {:?}, found {}",
                row.name,
                row.expect,
                describe(found)
            ));
        }
        if let Some(dump) = found
            .iter()
            .find(|c| raw(c.message.as_deref().unwrap_or("")))
        {
            report.push(format!("{}: a raw message: {dump:?}", row.name));
        }
        if !row.absent.is_empty() {
            let present =
                present_lines(&client, &namespace, &row.resources[0], &row.absent).await?;
            if !present.is_empty() {
                report.push(format!("{}: injected lines {present:?}", row.name));
            }
        }
    }

    let after = valid_resources("late-", &namespace);
    for resource in &after {
        apply(&client, &namespace, resource).await?;
    }
    report.extend(not_ready(&client, &namespace, &before).await?);
    report.extend(not_ready(&client, &namespace, &after).await?);
    report.extend(
        PANICS
            .lock()
            .unwrap()
            .iter()
            .map(|panic| format!("a panic: {panic}")),
    );
    assert!(report.is_empty(), "{}", report.join("\n"));
    Ok(())
}
