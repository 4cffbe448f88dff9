//! The Console: what its controller watches (the Console, its Deployment and Service, the
//! NameServices of its namespace), and its reconcile: its Service, its Deployment, readiness
//! from the Deployment's ready pods, and the status with the dashboard's address.

use std::sync::Arc;

use api::rocketmq::{Console, ConsoleStatus, NameService};
use futures::future::BoxFuture;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use kube::{Api, Client, ResourceExt};
use runtime::assembly::Assembly;
use runtime::labels::STRIMZI_KIND;
use runtime::watches::{self, metadata};
use runtime::{Applier, Context, Error, Flow, Progress, Steps, conditions};

use super::{StepResult, deployment, of_namespace};
use crate::assembly::console::{ConsoleModel, build_deployment, build_service, validate};
use operator_common::pod_security::PodPolicy;
use operator_common::validation::InvalidSpec;

/// What one reconcile of a Console knows.
pub struct ConsoleReconcile {
    console: Arc<Console>,
    model: ConsoleModel,
    applier: Applier,
    progress: Progress,
    ready_replicas: i32,
}

pub struct ConsoleAssembly {
    pods: PodPolicy,
}

impl Assembly for ConsoleAssembly {
    type Resource = Console;
    type Status = ConsoleStatus;
    type Observed = Vec<NameService>;
    type Model = ConsoleModel;
    type Invalid = InvalidSpec;
    type State = ConsoleReconcile;
    const KIND: &'static str = "Console";
    const READY: &'static str = "every dashboard pod is ready";

    fn steps() -> Steps<ConsoleReconcile> {
        Steps::new("Console")
            .step("service", service)
            .step("deployment", deployment)
            .step("readiness", readiness)
    }

    fn status(state: &ConsoleReconcile) -> ConsoleStatus {
        let mut all = vec![state.progress.readiness.condition()];
        all.extend(
            (state.model.warnings.iter())
                .map(|warning| conditions::warning(warning.reason, &warning.message)),
        );
        ConsoleStatus {
            conditions: Some(all),
            observed_generation: state.console.metadata.generation,
            address: Some(state.model.address()),
            ready_replicas: Some(state.ready_replicas),
        }
    }

    fn observe<'a>(
        &'a self,
        console: &'a Console,
        client: &'a Client,
    ) -> BoxFuture<'a, Result<Vec<NameService>, Error>> {
        Box::pin(async move {
            let namespace = console.namespace().unwrap_or_default();
            let api: Api<NameService> = Api::namespaced(client.clone(), &namespace);
            Ok(api.list(&Default::default()).await?.items)
        })
    }

    fn validate(
        &self,
        console: &Console,
        name_services: &Vec<NameService>,
    ) -> Result<ConsoleModel, InvalidSpec> {
        validate(console, name_services, self.pods)
    }

    fn build(
        &self,
        console: Arc<Console>,
        _: Vec<NameService>,
        model: ConsoleModel,
        applier: Applier,
    ) -> ConsoleReconcile {
        ConsoleReconcile {
            console,
            model,
            applier,
            progress: Progress::creating("the dashboard is"),
            ready_replicas: 0,
        }
    }

    fn progress(state: &mut ConsoleReconcile) -> &mut Progress {
        &mut state.progress
    }
}

/// Runs the Console controller over one scope until it stops.
pub async fn run(scope: Option<String>, context: Arc<Context>, pods: PodPolicy) {
    let client = &context.client;
    let scope = scope.as_deref();
    let ours = context
        .watch_config()
        .labels(&format!("{STRIMZI_KIND}=Console"));
    let controller = watches::controller::<Console>(client, scope, context.watch_config());
    let consoles = controller.store();
    let controller = controller
        .owns_stream(metadata::<Deployment>(client, scope, &ours))
        .owns_stream(metadata::<Service>(client, scope, &ours))
        .watches_stream(
            metadata::<NameService>(client, scope, &context.watch_config()),
            move |name_service| of_namespace(&consoles, &name_service),
        );
    runtime::assembly::drive(controller, Arc::new(ConsoleAssembly { pods }), context).await;
}

fn service(state: &mut ConsoleReconcile) -> StepResult<'_> {
    Box::pin(async move {
        state.applier.apply(&build_service(&state.model)).await?;
        Ok(Flow::Continue)
    })
}

fn deployment(state: &mut ConsoleReconcile) -> StepResult<'_> {
    Box::pin(async move {
        state.applier.apply(&build_deployment(&state.model)).await?;
        Ok(Flow::Continue)
    })
}

fn readiness(state: &mut ConsoleReconcile) -> StepResult<'_> {
    Box::pin(async move {
        let client = state.applier.client();
        let deployment = &state.model.deployment;
        let (flow, ready) =
            deployment::observe(client, deployment, "dashboard", &mut state.progress).await?;
        state.ready_replicas = ready;
        Ok(flow)
    })
}
