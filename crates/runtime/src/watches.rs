//! What the cluster controllers watch, shaped to keep the operator small: the primary kind is
//! cached without managed fields (nothing here reads them, and they are often most of an
//! object), and every other kind is watched as metadata only, since all it does is name the
//! primary object to reconcile; the reconcile reads what it needs itself.
//!
//! These use kube's stream-control API (`unstable-runtime`), the documented way to shape a
//! controller's watches.

use std::fmt::Debug;

use futures::Stream;
use k8s_openapi::NamespaceResourceScope;
use kube::api::PartialObjectMeta;
use kube::runtime::reflector::{self, ObjectRef, reflector};
use kube::runtime::{Controller, WatchStreamExt, watcher};
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;

use crate::Namespaces;
use crate::labels::STRIMZI_CLUSTER;

/// A controller of the `K` in `scope` that `config` selects, reconciling each from a cache
/// without managed fields.
pub fn controller<K>(client: &Client, scope: Option<&str>, config: watcher::Config) -> Controller<K>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>,
    K: Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    ObjectRef<K>: std::hash::Hash + Eq,
{
    let (store, writer) = reflector::store();
    let watch = watcher(Namespaces::api::<K>(client, scope), config)
        .modify(|object| object.managed_fields_mut().clear());
    Controller::for_stream(reflector(writer, watch).applied_objects(), store)
}

/// The metadata of the `K` in `scope` that `config` selects, as they change (the server sends
/// metadata only): a trigger for `Controller::owns_stream` and `Controller::watches_stream`.
pub fn metadata<K>(
    client: &Client,
    scope: Option<&str>,
    config: &watcher::Config,
) -> impl Stream<Item = Result<PartialObjectMeta<K>, watcher::Error>> + Send + 'static
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>,
    K: Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let api = Namespaces::api::<PartialObjectMeta<K>>(client, scope);
    watcher(api, config.clone())
        .modify(|object| object.managed_fields_mut().clear())
        .touched_objects()
}

/// The object of kind `P` that `object`'s `strimzi.io/cluster` label names, in its namespace:
/// how a node pool or a pod finds the cluster it belongs to.
pub fn by_cluster_label<K, P>(object: PartialObjectMeta<K>) -> Option<ObjectRef<P>>
where
    P: Resource<DynamicType = ()>,
{
    let cluster = object.metadata.labels.as_ref()?.get(STRIMZI_CLUSTER)?;
    Some(ObjectRef::new(cluster).within(object.metadata.namespace.as_deref()?))
}
