//! The real node: how long Kafka and RocketMQ clusters take to be Ready when their pods really
//! run, how long a rolling restart takes per broker, and the memory of the node's own processes
//! and of the operator's pod. The operator runs as installed (`install/`, in its pod, from the
//! release binary); it is removed again before the other benchmarks start operators of their own.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;
use api::kafka::Kafka;
use api::rocketmq::{Broker, NameService, Proxy};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Figure;
use crate::{resources, rocketmq_failover};
use testenv::operator::resident_mib;

pub const TIMEOUT: Duration = Duration::from_secs(900);
/// The broker pool of `tests/fixtures/real-kafka-pools.yaml`.
const POOLS_BROKERS: &str = "strimzi.io/cluster=pools,strimzi.io/pool-name=broker";

pub async fn run(cluster: &testenv::Cluster) -> Result<Vec<Figure>> {
    let client = cluster.client().await?;
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    testenv::install_operator(
        cluster,
        &testenv::built_operator("release"),
        &repo.join("install"),
    )
    .await?;
    let namespace = testenv::fresh_namespace_on_real_node(cluster, "bench-real").await?;
    let apply = |file: &str| {
        let (client, namespace) = (client.clone(), namespace.clone());
        let yaml = std::fs::read_to_string(repo.join(file));
        async move { testenv::apply_yaml(&client, &yaml?, &namespace).await }
    };
    let kafkas: Api<Kafka> = Api::namespaced(client.clone(), &namespace);

    let began = Instant::now();
    apply("examples/kafka/ephemeral-single-node.yaml").await?;
    wait_ready(&kafkas, "my-cluster").await?;
    let single_node = began.elapsed();

    let began = Instant::now();
    apply("tests/fixtures/real-kafka-pools.yaml").await?;
    wait_ready(&kafkas, "pools").await?;
    let three_brokers = began.elapsed();

    let began = Instant::now();
    apply("examples/rocketmq/name-service.yaml").await?;
    apply("examples/rocketmq/broker.yaml").await?;
    let name_services: Api<NameService> = Api::namespaced(client.clone(), &namespace);
    let brokers: Api<Broker> = Api::namespaced(client.clone(), &namespace);
    wait_ready(&name_services, "name-service").await?;
    wait_ready(&brokers, "broker").await?;
    let rocketmq = began.elapsed();

    let began = Instant::now();
    apply("examples/rocketmq/proxy.yaml").await?;
    wait_ready(
        &Api::<Proxy>::namespaced(client.clone(), &namespace),
        "proxy",
    )
    .await?;
    let proxy = began.elapsed();

    let roll = roll_brokers(&client, &namespace).await?;
    let node = cluster.real_node_processes();
    let rss = |name: &str| {
        node.iter()
            .find(|(process, _)| process == name)
            .map_or(Ok(0.0), |(_, pid)| resident_mib(*pid))
    };
    let mut figures = vec![
        figure(
            "real_kafka_single_node_ready",
            single_node.as_secs_f64(),
            "s",
        ),
        figure(
            "real_kafka_3_brokers_ready",
            three_brokers.as_secs_f64(),
            "s",
        ),
        figure("real_rocketmq_ready", rocketmq.as_secs_f64(), "s"),
        figure("real_rocketmq_proxy_ready", proxy.as_secs_f64(), "s"),
        figure("real_kafka_roll_per_broker", roll.as_secs_f64() / 3.0, "s"),
        figure("real_node_rss_kubelet", rss("kubelet")?, "MiB"),
        figure("real_node_rss_containerd", rss("containerd")?, "MiB"),
        figure("real_node_rss_kube_proxy", rss("kube-proxy")?, "MiB"),
        figure("real_node_rss_coredns", rss("coredns")?, "MiB"),
    ];
    figures.push(figure("operator_pod_rss", operator_pod_mib()?, "MiB"));
    // Controller mode in a namespace of its own, once the clusters above freed the node.
    delete_namespace(&client, &namespace).await?;
    let namespace = testenv::fresh_namespace_on_real_node(cluster, "bench-real-failover").await?;
    let failover = rocketmq_failover::master_failover(&client, &namespace, &repo).await?;
    figures.push(figure("real_rocketmq_master_failover", failover, "s"));
    remove_operator(&client, &namespace).await?;
    Ok(figures)
}

/// Restarts the three brokers with `strimzi.io/manual-rolling-update`, and returns how long it
/// took until every one of them ran again, Ready.
async fn roll_brokers(client: &Client, namespace: &str) -> Result<Duration> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let uids = |list: Vec<Pod>| -> Vec<String> { list.iter().filter_map(|p| p.uid()).collect() };
    let before = uids(
        pods.list(&ListParams::default().labels(POOLS_BROKERS))
            .await?
            .items,
    );
    let statefulsets: Api<StatefulSet> = Api::namespaced(client.clone(), namespace);
    let annotate = serde_json::json!({"metadata": {"annotations": {"strimzi.io/manual-rolling-update": "true"}}});
    let began = Instant::now();
    statefulsets
        .patch(
            "pools-broker",
            &PatchParams::default(),
            &Patch::Merge(&annotate),
        )
        .await?;
    testenv::eventually("the brokers restarted", TIMEOUT, || async {
        let now = pods
            .list(&ListParams::default().labels(POOLS_BROKERS))
            .await?
            .items;
        Ok(now.len() == 3
            && now.iter().all(|pod| {
                runtime::pods::is_ready(pod) && pod.uid().is_some_and(|uid| !before.contains(&uid))
            }))
    })
    .await?;
    Ok(began.elapsed())
}

/// Deletes `namespace` and waits until its pods are gone.
async fn delete_namespace(client: &Client, namespace: &str) -> Result<()> {
    Api::<Namespace>::all(client.clone())
        .delete(namespace, &DeleteParams::default())
        .await?;
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    testenv::eventually(
        &format!("the pods of {namespace} are gone"),
        TIMEOUT,
        || async { Ok(pods.list(&ListParams::default()).await?.items.is_empty()) },
    )
    .await
}

/// Deletes the benchmark's namespace and the operator's Deployment, and waits until the
/// operator's pods are gone, so that only the next benchmarks' own operators act.
async fn remove_operator(client: &Client, namespace: &str) -> Result<()> {
    delete_namespace(client, namespace).await?;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), testenv::OPERATOR_NAMESPACE);
    deployments
        .delete("brokerage-operator", &DeleteParams::default())
        .await?;
    let pods: Api<Pod> = Api::namespaced(client.clone(), testenv::OPERATOR_NAMESPACE);
    testenv::eventually("the operator's pods are gone", TIMEOUT, || async {
        Ok(pods.list(&ListParams::default()).await?.items.is_empty())
    })
    .await
}

/// Waits until the object `name` says Ready for its current generation.
pub async fn wait_ready<K>(api: &Api<K>, name: &str) -> Result<()>
where
    K: Resource + Clone + std::fmt::Debug + DeserializeOwned + Serialize,
{
    testenv::eventually(&format!("{name} is Ready"), TIMEOUT, || async {
        Ok(api
            .get_opt(name)
            .await?
            .is_some_and(|object| resources::is_object_ready(&object)))
    })
    .await
}

/// The resident memory of the operator's leader (the larger of its two pods' processes), found
/// by command line: the pods' processes are processes of this machine.
fn operator_pod_mib() -> Result<f64> {
    let mut largest: f64 = 0.0;
    for entry in std::fs::read_dir("/proc")? {
        let Ok(pid) = entry?.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if cmdline.starts_with(b"/brokerage\0run") {
            largest = largest.max(resident_mib(pid).unwrap_or(0.0));
        }
    }
    Ok(largest)
}

fn figure(name: &'static str, value: f64, unit: &'static str) -> Figure {
    Figure { name, value, unit }
}
