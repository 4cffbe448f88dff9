//! Which broker restarts next when configuration changed. One at a time, each only while every
//! other broker is Ready; replicas before masters, so each group's master keeps taking writes
//! while its replicas restart and pauses only once, last, when its replicas are current.

use super::model::Node;

/// What the rolling step observed of one broker's pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BrokerPod {
    pub node: Node,
    pub ready: bool,
    /// Started with another configuration than the desired one.
    pub outdated: bool,
}

/// Replicas first, then masters, group by group.
pub fn restart_order(node: &Node) -> (bool, i32, i32) {
    (node.is_master(), node.group, node.replica)
}

/// The broker to restart now, if any. A broker that is already down is restarted first: it
/// serves nothing anyway. Otherwise the first outdated one in [`restart_order`], only while
/// every broker is Ready.
pub fn next_restart(pods: &[BrokerPod]) -> Option<Node> {
    let mut outdated: Vec<&BrokerPod> = pods.iter().filter(|pod| pod.outdated).collect();
    outdated.sort_by_key(|pod| restart_order(&pod.node));
    if let Some(down) = outdated.iter().find(|pod| !pod.ready) {
        return Some(down.node);
    }
    let all_ready = pods.iter().all(|pod| pod.ready);
    outdated.first().filter(|_| all_ready).map(|pod| pod.node)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(group: i32, replica: i32, ready: bool, outdated: bool) -> BrokerPod {
        BrokerPod {
            node: Node { group, replica },
            ready,
            outdated,
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
        while let Some(next) = next_restart(&pods) {
            order.push((next.group, next.replica));
            let restarted = pods.iter_mut().find(|pod| pod.node == next).unwrap();
            restarted.outdated = false;
        }
        assert_eq!(order, [(0, 1), (1, 1), (0, 0), (1, 0)]);
    }

    #[test]
    fn a_restart_waits_for_every_broker_to_be_ready_unless_the_broker_is_down() {
        let waiting = [pod(0, 0, true, true), pod(1, 1, false, false)];
        assert_eq!(next_restart(&waiting), None);
        let down = [pod(0, 0, true, true), pod(1, 0, false, true)];
        assert_eq!(next_restart(&down), Some(Node::master(1)));
        assert_eq!(next_restart(&[pod(0, 0, true, false)]), None);
    }
}
