//! KafkaRebalances: Strimzi's rebalance requests, carried out without Cruise Control by the
//! operator's own planner ([`crate::reassignment`]) and mover ([`crate::moves`]). A reconcile
//! gathers what the resource says, decides ([`state`]), carries the action out here, and writes
//! the status; the proposal it shows is [`proposal`]'s.

pub mod proposal;
pub mod state;

use std::collections::BTreeMap;
use std::sync::Arc;

use api::HasConditions;
use api::kafka::{KafkaRebalance, annotations::CLUSTER_LABEL};
use futures::future::BoxFuture;
use kafka_client::{AdminClient, TopicDescription};
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action as Requeue;
use kube::{Resource, ResourceExt};
use runtime::conditions::{INVALID_SPEC, NOT_SUPPORTED};
use runtime::latest::latest;
use runtime::status::write_stamped;
use runtime::{Context, Error, Namespaces, conditions, pause};

use crate::admin::{AdminError, KafkaAdmins};
use crate::moves::{self, MoveError, Progress};
use crate::reassignment::{self, Goal};
use operator_common::cluster_ref::ClusterRef;
use state::{Action, Input, Outcome, Request, State, Written};

const KIND: &str = "KafkaRebalance";
/// The reason of `NotReady` when the `strimzi.io/cluster` label names no Kafka.
pub const CLUSTER_NOT_FOUND: &str = "ClusterNotFound";

/// Runs the KafkaRebalance controller over the watched namespaces until it stops.
pub async fn run(namespaces: &Namespaces, context: Arc<Context>, admins: Arc<KafkaAdmins>) {
    let controllers = namespaces.scopes().into_iter().map(|scope| {
        let config = context.watch_config();
        let controller = runtime::watches::controller(&context.client, scope.as_deref(), config);
        let admins = admins.clone();
        let reconcile = move |rebalance, context| -> BoxFuture<'static, Result<Requeue, Error>> {
            Box::pin(reconcile(rebalance, context, admins.clone()))
        };
        runtime::controller::drive(KIND, controller, reconcile, context.clone())
    });
    futures::future::join_all(controllers).await;
}

async fn reconcile(
    rebalance: Arc<KafkaRebalance>,
    context: Arc<Context>,
    admins: Arc<KafkaAdmins>,
) -> Result<Requeue, Error> {
    let client = &context.client;
    let Some(rebalance) = latest(client, rebalance.as_ref()).await? else {
        return Ok(Requeue::await_change());
    };
    let current = rebalance.status.clone().unwrap_or_default();
    let generation = rebalance.meta().generation;
    if pause::is_paused(rebalance.meta()) {
        let mut status = current;
        status.set_conditions(vec![conditions::paused()], generation);
        write_stamped(client, rebalance.as_ref(), status).await?;
        return Ok(Requeue::await_change());
    }
    // Gather.
    let annotations = rebalance.annotations();
    let request = Request::parse(
        annotations
            .get(state::REBALANCE_ANNOTATION)
            .map(String::as_str),
    );
    let auto_approval =
        (annotations.get(state::AUTO_APPROVAL_ANNOTATION)).is_some_and(|v| v == "true");
    let was = State::of(current.conditions.as_deref().unwrap_or_default());
    // Decide.
    let decision = state::decide(Input {
        state: was,
        request: request.clone(),
        auto_approval,
        spec_changed: was != State::New && current.observed_generation != generation,
        goal: state::goal(&rebalance.spec),
    });
    // Carry out.
    let outcome = match (
        decision.action.without_cluster(),
        rebalance.labels().get(CLUSTER_LABEL),
    ) {
        (Some(outcome), _) => outcome,
        (None, None) => Outcome::NotReady {
            reason: INVALID_SPEC.into(),
            message: format!("the {CLUSTER_LABEL} label must name the Kafka to rebalance"),
        },
        (None, Some(name)) => {
            let namespace = rebalance.namespace().unwrap_or_default();
            let cluster = ClusterRef {
                namespace,
                name: name.clone(),
            };
            carry_out(&admins, &cluster, decision.action).await?
        }
    };
    // Status, then the request goes: were the status not written, the request is acted on again.
    let status = state::status(
        Written {
            current: &current,
            generation,
            auto_approval,
            ignored: decision.ignored,
            unsupported: state::unsupported(&rebalance.spec),
        },
        outcome,
    );
    let now = State::of(status.conditions.as_deref().unwrap_or_default());
    write_stamped(client, rebalance.as_ref(), status).await?;
    if request.is_some() {
        let api: Api<KafkaRebalance> =
            Api::namespaced(client.clone(), &rebalance.namespace().unwrap_or_default());
        let patch =
            serde_json::json!({"metadata": {"annotations": {state::REBALANCE_ANNOTATION: null}}});
        api.patch(
            &rebalance.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await?;
    }
    let delay = state::requeue(now, auto_approval).unwrap_or(context.resync);
    Ok(Requeue::requeue(delay))
}

/// Carries `action` out on `cluster`. A cluster that cannot be reached leaves a proposal
/// pending; anything else it fails is retried with backoff, the state unchanged.
async fn carry_out(
    admins: &KafkaAdmins,
    cluster: &ClusterRef,
    action: Action,
) -> Result<Outcome, Error> {
    let admin = match admins.admin(cluster).await {
        Ok(admin) => admin,
        Err(AdminError::NoSuchCluster(cluster)) => {
            return Ok(Outcome::NotReady {
                reason: CLUSTER_NOT_FOUND.into(),
                message: format!(
                    "{CLUSTER_LABEL} names the Kafka {cluster}, which does not exist; fix the \
                     label, then annotate with {}=refresh",
                    state::REBALANCE_ANNOTATION
                ),
            });
        }
        Err(error) if matches!(action, Action::Propose { cancel: false, .. }) => {
            return Ok(Outcome::Pending(error.to_string()));
        }
        Err(error) => return Err(Error::transient(error.to_string())),
    };
    let failed = |error: kafka_client::Error| Error::transient(error.to_string());
    Ok(match action {
        Action::Keep => Outcome::Kept,
        Action::Propose { goal, cancel } => {
            if cancel {
                cancel_moves(&admin).await.map_err(failed)?;
            }
            match goal {
                Ok(goal) => propose(&admin, &goal)
                    .await
                    .unwrap_or_else(|error| Outcome::Pending(error.to_string())),
                Err(refusal) => refusal.into(),
            }
        }
        Action::Rebalance { goal } => match moves::advance(&admin, &goal, None).await {
            Ok(Progress::Done) => {
                elect_preferred_leaders(&admin).await.map_err(failed)?;
                Outcome::Done
            }
            Ok(progress) => Outcome::Moving(progress.message()),
            Err(MoveError::Plan(error)) => Outcome::NotReady {
                reason: NOT_SUPPORTED.into(),
                message: error.to_string(),
            },
            Err(error) => return Err(Error::transient(error.to_string())),
        },
        Action::Stop { cancel } => {
            if cancel {
                cancel_moves(&admin).await.map_err(failed)?;
            }
            Outcome::Stopped
        }
    })
}

/// Plans toward `goal` from where the replicas are now, sized by every broker's log dirs.
async fn propose(admin: &AdminClient, goal: &Goal) -> Result<Outcome, kafka_client::Error> {
    let assignment = moves::observe(admin, None).await?;
    let plan = match reassignment::plan(&assignment, goal) {
        Ok(plan) => plan,
        Err(error) => {
            return Ok(Outcome::NotReady {
                reason: NOT_SUPPORTED.into(),
                message: error.to_string(),
            });
        }
    };
    let mut dirs = Vec::new();
    for broker in &assignment.brokers {
        dirs.extend(admin.describe_log_dirs(broker.id).await?);
    }
    let sizes = proposal::partition_sizes(&dirs);
    Ok(Outcome::Proposed(proposal::summary(
        &assignment,
        goal,
        &plan,
        &sizes,
    )))
}

/// Cancels every reassignment in flight (each partition goes back to its replicas from
/// before) and lifts the replication throttles the mover set.
async fn cancel_moves(admin: &AdminClient) -> Result<(), kafka_client::Error> {
    let moving = admin.list_partition_reassignments(None).await?;
    let cancel: BTreeMap<_, _> = moving
        .into_keys()
        .map(|partition| (partition, None))
        .collect();
    if !cancel.is_empty() {
        for ((topic, partition), result) in admin.alter_partition_reassignments(&cancel).await? {
            // One that finished meanwhile has nothing to cancel.
            if let Err(error) = result {
                tracing::info!(topic, partition, %error, "could not cancel a reassignment");
            }
        }
    }
    let brokers: Vec<i32> = (admin.describe_cluster().await?.brokers.iter())
        .map(|b| b.id)
        .collect();
    let topics: Vec<String> = admin.list_topics().await?.into_keys().collect();
    admin.clear_replication_throttles(&brokers, &topics).await?;
    Ok(())
}

/// Hands leadership back to each partition's preferred replica, so the leaders the plan spread
/// lead now rather than at Kafka's next automatic rebalance.
async fn elect_preferred_leaders(admin: &AdminClient) -> Result<(), kafka_client::Error> {
    let elections = off_preferred_leaders(&admin.list_topics().await?);
    if elections.is_empty() {
        return Ok(());
    }
    for ((topic, partition), result) in admin.elect_leaders(&elections).await? {
        if let Err(error) = result {
            tracing::info!(topic, partition, %error, "could not elect the preferred leader");
        }
    }
    Ok(())
}

/// The partitions not led by their preferred replica, when it is in sync and could lead.
fn off_preferred_leaders(topics: &BTreeMap<String, TopicDescription>) -> Vec<(String, i32)> {
    let off = |(name, topic): (&String, &TopicDescription)| {
        (topic.partitions.iter())
            .filter(|p| {
                let preferred = p.replicas.first();
                preferred.is_some_and(|id| p.leader != Some(*id) && p.isr.contains(id))
            })
            .map(|p| (name.clone(), p.partition))
            .collect::<Vec<_>>()
    };
    topics.iter().flat_map(off).collect()
}

#[cfg(test)]
mod tests {
    use kafka_client::PartitionInfo;

    use super::*;

    #[test]
    fn leadership_goes_back_only_to_a_preferred_replica_in_sync() {
        let partition = |partition, leader, isr: &[i32]| PartitionInfo {
            partition,
            leader,
            replicas: vec![1, 2],
            isr: isr.to_vec(),
        };
        let topic = TopicDescription {
            name: "t".into(),
            topic_id: None,
            internal: false,
            partitions: vec![
                partition(0, Some(1), &[1, 2]),
                partition(1, Some(2), &[1, 2]),
                partition(2, Some(2), &[2]),
                partition(3, None, &[1]),
            ],
        };
        let topics = [("t".to_string(), topic)].into();
        assert_eq!(
            off_preferred_leaders(&topics),
            [("t".to_string(), 1), ("t".to_string(), 3)]
        );
    }
}
