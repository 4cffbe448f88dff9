//! ZooKeeper-era Kafka resources (no KafkaNodePools; `spec.kafka.replicas`, `spec.kafka.storage`
//! and `spec.zookeeper`) run as KRaft clusters: their node fields (and, as for every pool,
//! `spec.kafka.template`) become one implicit
//! dual-role pool named `kafka`, so the pods keep the names Strimzi gave them before node pools
//! (`<cluster>-kafka-<n>`), and no ZooKeeper is run.

use api::kafka::{
    Kafka, KafkaNodePool, KafkaNodePoolSpec, ProcessRole, annotations::CLUSTER_LABEL,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use operator_common::validation::{InvalidSpec, Warning};

/// The implicit pool's name, which makes Strimzi's pre-node-pool pod names.
pub const IMPLICIT_POOL: &str = "kafka";

/// The pool a Kafka without KafkaNodePools stands for, or why it has none.
pub fn implicit_pool(kafka: &Kafka, cluster: &str) -> Result<KafkaNodePool, InvalidSpec> {
    let spec = &kafka.spec.kafka;
    let (Some(replicas), Some(storage)) = (spec.replicas, spec.storage.clone()) else {
        return Err(InvalidSpec::new(
            "KafkaNodePool",
            format!(
                "no KafkaNodePool labelled strimzi.io/cluster={cluster}; create at least one with \
                 the controller and broker roles (or set spec.kafka.replicas and \
                 spec.kafka.storage for one pool of nodes with both)"
            ),
        ));
    };
    Ok(KafkaNodePool {
        metadata: ObjectMeta {
            name: Some(IMPLICIT_POOL.into()),
            namespace: kafka.metadata.namespace.clone(),
            labels: Some([(CLUSTER_LABEL.to_string(), cluster.to_string())].into()),
            ..ObjectMeta::default()
        },
        spec: KafkaNodePoolSpec {
            replicas,
            roles: vec![ProcessRole::Controller, ProcessRole::Broker],
            storage,
            resources: spec.resources.clone(),
            jvm_options: spec.jvm_options.clone(),
            // spec.kafka.template applies to every pool already.
            template: None,
        },
        status: None,
    })
}

/// `spec.zookeeper` is kept as written and not acted on: a KRaft cluster needs no ZooKeeper.
pub fn zookeeper_warning(kafka: &Kafka) -> Option<Warning> {
    kafka.spec.zookeeper.as_ref().map(|_| Warning {
        reason: "ZooKeeperNotRun",
        message: "spec.zookeeper is not used: the cluster runs in KRaft mode, its nodes are \
                  both controllers and brokers, and no ZooKeeper is needed or run"
            .into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::model::validate;
    use crate::assembly::testing::{inputs, parse};

    const LEGACY: &str = include_str!("../../../../tests/fixtures/legacy-zookeeper-kafka.yaml");

    fn messages(warnings: &[Warning]) -> Vec<&str> {
        warnings.iter().map(|w| w.message.as_str()).collect()
    }

    #[test]
    fn the_seed_resource_runs_as_one_dual_role_pool_on_the_oldest_release() {
        let (kafka, pools) = parse(LEGACY);
        assert!(pools.is_empty());
        let model = validate(&kafka, &pools, &inputs()).expect("the legacy resource validates");
        assert_eq!(model.pools.len(), 1);
        let pool = &model.pools[0];
        assert_eq!(pool.name, IMPLICIT_POOL);
        assert_eq!((pool.roles.broker, pool.roles.controller), (true, true));
        assert_eq!(pool.node_ids, [0, 1]);
        assert_eq!(pool.volumes[0].name(), "data-0");
        let pods: Vec<String> = model.nodes().map(|node| model.pod_name(&node)).collect();
        assert_eq!(pods, ["my-cluster-kafka-0", "my-cluster-kafka-1"]);
        assert_eq!(model.release.version, "3.9.0");
        assert_eq!(model.metadata_version, "3.9-IV0");
        assert_eq!(model.listeners.len(), 2);
        assert!(!model.config.contains_key("inter.broker.protocol.version"));
        assert_eq!(model.config["min.insync.replicas"], "1");

        let warnings = messages(&model.warnings);
        let expected = [
            "spec.zookeeper is not used",
            "Kafka 3.4.0 has no KRaft image; the cluster runs Kafka 3.9.0",
            "spec.kafka.config.inter.broker.protocol.version is a ZooKeeper-era setting",
        ];
        for expected in expected {
            assert!(
                warnings.iter().any(|w| w.contains(expected)),
                "{expected:?} in {warnings:?}"
            );
        }
        assert!(
            !warnings.iter().any(|w| w.contains("is ignored")),
            "{warnings:?}"
        );
    }

    #[test]
    fn without_pools_or_replicas_the_message_names_the_cluster() {
        let text = LEGACY.replace("    replicas: 2\n", "");
        let (kafka, pools) = parse(&text);
        let error = validate(&kafka, &pools, &inputs()).unwrap_err();
        assert_eq!(error.field, "KafkaNodePool");
        assert!(
            error
                .message
                .starts_with("no KafkaNodePool labelled strimzi.io/cluster=my-cluster;"),
            "{}",
            error.message
        );
    }

    #[test]
    fn only_resources_without_pools_fall_back_to_the_oldest_release() {
        let text = LEGACY.replace("version: 3.4.0", "version: 3.1.0");
        let (zookeeper, operators) = (
            text.find("  zookeeper:").unwrap(),
            text.find("  entityOperator:").unwrap(),
        );
        let without_zookeeper = format!("{}{}", &text[..zookeeper], &text[operators..]);
        let (kafka, pools) = parse(&without_zookeeper);
        assert!(kafka.spec.zookeeper.is_none());
        assert_eq!(
            validate(&kafka, &pools, &inputs()).unwrap().release.version,
            "3.9.0"
        );
        let newer = LEGACY.replace("version: 3.4.0", "version: 5.0.0");
        let (kafka, pools) = parse(&newer);
        let error = validate(&kafka, &pools, &inputs()).unwrap_err();
        assert!(error.message.starts_with("Kafka 5.0.0 is not supported"));
    }
}
