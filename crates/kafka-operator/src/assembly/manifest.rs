//! A Kafka and its node pools read from a multi-document YAML manifest, completed with what the
//! apiserver would fill in: for `brokerage render` and the tests, which build without a cluster.

use api::kafka::{Kafka, KafkaNodePool};
use serde::Deserialize;

use operator_common::manifest::PLACEHOLDER_UID;

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("invalid YAML: {0}")]
    Yaml(#[from] serde_yaml::Error),
    #[error("expected exactly one Kafka, found {0}")]
    KafkaCount(usize),
}

/// The one Kafka and every KafkaNodePool in `yaml` (other kinds are skipped), placed in
/// `namespace` unless they name their own.
pub fn read(yaml: &str, namespace: &str) -> Result<(Kafka, Vec<KafkaNodePool>), ManifestError> {
    let (kafkas, pools) = read_all(yaml, namespace)?;
    let [kafka] =
        <[Kafka; 1]>::try_from(kafkas).map_err(|found| ManifestError::KafkaCount(found.len()))?;
    Ok((kafka, pools))
}

/// Every Kafka and every KafkaNodePool in `yaml`, in file order (validation picks each Kafka's
/// pools by their `strimzi.io/cluster` label).
pub fn read_all(
    yaml: &str,
    namespace: &str,
) -> Result<(Vec<Kafka>, Vec<KafkaNodePool>), ManifestError> {
    let mut kafkas: Vec<Kafka> = Vec::new();
    let mut pools: Vec<KafkaNodePool> = Vec::new();
    for document in serde_yaml::Deserializer::from_str(yaml) {
        let value = serde_yaml::Value::deserialize(document)?;
        match value.get("kind").and_then(|kind| kind.as_str()) {
            Some("Kafka") => kafkas.push(serde_yaml::from_value(value)?),
            Some("KafkaNodePool") => pools.push(serde_yaml::from_value(value)?),
            _ => {}
        }
    }
    for kafka in &mut kafkas {
        let meta = &mut kafka.metadata;
        meta.namespace.get_or_insert_with(|| namespace.into());
        meta.uid.get_or_insert_with(|| PLACEHOLDER_UID.into());
    }
    for pool in &mut pools {
        pool.metadata
            .namespace
            .get_or_insert_with(|| namespace.into());
    }
    Ok((kafkas, pools))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_kafka_and_its_pools_and_completes_them() {
        let (kafka, pools) = read(crate::assembly::testing::NODEPORT_CLUSTER, "team-a").unwrap();
        assert_eq!(kafka.metadata.namespace.as_deref(), Some("team-a"));
        assert_eq!(kafka.metadata.uid.as_deref(), Some(PLACEHOLDER_UID));
        assert_eq!(pools.len(), 1);
        assert_eq!(pools[0].metadata.namespace.as_deref(), Some("team-a"));
    }

    #[test]
    fn a_manifest_needs_exactly_one_kafka() {
        let pool_only = "apiVersion: kafka.strimzi.io/v1\nkind: KafkaNodePool\nmetadata: {name: p}\nspec: {replicas: 1, roles: [broker], storage: {type: ephemeral}}\n";
        assert!(matches!(
            read(pool_only, "ns"),
            Err(ManifestError::KafkaCount(0))
        ));
    }
}
