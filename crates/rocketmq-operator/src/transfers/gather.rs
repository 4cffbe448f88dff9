//! The TopicTransfer's I/O: both clusters' masters, what they show of the topic and its
//! consumer groups ([`Facts`]), and the actions [`Next`] names, each one the brokers accept
//! again when it is repeated.

use std::collections::BTreeMap;

use rocketmq_client::{AdminClient, SubscriptionGroup, TopicConfig};
use runtime::Error;

use super::TransferModel;
use super::plan::{Facts, Next};
use crate::admin::RocketMQAdmins;
use operator_common::cluster_ref::ClusterRef;

/// `PermName`: read, and read and write.
const READ_ONLY: i32 = 4;
const READ_WRITE: i32 = 6;
const WRITE: i32 = 2;

/// One cluster: its admin client, the name its brokers register, and its masters' addresses.
struct Side {
    admin: AdminClient,
    cluster_name: String,
    masters: Vec<String>,
}

pub struct Clusters {
    source: Side,
    target: Side,
}

impl Clusters {
    pub async fn reach(admins: &RocketMQAdmins, model: &TransferModel) -> Result<Clusters, Error> {
        Ok(Clusters {
            source: side(admins, &model.source).await?,
            target: side(admins, &model.target).await?,
        })
    }

    pub async fn facts(&self, model: &TransferModel) -> Result<Facts, Error> {
        let topic = &model.topic;
        let source_configs = self.source.topic_configs(topic).await?;
        let target_configs = self.target.topic_configs(topic).await?;
        let mut facts = Facts {
            on_source: !source_configs.is_empty(),
            source_writable: source_configs.iter().any(|config| config.perm & WRITE != 0),
            on_target: target_configs.len() == self.target.masters.len(),
            ..Facts::default()
        };
        for master in &self.source.masters {
            let backlog = (self.source.admin.topic_backlog(master, topic).await)
                .map_err(|error| failed(&self.source, error))?;
            facts.source_messages += backlog.messages;
            let since = backlog.last_stored_millis.map(seconds_since);
            facts.since_last_write = facts.since_last_write.into_iter().chain(since).min();
            for (group, left) in backlog.unconsumed_by_group {
                *facts.unconsumed_by_group.entry(group).or_default() += left;
            }
        }
        let mut groups: Vec<String> = facts.unconsumed_by_group.keys().cloned().collect();
        groups.extend(model.consumer_group.clone());
        let known = self.target.common_groups().await?;
        facts.groups_on_target = (groups.into_iter())
            .map(|group| {
                let on_target = known.contains_key(&group);
                (group, on_target)
            })
            .collect();
        Ok(facts)
    }

    pub async fn carry_out(
        &self,
        next: &Next,
        model: &TransferModel,
        facts: &Facts,
    ) -> Result<(), Error> {
        let topic = &model.topic;
        match next {
            Next::CreateOnTarget => {
                let configs = self.source.topic_configs(topic).await?;
                let mut config =
                    (configs.into_iter().next()).unwrap_or_else(|| TopicConfig::new(topic));
                config.perm = READ_WRITE;
                let source_groups = self.source.common_groups().await?;
                let mut topics = vec![config];
                let mut groups = Vec::new();
                for group in facts.groups_on_target.keys() {
                    groups.push(
                        source_groups
                            .get(group)
                            .cloned()
                            .unwrap_or(SubscriptionGroup {
                                name: group.clone(),
                                config: serde_json::Value::Null,
                            }),
                    );
                    // Where the group's consumers send back what they fail to consume.
                    let mut retry = TopicConfig::new(&format!("%RETRY%{group}"));
                    (retry.read_queue_nums, retry.write_queue_nums) = (1, 1);
                    topics.push(retry);
                }
                for master in &self.target.masters {
                    let admin = &self.target.admin;
                    for group in &groups {
                        (admin.update_subscription_group(master, group).await)
                            .map_err(|error| failed(&self.target, error))?;
                    }
                    (admin.create_topics(master, &topics).await)
                        .map_err(|error| failed(&self.target, error))?;
                }
            }
            Next::StopWrites => {
                for master in &self.source.masters {
                    let admin = &self.source.admin;
                    let configs = (admin.topic_configs(master).await)
                        .map_err(|error| failed(&self.source, error))?;
                    if let Some(mut config) = configs.get(topic).cloned() {
                        config.perm = READ_ONLY;
                        (admin.create_topic(master, &config).await)
                            .map_err(|error| failed(&self.source, error))?;
                    }
                }
            }
            Next::DeleteFromSource => {
                let admin = &self.source.admin;
                for master in &self.source.masters {
                    (admin.delete_topic_in_broker(master, topic).await)
                        .map_err(|error| failed(&self.source, error))?;
                }
                (admin
                    .delete_topic_in_name_servers(topic, &self.source.cluster_name)
                    .await)
                    .map_err(|error| failed(&self.source, error))?;
            }
            Next::WaitForProducers(_)
            | Next::WaitForConsumers(_)
            | Next::WaitForTopicHandOver(_)
            | Next::Done
            | Next::NothingToMove => {}
        }
        Ok(())
    }
}

impl Side {
    /// The topic's configuration on each master that has it.
    async fn topic_configs(&self, topic: &str) -> Result<Vec<TopicConfig>, Error> {
        let mut found = Vec::new();
        for master in &self.masters {
            let mut configs =
                (self.admin.topic_configs(master).await).map_err(|error| failed(self, error))?;
            found.extend(configs.remove(topic));
        }
        Ok(found)
    }

    /// The consumer groups every master knows, by name.
    async fn common_groups(&self) -> Result<BTreeMap<String, SubscriptionGroup>, Error> {
        let mut common: Option<BTreeMap<String, SubscriptionGroup>> = None;
        for master in &self.masters {
            let groups = (self.admin.subscription_groups(master).await)
                .map_err(|error| failed(self, error))?;
            let groups: BTreeMap<String, SubscriptionGroup> = groups
                .into_iter()
                .map(|group| (group.name.clone(), group))
                .collect();
            common = Some(match common {
                None => groups,
                Some(mut kept) => {
                    kept.retain(|name, _| groups.contains_key(name));
                    kept
                }
            });
        }
        Ok(common.unwrap_or_default())
    }
}

async fn side(admins: &RocketMQAdmins, cluster: &ClusterRef) -> Result<Side, Error> {
    let admin =
        (admins.admin(cluster).await).map_err(|error| Error::transient(error.to_string()))?;
    let cluster_name = admins.cluster_name(cluster);
    let info = (admin.cluster_info().await).map_err(|error| {
        Error::transient(format!(
            "asking the name servers of {} for its brokers: {error}",
            cluster.name
        ))
    })?;
    let masters: Vec<String> = (info.masters(&cluster_name).into_iter())
        .map(|(_, address)| address)
        .collect();
    if masters.is_empty() {
        return Err(Error::transient(format!(
            "no master broker of {} is registered with its name servers",
            cluster.name
        )));
    }
    Ok(Side {
        admin,
        cluster_name,
        masters,
    })
}

fn failed(side: &Side, error: rocketmq_client::Error) -> Error {
    Error::transient(format!("the brokers of {}: {error}", side.cluster_name))
}

/// Whole seconds from `millis` (since the epoch, a broker's clock) to now; 0 for a time ahead.
fn seconds_since(millis: i64) -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis());
    let millis = u128::try_from(millis).unwrap_or(0);
    u64::try_from(now.saturating_sub(millis) / 1000).unwrap_or(u64::MAX)
}
