//! In controller mode, what the controllers elected, asked of their leader each reconcile (and
//! again after [`refresh_in`], since nothing announces an election): the rolling update's order
//! and hand-over, and the status, follow it. Never fails the reconcile:
//! when no controller answers, the name servers' view and the pods' names stand in.

use futures::future::BoxFuture;
use kube::ResourceExt;
use rocketmq_client::AdminClient;
use runtime::{Error, Flow};

use super::state::{BrokerReconcile, ControllersView};
use crate::assembly::elected::{elected_groups, refresh_in};
use crate::assembly::names;

pub fn observe(state: &mut BrokerReconcile) -> BoxFuture<'_, Result<Flow, Error>> {
    Box::pin(async move {
        state.elected = ask_controllers(state).await;
        if let Some(elected) = &state.elected {
            let brokers_per_group = state.model.replicas_per_group as usize + 1;
            (state.progress).retry_in(refresh_in(&elected.groups, brokers_per_group));
        }
        Ok(Flow::Continue)
    })
}

async fn ask_controllers(state: &BrokerReconcile) -> Option<ControllersView> {
    let controllers = state.model.controllers.as_ref()?;
    let admin = state.admins.controllers();
    let leader = leader(admin, controllers).await?;
    let broker_names: Vec<String> = (state.model.groups.iter())
        .map(|group| names::broker_name(&state.model.cluster, *group))
        .collect();
    let states = match admin.sync_states(&leader, &broker_names).await {
        Ok(states) => states,
        Err(error) => {
            tracing::debug!(%error, %leader, "asking the controllers for the groups' sync states");
            return None;
        }
    };
    let pod_ips: Vec<(String, String)> = (state.pods.iter())
        .filter_map(|pod| Some((pod.name_any(), pod.status.as_ref()?.pod_ip.clone()?)))
        .collect();
    Some(ControllersView {
        groups: elected_groups(&states, &pod_ips, names::BROKER_PORT),
        leader,
    })
}

/// The leading controller's address, as the first controller of `controllers` (`;`-separated)
/// that answers says.
async fn leader(admin: &AdminClient, controllers: &str) -> Option<String> {
    for controller in controllers.split(';').filter(|c| !c.is_empty()) {
        if let Ok(metadata) = admin.controller_metadata(controller).await
            && let Some(leader) = metadata.leader_address
        {
            return Some(leader);
        }
    }
    None
}
