//! Before validation: broker groups whose StatefulSets exist beyond `spec.size` go, unless their
//! master still holds messages no consumer has consumed (asked over the admin protocol). A kept
//! group is an input of the model, which keeps it running, and is asked about again.

use std::collections::{BTreeMap, BTreeSet};

use api::rocketmq::Broker;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;

use crate::admin::RocketMQAdmins;
use crate::assembly::annotations::{FORCE_SCALE_IN, is_true};
use crate::assembly::names;
use crate::assembly::scaling::{MasterState, ScaleIn, decide, node_of_statefulset};
use operator_common::cluster_ref::ClusterRef;

/// What becomes of the groups beyond `spec.size`.
#[derive(Default)]
pub struct ScaleInDecision {
    /// Kept, with why.
    pub held: BTreeMap<i32, String>,
    /// Going: their broker names.
    pub removed: Vec<String>,
}

/// Asks the master of each group of `statefulsets` beyond the Broker's size what it holds, and
/// decides.
pub async fn decide_groups(
    broker: &Broker,
    statefulsets: &BTreeMap<String, StatefulSet>,
    pods: &[Pod],
    admins: &RocketMQAdmins,
) -> ScaleInDecision {
    let name = broker.name_any();
    let beyond: BTreeSet<i32> = statefulsets
        .keys()
        .filter_map(|statefulset| node_of_statefulset(&name, statefulset))
        .map(|node| node.group)
        .filter(|group| *group >= broker.spec.size)
        .collect();
    let force = is_true(&broker.metadata, FORCE_SCALE_IN);
    let cluster = ClusterRef {
        namespace: broker.namespace().unwrap_or_default(),
        name: name.clone(),
    };
    let mut decision = ScaleInDecision::default();
    for group in beyond {
        let broker_name = names::broker_name(&name, group);
        let master = master_state(&cluster, group, pods, admins).await;
        match decide(&broker_name, &master, force) {
            ScaleIn::Remove => decision.removed.push(broker_name),
            ScaleIn::Keep { reason } => {
                tracing::info!(%reason, "scale-in held");
                decision.held.insert(group, reason);
            }
        }
    }
    decision
}

/// Whether the master of `group` runs, and if so how many messages it holds unconsumed.
async fn master_state(
    cluster: &ClusterRef,
    group: i32,
    pods: &[Pod],
    admins: &RocketMQAdmins,
) -> MasterState {
    let pod = names::broker_pod(&cluster.name, group, 0);
    if !pods.iter().any(|candidate| candidate.name_any() == pod) {
        return MasterState::Absent;
    }
    let admin = match admins.admin(cluster).await {
        Ok(admin) => admin,
        Err(error) => return MasterState::Unreachable(error.to_string()),
    };
    let address = admins.broker_address(cluster, &pod);
    match admin.unconsumed_messages(&address).await {
        Ok(count) => MasterState::Unconsumed(count),
        Err(error) => MasterState::Unreachable(error.to_string()),
    }
}
