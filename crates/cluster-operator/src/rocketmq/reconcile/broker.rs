//! The Broker controller: what it watches, and one reconcile from observation to status.

use std::sync::Arc;

use api::rocketmq::{Broker, BrokerStatus, NameService};
use futures::future::BoxFuture;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret, Service};
use kube::ResourceExt;
use kube::api::PartialObjectMeta;
use kube::runtime::controller::Action;
use kube::runtime::reflector::{ObjectRef, Store};
use runtime::labels::STRIMZI_KIND;
use runtime::latest::latest;
use runtime::status::write_stamped;
use runtime::watches::{self, by_cluster_label, metadata};
use runtime::{Applier, Context, Error, conditions, pause};

use super::retries::Retries;
use super::state::BrokerReconcile;
use super::{broker_steps, has_condition, next_action, observe};
use crate::pod_security::PodPolicy;
use crate::rocketmq::admin::RocketMQAdmins;
use crate::rocketmq::status::broker_status;
use crate::rocketmq::user_config::referenced_config_maps;
use crate::rocketmq::{BrokerDesired, BrokerInputs, validate};

/// Runs the Broker controller over one scope (a namespace, or all of them) until it stops: it
/// reacts to the Broker, the objects and pods it owns, and the NameServices of its namespace.
pub async fn run(
    scope: Option<String>,
    context: Arc<Context>,
    admins: Arc<RocketMQAdmins>,
    pods: PodPolicy,
) {
    let client = &context.client;
    let scope = scope.as_deref();
    let ours = context
        .watch_config()
        .labels(&format!("{STRIMZI_KIND}=Broker"));
    let controller = watches::controller::<Broker>(client, scope, context.watch_config());
    let brokers = controller.store();
    let controller = controller
        .owns_stream(metadata::<StatefulSet>(client, scope, &ours))
        .owns_stream(metadata::<Service>(client, scope, &ours))
        .owns_stream(metadata::<ConfigMap>(client, scope, &ours))
        .owns_stream(metadata::<Secret>(client, scope, &ours))
        .watches_stream(
            metadata::<Pod>(client, scope, &ours),
            by_cluster_label::<Pod, Broker>,
        )
        .watches_stream(
            metadata::<NameService>(client, scope, &context.watch_config()),
            move |name_service| brokers_of_namespace(&brokers, &name_service),
        );
    let retries = Arc::new(Retries::default());
    let reconcile =
        move |broker, context| reconcile(broker, context, admins.clone(), retries.clone(), pods);
    runtime::controller::drive("Broker", controller, reconcile, context.clone()).await;
}

/// A NameService's name servers are those of the Brokers of its namespace that list none.
fn brokers_of_namespace(
    brokers: &Store<Broker>,
    name_service: &PartialObjectMeta<NameService>,
) -> Vec<ObjectRef<Broker>> {
    let namespace = name_service.namespace();
    brokers
        .state()
        .iter()
        .filter(|broker| broker.namespace() == namespace)
        .map(|broker| ObjectRef::from_obj(broker.as_ref()))
        .collect()
}

fn reconcile(
    broker: Arc<Broker>,
    context: Arc<Context>,
    admins: Arc<RocketMQAdmins>,
    retries: Arc<Retries>,
    pods: PodPolicy,
) -> BoxFuture<'static, Result<Action, Error>> {
    Box::pin(async move {
        let client = &context.client;
        let Some(broker) = latest(client, broker.as_ref()).await? else {
            return Ok(Action::await_change());
        };
        let current = broker.status.as_ref();
        if pause::is_paused(&broker.metadata) {
            let paused = BrokerStatus {
                conditions: Some(vec![conditions::paused()]),
                observed_generation: broker.metadata.generation,
                ..current.cloned().unwrap_or_default()
            };
            write_stamped(client, broker.as_ref(), paused).await?;
            return Ok(Action::await_change());
        }

        let namespace = broker.namespace().unwrap_or_default();
        let inputs = BrokerInputs {
            name_services: observe::name_services(client, &namespace).await?,
            config_maps: observe::config_maps(
                client,
                &namespace,
                &referenced_config_maps(&broker.spec.pod),
            )
            .await?,
            pods,
        };
        let model = match validate(&broker, &inputs) {
            Ok(model) => model,
            Err(invalid) => {
                let message = invalid.to_string();
                if !has_condition(
                    current.and_then(|s| s.conditions.as_ref()),
                    conditions::NOT_READY,
                ) {
                    context
                        .publish(
                            broker.as_ref(),
                            true,
                            conditions::INVALID_SPEC,
                            message.clone(),
                        )
                        .await;
                }
                let status = BrokerStatus {
                    conditions: Some(vec![conditions::not_ready(
                        conditions::INVALID_SPEC,
                        &message,
                    )]),
                    observed_generation: broker.metadata.generation,
                    ..current.cloned().unwrap_or_default()
                };
                write_stamped(client, broker.as_ref(), status).await?;
                // What is missing may be another resource (a NameService, a ConfigMap), which
                // the next periodic reconciliation finds.
                return Ok(Action::requeue(context.resync));
            }
        };
        let pods = observe::pods(client, &model).await?;
        let desired = BrokerDesired::build(&model);
        let mut state = BrokerReconcile {
            broker: broker.clone(),
            desired,
            applier: Applier::new(client.clone(), "Broker", context.metrics.clone()),
            admins,
            retries,
            existing: Default::default(),
            pods,
            metadata_pending: Default::default(),
            events: Vec::new(),
            not_ready: Some(("Creating".into(), "the brokers are being created".into())),
            warnings: Vec::new(),
            retry_after: None,
            model,
        };
        let ran = broker_steps().run(&mut state, &context.metrics).await;
        if let Err(error) = &ran {
            state.not_ready = Some((
                conditions::RECONCILIATION_FAILED.into(),
                crate::failure::message(error),
            ));
        }

        for (reason, note) in std::mem::take(&mut state.events) {
            context.publish(broker.as_ref(), false, reason, note).await;
        }
        let current_conditions = current.and_then(|status| status.conditions.as_ref());
        if state.not_ready.is_none() && !has_condition(current_conditions, conditions::READY) {
            context
                .publish(
                    broker.as_ref(),
                    false,
                    "Ready",
                    "every broker is ready".into(),
                )
                .await;
        }
        let pods: Vec<String> = state
            .pods
            .iter()
            .map(|pod| pod.name_any())
            .filter(|pod| state.model.node_of_pod(pod).is_some())
            .collect();
        let status = broker_status(
            &state.model,
            &state.not_ready,
            &state.warnings,
            &pods,
            broker.metadata.generation,
        );
        write_stamped(client, broker.as_ref(), status).await?;
        Ok(next_action(ran?, context.resync, state.retry_after))
    })
}
