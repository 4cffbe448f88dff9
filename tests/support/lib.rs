//! What every end-to-end test needs: the shared local cluster with Brokerage's CRDs
//! installed, a client, and a namespace of its own.

use std::path::{Path, PathBuf};

use anyhow::Result;
use kube::Client;
use runtime::Metrics;
use tokio::sync::OnceCell;

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
/// its current generation, and returns it.
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
    anyhow::bail!("timed out waiting until {name} has {type_} {reason:?}; its status: {last}")
}
