//! Every Kafka spec that validates builds objects the API server accepts. Specs are generated
//! (pools, roles, storage, listeners, config, versions: valid values and near-valid ones), each
//! is rendered as the operator would, and every object it builds is applied server-side with
//! `dryRun=All` in a real API server. A spec the model refuses must say why. The seed is
//! printed, and `DRY_RUN_SEED` replays it; `DRY_RUN_CASES` sets how many specs (128 by default; `make dry-run` runs 5,000).

use anyhow::{Context as _, Result, bail};
use brokerage_e2e::setup;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kafka_operator::assembly::{Inputs, manifest, render};
use kube::api::{Api, Patch, PatchParams};
use kube::{Client, Resource};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Value, json};

fn pool() -> impl Strategy<Value = Value> {
    let roles = prop_oneof![
        6 => Just(vec!["controller", "broker"]),
        2 => Just(vec!["broker"]),
        2 => Just(vec!["controller"]),
        1 => Just(vec![]),
    ];
    let size = prop_oneof![
        4 => Just("1Gi"),
        2 => Just("100Mi"),
        1 => Just("10Ti"),
        1 => Just("0"),
        1 => Just("lots"),
    ];
    let storage = prop_oneof![
        2 => Just(json!({"type": "ephemeral"})),
        2 => (size.clone(), any::<bool>()).prop_map(|(size, delete)| json!(
            {"type": "persistent-claim", "size": size, "deleteClaim": delete})),
        1 => prop::collection::vec((0..3i32, size), 1..3).prop_map(|volumes| json!({
            "type": "jbod",
            "volumes": volumes.into_iter().map(|(id, size)| json!(
                {"id": id, "type": "persistent-claim", "size": size})).collect::<Vec<_>>()})),
    ];
    let name = prop_oneof![3 => "[a-z][a-z0-9]{0,12}", 1 => "[a-z][a-z0-9-]{0,12}"];
    (name, 0..5i32, roles, storage).prop_map(|(name, replicas, roles, storage)| {
        json!({"name": name, "replicas": replicas, "roles": roles, "storage": storage})
    })
}

fn listener() -> impl Strategy<Value = Value> {
    let kind = prop_oneof![
        4 => Just("internal"),
        2 => Just("cluster-ip"),
        2 => Just("nodeport"),
        1 => Just("loadbalancer"),
        1 => Just("route"),
    ];
    let authentication = prop_oneof![
        3 => Just(Value::Null),
        2 => Just(json!({"type": "scram-sha-512"})),
        1 => Just(json!({"type": "tls"})),
    ];
    let port = prop_oneof![4 => 9092..9200i32, 1 => 1..65535i32];
    let tls = prop::bool::weighted(0.7);
    ("[a-z0-9]{1,11}", port, kind, tls, authentication).prop_map(
        |(name, port, kind, tls, authentication)| {
            let mut listener = json!({"name": name, "port": port, "type": kind, "tls": tls});
            if !authentication.is_null() {
                listener["authentication"] = authentication;
            }
            listener
        },
    )
}

fn kafka_spec() -> impl Strategy<Value = (Value, Vec<Value>)> {
    let version = prop_oneof![
        3 => Just(Value::Null),
        2 => Just(json!("3.9.0")),
        2 => Just(json!("4.1.0")),
        2 => Just(json!("4.4.0")),
        1 => Just(json!("3.2.0")),
    ];
    let config = prop::collection::btree_map(
        prop_oneof![
            Just("num.partitions".to_string()),
            Just("log.retention.hours".to_string()),
            Just("min.insync.replicas".to_string()),
            Just("offsets.topic.replication.factor".to_string()),
            "[a-z]{1,8}\\.[a-z]{1,8}",
        ],
        prop_oneof![
            (1..5i64).prop_map(Value::from),
            "[a-z0-9]{0,8}".prop_map(Value::from)
        ],
        0..4,
    );
    let name = prop_oneof![
        Just("my-cluster".to_string()),
        "[a-z][a-z0-9-]{0,20}[a-z0-9]"
    ];
    (
        name,
        version,
        prop::collection::vec(listener(), 1..3),
        config,
        prop::collection::vec(pool(), 1..3),
    )
        .prop_map(|(name, version, listeners, config, pools)| {
            let mut kafka = json!({
                "apiVersion": "kafka.strimzi.io/v1", "kind": "Kafka",
                "metadata": {"name": name, "uid": "00000000-0000-0000-0000-000000000001",
                    "annotations": {"strimzi.io/node-pools": "enabled", "strimzi.io/kraft": "enabled"}},
                "spec": {"kafka": {"listeners": listeners, "config": config}},
            });
            if !version.is_null() {
                kafka["spec"]["kafka"]["version"] = version;
            }
            let pools = pools
                .into_iter()
                .map(|pool| {
                    json!({
                        "apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaNodePool",
                        "metadata": {"name": pool["name"], "labels": {"strimzi.io/cluster": name}},
                        "spec": {"replicas": pool["replicas"], "roles": pool["roles"],
                            "storage": pool["storage"]},
                    })
                })
                .collect();
            (kafka, pools)
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_generated_kafka_that_validates_builds_objects_the_api_server_accepts() -> Result<()>
{
    let (client, namespace) = setup("dry-run").await?;
    let seed: u64 = match std::env::var("DRY_RUN_SEED") {
        Ok(seed) => seed.parse().context("DRY_RUN_SEED is a number")?,
        Err(_) => rand_seed(),
    };
    let cases: usize = std::env::var("DRY_RUN_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(128);
    eprintln!("dry run: {cases} generated Kafkas, DRY_RUN_SEED={seed}");
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let strategy = kafka_spec();
    let (mut valid, mut objects) = (0, 0);
    for case in 0..cases {
        let (kafka, pools) = strategy
            .new_tree(&mut runner)
            .map_err(|reason| anyhow::anyhow!("{reason}"))?
            .current();
        let yaml = std::iter::once(&kafka)
            .chain(&pools)
            .map(serde_yaml::to_string)
            .collect::<Result<Vec<_>, _>>()?
            .join("---\n");
        let replay = || format!("case {case} of DRY_RUN_SEED={seed}:\n{yaml}");
        let (kafka, pools) = manifest::read(&yaml, &namespace).with_context(replay)?;
        let inputs = Inputs {
            new_cluster_id: "dry-run-cluster-id-000".into(),
            ..Inputs::default()
        };
        match render(&kafka, &pools, &inputs) {
            Err(invalid) => {
                if invalid.to_string().trim().is_empty() {
                    bail!("a refused spec says nothing: {}", replay());
                }
            }
            Ok((_, desired)) => {
                valid += 1;
                for object in desired.to_json() {
                    dry_run(&client, &namespace, object)
                        .await
                        .with_context(replay)?;
                    objects += 1;
                }
            }
        }
    }
    eprintln!("dry run: {valid} of {cases} valid; {objects} objects accepted");
    if valid == 0 {
        bail!("no generated spec was valid: the test would check nothing");
    }
    Ok(())
}

/// Applies `object` server-side with `dryRun=All`: the API server validates and admits it
/// without storing it.
async fn dry_run(client: &Client, namespace: &str, object: Value) -> Result<()> {
    let kind = object["kind"].as_str().unwrap_or_default().to_string();
    match kind.as_str() {
        "NetworkPolicy" => apply::<NetworkPolicy>(client, namespace, object).await,
        "ServiceAccount" => apply::<ServiceAccount>(client, namespace, object).await,
        "Service" => apply::<Service>(client, namespace, object).await,
        "ConfigMap" => apply::<ConfigMap>(client, namespace, object).await,
        "PodDisruptionBudget" => apply::<PodDisruptionBudget>(client, namespace, object).await,
        "StatefulSet" => apply::<StatefulSet>(client, namespace, object).await,
        other => bail!("a built object of a kind this test does not know: {other}"),
    }
}

async fn apply<K>(client: &Client, namespace: &str, object: Value) -> Result<()>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>,
    K: Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    let name = object["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    let params = PatchParams::apply("dry-run-test").dry_run();
    api.patch(&name, &params, &Patch::Apply(&object))
        .await
        .with_context(|| format!("the API server refused {} {name}", object["kind"]))?;
    Ok(())
}

fn rand_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as u64)
}
