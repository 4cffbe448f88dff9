//! What the benchmarks do with many custom resources: create them in a burst, and tell when
//! each is Ready.

use std::fmt::Debug;

use anyhow::Result;
use api::Condition;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::NamespaceResourceScope;
use kube::Resource;
use kube::api::{Api, PostParams};
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
