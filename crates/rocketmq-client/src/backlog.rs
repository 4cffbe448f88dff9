//! How many messages on a broker no consumer group has consumed yet, to know when a broker can
//! be removed without losing any.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Deserialize;

use crate::client::{self, AdminClient};
use crate::error::{Error, Result};
use crate::fastjson;
use crate::request::{
    GET_ALL_CONSUMER_OFFSET, GET_SYSTEM_TOPIC_LIST_FROM_BROKER, GET_TOPIC_STATS_INFO, Request,
};

/// Topics with this prefix are the broker's own, registered or not.
const SYSTEM_TOPIC_PREFIX: &str = "rmq_sys_";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TopicList {
    #[serde(default)]
    topic_list: BTreeSet<String>,
}

/// `ConsumerOffsetManager`: committed offsets by `topic@group`, then queue id.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConsumerOffsets {
    #[serde(default)]
    offset_table: HashMap<String, HashMap<i32, i64>>,
}

/// `TopicStatsTable`: offsets by queue, keyed by the `MessageQueue` object (stringified by
/// the fastjson pre-pass).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TopicStats {
    #[serde(default)]
    offset_table: BTreeMap<String, QueueOffsets>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueueOffsets {
    min_offset: i64,
    max_offset: i64,
    /// When the queue's last message was stored (ms since the epoch; 0 for an empty queue).
    #[serde(default)]
    last_update_timestamp: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageQueue {
    queue_id: i32,
}

impl AdminClient {
    /// Messages on this broker that no consumer group has consumed yet: over every queue of
    /// every non-system topic, max offset minus the highest committed offset of any group on
    /// that queue (minus the min offset when no group committed one). For safe scale-in.
    ///
    /// Offsets below the queue's min offset (expired messages) count as consumed. Retry
    /// (`%RETRY%`) and dead-letter (`%DLQ%`) topics count like any other: dead letters are
    /// unconsumed until someone consumes or deletes them. Requests: the topic list, the system
    /// topic list, all committed offsets, then the stats of each non-system topic.
    pub async fn unconsumed_messages(&self, broker: &str) -> Result<u64> {
        let system = Request::new(GET_SYSTEM_TOPIC_LIST_FROM_BROKER);
        let offsets = Request::new(GET_ALL_CONSUMER_OFFSET);
        let (topics, system, offsets) = tokio::try_join!(
            self.topic_configs(broker),
            self.call(broker, &system),
            self.call(broker, &offsets),
        )?;
        let system: TopicList = fastjson::parse(&system, "system topic list")?;
        let offsets: ConsumerOffsets = fastjson::parse(&offsets, "consumer offsets")?;
        let committed = highest_committed(offsets);
        let topics = topics.into_keys().filter(|topic| {
            !system.topic_list.contains(topic) && !topic.starts_with(SYSTEM_TOPIC_PREFIX)
        });
        let stats = client::bounded(topics.map(|topic| self.topic_stats(broker, topic))).await?;
        Ok(count(stats.iter().flatten(), &committed))
    }

    /// What the consumer groups of `topic` on this broker have not consumed yet: for each group
    /// that committed an offset on it, the messages after its offsets (at least the min offset
    /// of each queue); and every message the topic holds. A topic no group consumed has no
    /// group; a topic the broker does not have, none of either. Requests: all committed
    /// offsets and the topic's stats.
    pub async fn topic_backlog(&self, broker: &str, topic: &str) -> Result<TopicBacklog> {
        let offsets = Request::new(GET_ALL_CONSUMER_OFFSET);
        let (offsets, stats) = tokio::try_join!(
            self.call(broker, &offsets),
            self.topic_stats(broker, topic.to_string()),
        )?;
        let Some(stats) = stats else {
            return Ok(TopicBacklog::default());
        };
        let offsets: ConsumerOffsets = fastjson::parse(&offsets, "consumer offsets")?;
        Ok(topic_backlog(&stats, offsets))
    }

    /// GET_TOPIC_STATS_INFO by queue id; `None` when the topic went away meanwhile.
    async fn topic_stats(
        &self,
        broker: &str,
        topic: String,
    ) -> Result<Option<(String, BTreeMap<i32, QueueOffsets>)>> {
        let request = Request::new(GET_TOPIC_STATS_INFO).field("topic", &topic);
        let body = match self.call(broker, &request).await {
            Ok(body) => body,
            Err(Error::TopicNotExist(_)) => return Ok(None),
            Err(error) => return Err(error),
        };
        let stats: TopicStats = fastjson::parse(&body, "topic stats")?;
        let mut queues = BTreeMap::new();
        for (queue, offsets) in stats.offset_table {
            let queue: MessageQueue = serde_json::from_str(&queue)
                .map_err(|e| Error::Protocol(format!("unreadable queue in topic stats: {e}")))?;
            queues.insert(queue.queue_id, offsets);
        }
        Ok(Some((topic, queues)))
    }
}

/// A topic's backlog on one broker ([`AdminClient::topic_backlog`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TopicBacklog {
    /// Messages the topic holds (max minus min offset over its queues).
    pub messages: u64,
    /// By consumer group: messages it has not consumed.
    pub unconsumed_by_group: BTreeMap<String, u64>,
    /// When the broker stored the topic's last message (ms since the epoch, the broker's clock).
    pub last_stored_millis: Option<i64>,
}

/// `stats`: a topic and its queues' offsets.
fn topic_backlog(
    stats: &(String, BTreeMap<i32, QueueOffsets>),
    offsets: ConsumerOffsets,
) -> TopicBacklog {
    let topic = &stats.0;
    let held = count([stats], &HashMap::new());
    let unconsumed_by_group = (offsets.offset_table.into_iter())
        .filter_map(|(key, committed)| {
            // `topic@group`: neither name may contain `@`.
            let (of, group) = key.split_once('@')?;
            let committed = HashMap::from([(of.to_string(), committed)]);
            (of == topic).then(|| (group.to_string(), count([stats], &committed)))
        })
        .collect();
    let last_stored_millis = (stats.1.values())
        .map(|queue| queue.last_update_timestamp)
        .filter(|millis| *millis > 0)
        .max();
    TopicBacklog {
        messages: held,
        unconsumed_by_group,
        last_stored_millis,
    }
}

/// The highest offset any group committed, by topic, then queue.
fn highest_committed(offsets: ConsumerOffsets) -> HashMap<String, HashMap<i32, i64>> {
    let mut highest: HashMap<String, HashMap<i32, i64>> = HashMap::new();
    for (key, queues) in offsets.offset_table {
        // `topic@group`: neither name may contain `@`.
        let Some((topic, _group)) = key.split_once('@') else {
            continue;
        };
        let topic = highest.entry(topic.to_string()).or_default();
        for (queue, offset) in queues {
            let entry = topic.entry(queue).or_insert(offset);
            *entry = (*entry).max(offset);
        }
    }
    highest
}

/// Over every queue: max offset minus what was consumed, which is the highest committed offset
/// but at least the min offset.
fn count<'a>(
    stats: impl IntoIterator<Item = &'a (String, BTreeMap<i32, QueueOffsets>)>,
    committed: &HashMap<String, HashMap<i32, i64>>,
) -> u64 {
    let mut unconsumed = 0u64;
    for (topic, queues) in stats {
        for (queue, offsets) in queues {
            let consumed = committed
                .get(topic)
                .and_then(|queues| queues.get(queue))
                .copied()
                .unwrap_or(0);
            let base = offsets.min_offset.max(consumed);
            let left = u64::try_from(offsets.max_offset.saturating_sub(base)).unwrap_or(0);
            unconsumed = unconsumed.saturating_add(left);
        }
    }
    unconsumed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offsets(min_offset: i64, max_offset: i64) -> QueueOffsets {
        QueueOffsets {
            min_offset,
            max_offset,
            last_update_timestamp: 0,
        }
    }

    #[test]
    fn parses_offsets_and_stats_as_brokers_write_them() {
        let body = br#"{"dataVersion":{"counter":2},"offsetTable":{"orders@a":{0:5,1:2},"orders@b":{0:7},"%RETRY%a@a":{0:0}},"pullOffsetTable":{}}"#;
        let committed = highest_committed(fastjson::parse(body, "offsets").unwrap());
        assert_eq!(committed["orders"], HashMap::from([(0, 7), (1, 2)]));
        assert_eq!(committed["%RETRY%a"][&0], 0);

        let body = br#"{"offsetTable":{{"brokerName":"broker-a","queueId":1,"topic":"orders"}:{"lastUpdateTimestamp":0,"maxOffset":3,"minOffset":1},{"brokerName":"broker-a","queueId":0,"topic":"orders"}:{"lastUpdateTimestamp":1,"maxOffset":10,"minOffset":0}}}"#;
        let stats: TopicStats = fastjson::parse(body, "stats").unwrap();
        let queues: Vec<String> = stats.offset_table.into_keys().collect();
        let ids: Vec<i32> = queues
            .iter()
            .map(|queue| {
                serde_json::from_str::<MessageQueue>(queue)
                    .unwrap()
                    .queue_id
            })
            .collect();
        assert_eq!(ids, [0, 1]);
    }

    #[test]
    fn counts_what_no_group_consumed() {
        let committed = HashMap::from([("orders".to_string(), HashMap::from([(0, 7), (1, 2)]))]);
        let stats = [
            (
                "orders".to_string(),
                // 10 - 7; 8 - 5 (the min, above what was committed); 4 - 0 (nothing committed)
                BTreeMap::from([(0, offsets(0, 10)), (1, offsets(5, 8)), (2, offsets(0, 4))]),
            ),
            ("unread".to_string(), BTreeMap::from([(0, offsets(2, 6))])),
        ];
        assert_eq!(count(&stats, &committed), 3 + 3 + 4 + 4);
        assert_eq!(count(&[], &committed), 0);
        // Whatever a broker sends, no overflow.
        let absurd = [(
            "x".to_string(),
            BTreeMap::from([
                (0, offsets(i64::MIN, i64::MAX)),
                (1, offsets(i64::MIN, i64::MAX)),
            ]),
        )];
        assert_eq!(count(&absurd, &HashMap::new()), 2 * i64::MAX as u64);
    }

    #[test]
    fn a_topics_backlog_counts_what_each_of_its_groups_left() {
        let body = br#"{"offsetTable":{"orders@fast":{0:10,1:4},"orders@slow":{0:3},"payments@fast":{0:1}}}"#;
        let committed: ConsumerOffsets = fastjson::parse(body, "offsets").unwrap();
        let mut queues = BTreeMap::from([(0, offsets(2, 10)), (1, offsets(0, 4))]);
        queues.get_mut(&1).unwrap().last_update_timestamp = 1_700;
        let backlog = topic_backlog(&("orders".to_string(), queues), committed);
        assert_eq!(backlog.messages, 12);
        assert_eq!(backlog.last_stored_millis, Some(1_700));
        assert_eq!(
            backlog.unconsumed_by_group,
            BTreeMap::from([("fast".to_string(), 0), ("slow".to_string(), 11)])
        );
    }
}
