//! One cluster per test binary, and a fresh namespace per test.

use std::time::Duration;

use anyhow::{Result, bail};
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::api::{Api, ObjectMeta, PostParams};
use kube::{Client, ResourceExt};
use tokio::sync::OnceCell;

use crate::Cluster;

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
/// without which pods cannot be admitted.
pub async fn fresh_namespace(client: &Client, prefix: &str) -> Result<String> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let namespace = Namespace {
        metadata: ObjectMeta {
            generate_name: Some(format!("{prefix}-")),
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
