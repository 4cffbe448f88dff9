//! Which broker restarts next when configuration changed or a user asked for a restart. One at a
//! time, each only while every other broker is Ready; followers before the brokers that lead, so
//! each group's master keeps taking writes while its replicas restart and pauses only once, last,
//! when its replicas are current. In STATIC mode the masters are the `-master` pods; in controller
//! mode they are whichever brokers the controllers elected ([`elected`](super::elected)).

use super::model::Node;

/// What the rolling step observed of one broker's pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BrokerPod {
    pub node: Node,
    /// Whether it is its group's master now.
    pub leads: bool,
    pub ready: bool,
    /// Started with another configuration than the desired one.
    pub outdated: bool,
    /// A user asked for a restart (`strimzi.io/manual-rolling-update`).
    pub restart_asked: bool,
}

impl BrokerPod {
    /// Whether this broker is to restart: `allowRestart: false` holds back configuration
    /// changes, never a restart the user asked for.
    pub fn due(&self, allow_restart: bool) -> bool {
        self.restart_asked || (self.outdated && allow_restart)
    }
}

/// Followers first, then masters, group by group.
pub fn restart_order(pod: &BrokerPod) -> (bool, i32, i32) {
    (pod.leads, pod.node.group, pod.node.replica)
}

/// The broker to restart now, if any. A broker that is already down is restarted first: it
/// serves nothing anyway. Otherwise the first [`BrokerPod::due`] one in [`restart_order`], only
/// while every broker is Ready.
pub fn next_restart(pods: &[BrokerPod], allow_restart: bool) -> Option<Node> {
    let mut due: Vec<&BrokerPod> = pods.iter().filter(|pod| pod.due(allow_restart)).collect();
    due.sort_by_key(|pod| restart_order(pod));
    if let Some(down) = due.iter().find(|pod| !pod.ready) {
        return Some(down.node);
    }
    let all_ready = pods.iter().all(|pod| pod.ready);
    due.first().filter(|_| all_ready).map(|pod| pod.node)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(group: i32, replica: i32, ready: bool, outdated: bool) -> BrokerPod {
        BrokerPod {
            node: Node { group, replica },
            leads: replica == 0,
            ready,
            outdated,
            restart_asked: false,
        }
    }

    #[test]
    fn replicas_restart_before_masters_one_at_a_time() {
        let mut pods = vec![
            pod(0, 0, true, true),
            pod(0, 1, true, true),
            pod(1, 0, true, true),
            pod(1, 1, true, true),
        ];
        let mut order = Vec::new();
        while let Some(next) = next_restart(&pods, true) {
            order.push((next.group, next.replica));
            let restarted = pods.iter_mut().find(|pod| pod.node == next).unwrap();
            restarted.outdated = false;
        }
        assert_eq!(order, [(0, 1), (1, 1), (0, 0), (1, 0)]);
    }

    #[test]
    fn in_controller_mode_the_elected_master_restarts_last_whatever_its_pod_is_named() {
        let mut pods = [pod(0, 0, true, true), pod(0, 1, true, true)];
        pods[0].leads = false;
        pods[1].leads = true;
        assert_eq!(next_restart(&pods, true), Some(Node::master(0)));
    }

    #[test]
    fn a_restart_waits_for_every_broker_to_be_ready_unless_the_broker_is_down() {
        let waiting = [pod(0, 0, true, true), pod(1, 1, false, false)];
        assert_eq!(next_restart(&waiting, true), None);
        let down = [pod(0, 0, true, true), pod(1, 0, false, true)];
        assert_eq!(next_restart(&down, true), Some(Node::master(1)));
        assert_eq!(next_restart(&[pod(0, 0, true, false)], true), None);
    }

    #[test]
    fn an_asked_restart_goes_ahead_when_configuration_restarts_are_off() {
        let asked = BrokerPod {
            restart_asked: true,
            ..pod(0, 1, true, false)
        };
        let pods = [pod(0, 0, true, true), asked];
        assert_eq!(
            next_restart(&pods, false),
            Some(Node {
                group: 0,
                replica: 1
            })
        );
        assert_eq!(next_restart(&pods[..1], false), None);
        assert_eq!(next_restart(&pods[..1], true), Some(Node::master(0)));
    }
}
