//! The RocketMQ assemblies' I/O: for a NameService or a Controller, its Services, StatefulSet
//! and readiness; for a Console or a Proxy, its Service, Deployment and readiness; for a Broker, observe and validate into the pure model, then a chain of steps
//! that apply what the model built, roll pods, reach the brokers over the admin protocol, and
//! watch readiness.
//! The status comes last, written only when it changed.

mod apply;
mod broker;
mod certificates;
mod console;
mod credentials;
mod deployment;
mod elected;
mod metadata;
mod name_servers;
mod observe;
mod proxy;
mod readiness;
mod retries;
mod rolling;
mod scale_in;
mod server_set;
mod state;

use std::sync::Arc;
use std::time::Duration;

use api::rocketmq::{Controller, NameService};
use futures::future::BoxFuture;
use kube::ResourceExt;
use kube::api::PartialObjectMeta;
use kube::runtime::reflector::{ObjectRef, Store};
use operator_common::pod_security::PodPolicy;
use runtime::{Context, Error, Flow, Namespaces};

use crate::admin::RocketMQAdmins;

/// Runs the NameService, Controller, Console, Proxy and Broker controllers over the watched namespaces
/// until they stop.
/// `admins` reach the brokers, to tell them new name servers, copy metadata to new groups and
/// keep scale-in safe.
pub async fn run(
    namespaces: &Namespaces,
    context: Arc<Context>,
    admins: Arc<RocketMQAdmins>,
    pods: PodPolicy,
) {
    let scopes = namespaces.scopes();
    let name_services = scopes
        .iter()
        .map(|scope| server_set::run::<NameService>(scope.clone(), context.clone(), pods));
    let controllers = scopes
        .iter()
        .map(|scope| server_set::run::<Controller>(scope.clone(), context.clone(), pods));
    let consoles = scopes
        .iter()
        .map(|scope| console::run(scope.clone(), context.clone(), pods));
    let proxies = scopes
        .iter()
        .map(|scope| proxy::run(scope.clone(), context.clone(), pods));
    let brokers = scopes
        .iter()
        .map(|scope| broker::run(scope.clone(), context.clone(), admins.clone(), pods));
    futures::future::join5(
        futures::future::join_all(name_services),
        futures::future::join_all(controllers),
        futures::future::join_all(consoles),
        futures::future::join_all(proxies),
        futures::future::join_all(brokers),
    )
    .await;
}

/// How soon to look again while pods start or restart.
const WAIT_FOR_PODS: Duration = Duration::from_secs(5);

type StepResult<'a> = BoxFuture<'a, Result<Flow, Error>>;

/// The resources of `store` in the namespace of `neighbour`: a NameService's name servers are
/// those of the Brokers and Consoles of its namespace that list none, a Controller's
/// controllers those of its namespace's Brokers in controller mode.
fn of_namespace<K, N>(store: &Store<K>, neighbour: &PartialObjectMeta<N>) -> Vec<ObjectRef<K>>
where
    K: kube::Resource<DynamicType = ()> + Clone,
    N: kube::Resource,
{
    let namespace = neighbour.namespace();
    (store.state().iter())
        .filter(|resource| resource.namespace() == namespace)
        .map(|resource| ObjectRef::from_obj(resource.as_ref()))
        .collect()
}
