//! Assembly reconcilers. `kafka` turns a Kafka and its KafkaNodePools into a KRaft cluster;
//! `rocketmq` a NameService into name servers and a Broker into groups of RocketMQ brokers.
//!
//! The model and builders are pure: no client, no clock, no randomness, no I/O. They
//! are what unit tests and golden snapshots cover, and what `brokerage render` prints.

pub mod admin_cache;
mod ca_key;
mod ca_secrets;
pub mod claim_templates;
pub mod cluster_ref;
pub mod content_hash;
pub mod jvm;
pub mod kafka;
pub mod manifest;
mod object_names;
pub mod pod_security;
pub mod probes;
pub mod properties;
pub mod quantity;
pub mod rocketmq;
pub mod secret_content;
pub mod validation;

use std::sync::Arc;

use runtime::{Context, Namespaces};

use kafka::admin::KafkaAdmins;
use pod_security::PodPolicy;
use rocketmq::admin::RocketMQAdmins;

/// Runs every assembly controller over the watched namespaces until they stop. `admins` reach
/// the Kafka clusters, to keep rolling updates safe; `rocketmq` the RocketMQ brokers, to tell
/// them new name servers, copy metadata to new groups and keep scale-in safe. `pods` says
/// what the pods the operator creates may be given.
pub async fn controllers(
    namespaces: &Namespaces,
    context: Arc<Context>,
    admins: Arc<KafkaAdmins>,
    rocketmq: Arc<RocketMQAdmins>,
    pods: PodPolicy,
) {
    let scopes = namespaces.scopes();
    let kafka = scopes
        .iter()
        .map(|scope| kafka::reconcile::run(scope.clone(), context.clone(), admins.clone(), pods));
    let name_services = scopes
        .iter()
        .map(|scope| rocketmq::reconcile::run_name_service(scope.clone(), context.clone(), pods));
    let brokers = scopes.iter().map(|scope| {
        rocketmq::reconcile::run_broker(scope.clone(), context.clone(), rocketmq.clone(), pods)
    });
    futures::future::join3(
        futures::future::join_all(kafka),
        futures::future::join_all(name_services),
        futures::future::join_all(brokers),
    )
    .await;
}
