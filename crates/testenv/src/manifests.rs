//! Applying YAML manifests to the cluster, the way `kubectl apply --server-side` does.

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
    let mut applied = Vec::new();
    for document in serde_yaml::Deserializer::from_str(yaml) {
        let value = serde_yaml::Value::deserialize(document)?;
        if value.is_null() {
            continue;
        }
        let object: DynamicObject = serde_yaml::from_value(value)?;
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
