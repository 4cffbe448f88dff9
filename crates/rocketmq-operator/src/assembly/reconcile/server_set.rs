//! The NameService and the Controller ([`server_set`](crate::assembly::server_set)): what their
//! controllers watch, and their one reconcile: their Services, their StatefulSet, readiness, and
//! the status listing the servers' stable addresses.

use std::fmt::Debug;
use std::marker::PhantomData;
use std::sync::Arc;

use api::HasConditions;
use api::rocketmq::{Controller, ControllerStatus, NameService, NameServiceStatus};
use futures::future::BoxFuture;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Pod, Service};
use kube::core::object::HasStatus;
use kube::{Api, Client, Resource, ResourceExt};
use runtime::assembly::Assembly;
use runtime::labels::STRIMZI_KIND;
use runtime::pods::is_ready;
use runtime::watches::{self, by_cluster_label, metadata};
use runtime::{Applier, Context, Error, Flow, Progress, Readiness, Steps};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{StepResult, WAIT_FOR_PODS};
use crate::assembly::names::{controller_addresses, name_server_addresses};
use crate::assembly::server_set::SetKind;
use crate::assembly::status::{controller_status, name_service_status};
use crate::assembly::{ServerSet, ServerSetDesired, controller, name_service};
use operator_common::claim_templates::{claim_templates_changed, refusal};
use operator_common::pod_security::PodPolicy;
use operator_common::validation::InvalidSpec;

/// A kind made of one set of alike servers.
pub trait ServerSetResource:
    Resource<DynamicType = (), Scope = NamespaceResourceScope>
    + HasStatus
    + DeserializeOwned
    + Clone
    + Debug
    + Send
    + Sync
    + 'static
{
    const SET: SetKind;
    /// The note of the Event when the resource becomes Ready.
    const READY: &'static str;
    fn validate(&self, pods: PodPolicy) -> Result<ServerSet, InvalidSpec>;
    fn build(set: &ServerSet) -> ServerSetDesired;
    /// The status once the steps found the servers `readiness`.
    fn desired_status(&self, readiness: &Readiness) -> Self::Status;
}

impl ServerSetResource for NameService {
    const SET: SetKind = name_service::NAME_SERVICE;
    const READY: &'static str = "every name server is ready";

    fn validate(&self, pods: PodPolicy) -> Result<ServerSet, InvalidSpec> {
        name_service::validate(self, pods)
    }

    fn build(set: &ServerSet) -> ServerSetDesired {
        name_service::build(set)
    }

    fn desired_status(&self, readiness: &Readiness) -> NameServiceStatus {
        let addresses = name_server_addresses(self);
        name_service_status(addresses, readiness, self.metadata.generation)
    }
}

impl ServerSetResource for Controller {
    const SET: SetKind = controller::CONTROLLER;
    const READY: &'static str = "every controller is ready";

    fn validate(&self, pods: PodPolicy) -> Result<ServerSet, InvalidSpec> {
        controller::validate(self, pods)
    }

    fn build(set: &ServerSet) -> ServerSetDesired {
        controller::build(set)
    }

    fn desired_status(&self, readiness: &Readiness) -> ControllerStatus {
        let addresses = controller_addresses(self);
        controller_status(addresses, readiness, self.metadata.generation)
    }
}

/// What one reconcile of a set knows.
pub struct SetReconcile<K> {
    resource: Arc<K>,
    set: ServerSet,
    desired: ServerSetDesired,
    applier: Applier,
    progress: Progress,
}

pub struct ServerSetAssembly<K> {
    pods: PodPolicy,
    kind: PhantomData<fn() -> K>,
}

impl<K: ServerSetResource> Assembly for ServerSetAssembly<K>
where
    K::Status: HasConditions + Serialize + Default + Clone + Send + Sync,
{
    type Resource = K;
    type Status = K::Status;
    type Observed = ();
    type Model = ServerSet;
    type Invalid = InvalidSpec;
    type State = SetReconcile<K>;
    const KIND: &'static str = K::SET.kind;
    const READY: &'static str = K::READY;

    fn steps() -> Steps<SetReconcile<K>> {
        Steps::new(K::SET.kind)
            .step("services", services)
            .step("statefulset", statefulset)
            .step("readiness", readiness)
    }

    fn status(state: &SetReconcile<K>) -> K::Status {
        state.resource.desired_status(&state.progress.readiness)
    }

    fn observe<'a>(&'a self, _: &'a K, _: &'a Client) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async { Ok(()) })
    }

    fn validate(&self, resource: &K, _: &()) -> Result<ServerSet, InvalidSpec> {
        resource.validate(self.pods)
    }

    fn build(&self, resource: Arc<K>, _: (), set: ServerSet, applier: Applier) -> SetReconcile<K> {
        SetReconcile {
            resource,
            desired: K::build(&set),
            set,
            applier,
            progress: Progress::creating(K::SET.creating),
        }
    }

    fn progress(state: &mut SetReconcile<K>) -> &mut Progress {
        &mut state.progress
    }
}

/// Runs the controller of `K` over one scope until it stops.
pub async fn run<K: ServerSetResource>(
    scope: Option<String>,
    context: Arc<Context>,
    pods: PodPolicy,
) where
    K::Status: HasConditions + Serialize + Default + Clone + Send + Sync,
{
    let client = &context.client;
    let scope = scope.as_deref();
    let ours = context
        .watch_config()
        .labels(&format!("{STRIMZI_KIND}={}", K::SET.kind));
    let controller = watches::controller::<K>(client, scope, context.watch_config())
        .owns_stream(metadata::<StatefulSet>(client, scope, &ours))
        .owns_stream(metadata::<Service>(client, scope, &ours))
        .watches_stream(
            metadata::<Pod>(client, scope, &ours),
            by_cluster_label::<Pod, K>,
        );
    let assembly = Arc::new(ServerSetAssembly::<K> {
        pods,
        kind: PhantomData,
    });
    runtime::assembly::drive(controller, assembly, context).await;
}

fn services<K: Send + Sync>(state: &mut SetReconcile<K>) -> StepResult<'_> {
    Box::pin(async move {
        for service in &state.desired.services {
            state.applier.apply(service).await?;
        }
        Ok(Flow::Continue)
    })
}

fn statefulset<K: Send + Sync>(state: &mut SetReconcile<K>) -> StepResult<'_> {
    Box::pin(async move {
        let desired = &state.desired.statefulset;
        let api: Api<StatefulSet> =
            Api::namespaced(state.applier.client().clone(), &state.set.namespace);
        let live = api.get_opt(&desired.name_any()).await?;
        if live
            .as_ref()
            .is_some_and(|live| claim_templates_changed(live, desired))
        {
            let fields = "spec.storageMode and spec.volumeClaimTemplates";
            let message = refusal(&[desired.name_any()], fields);
            state.progress.readiness = Readiness::NotSupported(message);
            return Ok(Flow::Stop);
        }
        state.applier.apply_over(desired, live.as_ref()).await?;
        Ok(Flow::Continue)
    })
}

/// Ready when every server's pod is Ready.
fn readiness<K: ServerSetResource>(state: &mut SetReconcile<K>) -> StepResult<'_> {
    Box::pin(async move {
        let set = &state.set;
        let client = state.applier.client();
        let listed =
            runtime::pods::list_selected(client, &set.namespace, &set.labels().selector()).await?;
        let ready = listed.iter().filter(|pod| is_ready(pod)).count();
        let expected = set.size as usize;
        state.progress.readiness = if ready >= expected && listed.len() == expected {
            Readiness::Ready
        } else {
            Readiness::PodsNotReady {
                ready,
                expected,
                what: K::SET.server,
            }
        };
        Ok(match state.progress.readiness {
            Readiness::Ready => Flow::Continue,
            _ => Flow::Requeue(WAIT_FOR_PODS),
        })
    })
}
