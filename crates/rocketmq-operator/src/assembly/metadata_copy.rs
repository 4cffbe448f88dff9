//! What a new broker group's master gets from an existing one when scaling out: the cluster's
//! topics and subscription groups, but nothing RocketMQ keeps for itself. Brokers refuse to have
//! system topics created, and each makes its own system topics and groups when it starts: so
//! what the new master already has, system topics by RocketMQ's rules, and the topic named after
//! the source broker itself are left out.

use std::collections::BTreeSet;

use rocketmq_client::{SubscriptionGroup, TopicConfig};

/// RocketMQ's `TopicValidator` system topics (4.x and 5.x).
const SYSTEM_TOPICS: &[&str] = &[
    "TBW102",
    "SCHEDULE_TOPIC_XXXX",
    "BenchmarkTest",
    "RMQ_SYS_TRANS_HALF_TOPIC",
    "RMQ_SYS_TRACE_TOPIC",
    "RMQ_SYS_TRANS_OP_HALF_TOPIC",
    "TRANS_CHECK_MAX_TIME_TOPIC",
    "SELF_TEST_TOPIC",
    "OFFSET_MOVED_EVENT",
    "CHECKPOINT_TOPIC",
];
/// Every topic with this prefix is a system topic, by RocketMQ's rule.
const SYSTEM_TOPIC_PREFIX: &str = "rmq_sys_";

fn is_system_topic(topic: &str) -> bool {
    SYSTEM_TOPICS.contains(&topic) || topic.starts_with(SYSTEM_TOPIC_PREFIX)
}

/// The source's topics to create on the target. `source_broker` is the source's `brokerName`,
/// a topic RocketMQ gives each broker for itself.
pub fn topics_to_copy(
    source: impl IntoIterator<Item = TopicConfig>,
    target: &BTreeSet<String>,
    source_broker: Option<&str>,
) -> Vec<TopicConfig> {
    source
        .into_iter()
        .filter(|topic| {
            let name = topic.topic_name.as_str();
            !target.contains(name) && !is_system_topic(name) && Some(name) != source_broker
        })
        .collect()
}

/// The source's subscription groups the target does not have (every broker makes its built-in
/// groups itself).
pub fn groups_to_copy(
    source: impl IntoIterator<Item = SubscriptionGroup>,
    target: &BTreeSet<String>,
) -> Vec<SubscriptionGroup> {
    source
        .into_iter()
        .filter(|group| !target.contains(&group.name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(topics: &[TopicConfig]) -> Vec<&str> {
        topics.iter().map(|t| t.topic_name.as_str()).collect()
    }

    #[test]
    fn only_the_users_topics_and_groups_are_copied() {
        let source = [
            "orders",
            "%RETRY%billing",
            "broker-a",
            "DefaultCluster",
            "TBW102",
            "BenchmarkTest",
            "rmq_sys_REVIVE_LOG_DefaultCluster",
            "rmq_sys_SYNC_BROKER_MEMBER_broker-a",
        ]
        .map(TopicConfig::new);
        let target = BTreeSet::from(["DefaultCluster".to_string(), "broker-b".to_string()]);
        let copied = topics_to_copy(source, &target, Some("broker-a"));
        assert_eq!(names(&copied), ["orders", "%RETRY%billing"]);

        let group = |name: &str| SubscriptionGroup {
            name: name.into(),
            config: serde_json::json!({"groupName": name}),
        };
        let target = BTreeSet::from(["TOOLS_CONSUMER".to_string()]);
        let copied = groups_to_copy([group("billing"), group("TOOLS_CONSUMER")], &target);
        assert_eq!(copied, [group("billing")]);
    }
}
