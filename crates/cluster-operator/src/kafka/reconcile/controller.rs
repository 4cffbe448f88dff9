//! The Kafka controller: what it watches, and one reconcile from observation to status.

use std::sync::Arc;

use api::kafka::{Kafka, KafkaNodePool, KafkaStatus};
use futures::future::BoxFuture;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Service};
use kube::runtime::controller::Action;
use kube::{Client, ResourceExt};
use runtime::labels::STRIMZI_KIND;
use runtime::latest::latest;
use runtime::status::{write_stamped, write_status};
use runtime::watches::{self, by_cluster_label, metadata};
use runtime::{Applier, Context, Error, Flow, conditions, pause};

use super::state::KafkaReconcile;
use super::{node_pools, observe, status, steps};
use crate::admin::KafkaAdmins;
use crate::kafka::identity::restore_node_ids;
use crate::kafka::{Desired, Inputs, validate};
use crate::pod_security::PodPolicy;

/// How soon Kafka is asked again whether refused brokers are empty.
const REMOVAL_RETRY: std::time::Duration = std::time::Duration::from_secs(30);

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
    let reconcile = move |kafka, context| reconcile(kafka, context, admins.clone(), pods);
    runtime::controller::drive("Kafka", controller, reconcile, context.clone()).await;
}

fn reconcile(
    kafka: Arc<Kafka>,
    context: Arc<Context>,
    admins: Arc<KafkaAdmins>,
    pods: PodPolicy,
) -> BoxFuture<'static, Result<Action, Error>> {
    Box::pin(async move {
        let client = &context.client;
        let Some(kafka) = latest(client, kafka.as_ref()).await? else {
            return Ok(Action::await_change());
        };
        let current = kafka.status.as_ref();
        // Every status write carries the ID: one without it would take it away.
        let cluster_id = observe::cluster_id(client, &kafka).await?;
        if pause::is_paused(&kafka.metadata) {
            let paused = KafkaStatus {
                conditions: Some(vec![conditions::paused()]),
                observed_generation: kafka.metadata.generation,
                cluster_id: Some(cluster_id),
                ..current.cloned().unwrap_or_default()
            };
            write_stamped(client, kafka.as_ref(), paused).await?;
            return Ok(Action::await_change());
        }

        let mut pools = observe::node_pools(client, &kafka).await?;
        let without_ids = pools.iter().any(|pool| {
            let ids = pool
                .status
                .as_ref()
                .and_then(|status| status.node_ids.as_ref());
            ids.is_none_or(Vec::is_empty)
        });
        if without_ids {
            let claims = observe::claims(client, &kafka).await?;
            restore_node_ids(&mut pools, &claims, &kafka.name_any());
        }
        let inputs = Inputs {
            new_cluster_id: cluster_id.clone(),
            external_addresses: observe::external_addresses(client, &kafka).await?,
            pods,
        };
        let model = match validate(&kafka, &pools, &inputs) {
            Ok(model) => model,
            Err(invalid) => {
                if !has_condition(current, conditions::NOT_READY) {
                    context
                        .publish(
                            kafka.as_ref(),
                            true,
                            conditions::INVALID_SPEC,
                            invalid.to_string(),
                        )
                        .await;
                }
                let invalid = invalid.to_string();
                refuse(
                    client,
                    &kafka,
                    &cluster_id,
                    conditions::INVALID_SPEC,
                    &invalid,
                )
                .await?;
                return Ok(Action::await_change());
            }
        };
        let refused = node_pools::removal_refusal(client, &kafka, &model, &admins).await?;
        if let Some((reason, message)) = refused {
            // Nothing is applied and the pools keep their node IDs; Kafka is asked again, as
            // partitions may have moved away.
            tracing::info!(kafka = %kafka.name_any(), %message, "refusing to remove nodes");
            refuse(client, &kafka, &cluster_id, &reason, &message).await?;
            return Ok(Action::requeue(REMOVAL_RETRY));
        }
        let desired = Desired::build(&model);
        let mut state = KafkaReconcile {
            kafka: kafka.clone(),
            pools,
            model,
            desired,
            applier: Applier::new(client.clone(), "Kafka", context.metrics.clone()),
            admins,
            cluster_ca_cert: None,
            listeners: Vec::new(),
            node_certificates: Default::default(),
            events: Vec::new(),
            pods: Vec::new(),
            not_ready: Some(("Creating".into(), "the cluster is being created".into())),
        };
        let ran = steps().run(&mut state, &context.metrics).await;
        if let Err(error) = &ran {
            state.not_ready = Some((
                conditions::RECONCILIATION_FAILED.into(),
                crate::failure::message(error),
            ));
        }

        for (reason, note) in std::mem::take(&mut state.events) {
            context.publish(kafka.as_ref(), false, reason, note).await;
        }
        if state.not_ready.is_none() && !has_condition(current, conditions::READY) {
            context
                .publish(
                    kafka.as_ref(),
                    false,
                    "Ready",
                    "every Kafka node is ready".into(),
                )
                .await;
        }
        write_stamped(client, kafka.as_ref(), status::kafka_status(&state)).await?;
        for pool in &state.pools {
            if let Some(modelled) = state.model.pool(&pool.name_any()) {
                let desired =
                    status::node_pool_status(&state.model, modelled, pool.metadata.generation);
                write_status(client, pool, pool.status.as_ref(), &desired).await?;
            }
        }
        Ok(match ran? {
            Flow::Continue => Action::requeue(context.resync),
            Flow::Requeue(delay) => Action::requeue(delay),
            Flow::Stop => Action::await_change(),
        })
    })
}

/// Writes `NotReady` with `reason` and `message`, keeping the rest of the status.
async fn refuse(
    client: &Client,
    kafka: &Kafka,
    cluster_id: &str,
    reason: &str,
    message: &str,
) -> Result<(), Error> {
    let status = KafkaStatus {
        conditions: Some(vec![conditions::not_ready(reason, message)]),
        observed_generation: kafka.metadata.generation,
        cluster_id: Some(cluster_id.to_string()),
        ..kafka.status.clone().unwrap_or_default()
    };
    write_stamped(client, kafka, status).await?;
    Ok(())
}

fn has_condition(status: Option<&KafkaStatus>, type_: &str) -> bool {
    status
        .and_then(|status| status.conditions.as_ref())
        .is_some_and(|conditions| conditions.iter().any(|condition| condition.type_ == type_))
}
