//! Server-side apply under one field manager per component, skipping objects that already
//! match; a record of what one reconcile applied, and the sweep of owned objects it did not.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use kube::api::{
    Api, DeleteParams, ListParams, ObjectMeta, Patch, PatchParams, PostParams, Preconditions,
};
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::contains::contains;
use crate::{Error, Metrics};

/// The field manager of the cluster operators' objects and of every status.
pub const FIELD_MANAGER: &str = "brokerage";

/// Hash of what the operator last applied. When the desired object drops a field, the hash
/// changes and the object is applied again, which removes the field: comparing live and desired
/// values alone cannot see a removal.
pub const DESIRED_HASH_ANNOTATION: &str = "brokerage.io/desired-hash";

/// What an apply did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    Written,
    Unchanged,
}

/// Applies the objects of one kind's reconciles and counts the writes it makes, so tests and
/// metrics can prove a no-op reconcile writes nothing.
#[derive(Clone)]
pub struct Applier {
    client: Client,
    kind: &'static str,
    field_manager: &'static str,
    metrics: Arc<Metrics>,
    writes: Arc<AtomicU64>,
    /// Every object applied (written or found unchanged), as (kind, name): what
    /// [`sweep`](Self::sweep) keeps.
    applied: Arc<Mutex<BTreeSet<(String, String)>>>,
}

impl Applier {
    /// An applier writing as [`FIELD_MANAGER`].
    pub fn new(client: Client, kind: &'static str, metrics: Arc<Metrics>) -> Applier {
        Applier {
            client,
            kind,
            field_manager: FIELD_MANAGER,
            metrics,
            writes: Arc::default(),
            applied: Arc::default(),
        }
    }

    /// The same applier writing as `field_manager`: a component of its own, so that a
    /// non-forced apply conflicts with what another component wrote.
    pub fn with_field_manager(self, field_manager: &'static str) -> Applier {
        Applier {
            field_manager,
            ..self
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Writes made through this applier so far.
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    /// Applies `desired` unless the live object already carries it unchanged.
    pub async fn apply<K>(&self, desired: &K) -> Result<Applied, Error>
    where
        K: Resource<DynamicType = (), Scope = NamespaceResourceScope>,
        K: Serialize + DeserializeOwned + Clone + Debug,
    {
        let name = desired.name_any();
        let namespace = desired
            .namespace()
            .ok_or_else(|| Error::MissingNamespace(name.clone()))?;
        let api: Api<K> = Api::namespaced(self.client.clone(), &namespace);
        let live = api.get_opt(&name).await?;
        self.apply_over(desired, live.as_ref()).await
    }

    /// [`apply`](Self::apply) when the caller has just read the live object, say in a list of
    /// many: saves a read per object. Forced: for objects only this component writes.
    pub async fn apply_over<K>(&self, desired: &K, live: Option<&K>) -> Result<Applied, Error>
    where
        K: Resource<DynamicType = (), Scope = NamespaceResourceScope>,
        K: Serialize + DeserializeOwned + Clone + Debug,
    {
        self.apply_with(desired, live, true).await
    }

    /// [`apply_over`](Self::apply_over) without force: a field another manager set to another
    /// value fails the apply with a conflict (409) instead of being taken over.
    pub async fn apply_over_without_force<K>(
        &self,
        desired: &K,
        live: Option<&K>,
    ) -> Result<Applied, Error>
    where
        K: Resource<DynamicType = (), Scope = NamespaceResourceScope>,
        K: Serialize + DeserializeOwned + Clone + Debug,
    {
        self.apply_with(desired, live, false).await
    }

    async fn apply_with<K>(
        &self,
        desired: &K,
        live: Option<&K>,
        force: bool,
    ) -> Result<Applied, Error>
    where
        K: Resource<DynamicType = (), Scope = NamespaceResourceScope>,
        K: Serialize + DeserializeOwned + Clone + Debug,
    {
        self.record::<K>(desired.name_any());
        let mut desired = desired.clone();
        let hash = desired_hash(&desired);
        desired
            .annotations_mut()
            .insert(DESIRED_HASH_ANNOTATION.into(), hash.clone());
        if let Some(live) = live
            && live.annotations().get(DESIRED_HASH_ANNOTATION) == Some(&hash)
            && contains(&to_value(live), &to_value(&desired))
        {
            return Ok(Applied::Unchanged);
        }
        let name = desired.name_any();
        let namespace = desired
            .namespace()
            .ok_or_else(|| Error::MissingNamespace(name.clone()))?;
        let api: Api<K> = Api::namespaced(self.client.clone(), &namespace);
        let mut params = PatchParams::apply(self.field_manager);
        params.force = force;
        api.patch(&name, &params, &Patch::Apply(&desired)).await?;
        self.count_write();
        Ok(Applied::Written)
    }

    /// Deletes the objects of kind `K` in `namespace` that match `selector` and are owned by
    /// `owner_uid` but were not applied through this applier: what an earlier model created and
    /// this reconcile no longer wants (a removed listener's Service, a removed pool's
    /// StatefulSet). Run it last, once every step has applied what it wants. Labels alone prove
    /// nothing: anyone can copy them onto an object.
    pub async fn sweep<K>(
        &self,
        namespace: &str,
        selector: &str,
        owner_uid: &str,
    ) -> Result<Vec<String>, Error>
    where
        K: Resource<DynamicType = (), Scope = NamespaceResourceScope>,
        K: DeserializeOwned + Clone + Debug,
    {
        let api: Api<K> = Api::namespaced(self.client.clone(), namespace);
        let mut deleted = Vec::new();
        for object in api.list(&ListParams::default().labels(selector)).await? {
            let name = object.name_any();
            let meta = object.meta();
            if !self.was_applied::<K>(&name)
                && meta.deletion_timestamp.is_none()
                && is_owned_by(meta, owner_uid)
            {
                api.delete(&name, &DeleteParams::background()).await?;
                self.count_write();
                deleted.push(name);
            }
        }
        Ok(deleted)
    }

    /// The [`sweep`](Self::sweep) of what an assembly owns that can go away as its spec changes:
    /// Services, ConfigMaps and StatefulSets. Never claims (data) or Secrets (credentials and
    /// CAs, which outlive a change of spec).
    pub async fn sweep_assembly(
        &self,
        namespace: &str,
        selector: &str,
        owner_uid: &str,
    ) -> Result<(), Error> {
        self.sweep::<Service>(namespace, selector, owner_uid)
            .await?;
        self.sweep::<ConfigMap>(namespace, selector, owner_uid)
            .await?;
        self.sweep::<StatefulSet>(namespace, selector, owner_uid)
            .await?;
        Ok(())
    }

    fn record<K: Resource<DynamicType = ()>>(&self, name: String) {
        let kind = K::kind(&()).into_owned();
        self.applied
            .lock()
            .expect("not poisoned")
            .insert((kind, name));
    }

    fn was_applied<K: Resource<DynamicType = ()>>(&self, name: &str) -> bool {
        let key = (K::kind(&()).into_owned(), name.to_owned());
        self.applied.lock().expect("not poisoned").contains(&key)
    }

    /// Sets (or with `None` removes) one annotation on an object someone else manages, such as
    /// a StatefulSet's pod.
    pub async fn annotate<K>(
        &self,
        namespace: &str,
        name: &str,
        key: &str,
        value: Option<&str>,
    ) -> Result<(), Error>
    where
        K: Resource<DynamicType = (), Scope = NamespaceResourceScope>,
        K: DeserializeOwned + Clone + Debug,
    {
        let api: Api<K> = Api::namespaced(self.client.clone(), namespace);
        let patch = serde_json::json!({"metadata": {"annotations": {key: value}}});
        api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
        self.count_write();
        Ok(())
    }

    /// Deletes `object`, such as a pod to restart it: that object only, by its UID. A list read
    /// a moment ago may show a pod that has since gone and been replaced under the same name;
    /// deleting by name alone would restart the replacement too. Gone or replaced already, it
    /// is left alone.
    pub async fn delete<K>(&self, object: &K) -> Result<(), Error>
    where
        K: Resource<DynamicType = (), Scope = NamespaceResourceScope>,
        K: DeserializeOwned + Clone + Debug,
    {
        let namespace = object.namespace().unwrap_or_default();
        let api: Api<K> = Api::namespaced(self.client.clone(), &namespace);
        let params = DeleteParams {
            preconditions: Some(Preconditions {
                uid: object.uid(),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        match api.delete(&object.name_any(), &params).await {
            Ok(_) => self.count_write(),
            Err(kube::Error::Api(status)) if status.code == 404 || status.code == 409 => {}
            Err(error) => return Err(error.into()),
        }
        Ok(())
    }

    /// Replaces `object` whole over the `resourceVersion` it carries, so the API server refuses
    /// it (409) when the object changed since it was read: for a change that must land in one
    /// write with the removal of a field another manager set, which an apply cannot remove.
    pub async fn replace<K>(&self, object: &K) -> Result<(), Error>
    where
        K: Resource<DynamicType = (), Scope = NamespaceResourceScope>,
        K: Serialize + DeserializeOwned + Clone + Debug,
    {
        let namespace = object.namespace().unwrap_or_default();
        let api: Api<K> = Api::namespaced(self.client.clone(), &namespace);
        let params = PostParams {
            field_manager: Some(self.field_manager.to_string()),
            ..PostParams::default()
        };
        api.replace(&object.name_any(), &params, object).await?;
        self.count_write();
        Ok(())
    }

    fn count_write(&self) {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.metrics.observe_write(self.kind);
    }
}

/// Whether an object's owner references include the object with `owner_uid`.
pub fn is_owned_by(meta: &ObjectMeta, owner_uid: &str) -> bool {
    meta.owner_references
        .iter()
        .flatten()
        .any(|owner| owner.uid == owner_uid)
}

fn to_value<K: Serialize>(object: &K) -> serde_json::Value {
    serde_json::to_value(object).unwrap_or_default()
}

fn desired_hash<K: Serialize>(object: &K) -> String {
    let digest = Sha256::digest(serde_json::to_vec(object).unwrap_or_default());
    digest[..12]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

    use super::*;

    #[test]
    fn only_an_owner_reference_with_the_uid_makes_an_owner() {
        let owned_by = |uids: &[&str]| ObjectMeta {
            owner_references: Some(
                uids.iter()
                    .map(|uid| OwnerReference {
                        uid: uid.to_string(),
                        ..OwnerReference::default()
                    })
                    .collect(),
            ),
            ..ObjectMeta::default()
        };
        assert!(is_owned_by(&owned_by(&["a", "b"]), "b"));
        assert!(!is_owned_by(&owned_by(&["a"]), "b"));
        assert!(!is_owned_by(&ObjectMeta::default(), "b"));
    }
}
