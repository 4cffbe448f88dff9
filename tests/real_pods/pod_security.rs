//! The pods the operator creates run under the `restricted` Pod Security Standard: the tests
//! label their namespace to enforce it, so admission itself refuses any pod that is not, and
//! check the running pods for what admission does not require (a read-only root filesystem, no
//! service-account token).

use anyhow::{Context, Result, ensure};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::{Client, ResourceExt};

const ENFORCE: &str = "pod-security.kubernetes.io/enforce";

/// Makes admission refuse pods in `namespace` that are not `restricted` (or stops, for the
/// tests' own client pods, which are not).
pub async fn enforce_restricted(client: &Client, namespace: &str, enforce: bool) -> Result<()> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let value = if enforce {
        serde_json::json!("restricted")
    } else {
        serde_json::Value::Null
    };
    let patch = serde_json::json!({"metadata": {"labels": {ENFORCE: value}}});
    namespaces
        .patch(namespace, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .with_context(|| format!("labelling the namespace {namespace}"))?;
    Ok(())
}

/// Every pod labelled `strimzi.io/cluster=<cluster>` in `namespace` runs as a non-root user, with
/// no capabilities, no privilege escalation, the default seccomp profile, a read-only root
/// filesystem and no service-account token.
pub async fn ensure_restricted_pods(client: &Client, namespace: &str, cluster: &str) -> Result<()> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let list = pods
        .list(&ListParams::default().labels(&format!("strimzi.io/cluster={cluster}")))
        .await?;
    ensure!(!list.items.is_empty(), "no pods of {cluster}");
    for pod in &list.items {
        let name = pod.name_any();
        let spec = pod.spec.as_ref().context("a pod has a spec")?;
        let context = spec.security_context.clone().unwrap_or_default();
        ensure!(context.run_as_non_root == Some(true), "{name}: {context:?}");
        ensure!(
            context.run_as_user.is_some_and(|user| user != 0),
            "{name}: {context:?}"
        );
        ensure!(
            context.seccomp_profile.as_ref().map(|p| p.type_.as_str()) == Some("RuntimeDefault"),
            "{name}: {context:?}"
        );
        ensure!(
            spec.automount_service_account_token == Some(false),
            "{name} mounts a service-account token"
        );
        for container in &spec.containers {
            let context = container.security_context.clone().unwrap_or_default();
            ensure!(
                context.allow_privilege_escalation == Some(false)
                    && context.read_only_root_filesystem == Some(true)
                    && context
                        .capabilities
                        .as_ref()
                        .and_then(|c| c.drop.as_ref())
                        .is_some_and(|drop| drop.iter().any(|c| c == "ALL")),
                "{name}/{}: {context:?}",
                container.name
            );
        }
    }
    Ok(())
}
