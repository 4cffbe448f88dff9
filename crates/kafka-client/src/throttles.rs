//! Replication throttles, which keep a reassignment's copying from starving producers and
//! consumers: a rate per broker, applied to the replicas each topic lists as throttled. Both are
//! plain dynamic configurations, changed with IncrementalAlterConfigs.

use std::collections::BTreeMap;

use crate::client::AdminClient;
use crate::configs::{ConfigOp, ConfigResource};
use crate::error::{Error, KafkaError};

/// Broker configuration: bytes per second a leader may send to throttled followers.
pub const LEADER_THROTTLED_RATE: &str = "leader.replication.throttled.rate";
/// Broker configuration: bytes per second a follower may fetch for throttled replicas.
pub const FOLLOWER_THROTTLED_RATE: &str = "follower.replication.throttled.rate";
/// Topic configuration: the replicas (`partition:broker,...`) whose leaders are throttled.
pub const LEADER_THROTTLED_REPLICAS: &str = "leader.replication.throttled.replicas";
/// Topic configuration: the replicas (`partition:broker,...`) whose followers are throttled.
pub const FOLLOWER_THROTTLED_REPLICAS: &str = "follower.replication.throttled.replicas";

/// Kafka's form of a throttled replica list: `partition:broker` pairs, comma-separated.
fn throttled_replicas(replicas: &[(i32, i32)]) -> String {
    replicas
        .iter()
        .map(|(partition, broker)| format!("{partition}:{broker}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Sets `name` to the list, or deletes it for an empty list (nothing throttled).
fn replicas_op(name: &str, replicas: &[(i32, i32)]) -> ConfigOp {
    match replicas.is_empty() {
        true => ConfigOp::Delete { name: name.into() },
        false => ConfigOp::Set {
            name: name.into(),
            value: throttled_replicas(replicas),
        },
    }
}

impl AdminClient {
    /// Caps replication traffic on each of `brokers` at `bytes_per_second`, as leader and as
    /// follower. Only replicas listed with [`set_throttled_replicas`](Self::set_throttled_replicas)
    /// are held to it; a broker's failure is its entry in the map.
    pub async fn set_replication_throttle(
        &self,
        brokers: &[i32],
        bytes_per_second: i64,
    ) -> Result<BTreeMap<ConfigResource, Result<(), KafkaError>>, Error> {
        let rate = bytes_per_second.to_string();
        let changes: Vec<(ConfigResource, Vec<ConfigOp>)> = brokers
            .iter()
            .map(|broker| {
                let ops = [LEADER_THROTTLED_RATE, FOLLOWER_THROTTLED_RATE]
                    .into_iter()
                    .map(|name| ConfigOp::Set {
                        name: name.into(),
                        value: rate.clone(),
                    })
                    .collect();
                (ConfigResource::Broker(*broker), ops)
            })
            .collect();
        self.incremental_alter_configs(&changes).await
    }

    /// Lists which of `topic`'s replicas the brokers' throttle applies to, as (partition, broker)
    /// pairs: `leader` for the replicas sending data (a moving partition's current replicas),
    /// `follower` for those receiving it (the new ones). An empty list throttles none.
    pub async fn set_throttled_replicas(
        &self,
        topic: &str,
        leader: &[(i32, i32)],
        follower: &[(i32, i32)],
    ) -> Result<(), Error> {
        let resource = ConfigResource::Topic(topic.to_string());
        let ops = vec![
            replicas_op(LEADER_THROTTLED_REPLICAS, leader),
            replicas_op(FOLLOWER_THROTTLED_REPLICAS, follower),
        ];
        let mut results = self
            .incremental_alter_configs(&[(resource.clone(), ops)])
            .await?;
        match results.remove(&resource) {
            Some(result) => result.map_err(|error| topic_error(topic, error)),
            None => Err(Error::Protocol(format!(
                "IncrementalAlterConfigs did not answer for topic {topic}"
            ))),
        }
    }

    /// Removes the throttles once a move is done: the rates of `brokers` and the throttled
    /// replica lists of `topics` go back to their defaults (no throttle). Each resource's
    /// failure is its entry in the map.
    pub async fn clear_replication_throttles(
        &self,
        brokers: &[i32],
        topics: &[String],
    ) -> Result<BTreeMap<ConfigResource, Result<(), KafkaError>>, Error> {
        let delete = |names: [&str; 2]| -> Vec<ConfigOp> {
            names
                .into_iter()
                .map(|name| ConfigOp::Delete { name: name.into() })
                .collect()
        };
        let changes: Vec<(ConfigResource, Vec<ConfigOp>)> = brokers
            .iter()
            .map(|broker| {
                let names = [LEADER_THROTTLED_RATE, FOLLOWER_THROTTLED_RATE];
                (ConfigResource::Broker(*broker), delete(names))
            })
            .chain(topics.iter().map(|topic| {
                let names = [LEADER_THROTTLED_REPLICAS, FOLLOWER_THROTTLED_REPLICAS];
                (ConfigResource::Topic(topic.clone()), delete(names))
            }))
            .collect();
        self.incremental_alter_configs(&changes).await
    }
}

/// A topic's error as the call's error, with the topic in the message.
fn topic_error(topic: &str, error: KafkaError) -> Error {
    let message = match error.message {
        Some(message) => format!("{topic}: {message}"),
        None => topic.to_string(),
    };
    KafkaError::new(error.code, Some(message)).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replica_lists_are_in_kafkas_format() {
        assert_eq!(throttled_replicas(&[(0, 1), (0, 2), (3, 0)]), "0:1,0:2,3:0");
        assert_eq!(
            replicas_op(LEADER_THROTTLED_REPLICAS, &[(1, 2)]),
            ConfigOp::Set {
                name: LEADER_THROTTLED_REPLICAS.into(),
                value: "1:2".into()
            }
        );
        assert_eq!(
            replicas_op(FOLLOWER_THROTTLED_REPLICAS, &[]),
            ConfigOp::Delete {
                name: FOLLOWER_THROTTLED_REPLICAS.into()
            }
        );
    }
}
