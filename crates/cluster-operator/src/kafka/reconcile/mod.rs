//! The Kafka assembly's I/O: observe, validate into the pure model, then a chain of steps that
//! apply what the model built, roll pods, and watch readiness; the status comes last.

mod apply;
mod certificates;
mod controller;
mod discovery;
mod node_pools;
mod observe;
mod readiness;
mod rolling;
mod state;
mod status;

pub use controller::run;

use std::time::Duration;

use runtime::Steps;

use state::KafkaReconcile;

/// How soon to look again while pods start or restart.
const WAIT_FOR_PODS: Duration = Duration::from_secs(5);

/// The whole Kafka assembly at a glance, in Strimzi's order: everything the pods mount before
/// the StatefulSets, then the rolling update, then readiness.
fn steps() -> Steps<KafkaReconcile> {
    Steps::new("Kafka")
        .step("certificates", certificates::apply)
        .step("network-policy", apply::network_policy)
        .step("service-account", apply::service_account)
        .step("services", apply::services)
        .step("config-maps", apply::config_maps)
        .step("pod-disruption-budget", apply::pod_disruption_budget)
        .step("node-pools", node_pools::apply)
        .step("rolling-update", rolling::restart_outdated_pods)
        .step("readiness", readiness::observe)
        .step("discovery", discovery::publish)
}
