//! TopicTransfers: a topic moves from one RocketMQ cluster (a Broker) to another of the same
//! namespace. Each reconcile gathers what both clusters show ([`gather`]), decides the next
//! action from that alone ([`plan`], pure), carries it out, and reports the phase: so a transfer
//! resumes correctly after the operator stops at any point.

mod gather;
pub mod plan;

use std::sync::Arc;

use api::rocketmq::{RocketMQTopic, TopicTransfer, TopicTransferStatus};
use futures::future::BoxFuture;
use kube::api::{Api, ListParams};
use kube::{Client, ResourceExt};
use operator_common::cluster_ref::ClusterRef;
use operator_common::topics::conflicts::TopicResource;
use operator_common::validation::InvalidSpec;
use runtime::assembly::Assembly;
use runtime::{Applier, Context, Error, Flow, Namespaces, Progress, Readiness, Steps};

use crate::admin::RocketMQAdmins;
use gather::Clusters;
use plan::{Facts, Next};

/// How soon to look again while a transfer waits for consumers or for the clusters.
const RECHECK: std::time::Duration = std::time::Duration::from_secs(2);
const DONE: &str = "Done";

/// The two clusters of a valid TopicTransfer.
pub struct TransferModel {
    pub topic: String,
    pub source: ClusterRef,
    pub target: ClusterRef,
    pub consumer_group: Option<String>,
    /// Finished for this generation already: nothing is asked of the clusters again, so a
    /// topic created anew on the source later is not moved unasked.
    pub finished: bool,
}

pub struct TransferReconcile {
    transfer: Arc<TopicTransfer>,
    model: TransferModel,
    admins: Arc<RocketMQAdmins>,
    progress: Progress,
    facts: Facts,
    next: Option<Next>,
    /// The RocketMQTopic that keeps the topic on the source, if one does.
    kept_on_source_by: Option<String>,
}

pub struct TransferAssembly {
    admins: Arc<RocketMQAdmins>,
}

impl Assembly for TransferAssembly {
    type Resource = TopicTransfer;
    type Status = TopicTransferStatus;
    type Observed = Option<String>;
    type Model = TransferModel;
    type Invalid = InvalidSpec;
    type State = TransferReconcile;
    const KIND: &'static str = "TopicTransfer";
    const READY: &'static str = "the topic moved";

    fn steps() -> Steps<TransferReconcile> {
        Steps::new("TopicTransfer")
            .step("gather", gather_facts)
            .step("act", act)
    }

    fn status(state: &TransferReconcile) -> TopicTransferStatus {
        let phase = match (&state.next, state.model.finished) {
            (_, true) => Some(DONE.to_string()),
            (Some(next), _) => Some(next.phase().to_string()),
            (None, _) => None,
        };
        let groups: Vec<String> = state.facts.groups_on_target.keys().cloned().collect();
        // Once the topic left the source, its groups are found there no more: the status keeps
        // the ones carried over.
        let carried =
            (state.transfer.status.as_ref()).and_then(|status| status.consumer_groups.clone());
        let unconsumed = state.facts.unconsumed_by_group.values().sum::<u64>();
        TopicTransferStatus {
            conditions: Some(vec![state.progress.readiness.condition()]),
            observed_generation: state.transfer.metadata.generation,
            phase,
            consumer_groups: (!groups.is_empty()).then_some(groups).or(carried),
            unconsumed_messages: state.next.is_some().then_some(unconsumed),
        }
    }

    /// The RocketMQTopic of the namespace that keeps the topic on the source cluster, if any
    /// (one whose `strimzi.io/managed` is `"false"` keeps nothing).
    fn observe<'a>(
        &'a self,
        transfer: &'a TopicTransfer,
        client: &'a Client,
    ) -> BoxFuture<'a, Result<Option<String>, Error>> {
        Box::pin(async move {
            let namespace = transfer.namespace().unwrap_or_default();
            let topics: Api<RocketMQTopic> = Api::namespaced(client.clone(), &namespace);
            let listed = topics.list(&ListParams::default()).await?;
            let spec = &transfer.spec;
            Ok((listed.items.iter())
                .find(|topic| {
                    topic.spec.cluster_ref.name == spec.source_cluster
                        && topic.is_managed()
                        && topic.managed_topic_name() == spec.topic
                })
                .map(|topic| topic.name_any()))
        })
    }

    fn validate(
        &self,
        transfer: &TopicTransfer,
        _: &Option<String>,
    ) -> Result<TransferModel, InvalidSpec> {
        validate(transfer)
    }

    fn build(
        &self,
        transfer: Arc<TopicTransfer>,
        kept_on_source_by: Option<String>,
        model: TransferModel,
        _: Applier,
    ) -> TransferReconcile {
        TransferReconcile {
            transfer,
            model,
            admins: self.admins.clone(),
            progress: Progress::creating("the transfer is"),
            facts: Facts::default(),
            next: None,
            kept_on_source_by,
        }
    }

    fn progress(state: &mut TransferReconcile) -> &mut Progress {
        &mut state.progress
    }
}

pub fn validate(transfer: &TopicTransfer) -> Result<TransferModel, InvalidSpec> {
    let spec = &transfer.spec;
    let namespace = transfer.namespace().unwrap_or_default();
    if spec.source_cluster == spec.target_cluster {
        return Err(InvalidSpec::new(
            "spec.targetCluster",
            format!(
                "the topic is already on {}; name another Broker as the target",
                spec.source_cluster
            ),
        ));
    }
    let cluster = |name: &str| ClusterRef {
        namespace: namespace.clone(),
        name: name.to_string(),
    };
    let status = transfer.status.as_ref();
    let finished = status.is_some_and(|status| {
        status.phase.as_deref() == Some(DONE)
            && status.observed_generation == transfer.metadata.generation
    });
    Ok(TransferModel {
        topic: spec.topic.clone(),
        source: cluster(&spec.source_cluster),
        target: cluster(&spec.target_cluster),
        consumer_group: spec
            .consumer_group
            .clone()
            .filter(|group| !group.is_empty()),
        finished,
    })
}

/// Runs the TopicTransfer controller over the watched namespaces until it stops.
pub async fn run(namespaces: &Namespaces, context: Arc<Context>, admins: Arc<RocketMQAdmins>) {
    let controllers = namespaces.scopes().into_iter().map(|scope| {
        let config = context.watch_config();
        let controller = runtime::watches::controller(&context.client, scope.as_deref(), config);
        let assembly = Arc::new(TransferAssembly {
            admins: admins.clone(),
        });
        runtime::assembly::drive(controller, assembly, context.clone())
    });
    futures::future::join_all(controllers).await;
}

fn gather_facts(state: &mut TransferReconcile) -> BoxFuture<'_, Result<Flow, Error>> {
    Box::pin(async move {
        if state.model.finished {
            state.progress.readiness = Readiness::Ready;
            return Ok(Flow::Continue);
        }
        let clusters = Clusters::reach(&state.admins, &state.model).await?;
        state.facts = Facts {
            kept_on_source_by: state.kept_on_source_by.clone(),
            ..clusters.facts(&state.model).await?
        };
        state.next = Some(plan::next(&state.facts));
        Ok(Flow::Continue)
    })
}

/// Carries out the next action; the next reconcile sees it done and decides again.
fn act(state: &mut TransferReconcile) -> BoxFuture<'_, Result<Flow, Error>> {
    Box::pin(async move {
        let Some(next) = state.next.clone() else {
            return Ok(Flow::Continue);
        };
        let model = &state.model;
        let moving = |what: String| Readiness::Held {
            reason: "Transferring",
            message: what,
        };
        state.progress.readiness = match &next {
            Next::Done => Readiness::Ready,
            Next::NothingToMove => Readiness::Held {
                reason: "TopicNotFound",
                message: format!(
                    "the topic {} is on neither {} nor {}",
                    model.topic, model.source.name, model.target.name
                ),
            },
            Next::WaitForProducers(message) => Readiness::Held {
                reason: "WaitingForProducers",
                message: message.clone(),
            },
            Next::WaitForConsumers(message) => Readiness::Held {
                reason: "WaitingForConsumers",
                message: message.clone(),
            },
            Next::WaitForTopicHandOver(topic) => Readiness::Held {
                reason: "WaitingForTopicHandOver",
                message: format!(
                    "the RocketMQTopic {topic} keeps the topic {} on {} and would undo the \
                     move: set its spec.clusterRef.name to {} (the topic operator then keeps \
                     it there) and the transfer goes on",
                    model.topic, model.source.name, model.target.name
                ),
            },
            other => moving(format!("{}: {}", other.phase(), model.topic)),
        };
        if matches!(next, Next::Done | Next::NothingToMove) {
            return Ok(Flow::Continue);
        }
        if !matches!(
            next,
            Next::WaitForProducers(_) | Next::WaitForConsumers(_) | Next::WaitForTopicHandOver(_)
        ) {
            let clusters = Clusters::reach(&state.admins, model).await?;
            clusters.carry_out(&next, model, &state.facts).await?;
            state.progress.event(
                "TopicTransfer",
                format!("{}: {}", next.phase(), model.topic),
            );
        }
        Ok(Flow::Requeue(RECHECK))
    })
}
