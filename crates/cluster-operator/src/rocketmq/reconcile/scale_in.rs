//! The scale-in step: broker groups whose StatefulSets exist beyond `spec.size` go, unless their
//! master still holds messages no consumer has consumed (asked over the admin protocol). A kept
//! group stays in the model, so every later step keeps it running, and is asked about again.

use std::collections::BTreeSet;
use std::time::Duration;

use futures::future::BoxFuture;
use kube::ResourceExt;
use runtime::{Error, Flow};

use super::state::BrokerReconcile;
use crate::rocketmq::annotations::{FORCE_SCALE_IN, is_true};
use crate::rocketmq::scaling::{MasterState, ScaleIn, decide as decide_group, node_of_statefulset};
use crate::rocketmq::{BrokerDesired, names};

/// How soon a kept group is looked at again.
const HELD_RECHECK: Duration = Duration::from_secs(30);

pub fn decide(state: &mut BrokerReconcile) -> BoxFuture<'_, Result<Flow, Error>> {
    Box::pin(async move {
        let cluster = state.model.cluster.clone();
        let beyond: BTreeSet<i32> = state
            .existing
            .keys()
            .filter_map(|name| node_of_statefulset(&cluster, name))
            .map(|node| node.group)
            .filter(|group| *group >= state.model.size)
            .collect();
        if beyond.is_empty() {
            return Ok(Flow::Continue);
        }
        let force = is_true(&state.broker.metadata, FORCE_SCALE_IN);
        let mut kept = false;
        for group in beyond {
            let broker_name = names::broker_name(&cluster, group);
            let master = master_state(state, group).await;
            match decide_group(&broker_name, &master, force) {
                ScaleIn::Remove => state
                    .progress
                    .event("ScaleIn", format!("removing broker group {broker_name}")),
                ScaleIn::Keep { reason } => {
                    tracing::info!(%reason, "scale-in held");
                    state.model.groups.push(group);
                    state.progress.warn("ScaleInHeld", reason);
                    kept = true;
                }
            }
        }
        if kept {
            state.desired = BrokerDesired::build(&state.model);
            state.progress.retry_in(HELD_RECHECK);
        }
        Ok(Flow::Continue)
    })
}

/// Whether the master of `group` runs, and if so how many messages it holds unconsumed.
async fn master_state(state: &BrokerReconcile, group: i32) -> MasterState {
    let pod = names::broker_pod(&state.model.cluster, group, 0);
    if !state
        .pods
        .iter()
        .any(|candidate| candidate.name_any() == pod)
    {
        return MasterState::Absent;
    }
    let cluster = state.model.cluster_ref();
    let admin = match state.admins.admin(&cluster).await {
        Ok(admin) => admin,
        Err(error) => return MasterState::Unreachable(error.to_string()),
    };
    let address = state.admins.broker_address(&cluster, &pod);
    match admin.unconsumed_messages(&address).await {
        Ok(count) => MasterState::Unconsumed(count),
        Err(error) => MasterState::Unreachable(error.to_string()),
    }
}
