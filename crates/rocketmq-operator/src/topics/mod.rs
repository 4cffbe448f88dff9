//! RocketMQTopics: each one becomes a topic on every master broker of the RocketMQ cluster its
//! `clusterRef` names, with its queues, permission and message type, and Kubernetes stays the
//! source of truth.
//!
//! [`model`], [`plan`] and [`status`] are pure; `batch` does the I/O: a batch reads every
//! master's topic table once and writes each master's changes in one request.

mod batch;
pub mod model;
pub mod plan;
pub mod status;
#[cfg(test)]
mod testing;

use std::sync::Arc;

use crate::admin::RocketMQAdmins;
use runtime::{Context, Namespaces};

pub use model::FINALIZER;

use operator_common::topics::TopicSettings;

/// Runs the RocketMQTopic operator over the watched namespaces until it stops.
pub async fn run(
    namespaces: &Namespaces,
    context: Arc<Context>,
    admins: Arc<RocketMQAdmins>,
    settings: TopicSettings,
) {
    let reconciler = Arc::new(batch::TopicReconciler {
        context: context.clone(),
        admins,
        delete_topics: settings.delete_topics,
    });
    runtime::batched::run(namespaces, context, reconciler).await;
}
