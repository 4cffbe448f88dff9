//! The RocketMQ assembly's I/O: for a NameService, its Service, StatefulSet and readiness; for a
//! Broker, observe and validate into the pure model, then a chain of steps that apply what the
//! model built, roll pods, reach the brokers over the admin protocol, and watch readiness. The
//! status comes last, written only when it changed.

mod apply;
mod broker;
mod certificates;
mod credentials;
mod metadata;
mod name_servers;
mod name_service;
mod observe;
mod readiness;
mod retries;
mod rolling;
mod scale_in;
mod state;

pub use broker::run as run_broker;
pub use name_service::run as run_name_service;

use std::time::Duration;

use api::Condition;
use futures::future::BoxFuture;
use kube::runtime::controller::Action;
use runtime::{Error, Flow, Steps};

use state::BrokerReconcile;

/// How soon to look again while pods start or restart.
const WAIT_FOR_PODS: Duration = Duration::from_secs(5);

type StepResult<'a> = BoxFuture<'a, Result<Flow, Error>>;

/// The whole Broker assembly at a glance: the credentials, certificates and what the pods mount
/// before the StatefulSets, then the rolling update; then what only the running brokers can be
/// told (a new name-server list, a new group's metadata), which never holds up readiness.
fn broker_steps() -> Steps<BrokerReconcile> {
    Steps::new("Broker")
        .step("credentials", credentials::apply)
        .step("certificates", certificates::apply)
        .step("scale-in", scale_in::decide)
        .step("services", apply::services)
        .step("config-maps", apply::config_maps)
        .step("statefulsets", apply::statefulsets)
        .step("rolling-update", rolling::restart_outdated_pods)
        .step("name-servers", name_servers::push)
        .step("metadata", metadata::copy_to_new_groups)
        .step("readiness", readiness::observe)
}

/// Keeps the transition times of conditions that did not change, so an unchanged status
/// compares equal and is not written.
fn has_condition(current: Option<&Vec<Condition>>, type_: &str) -> bool {
    current.is_some_and(|conditions| conditions.iter().any(|condition| condition.type_ == type_))
}

/// The next reconcile after `flow`, or sooner when a step asked to retry something.
fn next_action(flow: Flow, resync: Duration, retry_after: Option<Duration>) -> Action {
    let sooner = |delay: Duration| retry_after.map_or(delay, |retry| retry.min(delay));
    match flow {
        Flow::Continue => Action::requeue(sooner(resync)),
        Flow::Requeue(delay) => Action::requeue(sooner(delay)),
        Flow::Stop => retry_after.map_or_else(Action::await_change, Action::requeue),
    }
}
