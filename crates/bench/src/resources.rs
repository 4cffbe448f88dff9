//! What the benchmarks do with many custom resources: create them in a burst, and tell when
//! each is Ready.

use std::fmt::Debug;

use std::collections::HashSet;
use std::time::Duration;

use anyhow::{Result, bail};
use api::Condition;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::NamespaceResourceScope;
use kube::api::{Api, PostParams};
use kube::runtime::watcher::{self, Event};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Creates in flight at once: a burst, as `kubectl apply` of many files makes.
const CREATES_IN_FLIGHT: usize = 64;

/// Creates every object in `objects` (JSON manifests) through `api`, as fast as the API server
/// takes them.
pub async fn create_all<K>(
    api: &Api<K>,
    objects: impl Iterator<Item = serde_json::Value>,
) -> Result<()>
where
    K: Resource<Scope = NamespaceResourceScope> + Clone + Debug + Serialize + DeserializeOwned,
{
    futures::stream::iter(objects)
        .map(|object| async move {
            let object: K = serde_json::from_value(object)?;
            anyhow::Ok(api.create(&PostParams::default(), &object).await?)
        })
        .buffer_unordered(CREATES_IN_FLIGHT)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(())
}

/// Waits until `count` objects of `api` are Ready, watching them: the API server sends an event
/// per change, where polling a list of thousands many times a second would compete with the
/// work being measured. The operator's figures and their floors end with this same wait.
pub async fn until_all_ready<K>(
    api: &Api<K>,
    count: usize,
    is_ready: fn(&K) -> bool,
    timeout: Duration,
) -> Result<()>
where
    K: Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned + Send + 'static,
{
    let mut events = std::pin::pin!(watcher::watcher(api.clone(), watcher::Config::default()));
    let mut ready = HashSet::new();
    let waiting = async {
        while ready.len() < count {
            let Some(event) = events.try_next().await? else {
                bail!("the watch ended");
            };
            match event {
                Event::Apply(object) | Event::InitApply(object) if is_ready(&object) => {
                    ready.insert(object.name_any());
                }
                Event::Apply(object) | Event::InitApply(object) | Event::Delete(object) => {
                    ready.remove(&object.name_any());
                }
                Event::Init | Event::InitDone => {}
            }
        }
        anyhow::Ok(())
    };
    match tokio::time::timeout(timeout, waiting).await {
        Ok(done) => done,
        Err(_) => bail!("not all {count} were Ready after {timeout:?}"),
    }
}

/// Whether a resource's status says Ready for its current generation.
pub fn is_ready(
    conditions: Option<&[Condition]>,
    observed: Option<i64>,
    generation: Option<i64>,
) -> bool {
    observed == generation
        && conditions
            .into_iter()
            .flatten()
            .any(|condition| condition.type_ == "Ready" && condition.status == "True")
}

/// Whether any of our kinds says Ready for its current generation, read from its JSON (every
/// kind's status has `conditions` and `observedGeneration`).
pub fn is_object_ready<K: Resource + Serialize>(object: &K) -> bool {
    let json = serde_json::to_value(object).unwrap_or_default();
    let status = &json["status"];
    let conditions: Option<Vec<Condition>> =
        serde_json::from_value(status["conditions"].clone()).ok();
    let observed = status["observedGeneration"].as_i64();
    is_ready(conditions.as_deref(), observed, object.meta().generation)
}
