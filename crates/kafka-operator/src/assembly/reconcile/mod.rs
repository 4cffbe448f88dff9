//! The Kafka assembly's I/O: observe, validate into the pure model, then a chain of steps that
//! apply what the model built, roll pods, and watch readiness; the status comes last.

mod added_brokers;
mod apply;
mod certificates;
mod cluster_id;
mod controller;
mod controller_quorum;
mod discovery;
mod metadata_version;
mod mounted_config_maps;
mod node_pools;
mod node_removal;
mod observe;
mod readiness;
mod rolling;
mod state;
mod status;

pub use controller::run;

use std::sync::Arc;
use std::time::Duration;

use api::kafka::{Kafka, KafkaStatus};
use futures::future::BoxFuture;
use kube::Client;
use runtime::assembly::Assembly;
use runtime::{Applier, Error, Progress, Steps};

use observe::Observed;
use state::KafkaReconcile;

use crate::admin::KafkaAdmins;
use crate::assembly::{Desired, KafkaModel, auto_rebalance, validate};
use operator_common::pod_security::PodPolicy;
use operator_common::validation::InvalidSpec;

/// How soon to look again while pods start or restart.
const WAIT_FOR_PODS: Duration = Duration::from_secs(5);

/// The Kafka assembly, with what its steps need from the operator.
pub struct KafkaAssembly {
    pub admins: Arc<KafkaAdmins>,
    pub pods: PodPolicy,
}

impl Assembly for KafkaAssembly {
    type Resource = Kafka;
    type Status = KafkaStatus;
    type Observed = Observed;
    type Model = KafkaModel;
    type Invalid = InvalidSpec;
    type State = KafkaReconcile;
    const KIND: &'static str = "Kafka";
    const READY: &'static str = "every Kafka node is ready";

    /// The whole Kafka assembly at a glance, in Strimzi's order: the cluster's identity and
    /// what may not change, everything the pods mount before the StatefulSets, then the
    /// rolling update, readiness, where clients connect, and last the removal of what no step
    /// applied.
    fn steps() -> Steps<KafkaReconcile> {
        Steps::new("Kafka")
            .step("cluster-id", cluster_id::record)
            .step("node-removal", node_removal::hold_unsafe_removal)
            .step("certificates", certificates::apply)
            .step("network-policy", apply::network_policy)
            .step("service-account", apply::service_account)
            .step("services", apply::services)
            .step("config-maps", apply::config_maps)
            .step("pod-disruption-budget", apply::pod_disruption_budget)
            .step("mounted-config-maps", mounted_config_maps::check)
            .step("node-pools", node_pools::apply)
            .step("rolling-update", rolling::restart_outdated_pods)
            .step("readiness", readiness::observe)
            .step("controller-quorum", controller_quorum::add_joining)
            .step("metadata-version", metadata_version::upgrade)
            .step("auto-rebalance", added_brokers::fill)
            .step("kafka-exporter", apply::kafka_exporter)
            .step("discovery", discovery::publish)
            .step("sweep", apply::sweep)
    }

    fn status(state: &KafkaReconcile) -> KafkaStatus {
        status::kafka_status(state)
    }

    fn observe<'a>(
        &'a self,
        kafka: &'a Kafka,
        client: &'a Client,
    ) -> BoxFuture<'a, Result<Observed, Error>> {
        Box::pin(observe::observe(client, kafka, self.pods))
    }

    fn validate(&self, kafka: &Kafka, observed: &Observed) -> Result<KafkaModel, InvalidSpec> {
        validate(kafka, &observed.pools, &observed.inputs)
    }

    fn build(
        &self,
        kafka: Arc<Kafka>,
        observed: Observed,
        model: KafkaModel,
        applier: Applier,
    ) -> KafkaReconcile {
        let status = kafka.status.as_ref();
        let recorded_id = status.and_then(|status| status.cluster_id.as_ref());
        let recorded_quorum = status.and_then(|status| status.controller_quorum.as_ref());
        let filling = auto_rebalance::recorded(
            (kafka.status.as_ref()).and_then(|status| status.auto_rebalance.as_ref()),
        );
        let running_metadata_version = (kafka.status.as_ref())
            .and_then(|status| status.kafka_metadata_version.clone())
            .unwrap_or_else(|| model.metadata_version.clone());
        KafkaReconcile {
            identity_recorded: recorded_id == Some(&model.cluster_id)
                && recorded_quorum.map(|quorum| quorum.mode) == Some(model.quorum.mode()),
            quorum_voters: recorded_quorum.and_then(|quorum| quorum.voters.clone()),
            kafka,
            pools: observed.pools,
            desired: Desired::build(&model),
            model,
            applier,
            admins: self.admins.clone(),
            services: observed.services,
            statefulsets: Default::default(),
            cluster_ca_cert: None,
            listeners: Vec::new(),
            node_certificates: Default::default(),
            pods: Vec::new(),
            running_metadata_version,
            filling,
            progress: Progress::creating("the cluster is"),
        }
    }

    fn progress(state: &mut KafkaReconcile) -> &mut Progress {
        &mut state.progress
    }
}
