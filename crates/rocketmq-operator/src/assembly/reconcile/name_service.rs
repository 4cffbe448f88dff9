//! The NameService: what its controller watches, and its reconcile: its headless Service, its
//! StatefulSet, readiness, and the status listing the name servers' stable addresses.

use std::sync::Arc;

use api::rocketmq::{NameService, NameServiceStatus};
use futures::future::BoxFuture;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Pod, Service};
use kube::{Api, Client, ResourceExt};
use runtime::assembly::Assembly;
use runtime::labels::STRIMZI_KIND;
use runtime::pods::is_ready;
use runtime::watches::{self, by_cluster_label, metadata};
use runtime::{Applier, Context, Error, Flow, Progress, Readiness, Steps};

use super::{StepResult, WAIT_FOR_PODS};
use crate::assembly::name_service::validate;
use crate::assembly::names::name_server_addresses;
use crate::assembly::status::name_service_status;
use crate::assembly::{NameServiceDesired, NameServiceModel};
use operator_common::claim_templates::{claim_templates_changed, refusal};
use operator_common::pod_security::PodPolicy;
use operator_common::validation::InvalidSpec;

/// What one reconcile of a NameService knows.
pub struct NameServiceReconcile {
    name_service: Arc<NameService>,
    model: NameServiceModel,
    desired: NameServiceDesired,
    applier: Applier,
    progress: Progress,
}

pub struct NameServiceAssembly {
    pods: PodPolicy,
}

impl Assembly for NameServiceAssembly {
    type Resource = NameService;
    type Status = NameServiceStatus;
    type Observed = ();
    type Model = NameServiceModel;
    type Invalid = InvalidSpec;
    type State = NameServiceReconcile;
    const KIND: &'static str = "NameService";
    const READY: &'static str = "every name server is ready";

    fn steps() -> Steps<NameServiceReconcile> {
        Steps::new("NameService")
            .step("service", service)
            .step("statefulset", statefulset)
            .step("readiness", readiness)
    }

    fn status(state: &NameServiceReconcile) -> NameServiceStatus {
        let name_service = &state.name_service;
        name_service_status(
            name_server_addresses(name_service),
            &state.progress.readiness,
            name_service.metadata.generation,
        )
    }

    fn observe<'a>(
        &'a self,
        _: &'a NameService,
        _: &'a Client,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async { Ok(()) })
    }

    fn validate(
        &self,
        name_service: &NameService,
        _: &(),
    ) -> Result<NameServiceModel, InvalidSpec> {
        validate(name_service, self.pods)
    }

    fn build(
        &self,
        name_service: Arc<NameService>,
        _: (),
        model: NameServiceModel,
        applier: Applier,
    ) -> NameServiceReconcile {
        NameServiceReconcile {
            name_service,
            desired: NameServiceDesired::build(&model),
            model,
            applier,
            progress: Progress::creating("the name servers are"),
        }
    }

    fn progress(state: &mut NameServiceReconcile) -> &mut Progress {
        &mut state.progress
    }
}

/// Runs the NameService controller over one scope until it stops.
pub async fn run(scope: Option<String>, context: Arc<Context>, pods: PodPolicy) {
    let client = &context.client;
    let scope = scope.as_deref();
    let ours = context
        .watch_config()
        .labels(&format!("{STRIMZI_KIND}=NameService"));
    let controller = watches::controller::<NameService>(client, scope, context.watch_config())
        .owns_stream(metadata::<StatefulSet>(client, scope, &ours))
        .owns_stream(metadata::<Service>(client, scope, &ours))
        .watches_stream(
            metadata::<Pod>(client, scope, &ours),
            by_cluster_label::<Pod, NameService>,
        );
    let assembly = Arc::new(NameServiceAssembly { pods });
    runtime::assembly::drive(controller, assembly, context).await;
}

fn service(state: &mut NameServiceReconcile) -> StepResult<'_> {
    Box::pin(async move {
        state.applier.apply(&state.desired.service).await?;
        Ok(Flow::Continue)
    })
}

fn statefulset(state: &mut NameServiceReconcile) -> StepResult<'_> {
    Box::pin(async move {
        let desired = &state.desired.statefulset;
        let api: Api<StatefulSet> =
            Api::namespaced(state.applier.client().clone(), &state.model.namespace);
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

/// Ready when every name server's pod is Ready.
fn readiness(state: &mut NameServiceReconcile) -> StepResult<'_> {
    Box::pin(async move {
        let model = &state.model;
        let client = state.applier.client();
        let listed =
            runtime::pods::list_selected(client, &model.namespace, &model.labels().selector())
                .await?;
        let ready = listed.iter().filter(|pod| is_ready(pod)).count();
        let expected = model.size as usize;
        state.progress.readiness = if ready >= expected && listed.len() == expected {
            Readiness::Ready
        } else {
            Readiness::PodsNotReady {
                ready,
                expected,
                what: "name server",
            }
        };
        Ok(match state.progress.readiness {
            Readiness::Ready => Flow::Continue,
            _ => Flow::Requeue(WAIT_FOR_PODS),
        })
    })
}
