//! The Proxy: what its controller watches (the Proxy, its Deployment and Service, the
//! NameServices and Brokers of its namespace), and its reconcile: its Service, its Deployment,
//! readiness from the Deployment's ready pods, and the status with the proxy's addresses.

use std::sync::Arc;

use api::rocketmq::{Broker, NameService, Proxy, ProxyStatus};
use futures::future::BoxFuture;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use kube::{Api, Client, ResourceExt};
use runtime::assembly::Assembly;
use runtime::labels::STRIMZI_KIND;
use runtime::watches::{self, metadata};
use runtime::{Applier, Context, Error, Flow, Progress, Steps, conditions};

use super::{StepResult, deployment, of_namespace};
use crate::assembly::proxy::{
    ProxyInputs, ProxyModel, build_deployment, build_service, fronted_broker, validate,
};
use crate::assembly::user_config::referenced_config_maps;
use operator_common::pod_security::PodPolicy;
use operator_common::validation::InvalidSpec;

/// What one reconcile of a Proxy knows.
pub struct ProxyReconcile {
    proxy: Arc<Proxy>,
    model: ProxyModel,
    applier: Applier,
    progress: Progress,
    ready_replicas: i32,
}

pub struct ProxyAssembly {
    pods: PodPolicy,
}

impl Assembly for ProxyAssembly {
    type Resource = Proxy;
    type Status = ProxyStatus;
    type Observed = ProxyInputs;
    type Model = ProxyModel;
    type Invalid = InvalidSpec;
    type State = ProxyReconcile;
    const KIND: &'static str = "Proxy";
    const READY: &'static str = "every proxy pod is ready";

    fn steps() -> Steps<ProxyReconcile> {
        Steps::new("Proxy")
            .step("service", service)
            .step("deployment", apply_deployment)
            .step("readiness", readiness)
    }

    fn status(state: &ProxyReconcile) -> ProxyStatus {
        let mut all = vec![state.progress.readiness.condition()];
        all.extend(
            (state.model.warnings.iter())
                .map(|warning| conditions::warning(warning.reason, &warning.message)),
        );
        ProxyStatus {
            conditions: Some(all),
            observed_generation: state.proxy.metadata.generation,
            grpc_address: Some(state.model.grpc_address()),
            remoting_address: Some(state.model.remoting_address()),
            ready_replicas: Some(state.ready_replicas),
        }
    }

    /// The NameServices and Brokers of the namespace, and the ConfigMaps the fronted Broker
    /// mounts.
    fn observe<'a>(
        &'a self,
        proxy: &'a Proxy,
        client: &'a Client,
    ) -> BoxFuture<'a, Result<ProxyInputs, Error>> {
        Box::pin(async move {
            let namespace = proxy.namespace().unwrap_or_default();
            let name_services: Api<NameService> = Api::namespaced(client.clone(), &namespace);
            let brokers: Api<Broker> = Api::namespaced(client.clone(), &namespace);
            let config_map_api: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
            let brokers = brokers.list(&Default::default()).await?.items;
            let mut config_maps = std::collections::BTreeMap::new();
            if let Some(broker) = fronted_broker(&brokers) {
                for name in referenced_config_maps(&broker.spec.pod) {
                    if let Some(found) = config_map_api.get_opt(&name).await? {
                        config_maps.insert(name, found);
                    }
                }
            }
            Ok(ProxyInputs {
                name_services: name_services.list(&Default::default()).await?.items,
                brokers,
                config_maps,
                pods: self.pods,
            })
        })
    }

    fn validate(&self, proxy: &Proxy, inputs: &ProxyInputs) -> Result<ProxyModel, InvalidSpec> {
        validate(proxy, inputs)
    }

    fn build(
        &self,
        proxy: Arc<Proxy>,
        _: ProxyInputs,
        model: ProxyModel,
        applier: Applier,
    ) -> ProxyReconcile {
        ProxyReconcile {
            proxy,
            model,
            applier,
            progress: Progress::creating("the proxy is"),
            ready_replicas: 0,
        }
    }

    fn progress(state: &mut ProxyReconcile) -> &mut Progress {
        &mut state.progress
    }
}

/// Runs the Proxy controller over one scope until it stops. A Broker's change (its ACL
/// settings roll it) reconciles the Proxies of its namespace.
pub async fn run(scope: Option<String>, context: Arc<Context>, pods: PodPolicy) {
    let client = &context.client;
    let scope = scope.as_deref();
    let ours = context
        .watch_config()
        .labels(&format!("{STRIMZI_KIND}=Proxy"));
    let controller = watches::controller::<Proxy>(client, scope, context.watch_config());
    let proxies = controller.store();
    let for_brokers = proxies.clone();
    let controller = controller
        .owns_stream(metadata::<Deployment>(client, scope, &ours))
        .owns_stream(metadata::<Service>(client, scope, &ours))
        .watches_stream(
            metadata::<NameService>(client, scope, &context.watch_config()),
            move |name_service| of_namespace(&proxies, &name_service),
        )
        .watches_stream(
            metadata::<Broker>(client, scope, &context.watch_config()),
            move |broker| of_namespace(&for_brokers, &broker),
        );
    runtime::assembly::drive(controller, Arc::new(ProxyAssembly { pods }), context).await;
}

fn service(state: &mut ProxyReconcile) -> StepResult<'_> {
    Box::pin(async move {
        state.applier.apply(&build_service(&state.model)).await?;
        Ok(Flow::Continue)
    })
}

fn apply_deployment(state: &mut ProxyReconcile) -> StepResult<'_> {
    Box::pin(async move {
        state.applier.apply(&build_deployment(&state.model)).await?;
        Ok(Flow::Continue)
    })
}

fn readiness(state: &mut ProxyReconcile) -> StepResult<'_> {
    Box::pin(async move {
        let client = state.applier.client();
        let deployment = &state.model.deployment;
        let (flow, ready) =
            deployment::observe(client, deployment, "proxy", &mut state.progress).await?;
        state.ready_replicas = ready;
        Ok(flow)
    })
}
