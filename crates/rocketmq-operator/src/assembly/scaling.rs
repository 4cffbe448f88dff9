//! Scaling in: which broker groups beyond `size` may go. A master still holding messages that
//! were not consumed keeps its group (with the reason in a condition) unless the user forces it
//! with the `brokerage.io/force-scale-in` annotation; claims are never deleted either way, so a
//! group scaled out again finds its data.

use super::model::Node;

/// What the operator learned of a removed group's master.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MasterState {
    /// No master pod runs (evicted, restarting): the broker cannot be asked, and its volume may
    /// still hold messages, so nothing is known.
    Absent,
    /// Messages not consumed yet by some consumer group.
    Unconsumed(u64),
    /// The broker could not be asked.
    Unreachable(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScaleIn {
    Remove,
    Keep { reason: String },
}

/// Whether broker group `broker_name` may be removed.
pub fn decide(broker_name: &str, master: &MasterState, force: bool) -> ScaleIn {
    let reason = match master {
        MasterState::Unconsumed(0) => return ScaleIn::Remove,
        _ if force => return ScaleIn::Remove,
        MasterState::Absent => format!(
            "broker group {broker_name} is kept: its master pod is not running, so it cannot be \
             asked whether its messages were consumed; it is asked again once its pod runs"
        ),
        MasterState::Unconsumed(count) => format!(
            "broker group {broker_name} is kept: its master holds {count} messages not consumed yet"
        ),
        MasterState::Unreachable(error) => format!(
            "broker group {broker_name} is kept: its master cannot be asked whether its messages \
             were consumed ({error})"
        ),
    };
    ScaleIn::Keep {
        reason: format!(
            "{reason}; it goes once they are, or now with the annotation \
             brokerage.io/force-scale-in: \"true\" on the Broker"
        ),
    }
}

/// The broker a StatefulSet named by [`super::names::broker_statefulset`] runs.
pub fn node_of_statefulset(broker: &str, statefulset: &str) -> Option<Node> {
    let rest = statefulset.strip_prefix(broker)?.strip_prefix('-')?;
    let (group, role) = rest.split_once('-')?;
    let group = group.parse().ok().filter(|group: &i32| *group >= 0)?;
    let replica = match role {
        "master" => 0,
        replica => replica
            .strip_prefix("replica-")?
            .parse()
            .ok()
            .filter(|replica: &i32| *replica > 0)?,
    };
    Some(Node { group, replica })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::names::broker_statefulset;

    #[test]
    fn a_group_goes_only_when_nothing_is_left_unconsumed_or_the_user_forces_it() {
        assert_eq!(
            decide("b-1", &MasterState::Unconsumed(0), false),
            ScaleIn::Remove
        );
        let ScaleIn::Keep { reason } = decide("b-1", &MasterState::Unconsumed(3), false) else {
            panic!("kept");
        };
        assert!(
            reason.contains("b-1") && reason.contains("3 messages"),
            "{reason}"
        );
        assert!(reason.contains("brokerage.io/force-scale-in"));
        let unreachable = MasterState::Unreachable("connection refused".into());
        assert!(matches!(
            decide("b-1", &unreachable, false),
            ScaleIn::Keep { .. }
        ));
        assert_eq!(decide("b-1", &unreachable, true), ScaleIn::Remove);
        // A master pod briefly gone (evicted, restarting) is not a master with nothing left.
        let ScaleIn::Keep { reason } = decide("b-1", &MasterState::Absent, false) else {
            panic!("an absent master keeps its group");
        };
        assert!(reason.contains("not running"), "{reason}");
        assert_eq!(decide("b-1", &MasterState::Absent, true), ScaleIn::Remove);
        assert_eq!(
            decide("b-1", &MasterState::Unconsumed(3), true),
            ScaleIn::Remove
        );
    }

    #[test]
    fn statefulset_names_parse_back_to_their_broker() {
        for (group, replica) in [(0, 0), (3, 0), (2, 1), (10, 12)] {
            let name = broker_statefulset("my-broker", group, replica);
            assert_eq!(
                node_of_statefulset("my-broker", &name),
                Some(Node { group, replica })
            );
        }
        assert_eq!(node_of_statefulset("my-broker", "my-broker-x-master"), None);
        assert_eq!(
            node_of_statefulset("my-broker", "my-broker-1-replica-0"),
            None
        );
        assert_eq!(node_of_statefulset("my", "my-broker-1-master"), None);
    }
}
