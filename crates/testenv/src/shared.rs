//! One cluster per test binary, and a fresh namespace per test.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Result, bail};
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::api::{Api, ObjectMeta, PostParams};
use kube::{Client, ResourceExt};
use tokio::sync::OnceCell;

use crate::Cluster;
use crate::node::{NODE_LABEL, NODE_TAINT};

/// The cluster shared by every test in this binary, started on first use. Its processes
/// end with the binary, however it exits.
pub async fn shared() -> &'static Cluster {
    static SHARED: OnceCell<Result<Cluster, String>> = OnceCell::const_new();
    let started = SHARED
        .get_or_init(|| async { Cluster::start().await.map_err(|error| format!("{error:#}")) })
        .await;
    match started {
        Ok(cluster) => cluster,
        Err(error) => panic!("the local Kubernetes cluster did not start: {error}"),
    }
}

/// Creates a namespace with a generated name and waits for its default ServiceAccount,
/// without which pods cannot be admitted. Its pods go to kwok's simulated nodes.
pub async fn fresh_namespace(client: &Client, prefix: &str) -> Result<String> {
    create_namespace(client, prefix, BTreeMap::new()).await
}

/// Like [`fresh_namespace`], but every pod of this namespace runs on the real node, and only
/// there: the namespace's annotations give its pods the node's label as a node selector and a
/// toleration of its taint (admission plugins PodNodeSelector and PodTolerationRestriction).
/// Waits for `cluster`'s real node to be Ready first.
pub async fn fresh_namespace_on_real_node(cluster: &Cluster, prefix: &str) -> Result<String> {
    cluster.wait_real_node().await?;
    create_namespace(&cluster.client().await?, prefix, real_node_annotations()).await
}

/// The annotations that steer a namespace's pods to the real node.
pub fn real_node_annotations() -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "scheduler.alpha.kubernetes.io/node-selector".to_string(),
            format!("{NODE_LABEL}=real"),
        ),
        (
            "scheduler.alpha.kubernetes.io/defaultTolerations".to_string(),
            serde_json::json!([{"key": NODE_TAINT, "operator": "Exists", "effect": "NoSchedule"}])
                .to_string(),
        ),
    ])
}

async fn create_namespace(
    client: &Client,
    prefix: &str,
    annotations: BTreeMap<String, String>,
) -> Result<String> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let namespace = Namespace {
        metadata: ObjectMeta {
            generate_name: Some(format!("{prefix}-")),
            annotations: Some(annotations),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    let name = namespaces
        .create(&PostParams::default(), &namespace)
        .await?
        .name_any();
    let service_accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), &name);
    for _ in 0..300 {
        if service_accounts.get_opt("default").await?.is_some() {
            return Ok(name);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("namespace {name} got no default ServiceAccount")
}
