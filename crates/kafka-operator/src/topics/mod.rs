//! KafkaTopics: each one labelled `strimzi.io/cluster: <name>` becomes a topic in that Kafka
//! cluster, and Kubernetes stays the source of truth (Strimzi's unidirectional mode).
//!
//! [`model`], [`plan`] and [`status`] are pure; `batch` does the I/O. The runtime's batched
//! controller queues changes per cluster, and each batch costs a few Kafka requests however many
//! topics it holds.

mod batch;
pub mod model;
pub mod plan;
pub mod status;
#[cfg(test)]
pub(crate) mod testing;

use std::sync::Arc;

use crate::admin::KafkaAdmins;
use runtime::{Context, Namespaces};

pub use model::FINALIZER;

use operator_common::topics::TopicSettings;

/// Runs the KafkaTopic operator over the watched namespaces until it stops.
pub async fn run(
    namespaces: &Namespaces,
    context: Arc<Context>,
    admins: Arc<KafkaAdmins>,
    settings: TopicSettings,
) {
    let reconciler = Arc::new(batch::TopicReconciler {
        context: context.clone(),
        admins,
        delete_topics: settings.delete_topics,
    });
    runtime::batched::run(namespaces, context, reconciler).await;
}
