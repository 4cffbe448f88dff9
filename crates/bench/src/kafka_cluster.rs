//! The Kafka cluster operator, run as the real binary: how fast a 3-controller + 3-broker Kafka
//! gets every object and becomes Ready, what a reconcile with nothing to do writes, and the
//! operator's memory while it manages 50 clusters, alone and next to 30,000 objects not its own.

use std::fmt::Debug;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use api::kafka::Kafka;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::Figure;
use crate::resources;
use testenv::operator::Operator;

/// The Kafka in `examples/kafka/persistent-dual-pool.yaml` and its two pools.
const DUAL_POOL_CLUSTER: &str = "persistent-cluster";
const DUAL_POOLS: [&str; 2] = ["controller", "broker"];
const MANY_CLUSTERS: usize = 50;
/// The prefixes of the namespaces of the 50 clusters and of the objects not the operator's.
pub const MANY_CLUSTERS_NAMESPACE: &str = "bench-many";
pub const UNRELATED_NAMESPACE: &str = "bench-unrelated";
/// How many times the Kafka is touched to measure a reconcile that has nothing to do.
const TOUCHES: usize = 3;
/// No reconcile for this long means the operator has settled.
const QUIET: Duration = Duration::from_secs(2);
const TIMEOUT: Duration = Duration::from_secs(300);

const RECONCILIATIONS: &str = "brokerage_reconciliations_total{kind=\"Kafka\"}";
/// The applier's writes: child objects applied or deleted, pods annotated or deleted. Status
/// writes are not counted in it, so they are detected from the Kafka's resourceVersion.
const API_WRITES: &str = "brokerage_api_writes_total{kind=\"Kafka\"}";

pub async fn run(cluster: &testenv::Cluster, out: &Path) -> Result<Vec<Figure>> {
    let client = cluster.client().await?;
    let operator = Operator::start(cluster.kubeconfig(), &out.join("operator.log"), &[]).await?;

    let namespace = testenv::fresh_namespace(&client, "bench-kafka").await?;
    let kafkas: Api<Kafka> = Api::namespaced(client.clone(), &namespace);
    let began = Instant::now();
    testenv::apply_yaml(&client, &example("persistent-dual-pool.yaml")?, &namespace).await?;
    operator
        .poll(
            "every object of the Kafka exists",
            Duration::from_millis(20),
            || all_objects_exist(&client, &namespace),
        )
        .await?;
    let objects_written = began.elapsed();
    operator
        .poll("the Kafka is Ready", Duration::from_millis(20), || async {
            Ok(is_ready(&kafkas.get(DUAL_POOL_CLUSTER).await?))
        })
        .await?;
    let ready = began.elapsed();
    let noop_writes = noop_reconcile_writes(&operator, &kafkas).await?;

    let (many_ready, resident) = manage_many_clusters(&client, &operator).await?;
    let with_unrelated = add_unrelated_objects(&client, &operator).await?;

    Ok(vec![
        Figure {
            name: "kafka_objects_written",
            value: objects_written.as_secs_f64(),
            unit: "s",
        },
        Figure {
            name: "kafka_ready",
            value: ready.as_secs_f64(),
            unit: "s",
        },
        Figure {
            name: "noop_reconcile_writes",
            value: noop_writes,
            unit: "writes",
        },
        Figure {
            name: "kafka_50_ready",
            value: many_ready.as_secs_f64(),
            unit: "s",
        },
        Figure {
            name: "operator_rss_50_clusters",
            value: resident,
            unit: "MiB",
        },
        Figure {
            name: "operator_rss_50_clusters_with_unrelated_objects",
            value: with_unrelated,
            unit: "MiB",
        },
    ])
}

/// Adds, next to the 50 clusters, 10,000 each of Secrets, ConfigMaps and pods that are not the
/// operator's (the pods never scheduled: only their objects matter), waits a few seconds and
/// returns the operator's resident memory: its watches select its own objects by label, so it
/// should not grow.
pub async fn add_unrelated_objects(client: &Client, operator: &Operator) -> Result<f64> {
    const UNRELATED: usize = 10_000;
    let namespace = testenv::fresh_namespace(client, UNRELATED_NAMESPACE).await?;
    let data = "x".repeat(512);
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    resources::create_all(
        &secrets,
        (0..UNRELATED).map(|index| {
            json!({"metadata": {"name": format!("unrelated-{index}")}, "stringData": {"data": data}})
        }),
    )
    .await?;
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    resources::create_all(
        &config_maps,
        (0..UNRELATED).map(|index| {
            json!({"metadata": {"name": format!("unrelated-{index}")}, "data": {"data": data}})
        }),
    )
    .await?;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    resources::create_all(
        &pods,
        (0..UNRELATED).map(|index| {
            json!({"metadata": {"name": format!("unrelated-{index}")},
                "spec": {"schedulerName": "unscheduled",
                    "containers": [{"name": "app", "image": "unrelated:1"}]}})
        }),
    )
    .await?;
    tokio::time::sleep(QUIET * 5).await;
    operator.check_running()?;
    operator.resident_mib()
}

/// Writes per reconcile of the Ready dual-pool Kafka when nothing changed. An annotation
/// triggers each reconcile without changing what the Kafka asks for.
async fn noop_reconcile_writes(operator: &Operator, kafkas: &Api<Kafka>) -> Result<f64> {
    wait_quiet(operator).await?;
    let reconciles_before = operator.counter(RECONCILIATIONS).await?;
    let applier_writes_before = operator.counter(API_WRITES).await?;
    let mut status_writes = 0;
    for touch in 1..=TOUCHES {
        let reconciled = operator.counter(RECONCILIATIONS).await?;
        let patch = json!({"metadata": {"annotations": {"bench/touch": touch.to_string()}}});
        let touched = kafkas
            .patch(
                DUAL_POOL_CLUSTER,
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await?;
        operator
            .poll(
                "the touched Kafka is reconciled",
                Duration::from_millis(20),
                || async { Ok(operator.counter(RECONCILIATIONS).await? > reconciled) },
            )
            .await?;
        wait_quiet(operator).await?;
        if kafkas.get(DUAL_POOL_CLUSTER).await?.resource_version() != touched.resource_version() {
            status_writes += 1;
        }
    }
    let reconciles = operator.counter(RECONCILIATIONS).await? - reconciles_before;
    let applier_writes = operator.counter(API_WRITES).await? - applier_writes_before;
    Ok((applier_writes + f64::from(status_writes)) / reconciles)
}

/// Creates 50 single-node Kafkas, waits until all are Ready, and returns how long that took and
/// the operator's resident memory then.
pub async fn manage_many_clusters(client: &Client, operator: &Operator) -> Result<(Duration, f64)> {
    let namespace = testenv::fresh_namespace(client, MANY_CLUSTERS_NAMESPACE).await?;
    let template = example("ephemeral-single-node.yaml")?;
    let began = Instant::now();
    for index in 0..MANY_CLUSTERS {
        // Pools share the namespace, so each needs its own name; the pool's
        // `strimzi.io/cluster` label follows the Kafka's name.
        let yaml = template
            .replace("my-cluster", &format!("my-cluster-{index}"))
            .replace("name: dual-role", &format!("name: dual-role-{index}"));
        testenv::apply_yaml(client, &yaml, &namespace).await?;
    }
    let kafkas: Api<Kafka> = Api::namespaced(client.clone(), &namespace);
    operator
        .poll(
            "all 50 Kafkas are Ready",
            Duration::from_millis(100),
            || async {
                let list = kafkas.list(&ListParams::default()).await?;
                Ok(list.items.iter().filter(|kafka| is_ready(kafka)).count() == MANY_CLUSTERS)
            },
        )
        .await?;
    Ok((began.elapsed(), operator.resident_mib()?))
}

/// Every object the operator writes for the dual-pool Kafka, named as Strimzi names them.
async fn all_objects_exist(client: &Client, namespace: &str) -> Result<bool> {
    let named = |suffix: &str| format!("{DUAL_POOL_CLUSTER}-{suffix}");
    for pool in DUAL_POOLS {
        if !exists::<StatefulSet>(client, namespace, &named(pool)).await?
            || !exists::<ConfigMap>(client, namespace, &named(pool)).await?
        {
            return Ok(false);
        }
    }
    Ok(
        exists::<Service>(client, namespace, &named("kafka-bootstrap")).await?
            && exists::<Service>(client, namespace, &named("kafka-brokers")).await?
            && exists::<PodDisruptionBudget>(client, namespace, &named("kafka")).await?
            && exists::<NetworkPolicy>(client, namespace, &named("network-policy-kafka")).await?
            && exists::<ServiceAccount>(client, namespace, &named("kafka")).await?,
    )
}

async fn exists<K>(client: &Client, namespace: &str, name: &str) -> Result<bool>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>,
    K: DeserializeOwned + Clone + Debug,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    Ok(api.get_opt(name).await?.is_some())
}

/// Whether the Kafka is Ready for its current generation.
fn is_ready(kafka: &Kafka) -> bool {
    let status = kafka.status.as_ref();
    let conditions = status.and_then(|status| status.conditions.as_deref());
    let observed = status.and_then(|status| status.observed_generation);
    resources::is_ready(conditions, observed, kafka.metadata.generation)
}

fn example(name: &str) -> Result<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/kafka")
        .join(name);
    Ok(std::fs::read_to_string(path)?)
}

/// Waits until no Kafka reconcile ran for `QUIET`, so that every reconcile a change caused
/// (including those caused by its own writes) is counted.
async fn wait_quiet(operator: &Operator) -> Result<()> {
    let deadline = Instant::now() + TIMEOUT;
    let mut last = operator.counter(RECONCILIATIONS).await?;
    loop {
        tokio::time::sleep(QUIET).await;
        let now = operator.counter(RECONCILIATIONS).await?;
        if now == last {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the operator kept reconciling the Kafka for {TIMEOUT:?}");
        }
        last = now;
    }
}
