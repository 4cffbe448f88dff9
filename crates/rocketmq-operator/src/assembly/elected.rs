//! In controller mode, each broker group as its controllers elected it: the master and the
//! in-sync replicas, by pod (the controllers name brokers by address, `<pod IP>:<port>`); and
//! which replica takes over when a master is to restart.

use std::collections::BTreeMap;
use std::time::Duration;

use api::rocketmq::BrokerGroupStatus;
use rocketmq_client::ReplicaSet;

/// One group as elected, by pod name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ElectedGroup {
    pub broker_name: String,
    pub master: Option<String>,
    /// Alive and in sync, the master among them.
    pub in_sync: Vec<String>,
    /// The ID the controllers gave each pod's broker.
    pub broker_ids: BTreeMap<String, i64>,
}

/// The groups of `states` (by broker name), their brokers found by `pod_ips` (pod, IP) on
/// `port`; a broker at no pod's address is left out.
pub fn elected_groups(
    states: &BTreeMap<String, ReplicaSet>,
    pod_ips: &[(String, String)],
    port: i32,
) -> Vec<ElectedGroup> {
    let pod_at = |address: &str| {
        (pod_ips.iter())
            .find(|(_, ip)| format!("{ip}:{port}") == address)
            .map(|(pod, _)| pod.clone())
    };
    (states.iter())
        .map(|(broker_name, state)| {
            let replicas = state
                .in_sync_replicas
                .iter()
                .chain(&state.not_in_sync_replicas);
            ElectedGroup {
                broker_name: broker_name.clone(),
                master: state.master_address.as_deref().and_then(pod_at),
                in_sync: (state.in_sync_replicas.iter())
                    .filter(|replica| replica.alive)
                    .filter_map(|replica| pod_at(&replica.broker_address))
                    .collect(),
                broker_ids: replicas
                    .filter_map(|replica| {
                        Some((pod_at(&replica.broker_address)?, replica.broker_id))
                    })
                    .collect(),
            }
        })
        .collect()
}

/// How soon to ask the controllers again, so that the status follows elections nothing else
/// announces: soon while a group has no master or a broker out of sync, else at leisure.
pub fn refresh_in(groups: &[ElectedGroup], brokers_per_group: usize) -> Duration {
    let settled = groups
        .iter()
        .all(|group| group.master.is_some() && group.in_sync.len() == brokers_per_group);
    match settled {
        true => Duration::from_secs(60),
        false => Duration::from_secs(10),
    }
}

impl ElectedGroup {
    /// The broker to elect before the master's pod restarts: an alive in-sync replica other
    /// than the master (the first by pod name); none when the master is alone in sync, and then
    /// it restarts as master and the group pauses while it does.
    pub fn handover(&self) -> Option<(String, i64)> {
        let master = self.master.as_ref()?;
        let mut candidates: Vec<&String> =
            self.in_sync.iter().filter(|pod| *pod != master).collect();
        candidates.sort();
        let pod = candidates.first()?;
        Some(((*pod).clone(), *self.broker_ids.get(*pod)?))
    }

    pub fn status(&self) -> BrokerGroupStatus {
        BrokerGroupStatus {
            broker_name: self.broker_name.clone(),
            master: self.master.clone(),
            in_sync_replicas: self.in_sync.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rocketmq_client::Replica;

    fn replica(id: i64, ip: &str, alive: bool) -> Replica {
        Replica {
            broker_id: id,
            broker_address: format!("{ip}:10911"),
            alive,
        }
    }

    fn group() -> BTreeMap<String, ReplicaSet> {
        BTreeMap::from([(
            "broker-0".to_string(),
            ReplicaSet {
                master_broker_id: Some(2),
                master_address: Some("10.0.0.2:10911".into()),
                master_epoch: Some(3),
                in_sync_replicas: vec![
                    replica(2, "10.0.0.2", true),
                    replica(1, "10.0.0.1", true),
                    replica(3, "10.0.0.3", false),
                ],
                not_in_sync_replicas: vec![replica(4, "10.0.0.4", true)],
            },
        )])
    }

    fn pods() -> Vec<(String, String)> {
        [
            ("broker-0-master-0", "10.0.0.1"),
            ("broker-0-replica-1-0", "10.0.0.2"),
            ("broker-0-replica-2-0", "10.0.0.3"),
            ("broker-0-replica-3-0", "10.0.0.4"),
        ]
        .map(|(pod, ip)| (pod.to_string(), ip.to_string()))
        .to_vec()
    }

    #[test]
    fn the_elected_master_and_alive_in_sync_replicas_are_named_by_pod() {
        let groups = elected_groups(&group(), &pods(), 10911);
        let status = groups[0].status();
        assert_eq!(status.master.as_deref(), Some("broker-0-replica-1-0"));
        assert_eq!(
            status.in_sync_replicas,
            ["broker-0-replica-1-0", "broker-0-master-0"]
        );
    }

    #[test]
    fn mastership_goes_to_an_alive_in_sync_replica_or_stays() {
        let groups = elected_groups(&group(), &pods(), 10911);
        assert_eq!(
            groups[0].handover(),
            Some(("broker-0-master-0".to_string(), 1))
        );
        let mut alone = group();
        let state = alone.get_mut("broker-0").unwrap();
        state
            .in_sync_replicas
            .retain(|replica| replica.broker_id == 2);
        assert_eq!(elected_groups(&alone, &pods(), 10911)[0].handover(), None);
        // A master on no pod's address (its pod restarted with a new IP): nothing to hand over.
        assert_eq!(
            elected_groups(&group(), &pods()[..1], 10911)[0].handover(),
            None
        );
    }

    #[test]
    fn the_view_is_asked_again_soon_while_a_group_is_unsettled() {
        let groups = elected_groups(&group(), &pods(), 10911);
        assert_eq!(refresh_in(&groups, 2), Duration::from_secs(60));
        assert_eq!(refresh_in(&groups, 3), Duration::from_secs(10));
        let leaderless = ElectedGroup::default();
        assert_eq!(refresh_in(&[leaderless], 0), Duration::from_secs(10));
    }
}
