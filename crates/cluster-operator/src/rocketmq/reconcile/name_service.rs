//! The NameService controller: its headless Service, its StatefulSet, readiness, and the status
//! listing the name servers' stable addresses.

use std::sync::Arc;

use api::rocketmq::{NameService, NameServiceStatus};
use futures::future::BoxFuture;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Pod, Service};
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};
use runtime::labels::STRIMZI_KIND;
use runtime::latest::latest;
use runtime::status::write_stamped;
use runtime::watches::{self, by_cluster_label, metadata};
use runtime::{Applier, Context, Error, Flow, Steps, conditions, pause};

use super::{StepResult, WAIT_FOR_PODS, has_condition, next_action};
use crate::claim_templates::{claim_templates_changed, refusal};
use crate::pod_security::PodPolicy;
use crate::rocketmq::name_service::validate;
use crate::rocketmq::names::name_server_addresses;
use crate::rocketmq::status::{NotReady, name_service_status};
use crate::rocketmq::{NameServiceDesired, NameServiceModel};
use runtime::conditions::NOT_SUPPORTED;
use runtime::pods::is_ready;

/// What one reconcile of a NameService knows.
pub struct NameServiceReconcile {
    model: NameServiceModel,
    desired: NameServiceDesired,
    applier: Applier,
    not_ready: NotReady,
}

fn steps() -> Steps<NameServiceReconcile> {
    Steps::new("NameService")
        .step("service", service)
        .step("statefulset", statefulset)
        .step("readiness", readiness)
}

/// Runs the NameService controller over one scope until it stops.
pub async fn run(scope: Option<String>, context: Arc<Context>, pods: PodPolicy) {
    let client = &context.client;
    let scope = scope.as_deref();
    let ours = context
        .watch_config()
        .labels(&format!("{STRIMZI_KIND}=NameService"));
    let controller = watches::controller::<NameService>(client, scope, context.watch_config())
        .owns_stream(metadata::<StatefulSet>(client, scope, &ours))
        .owns_stream(metadata::<Service>(client, scope, &ours))
        .watches_stream(
            metadata::<Pod>(client, scope, &ours),
            by_cluster_label::<Pod, NameService>,
        );
    let reconcile = move |name_service, context| reconcile(name_service, context, pods);
    runtime::controller::drive("NameService", controller, reconcile, context.clone()).await;
}

fn reconcile(
    name_service: Arc<NameService>,
    context: Arc<Context>,
    pods: PodPolicy,
) -> BoxFuture<'static, Result<Action, Error>> {
    Box::pin(async move {
        let client = &context.client;
        let Some(name_service) = latest(client, name_service.as_ref()).await? else {
            return Ok(Action::await_change());
        };
        let current = name_service.status.as_ref();
        let generation = name_service.metadata.generation;
        if pause::is_paused(&name_service.metadata) {
            let paused = NameServiceStatus {
                conditions: Some(vec![conditions::paused()]),
                observed_generation: generation,
                ..current.cloned().unwrap_or_default()
            };
            write_stamped(client, name_service.as_ref(), paused).await?;
            return Ok(Action::await_change());
        }
        let model = match validate(&name_service, pods) {
            Ok(model) => model,
            Err(invalid) => {
                let message = invalid.to_string();
                if !has_condition(
                    current.and_then(|s| s.conditions.as_ref()),
                    conditions::NOT_READY,
                ) {
                    context
                        .publish(
                            name_service.as_ref(),
                            true,
                            conditions::INVALID_SPEC,
                            message.clone(),
                        )
                        .await;
                }
                let invalid = Some((conditions::INVALID_SPEC.to_string(), message));
                let status =
                    name_service_status(name_server_addresses(&name_service), &invalid, generation);
                write_stamped(client, name_service.as_ref(), status).await?;
                return Ok(Action::await_change());
            }
        };
        let mut state = NameServiceReconcile {
            desired: NameServiceDesired::build(&model),
            applier: Applier::new(client.clone(), "NameService", context.metrics.clone()),
            not_ready: Some((
                "Creating".into(),
                "the name servers are being created".into(),
            )),
            model,
        };
        let ran = steps().run(&mut state, &context.metrics).await;
        if let Err(error) = &ran {
            state.not_ready = Some((
                conditions::RECONCILIATION_FAILED.into(),
                crate::failure::message(error),
            ));
        }
        let current_conditions = current.and_then(|status| status.conditions.as_ref());
        if state.not_ready.is_none() && !has_condition(current_conditions, conditions::READY) {
            context
                .publish(
                    name_service.as_ref(),
                    false,
                    "Ready",
                    "every name server is ready".into(),
                )
                .await;
        }
        let status = name_service_status(
            name_server_addresses(&name_service),
            &state.not_ready,
            generation,
        );
        write_stamped(client, name_service.as_ref(), status).await?;
        Ok(next_action(ran?, context.resync, None))
    })
}

fn service(state: &mut NameServiceReconcile) -> StepResult<'_> {
    Box::pin(async move {
        state.applier.apply(&state.desired.service).await?;
        Ok(Flow::Continue)
    })
}

fn statefulset(state: &mut NameServiceReconcile) -> StepResult<'_> {
    Box::pin(async move {
        let desired = &state.desired.statefulset;
        let api: Api<StatefulSet> =
            Api::namespaced(state.applier.client().clone(), &state.model.namespace);
        let live = api.get_opt(&desired.name_any()).await?;
        if live
            .as_ref()
            .is_some_and(|live| claim_templates_changed(live, desired))
        {
            let fields = "spec.storageMode and spec.volumeClaimTemplates";
            let message = refusal(&[desired.name_any()], fields);
            state.not_ready = Some((NOT_SUPPORTED.into(), message));
            return Ok(Flow::Stop);
        }
        state.applier.apply_over(desired, live.as_ref()).await?;
        Ok(Flow::Continue)
    })
}

/// Ready when every name server's pod is Ready.
fn readiness(state: &mut NameServiceReconcile) -> StepResult<'_> {
    Box::pin(async move {
        let model = &state.model;
        let client = state.applier.client();
        let listed =
            runtime::pods::list_selected(client, &model.namespace, &model.labels().selector())
                .await?;
        let ready = listed.iter().filter(|pod| is_ready(pod)).count();
        let expected = model.size as usize;
        if ready >= expected && listed.len() == expected {
            state.not_ready = None;
            return Ok(Flow::Continue);
        }
        state.not_ready = Some((
            "PodsNotReady".into(),
            format!("{ready} of {expected} name server pods are ready"),
        ));
        Ok(Flow::Requeue(WAIT_FOR_PODS))
    })
}
