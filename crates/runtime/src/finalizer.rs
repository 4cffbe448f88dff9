//! Adding and removing one finalizer, only on the version of the object that was read: a
//! concurrent change makes the write fail (409) rather than lose the other's finalizers.

use std::fmt::Debug;

use k8s_openapi::NamespaceResourceScope;
use kube::api::{Api, Patch, PatchParams};
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;

pub fn has_finalizer<K: Resource>(object: &K, finalizer: &str) -> bool {
    object
        .finalizers()
        .iter()
        .any(|present| present == finalizer)
}

/// Adds (`present`) or removes `finalizer` on `object`.
pub async fn set_finalizer<K>(
    client: &Client,
    object: &K,
    finalizer: &str,
    present: bool,
) -> Result<(), kube::Error>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>,
    K: DeserializeOwned + Clone + Debug,
{
    let mut finalizers: Vec<String> = object
        .finalizers()
        .iter()
        .filter(|other| *other != finalizer)
        .cloned()
        .collect();
    if present {
        finalizers.push(finalizer.to_string());
    }
    let namespace = object.namespace().unwrap_or_default();
    let api: Api<K> = Api::namespaced(client.clone(), &namespace);
    let patch = serde_json::json!({"metadata": {
        "finalizers": finalizers,
        "resourceVersion": object.resource_version(),
    }});
    api.patch(
        &object.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await
    .map(|_| ())
}
