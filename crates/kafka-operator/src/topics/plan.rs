//! What to do in Kafka so a topic matches its KafkaTopic. Pure: it compares the model with what
//! was observed in Kafka.

use std::collections::{BTreeMap, BTreeSet};

use kafka_client::{ConfigEntry, ConfigOp, ConfigSource, NewTopic, TopicDescription};

use super::model::TopicModel;

/// A topic as Kafka describes it, reduced to what a KafkaTopic controls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObservedTopic {
    pub topic_id: Option<String>,
    pub partitions: i32,
    /// The partitions' replica counts: one, unless a replication factor change is under way.
    pub replication_factors: BTreeSet<i16>,
    /// The configuration set on the topic itself; everything else comes from the brokers.
    pub config: BTreeMap<String, String>,
}

impl ObservedTopic {
    pub fn new(description: &TopicDescription, config: &[ConfigEntry]) -> ObservedTopic {
        let replication_factors = (description.partitions.iter())
            .map(|partition| i16::try_from(partition.replicas.len()).unwrap_or(i16::MAX))
            .collect();
        ObservedTopic {
            topic_id: description.topic_id.clone(),
            partitions: i32::try_from(description.partitions.len()).unwrap_or(i32::MAX),
            replication_factors,
            config: config
                .iter()
                .filter(|entry| entry.source == ConfigSource::DynamicTopic)
                .filter_map(|entry| Some((entry.name.clone(), entry.value.clone()?)))
                .collect(),
        }
    }
}

/// The changes one topic needs.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    Create(NewTopic),
    /// An existing topic; nothing to do when all are empty.
    Update {
        partitions: Option<i32>,
        config: Vec<ConfigOp>,
        /// The replication factor to move every partition to, by partition reassignment.
        replicas: Option<i16>,
    },
    /// The spec asks for something Kafka (or Brokerage) cannot do: nothing is changed, and the
    /// message says why.
    NotSupported(String),
}

impl Plan {
    pub fn is_noop(&self) -> bool {
        matches!(self, Plan::Update { partitions: None, config, replicas: None } if config.is_empty())
    }
}

/// Plans one topic. `previous_name` is the Kafka topic the resource managed until now (its
/// status), `observed` the topic in Kafka, if it exists.
pub fn plan(
    model: &TopicModel,
    previous_name: Option<&str>,
    observed: Option<&ObservedTopic>,
) -> Plan {
    if let Some(previous) = previous_name.filter(|previous| *previous != model.topic_name) {
        return Plan::NotSupported(format!(
            "the Kafka topic of this resource cannot change from {previous:?} to {:?}; \
             put spec.topicName back, or create a new KafkaTopic for the new topic",
            model.topic_name
        ));
    }
    let Some(observed) = observed else {
        return Plan::Create(NewTopic {
            name: model.topic_name.clone(),
            partitions: model.partitions,
            replication_factor: model.replicas,
            configs: model.config.clone(),
        });
    };

    let mut unsupported = Vec::new();
    let partitions = match model.partitions {
        Some(desired) if desired < observed.partitions => {
            unsupported.push(format!(
                "spec.partitions cannot decrease from {} to {desired}: Kafka cannot remove partitions",
                observed.partitions
            ));
            None
        }
        Some(desired) if desired > observed.partitions => Some(desired),
        _ => None,
    };
    let replicas = model
        .replicas
        .filter(|desired| observed.replication_factors != BTreeSet::from([*desired]));
    if !unsupported.is_empty() {
        return Plan::NotSupported(unsupported.join("; "));
    }

    let set = model
        .config
        .iter()
        .filter(|(name, value)| observed.config.get(*name) != Some(*value))
        .map(|(name, value)| ConfigOp::Set {
            name: name.clone(),
            value: value.clone(),
        });
    // Set on the topic behind the operator's back: reverted to the brokers' value.
    let reverted = observed
        .config
        .keys()
        .filter(|name| !model.config.contains_key(*name))
        .map(|name| ConfigOp::Delete { name: name.clone() });
    Plan::Update {
        partitions,
        config: set.chain(reverted).collect(),
        replicas,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(
        partitions: Option<i32>,
        replicas: Option<i16>,
        config: &[(&str, &str)],
    ) -> TopicModel {
        TopicModel {
            topic_name: "orders".into(),
            partitions,
            replicas,
            config: config
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn observed(
        partitions: i32,
        replication_factor: i16,
        config: &[(&str, &str)],
    ) -> ObservedTopic {
        ObservedTopic {
            topic_id: Some("id".into()),
            partitions,
            replication_factors: [replication_factor].into(),
            config: config
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn a_missing_topic_is_created_with_its_spec() {
        let plan = plan(
            &model(Some(3), Some(2), &[("retention.ms", "1000")]),
            None,
            None,
        );
        assert_eq!(
            plan,
            Plan::Create(NewTopic {
                name: "orders".into(),
                partitions: Some(3),
                replication_factor: Some(2),
                configs: [("retention.ms".into(), "1000".into())].into(),
            })
        );
    }

    #[test]
    fn a_matching_topic_needs_nothing() {
        let model = model(Some(3), Some(2), &[("retention.ms", "1000")]);
        let observed = observed(3, 2, &[("retention.ms", "1000")]);
        assert!(plan(&model, Some("orders"), Some(&observed)).is_noop());
        // Unset partitions and replicas follow whatever the topic has.
        let loose = super::tests::model(None, None, &[("retention.ms", "1000")]);
        assert!(plan(&loose, None, Some(&observed)).is_noop());
    }

    #[test]
    fn partitions_grow_and_config_drift_is_reverted() {
        let model = model(
            Some(6),
            None,
            &[("retention.ms", "1000"), ("cleanup.policy", "compact")],
        );
        let observed = observed(3, 1, &[("retention.ms", "5"), ("segment.bytes", "1024")]);
        assert_eq!(
            plan(&model, None, Some(&observed)),
            Plan::Update {
                partitions: Some(6),
                config: vec![
                    ConfigOp::Set {
                        name: "cleanup.policy".into(),
                        value: "compact".into()
                    },
                    ConfigOp::Set {
                        name: "retention.ms".into(),
                        value: "1000".into()
                    },
                    ConfigOp::Delete {
                        name: "segment.bytes".into()
                    },
                ],
                replicas: None,
            }
        );
    }

    #[test]
    fn fewer_partitions_change_nothing() {
        let model = model(Some(2), Some(3), &[("retention.ms", "1000")]);
        let observed = observed(4, 1, &[]);
        let Plan::NotSupported(message) = plan(&model, None, Some(&observed)) else {
            panic!("expected NotSupported");
        };
        assert!(message.contains("cannot decrease from 4 to 2"), "{message}");
    }

    #[test]
    fn the_replication_factor_moves_until_every_partition_has_it() {
        let model = model(None, Some(3), &[]);
        let replicas = |plan: Plan| match plan {
            Plan::Update { replicas, .. } => replicas,
            other => panic!("expected an update, got {other:?}"),
        };
        assert_eq!(
            replicas(plan(&model, None, Some(&observed(6, 1, &[])))),
            Some(3)
        );
        // Half way: some partitions have three replicas, some still one.
        let mut half = observed(6, 1, &[]);
        half.replication_factors.insert(3);
        assert_eq!(replicas(plan(&model, None, Some(&half))), Some(3));
        assert_eq!(
            replicas(plan(&model, None, Some(&observed(6, 3, &[])))),
            None
        );
    }

    #[test]
    fn the_topic_name_cannot_change() {
        let Plan::NotSupported(message) = plan(&model(None, None, &[]), Some("old-orders"), None)
        else {
            panic!("expected NotSupported");
        };
        assert!(
            message.contains("\"old-orders\" to \"orders\""),
            "{message}"
        );
    }

    #[test]
    fn only_topic_level_config_is_observed() {
        let description = TopicDescription {
            name: "orders".into(),
            topic_id: Some("abc".into()),
            internal: false,
            partitions: (0..2)
                .map(|partition| kafka_client::PartitionInfo {
                    partition,
                    leader: Some(0),
                    replicas: vec![0, 1, 2],
                    isr: vec![0, 1],
                })
                .collect(),
        };
        let entry = |name: &str, source| ConfigEntry {
            name: name.into(),
            value: Some("1".into()),
            source,
            read_only: false,
            sensitive: false,
        };
        let config = [
            entry("retention.ms", ConfigSource::DynamicTopic),
            entry("segment.bytes", ConfigSource::StaticBroker),
            entry("flush.ms", ConfigSource::Default),
        ];
        let observed = ObservedTopic::new(&description, &config);
        assert_eq!(observed.partitions, 2);
        assert_eq!(observed.replication_factors, [3].into());
        assert_eq!(
            observed.config,
            [("retention.ms".into(), "1".into())].into()
        );
    }
}
