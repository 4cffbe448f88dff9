//! A dynamic quorum's voters follow the controller pools, one voter at a time. Controllers the
//! model drops are removed from the voters by the node-removal step before their pods go;
//! controllers it adds start as observers, and once the cluster is Ready (this step comes after
//! readiness) each is made a voter when it replicates the metadata log. The status records the
//! voters as Kafka reports them, and a new quorum counts as formed from that first report.

use std::collections::BTreeSet;
use std::time::Duration;

use futures::future::BoxFuture;
use kafka_client::{AdminClient, QuorumInfo, RaftEndpoint};
use runtime::{Error, Flow, Readiness};

use super::state::KafkaReconcile;
use crate::assembly::listeners::{CONTROL_PLANE_LISTENER, CONTROL_PLANE_PORT};
use crate::assembly::quorum::{self, ControllerQuorum, VoterChange};
use crate::assembly::scale_down::id_list;
use operator_common::cluster_ref::ClusterRef;

/// The reason of the condition while voters are added or removed.
pub const CHANGING_QUORUM: &str = "ControllerQuorumChanging";

/// How soon the quorum is looked at again while a voter comes or goes.
pub const POLL: Duration = Duration::from_secs(5);

/// Makes the first controller the model adds a voter, once it replicates the log as an observer.
pub fn add_joining(state: &mut KafkaReconcile) -> BoxFuture<'_, Result<Flow, Error>> {
    Box::pin(async move {
        let ControllerQuorum::Dynamic { formed } = state.model.quorum else {
            return Ok(Flow::Continue);
        };
        let desired: Vec<i32> = state
            .model
            .controllers()
            .iter()
            .map(|node| node.id)
            .collect();
        if !formed {
            state.quorum_voters = Some(desired);
            // Soon again, so that the pool ConfigMaps stop offering the initial voters.
            state.progress.retry_in(POLL);
            return Ok(Flow::Continue);
        }
        if state.quorum_voters.as_ref() == Some(&desired) {
            return Ok(Flow::Continue);
        }
        if let Err(message) = add_next_voter(state).await {
            state.progress.readiness = Readiness::Held {
                reason: CHANGING_QUORUM,
                message,
            };
            state.progress.retry_in(POLL);
        }
        Ok(Flow::Continue)
    })
}

/// `Err` says what the quorum waits for.
async fn add_next_voter(state: &mut KafkaReconcile) -> Result<(), String> {
    let (admin, info) = describe(state).await?;
    let voters = record_voters(state, &info);
    let change = VoterChange::between(&voters, &state.model);
    let Some(&joining) = change.joining.first() else {
        return Ok(());
    };
    let observer = info.observers.iter().find(|member| member.id == joining);
    let Some(directory_id) = observer.and_then(|member| member.directory_id) else {
        return Err(format!(
            "controller {joining} joins the quorum once it replicates the metadata log; \
             voters are {}",
            id_list(&voters)
        ));
    };
    let endpoint = RaftEndpoint {
        listener: CONTROL_PLANE_LISTENER.into(),
        host: quorum::controller_host(&state.model, joining),
        port: CONTROL_PLANE_PORT as u16,
    };
    tracing::info!(kafka = %state.model.cluster, controller = joining, "adding a voter");
    match admin
        .add_raft_voter(joining, directory_id, &[endpoint])
        .await
    {
        Ok(()) => Err(format!("controller {joining} is becoming a voter")),
        Err(error) => Err(format!(
            "Kafka did not make controller {joining} a voter yet, retrying: {error}"
        )),
    }
}

/// The condition that holds the removal of controllers while one of them still votes, after
/// asking Kafka to remove it; `None` once none of them votes.
pub async fn remove_leaving(
    state: &mut KafkaReconcile,
    running: &BTreeSet<i32>,
) -> Option<Readiness> {
    let ControllerQuorum::Dynamic { .. } = state.model.quorum else {
        return None;
    };
    let desired: BTreeSet<i32> = state
        .model
        .controllers()
        .iter()
        .map(|node| node.id)
        .collect();
    let leaving: BTreeSet<i32> = running.difference(&desired).copied().collect();
    if leaving.is_empty() {
        return None;
    }
    let held = |message: String| Readiness::Held {
        reason: CHANGING_QUORUM,
        message,
    };
    let (admin, info) = match describe(state).await {
        Ok(described) => described,
        Err(message) => {
            return Some(held(format!(
                "controllers {} leave the quorum before their pods go: {message}",
                id_list(&leaving)
            )));
        }
    };
    record_voters(state, &info);
    let voter = info
        .voters
        .iter()
        .find(|voter| leaving.contains(&voter.id))?;
    let Some(directory_id) = voter.directory_id else {
        return Some(held(format!(
            "Kafka reports no directory ID for voter {}, so it cannot be removed",
            voter.id
        )));
    };
    tracing::info!(kafka = %state.model.cluster, controller = voter.id, "removing a voter");
    Some(held(
        match admin.remove_raft_voter(voter.id, directory_id).await {
            Ok(()) => format!("controller {} is leaving the quorum's voters", voter.id),
            Err(error) => format!(
                "Kafka did not remove controller {} from the voters yet, retrying: {error}",
                voter.id
            ),
        },
    ))
}

async fn describe(state: &KafkaReconcile) -> Result<(AdminClient, QuorumInfo), String> {
    let cluster = ClusterRef {
        namespace: state.model.namespace.clone(),
        name: state.model.cluster.clone(),
    };
    let asking = |error: String| format!("Kafka cannot be asked who votes: {error}");
    let admin = (state.admins.admin(&cluster).await).map_err(|error| asking(error.to_string()))?;
    let info = (admin.describe_quorum().await).map_err(|error| asking(error.to_string()))?;
    Ok((admin, info))
}

fn record_voters(state: &mut KafkaReconcile, info: &QuorumInfo) -> BTreeSet<i32> {
    let voters: BTreeSet<i32> = info.voters.iter().map(|voter| voter.id).collect();
    state.quorum_voters = Some(voters.iter().copied().collect());
    voters
}
