//! The Broker: what its controller watches, and its reconcile, step by step, then its status.

use std::sync::Arc;
use std::time::Duration;

use api::rocketmq::{Broker, BrokerStatus, Controller, NameService};
use futures::future::BoxFuture;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret, Service};
use kube::{Client, ResourceExt};
use runtime::assembly::Assembly;
use runtime::labels::STRIMZI_KIND;
use runtime::watches::{self, by_cluster_label, metadata};
use runtime::{Applier, Context, Error, Progress, Steps};

use super::observe::{self, Observed};
use super::retries::Retries;
use super::state::BrokerReconcile;
use super::{
    apply, certificates, credentials, elected, metadata as group_metadata, name_servers,
    of_namespace, readiness, rolling,
};
use crate::admin::RocketMQAdmins;
use crate::assembly::status::broker_status;
use crate::assembly::{BrokerDesired, BrokerModel, validate};
use operator_common::pod_security::PodPolicy;
use operator_common::validation::InvalidSpec;

/// How soon a group whose scale-in is held is asked about again.
const HELD_SCALE_IN_RECHECK: Duration = Duration::from_secs(30);

pub struct BrokerAssembly {
    admins: Arc<RocketMQAdmins>,
    retries: Arc<Retries>,
    pods: PodPolicy,
}

impl Assembly for BrokerAssembly {
    type Resource = Broker;
    type Status = BrokerStatus;
    type Observed = Observed;
    type Model = BrokerModel;
    type Invalid = InvalidSpec;
    type State = BrokerReconcile;
    const KIND: &'static str = "Broker";
    const READY: &'static str = "every broker is ready";

    /// The whole Broker assembly at a glance: the credentials, certificates and what the pods
    /// mount before the StatefulSets, then the rolling update; then what only the running
    /// brokers can be told (a new name-server list, a new group's metadata), which never holds
    /// up readiness.
    fn steps() -> Steps<BrokerReconcile> {
        Steps::new("Broker")
            .step("credentials", credentials::apply)
            .step("certificates", certificates::apply)
            .step("services", apply::services)
            .step("config-maps", apply::config_maps)
            .step("statefulsets", apply::statefulsets)
            .step("elected", elected::observe)
            .step("rolling-update", rolling::restart_outdated_pods)
            .step("name-servers", name_servers::push)
            .step("metadata", group_metadata::copy_to_new_groups)
            .step("readiness", readiness::observe)
            .step("sweep", apply::sweep)
    }

    fn status(state: &BrokerReconcile) -> BrokerStatus {
        let pods: Vec<String> = state
            .pods
            .iter()
            .map(|pod| pod.name_any())
            .filter(|pod| state.model.node_of_pod(pod).is_some())
            .collect();
        let groups = (state.elected.as_ref())
            .map(|elected| elected.groups.iter().map(|group| group.status()).collect());
        broker_status(
            &state.model,
            &state.progress,
            &pods,
            groups,
            state.broker.metadata.generation,
        )
    }

    fn observe<'a>(
        &'a self,
        broker: &'a Broker,
        client: &'a Client,
    ) -> BoxFuture<'a, Result<Observed, Error>> {
        Box::pin(observe::observe(client, broker, self.pods, &self.admins))
    }

    fn validate(&self, broker: &Broker, observed: &Observed) -> Result<BrokerModel, InvalidSpec> {
        validate(broker, &observed.inputs)
    }

    fn build(
        &self,
        broker: Arc<Broker>,
        observed: Observed,
        model: BrokerModel,
        applier: Applier,
    ) -> BrokerReconcile {
        let mut progress = Progress::creating("the brokers are");
        for group in observed.removed_groups {
            progress.event("ScaleIn", format!("removing broker group {group}"));
        }
        if !observed.inputs.held_groups.is_empty() {
            progress.retry_in(HELD_SCALE_IN_RECHECK);
        }
        BrokerReconcile {
            broker,
            desired: BrokerDesired::build(&model),
            model,
            applier,
            admins: self.admins.clone(),
            retries: self.retries.clone(),
            existing: observed.statefulsets,
            pods: observed.pods,
            metadata_pending: Default::default(),
            elected: None,
            progress,
        }
    }

    fn progress(state: &mut BrokerReconcile) -> &mut Progress {
        &mut state.progress
    }
}

/// Runs the Broker controller over one scope (a namespace, or all of them) until it stops: it
/// reacts to the Broker, the objects and pods it owns, and the NameServices and Controllers of
/// its namespace.
pub async fn run(
    scope: Option<String>,
    context: Arc<Context>,
    admins: Arc<RocketMQAdmins>,
    pods: PodPolicy,
) {
    let client = &context.client;
    let scope = scope.as_deref();
    let ours = context
        .watch_config()
        .labels(&format!("{STRIMZI_KIND}=Broker"));
    let controller = watches::controller::<Broker>(client, scope, context.watch_config());
    let brokers = controller.store();
    let controller = controller
        .owns_stream(metadata::<StatefulSet>(client, scope, &ours))
        .owns_stream(metadata::<Service>(client, scope, &ours))
        .owns_stream(metadata::<ConfigMap>(client, scope, &ours))
        .owns_stream(metadata::<Secret>(client, scope, &ours))
        .watches_stream(
            metadata::<Pod>(client, scope, &ours),
            by_cluster_label::<Pod, Broker>,
        )
        .watches_stream(
            metadata::<NameService>(client, scope, &context.watch_config()),
            {
                let brokers = brokers.clone();
                move |name_service| of_namespace(&brokers, &name_service)
            },
        )
        .watches_stream(
            metadata::<Controller>(client, scope, &context.watch_config()),
            move |controller| of_namespace(&brokers, &controller),
        );
    let assembly = BrokerAssembly {
        admins,
        retries: Arc::new(Retries::default()),
        pods,
    };
    runtime::assembly::drive(controller, Arc::new(assembly), context).await;
}
