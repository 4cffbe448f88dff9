//! Applying YAML manifests to the cluster, the way `kubectl apply --server-side` does.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, Patch, PatchParams, ValidationDirective};
use kube::core::GroupVersionKind;
use kube::discovery::{Scope, pinned_kind};
use kube::{Client, ResourceExt};
use serde::Deserialize;

/// Server-side applies every document in `yaml`, namespaced ones into `namespace`, with
/// strict field validation so that a field the schema does not know is an error, not
/// silently pruned. Returns the objects as stored.
pub async fn apply_yaml(
    client: &Client,
    yaml: &str,
    namespace: &str,
) -> Result<Vec<DynamicObject>> {
    // Parsed before the first request: the YAML parser cannot be held across an await of a
    // future that must be Send.
    let mut objects: Vec<DynamicObject> = Vec::new();
    for document in serde_yaml::Deserializer::from_str(yaml) {
        let value = serde_yaml::Value::deserialize(document)?;
        if !value.is_null() {
            objects.push(serde_yaml::from_value(value)?);
        }
    }
    let mut applied = Vec::new();
    for object in objects {
        let types = object
            .types
            .clone()
            .context("a manifest without apiVersion/kind")?;
        let gvk = GroupVersionKind::try_from(&types)?;
        let (resource, capabilities) = pinned_kind(client, &gvk)
            .await
            .with_context(|| format!("discovering {}/{}", types.api_version, types.kind))?;
        let api: Api<DynamicObject> = match capabilities.scope {
            Scope::Namespaced => Api::namespaced_with(client.clone(), namespace, &resource),
            Scope::Cluster => Api::all_with(client.clone(), &resource),
        };
        let mut params = PatchParams::apply("brokerage-testenv").force();
        params.field_validation = Some(ValidationDirective::Strict);
        let name = object.name_any();
        let stored = api
            .patch(&name, &params, &Patch::Apply(&object))
            .await
            .with_context(|| format!("applying {} {name}", types.kind))?;
        applied.push(stored);
    }
    Ok(applied)
}

/// Applies each file (directories expanded to their sorted `.yaml` files), namespaced objects into
/// `namespace`, waiting for the CRDs among them to be Established. Returns what was applied.
pub async fn apply_files(
    client: &Client,
    paths: &[PathBuf],
    namespace: &str,
) -> Result<Vec<DynamicObject>> {
    let mut all = Vec::new();
    for file in manifest_files(paths)? {
        let yaml = std::fs::read_to_string(&file)?;
        let applied = apply_yaml(client, &yaml, namespace)
            .await
            .with_context(|| format!("applying {}", file.display()))?;
        let crds: Vec<String> = applied
            .iter()
            .filter(|object| {
                object
                    .types
                    .as_ref()
                    .is_some_and(|t| t.kind == "CustomResourceDefinition")
            })
            .filter_map(|object| object.metadata.name.clone())
            .collect();
        wait_established(client, &crds).await?;
        all.extend(applied);
    }
    Ok(all)
}

/// The given files, with directories expanded to their sorted `.yaml` files.
fn manifest_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
                .map(|entry| entry.map(|entry| entry.path()))
                .collect::<Result<_, _>>()?;
            entries.retain(|file| file.extension().is_some_and(|ext| ext == "yaml"));
            entries.sort();
            files.extend(entries);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

/// Waits until each CRD reports `Established`, so its kind can be used.
pub async fn wait_established(client: &Client, names: &[String]) -> Result<()> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for name in names {
        let mut attempts = 0;
        while !is_established(&api.get(name).await?) {
            attempts += 1;
            if attempts > 300 {
                bail!("CustomResourceDefinition {name} did not become Established");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

fn is_established(crd: &CustomResourceDefinition) -> bool {
    crd.status
        .as_ref()
        .and_then(|status| status.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|condition| condition.type_ == "Established" && condition.status == "True")
        })
}
