//! One batch: the RocketMQTopics of one cluster that changed or are due, reconciled together.
//! A batch reads each master's topic table once and writes each master's changes in one
//! request, so a thousand topics cost a few requests per master rather than thousands.

use std::collections::BTreeMap;
use std::sync::Arc;

use api::rocketmq::RocketMQTopic;
use cluster_operator::admin::ClusterRef;
use cluster_operator::rocketmq::admin::RocketMQAdmins;
use futures::future::BoxFuture;
use futures::{StreamExt, stream};
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use rocketmq_client::{AdminClient, TopicConfig};
use runtime::batched::{BatchReconciler, set_finalizers, warn_cluster_gone, write_statuses};
use runtime::finalizer::has_finalizer;
use runtime::{Context, pause};

use super::model::{FINALIZER, broker_topic, cluster_of, topic_to_delete, validate};
use super::plan::{Plan, plan};
use super::status::{Outcome, desired_status};
use crate::conflicts::{Owners, TopicResource, sharing_topic};
use crate::finalizers::finalizer_changes;

/// The most topics in one create request: one request answers well within its timeout.
const TOPICS_PER_REQUEST: usize = 1000;
/// Topics deleted at once: RocketMQ deletes one topic per request.
const DELETES_IN_FLIGHT: usize = 16;

/// Reconciles RocketMQTopics in batches, one group per RocketMQ cluster.
pub struct TopicReconciler {
    pub context: Arc<Context>,
    pub admins: Arc<RocketMQAdmins>,
    /// Whether deleting a RocketMQTopic deletes its topic (through the finalizer).
    pub delete_topics: bool,
}

impl BatchReconciler<RocketMQTopic> for TopicReconciler {
    type Group = ClusterRef;

    fn group(&self, topic: &RocketMQTopic) -> ClusterRef {
        cluster_of(topic)
    }

    fn reconcile<'a>(
        &'a self,
        cluster: &'a ClusterRef,
        due: Vec<Arc<RocketMQTopic>>,
        members: &'a [Arc<RocketMQTopic>],
    ) -> BoxFuture<'a, Vec<String>> {
        Box::pin(async move {
            let owners = Owners::index(members.iter().map(AsRef::as_ref));
            reconcile(self, cluster, &due, &owners).await
        })
    }

    /// An older resource that conflicted with others is gone: one of them may own the topic now.
    fn after_delete(&self, deleted: &RocketMQTopic, members: &[Arc<RocketMQTopic>]) -> Vec<String> {
        sharing_topic(deleted, members)
    }
}

/// Reconciles `batch`, RocketMQTopics of `cluster`; `owners` indexes every RocketMQTopic of the
/// cluster. Returns the names of the resources to retry later.
async fn reconcile(
    reconciler: &TopicReconciler,
    cluster: &ClusterRef,
    batch: &[Arc<RocketMQTopic>],
    owners: &Owners,
) -> Vec<String> {
    let mut outcomes = Vec::new();
    let mut to_delete = Vec::new();
    let mut to_release = Vec::new();
    let mut to_sync = Vec::new();
    for topic in batch {
        let finalized = has_finalizer(topic.as_ref(), FINALIZER);
        if topic.metadata.deletion_timestamp.is_some() {
            let owned = topic.is_managed() && owners.conflicting_owner(topic.as_ref()).is_none();
            let deleting = topic_to_delete(topic).filter(|_| owned && reconciler.delete_topics);
            match (finalized, deleting) {
                (false, _) => {}
                (true, Some(name)) => to_delete.push((topic.clone(), name)),
                (true, None) => to_release.push(topic.clone()),
            }
            continue;
        }
        if pause::is_paused(&topic.metadata) {
            outcomes.push((topic.clone(), Outcome::Paused));
            continue;
        }
        if !topic.is_managed() {
            outcomes.push((topic.clone(), Outcome::Unmanaged));
            if finalized {
                to_release.push(topic.clone());
            }
            continue;
        }
        match (validate(topic), owners.conflicting_owner(topic.as_ref())) {
            (Err(message), _) => outcomes.push((topic.clone(), Outcome::InvalidSpec(message))),
            (Ok(_), Some(owner)) => {
                outcomes.push((topic.clone(), Outcome::ResourceConflict(owner.to_string())))
            }
            (Ok(config), None) => to_sync.push((topic.clone(), config)),
        }
    }

    let client = &reconciler.context.client;
    let (needs_finalizer, release) = finalizer_changes(
        to_sync.iter().map(|(topic, _)| topic),
        FINALIZER,
        reconciler.delete_topics,
    );
    to_release.extend(release);
    let mut retry = set_finalizers(client, needs_finalizer, FINALIZER, true).await;
    to_sync.retain(|(topic, _)| !retry.contains(&topic.name_any()));

    if !to_sync.is_empty() || !to_delete.is_empty() {
        let admins = &reconciler.admins;
        let reached = match admins.admin(cluster).await {
            Ok(admin) => masters(&admin, &admins.cluster_name(cluster))
                .await
                .map(|masters| (admin, masters)),
            Err(error) => {
                if !to_delete.is_empty() && admins.is_gone(cluster, &error).await {
                    let gone: Vec<_> = to_delete.drain(..).map(|(topic, _)| topic).collect();
                    let cluster = format!("RocketMQ {cluster}");
                    warn_cluster_gone(&reconciler.context, &gone, &cluster).await;
                    to_release.extend(gone);
                }
                Err(error.to_string())
            }
        };
        match reached {
            Ok((admin, masters)) => {
                let sent = admin.requests_sent();
                let cluster_name = admins.cluster_name(cluster);
                let broker_names: Vec<String> =
                    masters.iter().map(|(name, _)| name.clone()).collect();
                let brokers_own = |name: &str| broker_topic(name, &cluster_name, &broker_names);
                // The brokers' own topics are never deleted, and never synced.
                let (kept, to_delete): (Vec<_>, Vec<_>) = to_delete
                    .into_iter()
                    .partition(|(_, name)| brokers_own(name).is_some());
                to_release.extend(kept.into_iter().map(|(topic, _)| topic));
                let (refused, to_sync): (Vec<_>, Vec<_>) = to_sync
                    .into_iter()
                    .partition(|(_, config)| brokers_own(&config.topic_name).is_some());
                for (topic, config) in refused {
                    let message = brokers_own(&config.topic_name).unwrap_or_default();
                    outcomes.push((topic, Outcome::InvalidSpec(message)));
                }
                let addresses: Vec<String> =
                    masters.into_iter().map(|(_, address)| address).collect();
                let (deleted, failed) = delete(&admin, &addresses, &cluster_name, to_delete).await;
                to_release.extend(deleted);
                retry.extend(failed.iter().map(|topic| topic.name_any()));
                for (topic, outcome) in sync(&admin, &addresses, to_sync).await {
                    if matches!(outcome, Outcome::RocketMQError(_)) {
                        retry.push(topic.name_any());
                    }
                    outcomes.push((topic, outcome));
                }
                let requests = admin.requests_sent().saturating_sub(sent);
                let metrics = &reconciler.context.metrics;
                metrics.observe_broker_requests("RocketMQTopic", requests);
            }
            Err(message) => {
                tracing::warn!(%cluster, %message, "cannot reach RocketMQ");
                retry.extend(to_delete.iter().map(|(topic, _)| topic.name_any()));
                for (topic, _) in to_sync {
                    retry.push(topic.name_any());
                    outcomes.push((topic, Outcome::RocketMQError(message.clone())));
                }
            }
        }
    }

    retry.extend(set_finalizers(client, to_release, FINALIZER, false).await);
    let now = Timestamp::now();
    let statuses = outcomes
        .into_iter()
        .map(|(topic, outcome)| {
            let desired = desired_status(&topic, &outcome, now);
            (topic.clone(), topic.status.clone(), desired)
        })
        .collect();
    retry.extend(write_statuses(client, statuses).await);
    retry
}

/// The broker name and address of every master broker of `cluster_name`, from the name servers.
async fn masters(admin: &AdminClient, cluster_name: &str) -> Result<Vec<(String, String)>, String> {
    let info = admin
        .cluster_info()
        .await
        .map_err(|error| format!("asking the name servers for the brokers: {error}"))?;
    let masters = info.masters(cluster_name);
    match masters.is_empty() {
        true => Err(format!(
            "no master broker of the cluster {cluster_name} is registered with the name servers {}",
            admin.config().name_servers.join(";")
        )),
        false => Ok(masters),
    }
}

/// Reads every master's topics, then creates or updates each topic where it differs, one
/// request per master (per thousand topics).
async fn sync(
    admin: &AdminClient,
    masters: &[String],
    topics: Vec<(Arc<RocketMQTopic>, TopicConfig)>,
) -> Vec<(Arc<RocketMQTopic>, Outcome)> {
    if topics.is_empty() {
        return Vec::new();
    }
    let tables =
        futures::future::join_all(masters.iter().map(|master| admin.topic_configs(master))).await;
    let tables: Result<Vec<_>, String> = masters
        .iter()
        .zip(tables)
        .map(|(master, table)| {
            table.map_err(|error| format!("reading the topics of the broker {master}: {error}"))
        })
        .collect();
    let tables = match tables {
        Ok(tables) => tables,
        Err(message) => {
            return topics
                .into_iter()
                .map(|(topic, _)| (topic, Outcome::RocketMQError(message.clone())))
                .collect();
        }
    };

    let mut outcomes = Vec::new();
    let mut writes: BTreeMap<&String, Vec<TopicConfig>> = BTreeMap::new();
    let mut written = Vec::new();
    for (topic, desired) in topics {
        let previous_name = topic
            .status
            .as_ref()
            .and_then(|status| status.topic_name.as_deref());
        let observed = masters
            .iter()
            .zip(&tables)
            .map(|(master, table)| (master, table.get(&desired.topic_name)));
        match plan(&desired, previous_name, observed) {
            Plan::NotSupported(message) => outcomes.push((topic, Outcome::NotSupported(message))),
            Plan::InSync => outcomes.push((
                topic,
                Outcome::Ready {
                    topic_name: desired.topic_name,
                },
            )),
            Plan::Write(outdated) => {
                for master in masters.iter().filter(|master| outdated.contains(master)) {
                    writes.entry(master).or_default().push(desired.clone());
                }
                written.push((topic, desired.topic_name));
            }
        }
    }

    let mut errors: BTreeMap<String, String> = BTreeMap::new();
    let requests: Vec<(&String, &[TopicConfig])> = writes
        .iter()
        .flat_map(|(master, configs)| {
            configs
                .chunks(TOPICS_PER_REQUEST)
                .map(move |chunk| (*master, chunk))
        })
        .collect();
    let results = futures::future::join_all(
        requests
            .iter()
            .map(|(master, chunk)| admin.create_topics(master, chunk)),
    )
    .await;
    for ((master, chunk), result) in requests.into_iter().zip(results) {
        if let Err(error) = result {
            for config in chunk {
                errors.insert(
                    config.topic_name.clone(),
                    format!("writing the topic to the broker {master}: {error}"),
                );
            }
        }
    }
    outcomes.extend(written.into_iter().map(|(topic, topic_name)| {
        let outcome = match errors.remove(&topic_name) {
            Some(error) => Outcome::RocketMQError(error),
            None => Outcome::Ready { topic_name },
        };
        (topic, outcome)
    }));
    outcomes
}

/// Deletes the topics of deleted RocketMQTopics, each by the name the resource recorded, from
/// every master, then from the name servers' routes. Returns the resources whose finalizer can
/// go, and those to retry.
async fn delete(
    admin: &AdminClient,
    masters: &[String],
    cluster_name: &str,
    topics: Vec<(Arc<RocketMQTopic>, String)>,
) -> (Vec<Arc<RocketMQTopic>>, Vec<Arc<RocketMQTopic>>) {
    let deleting = topics
        .into_iter()
        .map(|(topic, name)| delete_one(admin, masters, cluster_name, topic, name));
    let results: Vec<_> = stream::iter(deleting)
        .buffer_unordered(DELETES_IN_FLIGHT)
        .collect()
        .await;
    let (deleted, failed): (Vec<_>, Vec<_>) = results.into_iter().partition(|(_, ok)| *ok);
    (
        deleted.into_iter().map(|(topic, _)| topic).collect(),
        failed.into_iter().map(|(topic, _)| topic).collect(),
    )
}

/// Deletes one topic from every master, then from the name servers; whether it is gone.
async fn delete_one(
    admin: &AdminClient,
    masters: &[String],
    cluster_name: &str,
    topic: Arc<RocketMQTopic>,
    name: String,
) -> (Arc<RocketMQTopic>, bool) {
    let mut result = Ok(());
    for master in masters {
        result = result.and(admin.delete_topic_in_broker(master, &name).await);
    }
    let result = match result {
        Ok(()) => {
            admin
                .delete_topic_in_name_servers(&name, cluster_name)
                .await
        }
        failed => failed,
    };
    if let Err(error) = &result {
        tracing::warn!(topic = %topic.name_any(), %error, "could not delete the RocketMQ topic");
    }
    (topic, result.is_ok())
}
