//! Scale-out: a new broker group starts empty, so its master gets the cluster's topics and
//! subscription groups, copied from an existing master (`spec.scalePodName`, else group 0's)
//! over the admin protocol once both answer. The StatefulSet's `brokerage.io/metadata-copy`
//! annotation records it, so the copy is made once. Until then a condition says what is
//! pending, and the copy is retried with backoff without holding up the rest of the reconcile.

use std::collections::BTreeSet;

use futures::future::BoxFuture;
use k8s_openapi::api::apps::v1::StatefulSet;
use kube::ResourceExt;
use rocketmq_client::AdminClient;
use runtime::{Error, Flow};

use super::state::BrokerReconcile;
use crate::assembly::annotations::METADATA_COPY;
use crate::assembly::metadata_copy::{groups_to_copy, topics_to_copy};
use crate::assembly::model::Node;
use runtime::pods::is_ready;

pub fn copy_to_new_groups(state: &mut BrokerReconcile) -> BoxFuture<'_, Result<Flow, Error>> {
    Box::pin(async move {
        if state.metadata_pending.is_empty() {
            return Ok(Flow::Continue);
        }
        let model = &state.model;
        let source = model.scale_source.clone();
        let ready = |pod: &str| {
            state
                .pods
                .iter()
                .any(|candidate| candidate.name_any() == pod && is_ready(candidate))
        };
        let targets: Vec<(i32, String)> = state
            .metadata_pending
            .iter()
            .map(|group| (*group, model.pod_name(&Node::master(*group))))
            .filter(|(_, pod)| *pod != source)
            .collect();
        let waiting: Vec<&str> = [source.as_str()]
            .into_iter()
            .chain(targets.iter().map(|(_, pod)| pod.as_str()))
            .filter(|pod| !ready(pod))
            .collect();
        let targets_text = targets
            .iter()
            .map(|(_, pod)| pod.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        if !waiting.is_empty() {
            state.progress.warn(
                "MetadataCopyPending",
                format!(
                    "the topics and subscription groups of {source} are copied to {targets_text} \
                     once {} ready",
                    waiting.join(", ")
                ),
            );
            return Ok(Flow::Continue);
        }

        let cluster = model.cluster_ref();
        let key = format!("metadata/{cluster}");
        let mut failures = Vec::new();
        match state.admins.admin(&cluster).await {
            Err(error) => failures.push(error.to_string()),
            Ok(admin) => {
                let from = state.admins.broker_address(&cluster, &source);
                for (group, pod) in targets {
                    let to = state.admins.broker_address(&cluster, &pod);
                    match copy(&admin, &from, &to).await {
                        Ok(()) => {
                            let statefulset = model.statefulset_name(&Node::master(group));
                            let done = format!("copied from {source}");
                            state
                                .applier
                                .annotate::<StatefulSet>(
                                    &model.namespace,
                                    &statefulset,
                                    METADATA_COPY,
                                    Some(&done),
                                )
                                .await?;
                            state.progress.event(
                                "MetadataCopied",
                                format!(
                                    "copied the topics and subscription groups of {source} to {pod}"
                                ),
                            );
                        }
                        Err(error) => failures.push(format!("{pod}: {error}")),
                    }
                }
            }
        }
        if failures.is_empty() {
            state.retries.succeeded(&key);
        } else {
            let delay = state.retries.failed(&key);
            state.progress.warn(
                "MetadataCopyPending",
                format!(
                    "the topics and subscription groups of {source} could not be copied to \
                     {targets_text} yet; retrying ({})",
                    failures.join("; ")
                ),
            );
            state.progress.retry_in(delay);
        }
        Ok(Flow::Continue)
    })
}

/// Copies the topics and subscription groups of the broker at `from` that the one at `to` lacks
/// (see [`crate::assembly::metadata_copy`]).
async fn copy(admin: &AdminClient, from: &str, to: &str) -> rocketmq_client::Result<()> {
    let source_name = admin.broker_config(from).await?.remove("brokerName");
    let present: BTreeSet<String> = admin.topic_configs(to).await?.into_keys().collect();
    let source = admin.topic_configs(from).await?.into_values();
    let topics = topics_to_copy(source, &present, source_name.as_deref());
    admin.create_topics(to, &topics).await?;
    let present: BTreeSet<String> = admin
        .subscription_groups(to)
        .await?
        .into_iter()
        .map(|group| group.name)
        .collect();
    for group in groups_to_copy(admin.subscription_groups(from).await?, &present) {
        admin.update_subscription_group(to, &group).await?;
    }
    Ok(())
}
