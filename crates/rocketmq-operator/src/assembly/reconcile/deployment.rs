//! Readiness of a Console's or a Proxy's Deployment: as many ready pods as asked, of its current
//! template.

use k8s_openapi::api::apps::v1::Deployment;
use kube::{Api, Client};
use runtime::{Error, Flow, Progress, Readiness};

use super::WAIT_FOR_PODS;
use crate::assembly::user_deployment::UserDeployment;

/// Sets `progress`'s readiness from the Deployment of `deployment` (pods of `what`), and
/// returns how to go on and its ready pods.
pub async fn observe(
    client: &Client,
    deployment: &UserDeployment,
    what: &'static str,
    progress: &mut Progress,
) -> Result<(Flow, i32), Error> {
    let (readiness, ready) = readiness(client, deployment, what).await?;
    let flow = match readiness {
        Readiness::Ready => Flow::Continue,
        _ => Flow::Requeue(WAIT_FOR_PODS),
    };
    progress.readiness = readiness;
    Ok((flow, ready))
}

async fn readiness(
    client: &Client,
    deployment: &UserDeployment,
    what: &'static str,
) -> Result<(Readiness, i32), Error> {
    let expected = deployment.replicas;
    let api: Api<Deployment> = Api::namespaced(client.clone(), &deployment.namespace);
    let live = api.get_opt(&deployment.name).await?;
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
