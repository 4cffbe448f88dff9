//! The RocketMQ assemblies' I/O: for a NameService, its Service, StatefulSet and readiness; for
//! a Broker, observe and validate into the pure model, then a chain of steps that apply what
//! the model built, roll pods, reach the brokers over the admin protocol, and watch readiness.
//! The status comes last, written only when it changed.

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

use futures::future::BoxFuture;
use runtime::{Error, Flow};

/// How soon to look again while pods start or restart.
const WAIT_FOR_PODS: Duration = Duration::from_secs(5);

type StepResult<'a> = BoxFuture<'a, Result<Flow, Error>>;
