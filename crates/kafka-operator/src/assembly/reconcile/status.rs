//! The desired status of the Kafka and of each of its KafkaNodePools, from the model and what
//! the steps observed. Pure: they are written only when they changed.

use api::Condition;
use api::kafka::{
    ControllerQuorumStatus, KafkaNodePoolStatus, KafkaStatus, ProcessRole, UsedNodePoolStatus,
};
use runtime::conditions;

use super::state::KafkaReconcile;
use crate::assembly::auto_rebalance;
use crate::assembly::model::{KafkaModel, Pool};

pub fn kafka_status(state: &KafkaReconcile) -> KafkaStatus {
    let model = &state.model;
    let readiness = &state.progress.readiness;
    let mut status_conditions = vec![readiness.condition()];
    status_conditions.extend(warnings(model));
    status_conditions.extend(state.progress.warnings.iter().cloned());
    KafkaStatus {
        conditions: Some(status_conditions),
        observed_generation: state.kafka.metadata.generation,
        // Kept from the last Ready reconcile while the cluster is not Ready.
        listeners: if state.listeners.is_empty() {
            state
                .kafka
                .status
                .as_ref()
                .and_then(|status| status.listeners.clone())
        } else {
            Some(state.listeners.clone())
        },
        kafka_node_pools: Some(
            model
                .pools
                .iter()
                .map(|pool| UsedNodePoolStatus {
                    name: pool.name.clone(),
                })
                .collect(),
        ),
        // Only once recorded (the cluster-ID step): a status never hands out an identity of its
        // own.
        cluster_id: if state.identity_recorded {
            Some(model.cluster_id.clone())
        } else {
            state
                .kafka
                .status
                .as_ref()
                .and_then(|s| s.cluster_id.clone())
        },
        controller_quorum: if state.identity_recorded {
            Some(ControllerQuorumStatus {
                mode: model.quorum.mode(),
                voters: state.quorum_voters.clone(),
            })
        } else {
            (state.kafka.status.as_ref()).and_then(|s| s.controller_quorum.clone())
        },
        kafka_version: Some(model.release.version.to_string()),
        kafka_metadata_version: Some(state.running_metadata_version.clone()),
        auto_rebalance: (model.rebalance_on_scale_up)
            .then(|| auto_rebalance::status(&state.filling)),
        operator_last_successful_version: readiness
            .is_ready()
            .then(|| env!("CARGO_PKG_VERSION").to_string())
            .or_else(|| {
                let current = state.kafka.status.as_ref();
                current.and_then(|status| status.operator_last_successful_version.clone())
            }),
        ..KafkaStatus::default()
    }
}

/// A `Warning` condition for each field the model accepted but does not implement.
pub fn warnings(model: &KafkaModel) -> Vec<Condition> {
    model
        .warnings
        .iter()
        .map(|warning| conditions::warning(warning.reason, &warning.message))
        .collect()
}

/// A pool's status: its node IDs, roles and scale selector, and its readiness condition
/// (`Ready` or `NotReady`): the cluster's, as the readiness step found it (a pool is as ready as
/// the cluster it serves).
pub fn node_pool_status(
    model: &KafkaModel,
    pool: &Pool,
    generation: Option<i64>,
    readiness: Option<Condition>,
) -> KafkaNodePoolStatus {
    let mut roles = Vec::new();
    if pool.roles.controller {
        roles.push(ProcessRole::Controller);
    }
    if pool.roles.broker {
        roles.push(ProcessRole::Broker);
    }
    let selector: Vec<String> = model
        .pool_labels(pool)
        .selector()
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    KafkaNodePoolStatus {
        conditions: readiness.map(|condition| vec![condition]),
        observed_generation: generation,
        node_ids: Some(pool.node_ids.clone()),
        cluster_id: Some(model.cluster_id.clone()),
        roles: Some(roles),
        replicas: Some(pool.node_ids.len() as i32),
        label_selector: Some(selector.join(",")),
    }
}
