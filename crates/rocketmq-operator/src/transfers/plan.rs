//! What a TopicTransfer does next, decided afresh from what the two clusters show at each
//! reconcile, never from a phase remembered in the status: so a transfer resumes correctly
//! whenever the operator stops (each action is one the clusters accept again), and a person's
//! change in between is seen. The order keeps every message consumable: the topic is on the
//! target before the source stops taking writes (producers always have somewhere to send), and
//! leaves the source only once every consumer group has consumed everything there.

use std::collections::BTreeMap;

/// What the two clusters show of the topic.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// Whether some source master still holds the topic.
    pub on_source: bool,
    /// Whether a source master still lets producers write to it.
    pub source_writable: bool,
    /// Whether every target master holds it.
    pub on_target: bool,
    /// The consumer groups to carry over, and whether every target master knows each.
    pub groups_on_target: BTreeMap<String, bool>,
    /// Messages the topic holds on the source.
    pub source_messages: u64,
    /// By consumer group: messages on the source it has not consumed.
    pub unconsumed_by_group: BTreeMap<String, u64>,
    /// The RocketMQTopic whose `clusterRef` keeps the topic on the source, if one does.
    pub kept_on_source_by: Option<String>,
    /// Seconds since a source master last stored a message of the topic, if it holds any.
    pub since_last_write: Option<u64>,
}

/// How long the source must have stored nothing before the topic leaves it. Brokers take writes
/// to a read-only topic (the permission only steers routes), and producers learn a new route
/// when they next ask the name servers, every 30 s by default: twice that passes first.
pub const QUIET_SECONDS: u64 = 60;

/// The next action, and the phase the status shows while it is due.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Create the topic and the consumer groups (with their retry topics) on the target.
    CreateOnTarget,
    /// Make the topic read-only on the source.
    StopWrites,
    /// Wait: producers still wrote to the source less than [`QUIET_SECONDS`] ago (the message
    /// says when).
    WaitForProducers(String),
    /// Wait: a group has not consumed everything on the source (the message says what).
    WaitForConsumers(String),
    /// Wait: a RocketMQTopic keeps the topic on the source (it is named), and would set its
    /// permission back and create it there again; the move waits for its `clusterRef` to change.
    WaitForTopicHandOver(String),
    /// Delete the topic from the source's masters and its route from the name servers.
    DeleteFromSource,
    Done,
    /// The topic is on neither cluster: there is nothing to move.
    NothingToMove,
}

impl Next {
    pub fn phase(&self) -> &'static str {
        match self {
            Next::CreateOnTarget => "CreatingOnTarget",
            Next::StopWrites => "StoppingWrites",
            Next::WaitForProducers(_) => "WaitingForProducers",
            Next::WaitForConsumers(_) => "WaitingForConsumers",
            Next::WaitForTopicHandOver(_) => "WaitingForTopicHandOver",
            Next::DeleteFromSource => "DeletingFromSource",
            Next::Done => "Done",
            Next::NothingToMove => "NothingToMove",
        }
    }
}

pub fn next(facts: &Facts) -> Next {
    if !facts.on_source {
        return match facts.on_target {
            true => Next::Done,
            false => Next::NothingToMove,
        };
    }
    if let Some(topic) = &facts.kept_on_source_by {
        return Next::WaitForTopicHandOver(topic.clone());
    }
    if !facts.on_target || facts.groups_on_target.values().any(|known| !known) {
        return Next::CreateOnTarget;
    }
    if facts.source_writable {
        return Next::StopWrites;
    }
    if let Some(seconds) = facts.since_last_write.filter(|s| *s < QUIET_SECONDS) {
        return Next::WaitForProducers(format!(
            "a producer stored a message on the source {seconds} s ago; the topic leaves it \
             once none has for {QUIET_SECONDS} s (producers with a route from before the switch \
             still write there)"
        ));
    }
    match unconsumed(facts) {
        Some(message) => Next::WaitForConsumers(message),
        None => Next::DeleteFromSource,
    }
}

/// Why the source cannot be emptied yet: a group that has not consumed everything there, or
/// messages no group has consumed at all. Messages no one consumes stay: never deleted unread.
fn unconsumed(facts: &Facts) -> Option<String> {
    if facts.source_messages == 0 {
        return None;
    }
    if facts.unconsumed_by_group.is_empty() {
        return Some(format!(
            "{} messages on the source and no consumer group has consumed any; they stay until \
             one does",
            facts.source_messages
        ));
    }
    let behind: Vec<String> = (facts.unconsumed_by_group.iter())
        .filter(|(_, left)| **left > 0)
        .map(|(group, left)| format!("{group} ({left})"))
        .collect();
    (!behind.is_empty()).then(|| {
        format!(
            "consumer groups have messages left on the source: {}",
            behind.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn starting() -> Facts {
        Facts {
            on_source: true,
            source_writable: true,
            groups_on_target: BTreeMap::from([("billing".to_string(), false)]),
            source_messages: 10,
            unconsumed_by_group: BTreeMap::from([("billing".to_string(), 4)]),
            since_last_write: Some(3),
            ..Facts::default()
        }
    }

    /// Each action as the clusters would show it done; `next` walks the whole transfer.
    #[test]
    fn a_transfer_walks_its_phases_in_order_and_waits_for_every_group() {
        let mut facts = starting();
        let mut phases = Vec::new();
        loop {
            let step = next(&facts);
            phases.push(step.phase());
            match step {
                Next::CreateOnTarget => {
                    facts.on_target = true;
                    facts
                        .groups_on_target
                        .values_mut()
                        .for_each(|known| *known = true);
                }
                Next::StopWrites => facts.source_writable = false,
                Next::WaitForProducers(message) => {
                    assert!(message.contains("3 s ago"), "{message}");
                    facts.since_last_write = Some(QUIET_SECONDS);
                }
                Next::WaitForConsumers(message) => {
                    assert!(message.contains("billing (4)"), "{message}");
                    facts.unconsumed_by_group.insert("billing".into(), 0);
                }
                Next::DeleteFromSource => facts.on_source = false,
                Next::WaitForTopicHandOver(_) | Next::Done | Next::NothingToMove => break,
            }
        }
        assert_eq!(
            phases,
            [
                "CreatingOnTarget",
                "StoppingWrites",
                "WaitingForProducers",
                "WaitingForConsumers",
                "DeletingFromSource",
                "Done"
            ]
        );
    }

    #[test]
    fn a_half_done_action_is_done_again_and_unread_messages_are_never_deleted() {
        // The topic reached some target masters, or a group is missing there: create again.
        let mut facts = starting();
        facts.on_target = true;
        assert_eq!(next(&facts), Next::CreateOnTarget);
        // Read-only on the source, but messages no group has read: wait, whatever the time.
        let mut facts = starting();
        facts.on_target = true;
        facts.groups_on_target.clear();
        facts.source_writable = false;
        facts.unconsumed_by_group.clear();
        facts.since_last_write = None;
        let Next::WaitForConsumers(message) = next(&facts) else {
            panic!("deleted unread messages");
        };
        assert!(message.contains("no consumer group"), "{message}");
        // An empty topic leaves at once, unless a producer with an old route just wrote to it.
        facts.source_messages = 0;
        assert_eq!(next(&facts), Next::DeleteFromSource);
        facts.since_last_write = Some(QUIET_SECONDS - 1);
        assert_eq!(next(&facts).phase(), "WaitingForProducers");
        // Neither cluster has it.
        assert_eq!(next(&Facts::default()), Next::NothingToMove);
    }

    /// A RocketMQTopic on the source would undo every step: nothing is done until it points at
    /// the target; a topic already gone from the source is done whatever names it.
    #[test]
    fn a_topic_kept_on_the_source_by_a_rocketmq_topic_waits_for_its_hand_over() {
        let mut facts = starting();
        facts.kept_on_source_by = Some("orders".into());
        assert_eq!(next(&facts), Next::WaitForTopicHandOver("orders".into()));
        facts.on_target = true;
        facts.source_writable = false;
        assert_eq!(next(&facts).phase(), "WaitingForTopicHandOver");
        facts.kept_on_source_by = None;
        assert_eq!(next(&facts).phase(), "CreatingOnTarget");
        let gone = Facts {
            on_target: true,
            kept_on_source_by: Some("orders".into()),
            ..Facts::default()
        };
        assert_eq!(next(&gone), Next::Done);
    }
}
