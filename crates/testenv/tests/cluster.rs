//! Proof that the local cluster is a working Kubernetes: scheduling and kwok make pods Ready,
//! the garbage collector follows owner references, StatefulSets roll out in order.

use std::time::Duration;

use anyhow::Result;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::runtime::watcher::{self, Event};
use kube::{Client, ResourceExt};
use serde_json::json;

/// How long the cluster may take to do what a test waits for.
const WAIT: Duration = Duration::from_secs(60);

async fn setup(prefix: &str) -> Result<(Client, String)> {
    let client = testenv::shared().await.client().await?;
    let namespace = testenv::fresh_namespace(&client, prefix).await?;
    Ok((client, namespace))
}

fn pod_template(app: &str) -> serde_json::Value {
    json!({
        "metadata": {"labels": {"app": app}},
        "spec": {"containers": [{"name": "main", "image": "registry.invalid/nothing:1"}]}
    })
}

#[tokio::test]
async fn apiserver_reports_the_pinned_version() -> Result<()> {
    let client = testenv::shared().await.client().await?;
    let version = client.apiserver_version().await?;
    assert_eq!(version.git_version, testenv::tools::KUBERNETES_VERSION);
    Ok(())
}

#[tokio::test]
async fn deployment_pods_are_scheduled_and_become_ready() -> Result<()> {
    let (client, namespace) = setup("deployment").await?;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &namespace);
    let deployment: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": pod_template("web")}
    }))?;
    deployments
        .create(&PostParams::default(), &deployment)
        .await?;
    testenv::eventually("the Deployment has 3 ready replicas", WAIT, || async {
        let status = deployments.get("web").await?.status.unwrap_or_default();
        Ok(status.ready_replicas == Some(3))
    })
    .await?;

    let pods: Api<Pod> = Api::namespaced(client, &namespace);
    let pods = pods.list(&ListParams::default().labels("app=web")).await?;
    assert_eq!(pods.items.len(), 3);
    for pod in &pods.items {
        let node = pod.spec.as_ref().and_then(|spec| spec.node_name.clone());
        assert!(
            node.is_some_and(|node| node.starts_with("kwok-node-")),
            "{} not scheduled on a kwok node",
            pod.name_any()
        );
        let status = pod.status.clone().unwrap_or_default();
        assert_eq!(status.phase.as_deref(), Some("Running"));
        assert!(status.pod_ip.is_some(), "{} has no pod IP", pod.name_any());
    }
    Ok(())
}

#[tokio::test]
async fn garbage_collector_removes_dependents_of_a_deleted_owner() -> Result<()> {
    let (client, namespace) = setup("gc").await?;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &namespace);
    let replica_sets: Api<ReplicaSet> = Api::namespaced(client.clone(), &namespace);
    let pods: Api<Pod> = Api::namespaced(client, &namespace);
    let deployment: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "owner"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "owner"}}, "template": pod_template("owner")}
    }))?;
    deployments
        .create(&PostParams::default(), &deployment)
        .await?;
    testenv::eventually("the Deployment's pods exist", WAIT, || async {
        Ok(pods.list(&ListParams::default()).await?.items.len() == 2)
    })
    .await?;
    assert_eq!(
        replica_sets.list(&ListParams::default()).await?.items.len(),
        1
    );

    // Background propagation: the owner goes at once, the collector removes the rest.
    deployments
        .delete("owner", &DeleteParams::background())
        .await?;
    testenv::eventually(
        "the ReplicaSet and its pods are collected",
        WAIT,
        || async {
            let sets = replica_sets.list(&ListParams::default()).await?.items.len();
            let remaining = pods.list(&ListParams::default()).await?.items.len();
            Ok(sets == 0 && remaining == 0)
        },
    )
    .await
}

#[tokio::test]
async fn statefulset_creates_its_pods_in_order() -> Result<()> {
    let (client, namespace) = setup("statefulset").await?;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let mut creations = watcher::watcher(pods, watcher::Config::default()).boxed();
    let sets: Api<StatefulSet> = Api::namespaced(client, &namespace);
    let set: StatefulSet = serde_json::from_value(json!({
        "metadata": {"name": "db"},
        "spec": {
            "replicas": 3, "serviceName": "db", "podManagementPolicy": "OrderedReady",
            "selector": {"matchLabels": {"app": "db"}}, "template": pod_template("db")
        }
    }))?;
    sets.create(&PostParams::default(), &set).await?;

    // Watch events arrive in resourceVersion order, so when a pod first appears we know
    // whether its predecessor had already become Ready: OrderedReady demands it.
    let mut order: Vec<String> = Vec::new();
    let mut ready: Vec<String> = Vec::new();
    let watched = tokio::time::timeout(Duration::from_secs(60), async {
        while ready.len() < 3 {
            let Some(Event::Apply(pod)) = creations.try_next().await? else {
                continue;
            };
            let name = pod.name_any();
            if !order.contains(&name) {
                if let Some(previous) = order.last() {
                    assert!(
                        ready.contains(previous),
                        "{name} was created before {previous} was Ready"
                    );
                }
                order.push(name.clone());
            }
            if is_ready(&pod) && !ready.contains(&name) {
                ready.push(name);
            }
        }
        anyhow::Ok(())
    })
    .await;
    watched??;
    assert_eq!(order, ["db-0", "db-1", "db-2"]);
    Ok(())
}

fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|status| status.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True")
        })
}

#[tokio::test]
async fn a_statefulset_with_volume_claims_gets_bound_volumes() -> Result<()> {
    let (client, namespace) = setup("storage").await?;
    let sets: Api<StatefulSet> = Api::namespaced(client.clone(), &namespace);
    let set: StatefulSet = serde_json::from_value(json!({
        "metadata": {"name": "data"},
        "spec": {
            "replicas": 2, "serviceName": "data", "podManagementPolicy": "Parallel",
            "selector": {"matchLabels": {"app": "data"}}, "template": pod_template("data"),
            "volumeClaimTemplates": [{"metadata": {"name": "disk"}, "spec": {
                "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]
        }
    }))?;
    sets.create(&PostParams::default(), &set).await?;
    testenv::eventually("both pods are Ready on bound claims", WAIT, || async {
        let status = sets.get("data").await?.status.unwrap_or_default();
        Ok(status.ready_replicas == Some(2))
    })
    .await?;
    let claims: Api<k8s_openapi::api::core::v1::PersistentVolumeClaim> =
        Api::namespaced(client, &namespace);
    for claim in claims.list(&ListParams::default()).await? {
        assert_eq!(claim.status.and_then(|s| s.phase).as_deref(), Some("Bound"));
        assert_eq!(
            claim.spec.and_then(|s| s.storage_class_name).as_deref(),
            Some("standard")
        );
    }
    Ok(())
}
