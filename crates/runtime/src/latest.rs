//! The object a reconcile acts on, as the API server has it now.
//!
//! A controller's cache can be behind a change the user just made. A reconcile of an assembly
//! (a Kafka, a Broker, a NameService) that acted on the older spec would write the older
//! configuration back and stamp a new pod with it, and the next reconcile would restart that pod
//! again: a double restart from a stale view. These kinds are few, so each reconcile reads its
//! object afresh, one GET, and acts on that.

use std::fmt::Debug;
use std::sync::Arc;

use k8s_openapi::NamespaceResourceScope;
use kube::api::Api;
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;

use crate::Error;

/// `object` as stored now; `None` when it is gone.
pub async fn latest<K>(client: &Client, object: &K) -> Result<Option<Arc<K>>, Error>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>,
    K: DeserializeOwned + Clone + Debug,
{
    let namespace = object.namespace().unwrap_or_default();
    let api: Api<K> = Api::namespaced(client.clone(), &namespace);
    Ok(api.get_opt(&object.name_any()).await?.map(Arc::new))
}
