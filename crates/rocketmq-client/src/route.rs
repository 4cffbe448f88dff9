//! Where a topic lives: its queues per broker group, as the name servers know it.

use serde::{Deserialize, Serialize};

use crate::client::AdminClient;
use crate::cluster::BrokerData;
use crate::error::{RemotingError, Result};
use crate::fastjson;
use crate::pool;
use crate::request::{GET_ROUTEINFO_BY_TOPIC, Request};

/// RocketMQ's `TopicRouteData` (and it (de)serializes as its JSON).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicRoute {
    #[serde(rename = "queueDatas", default)]
    pub queues: Vec<QueueData>,
    #[serde(rename = "brokerDatas", default)]
    pub brokers: Vec<BrokerData>,
}

/// The topic's queues on one broker group.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueData {
    pub broker_name: String,
    pub read_queue_nums: i32,
    pub write_queue_nums: i32,
    pub perm: i32,
    #[serde(default)]
    pub topic_sys_flag: i32,
}

impl AdminClient {
    /// GET_ROUTEINFO_BY_TOPIC from the first name server that answers; `None` when it knows no
    /// broker serving the topic.
    pub async fn topic_route(&self, topic: &str) -> Result<Option<TopicRoute>> {
        let request = Request::new(GET_ROUTEINFO_BY_TOPIC).field("topic", topic);
        let (address, response) = self.ask_name_server(&request).await?;
        match response.code {
            RemotingError::TOPIC_NOT_EXIST => Ok(None),
            _ => {
                let body = pool::success(&address, &request, response)?;
                fastjson::parse(&body, "topic route").map(Some)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_route_in_either_json() {
        // 5.3 name servers quote keys for clients announcing V4_9_4 or later, and not before.
        for body in [
            r#"{"brokerDatas":[{"brokerAddrs":{"0":"127.0.0.1:10911"},"brokerName":"broker-a","cluster":"c","enableActingMaster":false}],"filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":8,"topicSysFlag":0,"writeQueueNums":4}]}"#,
            r#"{"brokerDatas":[{"brokerAddrs":{0:"127.0.0.1:10911"},"brokerName":"broker-a","cluster":"c"}],"filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":8,"topicSysFlag":0,"writeQueueNums":4}]}"#,
        ] {
            let route: TopicRoute = fastjson::parse(body.as_bytes(), "topic route").unwrap();
            assert_eq!(
                route.queues,
                [QueueData {
                    broker_name: "broker-a".into(),
                    read_queue_nums: 8,
                    write_queue_nums: 4,
                    perm: 6,
                    topic_sys_flag: 0,
                }]
            );
            assert_eq!(route.brokers[0].addresses[&0], "127.0.0.1:10911");
        }
    }
}
