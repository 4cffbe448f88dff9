//! What a RocketMQTopic needs on each master broker, from what the masters have. Pure.

use rocketmq_client::TopicConfig;

use super::model::MESSAGE_TYPE_ATTRIBUTE;

/// What to do for one topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Every master has the topic as the spec says.
    InSync,
    /// Create or update the topic on these masters (by address).
    Write(Vec<String>),
    /// A change RocketMQ cannot make in place; nothing is changed.
    NotSupported(String),
}

/// Plans one topic: `desired` from the spec, `previous_name` the topic the status says this
/// resource manages, and per master address the topic it has (`None`: not there).
pub fn plan<'a>(
    desired: &TopicConfig,
    previous_name: Option<&str>,
    masters: impl IntoIterator<Item = (&'a String, Option<&'a TopicConfig>)>,
) -> Plan {
    if let Some(previous) = previous_name.filter(|previous| *previous != desired.topic_name) {
        return Plan::NotSupported(format!(
            "the RocketMQ topic of this resource cannot change from {previous:?} to {:?}; \
             put spec.topicName back, or create a new RocketMQTopic for the new topic",
            desired.topic_name
        ));
    }
    let outdated: Vec<String> = masters
        .into_iter()
        .filter(|(_, current)| !current.is_some_and(|current| matches(desired, current)))
        .map(|(address, _)| address.clone())
        .collect();
    match outdated.is_empty() {
        true => Plan::InSync,
        false => Plan::Write(outdated),
    }
}

/// Whether a master's topic has what the spec asks for. A topic made without a message type is
/// `NORMAL`, as RocketMQ treats it.
fn matches(desired: &TopicConfig, current: &TopicConfig) -> bool {
    let message_type = |config: &TopicConfig| {
        config
            .attributes
            .get(MESSAGE_TYPE_ATTRIBUTE)
            .cloned()
            .unwrap_or_else(|| "NORMAL".into())
    };
    desired.read_queue_nums == current.read_queue_nums
        && desired.write_queue_nums == current.write_queue_nums
        && desired.perm == current.perm
        && desired.order == current.order
        && message_type(desired) == message_type(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(name: &str, queues: i32, message_type: Option<&str>) -> TopicConfig {
        let mut config = TopicConfig::new(name);
        config.read_queue_nums = queues;
        config.write_queue_nums = queues;
        if let Some(message_type) = message_type {
            config
                .attributes
                .insert(MESSAGE_TYPE_ATTRIBUTE.into(), message_type.into());
        }
        config
    }

    #[test]
    fn only_masters_without_the_topic_as_specified_are_written() {
        let desired = config("orders", 8, Some("NORMAL"));
        let same = config("orders", 8, None);
        let fewer = config("orders", 4, Some("NORMAL"));
        let (a, b, c) = (
            "a:10911".to_string(),
            "b:10911".to_string(),
            "c:10911".to_string(),
        );
        let masters = [(&a, Some(&same)), (&b, Some(&fewer)), (&c, None)];
        assert_eq!(
            plan(&desired, Some("orders"), masters),
            Plan::Write(vec![b.clone(), c.clone()])
        );
        assert_eq!(plan(&desired, None, [(&a, Some(&same))]), Plan::InSync);

        let fifo = config("orders", 8, Some("FIFO"));
        assert_eq!(plan(&fifo, None, [(&a, Some(&same))]), Plan::Write(vec![a]));
    }

    #[test]
    fn a_renamed_topic_is_not_supported() {
        let desired = config("orders-v2", 8, None);
        let Plan::NotSupported(message) = plan(&desired, Some("orders"), []) else {
            panic!("a rename must not be planned");
        };
        assert!(message.contains("\"orders\" to \"orders-v2\""), "{message}");
    }
}
