//! Assembly reconcilers. `kafka` turns a Kafka and its KafkaNodePools into a KRaft cluster.
//!
//! The model and builders are pure: no client, no clock, no randomness, no I/O. They
//! are what unit tests and golden snapshots cover, and what `brokerage render` prints.

pub mod admin;
pub mod kafka;

use std::sync::Arc;

use runtime::{Context, Namespaces};

use admin::KafkaAdmins;

/// Runs every assembly controller over the watched namespaces until they stop. `admins` reach
/// the Kafka clusters, to keep rolling updates safe.
pub async fn controllers(namespaces: &Namespaces, context: Arc<Context>, admins: Arc<KafkaAdmins>) {
    let kafka = namespaces
        .scopes()
        .into_iter()
        .map(|scope| kafka::reconcile::run(scope, context.clone(), admins.clone()));
    futures::future::join_all(kafka).await;
}
