//! What every end-to-end test needs: the shared local cluster with Brokerage's CRDs
//! installed, a client, and a namespace of its own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kafka_client::{AdminClient, ConfigResource, ConfigSource, KafkaError};
use kube::api::{ObjectMeta, PostParams};
use kube::{Api, Client};
use runtime::Metrics;
use testenv::kafka::{KafkaOptions, Listener};
use tokio::sync::OnceCell;

pub mod operators;
pub mod real_pods;

/// The repository root, for `install/` and `examples/`.
pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

/// A client for the shared cluster, on which the checked-in CRDs from `install/crds/` are
/// installed and Established (once per test binary), and a fresh namespace.
pub async fn setup(prefix: &str) -> Result<(Client, String)> {
    static CRDS: OnceCell<Vec<String>> = OnceCell::const_new();
    let client = testenv::shared().await.client().await?;
    CRDS.get_or_try_init(|| install_crds(&client)).await?;
    let namespace = testenv::fresh_namespace(&client, prefix).await?;
    Ok((client, namespace))
}

/// Applies every file in `install/crds/` and waits until each CRD is Established.
pub async fn install_crds(client: &Client) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo_path("install/crds"))?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    for file in files {
        let applied =
            testenv::apply_yaml(client, &std::fs::read_to_string(&file)?, "default").await?;
        names.extend(applied.into_iter().filter_map(|crd| crd.metadata.name));
    }
    testenv::wait_established(client, &names).await?;
    Ok(names)
}

/// How the in-process operators open connections: cluster-internal names are asked of the local
/// cluster's DNS, never of this machine's resolver, which would send them off the machine.
pub fn connector() -> runtime::dns::Connector {
    runtime::dns::Connector::new(Some(testenv::node::cluster_dns()))
        .expect("a resolver for the local cluster's DNS")
}

/// The value of a counter in the operator's Prometheus text, e.g.
/// `brokerage_reconciliations_total{kind="Kafka"}`; zero before it is first recorded.
pub fn counter(metrics: &Metrics, series: &str) -> f64 {
    metrics
        .render()
        .lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}

/// Waits until the resource `name` has a condition of `type_` with `reason` (`None`: none) for
/// its current generation, and returns it; on timeout, fails with its status and a report of its
/// namespace's pods.
pub async fn wait_condition<K>(
    api: &kube::Api<K>,
    name: &str,
    type_: &str,
    reason: Option<&str>,
    timeout: std::time::Duration,
) -> Result<api::Condition>
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::Serialize + serde::de::DeserializeOwned,
{
    let deadline = std::time::Instant::now() + timeout;
    let mut last = serde_json::Value::Null;
    while std::time::Instant::now() < deadline {
        let object = serde_json::to_value(api.get(name).await?)?;
        let current =
            object.pointer("/status/observedGeneration") == object.pointer("/metadata/generation");
        let conditions: Vec<api::Condition> = object
            .pointer("/status/conditions")
            .map(|found| serde_json::from_value(found.clone()))
            .transpose()?
            .unwrap_or_default();
        if let Some(found) = conditions
            .into_iter()
            .find(|c| current && c.type_ == type_ && c.reason.as_deref() == reason)
        {
            return Ok(found);
        }
        last = object.pointer("/status").cloned().unwrap_or_default();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let pods = match api.namespace() {
        Some(namespace) => testenv::pods::report(&api.clone().into_client(), namespace).await,
        None => String::new(),
    };
    anyhow::bail!("timed out waiting until {name} has {type_} {reason:?}; its status: {last}{pods}")
}

/// Waits until the resource `name` is Ready for its current generation.
pub async fn wait_ready<K>(
    api: &kube::Api<K>,
    name: &str,
    timeout: std::time::Duration,
) -> Result<()>
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::Serialize + serde::de::DeserializeOwned,
{
    wait_condition(api, name, "Ready", None, timeout)
        .await
        .map(|_| ())
}

/// Makes `tls`'s CA the clients CA of the Kafka `cluster` in the namespace of `secrets`, as the
/// cluster operator would have stored its own, so the user operator issues certificates that
/// the real Kafka's mutual-TLS listener trusts.
pub async fn install_clients_ca(
    secrets: &Api<Secret>,
    cluster: &str,
    tls: &testenv::kafka::KafkaTls,
) -> Result<()> {
    for (name, key, value) in [
        (format!("{cluster}-clients-ca"), "ca.key", &tls.ca_key_pem),
        (format!("{cluster}-clients-ca-cert"), "ca.crt", &tls.ca_pem),
    ] {
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(name),
                ..ObjectMeta::default()
            },
            data: Some([(key.to_string(), ByteString(value.clone().into_bytes()))].into()),
            ..Secret::default()
        };
        secrets.create(&PostParams::default(), &secret).await?;
    }
    Ok(())
}

/// A Kafka with SCRAM and mutual-TLS listeners and the ACL authorizer, whose plain listener (the
/// operator's in these tests) is a super user: what the topic and user operators meet.
pub fn secured_kafka_options() -> KafkaOptions {
    KafkaOptions {
        listeners: vec![Listener::Scram, Listener::MutualTls],
        config: BTreeMap::from([
            (
                "authorizer.class.name".into(),
                "org.apache.kafka.metadata.authorizer.StandardAuthorizer".into(),
            ),
            ("super.users".into(), "User:ANONYMOUS".into()),
        ]),
        ..KafkaOptions::default()
    }
}

/// A topic's partition count and its topic-level config in Kafka, `None` when it does not
/// exist.
pub async fn topic_in_kafka(
    admin: &AdminClient,
    topic: &str,
) -> Result<Option<(usize, BTreeMap<String, String>)>> {
    let described = admin.describe_topics(&[topic.to_string()]).await?;
    let partitions = match described.get(topic) {
        Some(Ok(description)) => description.partitions.len(),
        Some(Err(error)) if error.code == KafkaError::UNKNOWN_TOPIC_OR_PARTITION => {
            return Ok(None);
        }
        other => anyhow::bail!("describing {topic}: {other:?}"),
    };
    let resource = ConfigResource::Topic(topic.to_string());
    let configs = admin
        .describe_configs(std::slice::from_ref(&resource))
        .await?;
    let entries = configs[&resource]
        .clone()
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    let config = entries
        .into_iter()
        .filter(|entry| entry.source == ConfigSource::DynamicTopic)
        .filter_map(|entry| Some((entry.name, entry.value?)))
        .collect();
    Ok(Some((partitions, config)))
}
