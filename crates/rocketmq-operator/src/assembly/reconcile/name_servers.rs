//! Live name-server updates: a running broker whose pod was started with (or last told) another
//! name-server list gets the new one over the admin protocol, with UPDATE_BROKER_CONFIG, and
//! keeps running. The pod's `brokerage.io/name-servers` annotation records what it was told,
//! so each change is pushed once. Brokers that cannot be reached keep the reconcile going: a
//! condition says so and the push is retried with backoff.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use rocketmq_client::AdminClient;
use runtime::{Error, Flow};

use super::state::BrokerReconcile;
use crate::assembly::annotations::{NAME_SERVERS, annotation};
use crate::assembly::broker_conf::NAME_SERVERS_KEY;
use runtime::pods::is_ready;

pub fn push(state: &mut BrokerReconcile) -> BoxFuture<'_, Result<Flow, Error>> {
    Box::pin(async move {
        let wanted = state.model.name_servers.clone();
        let stale: Vec<String> = state
            .pods
            .iter()
            .filter(|pod| state.model.node_of_pod(&pod.name_any()).is_some() && is_ready(pod))
            .filter(|pod| annotation(&pod.metadata, NAME_SERVERS) != Some(wanted.as_str()))
            .map(|pod| pod.name_any())
            .collect();
        if stale.is_empty() {
            return Ok(Flow::Continue);
        }
        let cluster = state.model.cluster_ref();
        let key = format!("name-servers/{cluster}");
        let mut failures = Vec::new();
        match state.admins.admin(&cluster).await {
            Err(error) => failures.push(error.to_string()),
            Ok(admin) => {
                for pod in &stale {
                    let address = state.admins.broker_address(&cluster, pod);
                    match tell(&admin, &address, &wanted).await {
                        Ok(()) => {
                            state
                                .applier
                                .annotate::<Pod>(
                                    &state.model.namespace,
                                    pod,
                                    NAME_SERVERS,
                                    Some(&wanted),
                                )
                                .await?;
                            state.progress.event(
                                "NameServersUpdated",
                                format!("{pod} now uses the name servers {wanted}"),
                            );
                        }
                        Err(error) => failures.push(format!("{pod}: {error}")),
                    }
                }
            }
        }
        if failures.is_empty() {
            state.retries.succeeded(&key);
        } else {
            let delay = state.retries.failed(&key);
            state.progress.warn(
                "NameServersNotUpdated",
                format!(
                    "the running brokers could not be told the name servers {wanted} yet; \
                     retrying ({})",
                    failures.join("; ")
                ),
            );
            state.progress.retry_in(delay);
        }
        Ok(Flow::Continue)
    })
}

/// Sets `namesrvAddr` on the broker at `address` unless it already has it.
async fn tell(admin: &AdminClient, address: &str, wanted: &str) -> rocketmq_client::Result<()> {
    let current = admin.broker_config(address).await?;
    if current.get(NAME_SERVERS_KEY).map(String::as_str) == Some(wanted) {
        return Ok(());
    }
    let changes = BTreeMap::from([(NAME_SERVERS_KEY.to_string(), wanted.to_string())]);
    admin.update_broker_config(address, &changes).await
}
