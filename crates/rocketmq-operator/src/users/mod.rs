//! RocketMQUsers: each one becomes an ACL 2.0 user with its policy entries on every broker of the
//! RocketMQ cluster its `clusterRef` names (ACL 2.0 keeps users in each broker's own store), with
//! the credentials in a Secret named after the resource.
//!
//! [`model`], [`plan`], [`secret`] and [`status`] are pure; `batch` does the I/O, in batches
//! per cluster through the runtime's batched controller.

mod batch;
pub mod model;
pub mod plan;
pub mod secret;
pub mod status;
#[cfg(test)]
mod testing;

use std::sync::Arc;

use crate::admin::RocketMQAdmins;
use runtime::{Context, Namespaces};

pub use model::FINALIZER;

/// Runs the RocketMQUser operator over the watched namespaces until it stops.
pub async fn run(namespaces: &Namespaces, context: Arc<Context>, admins: Arc<RocketMQAdmins>) {
    let reconciler = Arc::new(batch::UserReconciler {
        context: context.clone(),
        admins,
    });
    runtime::batched::run(namespaces, context, reconciler).await;
}
