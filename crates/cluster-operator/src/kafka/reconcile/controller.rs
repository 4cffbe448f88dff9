//! The Kafka controller: what it watches; one reconcile is the assembly frame's.

use std::sync::Arc;

use api::kafka::{Kafka, KafkaNodePool};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Service};
use runtime::Context;
use runtime::labels::STRIMZI_KIND;
use runtime::watches::{self, by_cluster_label, metadata};

use super::KafkaAssembly;
use crate::kafka::admin::KafkaAdmins;
use crate::pod_security::PodPolicy;

/// Runs the Kafka controller over one scope (a namespace, or all of them) until it stops: it
/// reacts to the Kafka, its node pools, and the objects and pods it owns.
pub async fn run(
    scope: Option<String>,
    context: Arc<Context>,
    admins: Arc<KafkaAdmins>,
    pods: PodPolicy,
) {
    let client = &context.client;
    let scope = scope.as_deref();
    let ours = context
        .watch_config()
        .labels(&format!("{STRIMZI_KIND}=Kafka"));
    let controller = watches::controller::<Kafka>(client, scope, context.watch_config())
        .owns_stream(metadata::<StatefulSet>(client, scope, &ours))
        .owns_stream(metadata::<Service>(client, scope, &ours))
        .owns_stream(metadata::<ConfigMap>(client, scope, &ours))
        .watches_stream(
            metadata::<KafkaNodePool>(client, scope, &context.watch_config()),
            by_cluster_label,
        )
        .watches_stream(metadata::<Pod>(client, scope, &ours), by_cluster_label);
    let assembly = Arc::new(KafkaAssembly { admins, pods });
    runtime::assembly::drive(controller, assembly, context).await;
}
