//! Writing a custom resource's status: only when it changed, through server-side apply (or a
//! merge patch, where thousands of resources change at once).

use std::fmt::Debug;

use api::HasConditions;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use kube::core::object::HasStatus;
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::Error;
use crate::apply::FIELD_MANAGER;
use crate::conditions::{stamp_transitions, status_differs};

/// [`write_status`] for a status with conditions: one unchanged since the object's current
/// status keeps its transition time; a new or changed one is stamped now.
pub async fn write_stamped<K>(
    client: &Client,
    object: &K,
    mut desired: K::Status,
) -> Result<bool, Error>
where
    K: HasStatus + Resource<DynamicType = (), Scope = NamespaceResourceScope>,
    K: DeserializeOwned + Clone + Debug,
    K::Status: HasConditions + Serialize,
{
    let current = object.status();
    if let Some(conditions) = desired.conditions_mut() {
        let previous = current
            .and_then(HasConditions::conditions)
            .unwrap_or_default();
        stamp_transitions(conditions, previous, Timestamp::now());
    }
    write_status(client, object, current, &desired).await
}

/// Writes `desired` as the status of `object` unless it equals `current` (ignoring condition
/// transition times). Returns whether it wrote.
pub async fn write_status<K, S>(
    client: &Client,
    object: &K,
    current: Option<&S>,
    desired: &S,
) -> Result<bool, Error>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>,
    K: DeserializeOwned + Clone + Debug,
    S: Serialize,
{
    let patch = serde_json::json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": desired,
    });
    let params = PatchParams::apply(FIELD_MANAGER).force();
    patch_status(
        client,
        object,
        current,
        desired,
        &params,
        Patch::Apply(&patch),
    )
    .await
}

/// [`write_status`] as a JSON merge patch: much cheaper for the API server than an apply, which
/// counts when thousands of small resources (topics, users) change at once. Keys of the current
/// status that the desired one lacks are set to null, so they go.
pub async fn merge_status<K, S>(
    client: &Client,
    object: &K,
    current: Option<&S>,
    desired: &S,
) -> Result<bool, Error>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>,
    K: DeserializeOwned + Clone + Debug,
    S: Serialize,
{
    let mut status = serde_json::to_value(desired).unwrap_or_default();
    let previous = current.and_then(|current| serde_json::to_value(current).ok());
    if let (Some(Value::Object(previous)), Value::Object(status)) = (previous, &mut status) {
        for key in previous.keys() {
            status.entry(key.clone()).or_insert(Value::Null);
        }
    }
    let patch = serde_json::json!({ "status": status });
    let params = PatchParams::default();
    patch_status(
        client,
        object,
        current,
        desired,
        &params,
        Patch::Merge(&patch),
    )
    .await
}

async fn patch_status<K, S>(
    client: &Client,
    object: &K,
    current: Option<&S>,
    desired: &S,
    params: &PatchParams,
    patch: Patch<&Value>,
) -> Result<bool, Error>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>,
    K: DeserializeOwned + Clone + Debug,
    S: Serialize,
{
    if !status_differs(current, desired) {
        return Ok(false);
    }
    let name = object.name_any();
    let namespace = object
        .namespace()
        .ok_or_else(|| Error::MissingNamespace(name.clone()))?;
    let api: Api<K> = Api::namespaced(client.clone(), &namespace);
    api.patch_status(&name, params, &patch).await?;
    Ok(true)
}
