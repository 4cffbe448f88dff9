//! A KRaft cluster's identity where its data is: the cluster ID and quorum mode are recorded on
//! every volume claim, and a claim's name ends with its node's ID, so a Kafka or node pool re-created (from
//! Git, from a backup) over kept claims takes up the IDs its disks were formatted with, instead
//! of new ones the disks refuse. Pure: the controller lists the claims and asks this.

use std::collections::BTreeSet;

use api::kafka::{KafkaNodePool, KafkaNodePoolStatus, QuorumMode};
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use kube::ResourceExt;
use runtime::labels::STRIMZI_POOL_NAME;

use super::names;

/// The KRaft cluster ID the volume was formatted with.
pub const CLUSTER_ID_ANNOTATION: &str = "brokerage.io/cluster-id";

/// The quorum mode the volume was formatted for: `static` or `dynamic`.
pub const QUORUM_ANNOTATION: &str = "brokerage.io/controller-quorum";
const DYNAMIC: &str = "dynamic";

/// What kept claims were formatted for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeptIdentity {
    pub cluster_id: String,
    /// Static where the claim predates recording it.
    pub quorum: QuorumMode,
}

/// The identity recorded on the claims, if any (the first by claim name, should they differ).
pub fn kept_identity(claims: &[PersistentVolumeClaim]) -> Option<KeptIdentity> {
    let mut claims: Vec<&PersistentVolumeClaim> = claims.iter().collect();
    claims.sort_by_key(|claim| claim.name_any());
    claims.into_iter().find_map(|claim| {
        let annotations = claim.annotations();
        Some(KeptIdentity {
            cluster_id: annotations.get(CLUSTER_ID_ANNOTATION)?.clone(),
            quorum: match annotations.get(QUORUM_ANNOTATION).map(String::as_str) {
                Some(DYNAMIC) => QuorumMode::Dynamic,
                _ => QuorumMode::Static,
            },
        })
    })
}

/// The annotations that record `cluster_id` and `quorum` on a claim.
pub fn identity_annotations(cluster_id: &str, quorum: QuorumMode) -> [(&'static str, &str); 2] {
    let mode = match quorum {
        QuorumMode::Static => "static",
        QuorumMode::Dynamic => DYNAMIC,
    };
    [
        (CLUSTER_ID_ANNOTATION, cluster_id),
        (QUORUM_ANNOTATION, mode),
    ]
}

/// The claims that do not record `cluster_id` and `quorum` yet.
pub fn unrecorded(
    claims: &[PersistentVolumeClaim],
    cluster_id: &str,
    quorum: QuorumMode,
) -> Vec<String> {
    let wanted = identity_annotations(cluster_id, quorum);
    claims
        .iter()
        .filter(|claim| {
            let annotations = claim.annotations();
            (wanted.iter())
                .any(|(key, value)| annotations.get(*key).map(String::as_str) != Some(value))
        })
        .map(|claim| claim.name_any())
        .collect()
}

/// Gives each pool without node IDs in its status the IDs its kept claims are named for (one
/// contiguous range from the lowest, as a pool's StatefulSet numbers its pods), unless another
/// pool has one of them.
pub fn restore_node_ids(
    pools: &mut [KafkaNodePool],
    claims: &[PersistentVolumeClaim],
    cluster: &str,
) {
    let mut used: BTreeSet<i32> = pools
        .iter()
        .filter_map(|pool| pool.status.as_ref()?.node_ids.clone())
        .flatten()
        .collect();
    for pool in pools.iter_mut() {
        let has_ids = pool
            .status
            .as_ref()
            .and_then(|status| status.node_ids.as_ref())
            .is_some_and(|ids| !ids.is_empty());
        if has_ids {
            continue;
        }
        let ids = claimed_ids(claims, cluster, &pool.name_any());
        if ids.is_empty() || ids.iter().any(|id| used.contains(id)) {
            continue;
        }
        used.extend(&ids);
        let status = pool.status.get_or_insert_with(KafkaNodePoolStatus::default);
        status.node_ids = Some(ids);
    }
}

/// The node IDs of `pool`'s claims: a claim is named `<volume>-<cluster>-<pool>-<node ID>`.
fn claimed_ids(claims: &[PersistentVolumeClaim], cluster: &str, pool: &str) -> Vec<i32> {
    let statefulset = format!("-{}-", names::statefulset(cluster, pool));
    let ids: BTreeSet<i32> = claims
        .iter()
        .filter(|claim| claim.labels().get(STRIMZI_POOL_NAME).map(String::as_str) == Some(pool))
        .filter_map(|claim| {
            let name = claim.name_any();
            let (_, id) = name.rsplit_once(&statefulset)?;
            id.parse().ok().filter(|id: &i32| *id >= 0)
        })
        .collect();
    let Some(&lowest) = ids.first() else {
        return Vec::new();
    };
    (lowest..).take_while(|id| ids.contains(id)).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claim(name: &str, pool: &str, cluster_id: Option<&str>) -> PersistentVolumeClaim {
        let annotations = match cluster_id {
            Some(id) => json!({ CLUSTER_ID_ANNOTATION: id }),
            None => json!({}),
        };
        serde_json::from_value(json!({"metadata": {
            "name": name, "labels": {STRIMZI_POOL_NAME: pool}, "annotations": annotations,
        }}))
        .unwrap()
    }

    fn pool(name: &str, node_ids: Option<Vec<i32>>) -> KafkaNodePool {
        let mut pool: KafkaNodePool = serde_json::from_value(json!({
            "apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaNodePool",
            "metadata": {"name": name}, "spec": {"replicas": 3, "roles": ["broker"],
                "storage": {"type": "ephemeral"}},
        }))
        .unwrap();
        pool.status = node_ids.map(|ids| KafkaNodePoolStatus {
            node_ids: Some(ids),
            ..KafkaNodePoolStatus::default()
        });
        pool
    }

    #[test]
    fn the_cluster_id_and_quorum_are_read_back_from_the_claims() {
        let mut claims = [
            claim("data-0-c-broker-4", "broker", None),
            claim("data-0-c-broker-3", "broker", Some("kept-id")),
        ];
        let kept = kept_identity(&claims).unwrap();
        assert_eq!(kept.cluster_id, "kept-id");
        assert_eq!(
            kept.quorum,
            QuorumMode::Static,
            "recorded before quorums were"
        );
        let dynamic = QuorumMode::Dynamic;
        let unrecorded_claims = unrecorded(&claims, "kept-id", dynamic);
        assert_eq!(
            unrecorded_claims,
            ["data-0-c-broker-4", "data-0-c-broker-3"]
        );
        for claim in &mut claims {
            let annotations = claim.metadata.annotations.get_or_insert_default();
            for (key, value) in identity_annotations("kept-id", dynamic) {
                annotations.insert(key.into(), value.into());
            }
        }
        assert_eq!(kept_identity(&claims).unwrap().quorum, dynamic);
        assert!(unrecorded(&claims, "kept-id", dynamic).is_empty());
        assert_eq!(kept_identity(&[]), None);
    }

    #[test]
    fn a_recreated_pool_takes_the_ids_of_its_claims() {
        let claims = [
            claim("data-0-c-broker-3", "broker", None),
            claim("data-0-c-broker-4", "broker", None),
            claim("data-1-c-broker-4", "broker", None),
            // Kept from a node scaled away long ago: not part of the range.
            claim("data-0-c-broker-9", "broker", None),
            claim("data-0-c-controller-0", "controller", None),
        ];
        let mut pools = [pool("broker", None), pool("controller", Some(vec![0]))];
        restore_node_ids(&mut pools, &claims, "c");
        let ids = |pool: &KafkaNodePool| pool.status.as_ref().unwrap().node_ids.clone().unwrap();
        assert_eq!(ids(&pools[0]), [3, 4]);
        assert_eq!(ids(&pools[1]), [0]);
    }

    #[test]
    fn ids_another_pool_has_are_not_restored() {
        let claims = [claim("data-0-c-old-0", "old", None)];
        let mut pools = [pool("old", None), pool("broker", Some(vec![0]))];
        restore_node_ids(&mut pools, &claims, "c");
        assert_eq!(pools[0].status, None);
    }
}
