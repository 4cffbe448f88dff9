//! Pods that run a script to its end on the real node, and return what it printed: clients that
//! produce and consume inside the cluster, probes of the pod network.

use std::time::Duration;

use anyhow::{Result, bail};
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::{Api, DeleteParams, LogParams, PostParams};

/// A client pod: `script` (run by `sh`) in `image`, with Secrets mounted read-only as
/// `(secret, directory)`.
pub struct ClientPod<'a> {
    pub name: &'a str,
    pub image: &'a str,
    pub script: String,
    pub secrets: &'a [(&'a str, &'a str)],
}

/// Runs the pod in `namespace` until it ends, and returns its output; fails with the output if
/// the script failed.
pub async fn run_pod(
    client: &Client,
    namespace: &str,
    pod: &ClientPod<'_>,
    timeout: Duration,
) -> Result<String> {
    run_pod_spec(client, namespace, pod.to_spec()?, timeout).await
}

impl ClientPod<'_> {
    /// The pod: never restarted, no privileges, the image as loaded (never pulled).
    pub fn to_spec(&self) -> Result<Pod> {
        let pod = self;
        let volumes: Vec<_> = pod
            .secrets
            .iter()
            .map(
                |(secret, _)| serde_json::json!({"name": secret, "secret": {"secretName": secret}}),
            )
            .collect();
        let mounts: Vec<_> = pod
        .secrets
        .iter()
        .map(|(secret, path)| serde_json::json!({"name": secret, "mountPath": path, "readOnly": true}))
        .collect();
        let spec: Pod = serde_json::from_value(serde_json::json!({
            "metadata": { "name": pod.name },
            "spec": {
                "restartPolicy": "Never",
                "volumes": volumes,
                "containers": [{
                    "name": "client",
                    "image": pod.image,
                    "imagePullPolicy": "Never",
                    "command": ["sh", "-c", pod.script],
                    "volumeMounts": mounts,
                    "securityContext": {
                        "allowPrivilegeEscalation": false,
                        "capabilities": { "drop": ["ALL"] }
                    }
                }]
            }
        }))?;
        Ok(spec)
    }
}

/// Runs `spec` to its end in `namespace`, like [`run_pod`].
pub async fn run_pod_spec(
    client: &Client,
    namespace: &str,
    spec: Pod,
    timeout: Duration,
) -> Result<String> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let name = &spec.metadata.name.clone().unwrap_or_default();
    pods.create(&PostParams::default(), &spec).await?;
    let deadline = tokio::time::Instant::now() + timeout;
    let phase = loop {
        let phase = pods
            .get(name)
            .await?
            .status
            .and_then(|status| status.phase)
            .unwrap_or_default();
        if phase == "Succeeded" || phase == "Failed" {
            break phase;
        }
        if tokio::time::Instant::now() > deadline {
            let logs = pods
                .logs(name, &LogParams::default())
                .await
                .unwrap_or_default();
            bail!(
                "pod {name} did not end within {timeout:?} (phase {phase:?}); its output:\n{logs}"
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let logs = pods.logs(name, &LogParams::default()).await?;
    pods.delete(name, &DeleteParams::background()).await?;
    if phase != "Succeeded" {
        bail!("pod {name} failed:\n{logs}");
    }
    Ok(logs)
}

/// What a person would look at when a test times out waiting for pods: each pod of `namespace`
/// with its phase, why it is not scheduled or not ready, each container's restarts and state,
/// and the last lines a not-ready container printed. Empty when the namespace has no pods.
pub async fn report(client: &Client, namespace: &str) -> String {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let Ok(list) = pods.list(&Default::default()).await else {
        return String::new();
    };
    let mut report = String::new();
    for pod in list {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let status = pod.status.unwrap_or_default();
        report += &format!("\npod {name}: {}", status.phase.unwrap_or_default());
        for condition in status.conditions.unwrap_or_default() {
            if condition.status != "True" {
                let why = condition.message.or(condition.reason).unwrap_or_default();
                report += &format!("; not {} {why}", condition.type_);
            }
        }
        for container in status.container_statuses.unwrap_or_default() {
            report += &format!(
                "\n  {}: ready {}, {} restarts, {}, last {}",
                container.name,
                container.ready,
                container.restart_count,
                container_state(container.state),
                container_state(container.last_state),
            );
            if !container.ready {
                let tail = LogParams {
                    container: Some(container.name),
                    tail_lines: Some(15),
                    ..LogParams::default()
                };
                let logs = pods.logs(&name, &tail).await.unwrap_or_default();
                report += &format!("\n  | {}", logs.trim_end().replace('\n', "\n  | "));
            }
        }
    }
    report
}

fn container_state(state: Option<k8s_openapi::api::core::v1::ContainerState>) -> String {
    let state = state.unwrap_or_default();
    if let Some(waiting) = state.waiting {
        format!("waiting {}", waiting.reason.unwrap_or_default())
    } else if let Some(ended) = state.terminated {
        format!(
            "terminated {} (exit {})",
            ended.reason.unwrap_or_default(),
            ended.exit_code
        )
    } else if state.running.is_some() {
        "running".into()
    } else {
        "none".into()
    }
}
