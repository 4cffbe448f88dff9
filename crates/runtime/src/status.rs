//! Writing a custom resource's status: only when it changed, through server-side apply.

use std::fmt::Debug;

use k8s_openapi::NamespaceResourceScope;
use kube::api::{Api, Patch, PatchParams};
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Error;
use crate::apply::FIELD_MANAGER;
use crate::conditions::status_differs;

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
    if !status_differs(current, desired) {
        return Ok(false);
    }
    let name = object.name_any();
    let namespace = object
        .namespace()
        .ok_or_else(|| Error::MissingNamespace(name.clone()))?;
    let api: Api<K> = Api::namespaced(client.clone(), &namespace);
    let patch = serde_json::json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": desired,
    });
    api.patch_status(
        &name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await?;
    Ok(true)
}
