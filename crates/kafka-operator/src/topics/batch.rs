//! One batch: the KafkaTopics of one cluster that changed or are due, reconciled together, so
//! a thousand topics cost a handful of Kafka requests rather than thousands.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::admin::KafkaAdmins;
use crate::moves::{self, MoveError, Progress};
use crate::reassignment::Goal;
use api::Condition;
use api::kafka::{KafkaTopic, KafkaTopicStatus};
use futures::future::BoxFuture;
use kafka_client::{AdminClient, ConfigResource, KafkaError, NewTopic};
use kube::ResourceExt;
use operator_common::cluster_ref::ClusterRef;
use runtime::Context;
use runtime::batched::{Batch, BatchOutcomes, Unreachable};

use super::model::{FINALIZER, TopicModel, topic_to_delete, validate};
use super::plan::{ObservedTopic, Plan, plan};
use super::status::{self, Outcome, Topic};
use operator_common::topics::TopicError;
use operator_common::topics::conflicts::claimed_topic;

/// The most topics in one Kafka request: large enough that a full reconciliation of ten
/// thousand topics is a handful of requests, small enough that one answers well within its
/// timeout.
const TOPICS_PER_REQUEST: usize = 1000;

/// Reconciles KafkaTopics in batches, one group per Kafka cluster.
pub struct TopicReconciler {
    pub context: Arc<Context>,
    pub admins: Arc<KafkaAdmins>,
    /// Whether deleting a KafkaTopic deletes its Kafka topic (through the finalizer).
    pub delete_topics: bool,
}

impl Batch<KafkaTopic> for TopicReconciler {
    type Group = ClusterRef;
    type Model = TopicModel;
    type Reached = AdminClient;
    type Ready = Topic;
    type Error = TopicError;
    const FINALIZER: &'static str = FINALIZER;

    fn context(&self) -> &Context {
        &self.context
    }

    fn group(&self, topic: &KafkaTopic) -> ClusterRef {
        ClusterRef::of_or_unlabelled(topic)
    }

    fn claim(&self, topic: &KafkaTopic) -> Option<String> {
        claimed_topic(topic)
    }

    fn validate(&self, topic: &KafkaTopic) -> Result<TopicModel, String> {
        validate(topic)
    }

    fn finalizes(&self) -> bool {
        self.delete_topics
    }

    fn deletes_in_broker(&self, topic: &KafkaTopic) -> bool {
        self.delete_topics && topic_to_delete(topic).is_some()
    }

    fn unreachable(&self, unreachable: &Unreachable) -> TopicError {
        TopicError::Kafka(unreachable.message.clone())
    }

    fn reach<'a>(
        &'a self,
        cluster: &'a ClusterRef,
    ) -> BoxFuture<'a, Result<AdminClient, Unreachable>> {
        Box::pin(self.admins.reach(cluster))
    }

    fn apply<'a>(
        &'a self,
        _: &'a ClusterRef,
        admin: &'a AdminClient,
        sync: Vec<(Arc<KafkaTopic>, TopicModel)>,
        delete: Vec<Arc<KafkaTopic>>,
    ) -> BoxFuture<'a, BatchOutcomes<KafkaTopic, Topic, TopicError>> {
        Box::pin(async move {
            let sent = admin.requests_sent();
            let named = delete
                .into_iter()
                .filter_map(|topic| Some((topic.clone(), topic_to_delete(&topic)?)))
                .collect();
            let (deleted, not_deleted) = delete_in_kafka(admin, named).await;
            let outcomes = sync_with_kafka(admin, sync).await;
            let requests = admin.requests_sent().saturating_sub(sent);
            (self.context.metrics).observe_broker_requests("KafkaTopic", requests);
            BatchOutcomes {
                outcomes,
                deleted,
                not_deleted,
            }
        })
    }

    fn conflict(owner: &str) -> String {
        status::conflict(owner)
    }

    fn status(
        resource: &KafkaTopic,
        ready: Option<&Topic>,
        conditions: Vec<Condition>,
    ) -> KafkaTopicStatus {
        status::status(resource, ready, conditions)
    }
}

/// Deletes the Kafka topics of deleted KafkaTopics, each by the name the resource recorded; a
/// topic already gone counts as deleted. Returns the resources whose finalizer can go, and those
/// to retry.
async fn delete_in_kafka(
    admin: &AdminClient,
    topics: Vec<(Arc<KafkaTopic>, String)>,
) -> (Vec<Arc<KafkaTopic>>, Vec<Arc<KafkaTopic>>) {
    let mut deleted = Vec::new();
    let mut failed = Vec::new();
    for chunk in topics.chunks(TOPICS_PER_REQUEST) {
        let names: Vec<String> = chunk.iter().map(|(_, name)| name.clone()).collect();
        match admin.delete_topics(&names).await {
            Ok(results) => {
                for (topic, name) in chunk {
                    match results.get(name) {
                        Some(Ok(())) => deleted.push(topic.clone()),
                        Some(Err(error))
                            if error.code == KafkaError::UNKNOWN_TOPIC_OR_PARTITION =>
                        {
                            deleted.push(topic.clone())
                        }
                        result => {
                            tracing::warn!(topic = %topic.name_any(), ?result, "could not delete the Kafka topic");
                            failed.push(topic.clone());
                        }
                    }
                }
            }
            Err(error) => {
                tracing::warn!(%error, "could not delete Kafka topics");
                failed.extend(chunk.iter().map(|(topic, _)| topic.clone()));
            }
        }
    }
    (deleted, failed)
}

/// Observes the topics in Kafka, then creates, grows and reconfigures them in batched requests.
async fn sync_with_kafka(
    admin: &AdminClient,
    topics: Vec<(Arc<KafkaTopic>, TopicModel)>,
) -> Vec<(Arc<KafkaTopic>, Outcome)> {
    if topics.is_empty() {
        return Vec::new();
    }
    let observed = match observe(
        admin,
        topics
            .iter()
            .map(|(_, model)| model.topic_name.clone())
            .collect(),
    )
    .await
    {
        Ok(observed) => observed,
        Err(error) => {
            let message = error.to_string();
            return topics
                .into_iter()
                .map(|(topic, _)| (topic, Outcome::Failed(TopicError::Kafka(message.clone()))))
                .collect();
        }
    };

    let mut outcomes = Vec::new();
    let mut creates: Vec<(Arc<KafkaTopic>, NewTopic)> = Vec::new();
    let mut updates = Vec::new();
    for (topic, model) in topics {
        let previous_name = topic
            .status
            .as_ref()
            .and_then(|status| status.topic_name.as_deref());
        let current = match observed.get(&model.topic_name) {
            Some(Ok(current)) => current.as_ref(),
            Some(Err(error)) => {
                let outcome = Outcome::Failed(TopicError::Kafka(error.to_string()));
                outcomes.push((topic.clone(), outcome));
                continue;
            }
            None => None,
        };
        match plan(&model, previous_name, current) {
            Plan::NotSupported(message) => {
                outcomes.push((topic.clone(), Outcome::NotSupported(message)))
            }
            Plan::Create(new_topic) => creates.push((topic.clone(), new_topic)),
            update => {
                let topic_id = current.and_then(|current| current.topic_id.clone());
                updates.push((topic.clone(), model.topic_name.clone(), topic_id, update));
            }
        }
    }

    outcomes.extend(create(admin, creates).await);
    outcomes.extend(update(admin, updates).await);
    outcomes
}

/// What Kafka has for each name: the topic (`None` when it does not exist), or the error that
/// kept it from saying.
async fn observe(
    admin: &AdminClient,
    names: Vec<String>,
) -> Result<BTreeMap<String, Result<Option<ObservedTopic>, KafkaError>>, kafka_client::Error> {
    let mut descriptions = BTreeMap::new();
    for chunk in names.chunks(TOPICS_PER_REQUEST) {
        descriptions.extend(admin.describe_topics(chunk).await?);
    }
    let existing: Vec<ConfigResource> = descriptions
        .iter()
        .filter(|(_, description)| description.is_ok())
        .map(|(name, _)| ConfigResource::Topic(name.clone()))
        .collect();
    let mut configs = BTreeMap::new();
    for chunk in existing.chunks(TOPICS_PER_REQUEST) {
        configs.extend(admin.describe_configs(chunk).await?);
    }
    Ok(descriptions
        .into_iter()
        .map(|(name, description)| {
            let observed = match description {
                Ok(description) => match configs.remove(&ConfigResource::Topic(name.clone())) {
                    Some(Ok(config)) => Ok(Some(ObservedTopic::new(&description, &config))),
                    Some(Err(error)) => Err(error),
                    None => Ok(Some(ObservedTopic::new(&description, &[]))),
                },
                Err(error) if error.code == KafkaError::UNKNOWN_TOPIC_OR_PARTITION => Ok(None),
                Err(error) => Err(error),
            };
            (name, observed)
        })
        .collect())
}

async fn create(
    admin: &AdminClient,
    creates: Vec<(Arc<KafkaTopic>, NewTopic)>,
) -> Vec<(Arc<KafkaTopic>, Outcome)> {
    let mut outcomes = Vec::new();
    for chunk in creates.chunks(TOPICS_PER_REQUEST) {
        let new_topics: Vec<NewTopic> = chunk
            .iter()
            .map(|(_, new_topic)| new_topic.clone())
            .collect();
        let results = admin.create_topics(&new_topics).await;
        for (topic, new_topic) in chunk {
            let outcome = match &results {
                Ok(results) => match results.get(&new_topic.name) {
                    Some(Ok(created)) => Outcome::Ready(Topic {
                        topic_name: new_topic.name.clone(),
                        topic_id: created.topic_id.clone(),
                        replicas_change: None,
                    }),
                    // The broker described had not learned of the topic yet.
                    Some(Err(error)) if error.code == KafkaError::TOPIC_ALREADY_EXISTS => {
                        Outcome::LookAgain
                    }
                    Some(Err(error)) => failed(format!("creating the topic: {error}")),
                    None => failed("Kafka did not answer for this topic".into()),
                },
                Err(error) => failed(error.to_string()),
            };
            outcomes.push((topic.clone(), outcome));
        }
    }
    outcomes
}

/// Grows partitions, applies config changes and moves replicas; a topic is Ready when all
/// succeeded and no partition is left to move.
async fn update(
    admin: &AdminClient,
    updates: Vec<(Arc<KafkaTopic>, String, Option<String>, Plan)>,
) -> Vec<(Arc<KafkaTopic>, Outcome)> {
    let mut errors: BTreeMap<String, String> = BTreeMap::new();
    let increases: Vec<(String, i32)> = updates
        .iter()
        .filter_map(|(_, name, _, plan)| match plan {
            Plan::Update {
                partitions: Some(count),
                ..
            } => Some((name.clone(), *count)),
            _ => None,
        })
        .collect();
    for chunk in increases.chunks(TOPICS_PER_REQUEST) {
        match admin.create_partitions(chunk).await {
            Ok(results) => errors.extend(results.into_iter().filter_map(|(name, result)| {
                result
                    .err()
                    .map(|error| (name, format!("adding partitions: {error}")))
            })),
            Err(error) => errors.extend(
                chunk
                    .iter()
                    .map(|(name, _)| (name.clone(), error.to_string())),
            ),
        }
    }
    let changes: Vec<(ConfigResource, Vec<kafka_client::ConfigOp>)> = updates
        .iter()
        .filter_map(|(_, name, _, plan)| match plan {
            Plan::Update { config, .. } if !config.is_empty() => {
                Some((ConfigResource::Topic(name.clone()), config.clone()))
            }
            _ => None,
        })
        .collect();
    for chunk in changes.chunks(TOPICS_PER_REQUEST) {
        match admin.incremental_alter_configs(chunk).await {
            Ok(results) => errors.extend(results.into_iter().filter_map(|(resource, result)| {
                let ConfigResource::Topic(name) = resource else {
                    return None;
                };
                result
                    .err()
                    .map(|error| (name, format!("changing the configuration: {error}")))
            })),
            Err(error) => errors.extend(chunk.iter().filter_map(|(resource, _)| match resource {
                ConfigResource::Topic(name) => Some((name.clone(), error.to_string())),
                ConfigResource::Broker(_) => None,
            })),
        }
    }
    let mut outcomes = Vec::new();
    for (topic, name, topic_id, plan) in updates {
        let ready = Topic {
            topic_name: name.clone(),
            topic_id,
            replicas_change: None,
        };
        let outcome = match errors.remove(&name) {
            Some(error) => failed(error),
            None => match replicas_to_reach(&topic, &plan) {
                Some(replicas) => change_replicas(admin, ready, replicas).await,
                None => Outcome::Ready(ready),
            },
        };
        outcomes.push((topic, outcome));
    }
    outcomes
}

/// The replication factor the topic moves to: the spec's while partitions differ from it,
/// and the one recorded as ongoing until the move has cleaned up after itself.
fn replicas_to_reach(topic: &KafkaTopic, plan: &Plan) -> Option<i16> {
    let Plan::Update { replicas, .. } = plan else {
        return None;
    };
    let recorded = (topic.status.as_ref())
        .and_then(|status| status.replicas_change.as_ref()?.target_replicas)
        .and_then(|target| i16::try_from(target).ok());
    replicas.or(recorded)
}

/// One step of a replication factor change, by partition reassignment.
async fn change_replicas(admin: &AdminClient, ready: Topic, replicas: i16) -> Outcome {
    let goal = Goal::ReplicationFactor {
        topic: ready.topic_name.clone(),
        replicas: usize::try_from(replicas).unwrap_or_default(),
    };
    match moves::advance(admin, &goal, Some(std::slice::from_ref(&ready.topic_name))).await {
        Ok(Progress::Done) => Outcome::Ready(ready),
        Ok(progress) => status::replicas_changing(ready, replicas, &progress),
        Err(MoveError::Plan(error)) => Outcome::NotSupported(error.to_string()),
        Err(error) => failed(format!("changing the replication factor: {error}")),
    }
}

fn failed(message: String) -> Outcome {
    Outcome::Failed(TopicError::Kafka(message))
}
