//! Readiness of a Console's or a Proxy's Deployment: as many ready pods as asked, of its current
//! template.

use k8s_openapi::api::apps::v1::Deployment;
use kube::{Api, Client};
use runtime::{Error, Readiness};

/// The readiness of the Deployment `name` asked for `expected` pods of `what`, and its ready
/// pods.
pub async fn readiness(
    client: &Client,
    namespace: &str,
    name: &str,
    expected: i32,
    what: &'static str,
) -> Result<(Readiness, i32), Error> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let live = api.get_opt(name).await?;
    let status = (live.as_ref())
        .and_then(|live| live.status.clone())
        .unwrap_or_default();
    let current =
        live.as_ref().and_then(|live| live.metadata.generation) <= status.observed_generation;
    let ready = status.ready_replicas.unwrap_or(0);
    let updated = status.updated_replicas.unwrap_or(0);
    let readiness = if current
        && ready >= expected
        && updated >= expected
        && status.replicas.unwrap_or(0) == expected
    {
        Readiness::Ready
    } else {
        Readiness::PodsNotReady {
            ready: ready.max(0) as usize,
            expected: expected as usize,
            what,
        }
    };
    Ok((readiness, ready))
}
