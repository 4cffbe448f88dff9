//! Topic and broker configuration: describe, and change key by key (IncrementalAlterConfigs).

use std::collections::BTreeMap;

use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::incremental_alter_configs_request::{
    AlterConfigsResource, AlterableConfig,
};
use kafka_protocol::messages::{DescribeConfigsRequest, IncrementalAlterConfigsRequest};
use kafka_protocol::protocol::StrBytes;

use crate::client::AdminClient;
use crate::cluster::{ItemResults, Target};
use crate::error::{Error, KafkaError};

/// What a configuration belongs to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConfigResource {
    Topic(String),
    /// One broker, by node id.
    Broker(i32),
}

impl ConfigResource {
    fn type_code(&self) -> i8 {
        match self {
            ConfigResource::Topic(_) => 2,
            ConfigResource::Broker(_) => 4,
        }
    }

    fn name(&self) -> String {
        match self {
            ConfigResource::Topic(name) => name.clone(),
            ConfigResource::Broker(id) => id.to_string(),
        }
    }

    /// The resource a response names, if it is one this client asks about.
    fn from_response(type_code: i8, name: &str) -> Option<ConfigResource> {
        match type_code {
            2 => Some(ConfigResource::Topic(name.to_string())),
            4 => name.parse().ok().map(ConfigResource::Broker),
            _ => None,
        }
    }

    /// Broker configurations are asked of (and changed through) the broker itself, as Kafka's
    /// own admin client does; topics' go anywhere (or to the controller, for changes).
    fn target(&self, otherwise: Target) -> Target {
        match self {
            ConfigResource::Broker(id) => Target::Node(*id),
            ConfigResource::Topic(_) => otherwise,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigEntry {
    pub name: String,
    /// `None` for sensitive values, and for keys without a value.
    pub value: Option<String>,
    pub source: ConfigSource,
    pub read_only: bool,
    pub sensitive: bool,
}

/// Where a configuration value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConfigSource {
    /// Set on the topic.
    DynamicTopic,
    /// Set dynamically for this broker.
    DynamicBroker,
    /// Set dynamically for all brokers.
    DynamicDefaultBroker,
    /// In the broker's `server.properties`.
    StaticBroker,
    /// Kafka's default.
    Default,
    DynamicBrokerLogger,
    Unknown,
}

impl ConfigSource {
    fn from_code(code: i8) -> ConfigSource {
        match code {
            1 => ConfigSource::DynamicTopic,
            2 => ConfigSource::DynamicBroker,
            3 => ConfigSource::DynamicDefaultBroker,
            4 => ConfigSource::StaticBroker,
            5 => ConfigSource::Default,
            6 => ConfigSource::DynamicBrokerLogger,
            _ => ConfigSource::Unknown,
        }
    }
}

/// One change of IncrementalAlterConfigs.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConfigOp {
    Set {
        name: String,
        value: String,
    },
    /// Back to the inherited value.
    Delete {
        name: String,
    },
}

impl ConfigOp {
    fn to_alterable(&self) -> AlterableConfig {
        let (name, operation, value) = match self {
            ConfigOp::Set { name, value } => (name, 0, Some(value)),
            ConfigOp::Delete { name } => (name, 1, None),
        };
        AlterableConfig::default()
            .with_name(StrBytes::from_string(name.clone()))
            .with_config_operation(operation)
            .with_value(value.map(|value| StrBytes::from_string(value.clone())))
    }
}

/// Groups resources by where their requests go, keeping the input order within each group.
fn by_target<T>(
    items: &[T],
    resource: impl Fn(&T) -> &ConfigResource,
    otherwise: Target,
) -> Vec<(Target, Vec<&T>)> {
    let mut groups: Vec<(Target, Vec<&T>)> = Vec::new();
    for item in items {
        let target = resource(item).target(otherwise);
        match groups.iter_mut().find(|(t, _)| *t == target) {
            Some((_, group)) => group.push(item),
            None => groups.push((target, vec![item])),
        }
    }
    groups
}

fn complete<T>(
    resources: impl Iterator<Item = ConfigResource>,
    results: ItemResults<ConfigResource, T>,
    map: &mut BTreeMap<ConfigResource, Result<T, KafkaError>>,
) {
    map.extend(results);
    for resource in resources {
        map.entry(resource).or_insert_with(|| {
            Err(KafkaError::new(
                KafkaError::UNKNOWN_SERVER_ERROR,
                Some("the broker's response did not mention it".into()),
            ))
        });
    }
}

impl AdminClient {
    /// Every configuration key of each resource, with its value and where it comes from.
    pub async fn describe_configs(
        &self,
        resources: &[ConfigResource],
    ) -> Result<BTreeMap<ConfigResource, Result<Vec<ConfigEntry>, KafkaError>>, Error> {
        let mut map = BTreeMap::new();
        for (target, group) in by_target(resources, |r| r, Target::Any) {
            let items: Vec<ConfigResource> = group.into_iter().cloned().collect();
            let results = self
                .cluster
                .call_per_item(
                    target,
                    items.clone(),
                    |pending, _version| {
                        DescribeConfigsRequest::default().with_resources(
                            pending
                                .iter()
                                .map(|resource| {
                                    DescribeConfigsResource::default()
                                        .with_resource_type(resource.type_code())
                                        .with_resource_name(StrBytes::from_string(resource.name()))
                                        .with_configuration_keys(None)
                                })
                                .collect(),
                        )
                    },
                    |_pending, response| {
                        Ok(response
                            .results
                            .into_iter()
                            .filter_map(|result| {
                                let resource = ConfigResource::from_response(
                                    result.resource_type,
                                    &result.resource_name,
                                )?;
                                let entries = KafkaError::check(
                                    result.error_code,
                                    result.error_message.as_deref(),
                                )
                                .map(|()| {
                                    result
                                        .configs
                                        .into_iter()
                                        .map(|config| ConfigEntry {
                                            name: config.name.to_string(),
                                            value: config.value.map(|value| value.to_string()),
                                            source: ConfigSource::from_code(config.config_source),
                                            read_only: config.read_only,
                                            sensitive: config.is_sensitive,
                                        })
                                        .collect()
                                });
                                Some((resource, entries))
                            })
                            .collect())
                    },
                )
                .await?;
            complete(items.into_iter(), results, &mut map);
        }
        Ok(map)
    }

    /// Sets or deletes keys of each resource; keys not named keep their values.
    pub async fn incremental_alter_configs(
        &self,
        changes: &[(ConfigResource, Vec<ConfigOp>)],
    ) -> Result<BTreeMap<ConfigResource, Result<(), KafkaError>>, Error> {
        let mut map = BTreeMap::new();
        for (target, group) in by_target(changes, |(r, _)| r, Target::Controller) {
            let ops: BTreeMap<&ConfigResource, &Vec<ConfigOp>> = group
                .iter()
                .map(|(resource, ops)| (resource, ops))
                .collect();
            let items: Vec<ConfigResource> = ops.keys().map(|r| (*r).clone()).collect();
            let results = self
                .cluster
                .call_per_item(
                    target,
                    items.clone(),
                    |pending, _version| {
                        IncrementalAlterConfigsRequest::default().with_resources(
                            pending
                                .iter()
                                .filter_map(|resource| {
                                    let ops = ops.get(resource)?;
                                    Some(
                                        AlterConfigsResource::default()
                                            .with_resource_type(resource.type_code())
                                            .with_resource_name(StrBytes::from_string(
                                                resource.name(),
                                            ))
                                            .with_configs(
                                                ops.iter().map(ConfigOp::to_alterable).collect(),
                                            ),
                                    )
                                })
                                .collect(),
                        )
                    },
                    |_pending, response| {
                        Ok(response
                            .responses
                            .into_iter()
                            .filter_map(|result| {
                                let resource = ConfigResource::from_response(
                                    result.resource_type,
                                    &result.resource_name,
                                )?;
                                let outcome = KafkaError::check(
                                    result.error_code,
                                    result.error_message.as_deref(),
                                );
                                Some((resource, outcome))
                            })
                            .collect())
                    },
                )
                .await?;
            complete(items.into_iter(), results, &mut map);
        }
        Ok(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_resources_go_to_their_broker() {
        let resources = [
            ConfigResource::Topic("a".into()),
            ConfigResource::Broker(2),
            ConfigResource::Topic("b".into()),
            ConfigResource::Broker(0),
        ];
        let groups = by_target(&resources, |r| r, Target::Any);
        let targets: Vec<Target> = groups.iter().map(|(t, _)| *t).collect();
        assert_eq!(targets, [Target::Any, Target::Node(2), Target::Node(0)]);
        assert_eq!(groups[0].1.len(), 2);
    }

    #[test]
    fn resources_round_trip_through_their_codes() {
        for resource in [ConfigResource::Topic("t".into()), ConfigResource::Broker(7)] {
            assert_eq!(
                ConfigResource::from_response(resource.type_code(), &resource.name()),
                Some(resource)
            );
        }
        assert_eq!(ConfigResource::from_response(4, "not-a-number"), None);
        assert_eq!(ConfigSource::from_code(1), ConfigSource::DynamicTopic);
        assert_eq!(ConfigSource::from_code(42), ConfigSource::Unknown);
    }
}
