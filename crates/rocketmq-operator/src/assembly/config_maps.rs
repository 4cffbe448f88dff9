//! One ConfigMap per broker, named after its StatefulSet, holding its `broker.conf`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;

use super::broker_conf::{BROKER_CONF, build_broker_conf};
use super::model::{BrokerModel, Node};
use super::names;

pub fn build_config_map(model: &BrokerModel, node: &Node) -> ConfigMap {
    let name = names::broker_config_map(&model.statefulset_name(node));
    ConfigMap {
        metadata: model.metadata(&name, model.node_labels(node)),
        data: Some(BTreeMap::from([(
            BROKER_CONF.to_string(),
            build_broker_conf(model, node),
        )])),
        ..ConfigMap::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::testing::example_model;

    #[test]
    fn each_broker_has_its_own_file() {
        let model = example_model();
        let node = Node {
            group: 1,
            replica: 1,
        };
        let config_map = build_config_map(&model, &node);
        assert_eq!(
            config_map.metadata.name.as_deref(),
            Some("broker-1-replica-1-config")
        );
        let conf = &config_map.data.unwrap()[BROKER_CONF];
        assert!(conf.contains("brokerName=broker-1\nbrokerId=1\nbrokerRole=SLAVE\n"));
        let owner = &config_map.metadata.owner_references.unwrap()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.name.as_str()),
            ("Broker", "broker")
        );
    }
}
