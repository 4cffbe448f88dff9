//! The KRaft controller quorum. A static quorum (clusters made before Kafka 4.1) fixes its voters
//! in every node's `controller.quorum.voters`, so its controllers never change. A dynamic quorum
//! (KIP-853, every new cluster on 4.1 or later) keeps its voters in the metadata log: nodes find
//! it through `controller.quorum.bootstrap.servers`, the first controllers format their storage
//! with the initial voters, later ones join as observers and are made voters one at a time, and
//! leaving ones are removed from the voters before their pods go. Pure: the steps ask Kafka who
//! votes and act on what this decides.

use std::collections::BTreeSet;

use api::kafka::{KafkaStatus, QuorumMode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use operator_common::content_hash::sha256_hex;

use super::listeners::CONTROL_PLANE_PORT;
use super::model::KafkaModel;
use super::names;
use super::scale_down::{RunningNodes, id_list};
use super::versions::{self, Release};

/// The key of every pool ConfigMap that lists the controllers, for
/// `controller.quorum.bootstrap.servers` to read through the directory config provider. A file
/// rather than a line of `server.properties`: nodes read it only when they start, so adding or
/// removing a controller must not restart every node.
pub const BOOTSTRAP_SERVERS_KEY: &str = "controller-quorum-bootstrap-servers";

/// The key of a controller pool's ConfigMap with the storage tool's quorum arguments.
pub const FORMAT_KEY: &str = "controller-quorum-format";

/// The oldest release whose controllers can form, grow and shrink a dynamic quorum.
const DYNAMIC_SINCE: (u32, u32, u32) = (4, 1, 0);

/// The oldest metadata version whose log can hold the voters (`kraft.version` 1).
const DYNAMIC_METADATA_VERSION: &str = "3.9-IV0";

/// How this cluster's controllers agree on who votes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControllerQuorum {
    Static,
    /// `formed`: Kafka has reported the voters (recorded in the status), so a controller whose
    /// storage is empty joins as an observer instead of formatting itself as an initial voter.
    Dynamic {
        formed: bool,
    },
}

impl ControllerQuorum {
    pub fn mode(self) -> QuorumMode {
        match self {
            ControllerQuorum::Static => QuorumMode::Static,
            ControllerQuorum::Dynamic { .. } => QuorumMode::Dynamic,
        }
    }
}

/// The quorum of a cluster: as its status records it; static for a cluster made before
/// quorums were recorded (a cluster ID but no mode); for one re-created over kept volumes, what
/// the volumes were formatted for; dynamic for a new cluster whose release and metadata version
/// support it.
pub fn of(
    status: Option<&KafkaStatus>,
    kept: Option<QuorumMode>,
    release: Release,
    metadata_version: &str,
) -> ControllerQuorum {
    let recorded = status.and_then(|status| status.controller_quorum.as_ref());
    let mode = match (recorded, status.and_then(|s| s.cluster_id.as_ref()), kept) {
        (Some(recorded), _, _) => recorded.mode,
        (None, Some(_), _) => QuorumMode::Static,
        (None, None, Some(kept)) => kept,
        (None, None, None) if supports_dynamic(release, metadata_version) => QuorumMode::Dynamic,
        (None, None, None) => QuorumMode::Static,
    };
    match mode {
        QuorumMode::Static => ControllerQuorum::Static,
        QuorumMode::Dynamic => ControllerQuorum::Dynamic {
            formed: recorded.is_some_and(|recorded| recorded.voters.is_some()),
        },
    }
}

/// Whether `release` runs a dynamic quorum on `metadata_version`.
pub fn supports_dynamic(release: Release, metadata_version: &str) -> bool {
    let new_enough = versions::parse_version(release.version) >= Some(DYNAMIC_SINCE);
    let log_holds_voters =
        versions::level(metadata_version) >= versions::level(DYNAMIC_METADATA_VERSION);
    new_enough && log_holds_voters
}

/// `host:port` of each controller, comma-separated.
pub fn bootstrap_servers(model: &KafkaModel) -> String {
    let hosts: Vec<String> = (model.controllers().iter())
        .map(|controller| {
            format!(
                "{}:{CONTROL_PLANE_PORT}",
                controller_host(model, controller.id)
            )
        })
        .collect();
    hosts.join(",")
}

/// The storage tool's quorum arguments for a controller of a dynamic quorum: the initial voters
/// until the quorum formed, then none (the controller joins as an observer).
pub fn format_arguments(model: &KafkaModel) -> String {
    let ControllerQuorum::Dynamic { formed: false } = model.quorum else {
        return "--no-initial-controllers".into();
    };
    let voters: Vec<String> = (model.controllers().iter())
        .map(|controller| {
            format!(
                "{}@{}:{CONTROL_PLANE_PORT}:{}",
                controller.id,
                controller_host(model, controller.id),
                initial_directory_id(&model.cluster_id, controller.id)
            )
        })
        .collect();
    format!("--initial-controllers {}", voters.join(","))
}

/// The directory ID an initial controller formats its metadata log with: derived from the
/// cluster and node IDs, so that every initial controller is given the same list without the
/// operator keeping one. Used only until the quorum forms: a controller whose disk is replaced
/// later gets a fresh random ID from Kafka, as KIP-853 requires.
pub fn initial_directory_id(cluster_id: &str, node_id: i32) -> String {
    let hash = sha256_hex(&format!("{cluster_id}/{node_id}"));
    let bytes: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(&hash[2 * i..2 * i + 2], 16).expect("a hex digest"))
        .collect();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The DNS name a controller is reached on.
pub fn controller_host(model: &KafkaModel, id: i32) -> String {
    let node = model.nodes().find(|node| node.id == id);
    let pod = node.map_or_else(|| id.to_string(), |node| model.pod_name(&node));
    names::pod_dns(&model.cluster, &model.namespace, &pod)
}

/// How the model's controllers differ from the voters: who joins, who leaves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VoterChange {
    pub joining: BTreeSet<i32>,
    pub leaving: BTreeSet<i32>,
}

impl VoterChange {
    pub fn between(voters: &BTreeSet<i32>, model: &KafkaModel) -> VoterChange {
        let desired = desired_controllers(model);
        VoterChange {
            joining: desired.difference(voters).copied().collect(),
            leaving: voters.difference(&desired).copied().collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.joining.is_empty() && self.leaving.is_empty()
    }
}

fn desired_controllers(model: &KafkaModel) -> BTreeSet<i32> {
    model.controllers().iter().map(|node| node.id).collect()
}

/// Why the model's controllers cannot replace the running ones, if they cannot: on a static
/// quorum no controller may come or go; on a dynamic one, controllers come and go as whole
/// nodes, but a running node may not gain or lose the controller role (its storage was
/// formatted for the other).
pub fn refused_change(running: &RunningNodes, model: &KafkaModel) -> Option<String> {
    let desired = desired_controllers(model);
    if running.controllers.is_empty() || desired == running.controllers {
        return None;
    }
    match model.quorum {
        ControllerQuorum::Static => Some(format!(
            "the controller quorum would change from nodes {} to {}; the quorum is static \
             (controller.quorum.voters, a cluster made before Kafka 4.1), so controllers cannot \
             be added, removed or given another role while they run; put the controller pools' \
             replicas and roles back",
            id_list(&running.controllers),
            id_list(&desired)
        )),
        ControllerQuorum::Dynamic { .. } => {
            let staying: BTreeSet<i32> = model.nodes().map(|node| node.id).collect();
            let running_nodes: BTreeSet<i32> = running
                .brokers
                .union(&running.controllers)
                .copied()
                .collect();
            let demoted = running
                .controllers
                .difference(&desired)
                .filter(|id| staying.contains(id));
            let promoted = desired
                .difference(&running.controllers)
                .filter(|id| running_nodes.contains(id));
            let changed: BTreeSet<i32> = demoted.chain(promoted).copied().collect();
            if !changed.is_empty() {
                return Some(format!(
                    "nodes {} would gain or lose the controller role while they run; a node's \
                     storage is formatted for its roles, so add controllers as new nodes and \
                     remove them as whole nodes instead",
                    id_list(&changed)
                ));
            }
            // Removing voters before the new ones vote could leave too few to agree.
            let swapped = !running.controllers.is_subset(&desired)
                && !desired.is_subset(&running.controllers);
            swapped.then(|| {
                format!(
                    "the controllers would change from nodes {} to {} in one step; add the new \
                     controllers first, and remove the old ones once they vote",
                    id_list(&running.controllers),
                    id_list(&desired)
                )
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::testing::example_model;
    use api::kafka::ControllerQuorumStatus;

    fn release(version: &str) -> Release {
        versions::find(version).unwrap()
    }

    #[test]
    fn new_clusters_on_4_1_are_dynamic_and_recorded_modes_stay() {
        let new = |version: &str, metadata: &str| of(None, None, release(version), metadata);
        assert_eq!(
            new("4.1.0", "4.1-IV1"),
            ControllerQuorum::Dynamic { formed: false }
        );
        assert_eq!(new("4.0.0", "4.0-IV3"), ControllerQuorum::Static);
        assert_eq!(new("4.1.0", "3.8-IV0"), ControllerQuorum::Static);

        let made_before = KafkaStatus {
            cluster_id: Some("id".into()),
            ..KafkaStatus::default()
        };
        assert_eq!(
            of(Some(&made_before), None, release("4.4.0"), "4.4-IV2"),
            ControllerQuorum::Static
        );
        let kept = Some(QuorumMode::Dynamic);
        assert_eq!(
            of(None, kept, release("4.4.0"), "4.4-IV2"),
            ControllerQuorum::Dynamic { formed: false }
        );
        let formed = KafkaStatus {
            cluster_id: Some("id".into()),
            controller_quorum: Some(ControllerQuorumStatus {
                mode: QuorumMode::Dynamic,
                voters: Some(vec![0, 1, 2]),
            }),
            ..KafkaStatus::default()
        };
        assert_eq!(
            of(Some(&formed), None, release("4.4.0"), "4.4-IV2"),
            ControllerQuorum::Dynamic { formed: true }
        );
    }

    #[test]
    fn initial_controllers_are_listed_until_the_quorum_formed() {
        let mut model = example_model("persistent-dual-pool");
        model.quorum = ControllerQuorum::Dynamic { formed: false };
        let arguments = format_arguments(&model);
        let controllers = model.controllers();
        assert!(
            arguments.starts_with("--initial-controllers "),
            "{arguments}"
        );
        let voters: Vec<&str> = arguments["--initial-controllers ".len()..]
            .split(',')
            .collect();
        assert_eq!(voters.len(), controllers.len());
        for (voter, controller) in voters.iter().zip(&controllers) {
            let host = controller_host(&model, controller.id);
            let id = initial_directory_id(&model.cluster_id, controller.id);
            assert_eq!(*voter, format!("{}@{host}:9090:{id}", controller.id));
        }
        model.quorum = ControllerQuorum::Dynamic { formed: true };
        assert_eq!(format_arguments(&model), "--no-initial-controllers");
    }

    #[test]
    fn directory_ids_are_kafka_uuids_distinct_per_node_and_cluster() {
        let id = initial_directory_id("cluster", 0);
        assert_eq!(id.len(), 22);
        let decoded = URL_SAFE_NO_PAD.decode(&id).unwrap();
        assert_eq!(decoded.len(), 16);
        assert_eq!(id, initial_directory_id("cluster", 0));
        assert_ne!(id, initial_directory_id("cluster", 1));
        assert_ne!(id, initial_directory_id("other", 0));
    }

    #[test]
    fn voters_join_and_leave_by_node() {
        let model = example_model("persistent-dual-pool");
        let desired = desired_controllers(&model);
        assert!(VoterChange::between(&desired, &model).is_empty());
        let lowest = *desired.first().unwrap();
        let mut voters = desired.clone();
        voters.remove(&lowest);
        voters.insert(100);
        let change = VoterChange::between(&voters, &model);
        assert_eq!(change.joining, BTreeSet::from([lowest]));
        assert_eq!(change.leaving, BTreeSet::from([100]));
    }

    #[test]
    fn a_static_quorum_never_changes_and_a_dynamic_one_never_changes_roles() {
        let mut model = example_model("persistent-dual-pool");
        let desired = desired_controllers(&model);
        let brokers: BTreeSet<i32> = (model.nodes())
            .filter(|node| node.roles.broker)
            .map(|node| node.id)
            .collect();
        let same = RunningNodes {
            brokers: brokers.clone(),
            controllers: desired.clone(),
        };
        let mut grown = same.clone();
        grown.controllers.insert(100);
        model.quorum = ControllerQuorum::Static;
        assert_eq!(refused_change(&same, &model), None);
        let message = refused_change(&grown, &model).expect("a static quorum does not shrink");
        assert!(message.contains("static"), "{message}");
        assert_eq!(refused_change(&RunningNodes::default(), &model), None);

        model.quorum = ControllerQuorum::Dynamic { formed: true };
        assert_eq!(
            refused_change(&grown, &model),
            None,
            "node 100 leaves whole"
        );
        let broker = *brokers.iter().find(|id| !desired.contains(id)).unwrap();
        let mut promoted = same.clone();
        promoted.controllers.remove(desired.first().unwrap());
        promoted.brokers.insert(*desired.first().unwrap());
        promoted.controllers.insert(broker);
        let message = refused_change(&promoted, &model).expect("roles do not change");
        assert!(message.contains(&broker.to_string()), "{message}");

        let mut swapped = same.clone();
        swapped.controllers.remove(desired.first().unwrap());
        swapped.controllers.insert(100);
        let message = refused_change(&swapped, &model).expect("not in one step");
        assert!(
            message.contains("add the new controllers first"),
            "{message}"
        );
    }
}
