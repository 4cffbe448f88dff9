//! A KRaft cluster's identity where its data is: the cluster ID is recorded on every volume
//! claim, and a claim's name ends with its node's ID, so a Kafka or node pool re-created (from
//! Git, from a backup) over kept claims takes up the IDs its disks were formatted with, instead
//! of new ones the disks refuse. Pure: the controller lists the claims and asks this.

use std::collections::BTreeSet;

use api::kafka::{KafkaNodePool, KafkaNodePoolStatus};
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use kube::ResourceExt;
use runtime::labels::STRIMZI_POOL_NAME;

use super::names;

/// The KRaft cluster ID the volume was formatted with.
pub const CLUSTER_ID_ANNOTATION: &str = "brokerage.io/cluster-id";

/// The cluster ID recorded on the claims, if any (the first by claim name, should they differ).
pub fn kept_cluster_id(claims: &[PersistentVolumeClaim]) -> Option<String> {
    let mut claims: Vec<&PersistentVolumeClaim> = claims.iter().collect();
    claims.sort_by_key(|claim| claim.name_any());
    claims
        .into_iter()
        .find_map(|claim| claim.annotations().get(CLUSTER_ID_ANNOTATION).cloned())
}

/// The claims that do not record `cluster_id` yet.
pub fn unrecorded(claims: &[PersistentVolumeClaim], cluster_id: &str) -> Vec<String> {
    claims
        .iter()
        .filter(|claim| {
            claim
                .annotations()
                .get(CLUSTER_ID_ANNOTATION)
                .map(String::as_str)
                != Some(cluster_id)
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
    fn the_cluster_id_is_read_back_from_the_claims() {
        let claims = [
            claim("data-0-c-broker-4", "broker", None),
            claim("data-0-c-broker-3", "broker", Some("kept-id")),
        ];
        assert_eq!(kept_cluster_id(&claims).as_deref(), Some("kept-id"));
        assert_eq!(unrecorded(&claims, "kept-id"), ["data-0-c-broker-4"]);
        assert_eq!(kept_cluster_id(&[]), None);
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
