//! KafkaUsers: each one labelled `strimzi.io/cluster: <name>` becomes a principal in that Kafka
//! cluster, with SCRAM or TLS credentials in a Secret named after it, ACLs kept exactly in sync,
//! and quotas.
//!
//! [`model`], [`plan`], [`secret`] and [`status`] are pure; `batch` does the I/O, in batches
//! per cluster through the runtime's batched controller.

mod batch;
pub mod model;
pub mod plan;
pub mod secret;
pub mod status;
#[cfg(test)]
pub(crate) mod testing;

use std::sync::Arc;

use crate::admin::KafkaAdmins;
use runtime::{Context, Namespaces};

pub use model::FINALIZER;

/// Runs the KafkaUser operator over the watched namespaces until it stops.
pub async fn run(namespaces: &Namespaces, context: Arc<Context>, admins: Arc<KafkaAdmins>) {
    let reconciler = Arc::new(batch::UserReconciler {
        context: context.clone(),
        admins,
    });
    runtime::batched::run(namespaces, context, reconciler).await;
}
