//! Topics: created, updated and deleted on each broker, and deleted from the name servers'
//! routes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::client::{self, AdminClient};
use crate::error::{Error, Result};
use crate::fastjson;
use crate::request::{
    DELETE_TOPIC_IN_BROKER, DELETE_TOPIC_IN_NAMESRV, GET_ALL_TOPIC_CONFIG, Request,
    UPDATE_AND_CREATE_TOPIC, UPDATE_AND_CREATE_TOPIC_LIST,
};

/// A topic's configuration on one broker (RocketMQ's `TopicConfig`; it deserializes from its
/// JSON).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicConfig {
    pub topic_name: String,
    pub read_queue_nums: i32,
    pub write_queue_nums: i32,
    /// `PermName`: 2 write, 4 read, 1 inherit; 6 is read and write.
    pub perm: i32,
    #[serde(default)]
    pub order: bool,
    #[serde(default)]
    pub topic_sys_flag: i32,
    /// Such as "message.type" -> "FIFO" (sent with RocketMQ's "+" prefix; returned without).
    /// Brokers add and change attributes but never drop one that is not sent, and refuse to
    /// change `queue.type` and `cleanup.policy` (even to their current value) after creation.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

impl TopicConfig {
    /// 8 read and 8 write queues, readable and writable, not ordered, no attributes.
    pub fn new(name: &str) -> TopicConfig {
        TopicConfig {
            topic_name: name.to_string(),
            read_queue_nums: 8,
            write_queue_nums: 8,
            perm: 6,
            order: false,
            topic_sys_flag: 0,
            attributes: BTreeMap::new(),
        }
    }

    /// Attribute changes as brokers read them: `+key` adds or updates.
    fn attribute_changes(&self) -> BTreeMap<String, String> {
        self.attributes
            .iter()
            .map(|(key, value)| (format!("+{key}"), value.clone()))
            .collect()
    }

    /// Refuses what RocketMQ's attribute syntax (`+k1=v1,+k2=v2`) cannot carry.
    fn check(&self) -> Result<()> {
        for (key, value) in &self.attributes {
            let bad_key = key.is_empty() || key.contains([',', '=', '+', '-']);
            if bad_key || value.is_empty() || value.contains([',', '=']) {
                return Err(Error::InvalidArgument(format!(
                    "topic {}: attribute {key:?} = {value:?} cannot be sent to RocketMQ",
                    self.topic_name
                )));
            }
        }
        Ok(())
    }
}

/// A topic in an UPDATE_AND_CREATE_TOPIC_LIST body.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TopicConfigChange {
    topic_name: String,
    read_queue_nums: i32,
    write_queue_nums: i32,
    perm: i32,
    topic_filter_type: &'static str,
    topic_sys_flag: i32,
    order: bool,
    attributes: BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TopicList {
    topic_config_list: Vec<TopicConfigChange>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TopicConfigTable {
    #[serde(default)]
    topic_config_table: BTreeMap<String, TopicConfig>,
}

/// Tags are matched one per message, the only filter type brokers implement.
const SINGLE_TAG: &str = "SINGLE_TAG";

/// What brokers derive a new topic from when they auto-create it; required, and unused here.
const DEFAULT_TOPIC: &str = "TBW102";

impl AdminClient {
    /// UPDATE_AND_CREATE_TOPIC: creates the topic on the broker, or updates it.
    pub async fn create_topic(&self, broker: &str, topic: &TopicConfig) -> Result<()> {
        topic.check()?;
        let mut request = Request::new(UPDATE_AND_CREATE_TOPIC)
            .field("topic", &topic.topic_name)
            .field("defaultTopic", DEFAULT_TOPIC)
            .field("readQueueNums", topic.read_queue_nums)
            .field("writeQueueNums", topic.write_queue_nums)
            .field("perm", topic.perm)
            .field("topicFilterType", SINGLE_TAG)
            .field("topicSysFlag", topic.topic_sys_flag)
            .field("order", topic.order);
        if !topic.attributes.is_empty() {
            let changes: Vec<String> = topic
                .attribute_changes()
                .into_iter()
                .map(|(key, value)| format!("{key}={value}"))
                .collect();
            request = request.field("attributes", changes.join(","));
        }
        self.call(broker, &request).await?;
        Ok(())
    }

    /// Creates or updates many topics on the broker, in one UPDATE_AND_CREATE_TOPIC_LIST where
    /// that is safe, one by one otherwise.
    ///
    /// 5.x brokers answer a list with SUCCESS *without applying any of it* as soon as one topic
    /// in it is already configured exactly as sent (`updateAndCreateTopicList` returns from its
    /// validation loop). A topic sent with attributes never compares equal (the sent keys carry
    /// the `+` prefix, the stored ones do not), so only those go in the list; the others are
    /// sent one by one, where that shortcut skips only the topic itself. Brokers older than
    /// 5.0 (REQUEST_CODE_NOT_SUPPORTED) get everything one by one.
    pub async fn create_topics(&self, broker: &str, topics: &[TopicConfig]) -> Result<()> {
        for topic in topics {
            topic.check()?;
        }
        let (listed, mut single): (Vec<&TopicConfig>, Vec<&TopicConfig>) = topics
            .iter()
            .partition(|topic| !topic.attributes.is_empty());
        if listed.len() > 1 {
            let body = TopicList {
                topic_config_list: listed.iter().map(|topic| change(topic)).collect(),
            };
            let request = Request::new(UPDATE_AND_CREATE_TOPIC_LIST).json_body(&body);
            match self.call(broker, &request).await {
                Ok(_) => {}
                Err(Error::RequestCodeNotSupported(_)) => single.extend(listed),
                Err(error) => return Err(error),
            }
        } else {
            single.extend(listed);
        }
        let calls = single
            .into_iter()
            .map(|topic| self.create_topic(broker, topic));
        client::bounded(calls).await?;
        Ok(())
    }

    /// DELETE_TOPIC_IN_BROKER: the topic's configuration and consumer offsets on the broker
    /// (its messages expire with the commit log). Not an error when absent.
    pub async fn delete_topic_in_broker(&self, broker: &str, topic: &str) -> Result<()> {
        let request = Request::new(DELETE_TOPIC_IN_BROKER).field("topic", topic);
        self.call(broker, &request).await?;
        Ok(())
    }

    /// DELETE_TOPIC_IN_NAMESRV on every name server (each keeps its own routes): the topic's
    /// route for the brokers of `cluster`. Brokers that still have the topic register it again,
    /// so delete it in the brokers first.
    pub async fn delete_topic_in_name_servers(&self, topic: &str, cluster: &str) -> Result<()> {
        let request = Request::new(DELETE_TOPIC_IN_NAMESRV)
            .field("topic", topic)
            .field("clusterName", cluster);
        let servers = &self.config().name_servers;
        if servers.is_empty() {
            return Err(Error::NoNameServer("none configured".into()));
        }
        // All of them, even when one fails.
        let results =
            futures::future::join_all(servers.iter().map(|server| self.call(server, &request)))
                .await;
        results
            .into_iter()
            .find_map(Result::err)
            .map_or(Ok(()), Err)
    }

    /// GET_ALL_TOPIC_CONFIG: every topic the broker has, system topics included, by name.
    pub async fn topic_configs(&self, broker: &str) -> Result<BTreeMap<String, TopicConfig>> {
        let body = self
            .call(broker, &Request::new(GET_ALL_TOPIC_CONFIG))
            .await?;
        let table: TopicConfigTable = fastjson::parse(&body, "topic configuration")?;
        Ok(table.topic_config_table)
    }
}

fn change(topic: &TopicConfig) -> TopicConfigChange {
    TopicConfigChange {
        topic_name: topic.topic_name.clone(),
        read_queue_nums: topic.read_queue_nums,
        write_queue_nums: topic.write_queue_nums,
        perm: topic.perm,
        topic_filter_type: SINGLE_TAG,
        topic_sys_flag: topic.topic_sys_flag,
        order: topic.order,
        attributes: topic.attribute_changes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fifo(name: &str) -> TopicConfig {
        let mut topic = TopicConfig::new(name);
        topic
            .attributes
            .insert("message.type".into(), "FIFO".into());
        topic
    }

    #[test]
    fn list_bodies_prefix_attributes() {
        let body = serde_json::to_value(TopicList {
            topic_config_list: vec![change(&fifo("orders"))],
        })
        .unwrap();
        assert_eq!(
            body,
            serde_json::json!({"topicConfigList": [{
                "topicName": "orders",
                "readQueueNums": 8,
                "writeQueueNums": 8,
                "perm": 6,
                "topicFilterType": "SINGLE_TAG",
                "topicSysFlag": 0,
                "order": false,
                "attributes": {"+message.type": "FIFO"},
            }]})
        );
    }

    #[test]
    fn attributes_that_cannot_be_sent_are_refused() {
        assert!(fifo("t").check().is_ok());
        for (key, value) in [
            ("a,b", "x"),
            ("", "x"),
            ("+a", "x"),
            ("a", "x=y"),
            ("a", ""),
        ] {
            let mut topic = TopicConfig::new("t");
            topic.attributes.insert(key.into(), value.into());
            assert!(
                matches!(topic.check(), Err(Error::InvalidArgument(_))),
                "{key}={value}"
            );
        }
    }

    #[test]
    fn parses_all_topic_configs() {
        let body = br#"{"dataVersion":{"counter":3,"stateVersion":0,"timestamp":1},"mappingDataVersion":{"counter":0,"stateVersion":0,"timestamp":1},"topicConfigTable":{"orders":{"attributes":{"message.type":"FIFO"},"order":false,"perm":6,"readQueueNums":8,"topicFilterType":"SINGLE_TAG","topicMessageType":"FIFO","topicName":"orders","topicSysFlag":0,"writeQueueNums":4},"TBW102":{"order":false,"perm":7,"readQueueNums":8,"topicFilterType":"SINGLE_TAG","topicName":"TBW102","topicSysFlag":0,"writeQueueNums":8}},"topicQueueMappingDetailMap":{}}"#;
        let table: TopicConfigTable = fastjson::parse(body, "topic configuration").unwrap();
        let mut orders = fifo("orders");
        orders.write_queue_nums = 4;
        assert_eq!(table.topic_config_table["orders"], orders);
        assert!(table.topic_config_table["TBW102"].attributes.is_empty());
    }
}
