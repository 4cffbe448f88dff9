//! One batch: the RocketMQTopics of one cluster that changed or are due, reconciled together.
//! A batch reads each master's topic table once and writes each master's changes in one
//! request, so a thousand topics cost a few requests per master rather than thousands.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::admin::RocketMQAdmins;
use api::Condition;
use api::rocketmq::{RocketMQTopic, RocketMQTopicStatus};
use futures::future::BoxFuture;
use futures::{StreamExt, stream};
use kube::ResourceExt;
use operator_common::cluster_ref::ClusterRef;
use rocketmq_client::{AdminClient, TopicConfig};
use runtime::Context;
use runtime::batched::{Batch, BatchOutcomes, Unreachable};

use super::model::{FINALIZER, broker_topic, cluster_of, topic_to_delete, validate};
use super::plan::{Plan, plan};
use super::status::{self, Outcome, Topic};
use operator_common::topics::TopicError;
use operator_common::topics::conflicts::claimed_topic;

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

/// A RocketMQ cluster as a batch reached it: the connection, the cluster's name, and its
/// masters' broker names and addresses.
pub struct Reached {
    admin: AdminClient,
    cluster_name: String,
    masters: Vec<(String, String)>,
}

impl Batch<RocketMQTopic> for TopicReconciler {
    type Group = ClusterRef;
    type Model = TopicConfig;
    type Reached = Reached;
    type Ready = Topic;
    type Error = TopicError;
    const FINALIZER: &'static str = FINALIZER;

    fn context(&self) -> &Context {
        &self.context
    }

    fn group(&self, topic: &RocketMQTopic) -> ClusterRef {
        cluster_of(topic)
    }

    fn claim(&self, topic: &RocketMQTopic) -> Option<String> {
        claimed_topic(topic)
    }

    fn validate(&self, topic: &RocketMQTopic) -> Result<TopicConfig, String> {
        validate(topic)
    }

    fn finalizes(&self) -> bool {
        self.delete_topics
    }

    fn deletes_in_broker(&self, topic: &RocketMQTopic) -> bool {
        self.delete_topics && topic_to_delete(topic).is_some()
    }

    fn unreachable(&self, unreachable: &Unreachable) -> TopicError {
        TopicError::RocketMQ(unreachable.message.clone())
    }

    fn reach<'a>(&'a self, cluster: &'a ClusterRef) -> BoxFuture<'a, Result<Reached, Unreachable>> {
        Box::pin(async move {
            let admin = self.admins.reach(cluster).await?;
            let cluster_name = self.admins.cluster_name(cluster);
            match masters(&admin, &cluster_name).await {
                Ok(masters) => Ok(Reached {
                    admin,
                    cluster_name,
                    masters,
                }),
                Err(message) => Err(Unreachable {
                    message,
                    gone: false,
                }),
            }
        })
    }

    fn apply<'a>(
        &'a self,
        _: &'a ClusterRef,
        reached: &'a Reached,
        sync: Vec<(Arc<RocketMQTopic>, TopicConfig)>,
        delete: Vec<Arc<RocketMQTopic>>,
    ) -> BoxFuture<'a, BatchOutcomes<RocketMQTopic, Topic, TopicError>> {
        Box::pin(async move {
            let Reached {
                admin,
                cluster_name,
                masters,
            } = reached;
            let sent = admin.requests_sent();
            let broker_names: Vec<String> = masters.iter().map(|(name, _)| name.clone()).collect();
            let brokers_own = |name: &str| broker_topic(name, cluster_name, &broker_names);
            let mut applied = BatchOutcomes::default();
            // The brokers' own topics are never deleted, and never synced.
            let named = delete
                .into_iter()
                .filter_map(|topic| Some((topic.clone(), topic_to_delete(&topic)?)));
            let (kept, delete): (Vec<_>, Vec<_>) =
                named.partition(|(_, name)| brokers_own(name).is_some());
            applied
                .deleted
                .extend(kept.into_iter().map(|(topic, _)| topic));
            let (refused, sync): (Vec<_>, Vec<_>) = sync
                .into_iter()
                .partition(|(_, config)| brokers_own(&config.topic_name).is_some());
            for (topic, config) in refused {
                let message = brokers_own(&config.topic_name).unwrap_or_default();
                applied
                    .outcomes
                    .push((topic, Outcome::InvalidSpec(message)));
            }
            let addresses: Vec<String> =
                masters.iter().map(|(_, address)| address.clone()).collect();
            let (deleted, not_deleted) =
                delete_topics(admin, &addresses, cluster_name, delete).await;
            applied.deleted.extend(deleted);
            applied.not_deleted = not_deleted;
            applied
                .outcomes
                .extend(sync_topics(admin, &addresses, sync).await);
            let requests = admin.requests_sent().saturating_sub(sent);
            (self.context.metrics).observe_broker_requests("RocketMQTopic", requests);
            applied
        })
    }

    fn conflict(owner: &str) -> String {
        status::conflict(owner)
    }

    fn status(
        resource: &RocketMQTopic,
        ready: Option<&Topic>,
        conditions: Vec<Condition>,
    ) -> RocketMQTopicStatus {
        status::status(resource, ready, conditions)
    }
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
async fn sync_topics(
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
                .map(|(topic, _)| (topic, failed(message.clone())))
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
                Outcome::Ready(Topic {
                    topic_name: desired.topic_name,
                }),
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
            Some(error) => failed(error),
            None => Outcome::Ready(Topic { topic_name }),
        };
        (topic, outcome)
    }));
    outcomes
}

/// Deletes the topics of deleted RocketMQTopics, each by the name the resource recorded, from
/// every master, then from the name servers' routes. Returns the resources whose finalizer can
/// go, and those to retry.
async fn delete_topics(
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

fn failed(message: String) -> Outcome {
    Outcome::Failed(TopicError::RocketMQ(message))
}
