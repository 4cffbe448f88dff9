//! The assembly frame: what every reconcile of a Kafka, a Broker or a NameService does around
//! its steps, written once. A kind supplies what it reads (`observe`), its pure `validate` and
//! `build`, its named `steps` and its `status`; the frame runs
//! pause → observe → validate → steps → events → status → next action.

use std::fmt::{Debug, Display};
use std::sync::Arc;
use std::time::Duration;

use api::HasConditions;
use futures::future::BoxFuture;
use k8s_openapi::NamespaceResourceScope;
use kube::core::object::HasStatus;
use kube::runtime::Controller;
use kube::runtime::controller::Action;
use kube::{Client, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::conditions::{self, INVALID_SPEC, NOT_READY, READY, RECONCILIATION_FAILED};
use crate::latest::latest;
use crate::readiness::{Progress, Readiness};
use crate::status::write_stamped;
use crate::{Applier, Context, Error, Flow, Steps, pause};

/// One kind of assembly: a custom resource the operator turns into Kubernetes objects and pods.
pub trait Assembly: Send + Sync + 'static {
    type Resource: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + HasStatus<Status = Self::Status>
        + DeserializeOwned
        + Clone
        + Debug
        + Send
        + Sync
        + 'static;
    type Status: HasConditions + Serialize + Default + Clone + Send + Sync;
    /// What `validate` needs from the cluster besides the resource.
    type Observed: Send;
    /// The pure model `validate` makes of the resource.
    type Model: Send;
    /// Why `validate` refused the resource, for the `InvalidSpec` condition.
    type Invalid: Display + Send;
    /// What one reconcile's steps share.
    type State: Send;

    /// The kind, for metrics, traces and the `Applier`'s field manager.
    const KIND: &'static str;
    /// The note of the Event when the resource becomes Ready.
    const READY: &'static str;

    /// Reads what `validate` needs (I/O only, no decisions).
    fn observe<'a>(
        &'a self,
        resource: &'a Self::Resource,
        client: &'a Client,
    ) -> BoxFuture<'a, Result<Self::Observed, Error>>;

    /// The model of a valid resource (pure).
    fn validate(
        &self,
        resource: &Self::Resource,
        observed: &Self::Observed,
    ) -> Result<Self::Model, Self::Invalid>;

    /// The reconcile's state: the model and the objects built from it (pure).
    fn build(
        &self,
        resource: Arc<Self::Resource>,
        observed: Self::Observed,
        model: Self::Model,
        applier: Applier,
    ) -> Self::State;

    /// The whole reconcile, step by step.
    fn steps() -> Steps<Self::State>;

    fn progress(state: &mut Self::State) -> &mut Progress;

    /// The status the steps lead to (pure).
    fn status(state: &Self::State) -> Self::Status;
}

/// Drives `controller` (the kind's watches) with `A`'s reconcile until it ends.
pub async fn drive<A: Assembly>(
    controller: Controller<A::Resource>,
    assembly: Arc<A>,
    context: Arc<Context>,
) {
    let reconcile = move |resource, context| -> BoxFuture<'static, Result<Action, Error>> {
        Box::pin(reconcile(assembly.clone(), resource, context))
    };
    crate::controller::drive(A::KIND, controller, reconcile, context).await;
}

/// Runs `A`'s reconcile of `resource` once and says when to look again.
pub async fn reconcile<A: Assembly>(
    assembly: Arc<A>,
    resource: Arc<A::Resource>,
    context: Arc<Context>,
) -> Result<Action, Error> {
    let client = &context.client;
    let Some(resource) = latest(client, resource.as_ref()).await? else {
        return Ok(Action::await_change());
    };
    if pause::is_paused(resource.meta()) {
        keep_status_but(client, resource.as_ref(), conditions::paused()).await?;
        return Ok(Action::await_change());
    }
    let observed = assembly.observe(&resource, client).await?;
    let model = match assembly.validate(&resource, &observed) {
        Ok(model) => model,
        Err(invalid) => {
            let invalid = Readiness::InvalidSpec(invalid.to_string());
            announce(&context, resource.as_ref(), &invalid, A::READY).await;
            keep_status_but(client, resource.as_ref(), invalid.condition()).await?;
            // What is wrong may be another resource (a NameService, a ConfigMap), which the next
            // periodic reconciliation finds.
            return Ok(Action::requeue(context.resync));
        }
    };
    let applier = Applier::new(client.clone(), A::KIND, context.metrics.clone());
    let mut state = assembly.build(resource.clone(), observed, model, applier);
    let ran = A::steps().run(&mut state, &context.metrics).await;
    let progress = A::progress(&mut state);
    if let Err(error) = &ran {
        progress.readiness = Readiness::Failed(error.to_string());
    }
    let events = std::mem::take(&mut progress.events);
    let (readiness, retry_after) = (progress.readiness.clone(), progress.retry_after);
    // The status first: it is what users and tests wait on; the Events follow, even when the
    // status could not be written.
    let written = write_stamped(client, resource.as_ref(), A::status(&state)).await;
    for (reason, note) in events {
        context
            .publish(resource.as_ref(), false, reason, note)
            .await;
    }
    announce(&context, resource.as_ref(), &readiness, A::READY).await;
    written?;
    Ok(next_action(ran?, context.resync, retry_after))
}

/// Publishes an Event when the resource becomes Ready (with `ready_note`), or when a reconcile
/// newly finds its spec invalid or a step failing (not again at every retry).
async fn announce<K>(context: &Context, resource: &K, readiness: &Readiness, ready_note: &str)
where
    K: Resource<DynamicType = ()> + HasStatus,
    K::Status: HasConditions,
{
    let current = resource.status().and_then(HasConditions::conditions);
    let has = |type_: &str, reason: Option<&str>| {
        current.unwrap_or_default().iter().any(|condition| {
            condition.type_ == type_
                && reason.is_none_or(|r| condition.reason.as_deref() == Some(r))
        })
    };
    match readiness {
        Readiness::Ready if !has(READY, None) => {
            context
                .publish(resource, false, READY, ready_note.into())
                .await
        }
        Readiness::InvalidSpec(message) if !has(NOT_READY, Some(INVALID_SPEC)) => {
            context
                .publish(resource, true, INVALID_SPEC, message.clone())
                .await
        }
        Readiness::Failed(message) if !has(NOT_READY, Some(RECONCILIATION_FAILED)) => {
            context
                .publish(resource, true, RECONCILIATION_FAILED, message.clone())
                .await
        }
        _ => {}
    }
}

/// Writes the resource's current status with `condition` in place of its conditions.
async fn keep_status_but<K, S>(
    client: &Client,
    resource: &K,
    condition: api::Condition,
) -> Result<(), Error>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope> + HasStatus<Status = S>,
    K: DeserializeOwned + Clone + Debug,
    S: HasConditions + Serialize + Default + Clone,
{
    let mut status = resource.status().cloned().unwrap_or_default();
    status.set_conditions(vec![condition], resource.meta().generation);
    write_stamped(client, resource, status).await?;
    Ok(())
}

/// The next reconcile after `flow`, or sooner when a step asked to retry something.
pub fn next_action(flow: Flow, resync: Duration, retry_after: Option<Duration>) -> Action {
    let sooner = |delay: Duration| retry_after.map_or(delay, |retry| retry.min(delay));
    match flow {
        Flow::Continue => Action::requeue(sooner(resync)),
        Flow::Requeue(delay) => Action::requeue(sooner(delay)),
        Flow::Stop => retry_after.map_or_else(Action::await_change, Action::requeue),
    }
}
