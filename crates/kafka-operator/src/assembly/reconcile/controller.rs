//! The Kafka controller: what it watches; one reconcile is the assembly frame's.

use std::sync::Arc;

use api::kafka::{Kafka, KafkaNodePool};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Service};
use runtime::labels::STRIMZI_KIND;
use runtime::watches::{self, by_cluster_label, metadata};
use runtime::{Context, Namespaces};

use super::KafkaAssembly;
use crate::admin::KafkaAdmins;
use operator_common::pod_security::PodPolicy;

/// Runs the Kafka controller over the watched namespaces until it stops.
pub async fn run(
    namespaces: &Namespaces,
    context: Arc<Context>,
    admins: Arc<KafkaAdmins>,
    pods: PodPolicy,
) {
    let scopes = namespaces.scopes().into_iter();
    let controllers = scopes.map(|scope| run_in(scope, context.clone(), admins.clone(), pods));
    futures::future::join_all(controllers).await;
}

/// One scope (a namespace, or all of them): the controller reacts to the Kafka, its node pools,
/// and the objects and pods it owns.
async fn run_in(
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
