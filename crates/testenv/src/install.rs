//! The operator as a user installs it: its image loaded into the real node, `install/` applied,
//! and its Deployment's pods running there. Shared by `make run` and the tests on real pods.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Namespace;
use kube::Client;
use kube::api::{Api, ObjectMeta, Patch, PatchParams};

use crate::Cluster;
use crate::images::{OPERATOR_IMAGE, operator_image};

/// The namespace and Deployment `install/` creates.
pub const OPERATOR_NAMESPACE: &str = "brokerage";
const OPERATOR_DEPLOYMENT: &str = "brokerage-operator";
/// A cold operator pod on a busy two-core machine: image import, scheduling, leader election.
const OPERATOR_WAIT: Duration = Duration::from_secs(180);

/// Builds the operator image from `binary`, loads it into the real node, steers the operator's
/// namespace to the real node, applies every manifest in `install_dir` (CRDs first, from its
/// `crds/`), and waits until the Deployment's pods are available.
pub async fn install_operator(cluster: &Cluster, binary: &Path, install_dir: &Path) -> Result<()> {
    cluster.wait_real_node().await?;
    cluster.import_image(&operator_image(binary, OPERATOR_IMAGE)?)?;
    let client = cluster.client().await?;
    crate::apply_files(&client, &[install_dir.join("crds")], "default").await?;
    steer_to_real_node(&client, OPERATOR_NAMESPACE).await?;
    crate::apply_files(&client, &[install_dir.to_path_buf()], OPERATOR_NAMESPACE).await?;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), OPERATOR_NAMESPACE);
    crate::eventually(
        "the operator's Deployment is available on the real node",
        OPERATOR_WAIT,
        || async {
            let deployment = deployments.get(OPERATOR_DEPLOYMENT).await?;
            let wanted = deployment.spec.and_then(|spec| spec.replicas).unwrap_or(1);
            let available = deployment
                .status
                .and_then(|status| status.available_replicas)
                .unwrap_or(0);
            Ok(available == wanted)
        },
    )
    .await
}

/// Creates `namespace` if needed and gives it the annotations that send its pods to the real
/// node (see [`crate::fresh_namespace_on_real_node`]).
pub async fn steer_to_real_node(client: &Client, namespace: &str) -> Result<()> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let steered = Namespace {
        metadata: ObjectMeta {
            name: Some(namespace.to_string()),
            annotations: Some(crate::real_node_annotations()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    namespaces
        .patch(
            namespace,
            // A field manager of its own: applying the namespace's manifest later must not take
            // these annotations away.
            &PatchParams::apply("brokerage-testenv-real-node"),
            &Patch::Apply(&steered),
        )
        .await?;
    Ok(())
}

/// The `brokerage` binary a cargo build of this workspace made (`profile`: `debug` or `release`).
pub fn built_operator(profile: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join(profile).join("brokerage")
}
