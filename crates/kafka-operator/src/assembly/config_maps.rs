//! The ConfigMap of each pool, with the `server.properties` of each of its nodes and the Log4j 2
//! configuration they share, and the hashes that tell the rolling step which configuration a
//! pod should run with.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use operator_common::content_hash::sha256_hex;

use super::broker_config::build_server_properties;
use super::logging::{LOG4J1_PROPERTIES, LOG4J2_PROPERTIES};
use super::model::{KafkaModel, Node, Pool};
use super::names;
use super::quorum::{self, BOOTSTRAP_SERVERS_KEY, ControllerQuorum, FORMAT_KEY};

/// One key per node, `<pod>.properties`, `log4j2.properties` (and `log4j.properties` for
/// Kafka 3), and on a dynamic quorum the controllers' addresses and (in controller pools) how
/// a new controller formats its storage, in the pool's ConfigMap `<c>-<pool>`. Only node files
/// end in `.properties` but the logging's, and no pod is named `log4j2` or `log4j`, so the keys
/// cannot collide.
pub fn build_config_map(model: &KafkaModel, pool: &Pool) -> ConfigMap {
    ConfigMap {
        metadata: model.metadata(
            &names::pool_config_map(&model.cluster, &pool.name),
            model.pool_labels(pool),
        ),
        data: Some(pool_files(model, pool)),
        ..ConfigMap::default()
    }
}

/// Hash of one node's `server.properties`.
pub fn node_config_hash(model: &KafkaModel, node: &Node) -> String {
    sha256_hex(&build_server_properties(model, node))
}

fn pool_files(model: &KafkaModel, pool: &Pool) -> BTreeMap<String, String> {
    let mut files: BTreeMap<String, String> = model
        .nodes()
        .filter(|node| node.pool == pool.name)
        .map(|node| {
            let key = names::server_properties_key(&model.pod_name(&node));
            (key, build_server_properties(model, &node))
        })
        .collect();
    if let ControllerQuorum::Dynamic { .. } = model.quorum {
        files.insert(
            BOOTSTRAP_SERVERS_KEY.into(),
            quorum::bootstrap_servers(model),
        );
        if pool.roles.controller {
            files.insert(FORMAT_KEY.into(), quorum::format_arguments(model));
        }
    }
    let levels = model.logging.levels();
    files.insert(LOG4J2_PROPERTIES.into(), levels.log4j2());
    if model.release.logs_with_log4j1() {
        files.insert(LOG4J1_PROPERTIES.into(), levels.log4j1());
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::testing::example_model;

    #[test]
    fn controllers_of_a_dynamic_quorum_are_told_how_to_format_and_every_node_where_they_are() {
        let model = example_model("persistent-dual-pool");
        let files = |pool: &str| {
            build_config_map(&model, model.pool(pool).unwrap())
                .data
                .unwrap()
        };
        let controller = files("controller");
        let format = &controller[FORMAT_KEY];
        assert!(format.starts_with("--initial-controllers 0@"), "{format}");
        assert!(!files("broker").contains_key(FORMAT_KEY));
        let servers = &files("broker")[BOOTSTRAP_SERVERS_KEY];
        assert_eq!(servers.split(',').count(), 3, "{servers}");
        assert_eq!(servers, &controller[BOOTSTRAP_SERVERS_KEY]);

        let mut static_model = model.clone();
        static_model.quorum = ControllerQuorum::Static;
        let pool = static_model.pool("controller").unwrap();
        let data = build_config_map(&static_model, pool).data.unwrap();
        assert!(!data.contains_key(FORMAT_KEY) && !data.contains_key(BOOTSTRAP_SERVERS_KEY));
    }

    #[test]
    fn one_file_per_node_of_the_pool_and_the_logging() {
        let model = example_model("persistent-dual-pool");
        let config_map = build_config_map(&model, model.pool("broker").unwrap());
        assert_eq!(
            config_map.metadata.name.as_deref(),
            Some("persistent-cluster-broker")
        );
        let keys: Vec<&String> = config_map.data.as_ref().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "controller-quorum-bootstrap-servers",
                "log4j2.properties",
                "persistent-cluster-broker-3.properties",
                "persistent-cluster-broker-4.properties",
                "persistent-cluster-broker-5.properties"
            ]
        );
    }

    #[test]
    fn hashes_follow_the_configuration() {
        let model = example_model("persistent-dual-pool");
        let nodes: Vec<Node> = model.nodes().collect();
        assert_eq!(
            node_config_hash(&model, &nodes[0]),
            node_config_hash(&model, &nodes[0])
        );
        assert_ne!(
            node_config_hash(&model, &nodes[0]),
            node_config_hash(&model, &nodes[1])
        );
        let mut changed = model.clone();
        changed
            .config
            .insert("log.retention.hours".into(), "1".into());
        let broker = nodes.iter().find(|node| node.pool == "broker").unwrap();
        assert_ne!(
            node_config_hash(&model, broker),
            node_config_hash(&changed, broker)
        );
    }
}
